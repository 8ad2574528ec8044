"""Test kit for report tests: a small fake agreement and hand-made records.

The map area is a 0.6 x 0.3 degree box around 48 N 30.3 E. The contact line
runs east-west along 48 N; party ``A`` holds the south, ``B`` the north.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

from truceline.model import Coverage, Event, Finding
from truceline.reports import ReportInput

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)

HOSTILE = '<script>alert("x")</script> & <img src="https://evil.example/x.png"> $\\x$'

#: Disengagement zone: 30.1-30.5 E, 47.98-48.02 N.
DZ = box(30.1, 47.98, 30.5, 48.02)


@dataclass(frozen=True)
class FakeAgreement:
    """A minimal agreement implementing :class:`truceline.reports.MapAgreement`."""

    zones: Mapping[str, BaseGeometry]
    contact_line: BaseGeometry = field(
        default_factory=lambda: LineString([(30.0, 48.0), (30.6, 48.0)])
    )
    id: str = "a" * 64
    version: int = 3
    version_id: str = "v3-2026-11-01"
    title: str = "Test ceasefire <agreement>"
    parties: tuple[str, ...] = ("A", "B")

    @property
    def zone_ids(self) -> Sequence[str]:
        return tuple(self.zones)

    def zone_geometry(self, zone_id: str) -> BaseGeometry:
        return self.zones[zone_id]


def default_zones() -> dict[str, BaseGeometry]:
    return {
        "disengagement": DZ,
        "band_A_15km": box(30.0, 47.865, 30.6, 48.0),
        "band_B_15km": box(30.0, 48.0, 30.6, 48.135),
        "site_depot_B": Point(30.3, 48.1),
    }


def make_finding(**overrides: Any) -> Finding:
    """A finding at 30.3 E 48.01 N with 1 km isotropic sigma, overridable per field."""
    base: dict[str, Any] = {
        "event_id": "e" * 64,
        "rule_id": "no-fire-dz",
        "agreement_id": "a" * 64,
        "agreement_version": 3,
        "status": "verified",
        "severity": "serious",
        "kind": "explosion",
        "time": T0 + timedelta(hours=6),
        "time_sigma_s": 1.5,
        "lon": 30.3,
        "lat": 48.01,
        "cov_ee": 1.0e6,
        "cov_en": 0.0,
        "cov_nn": 1.0e6,
        "zone_id": "disengagement",
        "side": "B",
        "party": "B",
        "distance_to_line_m": 1112.0,
        "confidence": 0.93,
        "escalation_level": "guarantors",
        "evidence": ("obs-1", "obs-2", "obs-3"),
        "explanation": "Three acoustic arrays located an explosion inside the zone.",
    }
    base.update(overrides)
    return Finding(**base)


def make_event(kind: str, hours: float) -> Event:
    t = T0 + timedelta(hours=hours)
    return Event(
        kind=kind,
        time=t,
        time_sigma_s=1.0,
        time_start=t,
        time_end=t,
        lon=30.3,
        lat=48.01,
        cov_ee=1e6,
        cov_en=0.0,
        cov_nn=1e6,
        members=("obs-1",),
        sensors=("s1",),
        modalities=("acoustic",),
        independent_sources=1,
        confidence=0.8,
    )


def make_coverage(
    area: BaseGeometry, start: datetime = T0, end: datetime = T1, sensor: str = "drone:D1"
) -> Coverage:
    return Coverage(
        sensor_id=sensor,
        start=start,
        end=end,
        area_wkt=area.wkt,
        detection_probability=0.9,
        target="explosion",
    )


def default_findings() -> list[Finding]:
    return [
        make_finding(),
        make_finding(
            severity="minor",
            escalation_level="none",
            lon=30.45,
            lat=47.95,
            side="A",
            party="A",
            zone_id="band_A_15km",
            rule_id="no-heavy-weapons-15km",
            kind="equipment",
            cov_ee=4.0e6,
            cov_en=1.0e6,
            cov_nn=1.0e6,
            evidence=("obs-9",),
            explanation=HOSTILE,
            status="candidate",
            time=T0 + timedelta(hours=2),
        ),
        make_finding(
            severity="critical",
            escalation_level="immediate",
            lon=30.2,
            lat=48.05,
            cov_ee=2.5e5,
            cov_nn=2.5e5,
            evidence=("obs-4", "obs-5"),
            rule_id="no-shelling",
            kind="impact",
            time=T0 + timedelta(hours=12),
            confidence=0.99,
        ),
    ]


def default_summary() -> dict[str, Any]:
    return {
        "period_start": T0,
        "period_end": "2026-11-03T00:00:00Z",
        "observations": 42,
        "log_size": 1234,
        "root_hash": "ab" * 32,
        "run_digest": "cd" * 32,
        "config_digest": "ef" * 32,
    }


def default_input(agreement: FakeAgreement | None = None) -> ReportInput:
    agreement = agreement or FakeAgreement(zones=default_zones())
    coverage = [
        # West half of the disengagement zone, inside the period.
        make_coverage(box(30.0, 47.9, 30.3, 48.1), sensor="drone:D1"),
        # East half, but a day before the period: must not count.
        make_coverage(
            box(30.3, 47.9, 30.6, 48.1),
            start=T0 - timedelta(days=1),
            end=T0 - timedelta(hours=1),
            sensor="drone:D2",
        ),
    ]
    return ReportInput(
        agreement=agreement,
        findings=default_findings(),
        events=[make_event("explosion", 6), make_event("impact", 12), make_event("equipment", 2)],
        coverage=coverage,
        summary=default_summary(),
        title="Daily report 2026-11-02 <b>draft</b>",
    )


def with_findings(data: ReportInput, findings: Sequence[Finding]) -> ReportInput:
    return replace(data, findings=list(findings))
