"""GOSPA through Stone Soup: hand computations, instants, windows, and the grouping shortcut."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from stonesoup.measures import Euclidean
from stonesoup.metricgenerator.ospametric import GOSPAMetric

from evaluation.scoring_testkit import FRAME, fused, true_event, truth
from truceline.evaluation.gospa import GospaSettings, WindowGap, gospa_score, to_state
from truceline.evaluation.items import ScoredItem, fused_items, truth_items

HOUR = 3600.0


def items(*events: dict[str, Any]) -> list[ScoredItem]:
    return truth_items(truth(*events))


def test_perfect_match_is_zero() -> None:
    true = items(
        true_event("a", "impact", 0.0, 0.0, 0.0),
        true_event("b", "equipment", 9_000.0, 0.0, 0.0, 2 * HOUR),
    )
    estimated = fused_items(
        [fused("impact", 0.0, 0.0, 0.0), fused("equipment", 9_000.0, 0.0, HOUR)], FRAME
    )
    result = gospa_score(true, estimated)
    assert result["distance"] == 0.0
    assert (result["missed_count"], result["false_count"], result["assigned"]) == (0, 0, 2)


def test_a_missed_and_a_false_event_by_hand() -> None:
    # p = 1, c = 2000 m, v = 1 m/s: localisation sqrt(200² + 150²) = 250 m (200 m apart,
    # 150 s later); the missed tank and the false explosion cost c/2 = 1000 m each.
    true = items(
        true_event("a", "impact", 0.0, 0.0, 0.0),
        true_event("tank", "equipment", 30_000.0, 0.0, 0.0, HOUR),
    )
    estimated = fused_items(
        [fused("impact", 160.0, 120.0, 150.0), fused("explosion", -30_000.0, 0.0, 0.0)], FRAME
    )
    result = gospa_score(true, estimated, GospaSettings(c_m=2_000.0, p=1.0, speed_mps=1.0))
    assert result["localisation"] == pytest.approx(250.0, abs=0.5)  # frame round trip
    assert (result["missed"], result["false"]) == (1_000.0, 1_000.0)
    assert result["distance"] == pytest.approx(2_250.0, abs=0.5)
    assert result["mean_localisation_m"] == pytest.approx(250.0, abs=0.5)
    assert (result["missed_count"], result["false_count"], result["assigned"]) == (1, 1, 1)
    assert result["by_category"]["equipment"]["missed_count"] == 1
    assert result["by_category"]["fire"]["false_count"] == 1


def test_p2_adds_powers() -> None:
    true = items(true_event("a", "impact", 0.0, 0.0, 0.0), true_event("b", "impact", 0.0, 8e3, 0))
    estimated = fused_items([fused("impact", 300.0, 400.0, 0.0)], FRAME)
    result = gospa_score(true, estimated, GospaSettings(c_m=1_000.0, p=2.0))
    # 500 m localisation; the missed b costs c^2 / 2
    assert result["localisation"] == pytest.approx(500.0**2, rel=1e-6)
    assert result["missed"] == pytest.approx(1_000.0**2 / 2)
    assert result["distance"] == pytest.approx(math.sqrt(500.0**2 + 1_000.0**2 / 2), abs=0.1)


def test_window_gap_is_euclidean_for_instants() -> None:
    a = ScoredItem("a", "impact", 10.0, -20.0, 1_000.0, 1_000.0)
    b = ScoredItem("b", "impact", 400.0, 50.0, 1_700.0, 1_700.0)
    sa, sb = to_state(a, 0.5, 0.0, estimate=False), to_state(b, 0.5, 0.0, estimate=True)
    expected = Euclidean(mapping=[0, 1, 2])(sa, sb)  # (x, y, v·t)
    assert WindowGap()(sa, sb) == pytest.approx(expected)
    assert expected == pytest.approx(math.hypot(390.0, 70.0, 350.0))


def test_window_gap_is_zero_in_time_when_windows_overlap() -> None:
    tank = ScoredItem("t", "equipment", 0.0, 0.0, 0.0, 86_400.0)
    sighting = ScoredItem("s", "equipment", 30.0, 40.0, 40_000.0, 40_000.0)
    late = ScoredItem("l", "equipment", 30.0, 40.0, 86_400.0 + 100.0, 86_400.0 + 100.0)
    state = to_state(tank, 1.0, 0.0, estimate=False)
    assert WindowGap()(state, to_state(sighting, 1.0, 0.0, estimate=True)) == pytest.approx(50.0)
    assert WindowGap()(state, to_state(late, 1.0, 0.0, estimate=True)) == pytest.approx(
        math.hypot(50.0, 100.0)
    )


def test_a_fused_trace_looks_back() -> None:
    impact = ScoredItem("i", "impact", 0.0, 0.0, 0.0, 300.0)
    crater = ScoredItem("c", "crater", 0.0, 0.0, 20 * HOUR, 20 * HOUR)
    true = to_state(impact, 1.0, 0.0, estimate=False)
    seen = to_state(crater, 1.0, 0.0, estimate=True)
    assert WindowGap()(true, seen) == 0.0
    assert WindowGap()(true, to_state(crater, 1.0, 0.0, estimate=False)) > 70_000.0


def test_grouping_equals_one_stone_soup_call() -> None:
    rng = np.random.default_rng(11)
    true = [
        ScoredItem(f"t{k}", "impact", *rng.uniform(0.0, 6_000.0, 2), t, t)
        for k, t in enumerate(rng.uniform(0.0, 3_000.0, 25))
    ]
    estimated = [
        ScoredItem(f"f{k}", "impact", *rng.uniform(0.0, 6_000.0, 2), t, t)
        for k, t in enumerate(rng.uniform(0.0, 3_000.0, 18))
    ]
    settings = GospaSettings(c_m=1_500.0, p=1.0, speed_mps=1.0)
    grouped = gospa_score(true, estimated, settings)
    metric = GOSPAMetric(c=1_500.0, p=1.0, measure=WindowGap())
    t0 = min(i.start for i in (*true, *estimated))
    whole, _ = metric.compute_gospa_metric(
        [to_state(f, 1.0, t0, estimate=True) for f in estimated],
        [to_state(t, 1.0, t0, estimate=False) for t in true],
    )
    assert grouped["distance"] == pytest.approx(float(whole.value["distance"]), abs=0.2)
    assert grouped["missed"] == pytest.approx(float(whole.value["missed"]), abs=0.2)
    assert grouped["false"] == pytest.approx(abs(float(whole.value["false"])), abs=0.2)


def test_categories_never_pair() -> None:
    true = items(true_event("tank", "equipment", 0.0, 0.0, 0.0, HOUR))
    estimated = fused_items([fused("explosion", 0.0, 0.0, 60.0)], FRAME)
    result = gospa_score(true, estimated, GospaSettings(c_m=2_000.0))
    assert (result["missed_count"], result["false_count"], result["assigned"]) == (1, 1, 0)
