"""Vectorised pieces of the bearing associator: pair proposals and innovation gating.

A *proposal* is a source state ``s = (x, y, o)`` (metres east/north, origin
epoch seconds) with its covariance ``P`` (3x3), fitted by least squares to the
azimuths and arrival times of two detections at different stations. A third
detection ``k`` supports it when its *innovation* — the residual of its azimuth
and arrival time against the prediction from ``s`` — is small compared with
the innovation covariance

    S_k = R_k + J_k P J_kᵀ,

``R_k`` the detection's own noise and ``J_k`` the Jacobian of its prediction.
Gating with ``R_k`` alone, as if the proposal were exact, rejects the true
third station whenever the two bearings cross a kilometre off (4° of azimuth
noise at 15 km), which happens to most proposals of a distant source.

Everything here works on arrays of all pairs or all proposals at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "Detections",
    "Gated",
    "PairFit",
    "chi2_2dof_gate",
    "fit_pairs",
    "gate",
    "gate_one",
    "pairs",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Bearings of a pair closer to parallel than this (sine of the angle) do not cross.
_MIN_CROSSING_SINE = math.sin(math.radians(5.0))
#: Largest position step of one Gauss–Newton iteration, metres.
_MAX_STEP_M = 2_000.0
#: Largest origin-time step of one Gauss–Newton iteration, seconds.
_MAX_STEP_S = 10.0


def chi2_2dof_gate(gate_sigmas: float) -> float:
    """Two-dimensional gate with the tail probability of a ``gate_sigmas`` 1-D gate.

    A 3-sigma gate on one residual rejects 0.27 % of true detections; the
    squared Mahalanobis distance of two residuals (chi-squared, 2 degrees of
    freedom, survival ``exp(-d²/2)``) rejects as many beyond ``-2 ln 0.0027``.
    """
    tail = math.erfc(gate_sigmas / math.sqrt(2.0))
    return -2.0 * math.log(tail)


def _wrap(angle: FloatArray) -> FloatArray:
    return np.asarray((angle + math.pi) % (2 * math.pi) - math.pi, dtype=float)


@dataclass(frozen=True, slots=True)
class Detections:
    """Arrays of one chunk's detections, sorted by arrival time.

    Attributes
    ----------
    x, y
        Station positions, metres.
    az, az_sigma
        Back azimuths and their standard deviations, radians.
    t, t_sigma
        Arrival times (epoch seconds) and their standard deviations, seconds.
    max_range
        Largest plausible range of each detection, metres.
    station
        Integer station code of each detection.
    sound_speed, sound_speed_sigma
        Sound speed and its standard deviation, m/s.
    floor_m
        Standard deviation of unmodelled position errors, metres.
    """

    x: FloatArray
    y: FloatArray
    az: FloatArray
    az_sigma: FloatArray
    t: FloatArray
    t_sigma: FloatArray
    max_range: FloatArray
    station: IntArray
    sound_speed: float
    sound_speed_sigma: float
    floor_m: float

    def noise(self, idx: IntArray, r: FloatArray, floor_m: float) -> tuple[FloatArray, FloatArray]:
        """Variances (rad², s²) of the azimuth and arrival time of ``idx`` at ranges ``r`` (m).

        The azimuth carries the sensor's noise and a lateral floor of
        ``floor_m`` metres; the time the clock and the sound-speed uncertainty
        over the path.
        """
        c = self.sound_speed
        az_var = self.az_sigma[idx] ** 2 + (floor_m / r) ** 2
        t_var = self.t_sigma[idx] ** 2 + (r * self.sound_speed_sigma / c**2) ** 2
        return az_var, t_var


def pairs(det: Detections, gap_s: float) -> tuple[IntArray, IntArray]:
    """All pairs ``(i, j)``, ``i < j``, of detections that one source could explain.

    The two must come from different stations and arrive no further apart
    than the sound needs to cross their baseline, plus ``gap_s`` seconds of
    clock and speed slack.
    """
    n = det.t.size
    reach = 2.0 * float(det.max_range.max(initial=0.0)) * 1.2 / det.sound_speed + gap_s
    hi = np.searchsorted(det.t, det.t + reach, side="right")
    counts = hi - np.arange(n) - 1
    first = np.repeat(np.arange(n), counts)
    offset = np.arange(first.size) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + offset + 1
    baseline = np.hypot(det.x[second] - det.x[first], det.y[second] - det.y[first])
    keep = (det.station[first] != det.station[second]) & (
        det.t[second] - det.t[first] <= baseline / det.sound_speed + gap_s
    )
    return first[keep].astype(np.int64), second[keep].astype(np.int64)


@dataclass(frozen=True, slots=True)
class PairFit:
    """Least-squares sources of detection pairs.

    Attributes
    ----------
    first, second
        The pair's detections.
    state
        ``(n, 3)`` fitted ``(x, y, origin)``: metres, metres, epoch seconds.
    cov
        ``(n, 3, 3)`` covariance of the state (inverse Fisher information).
    """

    first: IntArray
    second: IntArray
    state: FloatArray
    cov: FloatArray


def _crossings(
    det: Detections, a: IntArray, b: IntArray
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Where the bearing rays of ``a`` and ``b`` cross, and whether in front of both in range."""
    uax, uay = np.sin(det.az[a]), np.cos(det.az[a])
    ubx, uby = np.sin(det.az[b]), np.cos(det.az[b])
    cross = uax * (-uby) - uay * (-ubx)
    ok = np.abs(cross) >= _MIN_CROSSING_SINE
    safe = np.where(ok, cross, 1.0)
    dx, dy = det.x[b] - det.x[a], det.y[b] - det.y[a]
    ta = (dx * (-uby) - dy * (-ubx)) / safe
    tb = (uax * dy - uay * dx) / safe
    ok &= (ta > 0) & (ta <= det.max_range[a]) & (tb > 0) & (tb <= det.max_range[b])
    return det.x[a] + ta * uax, det.y[a] + ta * uay, ok


