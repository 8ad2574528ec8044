"""Satellite image stacks: georeferencing, dates, injected changes, speckle, truth, determinism."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.features import geometry_mask
from scipy import special
from shapely.geometry import Polygon, shape

from simulate.simulate_testkit import load_truth
from truceline.agreement import load_agreement
from truceline.evaluation.score import score_findings
from truceline.model import parse_utc
from truceline.simulate.background import add_background
from truceline.simulate.geography import build_geography
from truceline.simulate.hostile import add_hostilities
from truceline.simulate.satellite_landcover import B3, B8, B12
from truceline.simulate.satellite_raster import (
    OPTICAL_BANDS,
    SAR_LOOKS,
    SAR_ORBITS,
    SIZE_PX,
    plan_stacks,
    write_stacks,
)
from truceline.simulate.satellite_scene import BURN_FACTORS, CRATER_APRON, CRATER_DIAMETER_M
from truceline.simulate.world import World, child_rng

Mask = npt.NDArray[np.bool_]


@pytest.fixture(scope="module")
def truth(scenario_dir: Path) -> dict[str, Any]:
    return load_truth(scenario_dir)


@pytest.fixture(scope="module")
def stacks(truth: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = truth["satellite_stacks"]
    return result


@pytest.fixture(scope="module")
def to_utm(stacks: dict[str, Any]) -> Transformer:
    return Transformer.from_crs("EPSG:4326", stacks["crs"], always_xy=True)


def _changes(stacks: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in stacks["changes"] if c["kind"] == kind]


def _utm(polygon: dict[str, Any], to_utm: Transformer) -> Polygon:
    result: Polygon = shapely.transform(
        shape(polygon), lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )
    return result


def _inside(geometry: Any, stacks: dict[str, Any]) -> Mask:
    """Pixels whose centre lies inside ``geometry`` (UTM metres)."""
    shape_px = (stacks["height_px"], stacks["width_px"])
    return ~geometry_mask([geometry], shape_px, Affine(*stacks["transform"]))


def _read(scenario_dir: Path, relative: str) -> npt.NDArray[np.float64]:
    with rasterio.open(scenario_dir / relative) as src:
        return src.read().astype(float)


def _sar_db(scenario_dir: Path, orbit: dict[str, Any]) -> npt.NDArray[np.float64]:
    """The orbit's stack in dB, ``(dates, rows, cols)``."""
    return np.stack([10.0 * np.log10(_read(scenario_dir, f)[0]) for f in orbit["files"]])


