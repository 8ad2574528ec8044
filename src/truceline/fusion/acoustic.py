"""Association and location of acoustic detections (bearing + arrival time).

Each acoustic detection is a direction of arrival at a station and an arrival
time. A source at position ``p`` firing at time ``o`` predicts, at station ``s``,
the azimuth ``atan2(p - s)`` and the arrival ``o + |p - s| / c``. Association
works on short, independent time chunks:

1. every pair of detections from different stations whose bearings cross in
   front of both stations within range proposes a source ``(p, o)``;
2. each proposal gathers the detections (at most one per station) whose azimuth
   and arrival-time residuals pass the gate;
3. the proposal with the most support (then the smallest normalised misfit) is
   refined by Gauss–Newton least squares over ``(x, y, o)`` and accepted when at
   least ``acoustic_min_stations`` stations support it; its detections are
   removed and the next proposal is taken.

Detections are associated within one signal family (launch, impact/explosion,
gunfire, other) as labelled by the sensors' classifiers: a launch heard at one
station and an impact heard at another are different sources, and crossing
their bearings only makes ghosts. Two stations determine a position exactly
(four equations, three unknowns) with one degree of freedom to test it, which
random crossings pass too often in a busy sector; three is the default.

The location covariance is the inverse Fisher information of the least-squares
problem, floored by ``acoustic_position_floor_m``. Detections that support no
source (false alarms, sources heard by one station only) stay unassociated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from truceline.fusion.config import FusionConfig

__all__ = ["UNCLASSIFIED", "AcousticDetection", "AcousticSource", "associate_acoustic"]

#: Family of detections that carry no classification (an array beam).
UNCLASSIFIED = "unclassified"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class AcousticDetection:
    """One bearing detection in the local metric frame.

    Attributes
    ----------
    index
        Caller's index of the observation.
    station
        Station identifier (detections of one station are never combined).
    x, y
        Station position, metres east/north.
    azimuth_rad, azimuth_sigma_rad
        Back azimuth clockwise from north and its standard deviation, radians.
    time_s, time_sigma_s
        Arrival time (epoch seconds) and its standard deviation, seconds.
    max_range_m
        Largest plausible range, metres.
    family
        Signal family from the sensor's classifier (e.g. ``launch``, ``impact``,
        ``gunfire``, ``other``); only detections of one family are associated.
    """

    index: int
    station: str
    x: float
    y: float
    azimuth_rad: float
    azimuth_sigma_rad: float
    time_s: float
    time_sigma_s: float
    max_range_m: float
    family: str = "any"


@dataclass(frozen=True, slots=True)
class AcousticSource:
    """A located source.

    Attributes
    ----------
    x, y
        Position, metres east/north in the frame.
    cov
        2x2 position covariance, m².
    origin_s, origin_sigma_s
        Origin time (epoch seconds) and its standard deviation, seconds.
    members
        Indices of the supporting detections, sorted.
    rms
        Root-mean-square normalised residual of the fit.
    """

    x: float
    y: float
    cov: tuple[float, float, float]
    origin_s: float
    origin_sigma_s: float
    members: tuple[int, ...]
    rms: float


def _wrap(angle: FloatArray | float) -> FloatArray | float:
    return (np.asarray(angle) + math.pi) % (2 * math.pi) - math.pi


def _cross(a: AcousticDetection, b: AcousticDetection) -> tuple[float, float] | None:
    """Intersection of two bearing rays, or ``None`` if they do not meet in range."""
    ua = (math.sin(a.azimuth_rad), math.cos(a.azimuth_rad))
    ub = (math.sin(b.azimuth_rad), math.cos(b.azimuth_rad))
    det = ua[0] * (-ub[1]) - ua[1] * (-ub[0])
    if abs(det) < math.sin(math.radians(5.0)):
        return None  # nearly parallel: the crossing is ill-conditioned
    dx, dy = b.x - a.x, b.y - a.y
    ta = (dx * (-ub[1]) - dy * (-ub[0])) / det
    tb = (ua[0] * dy - ua[1] * dx) / det
    if not (0 < ta <= a.max_range_m and 0 < tb <= b.max_range_m):
        return None
    return a.x + ta * ua[0], a.y + ta * ua[1]


class _Chunk:
    """Vectorised view of the detections of one time chunk."""

    def __init__(self, detections: Sequence[AcousticDetection], config: FusionConfig) -> None:
        self.detections = list(detections)
        self.config = config
        self.x = np.array([d.x for d in detections])
        self.y = np.array([d.y for d in detections])
        self.az = np.array([d.azimuth_rad for d in detections])
        self.az_sigma = np.array([d.azimuth_sigma_rad for d in detections])
        self.t = np.array([d.time_s for d in detections])
        self.t_sigma = np.array([d.time_sigma_s for d in detections])
        self.max_range = np.array([d.max_range_m for d in detections])
        self.station = [d.station for d in detections]

    def window(self, origin: float) -> slice:
        """Detections that a source at ``origin`` (epoch s) could explain."""
        lo = int(np.searchsorted(self.t, origin - 10.0, side="left"))
        reach = self.config.acoustic_max_range_m / self.config.sound_speed_mps
        hi = int(np.searchsorted(self.t, origin + reach * 1.2 + 10.0, side="right"))
        return slice(lo, hi)

    def support(
        self, px: float, py: float, origin: float, available: npt.NDArray[np.bool_]
    ) -> tuple[list[int], float]:
        """Best detection per station within the gate, and the summed misfit."""
        w = self.window(origin)
        c = self.config.sound_speed_mps
        dx, dy = px - self.x[w], py - self.y[w]
        r = np.hypot(dx, dy)
        lateral_sigma = np.hypot(r * self.az_sigma[w], self.config.acoustic_position_floor_m * 4)
        az_norm = np.abs(np.asarray(_wrap(self.az[w] - np.arctan2(dx, dy)))) * r / lateral_sigma
        t_sigma = np.hypot(self.t_sigma[w], r * self.config.sound_speed_sigma_mps / c**2)
        t_norm = np.abs(self.t[w] - (origin + r / c)) / t_sigma
        gate = self.config.gate_sigmas
        misfit = az_norm**2 + t_norm**2
        ok = available[w] & (az_norm <= gate) & (t_norm <= gate) & (r <= self.max_range[w] * 1.2)
        best: dict[str, int] = {}
        for local in np.flatnonzero(ok):
            i = int(local) + (w.start or 0)
            station = self.station[i]
            if station not in best or misfit[local] < misfit[best[station] - (w.start or 0)]:
                best[station] = i
        members = sorted(best.values())
        total = float(sum(misfit[m - (w.start or 0)] for m in members))
        return members, total if members else math.inf

    def refine(
        self, members: list[int], px: float, py: float, origin: float
    ) -> AcousticSource | None:
        """Gauss–Newton least squares over (x, y, origin) on the member detections.

        Steps are limited (2 km, 10 s) so a poorly conditioned geometry cannot
        throw the solution far away; a solution out of range of its stations, or
        with an origin after its arrivals, is rejected (``None``).
        """
        c = self.config.sound_speed_mps
        idx = np.asarray(members)
        state = np.array([px, py, origin], dtype=float)
        info = np.eye(3)
        rms = 0.0
        for _ in range(8):
            dx, dy = state[0] - self.x[idx], state[1] - self.y[idx]
            r2 = np.maximum(dx * dx + dy * dy, 1.0)
            r = np.sqrt(r2)
            az_sigma = np.hypot(self.az_sigma[idx], self.config.acoustic_position_floor_m / r)
            t_sigma = np.hypot(self.t_sigma[idx], r * self.config.sound_speed_sigma_mps / c**2)
            res_az = np.asarray(_wrap(self.az[idx] - np.arctan2(dx, dy))) / az_sigma
            res_t = (self.t[idx] - (state[2] + r / c)) / t_sigma
            jac_az = np.column_stack([dy / r2, -dx / r2, np.zeros_like(r)]) / az_sigma[:, None]
            jac_t = (
                np.column_stack([dx / (r * c), dy / (r * c), np.ones_like(r)]) / t_sigma[:, None]
            )
            jac = np.vstack([jac_az, jac_t])
            res = np.concatenate([res_az, res_t])
            info = jac.T @ jac
            step = np.linalg.lstsq(jac, res, rcond=None)[0]
            shift = float(np.hypot(step[0], step[1]))
            if shift > 2_000.0:
                step[:2] *= 2_000.0 / shift
            step[2] = float(np.clip(step[2], -10.0, 10.0))
            state = state + step
            rms = float(math.sqrt(float(np.mean(res**2))))
            if float(np.hypot(step[0], step[1])) < 0.5 and abs(float(step[2])) < 1e-3:
                break
        ranges = np.hypot(state[0] - self.x[idx], state[1] - self.y[idx])
        if not np.all(np.isfinite(state)) or np.any(ranges > self.max_range[idx] * 1.2):
            return None
        if state[2] > float(self.t[idx].min()) + 1.0:
            return None
        cov3 = np.linalg.pinv(info)
        floor = self.config.acoustic_position_floor_m**2
        return AcousticSource(
            x=float(state[0]),
            y=float(state[1]),
            cov=(float(cov3[0, 0]) + floor, float(cov3[0, 1]), float(cov3[1, 1]) + floor),
            origin_s=float(state[2]),
            origin_sigma_s=float(math.sqrt(max(float(cov3[2, 2]), 0.0))),
            members=tuple(int(self.detections[i].index) for i in members),
            rms=rms,
        )


def _refine_bearings(chunk: _Chunk, source: AcousticSource) -> AcousticSource:
    """Re-locate a salvo from the bearings of all its rounds (times left free).

    Each round of a salvo has its own origin time, so only the directions are
    shared; least squares over the azimuth residuals of every member gives the
    position and its covariance. The origin stays that of the first located round.
    """
    index = {d.index: i for i, d in enumerate(chunk.detections)}
    idx = np.asarray([index[m] for m in source.members])
    if len({chunk.station[i] for i in idx}) < 2:
        return source
    state = np.array([source.x, source.y], dtype=float)
    info = np.eye(2)
    for _ in range(8):
        dx, dy = state[0] - chunk.x[idx], state[1] - chunk.y[idx]
        r2 = np.maximum(dx * dx + dy * dy, 1.0)
        r = np.sqrt(r2)
        az_sigma = np.hypot(chunk.az_sigma[idx], chunk.config.acoustic_position_floor_m / r)
        res = np.asarray(_wrap(chunk.az[idx] - np.arctan2(dx, dy))) / az_sigma
        jac = np.column_stack([dy / r2, -dx / r2]) / az_sigma[:, None]
        info = jac.T @ jac
        step = np.linalg.lstsq(jac, res, rcond=None)[0]
        shift = float(np.hypot(step[0], step[1]))
        if shift > 2_000.0:
            step *= 2_000.0 / shift
        state = state + step
        if shift < 0.5:
            break
    if not np.all(np.isfinite(state)) or np.hypot(*(state - [source.x, source.y])) > 5_000.0:
        return source
    cov = np.linalg.pinv(info)
    floor = chunk.config.acoustic_position_floor_m**2
    return AcousticSource(
        x=float(state[0]),
        y=float(state[1]),
        cov=(float(cov[0, 0]) + floor, float(cov[0, 1]), float(cov[1, 1]) + floor),
        origin_s=source.origin_s,
        origin_sigma_s=source.origin_sigma_s,
        members=source.members,
        rms=source.rms,
    )


def _chunks(detections: Sequence[AcousticDetection], gap_s: float) -> list[list[AcousticDetection]]:
    ordered = sorted(detections, key=lambda d: (d.time_s, d.index))
    chunks: list[list[AcousticDetection]] = []
    for det in ordered:
        if chunks and det.time_s - chunks[-1][-1].time_s <= gap_s:
            chunks[-1].append(det)
        else:
            chunks.append([det])
    return chunks


def _proposals(chunk: _Chunk) -> list[tuple[float, float, float]]:
    """Candidate sources from crossing bearings of time-compatible detection pairs."""
    config = chunk.config
    c = config.sound_speed_mps
    reach = 2 * config.acoustic_max_range_m / c + 10.0
    proposals: list[tuple[float, float, float]] = []
    dets = chunk.detections
    for i, a in enumerate(dets):
        for j in range(i + 1, len(dets)):
            b = dets[j]
            if b.time_s - a.time_s > reach:
                break
            if a.station == b.station:
                continue
            baseline = math.hypot(b.x - a.x, b.y - a.y)
            if abs(b.time_s - a.time_s) > baseline / c + 10.0:
                continue
            point = _cross(a, b)
            if point is None:
                continue
            ra = math.hypot(point[0] - a.x, point[1] - a.y)
            rb = math.hypot(point[0] - b.x, point[1] - b.y)
            oa, ob = a.time_s - ra / c, b.time_s - rb / c
            tol = config.gate_sigmas * math.hypot(
                math.hypot(a.time_sigma_s, b.time_sigma_s),
                (ra + rb) * config.sound_speed_sigma_mps / c**2,
            )
            if abs(oa - ob) <= tol + 1.0:
                proposals.append((point[0], point[1], (oa + ob) / 2))
    return proposals


def _associate_chunk(chunk: _Chunk) -> list[AcousticSource]:
    n = len(chunk.detections)
    available = np.ones(n, dtype=bool)
    proposals = _proposals(chunk)
    # cached (stations, misfit, members) per live proposal; refreshed lazily
    cache: dict[int, tuple[int, float, list[int]]] = {}
    for k, (px, py, origin) in enumerate(proposals):
        members, misfit = chunk.support(px, py, origin, available)
        cache[k] = (len({chunk.station[m] for m in members}), misfit, members)
    sources: list[AcousticSource] = []
    while cache:
        k = min(cache, key=lambda key: (-cache[key][0], cache[key][1], key))
        stations, _, members = cache.pop(k)
        if stations < chunk.config.acoustic_min_stations:
            break
        px, py, origin = proposals[k]
        source = chunk.refine(members, px, py, origin)
        if source is None:
            continue
        refit, _ = chunk.support(source.x, source.y, source.origin_s, available)
        enough = len({chunk.station[m] for m in refit}) >= chunk.config.acoustic_min_stations
        if enough and set(refit) != set(members):
            second = chunk.refine(refit, source.x, source.y, source.origin_s)
            if second is not None:
                source, members = second, refit
        sources.append(source)
        taken = set(members)
        available[members] = False
        for key in [key for key, value in cache.items() if taken.intersection(value[2])]:
            kx, ky, ko = proposals[key]
            new_members, misfit = chunk.support(kx, ky, ko, available)
            cache[key] = (len({chunk.station[m] for m in new_members}), misfit, new_members)
    return sources


def _explained_by(chunk: _Chunk, weak: AcousticSource, strong: AcousticSource) -> bool:
    """Whether the bearings of ``weak`` point at ``strong`` (a ghost of its salvo).

    Several rounds fired within seconds from one position (a salvo, a battery)
    give each station several arrivals; pairing arrivals of different rounds at
    different stations makes ghost sources a few kilometres off. Their bearings
    still point at the real position, only their times do not fit one instant.
    """
    window = chunk.config.salvo_window_s
    if window <= 0 or abs(weak.origin_s - strong.origin_s) > window:
        return False
    index = {d.index: i for i, d in enumerate(chunk.detections)}
    gate = chunk.config.gate_sigmas
    c = chunk.config.sound_speed_mps
    hits = 0
    for member in weak.members:
        i = index[member]
        dx, dy = strong.x - chunk.x[i], strong.y - chunk.y[i]
        r = math.hypot(dx, dy)
        if r > chunk.max_range[i] * 1.2:
            continue
        miss = abs(float(_wrap(chunk.az[i] - math.atan2(dx, dy)))) * r
        lateral = math.hypot(r * chunk.az_sigma[i], chunk.config.acoustic_position_floor_m * 4)
        implied_origin = chunk.t[i] - r / c  # when this round left the strong position
        hits += miss <= gate * lateral and abs(implied_origin - strong.origin_s) <= window
    return hits * 3 >= 2 * len(weak.members)


def _absorb_ghosts(chunk: _Chunk, sources: list[AcousticSource]) -> list[AcousticSource]:
    """Fold sources explained by a better-supported one into it (as extra rounds).

    A weaker source is a ghost of a stronger one when, for at least two thirds
    of its detections, the bearing points at the stronger source and the
    arrival fits a round fired from there within ``salvo_window_s`` of it.
    """
    ranked = sorted(sources, key=lambda s: (-len(s.members), s.rms, s.members))
    kept: list[AcousticSource] = []
    grown: set[tuple[int, ...]] = set()
    for source in ranked:
        host = next((k for k in kept if _explained_by(chunk, source, k)), None)
        if host is None:
            kept.append(source)
            continue
        merged = AcousticSource(
            x=host.x,
            y=host.y,
            cov=host.cov,
            origin_s=host.origin_s,
            origin_sigma_s=host.origin_sigma_s,
            members=tuple(sorted(host.members + source.members)),
            rms=host.rms,
        )
        kept[kept.index(host)] = merged
        grown.discard(host.members)
        grown.add(merged.members)
    return [_refine_bearings(chunk, k) if k.members in grown else k for k in kept]


def associate_acoustic(
    detections: Sequence[AcousticDetection], config: FusionConfig
) -> tuple[list[AcousticSource], list[int]]:
    """Associate and locate acoustic detections.

    Returns
    -------
    sources
        Located sources, ordered by origin time.
    unassociated
        Indices of detections that support no source, sorted.
    """
    gap = config.acoustic_max_range_m / config.sound_speed_mps + 10.0
    sources: list[AcousticSource] = []
    # Unclassified detections (an array's beam says where from, not what) may
    # join the sources of any family, each at most once.
    unclassified = [d for d in detections if d.family == UNCLASSIFIED]
    taken: set[int] = set()
    for family in sorted({d.family for d in detections} - {UNCLASSIFIED}):
        members = [d for d in detections if d.family == family]
        members += [d for d in unclassified if d.index not in taken]
        for chunk_detections in _chunks(members, gap):
            if len(chunk_detections) >= 2:
                chunk = _Chunk(chunk_detections, config)
                found = _absorb_ghosts(chunk, _associate_chunk(chunk))
                sources.extend(found)
                taken.update(m for source in found for m in source.members)
    used = {m for s in sources for m in s.members}
    unassociated = sorted(d.index for d in detections if d.index not in used)
    sources.sort(key=lambda s: (s.origin_s, s.members))
    return sources, unassociated
