"""Camera geometry of the drone channel: footprints, ground sample distance, projection.

Conventions are those of :mod:`truceline.drone.base` (platform Z-Y-X heading,
pitch, roll; gimbal relative azimuth, elevation, roll; pixel ``(u, v)`` right
and down from the top-left corner; an ideal pinhole with the full fields of
view). Geometry is done in the local metric frame of each camera — azimuthal
equidistant at the camera, metres east/north, heights above mean sea level,
with Earth curvature — and converted back to WGS 84 longitude/latitude with one
vectorised geodesic call (see :mod:`truceline.drone._raycast`).

Footprints are the four image corners on the ground, in image order: top-left
``(0, 0)``, top-right ``(W, 0)``, bottom-right ``(W, H)``, bottom-left
``(0, H)``. A corner whose ray does not reach the ground (it looks at or above
the horizon) makes the footprint undefined: :class:`RecordError`, never a
clipped or made-up polygon. Polygons are not split at the antimeridian.

Public API: :class:`Terrain`, :func:`footprint`, :func:`footprints`,
:func:`gsd_m`, :func:`project`, :func:`geolocate`, :class:`GroundPoint`,
:func:`platform_velocity_enu_mps`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely

from truceline.drone._raycast import EARTH_RADIUS_M, intersect, local_to_geo
from truceline.drone._rotation import pixel_rays, pose_arrays, pose_rotation
from truceline.drone.base import CameraPose
from truceline.drone.geolocate import GroundPoint, geolocate, platform_velocity_enu_mps
from truceline.drone.terrain import Terrain
from truceline.model.errors import RecordError
from truceline.model.geo import WGS84_GEOD

__all__ = [
    "GroundPoint",
    "Terrain",
    "footprint",
    "footprints",
    "geolocate",
    "gsd_m",
    "platform_velocity_enu_mps",
    "project",
]

FloatArray = npt.NDArray[np.float64]

_CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")
_CORNER_U = np.array([0.0, 1.0, 1.0, 0.0])
_CORNER_V = np.array([0.0, 0.0, 1.0, 1.0])
# half the pixel step used to measure the ground sample distance (pixels)
_GSD_HALF_STEP_PX = 5.0
_EDGE_TOLERANCE_PX = 1e-3


def _describe(pose: CameraPose, index: int | None = None) -> str:
    where = f"frame {pose.frame}, " if pose.frame is not None else ""
    prefix = f"pose {index} " if index is not None else "pose "
    return f"{prefix}({where}t={pose.time_s:.3f})"


def footprints(poses: Sequence[CameraPose], terrain: Terrain) -> FloatArray:
    """Ground corners of many frames at once.

    Parameters
    ----------
    poses
        Camera poses.
    terrain
        Flat ground or a DEM.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 4, 2)``: for each pose the longitude/latitude (degrees) of the
        image corners top-left, top-right, bottom-right, bottom-left.

    Raises
    ------
    RecordError
        A corner ray does not reach the ground (horizon), the camera is below
        the terrain, or a DEM has no height there; the message names the pose
        (index, frame, time) and the corner.
    """
    if len(poses) == 0:
        return np.empty((0, 4, 2))
    arr = pose_arrays(poses)
    width, height = arr.width_px[:, None], arr.height_px[:, None]
    cam = pixel_rays(_CORNER_U * width, _CORNER_V * height, width, height,
                     arr.hfov_deg[:, None], arr.vfov_deg[:, None])  # fmt: skip
    world = cam @ np.swapaxes(arr.rotations(), 1, 2)  # (n, 4, 3)
    origin = np.zeros_like(world)
    origin[..., 2] = arr.alt_m[:, None]
    lon0 = np.broadcast_to(arr.lon[:, None], (len(poses), 4))
    lat0 = np.broadcast_to(arr.lat[:, None], (len(poses), 4))

    def label(i: int) -> str:
        index = i // 4 if len(poses) > 1 else None
        return f"{_describe(poses[i // 4], index)}, {_CORNERS[i % 4]} corner"

    x, y, _, _ = intersect(lon0, lat0, origin, world, terrain, label)
    lon, lat = local_to_geo(lon0, lat0, x, y)
    return np.stack([lon, lat], axis=-1)


def footprint(pose: CameraPose, terrain: Terrain) -> shapely.Polygon:
    """The ground footprint of one frame, a polygon in longitude/latitude degrees.

    Vertices in image-corner order (see :func:`footprints`). Raises
    :class:`RecordError` when a corner's ray does not reach the ground (the
    frame sees the horizon).
    """
    return shapely.Polygon(footprints([pose], terrain)[0])


def _local_hits(pose: CameraPose, u: FloatArray, v: FloatArray, terrain: Terrain) -> FloatArray:
    """Ground points (east, north, height; metres, camera frame) of pixels ``(u, v)``."""
    rot = pose_rotation(pose)
    cam = pixel_rays(u, v, pose.width_px, pose.height_px, pose.hfov_deg, pose.vfov_deg)
    world = cam @ rot.T
    origin = np.zeros_like(world)
    origin[..., 2] = pose.alt_m
    lon0 = np.full(world.shape[:-1], pose.lon)
    lat0 = np.full(world.shape[:-1], pose.lat)
    x, y, h, _ = intersect(lon0, lat0, origin, world, terrain, lambda _: _describe(pose))
    return np.stack([x, y, h], axis=-1)


def gsd_m(pose: CameraPose, terrain: Terrain) -> float:
    """Ground sample distance at the image centre, metres per pixel.

    The square root of the ground area seen by one pixel at the image centre —
    the geometric-mean GSD of the General Image Quality Equation, which for an
    oblique view lies between the across-range and the (larger) along-range
    sample distances. Measured from the ground points of pixels a few pixels
    either side of the centre, with the terrain's slope included for a DEM.

    Raises
    ------
    RecordError
        The image centre does not see the ground.
    """
    cu, cv, s = pose.width_px / 2.0, pose.height_px / 2.0, _GSD_HALF_STEP_PX
    hits = _local_hits(
        pose, np.array([cu - s, cu + s, cu, cu]), np.array([cv, cv, cv - s, cv + s]), terrain
    )
    area = np.linalg.norm(np.cross(hits[1] - hits[0], hits[3] - hits[2]))
    return float(math.sqrt(area) / (2.0 * s))


def project(
    pose: CameraPose, lon: float, lat: float, height_m: float
) -> tuple[float, float] | None:
    """Pixel ``(u, v)`` at which the camera sees a ground point.

    Parameters
    ----------
    pose
        The camera.
    lon, lat
        The point, degrees.
    height_m
        Its height above mean sea level, metres.

    Returns
    -------
    tuple of float or None
        ``(u, v)`` in pixels, or None when the point is behind the camera or
        outside the image. Occlusion by terrain is not checked.
    """
    if not all(math.isfinite(c) for c in (lon, lat, height_m)):
        raise RecordError(f"cannot project the non-finite point ({lon}, {lat}, {height_m})")
    azimuth, _, dist = WGS84_GEOD.inv(pose.lon, pose.lat, lon, lat)
    local = np.array(
        [
            dist * math.sin(math.radians(azimuth)),
            dist * math.cos(math.radians(azimuth)),
            height_m - dist * dist / (2.0 * EARTH_RADIUS_M) - pose.alt_m,
        ]
    )
    rot = pose_rotation(pose)
    xc, yc, zc = rot.T @ local
    if zc <= 0.0:
        return None
    u = pose.width_px / 2.0 * (1.0 + xc / zc / math.tan(math.radians(pose.hfov_deg) / 2.0))
    v = pose.height_px / 2.0 * (1.0 + yc / zc / math.tan(math.radians(pose.vfov_deg) / 2.0))
    # allow rounding at the image edge (DEM corners round-trip to ~1e-4 px)
    tol = _EDGE_TOLERANCE_PX
    if not (-tol <= u <= pose.width_px + tol and -tol <= v <= pose.height_px + tol):
        return None
    return float(min(max(u, 0.0), pose.width_px)), float(min(max(v, 0.0), pose.height_px))