def _jacobians(
    det: Detections, idx: IntArray, px: FloatArray, py: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Range and partial derivatives of predicted azimuth and arrival time at ``(px, py)``.

    Returns ``r, d az/dx, d az/dy, d t/dx, d t/dy`` (``d t/d o`` is 1 and
    ``d az/d o`` is 0).
    """
    dx, dy = px - det.x[idx], py - det.y[idx]
    r2 = np.maximum(dx * dx + dy * dy, 1.0)
    r = np.sqrt(r2)
    c = det.sound_speed
    return r, dy / r2, -dx / r2, dx / (r * c), dy / (r * c)


def fit_pairs(det: Detections, first: IntArray, second: IntArray, gate_chi2: float) -> PairFit:
    """Fit a source to every pair from its crossing; keep the consistent ones.

    Four equations (two azimuths, two times) and three unknowns: a pair whose
    one-degree-of-freedom misfit exceeds ``gate_chi2``, whose fit leaves the
    stations' range or whose origin follows its arrivals is dropped.
    """
    px, py, ok = _crossings(det, first, second)
    first, second, px, py = first[ok], second[ok], px[ok], py[ok]
    c = det.sound_speed
    both = np.stack([first, second], axis=1)
    r0 = np.hypot(px[:, None] - det.x[both], py[:, None] - det.y[both])
    state = np.stack([px, py, np.mean(det.t[both] - r0 / c, axis=1)], axis=1)
    # Both detections of every pair at once (columns 0 and 1); the 3x3 normal
    # equations of every pair are solved in closed form (cofactors).
    bx, by, baz, bt = det.x[both], det.y[both], det.az[both], det.t[both]
    az_var0, t_var0 = det.az_sigma[both] ** 2, det.t_sigma[both] ** 2
    speed2 = (det.sound_speed_sigma / c**2) ** 2
    floor2 = det.floor_m**2
    sx, sy, so = state[:, 0], state[:, 1], state[:, 2]
    chi2 = np.zeros(sx.size)
    info = (chi2, chi2, chi2, chi2, chi2, chi2)
    for _ in range(4):
        dx, dy = sx[:, None] - bx, sy[:, None] - by
        r2 = np.maximum(dx * dx + dy * dy, 1.0)
        r = np.sqrt(r2)
        ax, ay, tx, ty = dy / r2, -dx / r2, dx / (r * c), dy / (r * c)
        wa = 1.0 / (az_var0 + floor2 / r2)
        wt = 1.0 / (t_var0 + r2 * speed2)
        ra = _wrap(baz - np.arctan2(dx, dy))
        rt = bt - so[:, None] - r / c
        chi2 = _pair_sum(ra * ra * wa + rt * rt * wt)
        # normal equations JᵀWJ and JᵀWr; rows (ax, ay, 0) and (tx, ty, 1)
        wax, way, wtx, wty = wa * ax, wa * ay, wt * tx, wt * ty
        info = (
            _pair_sum(wax * ax + wtx * tx),
            _pair_sum(wax * ay + wtx * ty),
            _pair_sum(wtx),
            _pair_sum(way * ay + wty * ty),
            _pair_sum(wty),
            _pair_sum(wt),
        )
        rhs = (
            _pair_sum(wax * ra + wtx * rt),
            _pair_sum(way * ra + wty * rt),
            _pair_sum(wt * rt),
        )
        d0, d1, d2 = _solve_sym3(info, rhs, 1e-12)
        shift = np.hypot(d0, d1)
        scale = np.minimum(1.0, _MAX_STEP_M / np.maximum(shift, 1e-12))
        sx, sy = sx + d0 * scale, sy + d1 * scale
        so = so + np.clip(d2, -_MAX_STEP_S, _MAX_STEP_S)
    state = np.column_stack([sx, sy, so])
    ranges = np.hypot(state[:, 0, None] - det.x[both], state[:, 1, None] - det.y[both])
    keep = (
        np.all(np.isfinite(state), axis=1)
        & (chi2 <= gate_chi2)
        & np.all(ranges <= det.max_range[both] * 1.2, axis=1)
        & (state[:, 2] <= det.t[both].min(axis=1) + 1.0)
    )
    cov = _inverse_sym3(tuple(part[keep] for part in info), 1e-12)
    return PairFit(first[keep], second[keep], state[keep], cov)


def _pair_sum(a: FloatArray) -> FloatArray:
    """Sum over the two detections (columns) of every pair."""
    return np.asarray(a[:, 0] + a[:, 1], dtype=float)


def _cofactors(
    m: tuple[FloatArray, ...], ridge: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Cofactors (00, 01, 02, 11, 12, 22) and determinant of symmetric 3x3 ``M + ridge I``.

    ``m`` holds arrays of the entries 00, 01, 02, 11, 12, 22.
    """
    a00, a01, a02, a11, a12, a22 = m
    a00, a11, a22 = a00 + ridge, a11 + ridge, a22 + ridge
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    c11 = a00 * a22 - a02 * a02
    c12 = a01 * a02 - a00 * a12
    c22 = a00 * a11 - a01 * a01
    det = a00 * c00 + a01 * c01 + a02 * c02
    return c00, c01, c02, c11, c12, c22, det


def _solve_sym3(
    m: tuple[FloatArray, ...], b: tuple[FloatArray, FloatArray, FloatArray], ridge: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Solve ``(M + ridge I) x = b`` for arrays of symmetric 3x3 systems (Cramer's rule)."""
    c00, c01, c02, c11, c12, c22, det = _cofactors(m, ridge)
    b0, b1, b2 = b
    with np.errstate(divide="ignore", invalid="ignore"):
        return (
            (c00 * b0 + c01 * b1 + c02 * b2) / det,
            (c01 * b0 + c11 * b1 + c12 * b2) / det,
            (c02 * b0 + c12 * b1 + c22 * b2) / det,
        )


def _inverse_sym3(m: tuple[FloatArray, ...], ridge: float) -> FloatArray:
    """``(n, 3, 3)`` inverses of symmetric ``M + ridge I`` (entries 00, 01, 02, 11, 12, 22)."""
    c00, c01, c02, c11, c12, c22, det = _cofactors(m, ridge)
    out = np.empty((det.size, 3, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = c00 / det, c01 / det, c02 / det
        out[:, 1, 1], out[:, 1, 2], out[:, 2, 2] = c11 / det, c12 / det, c22 / det
    out[:, 1, 0], out[:, 2, 0], out[:, 2, 1] = out[:, 0, 1], out[:, 0, 2], out[:, 1, 2]
    return out


@dataclass(frozen=True, slots=True)
class Gated:
    """Detections within the gate of proposals, as a sparse list.

    Attributes
    ----------
    proposal, detection
        Index of the proposal and of the detection of each gated pair.
    llr
        Log-likelihood ratio of the detection coming from the proposal rather
        than being clutter (uniform in azimuth and time at its station's rate).
    """

    proposal: IntArray
    detection: IntArray
    llr: FloatArray


def _candidates(
    det: Detections,
    state: FloatArray,
    cov: FloatArray,
    window_s: tuple[float, float],
    gate_chi2: float,
    start: int,
    stop: int,
) -> tuple[IntArray, IntArray]:
    """Pairs (proposal, detection) of proposals ``start:stop`` worth gating exactly.

    A detection can pass the gate only if its time residual alone does:
    ``ν_t² <= gate · S_tt``. At a station of range ``r`` the arrival is due at
    ``o + r / c``, and ``S_tt`` is at most the largest time variance of the
    station's detections plus ``(sqrt(P_xx + P_yy) / c + sqrt(P_oo))²``
    (Cauchy–Schwarz, ``|∂t/∂(x, y)| = 1 / c``). Only the arrivals within that
    bound of the due time — and within the proposal's window — are returned,
    found by binary search per station: a proposal meets a handful of
    arrivals per station instead of every arrival of its two-minute window.
    """
    c = det.sound_speed
    rows = np.arange(start, stop)
    origin = state[rows, 2]
    codes = det.station
    n_st = int(codes.max(initial=-1)) + 1
    order = np.lexsort((det.t, codes))
    sorted_codes, sorted_t = codes[order], det.t[order]
    seg_lo = np.searchsorted(sorted_codes, np.arange(n_st), side="left")
    seg_hi = np.searchsorted(sorted_codes, np.arange(n_st), side="right")
    present = seg_hi > seg_lo
    head = order[np.minimum(seg_lo, codes.size - 1)]
    sx, sy = det.x[head], det.y[head]
    moved = (det.x != sx[codes]) | (det.y != sy[codes])
    t_var_max = np.zeros(n_st)
    np.maximum.at(t_var_max, codes, det.t_sigma**2)
    reach_max = np.zeros(n_st)
    np.maximum.at(reach_max, codes, det.max_range * 1.2)
    if bool(moved.any()):  # a station that moves: every arrival of the window
        first = np.searchsorted(det.t, origin + window_s[0], side="left")
        last = np.searchsorted(det.t, origin + window_s[1], side="right")
        counts = np.maximum(last - first, 0)
        pr = np.repeat(rows, counts)
        offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        return pr.astype(np.int64), (np.repeat(first, counts) + offset).astype(np.int64)
    spread = (np.sqrt(np.maximum(cov[rows, 0, 0] + cov[rows, 1, 1], 0.0)) / c) + np.sqrt(
        np.maximum(cov[rows, 2, 2], 0.0)
    )
    dx, dy = state[rows, 0, None] - sx[None, :], state[rows, 1, None] - sy[None, :]
    r = np.sqrt(np.maximum(dx * dx + dy * dy, 1.0))
    var = t_var_max[None, :] + (r * det.sound_speed_sigma / c**2) ** 2 + spread[:, None] ** 2
    half = np.sqrt(gate_chi2 * var) * (1.0 + 1e-9) + 1e-6
    due = origin[:, None] + r / c
    lo = np.maximum(due - half, origin[:, None] + window_s[0])
    hi = np.minimum(due + half, origin[:, None] + window_s[1])
    # One binary search over (station, time) keys for every (proposal, station).
    t0 = float(sorted_t.min()) - 1.0
    width = float(sorted_t.max()) - t0 + 2.0
    keys = sorted_codes * width + (sorted_t - t0)
    station = np.arange(n_st)[None, :]
    lo_key = station * width + np.clip(lo - t0, 0.0, width - 1.0)
    hi_key = station * width + np.clip(hi - t0, 0.0, width - 1.0)
    a = np.searchsorted(keys, lo_key, side="left")
    b = np.searchsorted(keys, hi_key, side="right")
    ok = (hi >= lo) & present[None, :] & (r <= reach_max[None, :])
    counts = np.where(ok, b - a, 0).ravel()
    counts = np.maximum(counts, 0)
    pr = np.repeat(np.repeat(rows, n_st), counts)
    offset = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = order[np.repeat(a.ravel(), counts) + offset]
    return pr.astype(np.int64), cols.astype(np.int64)


def gate(
    det: Detections,
    state: FloatArray,
    cov: FloatArray,
    window_s: tuple[float, float],
    gate_chi2: float,
    log_clutter: FloatArray,
    block: int = 4096,
) -> Gated:
    """Gate every detection against every proposal through its innovation covariance.

    Parameters
    ----------
    det
        The chunk's detections.
    state, cov
        ``(n, 3)`` proposals and their ``(n, 3, 3)`` covariances.
    window_s
        Arrivals considered for a proposal of origin ``o``: ``[o + lo, o + hi]``, seconds.
    gate_chi2
        Largest squared Mahalanobis distance of the innovation.
    log_clutter
        Per detection, log of its station's clutter density, per radian per second.
    block
        Proposals processed together (bounds memory).

    Returns
    -------
    Gated
        The gated pairs, sorted by proposal then detection.
    """
    c = det.sound_speed
    out_p: list[IntArray] = []
    out_d: list[IntArray] = []
    out_l: list[FloatArray] = []
    floor_gate = 4.0 * det.floor_m
    cov_00, cov_01, cov_02 = cov[:, 0, 0], cov[:, 0, 1], cov[:, 0, 2]
    cov_11, cov_12, cov_22 = cov[:, 1, 1], cov[:, 1, 2], cov[:, 2, 2]
    step = max(1, block)
    for start in range(0, state.shape[0], step):
        stop = min(start + step, state.shape[0])
        rows, cols = _candidates(det, state, cov, window_s, gate_chi2, start, stop)
        if rows.size == 0:
            continue
        px, py = state[rows, 0], state[rows, 1]
        dx, dy = px - det.x[cols], py - det.y[cols]
        r2 = np.maximum(dx * dx + dy * dy, 1.0)
        reach = det.max_range[cols] * 1.2
        near = r2 <= reach * reach
        rows, cols, dx, dy, r2 = rows[near], cols[near], dx[near], dy[near], r2[near]
        r = np.sqrt(r2)
        tx, ty = dx / (r * c), dy / (r * c)
        t_var = det.t_sigma[cols] ** 2 + (r * det.sound_speed_sigma / c**2) ** 2
        p00, p01, p02 = cov_00[rows], cov_01[rows], cov_02[rows]
        p11, p12, p22 = cov_11[rows], cov_12[rows], cov_22[rows]
        pb0 = tx * p00 + ty * p01 + p02
        pb1 = tx * p01 + ty * p11 + p12
        pb2 = tx * p02 + ty * p12 + p22
        s_tt = t_var + tx * pb0 + ty * pb1 + pb2
        nu_t = det.t[cols] - (state[rows, 2] + r / c)
        # The 2-D distance is at least the time residual's own (ν_t² / S_tt):
        # most pairs fail on time alone, before any azimuth is computed.
        timely = nu_t * nu_t <= gate_chi2 * s_tt
        rows, cols, dx, dy, r2, r = (
            rows[timely],
            cols[timely],
            dx[timely],
            dy[timely],
            r2[timely],
            r[timely],
        )
        tx, ty, pb0, pb1, s_tt, nu_t = (
            tx[timely],
            ty[timely],
            pb0[timely],
            pb1[timely],
            s_tt[timely],
            nu_t[timely],
        )
        p00, p01, p11 = p00[timely], p01[timely], p11[timely]
        ax, ay = dy / r2, -dx / r2
        az_var = det.az_sigma[cols] ** 2 + (floor_gate / r) ** 2
        s_aa = az_var + ax * ax * p00 + 2 * ax * ay * p01 + ay * ay * p11
        s_at = ax * pb0 + ay * pb1
        det_s = np.maximum(s_aa * s_tt - s_at * s_at, 1e-300)
        nu_a = _wrap(det.az[cols] - np.arctan2(dx, dy))
        d2 = (nu_a * nu_a * s_tt - 2 * nu_a * nu_t * s_at + nu_t * nu_t * s_aa) / det_s
        llr = -0.5 * d2 - math.log(2 * math.pi) - 0.5 * np.log(det_s) - log_clutter[cols]
        ok = (d2 <= gate_chi2) & (llr > 0)
        out_p.append(rows[ok].astype(np.int64))
        out_d.append(cols[ok].astype(np.int64))
        out_l.append(llr[ok])
    if not out_p:
        empty = np.zeros(0, dtype=np.int64)
        return Gated(empty, empty, np.zeros(0))
    proposal = np.concatenate(out_p)
    detection = np.concatenate(out_d)
    llr_all = np.concatenate(out_l)
    sort = np.lexsort((detection, proposal))
    return Gated(proposal[sort], detection[sort], llr_all[sort])


def gate_one(
    det: Detections,
    state: FloatArray,
    cov: FloatArray,
    window_s: tuple[float, float],
    gate_chi2: float,
    log_clutter: FloatArray,
) -> tuple[IntArray, FloatArray]:
    """:func:`gate` for one source: its gated detections (ascending) and their LLRs.

    The same arithmetic on one-dimensional arrays, without the bookkeeping of
    many proposals (one source is re-gated after every fit).
    """
    c = det.sound_speed
    o = float(state[2])
    lo = int(np.searchsorted(det.t, o + window_s[0], side="left"))
    hi = int(np.searchsorted(det.t, o + window_s[1], side="right"))
    if hi <= lo:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    x, y = det.x[lo:hi], det.y[lo:hi]
    dx, dy = float(state[0]) - x, float(state[1]) - y
    r2 = np.maximum(dx * dx + dy * dy, 1.0)
    r = np.sqrt(r2)
    ax, ay = dy / r2, -dx / r2
    tx, ty = dx / (r * c), dy / (r * c)
    floor_gate = 4.0 * det.floor_m
    az_var = det.az_sigma[lo:hi] ** 2 + (floor_gate / r) ** 2
    t_var = det.t_sigma[lo:hi] ** 2 + (r * det.sound_speed_sigma / c**2) ** 2
    p00, p01, p02 = float(cov[0, 0]), float(cov[0, 1]), float(cov[0, 2])
    p11, p12, p22 = float(cov[1, 1]), float(cov[1, 2]), float(cov[2, 2])
    s_aa = az_var + ax * ax * p00 + 2 * ax * ay * p01 + ay * ay * p11
    pb0 = tx * p00 + ty * p01 + p02
    pb1 = tx * p01 + ty * p11 + p12
    pb2 = tx * p02 + ty * p12 + p22
    s_tt = t_var + tx * pb0 + ty * pb1 + pb2
    s_at = ax * pb0 + ay * pb1
    det_s = np.maximum(s_aa * s_tt - s_at * s_at, 1e-300)
    nu_a = _wrap(det.az[lo:hi] - np.arctan2(dx, dy))
    nu_t = det.t[lo:hi] - (o + r / c)
    d2 = (nu_a * nu_a * s_tt - 2 * nu_a * nu_t * s_at + nu_t * nu_t * s_aa) / det_s
    llr = -0.5 * d2 - math.log(2 * math.pi) - 0.5 * np.log(det_s) - log_clutter[lo:hi]
    ok = (d2 <= gate_chi2) & (r <= det.max_range[lo:hi] * 1.2) & (llr > 0)
    keep = np.flatnonzero(ok)
    return (keep + lo).astype(np.int64), llr[keep]
