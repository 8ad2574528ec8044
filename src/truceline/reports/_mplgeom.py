"""Shapely geometries as matplotlib artists (private to :mod:`truceline.reports.staticmap`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

__all__ = ["add_area", "lines", "points"]


def add_area(axes: Any, geometry: BaseGeometry, **style: Any) -> None:
    """Add the polygons of ``geometry`` (holes kept) to ``axes`` as one patch.

    Non-areal parts are ignored; ``style`` goes to :class:`~matplotlib.patches.PathPatch`.
    """
    polygons = list(_polygons(geometry))
    if not polygons:
        return
    vertices: list[Any] = []
    codes: list[int] = []
    move, line_to, close = int(MplPath.MOVETO), int(MplPath.LINETO), int(MplPath.CLOSEPOLY)
    for polygon in polygons:
        oriented = orient(polygon, sign=1.0)  # holes run opposite to the shell
        for ring in (oriented.exterior, *oriented.interiors):
            coords = np.asarray(ring.coords, dtype=float)
            vertices.append(coords)
            codes.extend([move, *[line_to] * (len(coords) - 2), close])
    path = MplPath(np.concatenate(vertices), codes)
    axes.add_patch(PathPatch(path, **style))


def _polygons(geometry: BaseGeometry) -> Iterable[Polygon]:
    if isinstance(geometry, Polygon):
        if not geometry.is_empty:
            yield geometry
    elif isinstance(geometry, MultiPolygon) or hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _polygons(part)


def lines(geometry: BaseGeometry) -> Iterable[LineString]:
    """The non-empty line strings in ``geometry``, collections flattened."""
    if isinstance(geometry, LineString):
        if not geometry.is_empty:
            yield geometry
    elif isinstance(geometry, MultiLineString) or hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from lines(part)


def points(geometry: BaseGeometry) -> tuple[list[float], list[float]]:
    """``(xs, ys)`` of the points in ``geometry``, collections flattened."""
    found = [p for p in _parts(geometry) if isinstance(p, Point)]
    return [p.x for p in found], [p.y for p in found]


def _parts(geometry: BaseGeometry) -> Iterable[BaseGeometry]:
    if hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _parts(part)
    elif not geometry.is_empty:
        yield geometry
