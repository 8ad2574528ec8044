"""Network association: which arrivals, at which stations, come from one source.

A source at ``p`` (lon, lat) firing at ``o`` (epoch s) predicts, at a station
at geodesic range ``r``, the back azimuth of the geodesic towards ``p`` and the
arrival ``o + r / v``. Near the ground ``v`` is the effective sound speed of the
:class:`~truceline.ground.base.Atmosphere` (wind along the path included) with a
small uncertainty; at regional range infrasound travels through ducts at a
celerity anywhere in an interval (typically 250–340 m/s), modelled as a uniform
prior, i.e. mean the midpoint and standard deviation ``width / sqrt(12)``. Every
residual is normalised by its innovation standard deviation: the measurement's
own sigma plus the hypothesis' position and origin uncertainty projected onto
it, so gates are ``gate_sigmas`` standard deviations wherever the source is.

The algorithm, per chunk of arrivals connected in time:

1. **Hypotheses.** Every pair of bearing arrivals at different stations whose
   geodesics cross in front of both, within range, at an angle of at least
   ``min_crossing_angle_deg``, with compatible implied origin times, seeds a
   source. Arrivals without a bearing (single sensors, TDOA) seed sources from a
   coarse back-projection grid: for each anchor arrival, the grid node where
   the implied origin times of the most distinct stations agree.
2. **Refinement and support.** Each seed is refined by Gauss–Newton least
   squares over (east, north, origin) on geodesic ranges and azimuths; it then
   gathers the best gated arrival of each station, is refined again on them,
   and is scored by the gated log-likelihood ratio against "false alarm":
   ``sum over members and dimensions of (gate² - z²) / 2``.
3. **Global selection.** The hypothesis explaining most (highest score) is
   refined on its support and accepted if it has enough stations (``min_stations``;
   ``min_bearing_stations`` if every member has a bearing and two of them
   cross at a good angle) and redundancy (equations minus 3 unknowns); its
   arrivals leave the pool and every hypothesis that shared one is re-scored
   before the next pick. With ``later_phases`` the remaining arrivals of member
   stations that fit the event (further ducted phases of one source) join it.
4. **Re-assignment.** Each station's arrivals are re-assigned to the accepted
   events by :func:`scipy.optimize.linear_sum_assignment` on the squared
   normalised residuals, with a "false alarm" column per arrival at the gate
   cost, so that overlapping events exchange arrivals optimally; events are
   refitted and any that fall below the acceptance rules are dissolved.

Arrivals are ordered by (time, station, id) first, so the result does not depend
on the input order. Everything physical is SI: metres, seconds, m/s, degrees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from truceline.ground._associate_model import Network, Source, gnomonic_crossing, grid_seeds
from truceline.ground.base import Arrival, Atmosphere

__all__ = ["AssociatedEvent", "AssociationConfig", "AssociationResult", "associate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class AssociationConfig:
    """Settings of :func:`associate`.

    Attributes
    ----------
    celerity_mps
        ``(low, high)`` interval of the propagation speed, m/s, for regional
        (ducted infrasound) networks; ``None`` uses the atmosphere's effective
        sound speed with ``speed_sigma_mps``.
    speed_sigma_mps
        Standard deviation of the local sound speed, m/s.
    gate_sigmas
        Gate on every normalised residual, standard deviations.
    min_stations
        Stations an event needs.
    min_bearing_stations
        Stations an event needs when every member has a back azimuth and two of
        the bearings cross at ``min_crossing_angle_deg`` or more.
    min_crossing_angle_deg
        Smallest angle, degrees, at which two bearings make a usable crossing.
    min_redundancy
        Equations (one per arrival time, one per azimuth) beyond the three
        unknowns an event needs; 2 means time-only events need five stations
        (four make a chance coincidence of false alarms too easy), three
        stations with bearings are enough.
    grid_spacing_m
        Node spacing of the TDOA back-projection grid, metres; ``None`` is 1/40
        of the network's extent.
    later_phases
        Attach further arrivals of a member station that fit the event (ducted
        infrasound arrives in several phases) instead of leaving them unassociated.
    position_floor_m
        Smallest position standard deviation assumed for a hypothesis, metres.
    """

    celerity_mps: tuple[float, float] | None = None
    speed_sigma_mps: float = 3.0
    gate_sigmas: float = 3.0
    min_stations: int = 3
    min_bearing_stations: int = 3
    min_crossing_angle_deg: float = 20.0
    min_redundancy: int = 2
    grid_spacing_m: float | None = None
    later_phases: bool = False
    position_floor_m: float = 10.0

    def __post_init__(self) -> None:
        if self.celerity_mps is not None:
            low, high = self.celerity_mps
            if not 0.0 < low <= high:
                raise ValueError(f"celerity_mps must be 0 < low <= high, got {self.celerity_mps}")
        positive = ("speed_sigma_mps", "gate_sigmas", "position_floor_m")
        for name in positive:
            if not getattr(self, name) > 0.0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.min_stations < 2 or self.min_bearing_stations < 2:
            raise ValueError("min_stations and min_bearing_stations must be at least 2")
        if not 0.0 < self.min_crossing_angle_deg < 90.0:
            raise ValueError("min_crossing_angle_deg must be in (0, 90)")
        if self.min_redundancy < 0:
            raise ValueError(f"min_redundancy must be >= 0, got {self.min_redundancy}")
        if self.grid_spacing_m is not None and not self.grid_spacing_m > 0.0:
            raise ValueError(f"grid_spacing_m must be positive, got {self.grid_spacing_m}")

    @classmethod
    def local(cls) -> AssociationConfig:
        """Single sensors and small arrays kilometres apart (the default)."""
        return cls()

    @classmethod
    def regional(cls) -> AssociationConfig:
        """Infrasound arrays hundreds of km apart: celerity 250–340 m/s, 2 bearings."""
        return cls(
            celerity_mps=(250.0, 340.0),
            min_bearing_stations=2,
            min_redundancy=1,
            later_phases=True,
            position_floor_m=1_000.0,
        )


@dataclass(frozen=True, slots=True)
class AssociatedEvent:
    """One source explaining arrivals at several stations.

    Attributes
    ----------
    members
        Ids of the arrivals used for the location, at most one per station, sorted.
    later_phases
        Ids of further arrivals at member stations that fit the event, sorted.
    lon, lat
        Provisional location, degrees (WGS 84).
    cov_m2
        Position covariance ``(var_east, cov_east_north, var_north)``, m².
    origin_s, origin_sigma_s
        Origin time (epoch seconds, UTC) and its standard deviation, seconds.
    n_stations
        Distinct stations among the members.
    score
        Gated log-likelihood ratio of "one source" against "false alarms".
    rms
        Root-mean-square normalised residual of the members.
    """

    members: tuple[str, ...]
    later_phases: tuple[str, ...]
    lon: float
    lat: float
    cov_m2: tuple[float, float, float]
    origin_s: float
    origin_sigma_s: float
    n_stations: int
    score: float
    rms: float


@dataclass(frozen=True, slots=True)
class AssociationResult:
    """Events, ordered by origin time, and the ids of arrivals no event explains."""

    events: tuple[AssociatedEvent, ...]
    unassociated: tuple[str, ...]


def _validate(arrivals: Sequence[Arrival]) -> list[Arrival]:
    seen: set[str] = set()
    for a in arrivals:
        if a.id in seen:
            raise ValueError(f"arrival id {a.id!r} appears twice")
        seen.add(a.id)
        values = (a.lon, a.lat, a.time_s, a.time_sigma_s, a.max_range_m)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"arrival {a.id!r}: position, time, sigma or range is not finite")
        if a.time_sigma_s <= 0.0 or a.max_range_m <= 0.0:
            raise ValueError(f"arrival {a.id!r}: time_sigma_s and max_range_m must be positive")
        if (a.azimuth_deg is None) != (a.azimuth_sigma_deg is None):
            raise ValueError(f"arrival {a.id!r}: azimuth and its sigma go together")
        if a.azimuth_deg is not None and a.azimuth_sigma_deg is not None:  # noqa: SIM102
            if not (math.isfinite(a.azimuth_deg) and a.azimuth_sigma_deg > 0.0):
                raise ValueError(f"arrival {a.id!r}: azimuth not finite or sigma not positive")
    return sorted(arrivals, key=lambda a: (a.time_s, a.station, a.id))


class _Chunk:
    """Selection state of one time-connected chunk of arrivals."""

    def __init__(self, net: Network, config: AssociationConfig) -> None:
        self.net = net
        self.config = config
        self.available = np.ones(net.n, dtype=bool)

    def accept_rules(self, source: Source, members: IntArray) -> bool:
        net, cfg = self.net, self.config
        if members.size == 0:
            return False
        stations = len(set(net.station_idx[members].tolist()))
        equations = int(members.size + np.count_nonzero(net.has_az[members]))
        if equations - 3 < cfg.min_redundancy:
            return False
        if stations >= cfg.min_stations:
            return True
        if stations < cfg.min_bearing_stations or not bool(np.all(net.has_az[members])):
            return False
        return net.max_crossing_sin(source, members) >= math.sin(
            math.radians(cfg.min_crossing_angle_deg)
        )

    def grow(self, seed: Source, members: IntArray) -> tuple[Source, IntArray, float] | None:
        """Refine, gather support, refine again; ``None`` if it falls apart."""
        net, gate2 = self.net, self.config.gate_sigmas**2
        source = net.refine(seed, members)
        while source is not None and members.size > 2:
            # a seed's members may include an arrival of another source: trim the worst
            excess = net.misfit(source, members, gated=False, fitted=True)
            excess = excess / (1.0 + net.has_az[members]) - gate2
            worst = int(np.argmax(excess))
            if excess[worst] <= 0.0:
                break
            members = np.delete(members, worst)
            source = net.refine(source, members)
        if source is None:
            return None
        for _ in range(2):
            support, score = net.support(source, self.available)
            if support.size < 2:
                return None
            refined = net.refine(source, support)
            if refined is None:
                return None
            source = refined
        support, score = net.support(source, self.available)
        return source, support, score

    def select(self, seeds: list[tuple[Source, IntArray]]) -> list[tuple[Source, IntArray]]:
        """Iterative best-explained extraction with re-scoring after each pick."""
        pool: dict[tuple[int, ...], tuple[Source, IntArray, float]] = {}
        covered: set[tuple[int, int]] = set()
        for seed, members in seeds:
            if members.size == 2 and (int(members[0]), int(members[1])) in covered:
                continue  # this pair already lies in one hypothesis' support
            grown = self.grow(seed, members)
            if grown is None:
                continue
            key = tuple(grown[1].tolist())
            if key not in pool or grown[2] > pool[key][2]:
                pool[key] = grown
            covered.update((i, j) for i in key for j in key if i < j)
        accepted: list[tuple[Source, IntArray]] = []
        hyps = list(pool.values())
        while hyps:
            best = max(range(len(hyps)), key=lambda k: (hyps[k][2], [-m for m in hyps[k][1]]))
            source, support, _ = hyps.pop(best)
            grown = self.grow(source, support)
            if grown is None or not self.accept_rules(grown[0], grown[1]):
                continue
            source, support, _ = grown
            accepted.append((source, support))
            self.available[support] = False
            taken = set(support.tolist())
            for k, (s, members, _) in enumerate(hyps):
                if taken.intersection(members.tolist()):
                    new_members, new_score = self.net.support(s, self.available)
                    hyps[k] = (s, new_members, new_score)
            hyps = [h for h in hyps if h[1].size >= 2]
        return accepted

    def reassign(self, events: list[tuple[Source, IntArray]]) -> list[tuple[Source, IntArray]]:
        """Optimal per-station re-assignment of primary arrivals, then refit."""
        net, gate2 = self.net, self.config.gate_sigmas**2
        if len(events) < 2:
            return events
        primaries = [net.primary(src, members) for src, members in events]
        later = [
            np.setdiff1d(members, prim)
            for (_, members), prim in zip(events, primaries, strict=True)
        ]
        pool = np.union1d(np.concatenate(primaries), np.flatnonzero(self.available))
        pool = np.setdiff1d(pool, np.concatenate(later))
        cost = np.stack([net.misfit(src, pool) for src, _ in events], axis=1)
        new_members: list[list[int]] = [[] for _ in events]
        for station in np.unique(net.station_idx[pool]):
            rows = pool[net.station_idx[pool] == station]
            block = cost[np.isin(pool, rows)]
            dims = 1.0 + net.has_az[rows]
            alarm = np.full((rows.size, rows.size), 1e12)
            np.fill_diagonal(alarm, gate2 * dims)
            r, c = linear_sum_assignment(np.hstack([block, alarm]))
            for i, j in zip(r, c, strict=True):
                if j < len(events):
                    new_members[j].append(int(rows[i]))
        result: list[tuple[Source, IntArray]] = []
        for (src, _), members, extra in zip(events, new_members, later, strict=True):
            idx = np.array(sorted(members), dtype=np.int64)
            refined = net.refine(src, idx) if idx.size >= 2 else None
            if refined is not None and self.accept_rules(refined, idx):
                result.append((refined, np.union1d(idx, extra)))
        return result

    def attach_phases(self, events: list[tuple[Source, IntArray]]) -> list[tuple[Source, IntArray]]:
        """Fold later ducted phases into the strongest event they fit.

        An event whose stations all belong to a stronger event and whose every
        member fits that event (bearing and celerity window) is a later phase
        of it, not a new source; then any still unassociated arrival of a member
        station that fits an event joins it.
        """
        net = self.net
        ranked = sorted(events, key=lambda e: (-e[1].size, tuple(e[1].tolist())))
        kept: list[tuple[Source, IntArray]] = []
        for src, members in ranked:
            stations = set(net.station_idx[members].tolist())
            host = next(
                (
                    k
                    for k, (h_src, h_members) in enumerate(kept)
                    if stations <= set(net.station_idx[h_members].tolist())
                    and bool(np.all(np.isfinite(net.misfit(h_src, members))))
                ),
                None,
            )
            if host is None:
                kept.append((src, members))
            else:
                kept[host] = (kept[host][0], np.union1d(kept[host][1], members))
        self.available[np.concatenate([m for _, m in kept])] = False
        for k, (src, members) in enumerate(kept):
            extra = net.phases(src, members, self.available)
            self.available[extra] = False
            kept[k] = (src, np.union1d(members, extra))
        return kept


def _chunks(arrivals: list[Arrival], config: AssociationConfig) -> list[list[Arrival]]:
    slowest = config.celerity_mps[0] if config.celerity_mps else 300.0
    chunks: list[list[Arrival]] = []
    reach = 0.0
    for a in arrivals:
        if chunks and a.time_s - chunks[-1][-1].time_s <= reach:
            chunks[-1].append(a)
        else:
            chunks.append([a])
        reach = max(x.max_range_m for x in chunks[-1]) / slowest + 10.0
    return chunks


def _seeds(net: Network, config: AssociationConfig) -> list[tuple[Source, IntArray]]:
    seeds: list[tuple[Source, IntArray]] = []
    with_az = np.flatnonzero(net.has_az)
    min_sin = math.sin(math.radians(config.min_crossing_angle_deg))
    for n_i, i in enumerate(with_az):
        for j in with_az[n_i + 1 :]:
            if net.station_idx[i] == net.station_idx[j]:
                continue
            seed = gnomonic_crossing(net, int(i), int(j), min_sin, config.gate_sigmas)
            if seed is not None:
                seeds.append((seed, np.array([i, j], dtype=np.int64)))
    needed = max(config.min_stations, 3 + config.min_redundancy)
    seeds.extend(grid_seeds(net, needed, config.gate_sigmas, config.grid_spacing_m))
    return seeds


def _event(net: Network, source: Source, members: IntArray) -> AssociatedEvent:
    primary = net.primary(source, members)
    later = np.setdiff1d(members, primary)
    z2 = net.misfit(source, primary)
    dims = 1.0 + net.has_az[primary]
    gate2 = net.gate**2
    return AssociatedEvent(
        members=tuple(sorted(net.ids[i] for i in primary)),
        later_phases=tuple(sorted(net.ids[i] for i in later)),
        lon=source.lon,
        lat=source.lat,
        cov_m2=source.cov_m2,
        origin_s=source.origin_s,
        origin_sigma_s=source.origin_sigma_s,
        n_stations=len(set(net.station_idx[primary].tolist())),
        score=float(np.sum(gate2 * dims - z2) / 2.0),
        rms=float(math.sqrt(float(np.sum(z2)) / float(np.sum(dims)))),
    )


_STILL_AIR = Atmosphere()


def associate(
    arrivals: Sequence[Arrival],
    atmosphere: Atmosphere = _STILL_AIR,
    config: AssociationConfig = AssociationConfig(),
) -> AssociationResult:
    """Group arrivals from many stations into events.

    Parameters
    ----------
    arrivals
        Detections (arrival time in epoch seconds, optional back azimuth in
        degrees) from any number of stations; ids must be unique.
    atmosphere
        Near-ground conditions giving the local sound speed (m/s) and wind; not
        used when ``config.celerity_mps`` is set.
    config
        Gates, acceptance rules and the propagation model.

    Returns
    -------
    AssociationResult
        Events (location, origin time, covariance, members) ordered by origin
        time, and the ids of arrivals no event explains, sorted.

    Raises
    ------
    ValueError
        On duplicate ids, non-finite values or non-positive sigmas.
    """
    ordered = _validate(arrivals)
    events: list[AssociatedEvent] = []
    for chunk_arrivals in _chunks(ordered, config):
        if len({a.station for a in chunk_arrivals}) < 2:
            continue
        net = Network(chunk_arrivals, atmosphere, config)
        chunk = _Chunk(net, config)
        accepted = chunk.reassign(chunk.select(_seeds(net, config)))
        if config.later_phases and accepted:
            accepted = chunk.attach_phases(accepted)
        events.extend(_event(net, src, members) for src, members in accepted)
    events.sort(key=lambda e: (e.origin_s, e.members))
    used = {m for e in events for m in (*e.members, *e.later_phases)}
    unassociated = tuple(sorted(a.id for a in ordered if a.id not in used))
    return AssociationResult(events=tuple(events), unassociated=unassociated)
