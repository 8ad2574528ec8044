"""Joint location of a source (position and origin time) from its arrivals.

Each arrival gives an arrival time and, for arrays, a back azimuth. A source at
``(lon, lat)`` firing at ``t0`` predicts ``t0 + T(r)`` and the geodesic azimuth
from the station to the source (:mod:`truceline.ground.propagation`). The
residuals, normalised by ``hypot(pick sigma, model sigma)``, are minimised by
Gauss–Newton on the geodesic model with steps in metres east/north at the
current source, moved with ``Geod.fwd`` — exact at any range, so the same code
serves local networks (km) and regional arrays (hundreds of km).

* **Initialisation** (:func:`initial_guess`): the crossings of every pair of
  bearings, plus a coarse grid over three times the network's extent, scored by
  the robust negative log-likelihood (Huber cost plus ``log sigma``: the model
  sigma grows with range, and without that term a far-away source would look
  better) with the origin time set to the median implied origin; the best
  one is refined on a finer grid. The search uses a local azimuthal-equidistant
  frame (its distortion at regional range only costs Gauss–Newton an iteration).
* **Robustness** (``robust=True``): iteratively re-weighted least squares with
  Huber weights ``min(1, k / |z|)``, ``k = 2`` (about 99 % efficiency on Gaussian
  data), a backtracking line search on the same likelihood, then the worst residual
  beyond 5 sigma is rejected (weight 0) and the fit repeated, while at least one
  degree of freedom remains. Times and azimuths are weighted separately: a bad
  pick does not discard the array's bearing. Arrivals with a weight below 1 are
  listed in :attr:`SourceEstimate.downweighted_ids`.
* **Uncertainty**: the covariance is the inverse of the weighted Fisher
  information at the solution (:func:`~truceline.ground.crlb.fisher_information`),
  multiplied by the reduced chi-square ``chi2 / dof`` when that exceeds 1 (the
  residuals say the sigmas were optimistic); never shrunk below the model's own
  uncertainty. Weights depend on the range through the model sigma; they are
  held fixed within a Gauss–Newton step and refreshed at the next.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from truceline.ground.base import Arrival, Atmosphere
from truceline.ground.crlb import (
    azimuth_sigma_rad,
    design_matrix,
    fisher_information,
    is_identifiable,
    time_sigma_s,
)
from truceline.ground.propagation import PropagationModel, predict
from truceline.model.errors import TrucelineError
from truceline.model.geo import WGS84_GEOD, Ellipse, LocalFrame, covariance_ellipse

__all__ = [
    "HUBER_K",
    "REJECT_SIGMAS",
    "ArrivalFit",
    "LocationError",
    "SourceEstimate",
    "initial_guess",
    "locate",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Huber threshold, in sigmas of the normalised residual.
HUBER_K = 2.0
#: Residuals beyond this many sigmas are rejected after the robust fit.
REJECT_SIGMAS = 5.0
_MAX_ITERATIONS = 50


class LocationError(TrucelineError, ValueError):
    """The arrivals are invalid or do not determine a source."""


@dataclass(frozen=True, slots=True)
class ArrivalFit:
    """How one arrival fits the located source.

    Attributes
    ----------
    id, station
        The arrival's id and station.
    time_residual_s, time_sigma_s, time_weight
        Observed minus predicted arrival time, its total standard deviation
        (pick and model) in seconds, and its weight in [0, 1] (``None`` for all
        three when the arrival has no usable time).
    azimuth_residual_deg, azimuth_sigma_deg, azimuth_weight
        The same for the back azimuth, degrees (``None`` for single sensors).
    """

    id: str
    station: str
    time_residual_s: float | None
    time_sigma_s: float | None
    time_weight: float | None
    azimuth_residual_deg: float | None
    azimuth_sigma_deg: float | None
    azimuth_weight: float | None

    @property
    def downweighted(self) -> bool:
        """Whether the time or the azimuth had a weight below 1."""
        weights = (self.time_weight, self.azimuth_weight)
        return any(w is not None and w < 1.0 - 1e-12 for w in weights)

    @property
    def used(self) -> bool:
        """Whether the time or the azimuth contributed (weight above 0)."""
        return any(w is not None and w > 0.0 for w in (self.time_weight, self.azimuth_weight))


@dataclass(frozen=True, slots=True)
class SourceEstimate:
    """A located source with its uncertainty.

    Attributes
    ----------
    lon, lat
        Position, degrees (WGS 84).
    origin_time_s, origin_sigma_s
        Origin time (epoch seconds, UTC) and its standard deviation, seconds.
    cov
        Position covariance ``(ee, en, nn)``, m², east/north at the source.
    fits
        One :class:`ArrivalFit` per input arrival, in input order.
    chi2, dof
        Weighted sum of squared normalised residuals and its degrees of freedom
        (used residuals minus 3).
    iterations
        Gauss–Newton iterations of the last fit.
    converged
        Whether the last fit met its convergence test.
    """

    lon: float
    lat: float
    origin_time_s: float
    origin_sigma_s: float
    cov: tuple[float, float, float]
    fits: tuple[ArrivalFit, ...]
    chi2: float
    dof: int
    iterations: int
    converged: bool

    @property
    def covariance(self) -> FloatArray:
        """The 2x2 position covariance, m²."""
        ee, en, nn = self.cov
        return np.array([[ee, en], [en, nn]], dtype=float)

    @property
    def reduced_chi2(self) -> float:
        """``chi2 / dof`` (NaN without degrees of freedom)."""
        return self.chi2 / self.dof if self.dof > 0 else math.nan

    @property
    def residuals(self) -> dict[str, tuple[float | None, float | None]]:
        """Arrival id -> (time residual s, azimuth residual deg)."""
        return {f.id: (f.time_residual_s, f.azimuth_residual_deg) for f in self.fits}

    @property
    def weights(self) -> dict[str, tuple[float | None, float | None]]:
        """Arrival id -> (time weight, azimuth weight)."""
        return {f.id: (f.time_weight, f.azimuth_weight) for f in self.fits}

    @property
    def used_ids(self) -> tuple[str, ...]:
        """Ids of arrivals that contributed to the solution."""
        return tuple(f.id for f in self.fits if f.used)

    @property
    def downweighted_ids(self) -> tuple[str, ...]:
        """Ids of arrivals the robust fit down-weighted or rejected."""
        return tuple(f.id for f in self.fits if f.downweighted)

    def ellipse(self, confidence: float = 0.95) -> Ellipse:
        """Confidence ellipse of the position."""
        return covariance_ellipse(*self.cov, confidence=confidence)


def _wrap_deg(angle: FloatArray) -> FloatArray:
    return (np.asarray(angle, dtype=float) + 180.0) % 360.0 - 180.0


def _huber_weights(z: FloatArray) -> FloatArray:
    absz = np.abs(z)
    return np.where(absz <= HUBER_K, 1.0, HUBER_K / np.maximum(absz, 1e-300))


def _huber_cost(z: FloatArray) -> FloatArray:
    absz = np.abs(z)
    return np.where(absz <= HUBER_K, 0.5 * z * z, HUBER_K * absz - 0.5 * HUBER_K**2)


class _Problem:
    """The arrivals as arrays, and the normalised residuals at a trial source."""

    def __init__(
        self, arrivals: Sequence[Arrival], atmosphere: Atmosphere, model: PropagationModel
    ) -> None:
        _validate(arrivals)
        self.arrivals = list(arrivals)
        self.atmosphere, self.model = atmosphere, model
        self.lon = np.array([a.lon for a in arrivals], dtype=float)
        self.lat = np.array([a.lat for a in arrivals], dtype=float)
        self.t_pick = np.array([a.time_sigma_s for a in arrivals], dtype=float)
        self.has_time = np.isfinite(self.t_pick)
        times = np.array([a.time_s for a in arrivals], dtype=float)
        self.t_ref = float(times.min())
        self.t = times - self.t_ref  # relative times keep the origin well scaled
        az = [math.nan if a.azimuth_deg is None else a.azimuth_deg for a in arrivals]
        self.az = np.array(az, dtype=float)
        self.has_az = np.isfinite(self.az)
        az_sigma = [
            a.azimuth_sigma_deg if a.azimuth_sigma_deg is not None else 1.0 for a in arrivals
        ]
        self.a_pick = np.array(az_sigma, dtype=float)
        self.n_rows = int(np.count_nonzero(self.has_time) + np.count_nonzero(self.has_az))

    def evaluate(
        self, lon: float, lat: float, tau: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Residuals (s, rad), design matrix and total sigmas (s, rad) at a source."""
        geometry = predict(self.lon, self.lat, lon, lat, self.atmosphere, self.model)
        sigma = np.concatenate(
            [
                time_sigma_s(geometry, self.t_pick)[self.has_time],
                azimuth_sigma_rad(geometry, self.a_pick)[self.has_az],
            ]
        )
        residual = np.concatenate(
            [
                (self.t - tau - geometry.travel.time_s)[self.has_time],
                np.radians(_wrap_deg(self.az - geometry.azimuth_deg))[self.has_az],
            ]
        )
        return residual, design_matrix(geometry, self.has_time, self.has_az), sigma

    def origin_at(self, lon: float, lat: float) -> float:
        """Median origin time implied by the arrival times at a position (relative s)."""
        geometry = predict(self.lon, self.lat, lon, lat, self.atmosphere, self.model)
        implied = (self.t - geometry.travel.time_s)[self.has_time]
        return float(np.median(implied)) if implied.size else 0.0


