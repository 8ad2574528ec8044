"""Cramér–Rao lower bound on the location of a source from arrival times and azimuths.

The measurement model is Gaussian: station ``i`` observes the arrival time
``t0 + T(r_i)`` with standard deviation ``hypot(pick sigma, model sigma(r_i))``
and, if it is an array, the back azimuth ``az_i`` with standard deviation
``hypot(array sigma, model sigma(r_i))`` (:mod:`truceline.ground.propagation`).
The Fisher information of the parameters ``theta = (east m, north m, t0 s)`` is
``J^T Σ^-1 J``, with ``J`` the derivative of the predicted observables, and its
inverse bounds the covariance of every unbiased estimator. ``sqrt(trace)`` of its
2x2 position block bounds the position RMSE.

The information carried by the *variance's* dependence on range (a term
``½ tr(Σ^-1 ∂Σ Σ^-1 ∂Σ)``) is left out: at the standard geometry (10 km range,
0.1 s picks, 2 m/s speed sigma) it is about 10⁻⁴ of the mean term, and a
least-squares estimator does not use it either.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from truceline.ground.base import Atmosphere
from truceline.ground.propagation import Geometry, PropagationModel, predict

__all__ = [
    "azimuth_sigma_rad",
    "crlb",
    "design_matrix",
    "fisher_information",
    "is_identifiable",
    "position_rmse_bound_m",
    "time_sigma_s",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def time_sigma_s(geometry: Geometry, pick_sigma_s: FloatArray) -> FloatArray:
    """Total arrival-time standard deviation, seconds (pick and propagation model)."""
    total: FloatArray = np.hypot(np.asarray(pick_sigma_s, dtype=float), geometry.travel.sigma_s)
    return total


def azimuth_sigma_rad(geometry: Geometry, array_sigma_deg: FloatArray) -> FloatArray:
    """Total back-azimuth standard deviation, radians (array and propagation model)."""
    total = np.hypot(np.asarray(array_sigma_deg, dtype=float), geometry.travel.azimuth_sigma_deg)
    radians: FloatArray = np.radians(total)
    return radians


def design_matrix(geometry: Geometry, has_time: BoolArray, has_azimuth: BoolArray) -> FloatArray:
    """Derivatives of the observables with respect to ``(east m, north m, t0 s)``.

    Rows are the arrival times of the stations in ``has_time`` (s/m, s/m, 1),
    then the back azimuths of the stations in ``has_azimuth`` (rad/m, rad/m, 0).
    """
    time_rows = np.column_stack(
        [geometry.time_jacobian[has_time], np.ones(int(np.count_nonzero(has_time)))]
    )
    az_rows = np.column_stack(
        [geometry.azimuth_jacobian[has_azimuth], np.zeros(int(np.count_nonzero(has_azimuth)))]
    )
    return np.vstack([time_rows, az_rows])


def fisher_information(
    jacobian: FloatArray, sigma: FloatArray, weights: FloatArray | None = None
) -> FloatArray:
    """``J^T diag(w / sigma²) J``: the (robustly weighted) Fisher information, 3x3.

    Parameters
    ----------
    jacobian
        ``(m, 3)`` design matrix (:func:`design_matrix`).
    sigma
        ``(m,)`` standard deviations of the observables, in the rows' units.
    weights
        Optional ``(m,)`` weights in [0, 1] (robust down-weighting); 1 if omitted.
    """
    scale = 1.0 / np.asarray(sigma, dtype=float) ** 2
    if weights is not None:
        scale = scale * np.asarray(weights, dtype=float)
    info: FloatArray = (jacobian * scale[:, None]).T @ jacobian
    return info


def is_identifiable(info: FloatArray, max_condition: float = 1e10) -> bool:
    """Whether a Fisher information matrix determines all its parameters.

    The matrix is scaled to unit diagonal first, so that the mixed units of
    position (m) and time (s) do not count as ill-conditioning.
    """
    diagonal = np.diag(info)
    if not np.all(np.isfinite(info)) or np.any(diagonal <= 0.0):
        return False
    scale = 1.0 / np.sqrt(diagonal)
    return bool(np.linalg.cond(info * np.outer(scale, scale)) < max_condition)


def _per_station(value: float | Sequence[float | None] | None, n: int, name: str) -> FloatArray:
    """Broadcast a scalar or per-station sequence to an array; ``None`` becomes NaN (absent)."""
    if value is None:
        return np.full(n, np.nan)
    if isinstance(value, int | float):
        return np.full(n, float(value))
    out = np.array([np.nan if v is None else float(v) for v in value], dtype=float)
    if out.shape != (n,):
        raise ValueError(f"{name}: expected {n} values (one per station), got {out.size}")
    return out


def crlb(
    stations: Sequence[tuple[float, float]],
    source: tuple[float, float],
    time_sigma: float | Sequence[float | None] | None,
    azimuth_sigma_deg: float | Sequence[float | None] | None = None,
    *,
    atmosphere: Atmosphere | None = None,
    model: PropagationModel | None = None,
) -> FloatArray:
    """Cramér–Rao bound on ``(east m, north m, origin time s)`` for a geometry.

    Parameters
    ----------
    stations
        ``(lon, lat)`` of each station, degrees.
    source
        ``(lon, lat)`` of the source, degrees.
    time_sigma
        Arrival-time pick standard deviation, seconds: one value for all stations,
        one per station, ``None`` per station (or overall) where no time is measured.
    azimuth_sigma_deg
        Back-azimuth standard deviation of each array, degrees, likewise; ``None``
        for single sensors.
    atmosphere, model
        Propagation conditions and model (defaults: :class:`Atmosphere`,
        :class:`PropagationModel`); the model's sigmas add to the pick sigmas.

    Returns
    -------
    numpy.ndarray
        3x3 covariance bound; units m², m·s and s² (east, north in the source's
        tangent plane).

    Raises
    ------
    ValueError
        When the geometry does not determine the three parameters (singular
        Fisher information) or the inputs do not match the stations.
    """
    if not stations:
        raise ValueError("crlb needs at least one station")
    atmosphere = atmosphere if atmosphere is not None else Atmosphere()
    model = model if model is not None else PropagationModel()
    n = len(stations)
    lons = np.array([s[0] for s in stations], dtype=float)
    lats = np.array([s[1] for s in stations], dtype=float)
    t_pick = _per_station(time_sigma, n, "time_sigma")
    a_pick = _per_station(azimuth_sigma_deg, n, "azimuth_sigma_deg")
    geometry = predict(lons, lats, source[0], source[1], atmosphere, model)
    has_time, has_az = np.isfinite(t_pick), np.isfinite(a_pick)
    jacobian = design_matrix(geometry, has_time, has_az)
    sigma = np.concatenate(
        [time_sigma_s(geometry, t_pick)[has_time], azimuth_sigma_rad(geometry, a_pick)[has_az]]
    )
    if np.any(sigma <= 0.0):
        raise ValueError("every measured observable needs a positive standard deviation")
    info = fisher_information(jacobian, sigma)
    if jacobian.shape[0] < 3 or not is_identifiable(info):
        raise ValueError("the geometry does not determine position and origin time")
    bound = np.asarray(np.linalg.inv(info), dtype=np.float64)
    return bound


def position_rmse_bound_m(covariance: FloatArray) -> float:
    """``sqrt(trace)`` of the 2x2 position block: the bound on position RMSE, metres."""
    return float(np.sqrt(covariance[0, 0] + covariance[1, 1]))
