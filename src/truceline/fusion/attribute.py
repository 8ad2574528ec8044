"""Roles of events and attribution of findings: who fired, from the launch side.

Launch and impact events are paired into trajectories
(:func:`truceline.ground.trajectory.pair_trajectories`). Every explosive event
gets its role (launch / impact / unknown, with probabilities), the events it is
paired with, and — for a launch — the probability that it lies on each party's
side of the contact line, from its location ellipse (``attributes["role"]``).

A finding about fire is attributed to the party on whose side the **launch**
point lies; an impact takes the origin of the launch it is paired with. An
impact with no paired launch is never attributed from where it landed — only
the side it landed on is recorded — and anything below the decision threshold
is ``"undetermined"``. Findings about equipment or presence are attributed to
the party on whose side of the line they are (``attributes["attribution"]``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from truceline.agreement import Agreement
from truceline.ground.attribution import decide_side, side_probabilities
from truceline.ground.trajectory import TrajectoryConfig, pair_trajectories
from truceline.model.event import Event
from truceline.model.finding import Finding

__all__ = ["UNDETERMINED", "annotate_roles", "attribute_findings"]

UNDETERMINED = "undetermined"
FIRE_KINDS = frozenset({"explosion", "impact", "launch", "gunfire"})

#: Default pairing: one launch position may feed up to three aim points.
DEFAULT_TRAJECTORIES = TrajectoryConfig(max_impacts_per_launch=3)


def annotate_roles(
    events: Sequence[Event],
    agreements: Sequence[Agreement],
    config: TrajectoryConfig | None = None,
) -> list[Event]:
    """Events with ``attributes["role"]`` for every launch/impact/explosion.

    A paired launch and impact name each other, so they cannot name each
    other's *content* id (each would depend on the other). Every annotated event
    therefore keeps ``attributes["fusion_id"]``, its id before annotation, and
    ``role["paired_with"]`` lists partners' fusion ids. The latest agreement
    version gives the contact line for sides; without one, roles are still
    assigned but no side is given.
    """
    if not events:
        return []
    agreement = max(agreements, key=lambda a: (a.version, a.version_id)) if agreements else None
    result = pair_trajectories(events, agreement, config or DEFAULT_TRAJECTORIES)
    roles = {role.event_id: role.to_dict() for role in result.roles}
    annotated = []
    for event in events:
        role = roles.get(event.id)
        if role is None:
            annotated.append(event)
            continue
        role = {k: v for k, v in role.items() if k != "event_id"}
        if isinstance(role.get("origin"), Mapping):
            role["origin"] = {k: v for k, v in role["origin"].items() if k != "event_id"}
        attributes = {**event.attributes, "fusion_id": event.id, "role": role}
        annotated.append(dataclasses.replace(event, attributes=attributes))
    return annotated


def _origin_record(origin: Mapping[str, Any], basis: str) -> dict[str, Any]:
    return {
        "party": origin["side"],
        "probabilities": dict(origin["probabilities"]),
        "threshold": origin["threshold"],
        "basis": basis,
    }


def _fire_attribution(event: Event | None, by_fusion_id: Mapping[str, Event]) -> dict[str, Any]:
    role = None if event is None else event.attributes.get("role")
    if not isinstance(role, Mapping):
        return {"party": UNDETERMINED, "basis": "no launch or impact role could be assigned"}
    if role["role"] == "launch" and isinstance(role.get("origin"), Mapping):
        return _origin_record(role["origin"], "launch location")
    if role["role"] == "impact":
        for partner_id in role["paired_with"]:
            partner = by_fusion_id.get(partner_id)
            partner_role = None if partner is None else partner.attributes.get("role")
            if isinstance(partner_role, Mapping) and isinstance(
                partner_role.get("origin"), Mapping
            ):
                record = _origin_record(partner_role["origin"], "launch of the paired trajectory")
                record["launch_event_id"] = partner.id if partner is not None else partner_id
                record["landed_on"] = role.get("landed_on")
                return record
        return {
            "party": UNDETERMINED,
            "basis": "impact without a located launch: not attributed from where it landed",
            "landed_on": role.get("landed_on"),
        }
    return {"party": UNDETERMINED, "basis": f"role {role['role']!r} does not decide the origin"}


def _position_attribution(
    event: Event | None, agreement: Agreement | None, fallback: str | None
) -> dict[str, Any]:
    """Whose side a sighting lies on, from its ellipse; undetermined near the line."""
    basis = "side of the contact line it was seen on"
    if event is None or agreement is None:
        return {"party": fallback or UNDETERMINED, "basis": basis}
    sampling = DEFAULT_TRAJECTORIES.side_sampling
    probabilities = side_probabilities(
        event,
        agreement,
        event_id=str(event.attributes.get("fusion_id", event.id)),
        n_samples=sampling.n_samples,
        seed=sampling.seed,
    )
    party = decide_side(probabilities, sampling.threshold)
    record: dict[str, Any] = {
        "party": party,
        "probabilities": probabilities,
        "threshold": sampling.threshold,
        "basis": basis,
    }
    if party == UNDETERMINED:
        record["flag"] = "its location ellipse straddles the contact line: side not assignable"
    return record


def attribute_findings(
    events: Sequence[Event],
    findings: Sequence[Finding],
    agreements: Sequence[Agreement] = (),
) -> list[Finding]:
    """Add ``attributes["attribution"]`` to each finding (events from :func:`annotate_roles`).

    Equipment and presence are attributed to the side their location ellipse
    lies on (Monte Carlo against the latest agreement's contact line); a
    sighting that cannot be assigned to a side is flagged as such.
    """
    agreement = max(agreements, key=lambda a: (a.version, a.version_id)) if agreements else None
    by_id = {event.id: event for event in events}
    by_fusion_id = {str(event.attributes.get("fusion_id", event.id)): event for event in events}
    attributed = []
    for finding in findings:
        if finding.kind in FIRE_KINDS:
            attribution = _fire_attribution(by_id.get(finding.event_id), by_fusion_id)
        else:
            attribution = _position_attribution(
                by_id.get(finding.event_id), agreement, finding.side
            )
        attributed.append(
            dataclasses.replace(
                finding, attributes={**finding.attributes, "attribution": attribution}
            )
        )
    return attributed
