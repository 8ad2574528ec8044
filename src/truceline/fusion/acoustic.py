"""Association and location of acoustic detections (bearing + arrival time).

Each acoustic detection is a direction of arrival at a station and an arrival
time. A source at position ``p`` firing at time ``o`` predicts, at station ``s``,
the azimuth ``atan2(p - s)`` and the arrival ``o + |p - s| / c``. Association
works on short, independent time chunks:

1. every pair of detections from different stations whose bearings cross in
   front of both stations within range, and whose times agree, proposes a
   source ``(p, o)`` fitted by least squares, with its covariance
   (:mod:`truceline.fusion.acoustic_gate`, vectorised over all pairs);
2. each proposal gathers the detections (at most one per station) whose
   innovation — azimuth and arrival-time residual against the proposal, with
   the proposal's own uncertainty added — passes a chi-squared gate, scored
   by their log-likelihood ratio against clutter;
3. proposals are taken best score first; each is refitted by Gauss–Newton
   least squares over ``(x, y, o)``, re-gated, and accepted when at least
   ``acoustic_min_stations`` stations support it and the fit passes a
   chi-squared test; its detections are removed;
4. the detections are then reassigned jointly, station by station, to all
   the accepted sources and what that frees is searched again
   (:func:`_reassign`);
5. ghost sources are folded into the source they point at
   (:func:`_absorb_ghosts`): always when that source is weapon fire (rounds
   come in salvos; loud ones are heard beyond a sensor's rated range),
   otherwise only when that explains them better than a source of their own.

The classifiers' labels (launch, impact/explosion, gunfire, other) are evidence,
not constraints: the edge classifier calls thunder ``explosion`` one time in
five and a launch ``explosion`` or ``impact`` one time in four, so requiring
one label per source left half the thunder strokes heard at three stations
unformed. All detections given are associated together; the labels decide
how a source's ghosts are treated (weapon fire comes in salvos) and,
downstream, the source's kind (a confidence-weighted vote). Two stations
determine a position exactly (four equations, three unknowns) with one degree
of freedom to test it, which random crossings pass too often in a busy sector;
three is the default.

The location covariance is the inverse Fisher information of the least-squares
problem, floored by ``acoustic_position_floor_m``. Detections that support no
source (false alarms, sources heard by one station only) stay unassociated.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from truceline.fusion.acoustic_gate import (
    Detections,
    Gated,
    PairFit,
    chi2_2dof_gate,
    fit_pairs,
    gate,
    gate_one,
    pairs,
)
from truceline.fusion.config import FusionConfig

__all__ = ["UNCLASSIFIED", "AcousticDetection", "AcousticSource", "associate_acoustic"]

#: Family of detections that carry no classification (an array beam).
UNCLASSIFIED = "unclassified"
#: Families of weapon fire, whose rounds come in salvos from one position.
SALVO_FAMILIES = frozenset({"launch", "impact", "gunfire"})

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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


class _Chunk:
    """Vectorised view of the detections of one time chunk (sorted by time, then index)."""

    def __init__(self, detections: Sequence[AcousticDetection], config: FusionConfig) -> None:
        self.detections = sorted(detections, key=lambda d: (d.time_s, d.index))
        detections = self.detections
        self.config = config
        self.x = np.array([d.x for d in detections], dtype=float)
        self.y = np.array([d.y for d in detections], dtype=float)
        self.az = np.array([d.azimuth_rad for d in detections], dtype=float)
        self.az_sigma = np.array([d.azimuth_sigma_rad for d in detections], dtype=float)
        self.t = np.array([d.time_s for d in detections], dtype=float)
        self.t_sigma = np.array([d.time_sigma_s for d in detections], dtype=float)
        self.max_range = np.array([d.max_range_m for d in detections], dtype=float)
        self.station = [d.station for d in detections]
        #: Position in the chunk of each caller's index.
        self.position = {d.index: i for i, d in enumerate(detections)}
        names = {name: k for k, name in enumerate(sorted(set(self.station)))}
        self.codes = np.array([names[name] for name in self.station], dtype=np.int64)
        self.arrays = Detections(
            self.x,
            self.y,
            self.az,
            self.az_sigma,
            self.t,
            self.t_sigma,
            self.max_range,
            self.codes,
            config.sound_speed_mps,
            config.sound_speed_sigma_mps,
            config.acoustic_position_floor_m,
        )
        self.gate_chi2 = chi2_2dof_gate(config.gate_sigmas)
        #: Station code of each detection, as Python ints (scalar loops).
        self.code_list: list[int] = self.codes.tolist()
        #: Per detection ``(x, y, azimuth, time, azimuth var, time var)`` for scalar fits.
        self.rows: list[tuple[float, float, float, float, float, float]] = list(
            zip(
                self.x.tolist(),
                self.y.tolist(),
                self.az.tolist(),
                self.t.tolist(),
                (self.az_sigma**2).tolist(),
                (self.t_sigma**2).tolist(),
                strict=True,
            )
        )
        # Clutter: each station's detections spread uniformly over azimuth and
        # over the chunk's span plus one gap (an upper bound on the false rate).
        span = float(self.t[-1] - self.t[0]) + _chunk_gap_s(config) if len(detections) else 1.0
        per_station = np.bincount(self.codes, minlength=len(names)).astype(float)
        self.log_clutter = np.log(per_station[self.codes] / (2 * math.pi * span))

    def window(self) -> tuple[float, float]:
        """Arrivals a source of origin ``o`` could explain: ``[o + lo, o + hi]``, seconds."""
        reach = self.config.acoustic_max_range_m / self.config.sound_speed_mps
        return -10.0, reach * 1.2 + 10.0

    def gate(self, state: FloatArray, cov: FloatArray) -> Gated:
        """Detections in the innovation gate of each of the sources ``state`` (n x 3)."""
        return gate(self.arrays, state, cov, self.window(), self.gate_chi2, self.log_clutter)

    def fit(
        self, members: Sequence[int], px: float, py: float, origin: float
    ) -> tuple[FloatArray, FloatArray, float] | None:
        """Gauss–Newton least squares over (x, y, origin) on the member detections.

        Steps are limited (2 km, 10 s) so a poorly conditioned geometry cannot
        throw the solution far away; a solution out of range of its stations, or
        with an origin after its arrivals, is rejected (``None``). Returns the
        state, its 3x3 covariance and the RMS normalised residual.

        A source has a handful of members (one per station), so the normal
        equations are accumulated in scalars and solved in closed form: small
        numpy calls would cost more than the arithmetic.
        """
        config = self.config
        c = config.sound_speed_mps
        floor2 = config.acoustic_position_floor_m**2
        speed2 = (config.sound_speed_sigma_mps / c**2) ** 2
        rows = [self.rows[i] for i in members]
        sx, sy, so = float(px), float(py), float(origin)
        info = (1.0, 0.0, 0.0, 1.0, 0.0, 1.0)
        rms = 0.0
        two_pi = 2 * math.pi
        for _ in range(8):
            i00 = i01 = i02 = i11 = i12 = i22 = g0 = g1 = g2 = ss = 0.0
            for x, y, az, t, az_var0, t_var0 in rows:
                dx, dy = sx - x, sy - y
                r2 = dx * dx + dy * dy
                if r2 < 1.0:
                    r2 = 1.0
                r = math.sqrt(r2)
                wa = 1.0 / (az_var0 + floor2 / r2)
                wt = 1.0 / (t_var0 + r2 * speed2)
                ra = (az - math.atan2(dx, dy) + math.pi) % two_pi - math.pi
                rt = t - (so + r / c)
                ax, ay = dy / r2, -dx / r2
                rc = r * c
                tx, ty = dx / rc, dy / rc
                i00 += wa * ax * ax + wt * tx * tx
                i01 += wa * ax * ay + wt * tx * ty
                i11 += wa * ay * ay + wt * ty * ty
                i02 += wt * tx
                i12 += wt * ty
                i22 += wt
                g0 += wa * ax * ra + wt * tx * rt
                g1 += wa * ay * ra + wt * ty * rt
                g2 += wt * rt
                ss += wa * ra * ra + wt * rt * rt
            info = (i00, i01, i02, i11, i12, i22)
            step = _solve3(info, (g0, g1, g2), 1e-12)
            if step is None:
                return None
            d0, d1, d2 = step
            shift = math.hypot(d0, d1)
            if shift > 2_000.0:
                d0, d1 = d0 * 2_000.0 / shift, d1 * 2_000.0 / shift
            d2 = min(max(d2, -10.0), 10.0)
            sx, sy, so = sx + d0, sy + d1, so + d2
            rms = math.sqrt(ss / (2 * len(rows)))
            if math.hypot(d0, d1) < 0.5 and abs(d2) < 1e-3:
                break
        if not (math.isfinite(sx) and math.isfinite(sy) and math.isfinite(so)):
            return None
        max_range = self.max_range
        first = math.inf
        for i, (x, y, _, t, _, _) in zip(members, rows, strict=True):
            if math.hypot(sx - x, sy - y) > max_range[i] * 1.2:
                return None
            first = min(first, t)
        if so > first + 1.0:
            return None
        return np.array([sx, sy, so]), _inverse3(info), rms

    def source(
        self, members: Sequence[int], state: FloatArray, cov3: FloatArray, rms: float
    ) -> AcousticSource:
        """The located source of a fit (position covariance floored)."""
        floor = self.config.acoustic_position_floor_m**2
        return AcousticSource(
            x=float(state[0]),
            y=float(state[1]),
            cov=(float(cov3[0, 0]) + floor, float(cov3[0, 1]), float(cov3[1, 1]) + floor),
            origin_s=float(state[2]),
            origin_sigma_s=float(math.sqrt(max(float(cov3[2, 2]), 0.0))),
            members=tuple(sorted(int(self.detections[i].index) for i in members)),
            rms=rms,
        )


def _solve3(
    m: tuple[float, float, float, float, float, float],
    b: tuple[float, float, float],
    ridge: float,
) -> tuple[float, float, float] | None:
    """Solve the symmetric 3x3 system ``(M + ridge I) x = b`` (``M`` as 00, 01, 02, 11, 12, 22)."""
    a00, a01, a02, a11, a12, a22 = m
    a00, a11, a22 = a00 + ridge, a11 + ridge, a22 + ridge
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    det = a00 * c00 + a01 * c01 + a02 * c02
    if not math.isfinite(det) or det == 0.0:
        return None
    c11 = a00 * a22 - a02 * a02
    c12 = a01 * a02 - a00 * a12
    c22 = a00 * a11 - a01 * a01
    b0, b1, b2 = b
    return (
        (c00 * b0 + c01 * b1 + c02 * b2) / det,
        (c01 * b0 + c11 * b1 + c12 * b2) / det,
        (c02 * b0 + c12 * b1 + c22 * b2) / det,
    )


def _inverse3(m: tuple[float, float, float, float, float, float]) -> FloatArray:
    """Inverse of a symmetric 3x3 matrix (the pseudo-inverse if singular)."""
    a00, a01, a02, a11, a12, a22 = m
    full = np.array([[a00, a01, a02], [a01, a11, a12], [a02, a12, a22]])
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    det = a00 * c00 + a01 * c01 + a02 * c02
    scale = max(abs(a00), abs(a11), abs(a22)) ** 3
    if not math.isfinite(det) or abs(det) <= 1e-12 * scale:
        return np.asarray(np.linalg.pinv(full), dtype=float)
    c11 = a00 * a22 - a02 * a02
    c12 = a01 * a02 - a00 * a12
    c22 = a00 * a11 - a01 * a01
    return np.array([[c00, c01, c02], [c01, c11, c12], [c02, c12, c22]]) / det


def _refine_bearings(chunk: _Chunk, source: AcousticSource) -> AcousticSource:
    """Re-locate a salvo from the bearings of all its rounds (times left free).

    Each round of a salvo has its own origin time, so only the directions are
    shared; least squares over the azimuth residuals of every member gives the
    position and its covariance. The origin stays that of the first located round.
    """
    index = chunk.position
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
        jx, jy = dy / r2 / az_sigma, -dx / r2 / az_sigma
        a, b, d = float(jx @ jx), float(jx @ jy), float(jy @ jy)
        info = np.array([[a, b], [b, d]])
        g0, g1 = float(jx @ res), float(jy @ res)
        det = a * d - b * b
        if det > 1e-12 * a * d:  # normal equations in closed form
            step = np.array([(d * g0 - b * g1) / det, (a * g1 - b * g0) / det])
        else:  # bearings nearly parallel: minimum-norm least squares
            step = np.linalg.lstsq(np.column_stack([jx, jy]), res, rcond=None)[0]
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


def _chunk_gap_s(config: FusionConfig) -> float:
    """Time gap (seconds) that separates independent chunks of detections."""
    return config.acoustic_max_range_m / config.sound_speed_mps + 10.0


def _chunks(detections: Sequence[AcousticDetection], gap_s: float) -> list[list[AcousticDetection]]:
    ordered = sorted(detections, key=lambda d: (d.time_s, d.index))
    chunks: list[list[AcousticDetection]] = []
    for det in ordered:
        if chunks and det.time_s - chunks[-1][-1].time_s <= gap_s:
            chunks[-1].append(det)
        else:
            chunks.append([det])
    return chunks


class _Support:
    """Gated detections of every proposal, and the best available one per station."""

    def __init__(self, chunk: _Chunk, gated: Gated, n_proposals: int) -> None:
        self.codes = chunk.codes
        self.gated = gated
        bounds = np.searchsorted(gated.proposal, np.arange(n_proposals + 1), side="left")
        self.bounds = bounds.tolist()
        # Each proposal's gated detections by station, best LLR first (ties: lower
        # detection), so the best available one per station is the first available.
        station = chunk.codes[gated.detection]
        order = np.lexsort((gated.detection, -gated.llr, station, gated.proposal))
        self.sorted = Gated(gated.proposal[order], gated.detection[order], gated.llr[order])
        self.sorted_station = station[order]
        self.detection: list[int] = self.sorted.detection.tolist()
        self.llr: list[float] = self.sorted.llr.tolist()
        self.station: list[int] = self.sorted_station.tolist()

    def initial(self, n_proposals: int, available: BoolArray) -> tuple[FloatArray, IntArray]:
        """Score (summed best available LLR per station) and station count of every proposal."""
        g = self.sorted  # by proposal, station, best LLR first
        keep = available[g.detection]
        if not keep.any():
            return np.zeros(n_proposals), np.zeros(n_proposals, dtype=np.int64)
        p, s, llr = g.proposal[keep], self.sorted_station[keep], g.llr[keep]
        head = np.ones(p.size, dtype=bool)
        head[1:] = (p[1:] != p[:-1]) | (s[1:] != s[:-1])
        weights = llr[head]
        score: FloatArray = np.bincount(p[head], weights=weights, minlength=n_proposals).astype(
            float
        )
        count = np.bincount(p[head], minlength=n_proposals).astype(np.int64)
        return score, count

    def best(self, k: int, available: BoolArray) -> tuple[list[int], float]:
        """Best available detection per station of proposal ``k``, and the summed LLR.

        Members are sorted; the sum runs in station order (as :func:`_best_per_station`).
        """
        members: list[int] = []
        total = 0.0
        taken = -1
        detection, llr, station = self.detection, self.llr, self.station
        for j in range(self.bounds[k], self.bounds[k + 1]):
            code = station[j]
            if code == taken:
                continue
            d = detection[j]
            if available[d]:
                members.append(d)
                total += llr[j]
                taken = code
        members.sort()
        return members, total


def _best_per_station(
    detection: list[int], llr: list[float], codes: list[int], available: BoolArray
) -> tuple[list[int], float]:
    """Per station the available detection of largest LLR; members sorted, and their LLR sum.

    Ties go to the lower detection; the sum runs in station order.
    """
    best: dict[int, tuple[float, int]] = {}
    for d, value in zip(detection, llr, strict=True):
        if not available[d]:
            continue
        code = codes[d]
        held = best.get(code)
        if held is None or value > held[0] or (value == held[0] and d < held[1]):
            best[code] = (value, d)
    total = 0.0
    for code in sorted(best):
        total += best[code][0]
    return sorted(d for _, d in best.values()), total


def _stations(chunk: _Chunk, members: Sequence[int]) -> int:
    return len({int(chunk.codes[m]) for m in members})


def _consistent(chunk: _Chunk, n_members: int, rms: float) -> bool:
    """Whether a fit's misfit is what one source gives (chi-squared test).

    ``n`` detections give ``2n`` residuals for three unknowns; their summed
    squares follow a chi-squared law with ``2n - 3`` degrees of freedom, which
    a true source exceeds with the tail probability of the ``gate_sigmas``
    gate. Detections of different sources that each pass their gate against a
    ghost position rarely fit one position and instant jointly.
    """
    dof = 2 * n_members - 3
    if dof <= 0:
        return True
    return rms * rms * 2 * n_members <= _chi2_bound(chunk.config.gate_sigmas, dof)


@functools.lru_cache(maxsize=256)
def _chi2_bound(gate_sigmas: float, dof: int) -> float:
    """Chi-squared quantile of ``dof`` degrees of freedom at the gate's tail probability."""
    return float(chi2.isf(math.erfc(gate_sigmas / math.sqrt(2.0)), dof))


