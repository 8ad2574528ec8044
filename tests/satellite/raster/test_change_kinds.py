"""End to end: what each change is called, which small regions survive, water, reliability.

SAR: thin trench lines at 0, 30, 45 and 73 degrees and 10-15 m craters (their
change over an ejecta apron twice their diameter), brightening then darkening,
in a 6 + 6 image PWTT stack with Sentinel-1-like speckle. Optical (dNBR): a
burn, a ploughed stubble field, crater aprons and a trench of fresh soil on a
green crop, a crop losing NIR only, and a pond, with and without water masks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, Point, box, shape

from satellite.raster.raster_testkit import (
    ORIGIN,
    T_POST,
    T_PRE,
    UTM36,
    change_db,
    coverage,
    write_sar_gain_stack,
    write_tif,
)
from truceline.ingest.geojson import GeoJSONAdapter
from truceline.model.sensor import Sensor
from truceline.satellite.raster import ChangeConfigError, run_change

SAR_SHAPE = (240, 240)
TO_LONLAT = Transformer.from_crs(UTM36, "EPSG:4326", always_xy=True)
#: (angle from east, counter-clockwise, degrees; width m; length m; centre row, col)
LINES = [
    (0.0, 10.0, 300.0, 30, 40),
    (30.0, 20.0, 250.0, 30, 120),
    (45.0, 10.0, 200.0, 30, 200),
    (73.0, 20.0, 400.0, 120, 60),
    (45.0, 20.0, 150.0, 120, 180),
    (30.0, 10.0, 350.0, 200, 60),
    (73.0, 10.0, 160.0, 200, 140),
    (0.0, 20.0, 180.0, 200, 210),
]
#: (crater diameter m, centre row, col): the change covers an apron twice as wide.
CRATERS = [(10.0, 80, 20), (12.0, 80, 110), (15.0, 80, 220), (11.0, 160, 20), (13.0, 160, 110)]


def _utm(row: float, col: float) -> tuple[float, float]:
    return ORIGIN[0] + 10.0 * col, ORIGIN[1] - 10.0 * row


def _line(angle: float, width: float, length: float, row: int, col: int) -> Any:
    segment = LineString([(-length / 2, 0.0), (length / 2, 0.0)])
    band = affinity.rotate(segment, angle, origin=(0, 0)).buffer(width / 2, cap_style="flat")
    return affinity.translate(band, *_utm(row, col))


def _apron(diameter: float, row: int, col: int) -> Any:
    east, north = _utm(row + 0.5, col + 0.5)
    return Point(east, north).buffer(diameter)


def _lonlat(geometry: Any) -> Any:
    return shapely.transform(geometry, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))


def _observations(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    features = json.loads(path.read_text())["features"]
    return features[0]["properties"], features[1:]


def _touching(features: list[dict[str, Any]], geometry: Any) -> list[dict[str, Any]]:
    target = _lonlat(geometry)
    return [f for f in features if shape(f["geometry"]).intersects(target)]


def _sar_run(directory: Path, gain_db: float) -> Any:
    """PWTT run on the lines and craters changing by ``gain_db`` where they cover a pixel."""
    total = np.zeros(SAR_SHAPE)
    for geometry in [_line(*spec) for spec in LINES] + [_apron(*spec) for spec in CRATERS]:
        total += change_db(coverage(geometry, SAR_SHAPE), gain_db)
    pre, post = write_sar_gain_stack(directory / "in", total, seed=1)
    return run_change(pre, post, directory / "out", chunk=64)


def test_brighter_lines_are_earthworks_and_small_spots_craters(tmp_path: Path) -> None:
    run = _sar_run(tmp_path, 6.0)  # fresh spoil, berms and ejecta: +6 dB
    sensor, features = _observations(run.observations_path)
    for angle, width, length, row, col in LINES:
        hits = _touching(features, _line(angle, width, length, row, col))
        assert hits, f"line at {angle} degrees not found"
        assert {f["properties"]["kind"] for f in hits} == {"earthworks"}
        longest = max(hits, key=lambda f: f["properties"]["attributes"]["length_m"])
        attributes = longest["properties"]["attributes"]
        assert attributes["width_m"] <= 25.0
        assert attributes["length_m"] >= 0.3 * length
        expected = (90.0 - angle) % 180.0
        error = abs(attributes["azimuth_deg"] - expected)
        assert min(error, 180.0 - error) < 5.0
    found = [_touching(features, _apron(*spec)) for spec in CRATERS]
    assert sum(bool(hits) for hits in found) >= 3
    assert {f["properties"]["kind"] for hits in found for f in hits} == {"crater"}
    # Nothing anywhere else; no region smaller than the window stands without a strong peak.
    changes = [_line(*spec) for spec in LINES] + [_apron(*spec) for spec in CRATERS]
    elsewhere = [f for f in features if not any(_touching([f], g) for g in changes)]
    assert len(elsewhere) <= 1
    assert run.summary["n_regions_below_min_pixels"] > 0
    for feature in features:
        attributes = feature["properties"]["attributes"]
        assert attributes["n_pixels"] >= 9 or attributes["peak_stands_alone"]
        assert attributes["peak_stands_alone"] == (
            abs(attributes["statistic"]["peak"]) >= run.summary["object_threshold"]
        )
    assert sensor["reliability"] == pytest.approx(0.95)  # 1 - FDR at the default 5 %


def test_darker_lines_and_spots_are_only_surface_change(tmp_path: Path) -> None:
    run = _sar_run(tmp_path, -6.0)  # the same shapes burnt, flooded or smoothed
    _, features = _observations(run.observations_path)
    assert len(features) >= len(LINES) // 2  # darkening is found ...
    for feature in features:  # ... but never called a crater or earthworks
        assert feature["properties"]["kind"] == "surface_change"
        assert feature["properties"]["attributes"]["direction"] == "decrease"


def test_on_pure_noise_small_specks_are_dropped(tmp_path: Path) -> None:
    pre, post = write_sar_gain_stack(tmp_path / "in", np.zeros((200, 200)), seed=4)
    # A threshold far below Benjamini-Hochberg's: hundreds of noise pixels pass it.
    run = run_change(pre, post, tmp_path / "out", chunk=64, threshold=3.0)
    sensor, features = _observations(run.observations_path)
    dropped = run.summary["n_regions_below_min_pixels"]
    assert dropped >= 30
    assert len(features) <= 0.05 * dropped
    for feature in features:
        attributes = feature["properties"]["attributes"]
        assert attributes["n_pixels"] >= 9 or attributes["peak_stands_alone"]
    # With a given threshold the prior is 1 - q(threshold): low where it admits noise.
    assert run.summary["reliability_source"].startswith("1 - q-value")
    assert sensor["reliability"] == run.summary["reliability"] < 0.5


# -- optical ------------------------------------------------------------------------------

OPTICAL_SHAPE = (160, 200)
#: Bands in file order.
ROLES = ("green", "nir", "swir2")


def _block(r0: int, r1: int, c0: int, c1: int) -> Any:
    (x0, y1), (x1, y0) = _utm(r0, c0), _utm(r1, c1)
    return box(x0, y0, x1, y1)


CRATER_CENTRES = [(20, 100), (20, 130), (50, 115)]
OPTICAL = {
    "burn": _block(10, 40, 10, 50),
    "ploughed": _block(60, 90, 10, 50),
    "nir_only": _block(110, 140, 10, 40),
    "trench": _line(30.0, 20.0, 300.0, 110, 150),
    "pond": affinity.scale(Point(*_utm(120, 100)).buffer(1.0), 80.0, 50.0),
    **{f"crater{i}": _apron(12.5, r, c) for i, (r, c) in enumerate(CRATER_CENTRES)},
}


def _optical_images(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Reflectance (green, NIR, SWIR2) of a green crop before and after the changes."""
    texture = 1.0 + 0.03 * rng.standard_normal((3, *OPTICAL_SHAPE))
    crop = np.array([0.08, 0.30, 0.10])[:, None, None]
    pre, post = crop * texture, crop * texture
    post = post.copy()

    def covered(name: str) -> np.ndarray:
        return coverage(OPTICAL[name], OPTICAL_SHAPE, supersample=1) > 0

    def paint(image: np.ndarray, where: np.ndarray, values: tuple[float, ...]) -> None:
        for band, value in enumerate(values):
            image[band][where] = value * texture[band][where]

    burn = covered("burn")
    post[:, burn] *= np.array([0.6, 0.5, 1.8])[:, None]  # char: NIR halves, SWIR2 rises
    for image, values in ((pre, (0.07, 0.24, 0.20)), (post, (0.09, 0.18, 0.22))):
        paint(image, covered("ploughed"), values)  # stubble, then ploughed
    post[1][covered("nir_only")] *= 0.45  # NIR falls, SWIR2 does not rise
    for name in ("crater0", "crater1", "crater2"):
        paint(post, covered(name), (0.09, 0.12, 0.20))  # fresh ejecta
    paint(post, covered("trench"), (0.10, 0.17, 0.25))  # spoil
    for image in (pre, post):
        paint(image, covered("pond"), (0.06, 0.02, 0.01))
    return pre, post


