"""Significant change -> polygons with area, statistic and shape.

The statistic GeoTIFF is read one tile at a time (bounded memory). In each
tile the pixels beyond the threshold — increases and decreases separately, so
a polygon never mixes signs — are grouped into 8-connected components
(:func:`scipy.ndimage.label`) with their pixel count, sum and peak, and traced
into pixel-edge polygons by :func:`rasterio.features.shapes`. Coordinates are
kept in *global pixel units* (integers, exact) until the end, so a component
cut by a tile edge is re-joined exactly: fragments touching an inner tile edge
are merged with every fragment of the same sign they touch (an edge or a
corner: 8-connectivity) through a union-find, their counts and sums added and
their polygons unioned. The result does not depend on the tile size.

Extra bands of the statistic GeoTIFF (the band changes of an optical run)
are summed over each component as it is found, so the mean change of every
band over a region is known without a second pass.

Each finished component is mapped to the raster CRS by the grid's affine
transform and to WGS 84 (lon, lat); its area is geodesic on the WGS 84
ellipsoid (:meth:`pyproj.Geod.geometry_area_perimeter`). Its length and width
for the shape-based kind (:func:`shape_kind`) come from its second moments
(:mod:`.shape`); :func:`shape_facts` gives those of the minimum rotated
rectangle of a lon/lat polygon in a local metric frame (equirectangular about
the centroid: errors well under 1 % for the sizes that matter here).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
import rasterio.features
import shapely
import shapely.affinity
from affine import Affine
from pyproj import Geod, Transformer
from rasterio.windows import Window
from scipy import ndimage
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.strtree import STRtree

from truceline.satellite.raster.io import Grid

__all__ = [
    "Component",
    "ShapeFacts",
    "find_components",
    "shape_facts",
    "shape_kind",
    "to_lonlat",
]

_EIGHT = np.ones((3, 3), dtype=bool)
#: Closing radius (pixels) that joins the parts of a component meeting only at a corner.
_CORNER_EPS = 1e-3
_GEOD = Geod(ellps="WGS84")
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0

#: Shape rules for SAR and optical change (dNBR is always ``burn_scar``).
ELONGATION_MIN = 3.0
ELONGATED_LENGTH_MIN_M = 50.0
CRATER_AREA_MAX_M2 = 1_000.0


@dataclass
class Component:
    """One connected region beyond the threshold, in global pixel coordinates.

    Attributes
    ----------
    sign
        +1 for an increase of the statistic, -1 for a decrease.
    geometry
        Pixel-edge outline, x = column and y = row (pixel corners are integers).
    n_pixels
        Pixels in the region.
    total
        Sum of ``sign * statistic`` over the region.
    peak
        Largest ``sign * statistic`` in the region.
    row, col
        Top-left corner of its bounding box (for a stable order).
    aux_total, aux_count
        Per extra band of the statistic file (band 2 on): the sum of its finite
        values over the region and how many there are.
    """

    sign: int
    geometry: Polygon | MultiPolygon
    n_pixels: int
    total: float
    peak: float
    row: int
    col: int
    aux_total: tuple[float, ...] = ()
    aux_count: tuple[int, ...] = ()

    def merged(self, other: Component) -> Component:
        """The union of two fragments of one region."""
        return Component(
            self.sign,
            shapely.union(self.geometry, other.geometry),
            self.n_pixels + other.n_pixels,
            self.total + other.total,
            max(self.peak, other.peak),
            min(self.row, other.row),
            min(self.col, other.col),
            tuple(a + b for a, b in zip(self.aux_total, other.aux_total, strict=True)),
            tuple(a + b for a, b in zip(self.aux_count, other.aux_count, strict=True)),
        )

    def aux_mean(self, index: int) -> float:
        """Mean of extra band ``index`` (0 = band 2) over the region; NaN if none is finite."""
        count = self.aux_count[index]
        return self.aux_total[index] / count if count else float("nan")


def _tile_components(
    data: npt.NDArray[np.float32],
    sign: int,
    threshold: float,
    row_off: int,
    col_off: int,
    inner: tuple[bool, bool, bool, bool],
    aux: npt.NDArray[np.float32] | None = None,
) -> Iterator[tuple[Component, bool]]:
    """Components of one tile and whether each touches an inner tile edge.

    ``aux`` (``(bands, rows, cols)``) are the tile's extra bands, summed per component.
    """
    values = sign * data.astype(np.float64)
    with np.errstate(invalid="ignore"):
        beyond = values >= threshold
    labels, count = ndimage.label(beyond, structure=_EIGHT)
    if count == 0:
        return
    # Per-label count, sum and peak over the (few) pixels beyond the threshold.
    members, picked = labels[beyond], values[beyond]
    sizes = np.bincount(members, minlength=count + 1)[1:]
    totals = np.bincount(members, weights=picked, minlength=count + 1)[1:]
    peaks = np.full(count + 1, -np.inf)
    np.maximum.at(peaks, members, picked)
    peaks = peaks[1:]
    aux_totals: list[npt.NDArray[np.float64]] = []
    aux_counts: list[npt.NDArray[np.intp]] = []
    for layer in aux if aux is not None else ():
        picked_aux = layer[beyond].astype(np.float64)
        finite = np.isfinite(picked_aux)
        weighted = np.bincount(members[finite], weights=picked_aux[finite], minlength=count + 1)
        aux_totals.append(weighted[1:].astype(np.float64))
        aux_counts.append(np.bincount(members[finite], minlength=count + 1)[1:])
    boxes = ndimage.find_objects(labels)
    top, bottom, left, right = inner
    edge_labels: set[int] = set()
    for flag, line in (
        (top, labels[0, :]),
        (bottom, labels[-1, :]),
        (left, labels[:, 0]),
        (right, labels[:, -1]),
    ):
        if flag:
            edge_labels.update(int(v) for v in np.unique(line) if v)
    pieces: dict[int, list[Polygon]] = {}
    shift = Affine.translation(col_off, row_off)
    for geom, value in rasterio.features.shapes(
        labels.astype(np.int32), mask=beyond, connectivity=4, transform=shift
    ):
        pieces.setdefault(int(value), []).append(shape(geom))
    for label in range(1, count + 1):
        parts = pieces[label]
        geometry = parts[0] if len(parts) == 1 else shapely.union_all(parts)
        box = boxes[label - 1]
        if box is None:  # pragma: no cover - every label 1..count has pixels
            continue
        component = Component(
            sign,
            geometry,
            int(sizes[label - 1]),
            float(totals[label - 1]),
            float(peaks[label - 1]),
            row_off + int(box[0].start),
            col_off + int(box[1].start),
            tuple(float(t[label - 1]) for t in aux_totals),
            tuple(int(c[label - 1]) for c in aux_counts),
        )
        yield component, label in edge_labels


def _merge_fragments(fragments: list[Component]) -> list[Component]:
    """Join fragments of the same sign that touch (edge or corner) across tile edges."""
    if not fragments:
        return []
    parent = list(range(len(fragments)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree = STRtree([f.geometry for f in fragments])
    for i, fragment in enumerate(fragments):
        for j in tree.query(fragment.geometry, predicate="intersects"):
            j = int(j)
            if j != i and fragments[j].sign == fragment.sign:
                parent[find(i)] = find(j)
    groups: dict[int, Component] = {}
    for i, fragment in enumerate(fragments):
        root = find(i)
        groups[root] = fragment if root not in groups else groups[root].merged(fragment)
    return list(groups.values())


def find_components(
    statistic: Path, threshold: float, *, two_sided: bool, tile: int, aux_bands: int = 0
) -> list[Component]:
    """Every region of ``statistic`` (band 1) at or beyond ``threshold``, in a stable order.

    Parameters
    ----------
    statistic
        The per-pixel statistic GeoTIFF (NaN = no data).
    threshold
        In the statistic's units: increases where ``x >= threshold``; with
        ``two_sided`` also decreases where ``x <= -threshold``.
    two_sided
        Whether to look for decreases too.
    tile
        Tile edge in pixels (memory: a few arrays of ``tile²`` values).
    aux_bands
        Number of extra bands (2, 3, ...) to sum over each region.
    """
    signs = (1, -1) if two_sided else (1,)
    done: list[Component] = []
    fragments: list[Component] = []
    with rasterio.open(statistic) as src:
        height, width = src.height, src.width
        for row_off in range(0, height, tile):
            for col_off in range(0, width, tile):
                rows, cols = min(tile, height - row_off), min(tile, width - col_off)
                window = Window(col_off, row_off, cols, rows)
                data = src.read(1, window=window)
                aux = src.read(list(range(2, 2 + aux_bands)), window=window) if aux_bands else None
                inner = (row_off > 0, row_off + rows < height, col_off > 0, col_off + cols < width)
                for sign in signs:
                    for component, open_edge in _tile_components(
                        data, sign, threshold, row_off, col_off, inner, aux
                    ):
                        (fragments if open_edge else done).append(component)
    done.extend(_merge_fragments(fragments))
    done.sort(key=lambda c: (c.row, c.col, -c.sign))
    return done


def _single_polygon(geometry: Polygon | MultiPolygon) -> Polygon:
    """One polygon for an 8-connected region whose parts may meet only at corners."""
    if isinstance(geometry, Polygon):
        return geometry
    closed = geometry.buffer(_CORNER_EPS, join_style="mitre").buffer(
        -_CORNER_EPS, join_style="mitre"
    )
    if isinstance(closed, Polygon):
        return closed
    # Still several parts (should not happen): bridge them with a tiny dilation.
    grown = geometry.buffer(_CORNER_EPS, join_style="mitre")
    if isinstance(grown, Polygon):
        return grown
    return max(grown.geoms, key=lambda g: g.area)  # pragma: no cover - defensive


def to_lonlat(component: Component, grid: Grid, transformer: Transformer) -> Polygon:
    """The component's outline in WGS 84 ``(lon, lat)`` degrees.

    Parameters
    ----------
    component
        In global pixel coordinates.
    grid
        The statistic's grid (pixel -> CRS affine).
    transformer
        CRS -> EPSG:4326 with ``always_xy=True``.
    """
    # Tolerance 0 drops only exactly collinear vertices (where tiles were joined).
    polygon = _single_polygon(component.geometry).simplify(0.0, preserve_topology=True)
    result: Polygon = _pixels_to_lonlat(polygon, grid, transformer)
    return result


def _pixels_to_lonlat(geometry: Any, grid: Grid, transformer: Transformer) -> Any:
    a, b, c, d, e, f = tuple(grid.transform)[:6]
    in_crs = shapely.affinity.affine_transform(geometry, [a, b, d, e, c, f])

    def project(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(in_crs, project)


@dataclass(frozen=True)
class ShapeFacts:
    """Size and shape of a change polygon.

    Attributes
    ----------
    area_m2
        Geodesic area on the WGS 84 ellipsoid, m² (holes excluded).
    length_m, width_m
        Long and short sides of the minimum rotated rectangle, metres.
    """

    area_m2: float
    length_m: float
    width_m: float


def shape_facts(polygon: Polygon | MultiPolygon) -> ShapeFacts:
    """Area (geodesic) and rectangle length/width (local metric frame) of a lon/lat polygon."""
    area, _ = _GEOD.geometry_area_perimeter(polygon)
    centroid = polygon.centroid
    kx = _M_PER_DEG_LON_EQ * math.cos(math.radians(centroid.y))
    local = shapely.affinity.affine_transform(
        polygon, [kx, 0.0, 0.0, _M_PER_DEG_LAT, -kx * centroid.x, -_M_PER_DEG_LAT * centroid.y]
    )
    rectangle = local.minimum_rotated_rectangle
    coords = np.asarray(rectangle.exterior.coords) if isinstance(rectangle, Polygon) else None
    if coords is None or len(coords) < 4:
        length = width = 0.0
    else:
        sides = np.hypot(*(coords[1:3] - coords[0:2]).T)
        length, width = float(sides.max()), float(sides.min())
    return ShapeFacts(abs(float(area)), length, width)


def shape_kind(facts: ShapeFacts) -> str:
    """``earthworks`` (elongated), ``crater`` (compact, small) or ``surface_change``.

    Elongated: length / width >= 3 and length >= 50 m (a trench, berm or
    anti-tank ditch). Compact: not elongated and at most 1,000 m² (a shell or
    bomb crater, up to ~35 m across). Anything else is ``surface_change``.
    """
    if facts.width_m > 0 and facts.length_m / facts.width_m >= ELONGATION_MIN:
        if facts.length_m >= ELONGATED_LENGTH_MIN_M:
            return "earthworks"
    elif facts.area_m2 <= CRATER_AREA_MAX_M2:
        return "crater"
    return "surface_change"