@dataclass(frozen=True, slots=True)
class _Fit:
    """An accepted source with its chunk-local members and full state covariance."""

    members: tuple[int, ...]
    state: FloatArray
    cov3: FloatArray
    rms: float


def _accept(
    chunk: _Chunk, members: list[int], start: FloatArray, available: BoolArray
) -> _Fit | None:
    """Fit a proposal's support, re-gate with the fit, refit; ``None`` if it fails.

    The refit's covariance is far smaller than the pair's, so the second gate
    drops detections that only the pair's uncertainty admitted and picks up
    better ones it missed.
    """
    need = chunk.config.acoustic_min_stations
    fitted = chunk.fit(members, float(start[0]), float(start[1]), float(start[2]))
    if fitted is None:
        return None
    for _ in range(2):
        state, cov3, rms = fitted
        detection, llr = gate_one(
            chunk.arrays, state, cov3, chunk.window(), chunk.gate_chi2, chunk.log_clutter
        )
        regated, _ = _best_per_station(detection.tolist(), llr.tolist(), chunk.code_list, available)
        if set(regated) == set(members) or _stations(chunk, regated) < need:
            break
        second = chunk.fit(regated, float(state[0]), float(state[1]), float(state[2]))
        if second is None:
            break
        fitted, members = second, regated
    state, cov3, rms = fitted
    if _stations(chunk, members) < need or not _consistent(chunk, len(members), rms):
        return None
    return _Fit(tuple(members), state, cov3, rms)


