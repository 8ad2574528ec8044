"""Event-level F1 on hand-made cases: matches, misses, false events and their labels."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.scoring_testkit import FRAME, fused, true_event, truth
from truceline.evaluation.events import EventGates, score_events
from truceline.evaluation.items import fused_items, locatable, truth_items
from truceline.model.event import Event

HOUR = 3600.0


def score(doc: dict[str, Any], events: list[Event], gates: EventGates | None = None) -> Any:
    return score_events(truth_items(doc), fused_items(events, FRAME), gates)


def test_perfect_match_scores_one() -> None:
    doc = truth(
        true_event("impact-1", "impact", 0.0, 0.0, 0.0, 300.0, violation=True),
        true_event("tank-1", "equipment", 20_000.0, 5_000.0, 0.0, 3 * HOUR),
        true_event("burn-1", "thermal_anomaly", -9_000.0, 4_000.0, 2 * HOUR, 5 * HOUR),
    )
    events = [
        fused("impact", 50.0, -30.0, 10.0, 290.0),
        fused("equipment", 20_010.0, 5_000.0, HOUR, modalities=("drone",)),
        fused("thermal_anomaly", -9_300.0, 4_100.0, 4 * HOUR, modalities=("satellite",)),
    ]
    result = score(doc, events)
    assert (result["matched"], result["precision"], result["recall"], result["f1"]) == (
        3,
        1.0,
        1.0,
        1.0,
    )
    assert result["kind_agreement"] == 1.0
    assert result["missed"] == {"merged": 0, "wrong_kind": 0, "not_formed": 0}
    assert result["false"] == {"duplicate": 0, "wrong_kind": 0, "spurious": 0}
    assert result["location_error_m"]["median"] == pytest.approx(58.3, abs=0.2)  # hypot(50, 30)


def test_a_missed_and_a_false_event() -> None:
    doc = truth(
        true_event("impact-1", "impact", 0.0, 0.0, 0.0),
        true_event("tank-1", "equipment", 20_000.0, 0.0, 0.0, HOUR),
    )
    events = [fused("impact", 100.0, 0.0, 5.0), fused("explosion", -40_000.0, 0.0, 5.0)]
    result = score(doc, events)
    assert (result["matched"], result["precision"], result["recall"], result["f1"]) == (
        1,
        0.5,
        0.5,
        0.5,
    )
    assert result["missed"] == {"merged": 0, "wrong_kind": 0, "not_formed": 1}
    assert result["false"] == {"duplicate": 0, "wrong_kind": 0, "spurious": 1}
    assert [m["id"] for m in result["missed_events"]] == ["tank-1"]
    assert [f["kind"] for f in result["false_events"]] == ["explosion"]
    assert result["by_category"]["equipment"]["not_formed"] == 1
    assert result["by_category"]["fire"]["false_spurious"] == 1


def test_one_event_for_two_is_a_merge_and_two_for_one_a_split() -> None:
    doc = truth(
        true_event("impact-1", "impact", 0.0, 0.0, 0.0, 120.0),
        true_event("impact-2", "impact", 600.0, 0.0, 300.0, 420.0),  # 600 m, 5 min on
        true_event("launch-1", "launch", 9_000.0, 0.0, 0.0, 60.0),
    )
    events = [
        fused("impact", 300.0, 0.0, 0.0, 420.0),  # one event of both impacts
        fused("launch", 9_000.0, 0.0, 0.0, 30.0),
        fused("launch", 9_050.0, 0.0, 40.0, 60.0),  # the launch split in two
    ]
    result = score(doc, events)
    assert result["matched"] == 2
    assert result["missed"] == {"merged": 1, "wrong_kind": 0, "not_formed": 0}
    assert result["false"] == {"duplicate": 1, "wrong_kind": 0, "spurious": 0}
    assert result["recall"] == pytest.approx(2 / 3, abs=1e-4)


def test_sensing_gaps_are_not_held_against_fusion() -> None:
    doc = truth(
        true_event("burn-1", "thermal_anomaly", 0.0, 0.0, 0.0, HOUR),
        true_event("burn-2", "thermal_anomaly", 50_000.0, 0.0, 0.0, HOUR, observed={}),
        true_event("blast-1", "explosion", 0.0, 30_000.0, 0.0, observed={"acoustic_stations": 2}),
    )
    result = score(doc, [fused("thermal_anomaly", 200.0, 0.0, HOUR / 2)])
    assert (result["true"], result["observed"], result["locatable"]) == (3, 2, 1)
    assert result["sensing_gaps"] == {"unobserved": 1, "not_locatable": 1}
    assert (result["recall"], result["f1"]) == (1.0, 1.0)
    assert result["recall_all_true"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["missed_events"] == []  # sensing gaps are counted, not listed


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        ({}, False),
        ({"acoustic_stations": 2, "acoustic_picks": 9}, False),
        ({"acoustic_stations": 2, "array_emissions": 3}, True),  # the array is a station
        ({"acoustic_stations": 3}, True),
        ({"drone_detections": 1}, True),
        ({"image_changes": 1}, True),
        (None, True),  # a truth without observed counts: everything counts
    ],
)
def test_locatable(observed: dict[str, int] | None, expected: bool) -> None:
    record = true_event("e", "explosion", 0.0, 0.0, 0.0)
    record["observed"] = observed
    if observed is None:
        del record["observed"]
    (item,) = truth_items(truth(record))
    assert locatable(item) is expected


def test_kind_category_gates_the_pairs() -> None:
    doc = truth(true_event("impact-1", "impact", 0.0, 0.0, 0.0))
    wrong = score(doc, [fused("equipment", 0.0, 0.0, 0.0), fused("other", 0.0, 0.0, 0.0)])
    assert wrong["matched"] == 0
    assert wrong["false"] == {"duplicate": 0, "wrong_kind": 2, "spurious": 0}
    assert wrong["missed"] == {"merged": 0, "wrong_kind": 1, "not_formed": 0}
    mixed = score(doc, [fused("launch", 0.0, 0.0, 0.0)])  # firing kinds are interchangeable
    assert mixed["matched"] == 1 and mixed["kind_agreement"] == 0.0


@pytest.mark.parametrize(
    ("seen_after_s", "matched"),
    [(20 * HOUR, 1), (3 * 24 * HOUR, 0), (-HOUR, 0)],
)
def test_a_crater_is_a_trace_seen_later(seen_after_s: float, matched: int) -> None:
    doc = truth(true_event("impact-1", "impact", 0.0, 0.0, 0.0, 300.0))
    seen = fused("crater", 150.0, 0.0, 300.0 + seen_after_s, modalities=("drone",))
    assert score(doc, [seen])["matched"] == matched


def test_gates_on_distance_and_time() -> None:
    doc = truth(true_event("impact-1", "impact", 0.0, 0.0, 0.0, 60.0))
    assert score(doc, [fused("impact", 2_900.0, 0.0, 30.0)])["matched"] == 1
    assert score(doc, [fused("impact", 3_100.0, 0.0, 30.0)])["matched"] == 0
    assert score(doc, [fused("impact", 0.0, 0.0, 60.0 + 1_700.0)])["matched"] == 1
    assert score(doc, [fused("impact", 0.0, 0.0, 60.0 + 1_900.0)])["matched"] == 0
    tight = EventGates(distance_m={"fire": 500.0})
    assert score(doc, [fused("impact", 900.0, 0.0, 30.0)], tight)["matched"] == 0


def test_assignment_is_optimal_not_greedy() -> None:
    # the first fused event is nearest to A, but only it can serve B: pair A with the second
    doc = truth(
        true_event("a", "impact", 0.0, 0.0, 0.0),
        true_event("b", "impact", 2_500.0, 0.0, 0.0),
    )
    events = [fused("impact", 400.0, 0.0, 0.0), fused("impact", -900.0, 0.0, 0.0)]
    result = score(doc, events)
    assert result["matched"] == 2 and result["f1"] == 1.0


def test_time_breaks_ties_between_repeated_fire_at_one_place() -> None:
    doc = truth(
        true_event("launch-1", "launch", 0.0, 0.0, 0.0, 120.0),
        true_event("launch-2", "launch", 0.0, 0.0, 1_500.0, 1_620.0),
    )
    events = [fused("launch", 30.0, 0.0, 1_510.0), fused("launch", 30.0, 0.0, 10.0)]
    result = score(doc, events)
    assert result["matched"] == 2
    assert result["location_error_m"]["p90"] == pytest.approx(30.0, abs=0.1)


def test_empty_sets() -> None:
    assert score(truth(), [])["f1"] is None
    only_truth = score(truth(true_event("a", "impact", 0.0, 0.0, 0.0)), [])
    assert (only_truth["recall"], only_truth["precision"]) == (0.0, None)
    only_fused = score(truth(), [fused("impact", 0.0, 0.0, 0.0)])
    assert only_fused["precision"] == 0.0 and only_fused["false"]["spurious"] == 1


def test_thunder_called_an_explosion_is_a_kind_error() -> None:
    doc = truth(
        true_event("stroke-1", "other", 0.0, 0.0, 0.0, observed={"acoustic_stations": 4}),
        true_event("stroke-2", "other", 9_000.0, 0.0, 40.0, observed={"acoustic_stations": 4}),
    )
    result = score(doc, [fused("explosion", 150.0, 0.0, 1.0), fused("other", 9_100.0, 0.0, 41.0)])
    assert result["matched"] == 1
    assert result["false"] == {"duplicate": 0, "wrong_kind": 1, "spurious": 0}
    assert result["missed"] == {"merged": 0, "wrong_kind": 1, "not_formed": 0}
    assert [f["why"] for f in result["false_events"]] == ["wrong_kind"]
    assert result["by_category"]["other"]["wrong_kind"] == 1
    assert result["by_category"]["fire"]["false_wrong_kind"] == 1
