"""Optical change (dNBR, NDVI, brightness), masks, nodata and reprojection."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from rasterio.warp import Resampling, calculate_default_transform, reproject
from shapely.geometry import Point, box, shape

from satellite.raster.raster_testkit import (
    ORIGIN,
    T_POST,
    T_PRE,
    UTM36,
    burn,
    noisy,
    optical_scene,
    write_tif,
)
from truceline.model.timeutil import format_utc
from truceline.satellite.raster import RasterInputError, run_change

BURN_ROWS, BURN_COLS = slice(40, 70), slice(60, 100)  # 30 x 40 pixels of 10 m: 12 ha


def _observations(path: Path) -> list[dict[str, Any]]:
    features = json.loads(path.read_text())["features"]
    return [f for f in features if f["properties"]["record"] == "observation"]


def _patch_utm(rows: slice, cols: slice) -> Any:
    """The pixel block as a polygon in UTM 36N (10 m pixels from ORIGIN)."""
    x0, y0 = ORIGIN
    return box(x0 + 10 * cols.start, y0 - 10 * rows.stop, x0 + 10 * cols.stop, y0 - 10 * rows.start)


def _to_utm(geometry: Any) -> Any:
    forward = Transformer.from_crs("EPSG:4326", UTM36, always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(forward.transform(*xy.T)))


def _main_and_noise(features: list[dict[str, Any]], n: int = 1) -> list[dict[str, Any]]:
    """The ``n`` largest features; every other one must be a few-pixel noise speck
    (the default threshold bounds the false-discovery rate per pixel, at 5 %)."""
    ranked = sorted(features, key=lambda f: -f["properties"]["attributes"]["n_pixels"])
    assert all(f["properties"]["attributes"]["n_pixels"] <= 3 for f in ranked[n:])
    return ranked[:n]


@pytest.fixture
def burned(tmp_path: Path) -> tuple[Path, Path]:
    """A 2-band (nir, swir2) pre image and a post image with a burn scar."""
    rng = np.random.default_rng(21)
    nir, swir2 = optical_scene(rng)
    pre = np.stack([noisy(rng, nir), noisy(rng, swir2)]).astype(np.float32)
    nir_post, swir_post = noisy(rng, nir), noisy(rng, swir2)
    burn(nir_post, swir_post, BURN_ROWS, BURN_COLS)
    post = np.stack([nir_post, swir_post]).astype(np.float32)
    tags_pre = {"ACQUISITION_TIME": format_utc(T_PRE)}
    tags_post = {"TIFFTAG_DATETIME": T_POST.strftime("%Y:%m:%d %H:%M:%S")}
    return (
        write_tif(tmp_path / "pre.tif", pre, tags=tags_pre, descriptions=["NIR", "SWIR2"]),
        write_tif(tmp_path / "post.tif", post, tags=tags_post, descriptions=["NIR", "SWIR2"]),
    )


def test_dnbr_finds_the_burn_scar_where_it_is(burned: tuple[Path, Path], tmp_path: Path) -> None:
    pre, post = burned
    run = run_change([pre], [post], tmp_path / "out", chunk=64)
    assert run.method == "dnbr"  # chosen from the band descriptions
    (feature,) = _observations(run.observations_path)
    props = feature["properties"]
    assert props["kind"] == "burn_scar"
    # The change happened between the two acquisitions (times from the two tags).
    assert (props["time"], props["time_end"]) == (format_utc(T_PRE), format_utc(T_POST))
    assert [i["time_tag"] for i in (*run.summary["pre"], *run.summary["post"])] == [
        "ACQUISITION_TIME",
        "TIFFTAG_DATETIME",
    ]
    polygon = _to_utm(shape(feature["geometry"]))
    truth = _patch_utm(BURN_ROWS, BURN_COLS)
    assert polygon.intersection(truth).area / polygon.union(truth).area > 0.97
    attributes = props["attributes"]
    assert attributes["area_m2"] == pytest.approx(30 * 40 * 100.0, rel=0.03)
    # NIR x 0.5 and SWIR2 x 1.8 of (3000, 1200): NBR 0.43 -> -0.18, dNBR ~0.6.
    assert attributes["statistic"]["mean"] == pytest.approx(0.6, abs=0.05)
    assert attributes["severity"] == "moderate-high"
    assert attributes["confidence"] > 0.999
    assert run.summary["threshold"] == pytest.approx(0.1)  # USGS floor above the BH threshold


def test_dnbr_from_single_band_files_and_ndvi(tmp_path: Path) -> None:
    rng = np.random.default_rng(22)
    nir, swir2 = optical_scene(rng)
    red = 600.0 + 50.0 * rng.standard_normal(nir.shape)
    files: dict[str, dict[str, Path]] = {"pre": {}, "post": {}}
    for period in ("pre", "post"):
        bands = {"nir": noisy(rng, nir), "swir2": noisy(rng, swir2), "red": noisy(rng, red)}
        if period == "post":
            bands["nir"][BURN_ROWS, BURN_COLS] *= 0.5  # vegetation loss
        for role, values in bands.items():
            path = tmp_path / f"{period}_{role}.tif"
            files[period][role] = write_tif(path, values.astype(np.float32))
    times = {"pre_times": [T_PRE], "post_times": [T_POST]}
    dnbr = run_change([files["pre"]], [files["post"]], tmp_path / "dnbr", chunk=64, **times)
    assert dnbr.method == "dnbr"
    ndvi = run_change(
        [{"nir": files["pre"]["nir"], "red": files["pre"]["red"]}],
        [{"nir": files["post"]["nir"], "red": files["post"]["red"]}],
        tmp_path / "ndvi",
        chunk=64,
        **times,
    )
    assert ndvi.method == "ndvi"
    (feature,) = _main_and_noise(_observations(ndvi.observations_path))
    assert feature["properties"]["kind"] == "surface_change"  # 12 ha: not a crater
    truth = _patch_utm(BURN_ROWS, BURN_COLS)
    assert _to_utm(shape(feature["geometry"])).intersection(truth).area > 0.95 * truth.area


def test_brightness_change_is_two_sided(tmp_path: Path) -> None:
    rng = np.random.default_rng(23)
    scene = 800.0 + 100.0 * rng.standard_normal((100, 100))
    post = noisy(rng, scene)
    post[10:20, 10:30] *= 2.0  # new bare earth: brighter
    post[60:70, 60:70] *= 0.5  # a new shadow or water: darker
    run = run_change(
        [write_tif(tmp_path / "a.tif", noisy(rng, scene).astype(np.float32))],
        [write_tif(tmp_path / "b.tif", post.astype(np.float32))],
        tmp_path / "out",
        method="brightness",
        pre_times=[T_PRE],
        post_times=[T_POST],
        chunk=64,
    )
    main = _main_and_noise(_observations(run.observations_path), 2)
    found = sorted(
        (f["properties"]["attributes"]["direction"], f["properties"]["attributes"]["n_pixels"])
        for f in main
    )
    assert found == [("decrease", 100), ("increase", 200)]
    peak = max(f["properties"]["attributes"]["statistic"]["peak"] for f in main)
    assert peak == pytest.approx(10 * np.log10(2.0), abs=0.5)  # dB


def test_cloud_masks_exclude_pixels_and_are_reported(
    burned: tuple[Path, Path], tmp_path: Path
) -> None:
    pre, post = burned
    with rasterio.open(post) as src:
        data, tags = src.read(), src.tags()
    data[:, 90:110, 20:50] = 9000.0  # a bright cloud over part of the post image
    cloudy = write_tif(tmp_path / "cloudy.tif", data, tags=tags, descriptions=["nir", "swir2"])
    mask = np.zeros(data.shape[1:], dtype=np.uint8)
    mask[88:112, 18:52] = 1  # the cloud mask, a little wider than the cloud
    mask_post = write_tif(tmp_path / "mask_post.tif", mask)
    mask_pre = write_tif(tmp_path / "mask_pre.tif", np.zeros_like(mask))
    unmasked = run_change([pre], [cloudy], tmp_path / "unmasked", chunk=64)
    masked = run_change(
        [pre], [cloudy], tmp_path / "masked", chunk=64, masks_pre=[mask_pre], masks_post=[mask_post]
    )
    assert unmasked.n_changes == 2  # the cloud looks like change ...
    assert masked.n_changes == 1  # ... unless masked
    flagged = 24 * 34
    pixels = mask.size
    assert masked.summary["masked_fraction_per_image"] == [0.0, flagged / pixels]
    assert masked.summary["masked_fraction"] == pytest.approx(flagged / (2 * pixels))
    assert masked.summary["valid_fraction"] == pytest.approx(1 - flagged / pixels)
    with rasterio.open(masked.statistic_path) as src:
        statistic = src.read(1)
    assert np.isnan(statistic[88:112, 18:52]).all()
    assert np.isfinite(statistic[:88]).all()


def test_nodata_is_left_out(burned: tuple[Path, Path], tmp_path: Path) -> None:
    pre, post = burned
    with rasterio.open(pre) as src:
        data, tags, descriptions = src.read(), src.tags(), src.descriptions
    data[:, :, :10] = -9999.0  # a strip outside the swath
    holed = write_tif(
        tmp_path / "holed.tif", data, nodata=-9999.0, tags=tags, descriptions=list(descriptions)
    )
    run = run_change([holed], [post], tmp_path / "out", chunk=64)
    with rasterio.open(run.statistic_path) as src:
        statistic = src.read(1)
    assert np.isnan(statistic[:, :10]).all() and np.isfinite(statistic[:, 10:]).all()
    assert run.summary["valid_fraction"] == pytest.approx(1 - 10 / statistic.shape[1])
    assert run.n_changes == 1


def _warp(src_path: Path, dst_path: Path, crs: str) -> Path:
    """``src_path`` resampled (nearest) onto a grid in ``crs``."""
    with rasterio.open(src_path) as src, warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # rasterio 1.4's Affine '*'
        transform, width, height = calculate_default_transform(
            src.crs, crs, src.width, src.height, *src.bounds
        )
        profile = src.profile | {"crs": crs, "transform": transform, "width": width}
        profile |= {"height": height}
        with rasterio.open(dst_path, "w", **profile) as dst:
            for band in range(1, src.count + 1):
                reproject(
                    rasterio.band(src, band),
                    rasterio.band(dst, band),
                    dst_transform=transform,
                    dst_crs=crs,
                    resampling=Resampling.nearest,
                )
            dst.update_tags(**src.tags())
            dst.descriptions = src.descriptions
    return dst_path


def test_post_image_in_another_crs_is_reprojected(
    burned: tuple[Path, Path], tmp_path: Path
) -> None:
    pre, post = burned
    moved = _warp(post, tmp_path / "post_utm35.tif", "EPSG:32635")
    run = run_change([pre], [moved], tmp_path / "out", chunk=64)
    assert run.summary["post"][0]["reprojected"] == [str(moved)]
    assert run.summary["grid"]["crs"] == UTM36
    features = _observations(run.observations_path)
    truth = _patch_utm(BURN_ROWS, BURN_COLS)
    biggest = max(features, key=lambda f: f["properties"]["attributes"]["area_m2"])
    polygon = _to_utm(shape(biggest["geometry"]))
    assert polygon.intersection(truth).area / polygon.union(truth).area > 0.85
    # Refused, naming the file, when reprojection is off.
    with pytest.raises(RasterInputError, match=r"post_utm35\.tif.*EPSG:32635"):
        run_change([pre], [moved], tmp_path / "refused", reproject=False)
    assert not (tmp_path / "refused").exists()


def test_target_crs_and_resolution(burned: tuple[Path, Path], tmp_path: Path) -> None:
    pre, post = burned
    run = run_change([pre], [post], tmp_path / "out", chunk=64, crs="EPSG:3035", resolution=20.0)
    assert run.summary["grid"]["crs"] == "EPSG:3035"
    assert run.summary["grid"]["transform"][0] == 20.0
    (feature,) = _observations(run.observations_path)
    centre = _to_utm(shape(feature["geometry"])).centroid
    assert centre.distance(_patch_utm(BURN_ROWS, BURN_COLS).centroid) < 20.0
    assert Point(centre.x, centre.y).within(_patch_utm(BURN_ROWS, BURN_COLS))