def _greedy(
    chunk: _Chunk, proposals: PairFit, support: _Support, available: BoolArray
) -> list[_Fit]:
    """Take proposals best score first among ``available`` detections (updated in place).

    Scores are re-evaluated lazily: a popped proposal whose support was used
    since it was ranked goes back with its new score.
    """
    need = chunk.config.acoustic_min_stations
    score, count = support.initial(proposals.state.shape[0], available)
    heap = [(-float(score[k]), k) for k in np.flatnonzero(count >= need).tolist()]
    heapq.heapify(heap)
    found: list[_Fit] = []
    while heap:
        neg, k = heapq.heappop(heap)
        members, value = support.best(k, available)
        if len(members) < need:  # one member per station
            continue
        if value < -neg - 1e-9:  # some support was used since: re-rank
            heapq.heappush(heap, (-value, k))
            continue
        accepted = _accept(chunk, members, proposals.state[k], available)
        if accepted is None:
            continue
        found.append(accepted)
        available[list(accepted.members)] = False
    return found


def _reassign(chunk: _Chunk, fits: list[_Fit]) -> list[_Fit]:
    """Assign the detections of each station jointly to the located sources.

    Greedy acceptance gives a detection to the first source that wants it, even
    when a source accepted later explains it better. Here every station's
    detections and the sources form an assignment problem (each source takes
    at most one detection of a station, each detection at most one source)
    solved for the largest summed log-likelihood ratio; sources are refitted
    on their new members, and those left with too few stations or a misfit
    dissolve.
    """
    need = chunk.config.acoustic_min_stations
    for _ in range(3):
        if not fits:
            return fits
        gated = chunk.gate(np.stack([f.state for f in fits]), np.stack([f.cov3 for f in fits]))
        chosen: list[list[int]] = [[] for _ in fits]
        station = chunk.codes[gated.detection]
        for code in np.unique(station).tolist():
            sel = station == code
            dets, rows = np.unique(gated.detection[sel], return_inverse=True)
            cols = gated.proposal[sel]
            gain = np.zeros((dets.size, len(fits)))
            gain[rows, cols] = gated.llr[sel]
            r, c = linear_sum_assignment(gain, maximize=True)
            for i, j in zip(r.tolist(), c.tolist(), strict=True):
                if gain[i, j] > 0:
                    chosen[j].append(int(dets[i]))
        if all(tuple(sorted(m)) == f.members for m, f in zip(chosen, fits, strict=True)):
            return fits
        updated = []
        for members, fit in zip(chosen, fits, strict=True):
            members = sorted(members)
            if tuple(members) == fit.members:
                updated.append(fit)
                continue
            if _stations(chunk, members) < need:
                continue
            refit = chunk.fit(
                members, float(fit.state[0]), float(fit.state[1]), float(fit.state[2])
            )
            if refit is None or not _consistent(chunk, len(members), refit[2]):
                continue
            updated.append(_Fit(tuple(members), refit[0], refit[1], refit[2]))
        fits = updated
    return fits


