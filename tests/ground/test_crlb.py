"""The Cramér–Rao bound and the Jacobians it is built from."""

from __future__ import annotations

import math

import numpy as np
import pytest

from truceline.ground.base import Arrival, Atmosphere
from truceline.ground.crlb import crlb, position_rmse_bound_m
from truceline.ground.locate import locate
from truceline.ground.propagation import PropagationModel, predict
from truceline.model.geo import LocalFrame

FRAME = LocalFrame(24.0, 50.0)
#: A model with no propagation uncertainty: the pick sigmas are the whole story.
EXACT = PropagationModel(local_speed_sigma_mps=0.0, local_azimuth_sigma_deg=0.0)


def _ring(n: int, radius_m: float) -> list[tuple[float, float]]:
    angle = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    lons, lats = FRAME.to_geo(radius_m * np.sin(angle), radius_m * np.cos(angle))
    return list(zip(lons.tolist(), lats.tolist(), strict=True))


@pytest.mark.parametrize("source_xy", [(0.0, 0.0), (3_000.0, -2_000.0), (200_000.0, 50_000.0)])
def test_jacobians_match_finite_differences(source_xy: tuple[float, float]) -> None:
    stations = np.array(_ring(6, 8_000.0))
    atmosphere = Atmosphere(temperature_c=30.0, wind_east_mps=8.0, wind_north_mps=3.0)
    model = PropagationModel()
    lon, lat = FRAME.point_to_geo(*source_xy)
    base = predict(stations[:, 0], stations[:, 1], lon, lat, atmosphere, model)
    local = LocalFrame(lon, lat)  # centred on the source: east/north at the source
    for column, (dx, dy) in enumerate([(1.0, 0.0), (0.0, 1.0)]):
        plus = predict(
            stations[:, 0], stations[:, 1], *local.point_to_geo(dx, dy), atmosphere, model
        )
        minus = predict(
            stations[:, 0], stations[:, 1], *local.point_to_geo(-dx, -dy), atmosphere, model
        )
        d_time = (plus.travel.time_s - minus.travel.time_s) / 2.0
        d_az = np.radians((plus.azimuth_deg - minus.azimuth_deg + 180.0) % 360.0 - 180.0) / 2.0
        assert np.allclose(base.time_jacobian[:, column], d_time, rtol=1e-4, atol=1e-9)
        assert np.allclose(base.azimuth_jacobian[:, column], d_az, rtol=2e-3, atol=1e-10)


def test_symmetric_times_only_network_matches_the_closed_form() -> None:
    """Four stations at the compass points.

    Closed form: var(x) = var(y) = sigma² c² / 2 and var(t0) = sigma² / 4.
    """
    sigma = 0.05
    atmosphere = Atmosphere(temperature_c=15.0)
    bound = crlb(
        _ring(4, 2_000.0), (FRAME.lon0, FRAME.lat0), sigma, atmosphere=atmosphere, model=EXACT
    )
    c = atmosphere.sound_speed_mps
    assert bound[0, 0] == pytest.approx(sigma**2 * c**2 / 2.0, rel=1e-3)
    assert bound[1, 1] == pytest.approx(sigma**2 * c**2 / 2.0, rel=1e-3)
    assert bound[2, 2] == pytest.approx(sigma**2 / 4.0, rel=1e-3)
    assert position_rmse_bound_m(bound) == pytest.approx(sigma * c, rel=1e-3)


def test_bearings_and_model_sigma_add_information_and_uncertainty() -> None:
    stations, source = _ring(6, 9_000.0), FRAME.point_to_geo(1_000.0, 2_000.0)
    times_only = position_rmse_bound_m(crlb(stations, source, 0.1))
    both = position_rmse_bound_m(crlb(stations, source, 0.1, 3.0))
    exact = position_rmse_bound_m(crlb(stations, source, 0.1, 3.0, model=EXACT))
    assert exact < both < times_only


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="one per station"):
        crlb(_ring(4, 1_000.0), (FRAME.lon0, FRAME.lat0), [0.1, 0.1])
    with pytest.raises(ValueError, match="does not determine"):
        crlb(_ring(2, 1_000.0), (FRAME.lon0, FRAME.lat0), 0.1)


def test_bound_matches_the_ml_estimator_at_high_snr() -> None:
    """Empirical covariance of the ML estimate over 300 trials versus the bound."""
    stations = _ring(7, 6_000.0)
    source = FRAME.point_to_geo(1_500.0, 800.0)
    lons, lats = (np.array(v) for v in zip(*stations, strict=True))
    atmosphere = Atmosphere()
    geometry = predict(lons, lats, source[0], source[1], atmosphere, EXACT)
    time_sigma, az_sigma = 0.01, 0.5
    bound = crlb(stations, source, time_sigma, az_sigma, model=EXACT)
    rng = np.random.default_rng(11)
    local = LocalFrame(*source)
    errors = []
    for _ in range(300):
        times = geometry.travel.time_s + rng.normal(0.0, time_sigma, lons.size)
        azimuths = geometry.azimuth_deg + rng.normal(0.0, az_sigma, lons.size)
        arrivals = [
            Arrival(
                f"a{i}",
                f"s{i}",
                float(lons[i]),
                float(lats[i]),
                1e9 + float(times[i]),
                time_sigma,
                float(azimuths[i]),
                az_sigma,
                50_000.0,
                "explosion",
                1.0,
            )
            for i in range(lons.size)
        ]
        estimate = locate(arrivals, robust=False, model=EXACT)
        x, y = local.point_to_local(estimate.lon, estimate.lat)
        errors.append((x, y, estimate.origin_time_s - 1e9))
    empirical = np.cov(np.array(errors).T)
    ratio = math.sqrt(np.trace(empirical[:2, :2])) / position_rmse_bound_m(bound)
    assert 0.9 < ratio < 1.1
    # the whitened empirical covariance is the identity within sampling error (~8 %)
    root = np.linalg.cholesky(np.linalg.inv(bound))
    eigen = np.linalg.eigvalsh(root.T @ empirical @ root)
    assert np.all((eigen > 0.75) & (eigen < 1.3)), eigen
