"""Hand-made truths, fused events and findings for the scoring tests (local metres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.geo import LocalFrame
from truceline.model.timeutil import format_utc

#: The frame every hand-made truth names.
FRAME = LocalFrame(38.0, 48.0)
#: Start of the hand-made scenarios.
T0 = datetime(2026, 11, 2, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def true_event(
    event_id: str,
    kind: str,
    x: float,
    y: float,
    t: float,
    t_end: float | None = None,
    *,
    observed: dict[str, int] | None = None,
    violation: bool = False,
    party: str | None = None,
    escalate: bool = False,
) -> dict[str, Any]:
    """A ``truth.json`` event at local ``(x, y)`` metres, ``t`` seconds after ``T0``."""
    lon, lat = FRAME.point_to_geo(x, y)
    record: dict[str, Any] = {"id": event_id, "kind": kind, "time": format_utc(at(t))}
    if t_end is not None:
        record["time_end"] = format_utc(at(t_end))
    record |= {
        "lon": lon,
        "lat": lat,
        "party": party,
        "violation": violation,
        "rules": ["no-fire"] if violation else [],
        "escalate": escalate,
        "observed": {"firms_pixels": 1} if observed is None else observed,
    }
    return record


def truth(*events: dict[str, Any]) -> dict[str, Any]:
    """A truth document holding ``events``."""
    return {
        "format": "truceline-truth/1",
        "frame": {"lon0": FRAME.lon0, "lat0": FRAME.lat0},
        "events": list(events),
        "violations": [e["id"] for e in events if e["violation"]],
        "escalations": [e["id"] for e in events if e["escalate"]],
    }


def fused(
    kind: str,
    x: float,
    y: float,
    t: float,
    t_end: float | None = None,
    *,
    modalities: tuple[str, ...] = ("acoustic",),
    attributes: dict[str, Any] | None = None,
) -> Event:
    """A fused event at local ``(x, y)`` metres over ``[t, t_end]`` seconds after ``T0``."""
    lon, lat = FRAME.point_to_geo(x, y)
    return Event(
        kind=kind,
        time=at(t),
        time_sigma_s=1.0,
        time_start=at(t),
        time_end=at(t if t_end is None else t_end),
        lon=lon,
        lat=lat,
        cov_ee=100.0,
        cov_en=0.0,
        cov_nn=100.0,
        members=(f"obs-{kind}-{x}-{y}-{t}",),
        sensors=("s1",),
        modalities=modalities,
        independent_sources=1,
        confidence=0.9,
        attributes=attributes or {},
    )


def finding(event: Event, *, level: str = "notify", party: str | None = None) -> Finding:
    """A ``no-fire`` finding on ``event``, escalated to ``level``, attributed to ``party``."""
    attribution = {} if party is None else {"attribution": {"party": party}}
    return Finding(
        event_id=event.id,
        rule_id="no-fire",
        agreement_id="agreement",
        agreement_version=1,
        status="candidate",
        severity="serious",
        kind=event.kind,
        time=event.time,
        time_sigma_s=1.0,
        lon=event.lon,
        lat=event.lat,
        cov_ee=100.0,
        cov_en=0.0,
        cov_nn=100.0,
        zone_id=None,
        side="east",
        party=None,
        distance_to_line_m=5000.0,
        confidence=0.9,
        escalation_level=level,
        evidence=event.members,
        explanation="hand-made",
        attributes=attribution,
    )
