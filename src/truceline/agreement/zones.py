"""Polygons of distance bands, for drawing maps.

Membership tests never use these polygons (they use exact distances and the
side rule of :mod:`truceline.agreement.polyline`); the polygons only have to be
right to a few tens of metres so a map shows the zones where they are. All
work is in the agreement's local metric frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

__all__ = ["UNBOUNDED_DRAW_M", "band_geometry", "quad_segs_for", "side_regions"]

#: An unbounded band (``max_m: null``) is drawn this far beyond its ``min_m``, metres.
UNBOUNDED_DRAW_M: Final = 150_000.0

#: Largest gap between a drawn arc and the true circle, metres.
_ARC_TOLERANCE_M: Final = 25.0

SideFunction = Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], npt.NDArray[np.int8]]


def quad_segs_for(radius_m: float, tolerance_m: float = _ARC_TOLERANCE_M) -> int:
    """Segments per quarter circle keeping a buffer's arcs within ``tolerance_m`` metres."""
    if radius_m <= tolerance_m:
        return 4
    half_angle = math.acos(1.0 - tolerance_m / radius_m)
    return max(4, math.ceil(math.pi / (4.0 * half_angle)))


def _extended(parts: Sequence[npt.NDArray[np.float64]], length_m: float) -> LineString:
    """The parts joined in order, with both ends extended straight by ``length_m`` metres."""
    coords = np.concatenate(list(parts))
    head = coords[0] - coords[1]
    tail = coords[-1] - coords[-2]
    start = coords[0] + head / np.hypot(*head) * length_m
    end = coords[-1] + tail / np.hypot(*tail) * length_m
    return LineString(np.vstack([start, coords, end]))


def side_regions(
    parts: Sequence[npt.NDArray[np.float64]], extent: BaseGeometry, side_of: SideFunction
) -> dict[int, BaseGeometry]:
    """Split the area around a line into its left and right sides.

    Parameters
    ----------
    parts
        The line's parts, ``(n, 2)`` arrays of metres, in order (gaps between
        parts are bridged for drawing).
    extent
        Geometry whose bounding box (metres) must be covered.
    side_of
        Exact side function (``+1`` left, ``-1`` right) used to label each piece.

    Returns
    -------
    dict
        ``{+1: left region, -1: right region}`` in metres.
    """
    x0, y0, x1, y1 = extent.bounds
    frame = box(x0, y0, x1, y1)
    reach = math.hypot(x1 - x0, y1 - y0) + 1.0
    cut = shapely.intersection(_extended(parts, reach), frame)
    pieces = shapely.get_parts(shapely.polygonize([shapely.union(frame.exterior, cut)]))
    points = shapely.point_on_surface(pieces)
    labels = side_of(shapely.get_x(points), shapely.get_y(points))
    regions: dict[int, BaseGeometry] = {}
    for code in (1, -1):
        chosen = pieces[labels == code]
        regions[code] = shapely.union_all(chosen) if chosen.size else Polygon()
    return regions


def band_geometry(
    line: BaseGeometry, min_m: float, max_m: float | None, region: BaseGeometry | None
) -> BaseGeometry:
    """The area at distance ``[min_m, max_m)`` from ``line``, clipped to ``region``.

    Parameters
    ----------
    line
        The band's ``from`` line, metres.
    min_m, max_m
        Inner and outer distance, metres; ``max_m=None`` is drawn to
        ``min_m + UNBOUNDED_DRAW_M``.
    region
        Side region to clip to, or ``None`` for both sides.
    """
    outer_m = max_m if max_m is not None else min_m + UNBOUNDED_DRAW_M
    area = line.buffer(outer_m, quad_segs=quad_segs_for(outer_m))
    if min_m > 0.0:
        area = area.difference(line.buffer(min_m, quad_segs=quad_segs_for(min_m)))
    if region is not None:
        area = area.intersection(region)
    return shapely.make_valid(area)
