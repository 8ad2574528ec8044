"""``truceline satellite change`` on the command line, and its output through ``ingest``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from satellite.raster.raster_testkit import burn, grid_transform, noisy, optical_scene, write_tif
from truceline.cli import app
from truceline.satellite.raster.synthetic import SyntheticStack, write_sar_stack

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> SyntheticStack:
    return write_sar_stack(
        tmp_path_factory.mktemp("cli"), n_pre=3, n_post=3, shape=(128, 128), seed=4
    )


def _images(stack: SyntheticStack) -> list[str]:
    args: list[str] = []
    for path in stack.pre:
        args += ["--pre", str(path)]
    for path in stack.post:
        args += ["--post", str(path)]
    return args


def test_change_then_ingest(stack: SyntheticStack, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output = invoke("satellite", "change", *_images(stack), "--out", str(out), "--json")
    assert code == 0, output
    summary = json.loads(output)
    assert summary["method"] == "pwtt"
    assert summary["n_changes"] > 0
    assert (out / "statistic.tif").is_file() and (out / "summary.json").is_file()
    home = str(tmp_path / "home")
    code, output = invoke("ingest", "--home", home, str(out / "observations.geojson"), "--json")
    assert code == 0, output
    (result,) = json.loads(output)
    assert result["format"] == "geojson"
    assert result["records"] == summary["n_changes"] + 1  # the sensor record too
    assert result["new"] == result["records"]
    code, output = invoke("ingest", "--home", home, str(out / "observations.geojson"), "--json")
    assert json.loads(output)[0]["new"] == 0  # idempotent


def test_band_files_and_kind_override(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    nir, swir2 = optical_scene(rng, (96, 96))
    pre = {"nir": noisy(rng, nir), "swir2": noisy(rng, swir2)}
    post = {"nir": noisy(rng, nir), "swir2": noisy(rng, swir2)}
    burn(post["nir"], post["swir2"], slice(20, 40), slice(20, 60))
    paths = {
        f"{period}_{role}": write_tif(tmp_path / f"{period}_{role}.tif", v.astype(np.float32))
        for period, bands in (("pre", pre), ("post", post))
        for role, v in bands.items()
    }
    code, output = invoke(
        "satellite", "change",
        "--pre", f"nir={paths['pre_nir']},swir2={paths['pre_swir2']}",
        "--post", f"nir={paths['post_nir']},swir2={paths['post_swir2']}",
        "--pre-time", "2026-05-01T08:00:00Z", "--post-time", "2026-05-20T08:00:00Z",
        "--kind", "surface_change", "--threshold", "0.3", "--chunk", "32",
        "--sensor-id", "s2-tile-36UXA", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, output
    assert "dnbr: 1 change(s) above 0.3 dNBR (given)" in output
    features = json.loads((tmp_path / "out" / "observations.geojson").read_text())["features"]
    # With a given threshold the prior is 1 - q(threshold), at most 0.99.
    assert features[0]["properties"] == {
        "record": "sensor", "id": "s2-tile-36UXA", "modality": "satellite", "reliability": 0.99
    }  # fmt: skip
    assert features[1]["properties"]["kind"] == "surface_change"
    assert features[1]["properties"]["time"] == "2026-05-01T08:00:00Z"
    assert features[1]["properties"]["time_end"] == "2026-05-20T08:00:00Z"


def test_reliability_and_water_mask_options(stack: SyntheticStack, tmp_path: Path) -> None:
    water = np.zeros((128, 128), dtype=np.uint8)
    water[:, :32] = 1  # a reservoir along the west edge
    # on the synthetic stack's grid (10 m pixels from (500000, 5300000))
    mask = write_tif(tmp_path / "water.tif", water, transform=grid_transform(10.0, (5e5, 5.3e6)))
    out = tmp_path / "out"
    code, output = invoke(
        "satellite", "change", *_images(stack), "--out", str(out),
        "--reliability", "0.8", "--water-mask", str(mask), "--json",
    )  # fmt: skip
    assert code == 0, output
    summary = json.loads(output)
    assert (summary["reliability"], summary["reliability_source"]) == (0.8, "given")
    assert summary["water_fraction"] == pytest.approx(0.25)
    assert summary["water_from"] == ["mask"]
    sensor = json.loads((out / "observations.geojson").read_text())["features"][0]
    assert sensor["properties"]["reliability"] == 0.8
    code, output = invoke(
        "satellite", "change", *_images(stack), "--out", str(tmp_path / "bad"),
        "--reliability", "1.5",
    )  # fmt: skip
    assert code == 2
    assert "reliability must be in (0, 1), got 1.5" in output


def test_no_crs_is_a_data_error_naming_the_file(stack: SyntheticStack, tmp_path: Path) -> None:
    bare = write_tif(tmp_path / "bare.tif", np.ones((128, 128), dtype=np.float32), crs=None)
    code, output = invoke(
        "satellite", "change", "--pre", str(bare), *_images(stack), "--out", str(tmp_path / "o")
    )
    assert code == 1
    assert "bare.tif: has no CRS" in output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "fft"], "--method 'fft'"),
        (["--chunk", "100"], "chunk must be a positive multiple of 16"),
        (["--band", "vv"], "--band 'vv': expected NAME=INDEX"),
        (["--pre-time", "2026-05-01 08:00"], "has no UTC offset"),
        (["--mask-pre", "nowhere.tif"], "nowhere.tif: no such file"),
        (["--water-mask", "nowhere.tif"], "nowhere.tif: no such file"),
    ],
)
def test_usage_errors_exit_2(
    stack: SyntheticStack, tmp_path: Path, args: list[str], message: str
) -> None:
    code, output = invoke("satellite", "change", *_images(stack), "--out", str(tmp_path), *args)
    assert code == 2, output
    assert message in output


def test_missing_post_is_a_usage_error(stack: SyntheticStack, tmp_path: Path) -> None:
    code, output = invoke("satellite", "change", "--pre", str(stack.pre[0]), "--out", str(tmp_path))
    assert code == 2
    assert "--post" in output
