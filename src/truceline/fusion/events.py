"""An associated group of items into an :class:`~truceline.model.event.Event`.

The event's position is the information-weighted mean of its members with their
spread added (:func:`~truceline.fusion.items.merge_position`); its time is that
of its first *instant* (an acoustic origin, a satellite overpass) among its
defining members — an explosive event's window is that of its rounds, a hot
spot seen hours later corroborates it without lengthening it — or, when only
intervals date it (a crater between two images), the middle of their
intersection with the standard deviation of a uniform over it. Its kind and
weapon class are confidence-weighted votes; its confidence comes from
:func:`truceline.fusion.confidence.event_confidence` over the members'
contributions, each source group counted once, mapped through the
configuration's calibration knots (``FusionConfig.confidence_map``) when it
has any; ``p_real`` and ``p_kind`` in its attributes stay unmapped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from truceline.fusion.assign import EXPLOSIVE_FAMILIES
from truceline.fusion.confidence import event_confidence
from truceline.fusion.items import Cov, Item, vote, winner
from truceline.model.event import Event
from truceline.model.timeutil import from_epoch

__all__ = ["EXPLOSIVE_KINDS", "build_event", "explosive_kind"]

EXPLOSIVE_KINDS = frozenset(EXPLOSIVE_FAMILIES)


def explosive_kind(group: Sequence[Item]) -> str:
    """Kind of an explosive episode, voted by its explosive members only."""
    votes: dict[str, float] = {}
    for item in group:
        for key, weight in sorted(item.kind_votes.items()):
            if key in EXPLOSIVE_FAMILIES:
                vote(votes, key, weight)
    return winner(votes)


def _time(group: Sequence[Item]) -> tuple[float, float, float, float]:
    """``(best, sigma, start, end)`` of a group's time, epoch seconds / seconds."""
    primary = [i for i in group if i.kind in EXPLOSIVE_FAMILIES] or list(group)
    instants = [i for i in primary if i.t_hi - i.t_lo <= 1.0] or list(primary)
    first = min(instants, key=lambda i: (i.t, i.members))
    if first.t_hi - first.t_lo > 1.0:
        lo = max(i.t_lo for i in group)
        hi = min(i.t_hi for i in group)
        if hi < lo:
            lo, hi = min(i.t_lo for i in group), max(i.t_hi for i in group)
        best, sigma = (lo + hi) / 2.0, (hi - lo) / math.sqrt(12.0)
    else:
        best, sigma = first.t, first.t_sigma
    return best, sigma, min(i.t_lo for i in instants), max(i.t_hi for i in instants)


def build_event(
    group: Sequence[Item],
    kind: str | None,
    lon: float,
    lat: float,
    cov: Cov,
    *,
    confidence_map: Sequence[tuple[float, float]],
) -> Event:
    """The event of an associated group.

    Parameters
    ----------
    group
        Its items.
    kind
        Its kind, or ``None`` to take the members' vote.
    lon, lat
        Its position (degrees), from the group's merged metric position.
    cov
        Its position covariance ``(ee, en, nn)``, m².
    confidence_map
        Recalibration knots of the final confidence
        (``FusionConfig.confidence_map``; empty: none). Required so that no
        caller can leave a configured calibration out by omission.
    """
    votes: dict[str, float] = {}
    classes: dict[str, float] = {}
    for item in group:
        for key, weight in sorted(item.kind_votes.items()):
            vote(votes, key, weight)
        for key, weight in sorted(item.class_votes.items()):
            vote(classes, key, weight)
    if kind is None:
        kind = winner(votes)
    t_best, t_sigma, t_start, t_end = _time(group)
    members = sorted({m for item in group for m in item.members})
    contributions = [c for item in group for c in item.contributions]
    sensors = sorted({c.sensor for c in contributions})
    modalities = sorted({m for item in group for m in item.modalities})
    kinds = EXPLOSIVE_KINDS if kind in EXPLOSIVE_FAMILIES else frozenset({kind})
    confidence, p_real, p_kind, independent = event_confidence(contributions, kinds, confidence_map)
    total = sum(votes.values()) or 1.0
    attributes: dict[str, object] = {
        "n_observations": len(members),
        "p_real": p_real,
        "p_kind": p_kind,
        "kind_scores": {k: round(v / total, 6) for k, v in sorted(votes.items())},
    }
    if classes:
        class_total = sum(classes.values())
        attributes["weapon_class"] = winner(classes)
        attributes["weapon_class_scores"] = {
            c: round(v / class_total, 6) for c, v in sorted(classes.items())
        }
    if kind == "equipment":
        attributes["count"] = max(item.count for item in group)
    return Event(
        kind=kind,
        time=from_epoch(round(t_best, 3)),
        time_sigma_s=round(t_sigma, 6),
        time_start=from_epoch(round(t_start, 3)),
        time_end=from_epoch(round(t_end, 3)),
        lon=round(lon, 7),
        lat=round(lat, 7),
        cov_ee=round(cov[0], 3),
        cov_en=round(cov[1], 3),
        cov_nn=round(cov[2], 3),
        members=tuple(members),
        sensors=tuple(sensors),
        modalities=tuple(modalities),
        independent_sources=independent,
        confidence=round(confidence, 6),
        attributes=attributes,
    )
