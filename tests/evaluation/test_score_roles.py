"""Violation matching prefers a found event of the same role (launch vs landing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from truceline.evaluation.score import MatchGates, score_findings
from truceline.model.finding import Finding

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
#: Degrees of latitude per metre (near enough for a few hundred metres).
DEG_PER_M = 1.0 / 111_195.0


def _finding(event: str, kind: str, lat: float, party: str, minutes: float) -> Finding:
    return Finding(
        event_id=event,
        rule_id="no-fire",
        agreement_id="demo",
        agreement_version=1,
        status="candidate",
        severity="serious",
        kind=kind,
        time=T0 + timedelta(minutes=minutes),
        time_sigma_s=5.0,
        lon=37.5,
        lat=lat,
        cov_ee=1e4,
        cov_en=0.0,
        cov_nn=1e4,
        zone_id=None,
        side=None,
        party=None,
        distance_to_line_m=0.0,
        confidence=0.99,
        escalation_level="serious",
        evidence=(f"obs-{event}",),
        explanation="test",
        attributes={"attribution": {"party": party}},
    )


def _truth(kind: str, lat: float, party: str, minutes: float) -> dict[str, Any]:
    return {
        "id": f"{kind}-{minutes}",
        "kind": kind,
        "lon": 37.5,
        "lat": lat,
        "time": (T0 + timedelta(minutes=minutes)).isoformat(),
        "party": party,
        "violation": True,
    }


def test_counter_battery_fire_is_not_crossed_with_the_battery_it_hit() -> None:
    # Party A's battery fires from `gun`; six minutes later party B's shells land
    # 300 m from it. Fusion found both, each 160 m from its own truth (140 m from
    # the other) and right about who fired: distance alone prefers the crossing.
    gun, hit = 48.5, 48.5 + 300 * DEG_PER_M
    truth = {
        "events": [
            _truth("launch", gun, "A", 0.0),
            _truth("impact", hit, "B", 6.0),
        ]
    }
    findings = [
        _finding("launch-event", "launch", gun + 160 * DEG_PER_M, "A", 0.0),
        _finding("impact-event", "impact", hit - 160 * DEG_PER_M, "B", 6.0),
    ]
    crossed = score_findings(truth, findings, gates=MatchGates(role_mismatch_m=0.0))
    assert crossed["attribution"]["correct"] == 0  # distance alone crosses them
    scored = score_findings(truth, findings)
    assert scored["violations"]["matched"] == 2
    assert scored["attribution"] == {
        "matched_with_party": 2,
        "attributed": 2,
        "correct": 2,
        "accuracy": 1.0,
        "undetermined": 0,
        "undetermined_share": 0.0,
    }
    # the location error is the distance, not the matching cost
    assert scored["location_error_m"]["median"] == pytest.approx(160.0, abs=2.0)


def test_a_misclassified_event_still_matches_a_true_violation_of_the_other_role() -> None:
    truth = {"events": [_truth("impact", 48.5, "B", 0.0)]}
    findings = [_finding("only", "launch", 48.5 + 200 * DEG_PER_M, "B", 0.0)]
    scored = score_findings(truth, findings)
    assert scored["violations"]["matched"] == 1 and scored["violations"]["precision"] == 1.0
    assert scored["location_error_m"]["median"] == pytest.approx(200.0, abs=2.0)
