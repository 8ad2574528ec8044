"""SAR change detection end to end on synthetic stacks with gamma speckle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from shapely.geometry import Point, shape

from truceline.satellite.raster import ChangeConfigError, run_change
from truceline.satellite.raster.synthetic import (
    SyntheticStack,
    Target,
    background_squares,
    roc,
    target_scores,
    write_sar_stack,
)


def _features(path: Path) -> list[dict[str, Any]]:
    features = json.loads(path.read_text())["features"]
    return [f for f in features if f["properties"]["record"] == "observation"]


def _target_points(stack: SyntheticStack, crs: str = "EPSG:32636") -> list[Point]:
    """Target centres in lon/lat (synthetic grid: 10 m pixels from (500000, 5300000))."""
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    points = []
    for t in stack.targets:
        x = 500_000.0 + 10.0 * (t.col + t.size / 2)
        y = 5_300_000.0 - 10.0 * (t.row + t.size / 2)
        points.append(Point(*to_lonlat.transform(x, y)))
    return points


def _hits(features: list[dict[str, Any]], points: list[Point]) -> tuple[int, list[int]]:
    """(targets inside some polygon, pixel counts of the polygons containing no target)."""
    polygons = [shape(f["geometry"]) for f in features]
    hit = sum(any(p.within(poly) for poly in polygons) for p in points)
    false = [
        f["properties"]["attributes"]["n_pixels"]
        for f, poly in zip(features, polygons, strict=True)
        if not any(p.within(poly) for p in points)
    ]
    return hit, false


def _check_false_alarms(features: list[dict[str, Any]], false: list[int]) -> None:
    """The default threshold bounds the false-discovery rate per *pixel* (5 %): false
    polygons are isolated noise pixels, a small share of all detected pixels."""
    detected = sum(f["properties"]["attributes"]["n_pixels"] for f in features)
    assert sum(false) <= 0.1 * detected
    assert all(n <= 4 for n in false)


@pytest.fixture(scope="module")
def pwtt_stack(tmp_path_factory: pytest.TempPathFactory) -> SyntheticStack:
    # Sentinel-1 IW GRDH speckle (ENL 4.4); 3 x 3-pixel targets rising 3 dB.
    return write_sar_stack(
        tmp_path_factory.mktemp("pwtt"), shape=(240, 240), looks=4.4, change_db=3.0, seed=11
    )


def test_pwtt_detects_3db_3x3_changes_with_auc_above_095(
    pwtt_stack: SyntheticStack, tmp_path: Path
) -> None:
    run = run_change(pwtt_stack.pre, pwtt_stack.post, tmp_path / "out", chunk=64)
    assert run.method == "pwtt"
    # Target-level ROC: the statistic at each injected 3 x 3 patch's centre vs the
    # same for every 3 x 3 background patch at least 3 pixels from any target.
    background = background_squares(pwtt_stack.shape, pwtt_stack.targets, 3, 3)
    auc, points = roc(
        target_scores(run.statistic_path, pwtt_stack.targets),
        target_scores(run.statistic_path, background),
    )
    assert len(pwtt_stack.targets) >= 100 and len(background) >= 2000
    assert auc >= 0.95
    assert points[-1][1:] == (1.0, 1.0)
    features = _features(run.observations_path)
    hit, false = _hits(features, _target_points(pwtt_stack))
    assert hit >= 0.95 * len(pwtt_stack.targets)
    _check_false_alarms(features, false)
    for feature in features:
        attributes = feature["properties"]["attributes"]
        assert attributes["method"] == "pwtt"
        assert 0.0 <= attributes["confidence"] <= 1.0
        assert abs(attributes["statistic"]["peak"]) >= run.summary["threshold"]
        assert (attributes["statistic"]["peak"] > 0) == (attributes["direction"] == "increase")
        assert feature["properties"]["kind"] in {"crater", "surface_change", "earthworks"}
    centres = _target_points(pwtt_stack)
    on_target = [f for f in features if any(p.within(shape(f["geometry"])) for p in centres)]
    # A 3 x 3 target (30 m) is a small compact change, crater-sized once the 3 x 3
    # window's blur is taken off the detected region.
    kinds = [f["properties"]["kind"] for f in on_target]
    assert kinds.count("crater") >= 0.9 * len(kinds)
    for feature in on_target:
        attributes = feature["properties"]["attributes"]
        # Never larger than the target plus the window's one-pixel blur (5 x 5 pixels).
        assert attributes["core_area_m2"] <= attributes["area_m2"] <= 2_510.0
    assert np.median([f["properties"]["attributes"]["confidence"] for f in on_target]) > 0.99


def test_no_change_gives_no_observation(tmp_path: Path) -> None:
    stack = write_sar_stack(tmp_path / "in", shape=(160, 160), spacing=0, seed=5)
    run = run_change(stack.pre, stack.post, tmp_path / "out", chunk=64)
    assert run.n_changes == 0
    assert run.summary["threshold"] is None
    assert "no pixel passes" in run.summary["threshold_source"]
    # The scene's spread agrees with the theoretical N(0, 1) of the windowed z.
    assert run.summary["null"]["scale"] == pytest.approx(1.0, abs=0.05)


def test_log_ratio_pair_detects_a_large_change(tmp_path: Path) -> None:
    stack = write_sar_stack(
        tmp_path / "in", n_pre=1, n_post=1, shape=(200, 200), change_db=8.0, seed=7
    )
    run = run_change(stack.pre, stack.post, tmp_path / "out", chunk=64, null="theoretical")
    assert run.method == "log_ratio"
    assert run.summary["null"] == {
        "centre": 0.0, "scale": 1.0, "two_sided": True, "source": "theoretical"
    }  # fmt: skip
    features = _features(run.observations_path)
    hit, false = _hits(features, _target_points(stack))
    assert hit >= 0.9 * len(stack.targets)
    _check_false_alarms(features, false)
    # The log-ratio's spread under 4.4-look speckle, against a Monte Carlo estimate.
    rng = np.random.default_rng(0)
    draws = rng.gamma(4.4, 1 / 4.4, size=(2, 200_000))
    spread_db = np.std(10.0 * np.log10(draws[1] / draws[0]))
    assert run.summary["log_ratio_sigma_db"] == pytest.approx(spread_db, rel=0.01)


def test_results_do_not_depend_on_the_chunk_size(
    pwtt_stack: SyntheticStack, tmp_path: Path
) -> None:
    small = run_change(pwtt_stack.pre, pwtt_stack.post, tmp_path / "a", chunk=32)
    large = run_change(pwtt_stack.pre, pwtt_stack.post, tmp_path / "b", chunk=1024)
    with rasterio.open(small.statistic_path) as a, rasterio.open(large.statistic_path) as b:
        assert np.array_equal(a.read(1), b.read(1), equal_nan=True)
    assert small.observations_path.read_bytes() == large.observations_path.read_bytes()


def test_polarisations_and_orbits_combine(tmp_path: Path) -> None:
    stacks = [
        write_sar_stack(
            tmp_path / orbit, n_pre=3, n_post=3, shape=(160, 160), polarisations=("VV", "VH"),
            orbit=orbit, seed=seed, name=f"s1_{orbit}",
        )
        for orbit, seed in (("ascending-58", 1), ("descending-167", 2))
    ]  # fmt: skip
    pre = [p for s in stacks for p in s.pre]
    post = [p for s in stacks for p in s.post]
    combined = run_change(pre, post, tmp_path / "max", chunk=64)
    assert combined.summary["combine"] == "max"
    single = run_change(stacks[0].pre, stacks[0].post, tmp_path / "one", chunk=64)
    background = background_squares(stacks[0].shape, stacks[0].targets, 3, 3)
    auc_all, _ = roc(
        target_scores(combined.statistic_path, stacks[0].targets),
        target_scores(combined.statistic_path, background),
    )
    auc_one, _ = roc(
        target_scores(single.statistic_path, stacks[0].targets),
        target_scores(single.statistic_path, background),
    )
    # Four independent tests (2 polarisations x 2 orbits) beat the two of one orbit.
    assert auc_all >= auc_one
    assert auc_all >= 0.95
    mean = run_change(pre, post, tmp_path / "mean", chunk=64, combine="mean")
    assert mean.n_changes > 0
    # An orbit with too few images for a variance is refused, naming the orbit.
    with pytest.raises(ChangeConfigError, match="descending-167"):
        run_change(pre[:4], post, tmp_path / "bad", chunk=64)
    assert not (tmp_path / "bad").exists()


def test_db_input_gives_the_same_statistic_as_linear(tmp_path: Path) -> None:
    stack = write_sar_stack(tmp_path / "lin", n_pre=2, n_post=2, shape=(64, 64), seed=3)
    db_paths = []
    for path in (*stack.pre, *stack.post):
        with rasterio.open(path) as src:
            profile, data, tags = src.profile, src.read(), src.tags()
        target = tmp_path / f"db_{path.name}"
        with rasterio.open(target, "w", **profile) as dst:
            dst.write((10.0 * np.log10(data)).astype(np.float32))
            dst.update_tags(**tags)
        db_paths.append(target)
    linear = run_change(stack.pre, stack.post, tmp_path / "a", chunk=64)
    decibel = run_change(db_paths[:2], db_paths[2:], tmp_path / "b", chunk=64)
    assert decibel.summary["input_units"] == ["db"]
    assert linear.summary["input_units"] == ["linear"]
    with rasterio.open(linear.statistic_path) as a, rasterio.open(decibel.statistic_path) as b:
        np.testing.assert_allclose(a.read(1), b.read(1), atol=1e-4)


def test_target_helpers() -> None:
    squares = background_squares((30, 30), [Target(10, 10, 3)], 3, 3)
    assert all(abs(s.row - 10) >= 3 or abs(s.col - 10) >= 3 for s in squares)
    auc, points = roc([3.0, 2.0], [1.0, 2.0])
    assert auc == pytest.approx(0.875)
    assert points[0] == (3.0, 0.0, 0.5)
