"""score.json as a whole: old keys kept, event F1 and GOSPA added, targets judged."""

from __future__ import annotations

import dataclasses

from evaluation.scoring_testkit import finding, fused, true_event, truth
from truceline.agreement.patterns import PATTERN_KEY
from truceline.evaluation import TARGETS, score_run

HOUR = 3600.0


def _week_with_an_attack() -> tuple[dict[str, object], list[object], list[object]]:
    doc = truth(
        true_event("attack", "impact", 0.0, 0.0, 0.0, 60.0, violation=True, party="east",
                   escalate=True),
        true_event("shelling", "impact", 8_000.0, 0.0, HOUR, HOUR + 300.0, violation=True,
                   party="west"),
        true_event("burn", "thermal_anomaly", -20_000.0, 0.0, 0.0, 3 * HOUR),
    )  # fmt: skip
    attack = fused("impact", 120.0, 0.0, 5.0, 50.0)
    shelling = fused("impact", 8_100.0, 50.0, HOUR + 10.0, HOUR + 280.0)
    burn = fused("thermal_anomaly", -20_300.0, 0.0, HOUR, modalities=("satellite",))
    findings = [
        finding(attack, level="attack", party="east"),
        finding(shelling, level="urgent", party="undetermined"),
    ]
    return doc, [attack, shelling, burn], findings


def test_a_good_run_meets_every_target() -> None:
    doc, events, findings = _week_with_an_attack()
    score = score_run(doc, events, findings)  # type: ignore[arg-type]
    assert {"violations", "location_error_m", "escalations", "attribution"} <= set(score)
    assert {"false_positives", "missed", "events", "gospa", "targets"} <= set(score)
    assert score["violations"] == {
        "true": 2, "found": 2, "matched": 2, "precision": 1.0, "recall": 1.0
    }  # fmt: skip
    assert score["events"]["f1"] == 1.0 and score["gospa"]["missed_count"] == 0
    assert score["attribution"]["accuracy"] == 1.0
    assert score["attribution"]["undetermined_share"] == 0.5
    targets = score["targets"]
    assert set(targets) == {*TARGETS, "escalations"}
    assert all(t["met"] for t in targets.values())
    assert targets["escalations"] == {
        "true": 1, "raised": 1, "matched": 1, "raised_by_patterns": 0, "met": True
    }  # fmt: skip


def test_a_missed_attack_fails_the_escalation_target() -> None:
    doc, events, findings = _week_with_an_attack()
    calm = [dataclasses.replace(findings[0], escalation_level="urgent"), findings[1]]
    targets = score_run(doc, events, calm)["targets"]  # type: ignore[arg-type]
    assert targets["escalations"]["met"] is False
    assert targets["violation_recall"]["met"] is True


def test_a_quiet_week_with_nothing_found_meets_its_targets_vacuously() -> None:
    doc = truth(true_event("burn", "thermal_anomaly", 0.0, 0.0, 0.0, HOUR))
    score = score_run(doc, [fused("thermal_anomaly", 100.0, 0.0, 600.0)], [])
    targets = score["targets"]
    assert targets["violation_precision"] == {
        "value": None, "target": 0.95, "met": True, "vacuous": True
    }  # fmt: skip
    assert targets["violation_recall"]["met"] and targets["attribution_accuracy"]["met"]
    assert targets["escalations"]["met"] and targets["event_f1"]["met"]


def test_a_false_alarm_in_a_quiet_week_fails() -> None:
    doc = truth(true_event("burn", "thermal_anomaly", 0.0, 0.0, 0.0, HOUR))
    blast = fused("explosion", 30_000.0, 0.0, 600.0)
    score = score_run(doc, [blast], [finding(blast, level="attack")])
    assert score["violations"]["found"] == 1
    assert score["targets"]["violation_precision"] == {"value": 0.0, "target": 0.95, "met": False}
    assert score["targets"]["escalations"]["met"] is False
    assert score["events"]["false"] == {"duplicate": 0, "wrong_kind": 0, "spurious": 1}


def test_a_pattern_escalation_in_a_quiet_week_fails() -> None:
    doc = truth(true_event("burn", "thermal_anomaly", 0.0, 0.0, 0.0, HOUR))
    blast = fused("explosion", 30_000.0, 0.0, 600.0)
    pattern = dataclasses.replace(
        finding(blast, level="attack"), attributes={PATTERN_KEY: {"kind": "sustained_fire"}}
    )
    score = score_run(doc, [blast], [pattern])
    assert score["violations"]["found"] == 0  # a pattern is not one event's violation
    assert score["escalations"]["raised_by_patterns"] == 1
    assert score["targets"]["escalations"]["met"] is False
