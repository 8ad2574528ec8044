"""Attribution of findings: who fired, from the launch side of the trajectory.

Launch and impact events are paired into trajectories
(:func:`truceline.ground.trajectory.pair_trajectories`). A finding about fire
is attributed to the party on whose side the **launch** point lies, with the
probability from the launch location's uncertainty ellipse against the contact
line; an impact takes the origin of the launch it is paired with. An impact
with no paired launch is never attributed from where it landed — only the side
it landed on is recorded — and anything below the decision threshold is
``"undetermined"``. Findings about equipment or presence are attributed to the
party whose side of the line they are on (whose territory the weapon is in).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from truceline.agreement import Agreement
from truceline.ground.attribution import OriginSide, RoleAssignment
from truceline.ground.trajectory import TrajectoryConfig, pair_trajectories
from truceline.model.event import Event
from truceline.model.finding import Finding

__all__ = ["UNDETERMINED", "attribute_findings"]

UNDETERMINED = "undetermined"
FIRE_KINDS = frozenset({"explosion", "impact", "launch", "gunfire"})


def _origin_record(origin: OriginSide, basis: str) -> dict[str, Any]:
    return {
        "party": origin.side,
        "probabilities": dict(origin.probabilities),
        "threshold": origin.threshold,
        "basis": basis,
    }


def _fire_attribution(
    role: RoleAssignment | None, roles: dict[str, RoleAssignment]
) -> dict[str, Any]:
    if role is None:
        return {"party": UNDETERMINED, "basis": "no launch or impact role could be assigned"}
    if role.role == "launch" and role.origin is not None:
        return _origin_record(role.origin, "launch location")
    if role.role == "impact":
        for partner in role.paired_with:
            launch = roles.get(partner)
            if launch is not None and launch.origin is not None:
                record = _origin_record(launch.origin, "launch of the paired trajectory")
                record["launch_event_id"] = partner
                record["landed_on"] = role.landed_on
                return record
        return {
            "party": UNDETERMINED,
            "basis": "impact without a located launch: not attributed from where it landed",
            "landed_on": role.landed_on,
        }
    return {"party": UNDETERMINED, "basis": f"role {role.role!r} does not decide the origin"}


def attribute_findings(
    events: Sequence[Event],
    findings: Sequence[Finding],
    agreements: Sequence[Agreement],
    config: TrajectoryConfig | None = None,
) -> list[Finding]:
    """Add ``attributes["attribution"]`` (and ``["role"]`` for fire) to each finding.

    The latest agreement version gives the contact line for the sides.
    """
    if not findings or not agreements:
        return list(findings)
    agreement = max(agreements, key=lambda a: (a.version, a.version_id))
    result = pair_trajectories(
        events, agreement, config or TrajectoryConfig(max_impacts_per_launch=3)
    )
    roles = {role.event_id: role for role in result.roles}
    attributed = []
    for finding in findings:
        extra: dict[str, Any]
        if finding.kind in FIRE_KINDS:
            role = roles.get(finding.event_id)
            extra = {"attribution": _fire_attribution(role, roles)}
            if role is not None:
                extra["role"] = role.to_dict()
        else:
            extra = {
                "attribution": {
                    "party": finding.side or UNDETERMINED,
                    "basis": "side of the contact line it was seen on",
                }
            }
        attributed.append(dataclasses.replace(finding, attributes={**finding.attributes, **extra}))
    return attributed