def _validate(arrivals: Sequence[Arrival]) -> None:
    if not arrivals:
        raise LocationError("no arrivals to locate")
    stations: set[str] = set()
    for a in arrivals:
        where = f"arrival {a.id!r} (station {a.station!r})"
        if a.station in stations:
            raise LocationError(f"{where}: a second arrival from the same station")
        stations.add(a.station)
        if not (-180.0 <= a.lon <= 180.0 and -90.0 <= a.lat <= 90.0):
            raise LocationError(f"{where}: station position ({a.lon}, {a.lat}) is invalid")
        if not math.isfinite(a.time_s):
            raise LocationError(f"{where}: arrival time {a.time_s} is not finite")
        if math.isnan(a.time_sigma_s) or a.time_sigma_s <= 0.0:
            raise LocationError(f"{where}: time sigma {a.time_sigma_s} must be positive")
        if a.azimuth_deg is not None:
            sigma = a.azimuth_sigma_deg
            if not math.isfinite(a.azimuth_deg):
                raise LocationError(f"{where}: back azimuth {a.azimuth_deg} is not finite")
            if sigma is None or not (math.isfinite(sigma) and sigma > 0.0):
                raise LocationError(f"{where}: azimuth sigma {sigma} must be positive")


def _crossings(x: FloatArray, y: FloatArray, az_deg: FloatArray) -> FloatArray:
    """Intersections ``(k, 2)`` of every pair of bearing rays in front of both stations."""
    idx = np.flatnonzero(np.isfinite(az_deg))
    i, j = np.triu_indices(idx.size, k=1)
    i, j = idx[i], idx[j]
    a = np.radians(az_deg)
    ux, uy = np.sin(a), np.cos(a)
    det = -ux[i] * uy[j] + uy[i] * ux[j]
    ok = np.abs(det) > math.sin(math.radians(2.0))
    i, j, det = i[ok], j[ok], det[ok]
    dx, dy = x[j] - x[i], y[j] - y[i]
    ta = (-dx * uy[j] + dy * ux[j]) / det
    tb = (ux[i] * dy - uy[i] * dx) / det
    front = (ta > 0.0) & (tb > 0.0)
    points: FloatArray = np.column_stack([x[i] + ta * ux[i], y[i] + ta * uy[i]])[front]
    return points


