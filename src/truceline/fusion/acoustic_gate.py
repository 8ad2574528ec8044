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

__all__ = ["Detections", "Gated", "PairFit", "chi2_2dof_gate", "fit_pairs", "gate", "pairs"]

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
    info = np.zeros((state.shape[0], 3, 3))
    chi2 = np.zeros(state.shape[0])
    for _ in range(4):
        info = np.zeros((state.shape[0], 3, 3))
        rhs = np.zeros((state.shape[0], 3))
        chi2 = np.zeros(state.shape[0])
        for k in (0, 1):
            idx = both[:, k]
            r, ax, ay, tx, ty = _jacobians(det, idx, state[:, 0], state[:, 1])
            az_var, t_var = det.noise(idx, r, det.floor_m)
            pred_az = np.arctan2(state[:, 0] - det.x[idx], state[:, 1] - det.y[idx])
            ra = _wrap(det.az[idx] - pred_az)
            rt = det.t[idx] - state[:, 2] - r / c
            chi2 += ra * ra / az_var + rt * rt / t_var
            wa, wt = 1.0 / az_var, 1.0 / t_var
            # normal equations JᵀWJ and JᵀWr; rows (ax, ay, 0) and (tx, ty, 1)
            info[:, 0, 0] += wa * ax * ax + wt * tx * tx
            info[:, 0, 1] += wa * ax * ay + wt * tx * ty
            info[:, 1, 1] += wa * ay * ay + wt * ty * ty
            info[:, 0, 2] += wt * tx
            info[:, 1, 2] += wt * ty
            info[:, 2, 2] += wt
            rhs[:, 0] += wa * ax * ra + wt * tx * rt
            rhs[:, 1] += wa * ay * ra + wt * ty * rt
            rhs[:, 2] += wt * rt
        info[:, 1, 0], info[:, 2, 0], info[:, 2, 1] = info[:, 0, 1], info[:, 0, 2], info[:, 1, 2]
        step = np.linalg.solve(info + 1e-12 * np.eye(3), rhs[:, :, None])[:, :, 0]
        shift = np.hypot(step[:, 0], step[:, 1])
        scale = np.minimum(1.0, _MAX_STEP_M / np.maximum(shift, 1e-12))
        step[:, :2] *= scale[:, None]
        step[:, 2] = np.clip(step[:, 2], -_MAX_STEP_S, _MAX_STEP_S)
        state = state + step
    ranges = np.hypot(state[:, 0, None] - det.x[both], state[:, 1, None] - det.y[both])
    keep = (
        np.all(np.isfinite(state), axis=1)
        & (chi2 <= gate_chi2)
        & np.all(ranges <= det.max_range[both] * 1.2, axis=1)
        & (state[:, 2] <= det.t[both].min(axis=1) + 1.0)
    )
    cov = np.linalg.inv(info[keep] + 1e-12 * np.eye(3))
    return PairFit(first[keep], second[keep], state[keep], cov)


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


def gate(
    det: Detections,
    state: FloatArray,
    cov: FloatArray,
    window_s: tuple[float, float],
    gate_chi2: float,
    log_clutter: FloatArray,
    block: int = 256,
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
    """
    c = det.sound_speed
    order = np.argsort(state[:, 2], kind="stable")
    out_p: list[IntArray] = []
    out_d: list[IntArray] = []
    out_l: list[FloatArray] = []
    floor_gate = 4.0 * det.floor_m
    for start in range(0, order.size, block):
        rows = order[start : start + block]
        o = state[rows, 2]
        lo = int(np.searchsorted(det.t, float(o.min()) + window_s[0], side="left"))
        hi = int(np.searchsorted(det.t, float(o.max()) + window_s[1], side="right"))
        if hi <= lo:
            continue
        cols = np.arange(lo, hi)
        px, py = state[rows, 0, None], state[rows, 1, None]
        r, ax, ay, tx, ty = _jacobians(det, cols[None, :], px, py)
        az_var, t_var = det.noise(cols[None, :], r, floor_gate)
        p = cov[rows]
        p00, p01, p02 = p[:, 0, 0, None], p[:, 0, 1, None], p[:, 0, 2, None]
        p11, p12, p22 = p[:, 1, 1, None], p[:, 1, 2, None], p[:, 2, 2, None]
        s_aa = az_var + ax * ax * p00 + 2 * ax * ay * p01 + ay * ay * p11
        pb0 = tx * p00 + ty * p01 + p02
        pb1 = tx * p01 + ty * p11 + p12
        pb2 = tx * p02 + ty * p12 + p22
        s_tt = t_var + tx * pb0 + ty * pb1 + pb2
        s_at = ax * pb0 + ay * pb1
        det_s = np.maximum(s_aa * s_tt - s_at * s_at, 1e-300)
        pred_az = np.arctan2(px - det.x[cols][None, :], py - det.y[cols][None, :])
        nu_a = _wrap(det.az[cols][None, :] - pred_az)
        nu_t = det.t[cols][None, :] - (o[:, None] + r / c)
        d2 = (nu_a * nu_a * s_tt - 2 * nu_a * nu_t * s_at + nu_t * nu_t * s_aa) / det_s
        llr = -0.5 * d2 - math.log(2 * math.pi) - 0.5 * np.log(det_s) - log_clutter[cols][None, :]
        ok = (d2 <= gate_chi2) & (r <= det.max_range[cols][None, :] * 1.2) & (llr > 0)
        pr, dc = np.nonzero(ok)
        out_p.append(rows[pr].astype(np.int64))
        out_d.append(cols[dc].astype(np.int64))
        out_l.append(llr[pr, dc])
    if not out_p:
        empty = np.zeros(0, dtype=np.int64)
        return Gated(empty, empty, np.zeros(0))
    proposal = np.concatenate(out_p)
    detection = np.concatenate(out_d)
    llr_all = np.concatenate(out_l)
    sort = np.lexsort((detection, proposal))
    return Gated(proposal[sort], detection[sort], llr_all[sort])
