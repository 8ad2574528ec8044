"""Length, width, orientation and core area of a detected region, from its second moments.

A change seen through a W x W spatial window comes out wider than it is: the
window spreads it by ``r = (W - 1) / 2`` pixels on every side, so the detected
region is about the change dilated by an r-pixel square. Shrinking the region
back by r pixels (erosion) wipes out a line one or two pixels wide running at
an angle (nothing of its staircase outline survives), so the shape is measured
on the *full* region instead and the blur is taken off afterwards:

1. The region's area moments (it is a union of whole pixels, so they are exact,
   from its pixel-edge outline) give its centroid and covariance matrix; the
   covariance is carried into a local metric frame (east, north in metres) by
   the grid's pixel -> metres Jacobian at the centroid.
2. Its principal axes give the detected length and width,
   ``sqrt(12 * lambda)`` for the eigenvalues lambda: exactly the sides for a
   filled rectangle at any angle, 0.87 times the diameter for a disc.
3. The blur is subtracted along each axis: an r-pixel square dilates a shape
   by ``2 r (|p_col . u| + |p_row . u|)`` along a unit direction ``u`` (its
   support function; ``p_col``, ``p_row`` the metric steps of one pixel), i.e.
   by 2r pixels along the grid and 2 sqrt(2) r on the diagonal. What is left is
   at least one pixel.
4. The core area is the detected area scaled by (core length x core width) /
   (detected length x detected width).

For a 1-2 pixel wide trench 150-400 m long at any angle, the length stays
within a pixel or two of the truth and the width within about a pixel, so
the elongation (length / width) is large; a 3 x 3 pixel change detected
through a 3 x 3 window as 5 x 5 pixels comes back 3 x 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from truceline.satellite.raster.io import Grid

__all__ = ["RegionShape", "area_moments", "region_shape"]

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True)
class RegionShape:
    """Shape of a detected region, the window's blur removed.

    Attributes
    ----------
    length_m, width_m
        Along the long and the short principal axis, metres (blur removed;
        at least one pixel).
    core_area_m2
        The region's area with the blur removed, m².
    azimuth_deg
        Direction of the long axis, degrees clockwise from north, in [0, 180).
    detected_length_m, detected_width_m
        The same axes measured on the detected region, metres.
    """

    length_m: float
    width_m: float
    core_area_m2: float
    azimuth_deg: float
    detected_length_m: float
    detected_width_m: float


def _ring_moments(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``(A, Sx, Sy, Sxx, Syy, Sxy)``: integrals of 1, x, y, x², y², xy over a ring's
    interior (signed by its orientation: counter-clockwise positive)."""
    x0, y0 = coords[:-1, 0], coords[:-1, 1]
    x1, y1 = coords[1:, 0], coords[1:, 1]
    cross = x0 * y1 - x1 * y0
    return np.array(
        [
            cross.sum() / 2.0,
            ((x0 + x1) * cross).sum() / 6.0,
            ((y0 + y1) * cross).sum() / 6.0,
            ((x0 * x0 + x0 * x1 + x1 * x1) * cross).sum() / 12.0,
            ((y0 * y0 + y0 * y1 + y1 * y1) * cross).sum() / 12.0,
            ((x0 * y1 + 2.0 * x0 * y0 + 2.0 * x1 * y1 + x1 * y0) * cross).sum() / 24.0,
        ]
    )


def area_moments(
    geometry: Polygon | MultiPolygon,
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Area, centroid ``(x, y)`` and 2 x 2 covariance of a polygon's area (holes excluded).

    Computed about the bounding box's corner, so large coordinates (global
    pixel indices) lose no precision; the outline is normalised first, so the
    result does not depend on how the polygon was assembled.
    """
    geometry = shapely.normalize(geometry)
    x_min, y_min, _, _ = geometry.bounds
    shifted = shapely.affinity.translate(geometry, -x_min, -y_min)
    parts = list(shifted.geoms) if isinstance(shifted, MultiPolygon) else [shifted]
    total = np.zeros(6)
    for part in parts:
        oriented = orient(part, 1.0)  # exterior counter-clockwise, holes clockwise
        for ring in (oriented.exterior, *oriented.interiors):
            total += _ring_moments(np.asarray(ring.coords, dtype=np.float64))
    area = float(total[0])
    if area <= 0:
        return 0.0, np.array([x_min, y_min]), np.zeros((2, 2))
    cx, cy = total[1] / area, total[2] / area
    cov = np.array(
        [
            [total[3] / area - cx * cx, total[5] / area - cx * cy],
            [total[5] / area - cx * cy, total[4] / area - cy * cy],
        ]
    )
    return area, np.array([cx + x_min, cy + y_min]), cov


def _jacobian(
    grid: Grid, transformer: Transformer, col: float, row: float
) -> npt.NDArray[np.float64]:
    """Metres east and north per pixel step: columns = one column, one row step."""
    cols = np.array([col, col + 1.0, col])
    rows = np.array([row, row, row + 1.0])
    a, b, c, d, e, f = tuple(grid.transform)[:6]
    lon, lat = transformer.transform(a * cols + b * rows + c, d * cols + e * rows + f)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(float(lat[0])))
    east = (lon - lon[0]) * kx
    north = (lat - lat[0]) * _M_PER_DEG_LAT
    return np.array([[east[1], east[2]], [north[1], north[2]]])


def region_shape(
    geometry: Any, blur_px: int, grid: Grid, transformer: Transformer, area_m2: float
) -> RegionShape:
    """Shape of a region given in global pixel coordinates (x = column, y = row).

    Parameters
    ----------
    geometry
        The region's pixel-edge outline (Polygon or MultiPolygon).
    blur_px
        Half-width r of the spatial window, pixels (0: no window).
    grid
        The statistic's grid (pixel -> CRS).
    transformer
        CRS -> EPSG:4326 with ``always_xy=True``.
    area_m2
        The region's (geodesic) area, m².
    """
    _, centre, cov_px = area_moments(geometry)
    jac = _jacobian(grid, transformer, float(centre[0]), float(centre[1]))
    cov_m = jac @ cov_px @ jac.T
    values, vectors = np.linalg.eigh(cov_m)  # ascending
    detected = np.sqrt(12.0 * np.clip(values[::-1], 0.0, None))  # long, short
    axes = vectors[:, ::-1].T  # unit vectors (east, north), long first
    pixel_m = math.sqrt(abs(float(np.linalg.det(jac))))
    spread = [2.0 * blur_px * float(np.abs(jac.T @ axis).sum()) for axis in axes]
    core = [max(float(d) - s, pixel_m) for d, s in zip(detected, spread, strict=True)]
    long_axis = axes[0]
    if core[1] > core[0]:  # the blur came off the long axis more: the short one is longer
        core.reverse()
        long_axis = axes[1]
    box = float(detected[0] * detected[1])
    core_area = area_m2 if box <= 0 else min(area_m2, area_m2 * core[0] * core[1] / box)
    azimuth = math.degrees(math.atan2(float(long_axis[0]), float(long_axis[1]))) % 180.0
    return RegionShape(
        length_m=core[0],
        width_m=core[1],
        core_area_m2=core_area,
        azimuth_deg=azimuth,
        detected_length_m=float(detected[0]),
        detected_width_m=float(detected[1]),
    )
