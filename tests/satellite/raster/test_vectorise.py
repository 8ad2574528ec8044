"""Regions -> polygons: tile-edge merging, geodesic area, shape-based kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import Polygon

from satellite.raster.raster_testkit import UTM36, write_tif
from truceline.satellite.raster.io import inspect_raster
from truceline.satellite.raster.vectorise import (
    ShapeFacts,
    find_components,
    shape_facts,
    shape_kind,
    to_lonlat,
)


def _statistic(path: Path) -> Path:
    data = np.zeros((64, 64), dtype=np.float32)
    data[10:40, 14:18] = 5.0  # a vertical bar crossing the tile edges at 16 and 32
    data[30:34, 18:50] = 6.0  # joined to a horizontal bar: one L-shaped region
    data[40, 18] = 4.0  # touches the bar's corner only (8-connected, across tiles)
    data[47, 47] = 7.0  # a pixel meeting the next only at a tile corner
    data[48, 48] = 7.0
    data[5:8, 5:8] = -5.0  # a decrease, adjacent to nothing
    data[8, 8] = 5.0  # an increase touching the decrease at a corner: kept apart
    data[60:63, 60:63] = np.nan
    return write_tif(path, data)


@pytest.mark.parametrize("tile", [16, 32, 1024])
def test_regions_are_the_same_whatever_the_tile_size(tmp_path: Path, tile: int) -> None:
    path = _statistic(tmp_path / "stat.tif")
    found = find_components(path, 3.0, two_sided=True, tile=tile)
    summary = sorted((c.sign, c.n_pixels, round(c.total, 6), c.geometry.area) for c in found)
    assert summary == [
        (-1, 9, 45.0, 9.0),
        (1, 1, 5.0, 1.0),
        (1, 2, 14.0, 2.0),
        (1, 30 * 4 + 4 * 32 + 1, 30 * 4 * 5 + 4 * 32 * 6 + 4.0, 30 * 4 + 4 * 32 + 1),
    ]
    assert [(c.row, c.col) for c in found] == sorted((c.row, c.col) for c in found)


def test_one_sided_search_ignores_decreases(tmp_path: Path) -> None:
    path = _statistic(tmp_path / "stat.tif")
    found = find_components(path, 3.0, two_sided=False, tile=16)
    assert all(c.sign == 1 for c in found)
    assert len(found) == 3


def test_polygon_area_is_geodesic_and_in_place(tmp_path: Path) -> None:
    path = _statistic(tmp_path / "stat.tif")
    info = inspect_raster(path)
    transformer = Transformer.from_crs(UTM36, "EPSG:4326", always_xy=True)
    (decrease,) = [c for c in find_components(path, 3.0, two_sided=True, tile=16) if c.sign < 0]
    polygon = to_lonlat(decrease, info.grid, transformer)
    facts = shape_facts(polygon)
    # 3 x 3 pixels of 10 m; UTM shrinks distances by ~0.9996-1.0004 here.
    assert facts.area_m2 == pytest.approx(900.0, rel=0.005)
    assert facts.length_m == pytest.approx(30.0, rel=0.01)
    x, y = Transformer.from_crs("EPSG:4326", UTM36, always_xy=True).transform(
        polygon.centroid.x, polygon.centroid.y
    )
    # Pixel rows 5-7, columns 5-7 from the corner (600000, 5400000): centre 65 m in.
    assert x == pytest.approx(600_065.0, abs=0.01)
    assert y == pytest.approx(5_400_000.0 - 65.0, abs=0.01)


def test_corner_touching_parts_become_one_valid_polygon(tmp_path: Path) -> None:
    path = _statistic(tmp_path / "stat.tif")
    info = inspect_raster(path)
    transformer = Transformer.from_crs(UTM36, "EPSG:4326", always_xy=True)
    (pair,) = [c for c in find_components(path, 3.0, two_sided=True, tile=16) if c.n_pixels == 2]
    polygon = to_lonlat(pair, info.grid, transformer)
    assert isinstance(polygon, Polygon) and polygon.is_valid
    assert shape_facts(polygon).area_m2 == pytest.approx(200.0, rel=0.01)


@pytest.mark.parametrize(
    ("facts", "kind"),
    [
        (ShapeFacts(area_m2=1_500.0, length_m=150.0, width_m=10.0), "earthworks"),
        (ShapeFacts(area_m2=300.0, length_m=30.0, width_m=10.0), "surface_change"),
        (ShapeFacts(area_m2=400.0, length_m=20.0, width_m=20.0), "crater"),
        (ShapeFacts(area_m2=40_000.0, length_m=200.0, width_m=200.0), "surface_change"),
    ],
)
def test_shape_kind(facts: ShapeFacts, kind: str) -> None:
    assert shape_kind(facts) == kind