def _associate_chunk(chunk: _Chunk) -> list[AcousticSource]:
    """Sources of one chunk: pair proposals, innovation gating, best score first, joint refit.

    Every consistent pair of detections proposes a source with its covariance;
    each proposal's support is, per station, the gated detection of largest
    log-likelihood ratio against clutter, and its score the sum of those
    ratios. Proposals are taken best score first, fitted and re-gated; a
    proposal whose refit keeps at least ``acoustic_min_stations`` stations
    becomes a source. The detections are then reassigned jointly to all the
    sources (:func:`_reassign`), and what that frees is searched again.
    Cross-pairings of the rounds of a salvo are left to :func:`_absorb_ghosts`.
    """
    config = chunk.config
    first, second = pairs(chunk.arrays, 10.0)
    proposals = fit_pairs(chunk.arrays, first, second, config.gate_sigmas**2)
    n = proposals.state.shape[0]
    if n == 0:
        return []
    support = _Support(chunk, chunk.gate(proposals.state, proposals.cov), n)
    available = np.ones(len(chunk.detections), dtype=bool)
    fits = _greedy(chunk, proposals, support, available)
    for _ in range(3):
        fits = _reassign(chunk, fits)
        available[:] = True
        for fit in fits:
            available[list(fit.members)] = False
        more = _greedy(chunk, proposals, support, available)
        if not more:
            break
        fits.extend(more)
    return [chunk.source(f.members, f.state, f.cov3, f.rms) for f in fits]