def _scores(problem: _Problem, sx: FloatArray, sy: FloatArray, points: FloatArray) -> FloatArray:
    """Robust negative log-likelihood of candidate positions ``(g, 2)`` (planar frame)."""
    dx = points[:, 0:1] - sx[None, :]
    dy = points[:, 1:2] - sy[None, :]
    r = np.maximum(np.hypot(dx, dy), 1.0)
    travel = problem.model.travel_time(r, np.degrees(np.arctan2(-dx, -dy)), problem.atmosphere)
    cost = np.zeros(points.shape[0])
    if np.any(problem.has_time):
        implied = (problem.t[None, :] - travel.time_s)[:, problem.has_time]
        origin = np.median(implied, axis=1)
        sigma = np.hypot(problem.t_pick, travel.sigma_s)[:, problem.has_time]
        cost += (_huber_cost((implied - origin[:, None]) / sigma) + np.log(sigma)).sum(axis=1)
    if np.any(problem.has_az):
        miss = _wrap_deg(problem.az[None, :] - np.degrees(np.arctan2(dx, dy)))
        sigma = np.hypot(problem.a_pick, travel.azimuth_sigma_deg)
        cost += (_huber_cost(miss / sigma) + np.log(sigma))[:, problem.has_az].sum(axis=1)
    return cost


