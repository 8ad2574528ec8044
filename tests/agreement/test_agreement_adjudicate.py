"""Adjudication of hand-made events against every rule of the demo agreement."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from agreement.agreement_testkit import (
    DAY,
    EAST_STORAGE_CENTRE,
    QUARRY_CENTRE,
    STORAGE_CENTRE,
    T0,
    demo,
    demo_content,
    event,
    offset,
    small_content,
)
from truceline.agreement import (
    adjudicate,
    agreement_from_dict,
    agreement_in_force,
    escalation_recipients,
)
from truceline.model.event import Event
from truceline.model.finding import Finding


def judged(*events: Event) -> list[Finding]:
    return adjudicate(list(events), [demo()])


def rule_ids(*events: Event) -> set[str]:
    return {finding.rule_id for finding in judged(*events)}


# -- firing and strikes ----------------------------------------------------------------------


def test_explosion_breaks_the_no_fire_rule() -> None:
    (finding,) = judged(event("explosion", offset(5_000)))
    assert finding.rule_id == "no-fire"
    assert finding.status == "candidate" and finding.severity == "serious"
    assert finding.side == "east" and finding.party == "east" and finding.zone_id is None
    assert finding.distance_to_line_m == pytest.approx(5_000.0, rel=1e-4)
    assert finding.agreement_id == demo().version_id and finding.agreement_version == 1
    assert finding.evidence == ("obs-a", "obs-b")
    assert finding.confidence == 0.95
    assert (
        "no-fire" in finding.explanation and "5.0 km from the contact line" in finding.explanation
    )
    assert "east side" in finding.explanation


def test_firing_inside_the_disengagement_zone() -> None:
    assert rule_ids(event("gunfire", offset(-400))) == {"no-fire", "disengagement"}


def test_deep_strike_is_critical() -> None:
    findings = judged(event("impact", offset(-35_000)))
    assert {f.rule_id for f in findings} == {"no-fire", "deep-strike"}
    strike = next(f for f in findings if f.rule_id == "deep-strike")
    assert strike.severity == "critical" and strike.zone_id == "deep-rear"
    assert strike.side == "west" and strike.party == "west"


def test_launches_are_not_deep_strikes() -> None:
    assert rule_ids(event("launch", offset(35_000))) == {"no-fire"}


def test_declared_quarry_is_exempt() -> None:
    assert judged(event("explosion", QUARRY_CENTRE)) == []
    # the same blast 3 km outside the quarry is a deep strike
    outside = offset(-30_000, lat=QUARRY_CENTRE[1] + 0.03)
    assert rule_ids(event("explosion", outside)) == {"no-fire", "deep-strike"}


# -- withdrawal of heavy weapons -------------------------------------------------------------

WITHDRAWAL_CASES = [
    ("tank", -10_000, {"west-withdrawal-15km"}),
    ("tank", -20_000, set()),
    ("mortar", 14_000, {"east-withdrawal-15km"}),
    ("artillery_lt100", 16_000, set()),
    ("artillery_ge100", 45_000, {"east-withdrawal-50km"}),
    ("artillery_ge100", -55_000, set()),
    ("mlrs", -60_000, {"west-withdrawal-70km"}),
    ("mlrs", 75_000, set()),
    ("heavy_mlrs_missile", 100_000, {"east-withdrawal-140km"}),
    ("heavy_mlrs_missile", -145_000, set()),
    ("armoured_vehicle", -3_000, set()),
]


@pytest.mark.parametrize(("weapon", "where_m", "expected"), WITHDRAWAL_CASES)
def test_withdrawal_bands(weapon: str, where_m: float, expected: set[str]) -> None:
    findings = judged(event("equipment", offset(where_m), weapon_class=weapon))
    assert {f.rule_id for f in findings} == expected
    for finding in findings:
        assert finding.party == ("west" if where_m < 0 else "east")
        assert finding.zone_id is not None and finding.zone_id.startswith(finding.party)
        assert weapon in finding.explanation


def test_equipment_without_weapon_class_is_not_judged_by_withdrawal_rules() -> None:
    assert rule_ids(event("equipment", offset(-10_000))) == set()


def test_storage_sites_are_exempt_for_their_owner() -> None:
    assert judged(event("equipment", STORAGE_CENTRE, weapon_class="tank")) == []
    assert judged(event("equipment", EAST_STORAGE_CENTRE, weapon_class="mortar")) == []
    # a tank just outside the west storage site is a violation again
    outside = offset(-5_000, lat=STORAGE_CENTRE[1] + 0.03)
    assert rule_ids(event("equipment", outside, weapon_class="tank")) == {"west-withdrawal-15km"}


def test_presence_in_the_disengagement_zone() -> None:
    assert rule_ids(event("military_presence", offset(900))) == {"disengagement"}
    assert rule_ids(event("military_presence", offset(1_100))) == set()
    assert rule_ids(event("equipment", offset(-300), weapon_class="tank")) == {
        "disengagement",
        "west-withdrawal-15km",
    }


def test_other_activities_and_low_confidence_are_not_judged() -> None:
    assert judged(event("thermal_anomaly", offset(-400))) == []
    assert judged(event("explosion", offset(5_000), confidence=0.2)) == []


# -- escalation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "sources", "level"),
    [(0.95, 2, "attack"), (0.95, 1, "urgent"), (0.85, 3, "urgent"), (0.5, 3, "notify")],
)
def test_escalation_of_a_deep_strike(confidence: float, sources: int, level: str) -> None:
    findings = judged(event("impact", offset(40_000), confidence=confidence, sources=sources))
    strike = next(f for f in findings if f.rule_id == "deep-strike")
    assert strike.escalation_level == level
    no_fire = next(f for f in findings if f.rule_id == "no-fire")
    assert no_fire.escalation_level == ("urgent" if confidence >= 0.8 else "notify")


def test_default_level_when_no_policy_entry_matches() -> None:
    content = small_content()
    agreement = agreement_from_dict(content)
    (finding,) = adjudicate([event("equipment", (29.95, 48.0), weapon_class="tank")], [agreement])
    assert finding.rule_id == "no-tanks" and finding.escalation_level == "log"
    assert finding.severity == "moderate"


def test_escalation_recipients() -> None:
    agreement = demo()
    assert escalation_recipients(agreement, "attack") == [
        "guarantors",
        "monitoring-centre",
        "west",
        "east",
    ]
    assert escalation_recipients(agreement, "log") == []
    with pytest.raises(ValueError, match="unknown escalation level 'panic'"):
        escalation_recipients(agreement, "panic")


# -- versions, windows and sides -------------------------------------------------------------


def amended(version: int, start_days: int, **changes: Any) -> dict[str, Any]:
    content = demo_content(version=version, effective_from=T0 + start_days * DAY)
    content.update(changes)
    return content


def test_version_in_force_is_chosen_by_time() -> None:
    v1 = demo()
    v2_content = amended(2, 30)
    for rule in v2_content["rules"]:
        if rule["id"] == "no-fire":
            rule["severity"] = "critical"
    v2 = agreement_from_dict(v2_content)
    blast = offset(5_000)
    early = adjudicate([event("explosion", blast, time=T0 + 10 * DAY)], [v2, v1])
    late = adjudicate([event("explosion", blast, time=T0 + 40 * DAY)], [v2, v1])
    before = adjudicate([event("explosion", blast, time=T0 - DAY)], [v2, v1])
    assert [(f.agreement_version, f.severity) for f in early] == [(1, "serious")]
    assert [(f.agreement_version, f.severity) for f in late] == [(2, "critical")]
    assert late[0].agreement_id == v2.version_id
    assert before == []


def test_expired_agreement_judges_nothing() -> None:
    ended = agreement_from_dict(amended(1, 0, effective_until="2026-11-10T00:00:00Z"))
    assert adjudicate([event("explosion", offset(5_000), time=T0 + 20 * DAY)], [ended]) == []
    assert agreement_in_force(T0 + 20 * DAY, [ended]) == []


def test_two_texts_with_the_same_version_are_refused() -> None:
    other = demo_content()
    other["title"] = "A different text"
    with pytest.raises(ValueError, match="two different texts"):
        agreement_in_force(T0 + DAY, [demo(), agreement_from_dict(other)])


def test_rule_window_and_sides() -> None:
    content = copy.deepcopy(small_content())
    content["rules"].append(
        {
            "id": "east-quiet-week",
            "activities": ["flight"],
            "sides": ["east"],
            "active": {"from": "2026-11-05T00:00:00Z", "until": "2026-11-12T00:00:00Z"},
            "severity": "minor",
        }
    )
    agreement = agreement_from_dict(content)

    def rules(where: tuple[float, float], days: int) -> list[str]:
        found = adjudicate([event("flight", where, time=T0 + days * DAY)], [agreement])
        return [f.rule_id for f in found]

    assert rules((30.2, 48.0), 6) == ["east-quiet-week"]
    assert rules((29.8, 48.0), 6) == []  # west side
    assert rules((30.2, 48.0), 3) == []  # before the window (T0 is 1 November)
    assert rules((30.2, 48.0), 4) == ["east-quiet-week"]  # 5 November: start is inclusive
    assert rules((30.2, 48.0), 11) == []  # 12 November: end is exclusive


def test_output_is_sorted_and_independent_of_input_order() -> None:
    events = [
        event("explosion", offset(-35_000), time=T0 + 2 * DAY),
        event("gunfire", offset(300), time=T0 + DAY),
        event("equipment", offset(-10_000), weapon_class="tank", time=T0 + DAY),
        event("impact", offset(60_000), time=T0 + 3 * DAY, members=("obs-z",)),
    ]
    first = judged(*events)
    shuffled = list(events)
    random.Random(5).shuffle(shuffled)
    assert [f.to_dict() for f in judged(*shuffled)] == [f.to_dict() for f in first]
    keys = [(f.time, f.event_id, f.rule_id) for f in first]
    assert keys == sorted(keys)
    # a repeated event does not duplicate findings
    assert len(judged(*events, events[0])) == len(first)