def _explained_by(chunk: _Chunk, weak: AcousticSource, strong: AcousticSource, fires: bool) -> bool:
    """Whether the bearings of ``weak`` point at ``strong`` (a ghost of its salvo).

    Several rounds fired within seconds from one position (a salvo, a battery)
    give each station several arrivals; pairing arrivals of different rounds at
    different stations makes ghost sources a few kilometres off. Their bearings
    still point at the real position, only their times do not fit one instant.
    ``fires`` says whether ``strong`` is weapon fire (:func:`_fires`).
    """
    window = chunk.config.salvo_window_s
    if window <= 0 or abs(weak.origin_s - strong.origin_s) > window:
        return False
    config = chunk.config
    idx = np.fromiter((chunk.position[m] for m in weak.members), dtype=np.int64)
    dx, dy = strong.x - chunk.x[idx], strong.y - chunk.y[idx]
    r = np.maximum(np.hypot(dx, dy), 1.0)
    off = np.abs(np.asarray(_wrap(chunk.az[idx] - np.arctan2(dx, dy))))
    lateral = np.hypot(r * chunk.az_sigma[idx], config.acoustic_position_floor_m * 4)
    implied = chunk.t[idx] - r / config.sound_speed_mps  # when each round left ``strong``
    # A sensor's ``max_range_m`` is its range for an ordinary source; a heavy
    # rocket salvo is heard half as far again (the demo's attack salvo at
    # 28 km by sensors rated 18-22 km). For weapon fire the detections exist
    # and their bearings and times are the evidence, so range does not veto.
    in_range = r <= chunk.max_range[idx] * 1.2
    hit = (off * r <= config.gate_sigmas * lateral) & (np.abs(implied - strong.origin_s) <= window)
    if not fires:
        hit &= in_range
    if int(hit.sum()) * 3 < 2 * idx.size:
        return False
    if fires:
        return True
    if not bool(in_range.all()):
        return False
    # Without salvos (thunder, unknown sounds) compare the models (Akaike):
    # sounds from ``strong`` (bearings only, one free origin per detection)
    # against a source of its own (bearings and times, three free parameters).
    # A separate source whose own fit is better — a thunder stroke two
    # kilometres from the previous one — is kept.
    az_var = chunk.az_sigma[idx] ** 2 + (config.acoustic_position_floor_m / r) ** 2
    bearing_chi2 = float(np.sum(off * off / az_var))
    n = idx.size
    own_chi2 = weak.rms**2 * 2 * n
    return bearing_chi2 + 2 * n <= own_chi2 + 2 * 3