@pytest.fixture(scope="module")
def optical_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    directory = tmp_path_factory.mktemp("optical")
    files: dict[str, Any] = {}
    for period, image in zip(("pre", "post"), _optical_images(rng), strict=True):
        # 1 % radiometric noise and a noise floor of 0.0015 reflectance (Sentinel-2 like)
        noisy = image * (1.0 + 0.01 * rng.standard_normal(image.shape))
        noisy += 0.0015 * rng.standard_normal(image.shape)
        files[period] = {
            role: write_tif(directory / f"{period}_{role}.tif", noisy[b].astype(np.float32))
            for b, role in enumerate(ROLES)
        }
    pond = coverage(OPTICAL["pond"].buffer(10.0), OPTICAL_SHAPE, supersample=1) > 0
    files["water"] = write_tif(directory / "water.tif", pond.astype(np.uint8))
    files["dir"] = directory
    return files


def _optical_run(files: dict[str, Any], name: str, roles: tuple[str, ...], **options: Any) -> Any:
    return run_change(
        [{r: files["pre"][r] for r in roles}],
        [{r: files["post"][r] for r in roles}],
        files["dir"] / name,
        pre_times=[T_PRE],
        post_times=[T_POST],
        **{"chunk": 64, **options},
    )


def _kinds_by_region(features: list[dict[str, Any]]) -> dict[str, set[str]]:
    return {
        name: {f["properties"]["kind"] for f in _touching(features, geometry)}
        for name, geometry in OPTICAL.items()
    }


