"""Ray–terrain intersection in the camera's local frame (private to the drone channel).

Each ray lives in the local metric frame of its camera: an azimuthal-equidistant
frame centred at the camera's longitude/latitude (metres east, north) with
heights above mean sea level. A point at horizontal distance ``r`` from the
centre lies ``r² / (2 R)`` below the frame's tangent plane (Earth curvature,
0.3 m at 2 km, 8 m at 10 km; refraction is ignored), so a ray hits the surface
at height ``h`` where ``z0 + t dz = h - |(x0, y0) + t (dx, dy)|² / (2 R)`` — a
quadratic in ``t``. A ray that does not descend to the surface (it points at or
above the horizon) has no intersection.

Back to degrees, a local point ``(x, y)`` is the geodesic from the camera with
azimuth ``atan2(x, y)`` and length ``hypot(x, y)`` — exactly the inverse of the
azimuthal-equidistant projection at the camera, and one vectorised
:meth:`pyproj.Geod.fwd` call for any number of cameras.

For a DEM the intersection height is found by iteration: one fixed-point step
(the DEM height under the ray's crossing of the reference height), then secant
steps on ``g(h) = DEM(ray at h) - h``, which are exact for planar slopes.
Occlusion by terrain between the camera and that crossing is not modelled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from truceline.drone.terrain import Terrain
from truceline.model.errors import RecordError
from truceline.model.geo import WGS84_GEOD

__all__ = ["EARTH_RADIUS_M", "Hits", "intersect", "local_to_geo"]

FloatArray = npt.NDArray[np.float64]

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
_DEM_TOLERANCE_M = 1e-4
_DEM_MAX_ITERATIONS = 40

Hits = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


def local_to_geo(
    lon0: FloatArray, lat0: FloatArray, x: FloatArray, y: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Longitude/latitude (degrees) of local points ``(x, y)`` (metres) around ``(lon0, lat0)``."""
    lon0, lat0, x, y = np.broadcast_arrays(lon0, lat0, x, y)
    azimuth = np.degrees(np.arctan2(x, y))
    lon, lat, _ = WGS84_GEOD.fwd(
        lon0.ravel(), lat0.ravel(), azimuth.ravel(), np.hypot(x, y).ravel()
    )
    return np.asarray(lon, float).reshape(x.shape), np.asarray(lat, float).reshape(x.shape)


def _range_to_surface(
    origin: FloatArray, rays: FloatArray, height_m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Distance along unit ``rays`` from ``origin`` to the curved surface at ``height_m``.

    Returns the distances (NaN where there is none) and the clearance of the
    origin above the surface (metres; <= 0 means the camera is underground).
    """
    x0, y0, z0 = origin[..., 0], origin[..., 1], origin[..., 2]
    dx, dy, dz = rays[..., 0], rays[..., 1], rays[..., 2]
    two_r = 2.0 * EARTH_RADIUS_M
    a = (dx * dx + dy * dy) / two_r
    b = dz + 2.0 * (x0 * dx + y0 * dy) / two_r
    clearance = z0 - height_m + (x0 * x0 + y0 * y0) / two_r
    disc = b * b - 4.0 * a * clearance
    with np.errstate(invalid="ignore", divide="ignore"):
        t = 2.0 * clearance / (-b + np.sqrt(disc))
    t = np.where((b < 0.0) & (disc >= 0.0) & (clearance > 0.0), t, np.nan)
    return t, clearance


def _solve(
    origin: FloatArray, rays: FloatArray, height_m: FloatArray, label: Callable[[int], str]
) -> FloatArray:
    t, clearance = _range_to_surface(origin, rays, height_m)
    below = clearance <= 0.0
    if below.any():
        i = int(np.flatnonzero(below.ravel())[0])
        raise RecordError(f"{label(i)}: the camera is at or below the terrain")
    missing = ~np.isfinite(t)
    if missing.any():
        i = int(np.flatnonzero(missing.ravel())[0])
        raise RecordError(
            f"{label(i)}: the ray does not reach the ground (at or above the horizon)"
        )
    return t


def intersect(
    lon0: FloatArray,
    lat0: FloatArray,
    origin: FloatArray,
    rays: FloatArray,
    terrain: Terrain,
    label: Callable[[int], str],
) -> Hits:
    """Where unit ``rays`` from ``origin`` (local metres) hit the terrain.

    Parameters
    ----------
    lon0, lat0
        Centre of each ray's local frame (the camera), degrees; shape ``(m,)``.
    origin
        Ray origins ``(east, north, height above MSL)`` in metres, shape ``(m, 3)``.
    rays
        Unit directions (east, north, up), shape ``(m, 3)``.
    terrain
        Flat ground or a DEM.
    label
        Describes ray ``i`` for error messages (which pose, which corner).

    Returns
    -------
    x, y, h, t
        Hit points (metres east/north in the local frame, height above MSL in
        metres) and the slant ranges in metres.

    Raises
    ------
    RecordError
        A ray misses the ground, the camera is underground, or (DEM) a point
        falls outside the DEM or on nodata, or the iteration does not converge.
    """
    height = np.full(rays.shape[:-1], terrain.reference_height_m)
    t = _solve(origin, rays, height, label)
    if terrain.is_flat:
        x, y = origin[..., 0] + t * rays[..., 0], origin[..., 1] + t * rays[..., 1]
        return x, y, height, t
    prev_h: FloatArray | None = None
    prev_g: FloatArray | None = None
    for _ in range(_DEM_MAX_ITERATIONS):
        x, y = origin[..., 0] + t * rays[..., 0], origin[..., 1] + t * rays[..., 1]
        lon, lat = local_to_geo(lon0, lat0, x, y)
        ground = terrain.height_at(lon, lat)
        g = ground - height
        if np.all(np.abs(g) < _DEM_TOLERANCE_M):
            return x, y, ground, t
        new = ground
        if prev_h is not None and prev_g is not None:
            slope = g - prev_g
            safe = np.abs(slope) > 1e-12
            secant = height - g * (height - prev_h) / np.where(safe, slope, 1.0)
            new = np.where(safe, secant, ground)
        prev_h, prev_g, height = height, g, new
        t = _solve(origin, rays, height, label)
    worst = int(np.argmax(np.abs(g)))
    raise RecordError(
        f"{label(worst)}: the ray–DEM intersection did not converge (terrain steeper "
        "than the line of sight?)",
        file=terrain.source,
    )
