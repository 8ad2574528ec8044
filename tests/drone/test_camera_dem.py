"""Camera geometry over a DEM GeoTIFF: a tilted plane with an analytic answer, bad DEMs."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import Affine

from truceline.drone.base import CameraPose
from truceline.drone.camera import Terrain, footprints, geolocate, gsd_m, project
from truceline.drone.montecarlo import geolocation_trials
from truceline.model.errors import RecordError
from truceline.model.geo import WGS84_GEOD

LON0, LAT0 = 36.0, 48.0
SLOPE = 0.2  # metres up per metre east
BASE_M = 100.0
M_PER_DEG_LON = WGS84_GEOD.inv(LON0 - 0.005, LAT0, LON0 + 0.005, LAT0)[2] / 0.01
R = 6_371_008.8


def plane_height(lon: np.ndarray) -> np.ndarray:
    return BASE_M + SLOPE * (np.asarray(lon) - LON0) * M_PER_DEG_LON


def from_origin(west: float, north: float, dx: float, dy: float) -> Affine:
    return Affine(dx, 0.0, west, 0.0, -dy, north)


def write_dem(path: Path, crs: str | None = "EPSG:4326", hole: bool = False) -> Path:
    """The tilted plane as a GeoTIFF around (LON0, LAT0), 0.0005 deg or 40 m cells."""
    if crs in ("EPSG:4326", None):
        step = 0.0005
        transform = from_origin(LON0 - 0.04, LAT0 + 0.03, step, step)
        rows, cols = np.mgrid[0:120, 0:160]
        lon = LON0 - 0.04 + (cols + 0.5) * step
    else:
        to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        e0, n0 = to_utm.transform(LON0, LAT0)
        transform = from_origin(e0 - 3000.0, n0 + 3000.0, 40.0, 40.0)
        rows, cols = np.mgrid[0:150, 0:150]
        east = e0 - 3000.0 + (cols + 0.5) * 40.0
        north = n0 + 3000.0 - (rows + 0.5) * 40.0
        lon, _ = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(east, north)
    heights = plane_height(lon).astype("float32")
    if hole:
        heights[50:70, 100:120] = -9999.0
    with rasterio.open(
        path, "w", driver="GTiff", width=heights.shape[1], height=heights.shape[0], count=1,
        dtype="float32", crs=crs, transform=transform, nodata=-9999.0,
    ) as ds:  # fmt: skip
        ds.write(heights, 1)
    return path


def east_pose(depression_deg: float = 30.0) -> CameraPose:
    """A camera 1000 m above MSL looking due east, ``depression_deg`` below the horizon."""
    return CameraPose(
        time_s=1.8e9, lon=LON0, lat=LAT0, alt_m=1000.0, heading_deg=90.0, pitch_deg=0.0,
        roll_deg=0.0, sensor_az_deg=0.0, sensor_el_deg=-depression_deg, sensor_roll_deg=0.0,
        hfov_deg=20.0, vfov_deg=15.0, width_px=1280, height_px=960, frame=3,
    )  # fmt: skip


def analytic_range(depression_deg: float) -> float:
    """Range to the plane: alt - t sin a = base + s t cos a - (t cos a)^2 / 2R."""
    s_a, c_a = math.sin(math.radians(depression_deg)), math.cos(math.radians(depression_deg))
    a, b, c = c_a * c_a / (2 * R), -(s_a + SLOPE * c_a), 1000.0 - BASE_M
    return (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)


def test_height_at_is_vectorised_and_exact_on_a_plane(tmp_path: Path) -> None:
    terrain = Terrain.from_geotiff(write_dem(tmp_path / "dem.tif"))
    rng = np.random.default_rng(1)
    lon = LON0 + rng.uniform(-0.035, 0.035, (4, 5))
    lat = LAT0 + rng.uniform(-0.025, 0.025, (4, 5))
    heights = terrain.height_at(lon, lat)
    assert heights.shape == (4, 5)
    np.testing.assert_allclose(heights, plane_height(lon), atol=1e-3)


def test_ray_meets_the_slope_where_the_algebra_says(tmp_path: Path) -> None:
    terrain = Terrain.from_geotiff(write_dem(tmp_path / "dem.tif"))
    for depression in (30.0, 60.0, 89.0):
        pose = east_pose(depression)
        point = geolocate(pose, 640, 480, terrain)
        t = analytic_range(depression)
        assert point.slant_range_m == pytest.approx(t, abs=0.02)
        east = t * math.cos(math.radians(depression))
        assert (point.lon - LON0) * M_PER_DEG_LON == pytest.approx(east, abs=0.02)
        assert point.height_m == pytest.approx(BASE_M + SLOPE * east, abs=0.01)
        assert project(pose, point.lon, point.lat, point.height_m) == pytest.approx(
            (640, 480), abs=1e-3
        )


def test_dem_footprints_and_gsd(tmp_path: Path) -> None:
    terrain = Terrain.from_geotiff(write_dem(tmp_path / "dem.tif"))
    poses = [east_pose(45.0), replace(east_pose(80.0), heading_deg=60.0)]
    corners = footprints(poses, terrain)
    for pose, quad in zip(poses, corners, strict=True):
        heights = terrain.height_at(quad[:, 0], quad[:, 1])
        for (lon, lat), h, uv in zip(quad, heights, [(0, 0), (1280, 0), (1280, 960), (0, 960)],
                                     strict=True):  # fmt: skip
            assert project(pose, lon, lat, float(h)) == pytest.approx(uv, abs=1e-2)
    # the ground rises towards the camera's view: a finer GSD than over flat ground at 100 m
    assert gsd_m(east_pose(45.0), terrain) < gsd_m(east_pose(45.0), Terrain.flat(BASE_M))


def test_projected_dem_is_sampled_through_its_crs(tmp_path: Path) -> None:
    geographic = Terrain.from_geotiff(write_dem(tmp_path / "wgs84.tif"))
    utm = Terrain.from_geotiff(write_dem(tmp_path / "utm.tif", crs="EPSG:32637"))
    lon = LON0 + np.linspace(-0.03, 0.03, 7)
    lat = np.full(7, LAT0 + 0.01)
    np.testing.assert_allclose(utm.height_at(lon, lat), plane_height(lon), atol=0.01)
    a = geolocate(east_pose(), 640, 480, geographic)
    b = geolocate(east_pose(), 640, 480, utm)
    assert b.slant_range_m == pytest.approx(a.slant_range_m, abs=0.05)


def test_dem_without_crs_is_refused(tmp_path: Path) -> None:
    path = write_dem(tmp_path / "nocrs.tif", crs=None)
    with pytest.raises(RecordError, match=r"nocrs\.tif: the DEM has no CRS"):
        Terrain.from_geotiff(path)


def test_dem_with_feet_heights_is_refused_naming_the_crs(tmp_path: Path) -> None:
    path = write_dem(tmp_path / "feet.tif")
    with rasterio.open(path, "r+") as ds:
        ds.crs = rasterio.crs.CRS.from_string("EPSG:4326+6360")
    with pytest.raises(RecordError, match=r"CRS .*4326.*6360.*heights in .*foot"):
        Terrain.from_geotiff(path)


def test_unreadable_dem(tmp_path: Path) -> None:
    path = tmp_path / "junk.tif"
    path.write_bytes(b"not a tiff")
    with pytest.raises(RecordError, match="cannot read the DEM"):
        Terrain.from_geotiff(path)


def test_outside_the_dem_names_the_point(tmp_path: Path) -> None:
    terrain = Terrain.from_geotiff(write_dem(tmp_path / "dem.tif"))
    with pytest.raises(RecordError, match=r"dem\.tif: point \(37\.000000, 48\.000000\) is outside"):
        terrain.height_at([36.0, 37.0], [48.0, 48.0])
    # 10 deg down from 1000 m reaches ~5 km east, beyond the DEM's 3 km
    with pytest.raises(RecordError, match="outside the DEM"):
        geolocate(east_pose(10.0), 640, 480, terrain)


def test_nodata_hole_is_an_error_not_a_height(tmp_path: Path) -> None:
    terrain = Terrain.from_geotiff(write_dem(tmp_path / "hole.tif", hole=True))
    # the hole spans lon 36.010-36.020, lat 47.995-48.005
    with pytest.raises(RecordError, match=r"no DEM height at \(36\.015000, 48\.000000\).*nodata"):
        terrain.height_at(36.015, 48.0)
    with pytest.raises(RecordError, match="nodata"):
        geolocate(east_pose(45.0), 640, 480, terrain)  # hits ~1.1 km east = lon 36.015
    assert terrain.height_at(36.0, 48.0) == pytest.approx(BASE_M, abs=1e-3)


def test_ellipse95_coverage_over_the_slope(tmp_path: Path) -> None:
    terrain = Terrain.from_geotiff(write_dem(tmp_path / "dem.tif"))
    view = replace(east_pose(50.0), heading_deg=110.0, pitch_deg=1.0, roll_deg=-2.0)
    trials = geolocation_trials(view, 500.0, 600.0, terrain, 1000, np.random.default_rng(13))
    assert 0.92 <= trials.coverage() <= 0.98
