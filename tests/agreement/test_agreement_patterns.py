"""Patterns of findings (sustained fire, repeated withdrawal) judged as findings of their own."""

from __future__ import annotations

import copy
import itertools
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agreement.agreement_testkit import DAY, T0, demo_content, event, offset
from truceline.agreement import adjudicate, agreement_from_dict, check_agreement_dict
from truceline.agreement.escalation import EscalationError, observations
from truceline.agreement.model import Agreement
from truceline.agreement.patterns import (
    PATTERN_KEY,
    at_least_probability,
    is_pattern_finding,
    judge_patterns,
    with_patterns,
)
from truceline.evaluation.score import score_findings
from truceline.model.event import Event
from truceline.model.finding import Finding

START = T0 + DAY


def content(**pattern_overrides: Any) -> dict[str, Any]:
    """The demo agreement with explicit patterns and an attack entry for the barrage."""
    data = demo_content()
    data["patterns"] = [
        {
            "id": "barrage",
            "kind": "sustained_fire",
            "rules": ["no-fire"],
            "severity": "critical",
            **pattern_overrides,
        },
        {"id": "tanks-again", "kind": "repeated_withdrawal", "severity": "serious"},
    ]
    data["escalation"]["policy"].insert(
        0, {"level": "attack", "when": {"rules": ["barrage"], "min_confidence": 0.9}}
    )
    return data


_AGREEMENT: dict[str, Agreement] = {}


def agreement() -> Agreement:
    if "a" not in _AGREEMENT:
        _AGREEMENT["a"] = agreement_from_dict(content())
    return _AGREEMENT["a"]


def barrage(
    n: int,
    *,
    start: datetime = START,
    step: timedelta = timedelta(minutes=30),
    lat: float = 47.6,
    lat_step: float = 0.004,
    east_m: float = 4_000.0,
    tag: str = "b",
    confidence: float = 0.95,
) -> list[Event]:
    """``n`` explosions on the east side, ``step`` apart, walking north by ``lat_step``°."""
    return [
        event(
            "explosion",
            offset(east_m, lat=lat + lat_step * i),
            time=start + step * i,
            members=(f"{tag}-{i}",),
            confidence=confidence,
        )
        for i in range(n)
    ]


def tanks(party_side_m: float, days: list[float], tag: str) -> list[Event]:
    """Tank sightings ``party_side_m`` metres from the line (negative: west) on these days."""
    return [
        event(
            "equipment",
            offset(party_side_m, lat=47.2 + 0.1 * i),
            time=T0 + DAY * d,
            weapon_class="tank",
            members=(f"{tag}-{i}",),
        )
        for i, d in enumerate(days)
    ]


def judge(events: list[Event], agreements: list[Agreement] | None = None) -> list[Finding]:
    chosen = agreements or [agreement()]
    return with_patterns(adjudicate(events, chosen), chosen, events)


def patterns(events: list[Event], agreements: list[Agreement] | None = None) -> list[Finding]:
    return [f for f in judge(events, agreements) if is_pattern_finding(f)]


# -- sustained fire --------------------------------------------------------------------------


def test_a_barrage_is_one_pattern_finding_listing_its_members() -> None:
    events = barrage(8)
    findings = judge(events)
    (pattern,) = [f for f in findings if is_pattern_finding(f)]
    singles = [f for f in findings if not is_pattern_finding(f)]
    described = pattern.attributes[PATTERN_KEY]
    assert pattern.rule_id == "barrage" and pattern.kind == "sustained_fire"
    assert described["count"] == 8
    assert described["events"] == sorted(e.id for e in events)
    assert described["members"] == sorted(f.id for f in singles if f.rule_id == "no-fire")
    # its evidence is its member findings; the observations are theirs
    assert pattern.evidence == tuple(described["members"])
    by_id = {f.id: f for f in findings}
    assert observations(pattern, by_id) == frozenset(f"b-{i}" for i in range(8))
    assert pattern.severity == "critical" and pattern.escalation_level == "attack"
    assert pattern.agreement_id == agreement().version_id and pattern.agreement_version == 1
    assert pattern.time == events[0].time
    # a member missing from the findings given: its observations are unknown, not dropped
    del by_id[described["members"][3]]
    with pytest.raises(EscalationError, match="member finding"):
        observations(pattern, by_id)
    assert described["time_end"] == "2026-11-02T03:30:00Z"
    low, high = described["chainage_m"]
    assert 0 < high - low < 10_000
    assert pattern.side == "east"
    # the explosions landed on the east side but nobody is attributed from that
    assert pattern.party is None and pattern.attributes["attribution"]["party"] == "undetermined"
    assert "Sustained fire: 8 events" in pattern.explanation


def test_pattern_finding_is_deterministic() -> None:
    events = barrage(9)
    shuffled = list(events)
    random.Random(3).shuffle(shuffled)
    first = patterns(events)
    second = patterns(shuffled)
    assert [f.to_dict() for f in first] == [f.to_dict() for f in second]
    assert first[0].id == second[0].id
    # judging again (pattern findings given back) replaces rather than duplicates them
    again = with_patterns(judge(events), [agreement()], events)
    assert [f.id for f in again] == [f.id for f in judge(events)]


