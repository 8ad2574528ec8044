"""Event-level F1 of network association on seeded synthetic scenes.

Twenty local scenes (10 sensors over 20 km x 20 km, half with bearings, 4
sources firing within 15 s of each other, detection probability 0.85, 25 % of
the arrivals false) and, reported separately, the same scenes with times only
(TDOA) and twenty regional scenes (5 infrasound arrays over 1200 km, 3 sources
within 20 min, celerity 260–330 m/s). A found event is right when at least two
thirds (and at least two) of its members come from the true source it is
matched to by an optimal one-to-one assignment.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from truceline.ground.associate import AssociationConfig, AssociationResult, associate
from truceline.ground.base import Arrival, Atmosphere
from truceline.model.geo import WGS84_GEOD, LocalFrame

ATMOSPHERE = Atmosphere(temperature_c=15.0, wind_east_mps=4.0, wind_north_mps=-2.0)


def _scene(seed: int, regional: bool, bearing_frac: float) -> tuple[list[Arrival], dict[str, int]]:
    rng = np.random.default_rng(seed)
    if regional:
        frame, half, n_sta, n_src, span = LocalFrame(-112.0, 39.0), 600_000.0, 5, 3, 1200.0
        t_sigma, az_sigma, max_range = 5.0, 2.5, 2_500_000.0
    else:
        frame, half, n_sta, n_src, span = LocalFrame(36.0, 48.5), 10_000.0, 10, 4, 15.0
        t_sigma, az_sigma, max_range = 0.05, 3.0, 30_000.0
    stations = rng.uniform(-half, half, size=(n_sta, 2))
    sources = rng.uniform(-0.9 * half, 0.9 * half, size=(n_src, 2))
    origins = 1.7e9 + rng.uniform(0.0, span, n_src)
    with_az = rng.random(n_sta) < bearing_frac
    arrivals: list[Arrival] = []
    truth: dict[str, int] = {}

    def make(aid: str, s: int, t: float, az: float) -> Arrival:
        lon, lat = frame.point_to_geo(*stations[s])
        b = bool(with_az[s])
        return Arrival(
            aid, f"S{s:02d}", lon, lat, t, t_sigma, az % 360.0 if b else None,
            az_sigma if b else None, max_range, "explosion", 1.0,
        )  # fmt: skip

    for k in range(n_src):
        slon, slat = frame.point_to_geo(*sources[k])
        for s in range(n_sta):
            if rng.random() > 0.85:
                continue
            lon, lat = frame.point_to_geo(*stations[s])
            az12, az21, r = WGS84_GEOD.inv(lon, lat, slon, slat)
            v = rng.uniform(260.0, 330.0) if regional else ATMOSPHERE.effective_speed_mps(az21)
            t = float(origins[k] + r / v + rng.normal(0.0, t_sigma))
            arrivals.append(make(f"a{k}-{s}", s, t, float(az12 + rng.normal(0.0, az_sigma))))
            truth[f"a{k}-{s}"] = k
    for f in range(round(0.25 * len(arrivals) / 0.75)):
        s = int(rng.integers(n_sta))
        t = float(1.7e9 + rng.uniform(0.0, span * 4.0))
        arrivals.append(make(f"f{f}", s, t, float(rng.uniform(0.0, 360.0))))
    return arrivals, truth


def _counts(result: AssociationResult, truth: dict[str, int]) -> tuple[int, int, int]:
    n_true = len(set(truth.values()))
    shared = np.zeros((len(result.events), n_true))
    for i, event in enumerate(result.events):
        for member in event.members:
            if member in truth:
                shared[i, truth[member]] += 1
    rows, cols = linear_sum_assignment(-shared)
    tp = sum(
        1
        for r, c in zip(rows, cols, strict=True)
        if shared[r, c] >= 2 and 3 * shared[r, c] >= 2 * len(result.events[r].members)
    )
    return tp, len(result.events), n_true


def _run_set(
    regional: bool, bearing_frac: float, seeds: range
) -> tuple[float, float, float, float]:
    tp = found = true = n_arrivals = 0
    elapsed = 0.0
    config = AssociationConfig.regional() if regional else AssociationConfig()
    for seed in seeds:
        arrivals, truth = _scene(seed, regional, bearing_frac)
        start = time.perf_counter()
        result = associate(arrivals, ATMOSPHERE, config)
        elapsed += time.perf_counter() - start
        a, b, c = _counts(result, truth)
        tp, found, true, n_arrivals = tp + a, found + b, true + c, n_arrivals + len(arrivals)
    precision, recall = tp / max(found, 1), tp / max(true, 1)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return precision, recall, f1, n_arrivals / elapsed


def run() -> dict[str, object]:
    """Association figures: pooled precision, recall, F1 and throughput."""
    seeds = range(100, 120)
    p, r, f1, rate = _run_set(False, 0.5, seeds)
    _, _, f1_tdoa, rate_tdoa = _run_set(False, 0.0, seeds)
    p_reg, r_reg, f1_reg, _ = _run_set(True, 1.0, seeds)
    return {
        "ground_association_f1": round(f1, 4),
        "ground_association_precision": round(p, 4),
        "ground_association_recall": round(r, 4),
        "ground_association_arrivals_per_s": round(rate, 1),
        "ground_association_tdoa_only_f1": round(f1_tdoa, 4),
        "ground_association_tdoa_only_arrivals_per_s": round(rate_tdoa, 1),
        "ground_association_regional_f1": round(f1_reg, 4),
        "ground_association_regional_precision": round(p_reg, 4),
        "ground_association_regional_recall": round(r_reg, 4),
    }


if __name__ == "__main__":
    print(run())