def _search(problem: _Problem) -> tuple[float, float]:
    frame = LocalFrame.around(problem.lon, problem.lat)
    sx, sy = frame.to_local(problem.lon, problem.lat)
    span = max(float(np.ptp(sx)), float(np.ptp(sy)), 1_000.0)
    cx, cy = (sx.max() + sx.min()) / 2.0, (sy.max() + sy.min()) / 2.0
    axis = np.linspace(-1.5 * span, 1.5 * span, 21)
    gx, gy = np.meshgrid(cx + axis, cy + axis)
    points = np.vstack([np.column_stack([gx.ravel(), gy.ravel()]), _crossings(sx, sy, problem.az)])
    best = points[int(np.argmin(_scores(problem, sx, sy, points)))]
    step = float(axis[1] - axis[0])
    fine = np.linspace(-step, step, 11)
    fx, fy = np.meshgrid(best[0] + fine, best[1] + fine)
    points = np.column_stack([fx.ravel(), fy.ravel()])
    best = points[int(np.argmin(_scores(problem, sx, sy, points)))]
    return frame.point_to_geo(float(best[0]), float(best[1]))


def initial_guess(
    arrivals: Sequence[Arrival],
    atmosphere: Atmosphere | None = None,
    model: PropagationModel | None = None,
) -> tuple[float, float]:
    """A starting position ``(lon, lat)`` from bearing crossings and a grid search.

    Raises
    ------
    LocationError
        When the arrivals are invalid.
    """
    problem = _Problem(
        arrivals,
        atmosphere if atmosphere is not None else Atmosphere(),
        model if model is not None else PropagationModel(),
    )
    return _search(problem)