@pytest.mark.parametrize(
    ("events", "why"),
    [
        (barrage(5), "five events are fewer than six"),
        (barrage(8, step=timedelta(hours=2)), "never six within six hours"),
        (barrage(8, lat_step=0.02), "never six within ten kilometres of line"),
        (barrage(8, confidence=0.4), "below the rule's min_confidence: no findings at all"),
    ],
)
def test_no_pattern_when_the_limits_are_not_met(events: list[Event], why: str) -> None:
    assert patterns(events) == [], why


def test_the_limits_are_inclusive() -> None:
    # six events spanning exactly six hours (72 minutes apart) qualify
    assert len(patterns(barrage(6, step=timedelta(minutes=72)))) == 1
    # seven spanning slightly more than six hours in every window of six do not
    assert patterns(barrage(6, step=timedelta(minutes=73))) == []


def test_events_are_counted_not_findings() -> None:
    # inside the disengagement zone each explosion breaks no-fire and disengagement
    close = barrage(5, east_m=400.0)
    findings = adjudicate(close, [agreement()])
    assert len(findings) == 10
    no_rules = agreement_from_dict(content(rules=None))
    assert patterns(close, [no_rules]) == []
    (pattern,) = patterns(barrage(6, east_m=400.0), [no_rules])
    assert pattern.attributes[PATTERN_KEY]["count"] == 6
    assert len(pattern.attributes[PATTERN_KEY]["members"]) == 12


def test_separate_barrages_and_a_long_one() -> None:
    north = barrage(7, lat=48.5, tag="n")
    south = barrage(7, lat=47.2, tag="s")
    found = patterns([*north, *south])
    assert len(found) == 2
    assert {tuple(f.attributes[PATTERN_KEY]["events"]) for f in found} == {
        tuple(sorted(e.id for e in north)),
        tuple(sorted(e.id for e in south)),
    }
    # fire every 30 minutes for 12 hours in one sector is one episode, not two
    (long,) = patterns(barrage(25, lat_step=0.0005))
    assert long.attributes[PATTERN_KEY]["count"] == 25


def test_stragglers_are_not_members() -> None:
    events = [*barrage(6), *barrage(1, start=START + timedelta(hours=12), tag="late")]
    (pattern,) = patterns(events)
    assert pattern.attributes[PATTERN_KEY]["count"] == 6
    assert "late-0" not in pattern.evidence


def test_party_comes_from_the_members_attributions() -> None:
    singles = adjudicate(barrage(6), [agreement()])

    def attributed(findings: list[Finding], parties: list[str]) -> list[Finding]:
        out = []
        for finding, party in zip(findings, itertools.cycle(parties), strict=False):
            attributes = {**finding.attributes, "attribution": {"party": party}}
            out.append(Finding.from_dict({**finding.to_dict(), "attributes": attributes}))
        return out

    (west,) = judge_patterns(attributed(singles, ["west", "undetermined"]), [agreement()])
    assert west.party == "west"
    assert west.attributes["attribution"]["members"] == {"undetermined": 3, "west": 3}
    (mixed,) = judge_patterns(attributed(singles, ["west", "east"]), [agreement()])
    assert mixed.party is None and mixed.attributes["attribution"]["party"] == "undetermined"


def test_sources_and_confidence_feed_the_policy() -> None:
    events = barrage(7)
    (pattern,) = patterns(events)
    expected = 0.95**7 + 7 * 0.05 * 0.95**6  # at least six of seven real
    assert pattern.confidence == pytest.approx(expected, abs=1e-6)
    assert pattern.escalation_level == "attack"
    assert pattern.attributes[PATTERN_KEY]["max_independent_sources"] == 2
    data = content()
    data["escalation"]["policy"][0]["when"]["min_sources"] = 3
    (strict,) = patterns(events, [agreement_from_dict(data)])
    assert strict.escalation_level == "urgent"  # members have 2 sources, the entry wants 3
    (six,) = patterns(barrage(6))
    assert six.confidence == pytest.approx(0.95**6, abs=1e-6)
    assert six.escalation_level == "notify"  # below both 0.9 (attack) and 0.8 (urgent)


# -- repeated withdrawal ----------------------------------------------------------------------


def test_repeated_withdrawal_by_one_party() -> None:
    west = tanks(-8_000, [1, 3, 6], "w")
    (pattern,) = patterns(west)
    assert pattern.kind == "repeated_withdrawal" and pattern.rule_id == "tanks-again"
    assert pattern.party == "west" and pattern.severity == "serious"
    assert pattern.attributes[PATTERN_KEY]["count"] == 3
    assert "binding west" in pattern.explanation


def test_withdrawal_violations_of_two_parties_do_not_add_up() -> None:
    mixed = [*tanks(-8_000, [1, 2], "w"), *tanks(8_000, [1, 2], "e")]
    assert patterns(mixed) == []


