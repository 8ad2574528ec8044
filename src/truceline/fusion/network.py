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

Each located source is returned as a :class:`NetworkSource` in geographic
coordinates; the caller turns it into a fusion item (every station counted once
in its confidence, like the local path).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from truceline.ground.associate import AssociatedEvent, AssociationConfig, associate
from truceline.ground.base import Arrival, Atmosphere
from truceline.ground.locate import LocationError, locate
from truceline.model.location import BearingLocation, StationLocation
from truceline.model.observation import Observation

__all__ = ["REGIONAL_CELERITY_MIN_MPS", "REGIONAL_REACH_M", "NetworkSource", "network_sources"]

#: Bearings that reach further than this are regional (infrasound arrays), metres.
REGIONAL_REACH_M = 100_000.0
#: Slowest celerity of the regional configuration, m/s (bounds arrival spreads).
REGIONAL_CELERITY_MIN_MPS = 250.0


@dataclass(frozen=True, slots=True)
class NetworkSource:
    """A source located from regional or TDOA arrivals.

    Attributes
    ----------
    lon, lat
        Position, degrees.
    cov
        ``(ee, en, nn)`` position covariance, m².
    origin_s, origin_sigma_s
        Origin time (epoch seconds) and its standard deviation, seconds.
    members
        Caller's indices of the supporting observations (later phases included), sorted.
    """

    lon: float
    lat: float
    cov: tuple[float, float, float]
    origin_s: float
    origin_sigma_s: float
    members: tuple[int, ...]


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


def _source(
    event: AssociatedEvent, arrivals: dict[str, Arrival], by_id: dict[str, int]
) -> NetworkSource:
    members = [arrivals[m] for m in event.members]
    lon, lat, t, t_sigma = event.lon, event.lat, event.origin_s, event.origin_sigma_s
    cov = (event.cov_m2[0], event.cov_m2[1], event.cov_m2[2])
    try:
        estimate = locate(members, initial=(event.lon, event.lat))
    except LocationError:
        estimate = None
    if estimate is not None and estimate.converged:
        lon, lat = estimate.lon, estimate.lat
        t, t_sigma = estimate.origin_time_s, estimate.origin_sigma_s
        cov = (estimate.cov[0], estimate.cov[1], estimate.cov[2])
    indices = tuple(sorted(by_id[m] for m in (*event.members, *event.later_phases)))
    return NetworkSource(
        lon=float(lon),
        lat=float(lat),
        cov=(float(cov[0]), float(cov[1]), float(cov[2])),
        origin_s=float(t),
        origin_sigma_s=max(float(t_sigma), 0.0) if math.isfinite(t_sigma) else 0.0,
        members=indices,
    )


def network_sources(
    ids: Sequence[str], obs: Sequence[Observation], candidates: Sequence[int]
) -> tuple[list[NetworkSource], list[int]]:
    """Associate and locate regional-array and TDOA arrivals.

    Parameters
    ----------
    ids, obs
        Observation ids and observations (parallel sequences).
    candidates
        Indices of ground arrivals the local associator left unassociated.

    Returns
    -------
    tuple
        Located sources, and the indices still unassociated (sorted).
    """
    regional, tdoa = _partition([(i, obs[i]) for i in candidates])
    used: set[int] = set()
    sources: list[NetworkSource] = []
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
            source = _source(event, arrivals, by_id)
            sources.append(source)
            used.update(source.members)
    leftover = sorted(set(candidates) - used)
    return sources, leftover
