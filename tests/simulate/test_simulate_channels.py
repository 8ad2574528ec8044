"""What each sensor channel can and cannot see: clouds, ranges, drone coverage."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, shape

from simulate.simulate_testkit import features, firms_rows, load_truth, records, truth_frame
from truceline.model import parse_utc
from truceline.model.geo import WGS84_GEOD, LocalFrame
from truceline.simulate.geography import build_geography
from truceline.simulate.ground import write_ground
from truceline.simulate.satellite import Overpass, fire_pixels
from truceline.simulate.world import Emission, HeatSource, World, child_rng

START = datetime(2026, 11, 2, tzinfo=UTC).timestamp()


def _empty_world(seed: int = 0, days: int = 1) -> World:
    return World(build_geography(child_rng(seed, 0)), START, START + days * 86_400.0)


def _overpass(time: float, clouds: Any) -> Overpass:
    return Overpass(time, "N20", "NOAA20", "firms:VIIRS:NOAA-20", True, clouds, 0.4, 0.4)


def _local(frame: LocalFrame, geometry: Any) -> Any:
    def project(coords: Any) -> Any:
        x, y = frame.to_local(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def test_clouds_remove_fire_detections() -> None:
    world = _empty_world()
    line = world.geo.line
    spots = [line.place(f * line.length_m, "west", 30_000.0) for f in np.linspace(0.1, 0.9, 20)]
    for n, (x, y) in enumerate(spots):
        world.heat.append(HeatSource(START, START + 3600.0, x, y, 60.0, f"fire-{n}"))
    time = START + 1800.0
    clear = fire_pixels(world, _overpass(time, Polygon()), child_rng(0, 9))
    assert len(clear) >= 20  # 60 MW fires: detected, several pixels each
    cloud = shapely.union_all([Point(x, y).buffer(5_000.0) for x, y in spots[:10]])
    partly = fire_pixels(world, _overpass(time, cloud), child_rng(0, 9))
    frame = world.geo.frame
    assert partly and len(partly) < len(clear)
    for row in partly:
        x, y = frame.point_to_local(float(row[1]), float(row[0]))
        assert not cloud.contains(Point(x, y))
    # nothing is detected after the fires burn out
    assert fire_pixels(world, _overpass(START + 7200.0, Polygon()), child_rng(0, 9)) == []


def _clear_sky(out_dir: Path, csv_path: Path, frame: LocalFrame) -> Any:
    path = out_dir / "satellite" / f"clear-sky-{csv_path.stem}.geojson"
    (feature,) = features(path)
    return _local(frame, shape(feature["geometry"]))


def test_firms_rows_lie_under_clear_sky(scenario_dir: Path) -> None:
    frame = truth_frame(load_truth(scenario_dir))
    clouded_any = False
    for csv_path in sorted((scenario_dir / "firms").glob("*.csv")):
        clear = _clear_sky(scenario_dir, csv_path, frame)
        _, rows = firms_rows(csv_path)
        xs, ys = frame.to_local([float(r[1]) for r in rows], [float(r[0]) for r in rows])
        # pixel centres may be up to ~0.6 km from the fire, which is under clear sky
        near_clear = clear.buffer(1_000.0)
        assert all(near_clear.contains(Point(x, y)) for x, y in zip(xs, ys, strict=True))
        clouded_any |= clear.area < clear.envelope.area * 0.98
    assert clouded_any


def test_flares_are_seen_whenever_the_sky_is_clear(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    frame = truth_frame(truth)
    flares = [
        frame.point_to_local(s["lon"], s["lat"]) for s in truth["sites"] if s["kind"] == "flare"
    ]
    seen = hidden = 0
    for csv_path in sorted((scenario_dir / "firms").glob("*.csv")):
        clear = _clear_sky(scenario_dir, csv_path, frame)
        _, rows = firms_rows(csv_path)
        pixels = [frame.point_to_local(float(r[1]), float(r[0])) for r in rows]
        for fx, fy in flares:
            near = [p for p in pixels if math.hypot(p[0] - fx, p[1] - fy) < 2_000.0]
            if clear.distance(Point(fx, fy)) > 2_000.0:  # deep under cloud
                assert near == [], csv_path.name
                hidden += 1
            elif clear.buffer(-2_000.0).contains(Point(fx, fy)):
                seen += bool(near)
    assert seen >= 8
    assert hidden + seen <= 24


def test_the_strike_sets_fires_seen_at_the_next_overpass(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    frame = truth_frame(truth)
    attack = next(e for e in truth["events"] if e["id"] == "attack-impact")
    ax, ay = frame.point_to_local(attack["lon"], attack["lat"])
    hits = []
    for csv_path in sorted((scenario_dir / "firms").glob("*.csv")):
        _, rows = firms_rows(csv_path)
        for row in rows:
            x, y = frame.point_to_local(float(row[1]), float(row[0]))
            if math.hypot(x - ax, y - ay) < 2_500.0:
                hits.append(f"{row[5]}T{row[6][:2]}:{row[6][2:]}:59Z")
    assert hits
    assert all(parse_utc(h) >= parse_utc(attack["time"]) for h in hits)


def test_acoustic_arrivals_follow_the_speed_of_sound(tmp_path: Path) -> None:
    world = _empty_world(seed=3)
    line = world.geo.line
    x, y = line.place(line.length_m / 2, "east", 3_000.0)
    origin = START + 43_200.0
    world.emissions.append(Emission(origin, x, y, "impact", 1.0, "shell"))
    out = write_ground(tmp_path, world, child_rng(3, 3), child_rng(3, 6))
    counts = out.counts
    spurious = {(a.sensor_id, round(a.time, 3)) for a in out.false_alarms}
    sensors = {f["properties"]["id"]: f for _, f in records(tmp_path, "ground", "sensor")}
    lon, lat = world.geo.to_geo(x, y)
    picks, n_spurious = [], 0
    for _, feature in records(tmp_path, "ground", "observation"):
        props = feature["properties"]
        time = parse_utc(props["time"]).timestamp()
        if (props["sensor_id"], round(time, 3)) in spurious:
            n_spurious += 1
            continue
        picks.append((props, time))
    assert counts["acoustic_detections"] == len(picks) + n_spurious
    assert len(picks) >= 3
    ranges = []
    for props, time in picks:
        st_lon, st_lat = sensors[props["sensor_id"]]["geometry"]["coordinates"]
        azimuth, _, distance = WGS84_GEOD.inv(st_lon, st_lat, lon, lat)
        ranges.append(distance / props["bearing"]["max_range_m"])
        sigma = props["time_sigma_s"]
        slowest, fastest = 331.3 + 0.606 * -15.0, 331.3 + 0.606 * 25.0
        assert distance / fastest - 5 * sigma <= time - origin <= distance / slowest + 5 * sigma
        error = (props["bearing"]["azimuth_deg"] - azimuth + 180.0) % 360.0 - 180.0
        assert abs(error) <= 5 * props["bearing"]["azimuth_sigma_deg"]
    assert max(ranges) < 1.6  # nothing beyond the detection model's reach
    assert np.median(ranges) < 1.0


def test_offline_sensors_have_no_coverage_and_no_detections(scenario_dir: Path) -> None:
    for path in sorted((scenario_dir / "ground").glob("*.geojson")):
        feats = features(path)
        sensors = {f["properties"]["id"] for f in feats if f["properties"]["record"] == "sensor"}
        covered = {
            f["properties"]["sensor_id"] for f in feats if f["properties"]["record"] == "coverage"
        }
        reporting = {
            f["properties"]["sensor_id"]
            for f in feats
            if f["properties"]["record"] == "observation"
        }
        assert reporting <= covered <= sensors
        assert len(covered) >= 0.8 * len(sensors)


def _patrol_corridors(out_dir: Path, frame: LocalFrame) -> dict[str, Any]:
    corridors = {}
    for path in sorted((out_dir / "drone").glob("*.geojson")):
        areas = [
            _local(frame, shape(f["geometry"]))
            for f in features(path)
            if f["properties"]["record"] == "coverage"
        ]
        corridors[path.stem.removeprefix("patrol-")] = shapely.union_all(areas)
    return corridors


def test_drones_only_report_inside_their_coverage(scenario_dir: Path) -> None:
    frame = truth_frame(load_truth(scenario_dir))
    corridors = _patrol_corridors(scenario_dir, frame)
    count = 0
    for _, feature in records(scenario_dir, "drone", "observation"):
        x, y = frame.point_to_local(*feature["geometry"]["coordinates"])
        corridor = corridors[feature["properties"]["attributes"]["patrol"]]
        assert corridor.buffer(250.0).contains(Point(x, y))  # 250 m: > 5 sigma of the error
        count += 1
    assert count > 40


def test_craters_are_bracketed_by_their_impacts(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    frame = truth_frame(truth)
    impacts = [e for e in truth["events"] if e["kind"] == "impact"]
    craters = [
        f
        for _, f in records(scenario_dir, "drone", "observation")
        if f["properties"]["kind"] == "crater"
    ]
    assert len(craters) >= 10
    for crater in craters:
        props = crater["properties"]
        x, y = frame.point_to_local(*crater["geometry"]["coordinates"])
        start, end = parse_utc(props["time"]), parse_utc(props["time_end"])
        causes = [
            e
            for e in impacts
            if math.dist(frame.point_to_local(e["lon"], e["lat"]), (x, y)) < 1_500.0
            and start <= parse_utc(e["time_end"])
            and parse_utc(e["time"]) <= end
        ]
        assert causes, props


def test_drones_see_every_scripted_deployment_at_the_demo_seed(scenario_dir: Path) -> None:
    """At the demo seed each violating weapon group and position is seen at least once."""
    truth = load_truth(scenario_dir)
    frame = truth_frame(truth)
    sightings = [
        (frame.point_to_local(*f["geometry"]["coordinates"]), f["properties"])
        for _, f in records(scenario_dir, "drone", "observation")
        if f["properties"]["kind"] in ("equipment", "military_presence")
    ]
    static = [
        e
        for e in truth["events"]
        if e["violation"] and e["kind"] in ("equipment", "military_presence")
    ]
    assert len(static) >= 6
    for event in static:
        ex, ey = frame.point_to_local(event["lon"], event["lat"])
        seen = [
            p
            for (x, y), p in sightings
            if math.hypot(x - ex, y - ey) < 300.0
            and p["kind"] == event["kind"]
            and parse_utc(event["time"]) <= parse_utc(p["time"]) <= parse_utc(event["time_end"])
        ]
        assert seen, event["id"]


def test_ingest_adapters_read_everything(scenario_dir: Path) -> None:
    geojson = pytest.importorskip("truceline.ingest.geojson")
    firms = pytest.importorskip("truceline.ingest.firms")
    from truceline.ingest.base import PROBE_BYTES
    from truceline.model import Observation

    observations = 0
    for path in sorted(scenario_dir.glob("*/*.geojson")):
        assert geojson.GeoJSONAdapter.can_read(path, path.read_bytes()[:PROBE_BYTES])
        observations += sum(isinstance(r, Observation) for r in geojson.GeoJSONAdapter().read(path))
    rows = 0
    for path in sorted(scenario_dir.glob("firms/*.csv")):
        head = path.read_bytes()[:PROBE_BYTES]
        assert firms.FirmsAdapter.can_read(path, head)
        assert not geojson.GeoJSONAdapter.can_read(path, head)
        records_read = list(firms.FirmsAdapter().read(path))
        rows += sum(isinstance(r, Observation) for r in records_read)
    truth = load_truth(scenario_dir)
    assert observations > 1000
    assert rows == sum(len(firms_rows(p)[1]) for p in scenario_dir.glob("firms/*.csv"))
    assert truth["events"]
