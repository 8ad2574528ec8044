"""Ground location accuracy against the Cramér–Rao bound, truceline vs scipy.

Standard geometry: 8 acoustic sensors on a ~20 km field (a ring of radius 9 km,
jittered by 1 km), a source inside at (2.5 km E, -1.5 km N), 15 °C and a
4 m/s wind. Each trial draws arrival times with 0.1 s pick noise plus the
propagation model's own path-to-path speed error (2 m/s), and back azimuths with
3° noise. Both estimators get the same picks and the same starting point
(:func:`truceline.ground.locate.initial_guess`):

* truceline: :func:`truceline.ground.locate.locate` (geodesic Gauss–Newton,
  Huber IRLS, outlier rejection, covariance);
* scipy: ``scipy.optimize.least_squares(loss="huber", f_scale=HUBER_K)`` on the
  same normalised residuals in a local azimuthal-equidistant frame, with the
  default finite-difference Jacobian.

Figures: position RMSE / sqrt(trace CRLB) for both (target <= 1.15), the
fraction of trials whose truth lies inside truceline's 95 % ellipse (target
0.93–0.97), and events located per second by each (best of the whole run,
single thread, same machine, same run).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from truceline.ground.base import Arrival, Atmosphere
from truceline.ground.crlb import crlb, position_rmse_bound_m
from truceline.ground.locate import HUBER_K, initial_guess, locate
from truceline.ground.propagation import PropagationModel, predict
from truceline.model.geo import LocalFrame

TRIALS = 300
SEED = 20_240_602
TIME_SIGMA_S = 0.1
AZIMUTH_SIGMA_DEG = 3.0
FRAME = LocalFrame(36.0, 48.5)
SOURCE_XY = (2_500.0, -1_500.0)
ATMOSPHERE = Atmosphere(temperature_c=15.0, wind_east_mps=3.0, wind_north_mps=-2.5)
MODEL = PropagationModel()
CHI2_95 = -2.0 * math.log(0.05)


def _stations() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    angle = np.linspace(0.0, 2.0 * math.pi, 8, endpoint=False)
    x = 9_000.0 * np.sin(angle) + rng.normal(0.0, 1_000.0, 8)
    y = 9_000.0 * np.cos(angle) + rng.normal(0.0, 1_000.0, 8)
    return FRAME.to_geo(x, y)


def _trial(lons: np.ndarray, lats: np.ndarray, rng: np.random.Generator) -> list[Arrival]:
    source = FRAME.point_to_geo(*SOURCE_XY)
    geometry = predict(lons, lats, source[0], source[1], ATMOSPHERE, MODEL)
    n = lons.size
    times = 1.7e9 + geometry.travel.time_s + rng.normal(0.0, 1.0, n) * geometry.travel.sigma_s
    times += rng.normal(0.0, TIME_SIGMA_S, n)
    azimuths = geometry.azimuth_deg + rng.normal(0.0, AZIMUTH_SIGMA_DEG, n)
    return [
        Arrival(
            f"a{i}",
            f"s{i}",
            float(lons[i]),
            float(lats[i]),
            float(times[i]),
            TIME_SIGMA_S,
            float(azimuths[i] % 360.0),
            AZIMUTH_SIGMA_DEG,
            30_000.0,
            "explosion",
            1.0,
        )
        for i in range(n)
    ]


def _scipy_locate(arrivals: list[Arrival]) -> tuple[float, float]:
    """The peer: scipy's robust least squares on the same model, in a planar frame."""
    lon0, lat0 = initial_guess(arrivals, ATMOSPHERE, MODEL)
    frame = LocalFrame(lon0, lat0)
    sx, sy = frame.to_local([a.lon for a in arrivals], [a.lat for a in arrivals])
    t_ref = min(a.time_s for a in arrivals)
    t = np.array([a.time_s - t_ref for a in arrivals])
    az = np.array([a.azimuth_deg or 0.0 for a in arrivals])

    def residuals(p: np.ndarray) -> np.ndarray:
        dx, dy = p[0] - sx, p[1] - sy
        r = np.maximum(np.hypot(dx, dy), 1.0)
        travel = MODEL.travel_time(r, np.degrees(np.arctan2(-dx, -dy)), ATMOSPHERE)
        t_sigma = np.hypot(TIME_SIGMA_S, travel.sigma_s)
        a_sigma = np.hypot(AZIMUTH_SIGMA_DEG, travel.azimuth_sigma_deg)
        miss = (az - np.degrees(np.arctan2(dx, dy)) + 180.0) % 360.0 - 180.0
        return np.concatenate([(t - p[2] - travel.time_s) / t_sigma, miss / a_sigma])

    r0 = np.hypot(sx, sy)
    origin0 = float(np.median(t - MODEL.travel_time(r0, np.zeros_like(r0), ATMOSPHERE).time_s))
    fit = least_squares(
        residuals, np.array([0.0, 0.0, origin0]), loss="huber", f_scale=HUBER_K, x_scale="jac"
    )
    return frame.point_to_geo(float(fit.x[0]), float(fit.x[1]))


def run() -> dict[str, object]:
    """Monte-Carlo trials on the standard geometry; returns the named figures."""
    lons, lats = _stations()
    source = FRAME.point_to_geo(*SOURCE_XY)
    stations = list(zip(lons.tolist(), lats.tolist(), strict=True))
    bound = position_rmse_bound_m(
        crlb(stations, source, TIME_SIGMA_S, AZIMUTH_SIGMA_DEG, atmosphere=ATMOSPHERE, model=MODEL)
    )
    rng = np.random.default_rng(SEED + 1)
    trials = [_trial(lons, lats, rng) for _ in range(TRIALS)]
    local = LocalFrame(*source)
    ours: list[Any] = []
    start = time.perf_counter()
    for arrivals in trials:
        ours.append(locate(arrivals, ATMOSPHERE, model=MODEL))
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    peers = [_scipy_locate(arrivals) for arrivals in trials]
    scipy_s = time.perf_counter() - start
    inside, sq_ours, sq_peer = 0, 0.0, 0.0
    for estimate, peer in zip(ours, peers, strict=True):
        error = np.array(local.point_to_local(estimate.lon, estimate.lat))
        inside += float(error @ np.linalg.solve(estimate.covariance, error)) <= CHI2_95
        sq_ours += float(error @ error)
        sq_peer += float(np.sum(np.square(local.point_to_local(*peer))))
    return {
        "ground_location_crlb_rmse_m": round(bound, 2),
        "ground_location_rmse_m": round(math.sqrt(sq_ours / TRIALS), 2),
        "ground_location_rmse_over_crlb": round(math.sqrt(sq_ours / TRIALS) / bound, 3),
        "ground_location_scipy_rmse_over_crlb": round(math.sqrt(sq_peer / TRIALS) / bound, 3),
        "ground_location_ellipse95_coverage": round(inside / TRIALS, 3),
        "ground_location_events_per_s": round(TRIALS / ours_s, 1),
        "ground_location_scipy_events_per_s": round(TRIALS / scipy_s, 1),
        "ground_location_trials": TRIALS,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
