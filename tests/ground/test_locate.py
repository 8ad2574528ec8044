"""Source location from arrival times and back azimuths, and the propagation model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from truceline.ground.base import Arrival, Atmosphere
from truceline.ground.locate import LocationError, SourceEstimate, initial_guess, locate
from truceline.ground.propagation import PropagationModel, predict
from truceline.model.geo import LocalFrame, geodesic_distance_m

T0 = 1_717_000_000.0
CHI2_95 = -2.0 * math.log(0.05)
FRAME = LocalFrame(36.0, 48.5)


def _local_network(n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stations on a ~20 km field: a jittered ring of radius 9 km, (lon, lat) arrays."""
    rng = np.random.default_rng(seed)
    angle = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    x = 9_000.0 * np.sin(angle) + rng.normal(0.0, 1_000.0, n)
    y = 9_000.0 * np.cos(angle) + rng.normal(0.0, 1_000.0, n)
    return FRAME.to_geo(x, y)


def _arrivals(
    lons: np.ndarray,
    lats: np.ndarray,
    source: tuple[float, float],
    rng: np.random.Generator,
    *,
    time_sigma: float = 0.1,
    azimuth_sigma: float | None = 3.0,
    atmosphere: Atmosphere | None = None,
    model: PropagationModel | None = None,
) -> list[Arrival]:
    """Noisy arrivals: pick noise plus the propagation model's own path-to-path noise."""
    atmosphere = atmosphere or Atmosphere()
    model = model or PropagationModel()
    geometry = predict(lons, lats, source[0], source[1], atmosphere, model)
    n = lons.size
    times = T0 + geometry.travel.time_s + rng.normal(0.0, 1.0, n) * geometry.travel.sigma_s
    times += rng.normal(0.0, time_sigma, n)
    if azimuth_sigma is not None:
        az_sigma = np.hypot(azimuth_sigma, geometry.travel.azimuth_sigma_deg)
        azimuths = geometry.azimuth_deg + rng.normal(0.0, 1.0, n) * az_sigma
    return [
        Arrival(
            id=f"a{i}",
            station=f"s{i}",
            lon=float(lons[i]),
            lat=float(lats[i]),
            time_s=float(times[i]),
            time_sigma_s=time_sigma,
            azimuth_deg=None if azimuth_sigma is None else float(azimuths[i] % 360.0),
            azimuth_sigma_deg=azimuth_sigma,
            max_range_m=1_000_000.0,
            kind="explosion",
            confidence=1.0,
        )
        for i in range(n)
    ]


def _mahalanobis2(estimate: SourceEstimate, source: tuple[float, float]) -> float:
    frame = LocalFrame(estimate.lon, estimate.lat)
    offset = np.array(frame.point_to_local(*source))
    return float(offset @ np.linalg.solve(estimate.covariance, offset))


class TestPropagationModel:
    def test_local_speed_follows_temperature_and_wind(self) -> None:
        model = PropagationModel()
        warm = Atmosphere(temperature_c=20.0, wind_east_mps=10.0)
        travel = model.travel_time(np.array([5_000.0, 5_000.0]), np.array([90.0, 270.0]), warm)
        c = 331.3 + 0.606 * 20.0
        assert travel.time_s == pytest.approx([5_000.0 / (c + 10.0), 5_000.0 / (c - 10.0)])

    def test_regional_celerity_and_growing_sigma(self) -> None:
        model = PropagationModel()
        ranges = np.array([1e3, 10e3, 30e3, 100e3, 500e3])
        travel = model.travel_time(ranges, np.zeros(5), Atmosphere())
        assert ranges[-1] / travel.time_s[-1] == pytest.approx(model.celerity_mps)
        assert np.all(np.diff(travel.sigma_s) > 0.0)
        assert travel.sigma_s[-1] == pytest.approx(500e3 * 25.0 / 290.0**2)
        assert np.all(np.diff(travel.time_s) > 0.0)

    def test_blend_is_smooth(self) -> None:
        model = PropagationModel()
        r = np.linspace(10e3, 60e3, 2001)
        travel = model.travel_time(r, np.zeros_like(r), Atmosphere())
        numeric = np.gradient(travel.time_s, r)
        assert np.allclose(travel.d_time_d_range[1:-1], numeric[1:-1], rtol=1e-3)
        # a kink (C0-only blend) would jump by ~2e-4 s/m at the regime limits
        assert np.max(np.abs(np.diff(travel.d_time_d_range))) < 1e-5

    def test_invalid_model_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="local_range_m"):
            PropagationModel(local_range_m=60e3, regional_range_m=50e3)


