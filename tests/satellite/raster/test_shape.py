"""Region shape from second moments: thin lines at any angle stay long, craters stay small."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio.features
import shapely
from pyproj import Transformer
from rasterio.crs import CRS
from scipy import ndimage
from shapely import affinity
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, shape

from satellite.raster.raster_testkit import ORIGIN, UTM36, grid_transform
from truceline.satellite.raster.io import Grid
from truceline.satellite.raster.shape import area_moments, region_shape
from truceline.satellite.raster.vectorise import ShapeFacts, shape_kind

SIZE = 200
GRID = Grid(CRS.from_user_input(UTM36), grid_transform(), SIZE, SIZE)
TO_LONLAT = Transformer.from_crs(UTM36, "EPSG:4326", always_xy=True)
#: A 3 x 3 window spreads a change by one pixel on every side.
WINDOW = np.ones((3, 3), dtype=bool)


def _region(mask: np.ndarray) -> Polygon | MultiPolygon:
    """Pixel-edge outline of the True pixels (x = column, y = row)."""
    parts = [
        shape(g)
        for g, _ in rasterio.features.shapes(mask.astype(np.uint8), mask=mask, connectivity=4)
    ]
    return shapely.union_all(parts)


def _pixels(geometry: Polygon, all_touched: bool = False) -> np.ndarray:
    """Pixels of the 10 m grid whose centre is inside ``geometry`` (UTM metres)."""
    return rasterio.features.rasterize(
        [geometry], out_shape=(SIZE, SIZE), transform=grid_transform(), all_touched=all_touched
    ).astype(bool)


def _centre() -> tuple[float, float]:
    return ORIGIN[0] + 10.0 * SIZE / 2, ORIGIN[1] - 10.0 * SIZE / 2


def _measure(mask: np.ndarray, blur_px: int) -> tuple[ShapeFacts, float]:
    area = float(mask.sum()) * 100.0
    found = region_shape(_region(mask), blur_px, GRID, TO_LONLAT, area)
    return ShapeFacts(found.core_area_m2, found.length_m, found.width_m), found.azimuth_deg


def test_area_moments_of_pixel_shapes() -> None:
    area, centre, cov = area_moments(box(0, 0, 3, 2))
    assert area == pytest.approx(6.0)
    np.testing.assert_allclose(centre, [1.5, 1.0])
    # A w x h rectangle: variances w²/12 and h²/12, no covariance.
    np.testing.assert_allclose(cov, [[9 / 12, 0.0], [0.0, 4 / 12]], atol=1e-12)
    # A ring: the hole is left out, the centre stays, the spread grows.
    ring = box(100, 200, 105, 205).difference(box(101, 201, 104, 204))
    area, centre, cov = area_moments(ring)
    assert area == pytest.approx(16.0)
    np.testing.assert_allclose(centre, [102.5, 202.5])
    assert cov[0, 0] == pytest.approx((25 * 25 / 12 - 9 * 9 / 12) / 16)
    # Two squares far apart: one region, its moments those of both.
    pair = MultiPolygon([box(0, 0, 1, 1), box(9, 0, 10, 1)])
    area, centre, cov = area_moments(pair)
    assert (area, *centre) == pytest.approx((2.0, 5.0, 0.5))
    assert cov[0, 0] == pytest.approx(4.5**2 + 1 / 12)


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 73.0])
def test_a_rotated_rectangle_is_measured_exactly(angle: float) -> None:
    # In pixel units: 25 x 1.5 pixels = 250 x 15 m.
    rectangle = affinity.rotate(box(-12.5, -0.75, 12.5, 0.75), angle).buffer(0)
    found = region_shape(affinity.translate(rectangle, 100, 100), 0, GRID, TO_LONLAT, 3750.0)
    # UTM's scale factor here is within 0.1 % of 1.
    assert found.length_m == pytest.approx(250.0, rel=0.005)
    assert found.width_m == pytest.approx(15.0, rel=0.005)
    assert found.core_area_m2 == pytest.approx(3750.0, rel=1e-6)


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 73.0])
@pytest.mark.parametrize(("length_m", "width_m"), [(150.0, 10.0), (250.0, 20.0), (400.0, 15.0)])
def test_thin_trench_lines_are_earthworks_at_any_angle(
    angle: float, length_m: float, width_m: float
) -> None:
    """A 1-2 pixel wide line, detected through a 3 x 3 window (one pixel wider on each
    side), keeps its length and comes back about its width: elongated."""
    east, north = _centre()
    line = LineString([(-length_m / 2, 0.0), (length_m / 2, 0.0)])
    trench = affinity.translate(
        affinity.rotate(line, angle, origin=(0, 0)).buffer(width_m / 2, cap_style="flat"),
        east,
        north,
    )
    change = _pixels(trench)
    detected = ndimage.binary_dilation(change, WINDOW)
    facts, azimuth = _measure(detected, blur_px=1)
    assert facts.length_m == pytest.approx(length_m, rel=0.12)
    assert facts.width_m <= width_m + 12.0
    assert facts.length_m / facts.width_m >= 5.0
    assert shape_kind(facts) == "earthworks"
    # Direction of the line: counter-clockwise from east -> clockwise from north
    # (UTM grid north is within ~1 degree of true north here).
    expected = (90.0 - angle) % 180.0
    assert min(abs(azimuth - expected), 180.0 - abs(azimuth - expected)) < 2.5


@pytest.mark.parametrize("diameter_m", [10.0, 12.0, 15.0])
@pytest.mark.parametrize("offset", [(0.0, 0.0), (3.0, 7.0), (5.0, 5.0)])
def test_craters_of_10_to_15_m_are_craters(diameter_m: float, offset: tuple[float, float]) -> None:
    """A crater and its ejecta apron (twice its diameter) cover 2-3 pixels across;
    detected through the window they stay crater-sized once the blur is off."""
    east, north = _centre()
    apron = Point(east + offset[0], north + offset[1]).buffer(diameter_m)
    detected = ndimage.binary_dilation(_pixels(apron), WINDOW)
    facts, _ = _measure(detected, blur_px=1)
    assert facts.area_m2 <= 1_000.0
    assert facts.length_m / facts.width_m < 2.0
    assert shape_kind(facts) == "crater"


def test_a_field_sized_change_is_not_a_crater() -> None:
    east, north = _centre()
    block = box(east, north, east + 50.0, north + 50.0)  # 5 x 5 pixels
    detected = ndimage.binary_dilation(_pixels(block), WINDOW)  # 7 x 7
    facts, _ = _measure(detected, blur_px=1)
    assert facts.length_m == pytest.approx(50.0, rel=0.01)
    assert facts.area_m2 == pytest.approx(2_500.0, rel=0.01)
    assert shape_kind(facts) == "surface_change"


def test_a_one_pixel_region_is_one_pixel() -> None:
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    mask[50, 60] = True
    facts, _ = _measure(mask, blur_px=1)
    assert (facts.length_m, facts.width_m) == pytest.approx((10.0, 10.0), rel=0.001)
    assert facts.area_m2 == pytest.approx(100.0)
    assert not math.isnan(facts.length_m)