def test_only_a_burn_signature_makes_a_burn_scar(optical_files: dict[str, Any]) -> None:
    run = _optical_run(optical_files, "nbr", ("nir", "swir2"))
    assert run.method == "dnbr"
    _, features = _observations(run.observations_path)
    kinds = _kinds_by_region(features)
    assert kinds["burn"] == {"burn_scar"}
    assert kinds["ploughed"] == {"surface_change"}  # low severity: bare soil, not char
    assert kinds["nir_only"] == {"surface_change"}  # no SWIR2 rise
    assert kinds["trench"] == {"earthworks"}
    for name in ("crater0", "crater1", "crater2"):
        assert kinds[name] == {"surface_change"}  # burn-like but crater-sized
    assert [f["properties"]["kind"] for f in features].count("burn_scar") == 1
    (scar,) = [f for f in features if f["properties"]["kind"] == "burn_scar"]
    attributes = scar["properties"]["attributes"]
    assert attributes["burn_signature"] is True
    # NIR x 0.5: (0.5 - 1) / 1.5; SWIR2 x 1.8: 0.8 / 2.8, as normalized differences.
    assert attributes["band_change"]["nir"] == pytest.approx(-1 / 3, abs=0.02)
    assert attributes["band_change"]["swir2"] == pytest.approx(0.8 / 2.8, abs=0.02)
    assert set(run.summary["band_change_null"]) == {"nir", "swir2"}
    with rasterio.open(run.statistic_path) as src:
        assert src.descriptions == ("dnbr", "nir_change", "swir2_change")
    assert run.summary["object_threshold"] is None  # optical: minimum sizes are strict


@pytest.mark.parametrize("water", ["ndwi", "mask"])
def test_water_is_left_out(optical_files: dict[str, Any], water: str) -> None:
    plain = _optical_run(optical_files, "plain", ("nir", "swir2"))
    _, noisy = _observations(plain.observations_path)
    assert _touching(noisy, OPTICAL["pond"])  # NBR of dark water is mostly noise
    if water == "ndwi":
        run = _optical_run(optical_files, "ndwi", ROLES)
    else:
        mask = optical_files["water"]
        run = _optical_run(optical_files, "mask", ("nir", "swir2"), water_mask=mask)
    assert run.summary["water_from"] == [water]
    _, features = _observations(run.observations_path)
    assert not _touching(features, OPTICAL["pond"])
    pond_share = OPTICAL["pond"].area / (OPTICAL_SHAPE[0] * OPTICAL_SHAPE[1] * 100.0)
    assert run.summary["water_fraction"] == pytest.approx(pond_share, rel=0.6)
    assert run.summary["water_fraction"] >= pond_share
    with rasterio.open(run.statistic_path) as src:
        statistic = src.read(1)
    inside = coverage(OPTICAL["pond"].buffer(-10.0), OPTICAL_SHAPE) == 1.0
    assert np.isnan(statistic[inside]).all()
    assert run.summary["valid_fraction"] == pytest.approx(1.0 - run.summary["water_fraction"])
    # Everything else is as without water handling.
    assert _kinds_by_region(features)["burn"] == {"burn_scar"}


def test_optical_results_do_not_depend_on_the_chunk_size(optical_files: dict[str, Any]) -> None:
    small = _optical_run(optical_files, "c32", ROLES, chunk=32)
    large = _optical_run(optical_files, "c256", ROLES, chunk=256)
    assert small.observations_path.read_bytes() == large.observations_path.read_bytes()


# -- reliability ----------------------------------------------------------------------------


def test_reliability_on_the_sensor_record(optical_files: dict[str, Any]) -> None:
    default = _optical_run(optical_files, "r-default", ("nir", "swir2"), fdr=0.1)
    given = _optical_run(optical_files, "r-given", ("nir", "swir2"), reliability=0.7)
    records = {
        name: list(GeoJSONAdapter().read(run.observations_path))
        for name, run in (("default", default), ("given", given))
    }
    sensors = {name: r[0] for name, r in records.items()}
    assert all(isinstance(s, Sensor) for s in sensors.values())
    assert sensors["default"].reliability == pytest.approx(0.9)  # 1 - FDR
    assert sensors["given"].reliability == pytest.approx(0.7)
    assert default.summary["reliability_source"].startswith("1 - FDR")
    assert given.summary["reliability_source"] == "given"
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ChangeConfigError, match="reliability must be in"):
            _optical_run(optical_files, "r-bad", ("nir", "swir2"), reliability=bad)
    assert not (optical_files["dir"] / "r-bad").exists()
