"""The ground channel in field formats: edge detections CSV, station CSV, array miniSEED."""

from __future__ import annotations

import csv
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import obspy  # type: ignore[import-untyped]

from simulate.simulate_testkit import all_bytes, load_truth
from truceline.model import parse_utc
from truceline.model.geo import WGS84_GEOD
from truceline.simulate.geography import build_geography
from truceline.simulate.ground import write_ground
from truceline.simulate.ground_array import (
    CALIBRATION_PA_PER_COUNT,
    SAMPLING_RATE_HZ,
    layout_around,
    write_array,
)
from truceline.simulate.ground_edge import DETECTION_COLUMNS, STATION_COLUMNS
from truceline.simulate.truth import TruthEvent
from truceline.simulate.weather import Weather, draw_weather
from truceline.simulate.world import Emission, World, child_rng

START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
DOC = Path(__file__).resolve().parents[2] / "docs" / "ground-formats.md"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _documented_detection_columns() -> set[str]:
    """Column names of the detections CSV table and its attribute sentence in the doc."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Detections CSV", 1)[1].split("## Detections JSON", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    names |= set(re.findall(r"`([a-z_]+)`", section.split("go to", 1)[1]))
    return names


def test_detection_columns_are_the_documented_ones(scenario_dir: Path) -> None:
    documented = _documented_detection_columns()
    assert {"station", "time", "back_azimuth_deg", "max_range_m", "label"} <= documented
    for path in sorted((scenario_dir / "ground-edge").glob("detections-*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert tuple(header) == DETECTION_COLUMNS
        assert set(header) <= documented, set(header) - documented


def test_station_csv_has_the_documented_columns(scenario_dir: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    documented = re.search(r"`(station,lon,lat[a-z_,]*)`", text)
    assert documented is not None
    with (scenario_dir / "ground-edge" / "stations.csv").open(encoding="utf-8") as handle:
        header = handle.readline().strip()
    assert header == documented.group(1) == ",".join(STATION_COLUMNS)
    rows = _rows(scenario_dir / "ground-edge" / "stations.csv")
    assert len(rows) == 84
    assert all(r["sensor_type"] == "acoustic" and r["array"] == "" for r in rows)


def test_edge_detections_are_the_network_picks_plus_vehicles(scenario_dir: Path) -> None:
    stations = {r["station"] for r in _rows(scenario_dir / "ground-edge" / "stations.csv")}
    truth = load_truth(scenario_dir)
    files = sorted((scenario_dir / "ground-edge").glob("detections-*.csv"))
    assert [f.name for f in files] == [
        "detections-2026-11-02.csv",
        "detections-2026-11-03.csv",
        "detections-2026-11-04.csv",
    ]
    rows = [row for path in files for row in _rows(path)]
    times = [parse_utc(r["time"]).timestamp() for r in rows]
    assert times == sorted(times)
    assert parse_utc(truth["start"]).timestamp() <= times[0]
    assert times[-1] < parse_utc(truth["end"]).timestamp()
    assert {r["station"] for r in rows} <= stations
    assert {r["modality"] for r in rows} == {"acoustic"}
    vehicles = [r for r in rows if r["label"] == "vehicle"]
    assert 100 <= len(vehicles) <= 300  # ~0.8 per sensor-day
    assert all(float(r["confidence"]) <= 0.5 for r in vehicles)
    geojson = sum(
        1
        for path in (scenario_dir / "ground").glob("acoustic-*.geojson")
        for line in path.read_text(encoding="utf-8").splitlines()
        if '"record":"observation"' in line
    )
    # the same picks; a few may cross the window's edges with the field arrival time
    assert abs(len(rows) - len(vehicles) - geojson) <= 5
    assert all(float(r["snr"]) > 0 and float(r["time_sigma_s"]) > 0 for r in rows)


def _one_shell_world(seed: int, distance_m: float) -> tuple[World, float, float, float]:
    world = World(build_geography(child_rng(seed, 0)), START, START + 86_400.0)
    line = world.geo.line
    x, y = line.place(line.length_m / 2, "east", distance_m)
    origin = START + 43_200.0
    world.emissions.append(Emission(origin, x, y, "impact", 1.0, "shell"))
    world.events.append(TruthEvent("shell", "impact", origin, x, y, "west"))
    return world, x, y, origin


def test_edge_arrivals_follow_the_effective_sound_speed(tmp_path: Path) -> None:
    world, x, y, origin = _one_shell_world(3, 3_000.0)
    out = write_ground(tmp_path, world, child_rng(3, 3), child_rng(3, 6))
    spurious = {(a.sensor_id, round(a.time, 3)) for a in out.false_alarms}
    stations = {r["station"]: r for r in _rows(tmp_path / "ground-edge" / "stations.csv")}
    lon, lat = world.geo.to_geo(x, y)
    atmosphere = out.weather.at(origin)
    wind = math.hypot(atmosphere.wind_east_mps, atmosphere.wind_north_mps)
    assert 1.0 <= wind <= 6.0
    checked = 0
    for row in _rows(tmp_path / "ground-edge" / "detections-2026-11-02.csv"):
        time = parse_utc(row["time"]).timestamp()
        if row["label"] == "vehicle" or (row["station"], round(time, 3)) in spurious:
            continue
        station = stations[row["station"]]
        az, _, dist = WGS84_GEOD.inv(lon, lat, float(station["lon"]), float(station["lat"]))
        predicted = origin + dist / atmosphere.effective_speed_mps(az % 360.0)
        assert abs(time - predicted) <= 5.0 * float(row["time_sigma_s"])
        checked += 1
    assert checked >= 3


def _array_run(out_dir: Path, seed: int = 5) -> tuple[World, float, float, float, Weather]:
    world, x, y, origin = _one_shell_world(seed, 9_000.0)
    weather = draw_weather(child_rng(seed, 6), START, [8.0])
    layout = layout_around(world, x - 7_000.0, y + 5_000.0, origin - 1_800.0, child_rng(seed, 7))
    write_array(out_dir, world, weather, child_rng(seed, 8), layout=layout)
    return world, x, y, origin, weather


def test_array_files_are_byte_identical_for_a_seed(tmp_path: Path) -> None:
    _array_run(tmp_path / "a")
    _array_run(tmp_path / "b")
    first, second = all_bytes(tmp_path / "a"), all_bytes(tmp_path / "b")
    assert first == second
    assert len([name for name in first if name.endswith(".mseed")]) == 5


def _plane_wave_back_azimuth(offsets: np.ndarray, delays: np.ndarray) -> float:
    """Back azimuth (degrees) of the plane wave best fitting relative arrival delays."""
    design = np.column_stack([offsets, np.ones(len(delays))])
    (sx, sy, _), *_ = np.linalg.lstsq(design, delays, rcond=None)
    return math.degrees(math.atan2(-sx, -sy)) % 360.0


def test_pulse_arrives_at_the_predicted_sample_on_every_element(tmp_path: Path) -> None:
    world, x, y, origin, weather = _array_run(tmp_path)
    lon, lat = world.geo.to_geo(x, y)
    inventory = obspy.read_inventory(str(tmp_path / "ground-array" / "stations.xml"))
    atmosphere = weather.at(origin)
    offsets, delays, peaks = [], [], []
    for station in inventory[0]:
        trace = obspy.read(str(tmp_path / "ground-array" / f"TL.{station.code}..BDF.mseed"))[0]
        az, _, dist = WGS84_GEOD.inv(lon, lat, station.longitude, station.latitude)
        arrival = origin + dist / atmosphere.effective_speed_mps(az % 360.0)
        predicted = (arrival - trace.stats.starttime.timestamp) * SAMPLING_RATE_HZ
        first = int(predicted) - 50
        window = trace.data[first : first + 100].astype(float)
        peak = first + int(np.argmax(window))
        assert abs(peak - predicted) <= 1.0, (station.code, peak, predicted)
        peaks.append(window.max() * CALIBRATION_PA_PER_COUNT)
        e_az, _, e_dist = WGS84_GEOD.inv(
            inventory[0][0].longitude, inventory[0][0].latitude, station.longitude, station.latitude
        )
        offsets.append(
            (e_dist * math.sin(math.radians(e_az)), e_dist * math.cos(math.radians(e_az)))
        )
        delays.append(arrival)
    # the delays across the array encode the back azimuth towards the shell
    true_baz, _, _ = WGS84_GEOD.inv(inventory[0][0].longitude, inventory[0][0].latitude, lon, lat)
    estimate = _plane_wave_back_azimuth(np.array(offsets), np.array(delays) - delays[0])
    assert abs((estimate - true_baz + 180.0) % 360.0 - 180.0) < 2.0
    assert min(peaks) > 1.0  # ~50 Pa x 1 km / 9.9 km, far above the ~0.04 Pa noise


def _elements(scenario_dir: Path) -> list[Any]:
    inventory = obspy.read_inventory(str(scenario_dir / "ground-array" / "stations.xml"))
    assert [n.code for n in inventory] == ["TL"]
    return list(inventory[0])


def test_scenario_array_miniseed_reads_back(scenario_dir: Path) -> None:
    array = load_truth(scenario_dir)["array"]
    start, end = parse_utc(array["start"]).timestamp(), parse_utc(array["end"]).timestamp()
    assert 2 * 3600 <= end - start <= 3 * 3600
    stream = obspy.read(str(scenario_dir / "ground-array" / "*.mseed"))
    assert sorted(t.stats.station for t in stream) == [f"ARR0{k}" for k in range(1, 6)]
    total = 0
    for trace in stream:
        assert (trace.stats.network, trace.stats.location, trace.stats.channel) == ("TL", "", "BDF")
        assert trace.stats.sampling_rate == SAMPLING_RATE_HZ
        assert trace.stats.starttime.timestamp == start
        assert trace.stats.npts == round((end - start) * SAMPLING_RATE_HZ)
        assert trace.stats.mseed.encoding == "STEIM2"
        assert trace.data.dtype == np.int32
        total += trace.stats.mseed.filesize
    assert total < 5_000_000
    # the scenario's first shelling episode is in the window
    heard = {e["id"] for e in array["events"]}
    assert {"fire-01-launch", "fire-01-impact-1"} <= heard
    assert {t["kind"] for t in array["false_triggers"]} == {"vehicle", "glitch"}


def test_scenario_stationxml_reads_back_with_coordinates(scenario_dir: Path) -> None:
    array = load_truth(scenario_dir)["array"]
    stations = _elements(scenario_dir)
    by_code = {e["station"]: e for e in array["elements"]}
    for station in stations:
        truth = by_code[station.code]
        assert (station.longitude, station.latitude) == (truth["lon"], truth["lat"])
        assert station.elevation == truth["elevation_m"]
        assert station.description == "array=ARR"
        (channel,) = station.channels
        assert channel.code == "BDF" and channel.sample_rate == SAMPLING_RATE_HZ
        sensitivity = channel.response.instrument_sensitivity
        assert sensitivity.value == 1.0 / CALIBRATION_PA_PER_COUNT
    aperture = max(
        WGS84_GEOD.inv(a.longitude, a.latitude, b.longitude, b.latitude)[2]
        for a in stations
        for b in stations
    )
    assert 100.0 <= aperture <= 300.0
    for event in array["events"]:
        assert 0.0 <= event["back_azimuth_deg"] < 360.0 and event["range_m"] > 0
