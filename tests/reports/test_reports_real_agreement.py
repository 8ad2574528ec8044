"""The real :class:`truceline.agreement.Agreement` satisfies the report's protocol."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import LineString, box

from reports.reports_testkit import T0, T1, make_coverage, make_finding
from truceline.agreement import agreement_from_dict, demo_agreement_dict
from truceline.reports import MapAgreement, ReportInput, write_report


def test_report_from_the_demo_agreement(tmp_path: Path) -> None:
    line = LineString([(30.0, 48.0), (30.3, 48.05), (30.6, 48.0)])
    agreement = agreement_from_dict(demo_agreement_dict(line))
    as_protocol: MapAgreement = agreement  # checked by mypy: the real class fits
    findings = [
        make_finding(lon=30.3, lat=48.06, escalation_level="attack", agreement_id=agreement.id),
        make_finding(lon=30.1, lat=47.9, escalation_level="log", severity="minor"),
    ]
    data = ReportInput(
        agreement=as_protocol,
        findings=findings,
        events=[],
        coverage=[make_coverage(box(30.0, 47.9, 30.3, 48.2))],
        summary={"period_start": T0, "period_end": T1, "log_size": 7},
        title="Demo",
        escalation_levels=agreement.escalation.levels,
    )
    page = write_report(tmp_path, data).html.read_text(encoding="utf-8")
    for zone_id in ("disengagement", "west-15km", "east-15km"):
        assert f"of zone {zone_id} (" in page
    assert agreement.version_id in page
    assert page.count('<tr id="finding-') == 2
    assert page.count('class="escalated"') == 1
