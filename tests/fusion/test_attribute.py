"""Attribution of findings: from the launch side, never from where a round landed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from shapely.geometry import LineString

from truceline.agreement import Agreement, adjudicate, agreement_from_dict, demo_agreement_dict
from truceline.fusion.attribute import UNDETERMINED, annotate_roles, attribute_findings
from truceline.model import Event, LocalFrame

T0 = datetime(2026, 11, 5, 10, tzinfo=UTC)
# A straight north-south contact line at 38 E: west on the left walking north.
AGREEMENT = agreement_from_dict(demo_agreement_dict(LineString([(38.0, 47.0), (38.0, 49.5)])))
FRAME = LocalFrame(38.0, 48.2)
FIT_BASIS = "launches its trajectory fits, weighted by their likelihood"


def _event(
    kind: str, east_m: float, *, sigma_m: float = 150.0, dt_s: float = 0.0, **attrs: object
) -> Event:
    lon, lat = FRAME.point_to_geo(east_m, 0.0)
    t = T0 + timedelta(seconds=dt_s)
    scores = {kind: 1.0} if kind in {"launch", "impact", "explosion"} else {}
    return Event(
        kind=kind, time=t, time_sigma_s=1.0, time_start=t, time_end=t, lon=lon, lat=lat,
        cov_ee=sigma_m**2, cov_en=0.0, cov_nn=sigma_m**2, members=(f"obs-{kind}-{east_m}",),
        sensors=("s1", "s2", "s3"), modalities=("acoustic",), independent_sources=3,
        confidence=0.99, attributes={"kind_scores": scores, **attrs},
    )  # fmt: skip


def _judge(events: list[Event]) -> dict[str, dict[str, object]]:
    annotated = annotate_roles(events, [AGREEMENT])
    findings = attribute_findings(annotated, adjudicate(annotated, [AGREEMENT]), [AGREEMENT])
    by_kind: dict[str, dict[str, object]] = {}
    for finding in findings:
        by_kind.setdefault(finding.kind, dict(finding.attributes["attribution"]))
    return by_kind


def test_impact_is_attributed_to_the_side_of_its_paired_launch() -> None:
    launch = _event("launch", -4_000.0)  # 4 km west of the line
    impact = _event("impact", 9_000.0, dt_s=40.0)  # 9 km east, 40 s later: a gun
    judged = _judge([launch, impact])
    assert judged["launch"]["party"] == "west"
    assert judged["impact"]["party"] == "west"  # who fired, not where it landed
    assert judged["impact"]["landed_on"] == "east"
    assert judged["impact"]["basis"] == FIT_BASIS


def _guns_either_side_and_an_impact(east_m: float) -> list[Event]:
    """Guns 4 km either side of the line, an impact 5 km north 40 s later, ``east_m`` east."""
    west = _event("launch", -4_000.0)
    east = dataclasses.replace(_event("launch", 4_000.0), members=("obs-east-gun",))
    lon, lat = FRAME.point_to_geo(east_m, 5_000.0)
    impact = dataclasses.replace(_event("impact", 0.0, dt_s=40.0), lon=lon, lat=lat)
    return [west, east, impact]


def test_impact_fitting_launches_on_both_sides_is_undetermined() -> None:
    # an impact on the line itself, 6.4 km from each gun: range, time of flight and
    # direction of fire fit both equally, so no side can be named
    record = _judge(_guns_either_side_and_an_impact(0.0))["impact"]
    assert record["party"] == UNDETERMINED
    assert record["basis"] == FIT_BASIS
    probabilities = record["probabilities"]
    assert isinstance(probabilities, dict)
    assert 0.2 < probabilities["west"] < 0.8 and 0.2 < probabilities["east"] < 0.8
    assert record["landed_on"] == UNDETERMINED
    assert len(record["launch_candidates"]) == 2  # type: ignore[arg-type]


def test_direction_of_fire_favours_the_gun_across_the_line() -> None:
    # 2 km east of the line: 7.8 km from the west gun, 5.4 km from the east one, both
    # fit range and time of flight, but the east gun would have shelled its own side
    events = _guns_either_side_and_an_impact(2_000.0)
    record = _judge(events)["impact"]
    assert record["landed_on"] == "east"
    assert record["party"] == "west"
    probabilities = record["probabilities"]
    assert isinstance(probabilities, dict)
    assert probabilities["east"] < 0.05
    candidates = dict(record["launch_candidates"])  # type: ignore[arg-type]
    assert len(candidates) == 2  # the east gun is still a candidate, with a small weight
    annotated = annotate_roles(events, [AGREEMENT])
    west_gun = next(e for e in annotated if e.members == events[0].members)
    assert record["launch_event_id"] == west_gun.id


def test_a_launch_on_the_side_its_round_landed_on_is_not_enough() -> None:
    # the only gun heard is on the side the round landed on: it fits range and time,
    # but fire is aimed across the line, so the round more likely came from a gun
    # nobody heard: undetermined, never the landing side's opponent by default
    launch = _event("launch", 9_000.0)
    lon, lat = FRAME.point_to_geo(2_000.0, 5_000.0)
    impact = dataclasses.replace(_event("impact", 0.0, dt_s=40.0), lon=lon, lat=lat)
    record = _judge([launch, impact])["impact"]
    assert record["landed_on"] == "east"
    assert record["party"] == UNDETERMINED
    probabilities = record["probabilities"]
    assert isinstance(probabilities, dict)
    assert probabilities["west"] == 0.0
    assert float(record["unseen_launch"]) > 0.1  # type: ignore[arg-type]


def test_impact_alone_is_never_attributed() -> None:
    judged = _judge([_event("impact", 9_000.0)])
    assert judged["impact"]["party"] == UNDETERMINED
    assert judged["impact"]["landed_on"] == "east"


def test_equipment_on_the_line_is_flagged_as_unassignable() -> None:
    far = _event("equipment", -8_000.0, sigma_m=40.0, weapon_class="tank")
    straddling = dataclasses.replace(
        _event("equipment", 200.0, sigma_m=800.0, weapon_class="tank"), members=("obs-x",)
    )
    annotated = annotate_roles([far, straddling], [AGREEMENT])
    findings = attribute_findings(annotated, adjudicate(annotated, [AGREEMENT]), [AGREEMENT])
    parties = {f.event_id: f.attributes["attribution"] for f in findings}
    ids = {e.members[0]: e.id for e in annotated}
    assert parties[ids["obs-equipment--8000.0"]]["party"] == "west"
    unassigned = parties[ids["obs-x"]]
    assert unassigned["party"] == UNDETERMINED
    assert "straddles" in str(unassigned["flag"])


# Version 2 moves the contact line 0.1° (about 7.4 km) east from T0 + 1 h on: a point
# 3 km east of 38 E is on the east side under version 1, on the west side under version 2.
V2_FROM = T0 + timedelta(hours=1)
V2 = agreement_from_dict(
    demo_agreement_dict(LineString([(38.1, 47.0), (38.1, 49.5)]), effective_from=V2_FROM, version=2)
)


def _attributions(events: list[Event], agreements: list[Agreement]) -> list[dict[str, object]]:
    annotated = annotate_roles(events, agreements)
    findings = attribute_findings(annotated, adjudicate(annotated, agreements), agreements)
    return [dict(f.attributes["attribution"]) | {"kind": f.kind} for f in findings]


def test_sides_use_the_agreement_version_in_force_at_each_event() -> None:
    before = _event("launch", 3_000.0)  # fired while version 1 was in force
    after = dataclasses.replace(
        _event("launch", 3_000.0, dt_s=2 * 3600.0), members=("obs-late",)
    )  # the same point once version 2 redrew the line
    for agreements in ([AGREEMENT, V2], [V2, AGREEMENT]):  # the order given does not matter
        early, late = (_attributions([event], agreements)[0] for event in (before, after))
        assert (early["party"], early["agreement_version"]) == ("east", AGREEMENT.version_id)
        assert (late["party"], late["agreement_version"]) == ("west", V2.version_id)


def test_impact_takes_the_side_its_launch_had_when_it_fired() -> None:
    # launched 20 s before version 2 came into force, landed 40 s later under version 2
    # (fired across the line: the impact is west of both versions' lines)
    launch = _event("launch", 3_000.0, dt_s=3600.0 - 20.0)
    impact = _event("impact", -6_000.0, dt_s=3600.0 + 20.0)
    judged = {a["kind"]: a for a in _attributions([launch, impact], [AGREEMENT, V2])}
    assert judged["impact"]["basis"] == FIT_BASIS
    assert (judged["impact"]["party"], judged["impact"]["agreement_versions"]) == (
        "east",
        [AGREEMENT.version_id],
    )


def test_equipment_side_uses_the_version_that_judged_it() -> None:
    early = _event("equipment", 3_000.0, sigma_m=40.0, weapon_class="tank")
    late = dataclasses.replace(
        _event("equipment", 3_000.0, sigma_m=40.0, dt_s=2 * 3600.0, weapon_class="tank"),
        members=("obs-late",),
    )
    first, second = (_attributions([e], [AGREEMENT, V2])[0] for e in (early, late))
    assert first["party"] == "east"
    assert second["party"] == "west"
    assert second["agreement_version"] == V2.version_id


def test_a_launch_before_any_version_is_in_force_gets_no_side() -> None:
    launch = _event("launch", -4_000.0, dt_s=-10 * 86_400.0)  # before the ceasefire began
    annotated = annotate_roles([launch], [AGREEMENT, V2])
    role = annotated[0].attributes["role"]
    assert role["role"] == "launch"
    assert role["origin"] is None
