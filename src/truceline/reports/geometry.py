"""Geometry for reports: uncertainty ellipses as polygons, metric frames, rounding.

GeoJSON and the map are in lon/lat degrees; every length and area is computed
in a :class:`~truceline.model.geo.LocalFrame` (azimuthal equidistant, metres).
Straight edges in lon/lat (the GeoJSON convention) are densified before they
are projected, so a long zone edge bends the way it should in metres.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry import Polygon, mapping
from shapely.geometry.base import BaseGeometry

from truceline.model.geo import WGS84_GEOD, Ellipse, LocalFrame
from truceline.reports.base import ReportError

__all__ = [
    "COORD_DECIMALS",
    "DENSIFY_DEG",
    "ELLIPSE_VERTICES",
    "ellipse_polygon",
    "frame_for",
    "from_frame",
    "round_geometry",
    "to_frame",
]

#: Decimal places of degrees written to GeoJSON (1e-6 deg is about 0.1 m).
COORD_DECIMALS: Final = 6

#: Number of vertices of an ellipse polygon (the ring closes on the first one).
ELLIPSE_VERTICES: Final = 72

#: Longest lon/lat edge, in degrees, kept straight when projecting (about 1 km).
DENSIFY_DEG: Final = 0.01


def ellipse_polygon(
    lon: float, lat: float, ellipse: Ellipse, vertices: int = ELLIPSE_VERTICES
) -> Polygon:
    """The confidence ellipse around ``(lon, lat)`` as a lon/lat polygon.

    The ellipse is laid out in metres east/north in the local
    azimuthal-equidistant frame centred on the point itself, where distances
    from the centre are exact geodesic distances, then converted back to
    degrees. The exterior ring is counter-clockwise (RFC 7946).

    Parameters
    ----------
    lon, lat
        Centre, degrees.
    ellipse
        Semi-axes in metres and major-axis azimuth in degrees clockwise from north.
    vertices
        Number of distinct vertices on the ring (at least 8).

    Returns
    -------
    shapely.geometry.Polygon
        Ring in lon/lat degrees; degenerate (zero area) when both axes are zero.
    """
    if vertices < 8:
        raise ValueError(f"an ellipse needs at least 8 vertices, got {vertices}")
    theta = math.radians(ellipse.orientation_deg)
    major = np.array([math.sin(theta), math.cos(theta)])  # (east, north) unit vector
    # Minor axis 90° anticlockwise of the major, so increasing t runs anticlockwise.
    minor = np.array([-math.cos(theta), math.sin(theta)])
    t = np.linspace(0.0, 2.0 * math.pi, vertices, endpoint=False)
    a, b = ellipse.semi_major_m, ellipse.semi_minor_m
    east = a * np.cos(t) * major[0] + b * np.sin(t) * minor[0]
    north = a * np.cos(t) * major[1] + b * np.sin(t) * minor[1]
    # The inverse of the azimuthal-equidistant frame centred on the point is the
    # geodesic direct problem (azimuth, distance from the centre); solving it with
    # Geod directly gives LocalFrame(lon, lat).to_geo without building a projection
    # per finding (~10 ms each).
    azimuths = np.degrees(np.arctan2(east, north))
    distances = np.hypot(east, north)
    lons, lats, _ = WGS84_GEOD.fwd(
        np.full(vertices, lon), np.full(vertices, lat), azimuths, distances
    )
    ring = list(zip(np.asarray(lons).tolist(), np.asarray(lats).tolist(), strict=True))
    return Polygon(ring)


def frame_for(geometries: Iterable[BaseGeometry]) -> LocalFrame:
    """A local frame centred on the bounding box of the non-empty geometries.

    Raises
    ------
    ReportError
        If every geometry is empty, so there is nothing to centre on.
    """
    boxes = [g.bounds for g in geometries if g is not None and not g.is_empty]
    if not boxes:
        raise ReportError("nothing to map: the contact line, zones and findings are all empty")
    arr = np.asarray(boxes, dtype=float)
    return LocalFrame.around([arr[:, 0].min(), arr[:, 2].max()], [arr[:, 1].min(), arr[:, 3].max()])


def to_frame(geometry: BaseGeometry, frame: LocalFrame) -> BaseGeometry:
    """Project a lon/lat geometry into ``frame`` (metres), densifying long edges first."""
    dense = shapely.segmentize(geometry, DENSIFY_DEG)
    return shapely.transform(dense, lambda xy: _stack(frame.to_local(xy[:, 0], xy[:, 1])))


def from_frame(geometry: BaseGeometry, frame: LocalFrame) -> BaseGeometry:
    """Project a metric geometry in ``frame`` back to lon/lat degrees."""
    return shapely.transform(geometry, lambda xy: _stack(frame.to_geo(xy[:, 0], xy[:, 1])))


def round_geometry(geometry: BaseGeometry, decimals: int = COORD_DECIMALS) -> Any:
    """GeoJSON ``geometry`` object of a shapely geometry, coordinates rounded.

    Rings stay closed because the first and last vertex round identically.
    """
    geo = mapping(geometry)
    return {"type": geo["type"], "coordinates": _round(geo["coordinates"], decimals)}


def _round(value: Any, decimals: int) -> Any:
    if isinstance(value, float | int):
        # "+ 0.0" turns -0.0 into 0.0 so that rounding never changes the bytes' sign.
        return round(float(value), decimals) + 0.0
    return [_round(item, decimals) for item in value]


def _stack(xy: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    return np.column_stack(xy)
