"""Attribution of findings: from the launch side, never from where a round landed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from shapely.geometry import LineString

from truceline.agreement import adjudicate, agreement_from_dict, demo_agreement_dict
from truceline.fusion.attribute import UNDETERMINED, annotate_roles, attribute_findings
from truceline.model import Event, LocalFrame

T0 = datetime(2026, 11, 5, 10, tzinfo=UTC)
# A straight north-south contact line at 38 E: west on the left walking north.
AGREEMENT = agreement_from_dict(demo_agreement_dict(LineString([(38.0, 47.0), (38.0, 49.5)])))
FRAME = LocalFrame(38.0, 48.2)


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
    assert judged["impact"]["basis"] == "launch of the paired trajectory"


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
