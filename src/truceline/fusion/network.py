"""Ground arrivals the local bearing associator cannot use: regional arrays and TDOA.

The demo-scale acoustic network (direction-finding sensors within tens of km)
is handled by :mod:`truceline.fusion.acoustic`. What it leaves unassociated is
passed here:

* **regional infrasound arrays** (bearings with a reach of hundreds of km):
  associated with :func:`truceline.ground.associate.associate` in its regional
  configuration (celerity 250–340 m/s) and located with
  :func:`truceline.ground.locate.locate`, whose propagation model carries the
  celerity uncertainty into the ellipse;
* **single sensors without direction** (arrival times only): associated by
  time differences in the local configuration and located the same way.

Each located source becomes a fusion item whose confidence counts every
station once, like the local path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from truceline.fusion.confidence import Contribution
from truceline.fusion.items import Item, vote
from truceline.ground.associate import AssociatedEvent, AssociationConfig, associate
from truceline.ground.base import Arrival, Atmosphere
from truceline.ground.locate import LocationError, locate
from truceline.model.geo import LocalFrame
from truceline.model.location import BearingLocation, StationLocation
from truceline.model.observation import Observation

__all__ = ["REGIONAL_REACH_M", "network_items"]

#: Bearings that reach further than this are regional (infrasound arrays), metres.
REGIONAL_REACH_M = 100_000.0


def _partition(
    observations: Sequence[tuple[int, Observation]],
) -> tuple[list[int], list[int]]:
    regional: list[int] = []
    tdoa: list[int] = []
    for index, obs in observations:
        loc = obs.location
        if isinstance(loc, BearingLocation) and loc.max_range_m > REGIONAL_REACH_M:
            regional.append(index)
        elif isinstance(loc, StationLocation):
            tdoa.append(index)
    return regional, tdoa


def _item(
    event: AssociatedEvent,
    arrivals: dict[str, Arrival],
    by_id: dict[str, int],
    obs: Sequence[Observation],
    frame: LocalFrame,
    contribution: Callable[[Observation], Contribution],
) -> Item:
    members = [arrivals[m] for m in event.members]
    lon, lat, t, t_sigma = event.lon, event.lat, event.origin_s, event.origin_sigma_s
    cov = np.array([[event.cov_m2[0], event.cov_m2[1]], [event.cov_m2[1], event.cov_m2[2]]])
    try:
        estimate = locate(members, initial=(event.lon, event.lat))
    except LocationError:
        estimate = None
    if estimate is not None and estimate.converged:
        lon, lat = estimate.lon, estimate.lat
        t, t_sigma = estimate.origin_time_s, estimate.origin_sigma_s
        cov = np.array([[estimate.cov[0], estimate.cov[1]], [estimate.cov[1], estimate.cov[2]]])
    x, y = frame.point_to_local(lon, lat)
    indices = sorted(by_id[m] for m in (*event.members, *event.later_phases))
    votes: dict[str, float] = {}
    contributions = []
    for index in indices:
        c = contribution(obs[index])
        if c.classifies:
            vote(votes, c.kind, max(c.confidence * c.reliability, 1e-6))
        contributions.append(c)
    kind = min(votes, key=lambda k: (-votes[k], k)) if votes else "other"
    return Item(
        kind=kind,
        x=x,
        y=y,
        cov=cov,
        t=t,
        t_sigma=max(t_sigma, 0.0) if math.isfinite(t_sigma) else 0.0,
        t_lo=t,
        t_hi=t,
        members=indices,
        contributions=contributions,
        kind_votes=votes,
        modalities={obs[i].modality for i in indices},
    )


def network_items(
    ids: Sequence[str],
    obs: Sequence[Observation],
    candidates: Sequence[int],
    frame: LocalFrame,
    contribution: Callable[[Observation], Contribution],
) -> tuple[list[Item], list[int]]:
    """Associate and locate regional-array and TDOA arrivals.

    Parameters
    ----------
    ids, obs
        Observation ids and observations of the run (parallel sequences).
    candidates
        Indices of ground arrivals the local associator left unassociated.
    frame
        The run's metric frame.
    contribution
        Maps an observation to its say in an event's confidence.

    Returns
    -------
    tuple
        Items of located sources, and the indices still unassociated.
    """
    regional, tdoa = _partition([(i, obs[i]) for i in candidates])
    used: set[int] = set()
    items: list[Item] = []
    for indices, config in (
        (regional, AssociationConfig.regional()),
        (tdoa, AssociationConfig.local()),
    ):
        arrivals: dict[str, Arrival] = {}
        by_id: dict[str, int] = {}
        for index in indices:
            arrival = Arrival.from_observation(ids[index], obs[index])
            if arrival is not None:
                arrivals[arrival.id] = arrival
                by_id[arrival.id] = index
        if len({a.station for a in arrivals.values()}) < 2:
            continue
        result = associate(list(arrivals.values()), Atmosphere(), config)
        for event in result.events:
            item = _item(event, arrivals, by_id, obs, frame, contribution)
            items.append(item)
            used.update(item.members)
    leftover = sorted(set(candidates) - used)
    return items, leftover
