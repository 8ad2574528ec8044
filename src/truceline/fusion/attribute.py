"""Roles of events and attribution of findings: who fired, from the launch side.

Launch and impact events are paired into trajectories
(:func:`truceline.ground.trajectory.pair_trajectories`). Every explosive event
gets its role (launch / impact / unknown, with probabilities), the events it is
paired with, and — for a launch — the probability that it lies on each party's
side of the contact line, from its location ellipse (``attributes["role"]``).

A finding about fire is attributed to the party on whose side the **launch**
point lies. An impact takes the origin of the launches its trajectory fits,
each weighted by its posterior probability of being the one that fired, with a
share for a launch nobody heard (:mod:`truceline.ground.fired_from`): when
launches on both sides fit, or only a doubtful one does, no party reaches the
threshold. An impact is never attributed from where it landed — only the side
it landed on is recorded — and anything below the decision threshold is
``"undetermined"``. Findings about equipment or presence are attributed to
the party on whose side of the line they are (``attributes["attribution"]``).

Agreements change, and a new version may redraw the contact line: a launch's
side is decided against the line of the version in force when it fired, a
sighting's against the version that judged its finding; each attribution
records that ``agreement_version``.
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
_NO_LINE = "no agreement version in force at the launch time: no contact line to place it by"
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
    ``role["paired_with"]`` lists partners' fusion ids. Each event's side is
    decided against the contact line of the agreement version in force at its
    own time (:func:`~truceline.ground.attribution.contact_line_version`, the
    version adjudication judges it by; recorded as ``agreement_version`` of the
    origin); an event no version covers, or any event without agreements, still
    gets its role but no side.
    """
    if not events:
        return []
    result = pair_trajectories(events, tuple(agreements), config or DEFAULT_TRAJECTORIES)
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
        "agreement_version": origin.get("agreement_version"),
        "basis": basis,
    }


def _fire_attribution(event: Event | None, by_fusion_id: Mapping[str, Event]) -> dict[str, Any]:
    role = None if event is None else event.attributes.get("role")
    if not isinstance(role, Mapping):
        return {"party": UNDETERMINED, "basis": "no launch or impact role could be assigned"}
    if role["role"] == "launch":
        if isinstance(role.get("origin"), Mapping):
            return _origin_record(role["origin"], "launch location")
        return {"party": UNDETERMINED, "basis": _NO_LINE}
    if role["role"] == "impact":
        if isinstance(role.get("fired_from"), Mapping):
            return _impact_attribution(role, role["fired_from"], by_fusion_id)
        return {
            "party": UNDETERMINED,
            "basis": "no agreement version in force at the impact time",
            "landed_on": role.get("landed_on"),
        }
    return {"party": UNDETERMINED, "basis": f"role {role['role']!r} does not decide the origin"}


def _impact_attribution(
    role: Mapping[str, Any], origin: Mapping[str, Any], by_fusion_id: Mapping[str, Event]
) -> dict[str, Any]:
    """Who fired at an impact: its launch's side, over every launch its trajectory fits."""
    launches = [launch for launch, _ in origin["launches"]]
    if not launches:
        return {
            "party": UNDETERMINED,
            "basis": "impact without a located launch: not attributed from where it landed",
            "landed_on": role.get("landed_on"),
        }
    record: dict[str, Any] = {
        "party": origin["side"],
        "probabilities": dict(origin["probabilities"]),
        "threshold": origin["threshold"],
        "basis": "launches its trajectory fits, weighted by their likelihood",
        "launch_candidates": [list(item) for item in origin["launches"]],
        "unseen_launch": origin["unseen"],
        "agreement_versions": list(origin.get("agreement_versions", ())),
        "landed_on": role.get("landed_on"),
    }
    # the likeliest launch (not necessarily the assignment's pick: the direction of
    # fire weighs the posterior only), so the record names the launch behind its party
    likeliest = str(origin["launches"][0][0])
    partner = by_fusion_id.get(likeliest)
    record["launch_event_id"] = partner.id if partner is not None else likeliest
    if origin["side"] == UNDETERMINED:
        record["flag"] = (
            "launches on different sides, or none heard, fit its trajectory: "
            "no party reaches the threshold"
        )
    return record


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
        "agreement_version": agreement.version_id,
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
    lies on (Monte Carlo against the contact line of the agreement version
    that judged the finding, i.e. the one in force at the event's time); a
    sighting that cannot be assigned to a side is flagged as such.
    """
    versions = {agreement.version_id: agreement for agreement in agreements}
    by_id = {event.id: event for event in events}
    by_fusion_id = {str(event.attributes.get("fusion_id", event.id)): event for event in events}
    attributed = []
    for finding in findings:
        if finding.kind in FIRE_KINDS:
            attribution = _fire_attribution(by_id.get(finding.event_id), by_fusion_id)
        else:
            attribution = _position_attribution(
                by_id.get(finding.event_id), versions.get(finding.agreement_id), finding.side
            )
        attributed.append(
            dataclasses.replace(
                finding, attributes={**finding.attributes, "attribution": attribution}
            )
        )
    return attributed
