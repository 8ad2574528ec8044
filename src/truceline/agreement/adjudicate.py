"""Judge events against the agreement in force: one candidate finding per broken rule.

For each event the agreement version in force at the event's time is chosen
(per agreement id, the highest version whose effective window contains the
time); then every rule is evaluated: activity kind, weapon class, zone, side of
the contact line, exempt zones, the rule's active window and its minimum
confidence. Geometry is computed once per agreement for all its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from truceline.agreement.model import Agreement
from truceline.agreement.schema import BOTH_SIDES, Rule, When
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.vocab import severity_rank

__all__ = [
    "adjudicate",
    "agreement_in_force",
    "escalation_level",
    "escalation_recipients",
    "policy_level",
]


def agreement_in_force(event_time: Any, agreements: Sequence[Agreement]) -> list[Agreement]:
    """Per agreement id, the highest version in force at ``event_time`` (sorted by id).

    Raises
    ------
    ValueError
        If two different texts claim the same id and version.
    """
    best: dict[str, Agreement] = {}
    for agreement in agreements:
        if not agreement.in_force(event_time):
            continue
        current = best.get(agreement.id)
        if current is None or agreement.version > current.version:
            best[agreement.id] = agreement
        elif agreement.version == current.version and agreement.version_id != current.version_id:
            raise ValueError(
                f"two different texts of agreement {agreement.id!r} version {agreement.version}: "
                f"{current.version_id[:12]}… and {agreement.version_id[:12]}…"
            )
    return [best[key] for key in sorted(best)]


def _matches(when: When, judged_id: str, severity: str, confidence: float, sources: int) -> bool:
    if when.rules is not None and judged_id not in when.rules:
        return False
    if when.min_severity is not None and severity_rank(severity) < severity_rank(when.min_severity):
        return False
    if when.min_confidence is not None and confidence < when.min_confidence:
        return False
    return when.min_sources is None or sources >= when.min_sources


def policy_level(
    agreement: Agreement, judged_id: str, severity: str, confidence: float, sources: int
) -> str:
    """Level the policy gives a finding (first matching entry, else the default).

    Parameters
    ----------
    agreement
        The agreement whose policy applies.
    judged_id
        Id of the broken rule, or of the pattern for a pattern finding
        (matched against ``when.rules``).
    severity
        The rule's or pattern's severity.
    confidence
        The finding's confidence, in [0, 1].
    sources
        Its number of independent sources.
    """
    for entry in agreement.escalation.policy:
        if _matches(entry.when, judged_id, severity, confidence, sources):
            return entry.level
    return agreement.escalation.default


def escalation_level(agreement: Agreement, rule: Rule, confidence: float, sources: int) -> str:
    """Level the policy gives a finding under ``rule`` (see :func:`policy_level`).

    Parameters
    ----------
    agreement
        The agreement whose policy applies.
    rule
        The broken rule (its id and severity are matched).
    confidence
        The event's confidence, in [0, 1].
    sources
        The event's number of independent sources.
    """
    return policy_level(agreement, rule.id, rule.severity, confidence, sources)


def escalation_recipients(agreement: Agreement, level: str) -> list[str]:
    """Who the agreement says is alerted at ``level`` (in the file's order)."""
    if level not in agreement.escalation.levels:
        raise ValueError(
            f"unknown escalation level {level!r}; levels are {agreement.escalation.levels}"
        )
    return list(agreement.escalation.notify.get(level, []))


@dataclass(frozen=True, slots=True)
class _Place:
    """Where one event lies with respect to an agreement."""

    side: str | None
    distance_m: float
    zones: frozenset[str]


def _places(agreement: Agreement, events: Sequence[Event]) -> list[_Place]:
    lons = np.array([e.lon for e in events], dtype=float)
    lats = np.array([e.lat for e in events], dtype=float)
    sides = agreement.side_of_many(lons, lats)
    distances = agreement.distance_to_line_many(lons, lats)
    masks = agreement.zone_masks(lons, lats)
    return [
        _Place(
            side=None if sides[i] is None else str(sides[i]),
            distance_m=float(distances[i]),
            zones=frozenset(z for z, mask in masks.items() if mask[i]),
        )
        for i in range(len(events))
    ]


def _applies(rule: Rule, event: Event, place: _Place) -> bool:
    if event.kind not in rule.activities or event.confidence < rule.min_confidence:
        return False
    window = rule.active
    if window is not None and (
        (window.from_ is not None and event.time < window.from_)
        or (window.until is not None and event.time >= window.until)
    ):
        return False
    if rule.weapon_classes and event.attributes.get("weapon_class") not in rule.weapon_classes:
        return False
    if rule.zone is not None and rule.zone not in place.zones:
        return False
    if rule.sides is not None and place.side not in rule.sides:
        return False
    return not any(zone in place.zones for zone in rule.exempt_zones)


def _bound_party(agreement: Agreement, rule: Rule, place: _Place) -> str | None:
    """The party the rule binds: a one-sided band's owner, else the side of the event."""
    if rule.zone is not None:
        band = agreement.zone(rule.zone).band
        if band is not None and band.side != BOTH_SIDES:
            return band.side
    return place.side


def _explain(agreement: Agreement, rule: Rule, event: Event, place: _Place) -> str:
    what = event.kind.replace("_", " ")
    weapon = event.attributes.get("weapon_class")
    if weapon:
        what += f" ({weapon})"
    ns = "N" if event.lat >= 0 else "S"
    ew = "E" if event.lon >= 0 else "W"
    where = f"{abs(event.lat):.4f}°{ns} {abs(event.lon):.4f}°{ew}"
    side = f"on the {place.side} side" if place.side else "on"
    km = place.distance_m / 1000.0
    text = f"{what.capitalize()} at {where}, {km:.1f} km from the contact line {side}"
    if rule.zone is not None:
        zone = agreement.zone(rule.zone)
        text += f", inside zone {zone.id!r}" + (f" ({zone.name})" if zone.name else "")
    text += f": breaks rule {rule.id!r}"
    if rule.description:
        text += f" ({rule.description})"
    sources = "source" if event.independent_sources == 1 else "sources"
    return (
        f"{text} of {agreement.id} v{agreement.version}; severity {rule.severity}, "
        f"confidence {event.confidence:.2f}, {event.independent_sources} independent {sources}."
    )


def _judge(agreement: Agreement, event: Event, event_id: str, place: _Place) -> list[Finding]:
    findings = []
    for rule in agreement.rules:
        if not _applies(rule, event, place):
            continue
        attributes: dict[str, Any] = {"agreement": agreement.id}
        if "weapon_class" in event.attributes:
            attributes["weapon_class"] = event.attributes["weapon_class"]
        findings.append(
            Finding(
                event_id=event_id,
                rule_id=rule.id,
                agreement_id=agreement.version_id,
                agreement_version=agreement.version,
                status="candidate",
                severity=rule.severity,
                kind=event.kind,
                time=event.time,
                time_sigma_s=event.time_sigma_s,
                lon=event.lon,
                lat=event.lat,
                cov_ee=event.cov_ee,
                cov_en=event.cov_en,
                cov_nn=event.cov_nn,
                zone_id=rule.zone,
                side=place.side,
                party=_bound_party(agreement, rule, place),
                distance_to_line_m=round(place.distance_m, 3),
                confidence=event.confidence,
                escalation_level=escalation_level(
                    agreement, rule, event.confidence, event.independent_sources
                ),
                evidence=tuple(sorted(event.members)),
                explanation=_explain(agreement, rule, event, place),
                attributes=attributes,
            )
        )
    return findings


def adjudicate(events: Sequence[Event], agreements: Sequence[Agreement]) -> list[Finding]:
    """Judge events against the agreement versions in force at their times.

    Parameters
    ----------
    events
        Fused events (times UTC, positions lon/lat degrees).
    agreements
        Every known version of every agreement; for each event and agreement id
        the highest version in force at the event's time judges it. Events no
        agreement covers produce no findings.

    Returns
    -------
    list of Finding
        One candidate finding per (event, broken rule), sorted by event time,
        event id, rule id and agreement version id.
    """
    groups: dict[str, tuple[Agreement, list[tuple[Event, str]]]] = {}
    for event in events:
        for agreement in agreement_in_force(event.time, agreements):
            groups.setdefault(agreement.version_id, (agreement, []))[1].append((event, event.id))
    findings: dict[tuple[Any, ...], Finding] = {}
    for version_id in sorted(groups):
        agreement, members = groups[version_id]
        places = _places(agreement, [event for event, _ in members])
        for (event, event_id), place in zip(members, places, strict=True):
            for finding in _judge(agreement, event, event_id, place):
                # an event given twice yields the same finding twice; keep one
                key = (event.time, event_id, finding.rule_id, version_id)
                findings.setdefault(key, finding)
    return [findings[key] for key in sorted(findings)]