def _move(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    distance = math.hypot(east_m, north_m)
    if distance == 0.0:
        return lon, lat
    new_lon, new_lat, _ = WGS84_GEOD.fwd(
        lon, lat, math.degrees(math.atan2(east_m, north_m)), distance
    )
    return float(new_lon), float(new_lat)


def _merit(residual: FloatArray, sigma: FloatArray, active: BoolArray, robust: bool) -> float:
    z = residual / sigma
    return float(np.sum((_huber_cost(z) if robust else 0.5 * z * z)[active]))


def _fit(
    problem: _Problem, state: tuple[float, float, float], active: BoolArray, robust: bool
) -> tuple[tuple[float, float, float], int, bool]:
    """Gauss–Newton (IRLS when robust) with a backtracking line search.

    Within an iteration the sigmas are frozen at the current source, so the step
    is a descent direction of that iteration's weighted cost; they are refreshed
    at the accepted point. A frozen sigma also keeps the search from drifting to
    far-away positions whose larger model sigma would flatter every residual.
    """
    lon, lat, tau = state
    residual, jac, sigma = problem.evaluate(lon, lat, tau)
    for iteration in range(1, _MAX_ITERATIONS + 1):
        z = residual / sigma
        weights = (_huber_weights(z) if robust else np.ones_like(z)) * active
        a = jac * (np.sqrt(weights) / sigma)[:, None]
        delta = np.linalg.lstsq(a, z * np.sqrt(weights), rcond=None)[0]
        decrement = float(np.sum((a @ delta) ** 2))
        if decrement < 1e-10:
            return (lon, lat, tau), iteration, True
        merit = _merit(residual, sigma, active, robust)
        length = 1.0
        for _ in range(30):
            trial_lon, trial_lat = _move(lon, lat, length * delta[0], length * delta[1])
            trial_tau = tau + length * delta[2]
            trial = problem.evaluate(trial_lon, trial_lat, trial_tau)
            if _merit(trial[0], sigma, active, robust) <= merit + 1e-12 * (1.0 + merit):
                break
            length *= 0.5
        else:
            return (lon, lat, tau), iteration, decrement < 1e-6
        lon, lat, tau = trial_lon, trial_lat, trial_tau
        residual, jac, sigma = trial
    return (lon, lat, tau), _MAX_ITERATIONS, False


def locate(
    arrivals: Sequence[Arrival],
    atmosphere: Atmosphere | None = None,
    *,
    initial: tuple[float, float] | None = None,
    robust: bool = True,
    model: PropagationModel | None = None,
) -> SourceEstimate:
    """Locate the common source of ``arrivals`` (one per station).

    Parameters
    ----------
    arrivals
        Arrivals of one event, at most one per station. An arrival time with an
        infinite sigma is ignored; a back azimuth is used when given.
    atmosphere
        Ground-level temperature and wind (default :class:`Atmosphere`).
    initial
        Starting ``(lon, lat)``, degrees; by default :func:`initial_guess`.
    robust
        Huber IRLS and rejection of residuals beyond :data:`REJECT_SIGMAS`;
        plain weighted least squares (maximum likelihood) when ``False``.
    model
        Propagation model (default :class:`PropagationModel`).

    Raises
    ------
    LocationError
        When an arrival is invalid, two come from one station, or the arrivals do
        not determine position and origin time (e.g. too few, bearings only).
    """
    problem = _Problem(
        arrivals,
        atmosphere if atmosphere is not None else Atmosphere(),
        model if model is not None else PropagationModel(),
    )
    if problem.n_rows < 3:
        raise LocationError(f"{problem.n_rows} observables cannot determine 3 unknowns")
    lon, lat = initial if initial is not None else _search(problem)
    state = (lon, lat, problem.origin_at(lon, lat))
    active = np.ones(problem.n_rows, dtype=bool)
    while True:
        state, iterations, converged = _fit(problem, state, active, robust)
        residual, jac, sigma = problem.evaluate(*state)
        z = residual / sigma
        outside = np.abs(z) * active
        if not robust or outside.max() <= REJECT_SIGMAS or np.count_nonzero(active) <= 4:
            break
        active[int(np.argmax(outside))] = False
    weights = (_huber_weights(z) if robust else np.ones_like(z)) * active
    info = fisher_information(jac, sigma, weights)
    if not is_identifiable(info):
        raise LocationError("the arrivals do not determine position and origin time")
    dof = int(np.count_nonzero(active)) - 3
    chi2 = float(np.sum(weights * z * z))
    cov = np.linalg.inv(info) * (max(1.0, chi2 / dof) if dof > 0 else 1.0)
    return SourceEstimate(
        lon=state[0],
        lat=state[1],
        origin_time_s=problem.t_ref + state[2],
        origin_sigma_s=float(math.sqrt(cov[2, 2])),
        cov=(float(cov[0, 0]), float(cov[0, 1]), float(cov[1, 1])),
        fits=_fits(problem, residual, sigma, weights),
        chi2=chi2,
        dof=dof,
        iterations=iterations,
        converged=converged,
    )


def _fits(
    problem: _Problem, residual: FloatArray, sigma: FloatArray, weights: FloatArray
) -> tuple[ArrivalFit, ...]:
    """Per-arrival residuals (s, deg), sigmas and weights from the stacked rows."""
    time_row = np.cumsum(problem.has_time) - 1
    az_row = int(np.count_nonzero(problem.has_time)) + np.cumsum(problem.has_az) - 1
    fits = []
    for k, arrival in enumerate(problem.arrivals):
        t = int(time_row[k]) if problem.has_time[k] else None
        a = int(az_row[k]) if problem.has_az[k] else None
        fits.append(
            ArrivalFit(
                id=arrival.id,
                station=arrival.station,
                time_residual_s=None if t is None else float(residual[t]),
                time_sigma_s=None if t is None else float(sigma[t]),
                time_weight=None if t is None else float(weights[t]),
                azimuth_residual_deg=None if a is None else math.degrees(residual[a]),
                azimuth_sigma_deg=None if a is None else math.degrees(sigma[a]),
                azimuth_weight=None if a is None else float(weights[a]),
            )
        )
    return tuple(fits)
