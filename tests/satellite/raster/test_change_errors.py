"""Bad input: clear errors naming the file, and nothing half-written."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.errors import NotGeoreferencedWarning

from satellite.raster.raster_testkit import T_POST, T_PRE, write_tif
from truceline.satellite.raster import ChangeConfigError, RasterInputError, run_change
from truceline.satellite.raster.synthetic import SyntheticStack, write_sar_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> SyntheticStack:
    return write_sar_stack(
        tmp_path_factory.mktemp("stack"), n_pre=2, n_post=2, shape=(64, 64), seed=9
    )


def _sar(tmp_path: Path, name: str, shape: tuple[int, int] = (64, 64), **kwargs: object) -> Path:
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    data = (0.05 * rng.gamma(4.4, 1 / 4.4, size=shape)).astype(np.float32)
    tags = {"ACQUISITION_TIME": "2026-05-01T08:30:00Z"}
    return write_tif(tmp_path / name, data, tags=tags, **kwargs)  # type: ignore[arg-type]


def test_geotiff_without_crs_is_refused_by_name(stack: SyntheticStack, tmp_path: Path) -> None:
    bare = _sar(tmp_path, "no_crs.tif", crs=None)
    with pytest.raises(RasterInputError, match=r"no_crs\.tif: has no CRS"):
        run_change([*stack.pre, bare], stack.post, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_gcp_only_georeferencing_is_refused(stack: SyntheticStack, tmp_path: Path) -> None:
    path = tmp_path / "gcps.tif"
    gcps = [
        GroundControlPoint(0, 0, 33.0, 48.0),
        GroundControlPoint(0, 64, 33.1, 48.0),
        GroundControlPoint(64, 0, 33.0, 47.9),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=64, height=64, count=1, dtype="float32"
        ) as dst:
            dst.write(np.ones((1, 64, 64), dtype=np.float32))
            dst.gcps = (gcps, rasterio.crs.CRS.from_epsg(4326))
    with pytest.raises(RasterInputError, match=r"gcps\.tif: has no geotransform, only ground"):
        run_change([path, *stack.pre], stack.post, tmp_path / "out")


def test_mismatched_shapes_refused_without_reprojection(
    stack: SyntheticStack, tmp_path: Path
) -> None:
    odd = _sar(tmp_path, "odd.tif", shape=(50, 64))
    with pytest.raises(RasterInputError, match=r"odd\.tif: .*64x50 pixels instead of 64x64"):
        run_change(stack.pre, [*stack.post[:1], odd], tmp_path / "out", reproject=False)
    assert not (tmp_path / "out").exists()


def test_smaller_image_is_placed_on_the_grid_with_reprojection(
    stack: SyntheticStack, tmp_path: Path
) -> None:
    with rasterio.open(stack.pre[0]) as src:
        transform = src.transform
    half = _sar(tmp_path, "half.tif", shape=(32, 64), transform=transform, crs="EPSG:32636")
    run = run_change(
        stack.pre, [stack.post[0], half], tmp_path / "out", post_times=list(stack.post_times)
    )
    assert run.summary["post"][1]["reprojected"] == [str(half)]
    # Only the rows both post images cover have two post values: a Welch test.
    assert run.summary["valid_fraction"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"post": []}, "need pre and post images, got 2 pre and 0 post"),
        ({"method": "magic"}, "unknown method 'magic'"),
        ({"kind": "volcano"}, "unknown kind 'volcano'"),
        ({"chunk": 100}, "chunk must be a positive multiple of 16"),
        ({"window": 4}, "window must be an odd number"),
        ({"combine": "median"}, "unknown combination 'median'"),
        ({"masks_pre": ["m.tif"]}, "1 pre mask"),
        ({"method": "log_ratio"}, "log_ratio compares one pre with one post image"),
        ({"fdr": 0.0}, "fdr must be in"),
        ({"threshold": -1.0}, "threshold must be a positive number"),
        ({"units": "natural"}, "unknown units 'natural'"),
        ({"sensor_id": " "}, "sensor id is empty"),
        ({"null": "theoretical", "method": "dnbr"}, "dnbr has no theoretical null"),
        ({"pre_times": [T_PRE]}, "1 pre time"),
        ({"pre_times": [T_PRE, T_POST]}, "precedes the last pre acquisition"),
        ({"pre_times": [T_PRE, datetime(2026, 5, 2)]}, "has no UTC offset"),  # noqa: DTZ001
    ],
)
def test_bad_arguments_are_usage_errors(
    stack: SyntheticStack, tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    post = kwargs.pop("post", stack.post)
    with pytest.raises(ChangeConfigError, match=message):
        run_change(stack.pre, post, tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_auto_cannot_choose_for_one_pre_and_two_post(stack: SyntheticStack, tmp_path: Path) -> None:
    with pytest.raises(ChangeConfigError, match="1 pre and 2 post"):
        run_change(stack.pre[:1], stack.post, tmp_path / "out")


def test_missing_and_unreadable_files_are_named(stack: SyntheticStack, tmp_path: Path) -> None:
    with pytest.raises(RasterInputError, match=r"nothere\.tif: no such file"):
        run_change([tmp_path / "nothere.tif", stack.pre[1]], stack.post, tmp_path / "out")
    text = tmp_path / "notes.tif"
    text.write_text("not a raster")
    with pytest.raises(RasterInputError, match=r"notes\.tif: not a readable raster"):
        run_change([text, stack.pre[1]], stack.post, tmp_path / "out")


def test_bad_bands_and_differing_channels_are_named(stack: SyntheticStack, tmp_path: Path) -> None:
    with pytest.raises(RasterInputError, match=r"s1_pre_00\.tif, field 'vh': has 1 band"):
        run_change(stack.pre, stack.post, tmp_path / "out", bands={"vh": 2})
    two = write_sar_stack(
        tmp_path / "two", n_pre=1, n_post=0, shape=(64, 64), polarisations=("VV", "VH"), seed=2
    )
    with pytest.raises(RasterInputError, match=r"gives channels \['vh', 'vv'\]"):
        run_change([stack.pre[0], *two.pre], stack.post, tmp_path / "out")


def test_missing_acquisition_time_names_the_file(stack: SyntheticStack, tmp_path: Path) -> None:
    untimed = write_tif(tmp_path / "untimed.tif", np.ones((64, 64), dtype=np.float32))
    with pytest.raises(RasterInputError, match=r"untimed\.tif: has no acquisition time"):
        run_change([untimed, stack.pre[1]], stack.post, tmp_path / "out")


def _truncated(source: Path, target: Path) -> Path:
    """A copy whose header is intact but whose pixel data stops halfway."""
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def test_a_read_failure_midway_leaves_nothing_behind(stack: SyntheticStack, tmp_path: Path) -> None:
    broken = _truncated(stack.post[1], tmp_path / "broken.tif")
    out = tmp_path / "out"
    with pytest.raises(RasterInputError, match=r"broken\.tif: read failed"):
        run_change(stack.pre, [stack.post[0], broken], out, chunk=16)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tif"]
    # An earlier run's outputs survive a failed re-run untouched.
    first = run_change(stack.pre, stack.post, out, chunk=16)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RasterInputError):
        run_change(stack.pre, [stack.post[0], broken], out, chunk=16)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert first.observations_path.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tif", "out"]