def test_sar_stacks_are_georeferenced_and_dated(
    scenario_dir: Path, truth: dict[str, Any], stacks: dict[str, Any]
) -> None:
    start, end = parse_utc(truth["start"]), parse_utc(truth["end"])
    crs = CRS.from_user_input(stacks["crs"])
    assert crs.is_projected and 32601 <= crs.to_epsg() <= 32660  # a northern UTM zone
    lon = shape(stacks["footprint"]).centroid.x
    assert crs.to_epsg() - 32600 == int((lon + 180.0) // 6.0) + 1
    assert [o["relative_orbit"] for o in stacks["sar"]["orbits"]] == [o for o, _, _ in SAR_ORBITS]
    for orbit in stacks["sar"]["orbits"]:
        times = [parse_utc(t) for t in orbit["times"]]
        assert (orbit["pre"], orbit["post"]) == (5, 5) and len(orbit["files"]) == 10
        assert all(b - a == timedelta(days=12) for a, b in itertools.pairwise(times))
        last_pre, first_post = times[orbit["pre"] - 1], times[orbit["pre"]]
        assert start - timedelta(days=1) < last_pre < start and first_post > end
        for relative, time in zip(orbit["files"], times, strict=True):
            with rasterio.open(scenario_dir / relative) as src:
                assert src.crs == crs
                assert src.transform == Affine(*stacks["transform"])
                assert src.res == (10.0, 10.0) and src.shape == (SIZE_PX, SIZE_PX)
                assert src.dtypes == ("float32",) and src.descriptions == ("VV",)
                tags = src.tags()
                values = src.read(1)
            assert parse_utc(tags["ACQUISITION_TIME"]) == time
            assert tags["TIFFTAG_DATETIME"] == f"{time:%Y:%m:%d %H:%M:%S}"
            assert tags["RELATIVE_ORBIT"] == orbit["relative_orbit"]
            assert np.all(np.isfinite(values)) and values.min() > 0.0  # linear power


def test_the_stacks_look_at_the_disengagement_zone(
    scenario_dir: Path, stacks: dict[str, Any]
) -> None:
    line = shape(json.loads((scenario_dir / "contact-line.geojson").read_text())["geometry"])
    footprint = shape(stacks["footprint"])
    assert footprint.intersects(line)
    agreement = load_agreement(scenario_dir / "agreement.yaml")
    lons, lats = np.asarray(footprint.exterior.coords).T
    assert agreement.distance_to_line_many(lons, lats).max() < 6_000.0
    for change in stacks["changes"]:
        assert footprint.contains(shape(change["polygon"])), change["id"]


def test_optical_pair_and_cloud_mask(
    scenario_dir: Path, truth: dict[str, Any], stacks: dict[str, Any]
) -> None:
    optical = stacks["optical"]
    before, after = (parse_utc(t) for t in optical["times"])
    assert before < parse_utc(truth["start"]) and after > parse_utc(truth["end"])
    images = []
    for relative in optical["files"]:
        with rasterio.open(scenario_dir / relative) as src:
            assert src.descriptions == OPTICAL_BANDS and src.crs.to_string() == stacks["crs"]
            assert src.transform == Affine(*stacks["transform"])
            images.append(src.read().astype(float))
    for image in images:
        assert image.min() >= 0.0 and image.max() <= 1.0
    with rasterio.open(scenario_dir / optical["cloud_mask"]) as src:
        assert src.transform == Affine(*stacks["transform"]) and src.dtypes == ("uint8",)
        mask = src.read(1)
    assert set(np.unique(mask)) == {0, 1, 2}
    assert np.count_nonzero(mask) / mask.size == pytest.approx(optical["masked_fraction"], abs=1e-4)
    cloudy = images[0 if optical["cloudy"] == "before" else 1]
    clear = images[1 if optical["cloudy"] == "before" else 0]
    core = mask == 1
    # cumulus is bright in every band; its shadow darkens the ground
    for band in (B3, B8, B12):
        assert cloudy[band][core].mean() > clear[band][core].mean() + 0.05
    assert cloudy[B8][mask == 2].mean() < clear[B8][mask == 2].mean()


def _index(image: npt.NDArray[np.float64], a: int, b: int) -> Any:
    """Normalized difference ``(a - b) / (a + b)`` of two bands of ``image``."""
    return (image[a] - image[b]) / (image[a] + image[b])


def _dnbr(before: npt.NDArray[np.float64], after: npt.NDArray[np.float64]) -> Any:
    return _index(before, B8, B12) - _index(after, B8, B12)


def test_changes_appear_where_and_when_the_truth_says(
    scenario_dir: Path, stacks: dict[str, Any], to_utm: Transformer
) -> None:
    orbits = stacks["sar"]["orbits"]
    dbs = [_sar_db(scenario_dir, orbit) for orbit in orbits]
    steps = [
        db[o["pre"] :].mean(0) - db[: o["pre"]].mean(0) for db, o in zip(dbs, orbits, strict=True)
    ]
    diff = np.mean(steps, axis=0)  # after minus before, dB, both orbits
    trench = _changes(stacks, "earthworks")[0]
    field = _changes(stacks, "surface_change")[0]
    burn = _changes(stacks, "burn_scar")[0]
    craters = _changes(stacks, "crater")
    assert diff[_inside(_utm(trench["polygon"], to_utm), stacks)].mean() > 3.0
    field_px = _inside(_utm(field["polygon"], to_utm).buffer(-20.0), stacks)
    assert diff[field_px].mean() == pytest.approx(field["sar_gain_db"], abs=1.0)
    burn_px = _inside(_utm(burn["polygon"], to_utm).buffer(-20.0), stacks)
    assert diff[burn_px].mean() == pytest.approx(burn["sar_gain_db"], abs=1.0)
    crater_px = np.zeros_like(field_px)
    for crater in craters:
        crater_px |= _inside(_utm(crater["polygon"], to_utm), stacks)
    assert len(craters) >= 10 and diff[crater_px].mean() > 2.0
    changed = shapely.union_all([_utm(c["polygon"], to_utm) for c in stacks["changes"]])
    unchanged = ~_inside(changed.buffer(60.0), stacks)
    assert abs(diff[unchanged].mean()) < 0.3
    # the field was ploughed between the last acquisition before and the first after
    for db, orbit in zip(dbs, orbits, strict=True):
        means = db[:, field_px].mean(axis=1)
        assert means[orbit["pre"] :].min() > means[: orbit["pre"]].max() + 1.0
    before, after = (_read(scenario_dir, f) for f in stacks["optical"]["files"])
    dnbr = _dnbr(before, after)
    assert np.median(dnbr[burn_px]) == pytest.approx(burn["dnbr"], abs=0.08)
    with rasterio.open(scenario_dir / stacks["optical"]["cloud_mask"]) as src:
        clear = src.read(1) == 0
    bright = np.minimum(before[B8], after[B8]) > 0.1  # water's NBR is all noise
    assert abs(np.median(dnbr[unchanged & clear & bright])) < 0.03


def test_burn_darkens_nir_and_brightens_swir2_by_the_truth_factors(
    scenario_dir: Path, stacks: dict[str, Any], to_utm: Transformer
) -> None:
    """Char and ash: NIR down, SWIR2 up; the truth's factors and dNBR are the images'."""
    (burn,) = _changes(stacks, "burn_scar")
    factors = burn["band_factors"]
    assert list(factors) == list(OPTICAL_BANDS)
    for band, (low, high) in zip(OPTICAL_BANDS, zip(*BURN_FACTORS, strict=True), strict=True):
        assert min(low, high) <= factors[band] <= max(low, high)
    assert factors["B8"] < 0.65 and factors["B12"] > 1.15
    before, after = (_read(scenario_dir, f) for f in stacks["optical"]["files"])
    inside = _inside(_utm(burn["polygon"], to_utm).buffer(-20.0), stacks)
    assert inside.sum() > 50
    for index, band in enumerate(OPTICAL_BANDS):
        ratio = np.median(after[index][inside] / before[index][inside])
        assert ratio == pytest.approx(factors[band], rel=0.07), band  # 1.5 % gain errors
    assert np.median(_dnbr(before, after)[inside]) == pytest.approx(burn["dnbr"], abs=0.05)


def test_only_water_is_greener_than_near_infrared(
    scenario_dir: Path, stacks: dict[str, Any]
) -> None:
    """NDWI = (B3 - B8) / (B3 + B8) > 0 on the pond and nowhere else in clear sky."""
    with rasterio.open(scenario_dir / stacks["optical"]["cloud_mask"]) as src:
        clear = src.read(1) == 0
    for relative in stacks["optical"]["files"]:
        image = _read(scenario_dir, relative)
        ndwi = _index(image, B3, B8)
        water = image[B8] < 0.05  # open water is black in the near infrared
        assert water.sum() > 20, "seed 0 has a pond"
        assert np.all(ndwi[water] > 0.1)
        assert np.all(ndwi[clear & ~water] < 0.0)


def test_speckle_is_gamma_with_the_sensor_looks(
    scenario_dir: Path, stacks: dict[str, Any], to_utm: Transformer
) -> None:
    """On a homogeneous field the intensity's variance / mean^2 is 1/L (L-look gamma)."""
    field = _changes(stacks, "surface_change")[0]
    pixels = _inside(_utm(field["polygon"], to_utm).buffer(-30.0), stacks)
    assert pixels.sum() > 500
    ratios = []
    for orbit in stacks["sar"]["orbits"]:
        for relative in orbit["files"][: orbit["pre"]]:  # before the ploughing
            values = _read(scenario_dir, relative)[0][pixels]
            ratios.append(values.var() / values.mean() ** 2)
            # L-look gamma: the mean of ln(I / <I>) is psi(L) - ln(L)
            expected = special.digamma(SAR_LOOKS) - np.log(SAR_LOOKS)
            assert np.mean(np.log(values / values.mean())) == pytest.approx(expected, abs=0.02)
    assert np.mean(ratios) == pytest.approx(1.0 / SAR_LOOKS, rel=0.05)


def test_truth_links_each_change_to_what_made_it(
    scenario_dir: Path, truth: dict[str, Any], stacks: dict[str, Any]
) -> None:
    events = {e["id"]: e for e in truth["events"]}
    (trench,) = _changes(stacks, "earthworks")
    event = events[trench["truth_event"]]
    assert event["kind"] == "earthworks" and event["violation"] is True
    assert event["rules"] == trench["rules"] == ["no-fortification"]
    assert event["party"] == event["side"] == trench["party"]
    assert trench["id"] in truth["violations"]
    agreement = load_agreement(scenario_dir / "agreement.yaml")
    lons, lats = np.asarray(shape(trench["polygon"]).exterior.coords).T
    distances = agreement.distance_to_line_many(lons, lats)
    assert distances.min() > 100.0 and distances.max() < 1_000.0
    assert set(agreement.side_of_many(lons, lats)) == {event["side"]}
    assert parse_utc(event["time"]) < parse_utc(event["time_end"]) <= parse_utc(truth["end"])
    for crater in _changes(stacks, "crater"):
        impact = events[crater["truth_event"]]
        assert impact["kind"] == "impact" and impact["violation"] and not crater["violation"]
        assert crater["party"] == impact["party"] != crater["side"]
        assert impact["time"] <= crater["time"] <= impact["time_end"]
        # the apron (a 16-gon) is 2-3 crater diameters of the impact's weapon across
        low, high = CRATER_DIAMETER_M.get(impact["weapon_class"], (5.0, 10.0))
        across = 2.0 * np.sqrt(crater["area_m2"] / (8.0 * np.sin(np.pi / 8.0)))
        assert CRATER_APRON[0] * low * 0.99 <= across <= CRATER_APRON[1] * high * 1.01
    (burn,) = _changes(stacks, "burn_scar")
    fire = events[burn["truth_event"]]
    assert fire["kind"] == "thermal_anomaly" and fire["benign_reason"] == "agricultural_burning"
    assert abs(fire["lon"] - burn["lon"]) < 1e-4 and abs(fire["lat"] - burn["lat"]) < 1e-4
    assert 0.25 <= burn["dnbr"] <= 0.7 and 2e4 <= burn["area_m2"] <= 1.2e5
    for change in stacks["changes"]:
        assert change["violation"] is (change["kind"] == "earthworks")
        for orbit, interval in change["sar_intervals"].items():
            times = next(
                o["times"] for o in stacks["sar"]["orbits"] if o["relative_orbit"] == orbit
            )
            assert interval == [times[4], times[5]]  # between the last before and first after


def _world(seed: int) -> World:
    start = parse_utc("2026-11-02T00:00:00Z").timestamp()
    world = World(build_geography(child_rng(seed, 0)), start, start + 2 * 86_400.0)
    add_background(world, child_rng(seed, 1))
    add_hostilities(world, child_rng(seed, 2))
    return world


def _write(out: Path, seed: int, pixels_seed: int) -> dict[str, bytes]:
    world = _world(seed)
    plan = plan_stacks(world, child_rng(seed, 9))
    output = write_stacks(out, world, plan, child_rng(pixels_seed, 10))
    (out / "truth.json").write_text(json.dumps(output.truth), encoding="utf-8")
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_stacks_are_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", 3, 3)
    assert _write(tmp_path / "b", 3, 3) == first
    other = _write(tmp_path / "c", 3, 4)  # same plan, other noise
    assert other.keys() == first.keys()
    assert {k for k in first if first[k] == other[k]} == set()


def test_plan_without_craters_in_reach_still_shows_the_trench() -> None:
    world = _world(1)
    world.craters.clear()
    plan = plan_stacks(world, child_rng(1, 9))
    kinds = sorted(c.kind for c in plan.changes)
    assert kinds == ["burn_scar", "earthworks", "surface_change"]
    assert any(e.kind == "earthworks" for e in world.events)
    assert any(h.truth_id == "burn-field-1" for h in world.heat)  # FIRMS can see the burn


def truth_trench(truth: dict[str, Any]) -> dict[str, Any]:
    (trench,) = _changes(truth["satellite_stacks"], "earthworks")
    return trench


@pytest.fixture(scope="module")
def change_dir(
    scenario_dir: Path, truth: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The demo's change detection run on the stacks; its parent directory."""
    from truceline.demo import CHANGE_DIR, detect_changes

    out = tmp_path_factory.mktemp("change")
    runs = detect_changes(scenario_dir, out / CHANGE_DIR, parse_utc(truth["start"]))
    assert sorted(runs) == ["optical", "sar-R043", "sar-R138"]
    return out


def _observations(path: Path) -> list[dict[str, Any]]:
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [f for f in features if f["properties"]["record"] == "observation"]


def test_optical_change_detection_leaves_out_water_and_finds_the_burn(
    scenario_dir: Path, stacks: dict[str, Any], change_dir: Path, to_utm: Transformer
) -> None:
    """The green band turns on the detector's NDWI test: no change is reported on the pond."""
    from truceline.demo import CHANGE_DIR

    run = change_dir / CHANGE_DIR / "optical"
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["water_from"] == ["ndwi"]
    before = _read(scenario_dir, stacks["optical"]["files"][0])
    water = before[B8] < 0.05
    assert summary["water_fraction"] == pytest.approx(water.mean(), abs=2e-4)
    observations = _observations(run / "observations.geojson")
    for feature in observations:
        outline = _utm(feature["geometry"], to_utm)
        assert not water[_inside(outline, stacks)].any(), feature["properties"]["attributes"]
    (burn,) = _changes(stacks, "burn_scar")
    scar = _utm(burn["polygon"], to_utm)
    kinds = [
        f["properties"]["kind"]
        for f in observations
        if _utm(f["geometry"], to_utm).intersects(scar)
    ]
    assert kinds == ["burn_scar"]


def test_trench_in_the_disengagement_zone_becomes_a_finding(
    scenario_dir: Path, truth: dict[str, Any], change_dir: Path, tmp_path: Path
) -> None:
    """Stacks -> change detection -> ingest -> fusion -> the no-fortification rule."""
    from truceline.demo import _change_files
    from truceline.ingest.pipeline import ingest_file
    from truceline.runs import add_agreement, execute_run
    from truceline.workspace import Workspace

    with Workspace(tmp_path / "home") as workspace:
        add_agreement(workspace, scenario_dir / "agreement.yaml")
        for path in _change_files(change_dir):
            ingest_file(workspace, path)
        outcome = execute_run(workspace)
    fortifications = [f for f in outcome.findings if f.rule_id == "no-fortification"]
    assert len(fortifications) == 1
    (finding,) = fortifications
    event = next(e for e in outcome.events if e.id == finding.event_id)
    assert finding.kind == event.kind == "earthworks"
    # both orbits saw it (and the optical pair, where the spoil shows in NBR)
    assert event.independent_sources >= 2
    assert finding.party == finding.side == truth_trench(truth)["party"]
    score = score_findings(truth, outcome.findings)
    assert "earthworks-1" not in {m["id"] for m in score["missed"]}
    assert all(f["kind"] != "earthworks" for f in score["false_positives"])
