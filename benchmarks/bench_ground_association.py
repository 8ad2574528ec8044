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

from truceline.ground.associate import AssociationConfig, associate
from truceline.testing.ground import SCENE_ATMOSPHERE, association_counts, association_scene

ATMOSPHERE = SCENE_ATMOSPHERE


def _run_set(
    regional: bool, bearing_frac: float, seeds: range
) -> tuple[float, float, float, float]:
    tp = found = true = n_arrivals = 0
    elapsed = 0.0
    config = AssociationConfig.regional() if regional else AssociationConfig()
    for seed in seeds:
        scene = association_scene(seed, regional=regional, bearing_frac=bearing_frac)
        arrivals, truth = scene.arrivals, scene.truth
        start = time.perf_counter()
        result = associate(arrivals, ATMOSPHERE, config)
        elapsed += time.perf_counter() - start
        a, b, c = association_counts(result, truth)
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
