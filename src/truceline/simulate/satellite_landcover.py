"""Land cover and radiometry of the simulated satellite image stacks.

The stacks (:mod:`truceline.simulate.satellite_raster`) cover a square of
steppe farmland on a north-up UTM grid of 10 m pixels. Its land cover is a
patchwork of fields in a slightly rotated grid (350–900 m by 250–700 m),
half of the field boundaries lined with 20 m tree windbreaks, a few woods, a
village and perhaps a pond. Each field has one crop state in November:
winter wheat (green), stubble, or ploughed soil.

Radiometry per class, November, about 35° incidence (representative values,
not fitted to a site):

=========  ==========  =============  ===========  =============
class      S1 VV (dB)  S2 B3 (green)  S2 B8 (NIR)  S2 B12 (SWIR2)
=========  ==========  =============  ===========  =============
water      -21         0.05           0.02         0.01
wheat      -12         0.07           0.32         0.09
stubble    -14         0.11           0.24         0.20
ploughed   -10.5       0.07           0.18         0.22
wood       -8          0.05           0.22         0.08
village    -4          0.10           0.19         0.18
windbreak  -7.5        0.05           0.24         0.09
=========  ==========  =============  ===========  =============

Optical values are bottom-of-atmosphere reflectance. Open water is the one
class brighter in green than in the near infrared (NDWI = (green - NIR) /
(green + NIR) > 0, McFeeters 1996, Int. J. Remote Sens. 17(7): 1425-1432);
every land class is darker in green than in NIR.

Each field and wood gets a fixed offset (1 dB; 6 % of its reflectance), every
pixel a fixed 3 % reflectance texture; woods and the village a fixed per-pixel
radar texture (a gamma-distributed radar cross-section
with shape 6 and 1.2: K-distributed clutter once speckle is added), the village
a sprinkling of bright point scatterers (+12 dB). Fields are homogeneous: their
pixels differ only by speckle, so the speckle statistics can be checked on them.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from affine import Affine
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

__all__ = [
    "B3",
    "B8",
    "B12",
    "CLASS_NAMES",
    "OPTICAL_REFLECTANCE",
    "SAR_VV_DB",
    "LandCover",
    "StackGrid",
    "build_landcover",
    "coverage",
    "nbr",
    "utm_epsg",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]

#: Land-cover classes, by code.
CLASS_NAMES: Final = ("water", "wheat", "stubble", "ploughed", "wood", "village", "windbreak")
WATER, WHEAT, STUBBLE, PLOUGHED, WOOD, VILLAGE, WINDBREAK = range(7)
#: Mean Sentinel-1 VV backscatter per class, dB.
SAR_VV_DB: Final = (-21.0, -12.0, -14.0, -10.5, -8.0, -4.0, -7.5)
#: Index of each Sentinel-2 band in the optical arrays: B3 (green), B8 (NIR), B12 (SWIR2).
B3, B8, B12 = range(3)
#: Mean Sentinel-2 reflectance per class: (B3 green, B8 NIR, B12 SWIR2).
OPTICAL_REFLECTANCE: Final = (
    (0.05, 0.02, 0.01),
    (0.07, 0.32, 0.09),
    (0.11, 0.24, 0.20),
    (0.07, 0.18, 0.22),
    (0.05, 0.22, 0.08),
    (0.10, 0.19, 0.18),
    (0.05, 0.24, 0.09),
)
#: Texture (gamma shape of the radar cross-section) of textured classes; others are flat.
_TEXTURE_SHAPE: Final = {WOOD: 6.0, WINDBREAK: 6.0, VILLAGE: 1.2}
#: Probabilities of a field's state: wheat, stubble, ploughed, wood.
_FIELD_STATES: Final = ((WHEAT, 0.38), (STUBBLE, 0.38), (PLOUGHED, 0.16), (WOOD, 0.08))
_WINDBREAK_HALF_M: Final = 10.0


@dataclass(frozen=True, slots=True)
class StackGrid:
    """A north-up square raster grid in a UTM zone (WGS 84).

    Attributes
    ----------
    epsg
        EPSG code of the UTM zone (326xx north).
    west_m, north_m
        Easting and northing of the grid's north-west corner, metres.
    size_px
        Width and height, pixels.
    pixel_m
        Pixel size, metres.
    """

    epsg: int
    west_m: float
    north_m: float
    size_px: int
    pixel_m: float

    @property
    def crs(self) -> str:
        """The CRS as ``EPSG:<code>``."""
        return f"EPSG:{self.epsg}"

    @property
    def transform(self) -> Affine:
        """Affine map from (column, row) of a pixel corner to (easting, northing)."""
        return Affine(self.pixel_m, 0.0, self.west_m, 0.0, -self.pixel_m, self.north_m)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in metres."""
        extent = self.size_px * self.pixel_m
        return self.west_m, self.north_m - extent, self.west_m + extent, self.north_m

    @property
    def footprint(self) -> Polygon:
        """The grid's square, UTM metres."""
        return box(*self.bounds)

    def centres(self) -> tuple[FloatArray, FloatArray]:
        """Eastings and northings of every pixel centre, each ``(size_px, size_px)``."""
        offsets = (np.arange(self.size_px) + 0.5) * self.pixel_m
        east, north = np.meshgrid(self.west_m + offsets, self.north_m - offsets)
        return east, north

    def from_lonlat(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Longitude/latitude (degrees) to easting/northing (metres) in this zone."""
        east, north = _transformer(4326, self.epsg).transform(lon, lat)
        return np.asarray(east, dtype=float), np.asarray(north, dtype=float)

    def to_lonlat(self, east: npt.ArrayLike, north: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Easting/northing (metres) in this zone to longitude/latitude (degrees)."""
        lon, lat = _transformer(self.epsg, 4326).transform(east, north)
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


@functools.lru_cache(maxsize=16)
def _transformer(source: int, target: int) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone containing ``(lon, lat)`` (degrees)."""
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    return (32600 if lat >= 0.0 else 32700) + zone


@dataclass(frozen=True, slots=True)
class LandCover:
    """Land cover of a stack's grid.

    Attributes
    ----------
    classes
        Class code per pixel (:data:`CLASS_NAMES`), ``(rows, cols)``.
    unit
        Index of the land unit (field, wood, village; windbreaks share one)
        each pixel belongs to.
    unit_class
        Class of each unit.
    unit_polygons
        Each field's outline (UTM metres); windbreaks and the pond have none.
    sar_db
        Mean VV backscatter per pixel without speckle, dB (fixed texture included).
    optical
        Mean reflectance per pixel, ``(3, rows, cols)``: B3, B8, B12.
    """

    classes: npt.NDArray[np.uint8]
    unit: IntArray
    unit_class: tuple[int, ...]
    unit_polygons: tuple[Polygon | None, ...]
    sar_db: FloatArray
    optical: FloatArray


def _breaks(rng: np.random.Generator, extent_m: float, spacing: tuple[float, float]) -> FloatArray:
    """Field boundaries covering ``[-extent_m, extent_m]`` at random spacings, metres."""
    edges = [-extent_m - rng.uniform(*spacing)]
    while edges[-1] < extent_m:
        edges.append(edges[-1] + rng.uniform(*spacing))
    return np.asarray(edges, dtype=float)


def build_landcover(grid: StackGrid, rng: np.random.Generator) -> LandCover:
    """Draw the land cover of ``grid`` (see the module docstring)."""
    east, north = grid.centres()
    west, south, east_edge, north_edge = grid.bounds
    centre_e, centre_n = (west + east_edge) / 2.0, (south + north_edge) / 2.0
    angle = rng.uniform(-25.0, 25.0)
    theta = math.radians(angle)
    u = (east - centre_e) * math.cos(theta) + (north - centre_n) * math.sin(theta)
    v = -(east - centre_e) * math.sin(theta) + (north - centre_n) * math.cos(theta)
    reach = grid.size_px * grid.pixel_m * 0.75
    u_breaks = _breaks(rng, reach, (350.0, 900.0))
    v_breaks = _breaks(rng, reach, (250.0, 700.0))
    iu = np.searchsorted(u_breaks, u) - 1
    iv = np.searchsorted(v_breaks, v) - 1
    n_v = v_breaks.size - 1
    unit = (iu * n_v + iv).astype(np.int32)
    n_fields = (u_breaks.size - 1) * n_v
    states, weights = zip(*_FIELD_STATES, strict=True)
    field_class = [int(c) for c in rng.choice(states, size=n_fields, p=weights)]
    polygons: list[Polygon | None] = []
    for i in range(u_breaks.size - 1):
        for j in range(n_v):
            cell = box(u_breaks[i], v_breaks[j], u_breaks[i + 1], v_breaks[j + 1])
            rotated = affinity.rotate(cell, angle, origin=(0.0, 0.0))
            polygons.append(affinity.translate(rotated, centre_e, centre_n))
    # the village: the field nearest a random point of the tile
    village_at = rng.uniform(-0.35, 0.35, 2) * grid.size_px * grid.pixel_m
    village = int(unit[_pixel_of(grid, centre_e + village_at[0], centre_n + village_at[1])])
    field_class[village] = VILLAGE
    classes = np.asarray(field_class, dtype=np.uint8)[unit]
    # windbreaks along about half the boundaries (never through the village)
    for breaks, coord in ((u_breaks, u), (v_breaks, v)):
        for edge in breaks[rng.random(breaks.size) < 0.5]:
            classes[(np.abs(coord - edge) < _WINDBREAK_HALF_M) & (classes != VILLAGE)] = WINDBREAK
    unit_class = [*field_class, WINDBREAK, WATER]
    polygons += [None, None]
    unit[classes == WINDBREAK] = n_fields
    if rng.random() < 0.7:
        pond_e, pond_n = rng.uniform(-0.4, 0.4, 2) * grid.size_px * grid.pixel_m
        a, b = rng.uniform(80.0, 180.0), rng.uniform(50.0, 110.0)
        inside = ((east - centre_e - pond_e) / a) ** 2 + ((north - centre_n - pond_n) / b) ** 2 < 1
        inside &= classes != VILLAGE
        classes[inside] = WATER
        unit[inside] = n_fields + 1
    sar_db, optical = _radiometry(classes, unit, len(unit_class), rng)
    return LandCover(classes, unit, tuple(unit_class), tuple(polygons), sar_db, optical)


def _pixel_of(grid: StackGrid, east: float, north: float) -> tuple[int, int]:
    col = int(np.clip((east - grid.west_m) // grid.pixel_m, 0, grid.size_px - 1))
    row = int(np.clip((grid.north_m - north) // grid.pixel_m, 0, grid.size_px - 1))
    return row, col


def _radiometry(
    classes: npt.NDArray[np.uint8], unit: IntArray, n_units: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Mean backscatter (dB) and reflectance per pixel, with fixed per-unit and texture terms."""
    sar = np.asarray(SAR_VV_DB, dtype=float)[classes]
    sar += rng.normal(0.0, 1.0, n_units)[unit]
    for code, shape in sorted(_TEXTURE_SHAPE.items()):
        where = classes == code
        texture = rng.gamma(shape, 1.0 / shape, int(where.sum()))
        sar[where] += 10.0 * np.log10(texture)
    village = np.flatnonzero(classes == VILLAGE)
    bright = village[rng.random(village.size) < 0.03]
    sar.flat[bright] += 12.0
    reflectance = np.asarray(OPTICAL_REFLECTANCE, dtype=float)
    optical = np.stack([reflectance[classes, band] for band in range(reflectance.shape[1])])
    optical *= 1.0 + rng.normal(0.0, 0.06, (optical.shape[0], n_units))[:, unit]
    optical *= 1.0 + rng.normal(0.0, 0.03, optical.shape)
    return sar, np.clip(optical, 0.005, 0.9)


def nbr(optical: npt.ArrayLike) -> FloatArray:
    """Normalized Burn Ratio ``(B8 - B12) / (B8 + B12)`` of reflectance ``(3, ...)``."""
    bands = np.asarray(optical, dtype=float)
    result: FloatArray = (bands[B8] - bands[B12]) / (bands[B8] + bands[B12])
    return result


def coverage(
    geometry: BaseGeometry, grid: StackGrid, supersample: int = 5
) -> tuple[IntArray, IntArray, FloatArray]:
    """Pixels a polygon touches and the fraction of each it covers.

    Each pixel is sampled on a ``supersample`` x ``supersample`` lattice of
    points; the fraction is the share of points inside ``geometry`` (UTM metres).

    Returns
    -------
    tuple
        Row indices, column indices and covered fractions (0–1) of the pixels
        with a non-zero fraction.
    """
    west, south, east, north = geometry.bounds
    c0 = max(math.floor((west - grid.west_m) / grid.pixel_m), 0)
    c1 = min(math.ceil((east - grid.west_m) / grid.pixel_m), grid.size_px)
    r0 = max(math.floor((grid.north_m - north) / grid.pixel_m), 0)
    r1 = min(math.ceil((grid.north_m - south) / grid.pixel_m), grid.size_px)
    empty = np.zeros(0, dtype=np.int32)
    if c1 <= c0 or r1 <= r0:
        return empty, empty, np.zeros(0)
    step = grid.pixel_m / supersample
    sub = (np.arange(supersample) + 0.5) * step
    cols = np.arange(c0, c1)
    rows = np.arange(r0, r1)
    xs = (grid.west_m + cols[:, None] * grid.pixel_m + sub[None, :]).ravel()
    ys = (grid.north_m - rows[:, None] * grid.pixel_m - sub[None, :]).ravel()
    px, py = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(geometry, px, py)
    counts = inside.reshape(rows.size, supersample, cols.size, supersample).sum(axis=(1, 3))
    fraction = counts / float(supersample * supersample)
    hit_r, hit_c = np.nonzero(fraction)
    return (
        (hit_r + r0).astype(np.int32),
        (hit_c + c0).astype(np.int32),
        fraction[hit_r, hit_c].astype(float),
    )