def test_withdrawal_window_is_seven_days_by_default() -> None:
    assert patterns(tanks(-8_000, [0, 5, 10], "w")) == []
    assert len(patterns(tanks(-8_000, [0, 5, 7], "w"))) == 1


def test_armoured_vehicles_are_not_heavy_weapons() -> None:
    sightings = [
        event(
            "equipment",
            offset(-500, lat=47.3 + 0.1 * i),
            time=START + DAY * i,
            weapon_class="armoured_vehicle",
            members=(f"a-{i}",),
        )
        for i in range(4)
    ]
    assert adjudicate(sightings, [agreement()])  # presence in the disengagement zone...
    assert patterns(sightings) == []  # ...but no heavy weapon


# -- versions ----------------------------------------------------------------------------------


def test_each_version_counts_only_its_own_findings() -> None:
    plain = demo_content()
    plain.pop("patterns")
    v1 = agreement_from_dict(plain)
    v2_content = content()
    v2_content.update(version=2, effective_from="2026-11-02T03:00:00Z")
    v2 = agreement_from_dict(v2_content)
    events = barrage(8)  # 00:00 to 03:30 on 2 November: six judged by v1, two by v2
    assert {f.agreement_version for f in adjudicate(events, [v1, v2])} == {1, 2}
    assert patterns(events, [v1, v2]) == []
    later = barrage(8, start=START + timedelta(hours=6), tag="later")
    (pattern,) = patterns([*events, *later], [v1, v2])
    assert pattern.agreement_version == 2 and pattern.agreement_id == v2.version_id
    assert pattern.attributes[PATTERN_KEY]["count"] == 10
    assert not {f"b-{i}" for i in range(6)} & set(pattern.evidence)


# -- probability -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=0, max_size=7),
    st.integers(min_value=0, max_value=8),
)
def test_at_least_probability_matches_enumeration(probabilities: list[float], k: int) -> None:
    total = 0.0
    for outcome in itertools.product([0, 1], repeat=len(probabilities)):
        if sum(outcome) >= k:
            weight = 1.0
            for real, p in zip(outcome, probabilities, strict=True):
                weight *= p if real else 1.0 - p
            total += weight
    assert at_least_probability(probabilities, k) == pytest.approx(total, abs=1e-12)


# -- the file format ---------------------------------------------------------------------------


def test_kind_defaults_are_written_into_the_resolved_text() -> None:
    resolved = agreement().canonical()["patterns"]
    assert resolved[0]["min_events"] == 6 and resolved[0]["window_h"] == 6.0
    assert resolved[0]["sector_m"] == 10_000.0
    assert resolved[1]["window_h"] == 168.0 and resolved[1]["sector_m"] is None
    assert "tank" in resolved[1]["weapon_classes"]
    assert "armoured_vehicle" not in resolved[1]["weapon_classes"]


def test_an_agreement_without_patterns_keeps_its_resolved_text() -> None:
    plain = demo_content()
    plain.pop("patterns", None)
    resolved = agreement_from_dict(plain).canonical()
    assert "patterns" not in resolved
    with_empty = {**copy.deepcopy(plain), "patterns": []}
    assert agreement_from_dict(with_empty).version_id == agreement_from_dict(plain).version_id


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda p: p.update(sector_m=5000), "patterns[1]", "applies to sustained_fire only"),
        (lambda p: p.update(rules=["no-fyre"]), "patterns[1].rules[0]", "unknown rule 'no-fyre'"),
        (lambda p: p.update(id="no-fire"), "patterns[1].id", "also a rule id"),
        (lambda p: p.update(kind="barrage"), "patterns[1].kind", "sustained_fire"),
        (lambda p: p.update(min_events=1), "patterns[1].min_events", "greater than or equal to 2"),
        (lambda p: p.update(window_days=7), "patterns[1].window_days", "unknown key"),
    ],
)
def test_pattern_problems_are_reported(change: Any, path: str, message: str) -> None:
    data = content()
    change(data["patterns"][1])
    issues = check_agreement_dict(data)
    assert any(i.path == path and message in i.message for i in issues), issues


def test_policy_may_name_patterns_but_not_unknown_ids() -> None:
    assert check_agreement_dict(content()) == []
    data = content()
    data["escalation"]["policy"][0]["when"]["rules"] = ["barage"]
    (issue,) = check_agreement_dict(data)
    assert "unknown rule or pattern 'barage'" in issue.message and "barrage" in issue.message


def test_scoring_ignores_pattern_findings() -> None:
    events = barrage(7)
    singles = adjudicate(events, [agreement()])
    truth = {
        "events": [
            {
                "id": f"t{i}",
                "kind": "explosion",
                "lon": e.lon,
                "lat": e.lat,
                "time": e.time.isoformat(),
                "violation": True,
            }
            for i, e in enumerate(events)
        ]
    }
    assert (
        score_findings(truth, judge(events))["violations"]
        == (score_findings(truth, singles)["violations"])
    )
    assert score_findings(truth, judge(events))["violations"]["precision"] == 1.0