class TestLocalNetwork:
    def test_times_and_bearings(self) -> None:
        lons, lats = _local_network()
        source = FRAME.point_to_geo(2_500.0, -1_500.0)
        estimate = locate(_arrivals(lons, lats, source, np.random.default_rng(1)))
        assert estimate.converged
        assert _mahalanobis2(estimate, source) < 9.0
        assert abs(estimate.origin_time_s - T0) < 3 * estimate.origin_sigma_s
        assert estimate.dof == 13
        assert len(estimate.used_ids) == 8

    def test_times_only(self) -> None:
        lons, lats = _local_network(seed=3)
        source = FRAME.point_to_geo(-4_000.0, 3_000.0)
        arrivals = _arrivals(lons, lats, source, np.random.default_rng(2), azimuth_sigma=None)
        estimate = locate(arrivals, robust=False)
        assert _mahalanobis2(estimate, source) < 9.0
        assert all(f.azimuth_residual_deg is None for f in estimate.fits)
        assert geodesic_distance_m(estimate.lon, estimate.lat, *source) < 1_000.0

    def test_wind_is_modelled(self) -> None:
        lons, lats = _local_network(seed=4)
        source = FRAME.point_to_geo(1_000.0, 1_000.0)
        windy = Atmosphere(temperature_c=25.0, wind_east_mps=12.0, wind_north_mps=-5.0)
        arrivals = _arrivals(lons, lats, source, np.random.default_rng(3), atmosphere=windy)
        assert _mahalanobis2(locate(arrivals, windy), source) < 9.0

    def test_initial_guess_is_near(self) -> None:
        lons, lats = _local_network()
        source = FRAME.point_to_geo(3_000.0, 4_000.0)
        arrivals = _arrivals(lons, lats, source, np.random.default_rng(4))
        assert geodesic_distance_m(*initial_guess(arrivals), *source) < 2_000.0


def test_regional_arrays() -> None:
    """Four arrays 250–700 km away; celerity and cross-wind deflection drawn from the model."""
    source = (34.0, 47.0)
    lons = np.array([37.5, 29.5, 33.0, 39.0])
    lats = np.array([49.0, 48.0, 42.5, 44.0])
    arrivals = _arrivals(lons, lats, source, np.random.default_rng(5), time_sigma=5.0)
    estimate = locate(arrivals)
    assert estimate.converged
    assert _mahalanobis2(estimate, source) < 9.0
    assert estimate.ellipse().semi_major_m < 100_000.0


def test_outlier_is_downweighted() -> None:
    lons, lats = _local_network()
    source = FRAME.point_to_geo(-2_000.0, 1_000.0)
    arrivals = _arrivals(lons, lats, source, np.random.default_rng(6))
    clean = locate(arrivals)
    bad = arrivals[3]
    arrivals[3] = Arrival(
        **{**{s: getattr(bad, s) for s in bad.__slots__}, "time_s": bad.time_s + 30.0}
    )
    estimate = locate(arrivals)
    assert "a3" in estimate.downweighted_ids
    assert estimate.weights["a3"][0] == 0.0  # the time is rejected...
    assert estimate.weights["a3"][1] == 1.0  # ...its bearing still counts
    others = [w for f in estimate.fits if f.id != "a3" for w in (f.time_weight, f.azimuth_weight)]
    assert min(w for w in others if w is not None) > 0.5
    clean_sigma_m = math.sqrt(clean.cov[0] + clean.cov[2])
    moved = geodesic_distance_m(estimate.lon, estimate.lat, clean.lon, clean.lat)
    assert moved < 0.5 * clean_sigma_m  # as if the bad pick had never been made
    assert _mahalanobis2(estimate, source) < 9.0
    naive = locate(arrivals, robust=False)
    assert geodesic_distance_m(naive.lon, naive.lat, *source) > 10 * geodesic_distance_m(
        estimate.lon, estimate.lat, *source
    )


def test_95_percent_ellipse_is_calibrated() -> None:
    rng = np.random.default_rng(7)
    lons, lats = _local_network()
    source = FRAME.point_to_geo(1_500.0, -2_500.0)
    trials = 200
    inside = sum(
        _mahalanobis2(locate(_arrivals(lons, lats, source, rng)), source) <= CHI2_95
        for _ in range(trials)
    )
    assert 0.90 <= inside / trials <= 0.99


class TestBadInput:
    def test_no_arrivals(self) -> None:
        with pytest.raises(LocationError, match="no arrivals"):
            locate([])

    def test_same_station_twice(self) -> None:
        lons, lats = _local_network()
        arrivals = _arrivals(lons, lats, (36.0, 48.5), np.random.default_rng(8))
        twin = Arrival(**{**{s: getattr(arrivals[0], s) for s in Arrival.__slots__}, "id": "x"})
        with pytest.raises(LocationError, match="same station"):
            locate([*arrivals, twin])

    def test_nan_time(self) -> None:
        lons, lats = _local_network()
        arrivals = _arrivals(lons, lats, (36.0, 48.5), np.random.default_rng(9))
        fields = {s: getattr(arrivals[2], s) for s in Arrival.__slots__}
        arrivals[2] = Arrival(**{**fields, "time_s": math.nan})
        with pytest.raises(LocationError, match=r"'a2'.*not finite"):
            locate(arrivals)

    def test_underdetermined(self) -> None:
        lons, lats = _local_network()
        arrivals = _arrivals(
            lons, lats, (36.0, 48.5), np.random.default_rng(10), azimuth_sigma=None
        )
        with pytest.raises(LocationError, match="cannot determine"):
            locate(arrivals[:2])
        with pytest.raises(LocationError, match="do not determine"):
            locate([_bearing_only(a) for a in arrivals[:3]])  # no time: no origin


def _bearing_only(arrival: Arrival) -> Arrival:
    fields = {s: getattr(arrival, s) for s in Arrival.__slots__}
    return Arrival(
        **{**fields, "time_sigma_s": math.inf, "azimuth_deg": 10.0, "azimuth_sigma_deg": 2.0}
    )