def _fires(chunk: _Chunk, source: AcousticSource) -> bool:
    """Whether most classified members of ``source`` say weapon fire (salvos possible)."""
    families = [chunk.detections[chunk.position[m]].family for m in source.members]
    weapon = sum(f in SALVO_FAMILIES for f in families)
    other = sum(f not in SALVO_FAMILIES and f != UNCLASSIFIED for f in families)
    return weapon > other


def _absorb_ghosts(chunk: _Chunk, sources: list[AcousticSource]) -> list[AcousticSource]:
    """Fold sources explained by a better-supported one into it (as extra rounds).

    A weaker source is a ghost of a stronger one when, for at least two thirds
    of its detections, the bearing points at the stronger source and the
    arrival fits a round fired from there within ``salvo_window_s`` of it.
    """
    ranked = sorted(sources, key=lambda s: (-len(s.members), s.rms, s.members))
    kept: list[AcousticSource] = []
    fires: list[bool] = []
    grown: set[tuple[int, ...]] = set()
    for source in ranked:
        at = next(
            (j for j, k in enumerate(kept) if _explained_by(chunk, source, k, fires[j])), None
        )
        if at is None:
            kept.append(source)
            fires.append(_fires(chunk, source))
            continue
        host = kept[at]
        merged = AcousticSource(
            x=host.x,
            y=host.y,
            cov=host.cov,
            origin_s=host.origin_s,
            origin_sigma_s=host.origin_sigma_s,
            members=tuple(sorted(host.members + source.members)),
            rms=host.rms,
        )
        kept[at] = merged
        fires[at] = _fires(chunk, merged)
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
    gap = _chunk_gap_s(config)
    sources: list[AcousticSource] = []
    # Labels are evidence, not constraints: the edge classifiers call thunder
    # "explosion" one time in five and a launch "explosion" or "impact" one time
    # in four, so the arrivals of one source often carry two labels. All the
    # detections given here are associated together; the labels decide only
    # how a source's ghosts are treated (salvos) and, downstream, its kind.
    for chunk_detections in _chunks(detections, gap):
        if len({d.station for d in chunk_detections}) >= config.acoustic_min_stations:
            chunk = _Chunk(chunk_detections, config)
            sources.extend(_absorb_ghosts(chunk, _associate_chunk(chunk)))
    used = {m for s in sources for m in s.members}
    unassociated = sorted(d.index for d in detections if d.index not in used)
    sources.sort(key=lambda s: (s.origin_s, s.members))
    return sources, unassociated
