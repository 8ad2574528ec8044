"""The field formats the simulator writes: FIRMS API CSV and generic observation GeoJSON."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from pathlib import Path

import pytest
from shapely.geometry import shape

from simulate.simulate_testkit import features, firms_rows, records
from truceline.model import parse_utc
from truceline.model.vocab import ACTIVITY_KINDS, MODALITIES, WEAPON_CLASSES
from truceline.simulate.satellite import FIRMS_COLUMNS

API_HEADER = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,"
    "confidence,version,bright_ti5,frp,daynight"
)
FIRMS_NAME = re.compile(r"^VIIRS_(SNPP|NOAA20)_NRT_(\d{4}-\d{2}-\d{2})T(\d{4})\.csv$")


def test_firms_files_have_the_api_shape(scenario_dir: Path) -> None:
    paths = sorted((scenario_dir / "firms").glob("*.csv"))
    assert len(paths) == 12
    assert ",".join(FIRMS_COLUMNS) == API_HEADER
    total = 0
    for path in paths:
        match = FIRMS_NAME.match(path.name)
        assert match, path.name
        product, date, hhmm = match.groups()
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] == API_HEADER
        header, rows = firms_rows(path)
        for row in rows:
            values = dict(zip(header, row, strict=True))
            assert 46.0 < float(values["latitude"]) < 50.5
            assert 35.5 < float(values["longitude"]) < 40.5
            assert values["acq_date"] == date and values["acq_time"] == hhmm
            assert re.fullmatch(r"\d{4}", values["acq_time"])
            assert values["satellite"] == {"SNPP": "N", "NOAA20": "N20"}[product]
            assert values["confidence"] in ("l", "n", "h")
            assert values["version"] == "2.0NRT"
            assert values["daynight"] == ("D" if int(hhmm) < 1600 and int(hhmm) > 600 else "N")
            assert 290.0 <= float(values["bright_ti4"]) <= 367.0
            assert 0.3 <= float(values["scan"]) <= 0.85 and 0.3 <= float(values["track"]) <= 0.7
            assert float(values["frp"]) > 0.0
            assert len(values["latitude"].split(".")[1]) == 5
        total += len(rows)
    assert total > 200


def test_overpass_times_are_realistic(scenario_dir: Path) -> None:
    """VIIRS crosses ~38 °E near 13:30 and 01:30 local solar time (~11:00 / 23:00 UTC)."""
    for path in (scenario_dir / "firms").glob("*.csv"):
        match = FIRMS_NAME.match(path.name)
        assert match
        hours = int(match.group(3)[:2]) + int(match.group(3)[2:]) / 60.0
        assert 9.0 <= hours <= 12.0 or 21.0 <= hours <= 24.0, path.name


def test_geojson_files_carry_the_marker(scenario_dir: Path) -> None:
    paths = sorted(scenario_dir.glob("*/*.geojson"))
    assert paths
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["type"] == "FeatureCollection"
        assert data["truceline"] == "observations/1"
        assert data["features"], path


@pytest.mark.parametrize("folder", ["ground", "drone"])
def test_observation_features_are_valid(scenario_dir: Path, folder: str) -> None:
    sensors = {f["properties"]["id"] for _, f in records(scenario_dir, folder, "sensor")}
    count = 0
    for _, feature in records(scenario_dir, folder, "observation"):
        props = feature["properties"]
        assert props["sensor_id"] in sensors
        assert props["modality"] in MODALITIES
        assert props["kind"] in ACTIVITY_KINDS
        time = parse_utc(props["time"])
        assert props["time_sigma_s"] >= 0.0
        assert 0.0 <= props["attributes"]["confidence"] <= 1.0
        assert feature["geometry"]["type"] == "Point"
        if "time_end" in props:
            assert parse_utc(props["time_end"]) >= time
        if "weapon_class" in props["attributes"]:
            assert props["attributes"]["weapon_class"] in WEAPON_CLASSES
        count += 1
    assert count > 40


def test_acoustic_detections(scenario_dir: Path) -> None:
    kinds = set()
    for path, feature in records(scenario_dir, "ground", "observation"):
        props = feature["properties"]
        assert props["modality"] == "acoustic"
        assert path.name == f"acoustic-{props['time'][:10]}.geojson"
        bearing = props["bearing"]
        assert 0.0 <= bearing["azimuth_deg"] < 360.0
        assert 3.0 <= bearing["azimuth_sigma_deg"] <= 5.0
        assert 15_000 <= bearing["max_range_m"] <= 25_000
        assert 0.1 <= props["time_sigma_s"] <= 0.5
        assert props["attributes"]["amplitude_pa"] > 0.0
        assert props["attributes"]["label"]
        kinds.add(props["kind"])
    assert kinds == {"explosion", "launch", "impact", "gunfire", "other"}


def test_thunder_is_mostly_other_and_sometimes_a_weak_explosion(scenario_dir: Path) -> None:
    thunder = [
        f["properties"]
        for _, f in records(scenario_dir, "ground", "observation")
        if f["properties"]["attributes"]["label"] == "thunder"
    ]
    assert len(thunder) > 100
    assert all(p["kind"] == "other" for p in thunder)
    weak = [
        p
        for _, f in records(scenario_dir, "ground", "observation")
        if (p := f["properties"])["kind"] == "explosion"
        and p["attributes"]["confidence"] <= 0.4
        and p["attributes"]["label"] == "blast"
    ]
    assert weak  # misclassified thunder and false alarms


def test_sensor_and_coverage_features(scenario_dir: Path) -> None:
    sensors = {}
    for _, feature in records(scenario_dir, "ground", "sensor"):
        props = feature["properties"]
        assert props["modality"] == "acoustic"
        assert 0.0 < props["reliability"] < 1.0
        assert 15_000 <= props["detection_range_m"] <= 25_000
        sensors[props["id"]] = props
    assert len(sensors) == 60 + 4 * 6  # four rows of 15, four per town
    for folder in ("ground", "drone", "satellite"):
        covered = 0
        for _, feature in records(scenario_dir, folder, "coverage"):
            props = feature["properties"]
            assert parse_utc(props["end"]) > parse_utc(props["start"])
            assert 0.0 < props["detection_probability"] <= 1.0
            area = shape(feature["geometry"])
            assert area.is_valid and area.area > 0.0
            covered += 1
        assert covered > 0, folder


def test_acoustic_coverage_is_the_detection_circle(scenario_dir: Path) -> None:
    path = sorted((scenario_dir / "ground").glob("*.geojson"))[0]
    sensors = {
        f["properties"]["id"]: f for f in features(path) if f["properties"]["record"] == "sensor"
    }
    for feature in features(path):
        props = feature["properties"]
        if props["record"] != "coverage":
            continue
        station = sensors[props["sensor_id"]]
        circle = shape(feature["geometry"])
        _, lat = station["geometry"]["coordinates"]
        assert circle.contains(shape(station["geometry"]))
        radius_deg = station["properties"]["detection_range_m"] / 111_320.0
        north = circle.bounds[3] - lat
        assert math.isclose(north, radius_deg, rel_tol=0.02)
        day = path.stem.removeprefix("acoustic-")
        assert props["start"] == f"{day}T00:00:00Z"
        assert datetime.fromisoformat(props["end"]) > datetime.fromisoformat(props["start"])


def test_drone_files(scenario_dir: Path) -> None:
    paths = sorted((scenario_dir / "drone").glob("patrol-*.geojson"))
    assert len(paths) >= 15
    kinds = set()
    for path in paths:
        feats = features(path)
        assert feats[0]["properties"]["record"] == "sensor"
        assert feats[0]["geometry"] is None
        platform = feats[0]["properties"]["id"]
        patrol = path.stem.removeprefix("patrol-")
        coverage = [f for f in feats if f["properties"]["record"] == "coverage"]
        assert coverage
        for feature in feats[1:]:
            props = feature["properties"]
            assert props.get("sensor_id") == platform
            if props["record"] != "observation":
                continue
            kinds.add(props["kind"])
            assert props["modality"] == "drone"
            assert props["attributes"]["patrol"] == patrol
            cov_ee, cov_en, cov_nn = props["cov_m2"]
            assert 15.0**2 * 0.99 <= cov_ee + cov_nn <= 2 * 40.0**2 * 1.01
            assert cov_en**2 <= cov_ee * cov_nn
            if props["kind"] == "crater":
                assert parse_utc(props["time_end"]) > parse_utc(props["time"])
            if props["kind"] == "equipment":
                assert props["attributes"]["count"] >= 1
        starts = [parse_utc(f["properties"]["start"]) for f in coverage]
        assert starts == sorted(starts)
    assert kinds == {"equipment", "military_presence", "crater"}
