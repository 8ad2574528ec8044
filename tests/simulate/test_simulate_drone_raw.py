"""Raw drone patrols: MAVLink / KLV telemetry, sidecars and frame detections."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulate.simulate_testkit import all_bytes, load_truth
from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.sidecar import TelemetrySidecar, read_sidecar, write_sidecar
from truceline.model.timeutil import parse_utc
from truceline.simulate import simulate_scenario
from truceline.simulate.drone import Patrol
from truceline.simulate.drone_detector import CLASS_MAP
from truceline.simulate.drone_flight import CAMERA, FlightLog, fly_camera
from truceline.simulate.geography import build_geography
from truceline.simulate.world import World, child_rng

mavlink = pytest.importorskip("truceline.drone.mavlink", reason="MAVLink reader not available")
klv = pytest.importorskip("truceline.drone.klv", reason="KLV reader not available")
camera = pytest.importorskip("truceline.drone.camera", reason="camera model not available")


def _read(path: Path) -> Telemetry:
    if path.suffix == ".tlog":
        telemetry: Telemetry = mavlink.read_tlog(path)
    else:
        telemetry = klv.read_klv(path)
    return telemetry


def _patrols(out_dir: Path) -> list[dict[str, Any]]:
    patrols: list[dict[str, Any]] = load_truth(out_dir)["drone"]["patrols"]
    return patrols


def test_every_patrol_has_telemetry_sidecar_and_detections(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    planned = {p.stem.removeprefix("patrol-") for p in (scenario_dir / "drone").glob("*.geojson")}
    patrols = _patrols(scenario_dir)
    assert {p["patrol"] for p in patrols} == planned
    formats = [p["telemetry_format"] for p in patrols]
    assert abs(formats.count("mavlink-tlog") - formats.count("misb-st0601-klv")) <= 1
    assert sum(p["telemetry_gap"] is not None for p in patrols) == 1
    for patrol in patrols:
        for key in ("telemetry", "sidecar", "detections"):
            assert (scenario_dir / patrol[key]).is_file()
        side = read_sidecar(scenario_dir / patrol["telemetry"])
        assert side.sensor_id == patrol["sensor_id"]
        assert (side.hfov_deg, side.vfov_deg, side.width_px, side.height_px) == CAMERA
        assert vars_of(side.uncertainty) == patrol["uncertainty"]
        raw = json.loads((scenario_dir / patrol["sidecar"]).read_text(encoding="utf-8"))
        assert raw["terrain_height_m"] == truth["drone"]["terrain_height_m"]


def vars_of(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def test_detections_files_follow_the_format(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    total = 0
    for patrol in _patrols(scenario_dir):
        path = scenario_dir / patrol["detections"]
        data = json.loads(path.read_text(encoding="utf-8"))
        telemetry = path.parent / data["telemetry"]
        assert data["format"] == "truceline-drone-detections/1"
        assert data["sensor_id"] == patrol["sensor_id"]
        assert str(telemetry.relative_to(scenario_dir)) == patrol["telemetry"]
        assert data["telemetry_sha256"] == hashlib.sha256(telemetry.read_bytes()).hexdigest()
        assert data["terrain_height_m"] == truth["drone"]["terrain_height_m"]
        assert data["class_map"] == CLASS_MAP
        start, end = parse_utc(patrol["start"]), parse_utc(patrol["end"])
        for row in data["detections"]:
            assert row["label"] in data["class_map"]
            assert 0.0 < row["score"] < 1.0
            x0, y0, x1, y1 = row["box"]
            assert 0 <= x0 < x1 <= CAMERA[2] and 0 <= y0 < y1 <= CAMERA[3]
            assert (
                start.timestamp() - 1 <= parse_utc(row["time"]).timestamp() <= end.timestamp() + 1
            )
            assert ("frame" in row) == (telemetry.suffix == ".tlog")
        total += len(data["detections"])
    assert total > 50


def test_telemetry_reads_back(scenario_dir: Path) -> None:
    for patrol in _patrols(scenario_dir)[:6]:
        path = scenario_dir / patrol["telemetry"]
        telemetry = _read(path)
        assert len(telemetry.poses) == patrol["poses"]
        assert abs(telemetry.start_s - parse_utc(patrol["start"]).timestamp()) < 0.2
        detections = json.loads((scenario_dir / patrol["detections"]).read_text("utf-8"))
        if path.suffix == ".tlog":
            frames = mavlink.read_camera_frames(path)
            assert len(frames) == patrol["frames"]
            for row in detections["detections"]:
                assert abs(frames[row["frame"]] - parse_utc(row["time"]).timestamp()) < 1e-3
        for row in detections["detections"]:
            telemetry.at(parse_utc(row["time"]).timestamp())  # no gap at any frame


def test_lawful_and_unlawful_heavy_weapons_are_in_view(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    events = {e["id"]: e for e in truth["events"]}
    seen = {v["id"] for p in _patrols(scenario_dir) for v in p["in_view"] if v["detected"] > 0}
    equipment = [events[i] for i in seen if events[i]["kind"] == "equipment"]
    assert any(e["violation"] for e in equipment)
    assert any(e.get("benign_reason") == "beyond_withdrawal_band" for e in equipment)
    assert any(e.get("benign_reason") == "in_storage_site" for e in equipment)


def test_true_objects_fall_in_detection_boxes(scenario_dir: Path) -> None:
    """Projected with the recorded pose, an object lands near a box (pose error ~35 px)."""
    truth = load_truth(scenario_dir)
    height = truth["drone"]["terrain_height_m"]
    events = {e["id"]: e for e in truth["events"]}
    checked, hits = 0, 0
    for patrol in _patrols(scenario_dir):
        objects = [
            events[v["id"]]
            for v in patrol["in_view"]
            if v["detected"] and events[v["id"]]["kind"] in {"equipment", "military_presence"}
        ]
        if not objects:
            continue
        telemetry = _read(scenario_dir / patrol["telemetry"])
        rows = json.loads((scenario_dir / patrol["detections"]).read_text("utf-8"))["detections"]
        for event in objects:
            checked += 1
            for row in rows:
                pose = telemetry.at(parse_utc(row["time"]).timestamp())
                pixel = camera.project(pose, event["lon"], event["lat"], height)
                if pixel is None:
                    continue
                x0, y0, x1, y1 = row["box"]
                if math.hypot(pixel[0] - (x0 + x1) / 2, pixel[1] - (y0 + y1) / 2) < 150.0:
                    hits += 1
                    break
    assert checked >= 5
    assert hits >= 0.8 * checked


def _flight(rng_seed: int = 11) -> tuple[World, FlightLog]:
    geo = build_geography(child_rng(0, 0))
    start = datetime(2026, 11, 2, tzinfo=UTC).timestamp()
    world = World(geo, start, start + 86_400.0)
    route = tuple(
        (float(p.x), float(p.y))
        for p in (geo.line.local.interpolate(s) for s in np.arange(20e3, 220e3, 2_000.0))
    )
    patrol = Patrol("2026-11-02-X1", "drone:UAV-09", "line", start + 3600.0, route)
    return world, fly_camera(world, patrol, np.random.default_rng(rng_seed), 150.0, gap_s=6.0)


def test_flight_is_deterministic_and_has_its_gap() -> None:
    _, first = _flight()
    _, second = _flight()
    assert first == second
    assert first.gap is not None
    times = np.array([p.time_s for p in first.true])
    in_gap = (times >= first.gap[0]) & (times < first.gap[1])
    assert not in_gap.any()
    off_nadir = np.array([p.sensor_el_deg for p in first.true]) + 90.0
    assert off_nadir.min() < 10.0 and off_nadir.max() > 50.0  # near-nadir and oblique
    agl = np.array([p.alt_m for p in first.true]) - 150.0
    assert agl.min() >= 280.0 and agl.max() <= 1600.0


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    result: np.ndarray = (a - b + 180.0) % 360.0 - 180.0
    return result


@pytest.mark.parametrize("suffix", [".tlog", ".klv"])
def test_recorded_noise_matches_the_sidecar(tmp_path: Path, suffix: str) -> None:
    world, log = _flight()
    path = tmp_path / f"patrol{suffix}"
    if suffix == ".tlog":
        mavlink.write_tlog(path, log.recorded, system_id=9)
    else:
        klv.write_klv(path, log.recorded)
    hfov, vfov, width, height = CAMERA
    write_sidecar(
        path, TelemetrySidecar("drone:UAV-09", hfov, vfov, width, height, log.uncertainty)
    )
    read = _read(path).poses
    assert len(read) == len(log.true)
    true: list[CameraPose] = list(log.true)
    u = read_sidecar(path).uncertainty

    def column(poses: list[CameraPose], name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in poses])

    tx, ty = world.geo.frame.to_local(column(true, "lon"), column(true, "lat"))
    rx, ry = world.geo.frame.to_local(column(read, "lon"), column(read, "lat"))
    oblique = column(true, "sensor_el_deg") > -80.0  # azimuth is well defined
    errors = {
        "horizontal_m": np.concatenate([rx - tx, ry - ty]),
        "vertical_m": column(read, "alt_m") - column(true, "alt_m"),
        "attitude_deg": np.concatenate(
            [
                _angle(column(read, n), column(true, n))
                for n in ("heading_deg", "pitch_deg", "roll_deg")
            ]
        ),
        "gimbal_deg": np.concatenate(
            [
                _angle(column(read, "sensor_el_deg"), column(true, "sensor_el_deg")),
                _angle(column(read, "sensor_az_deg"), column(true, "sensor_az_deg"))[oblique],
            ]
        ),
        "time_s": column(read, "time_s") - column(true, "time_s"),
    }
    for name, error in errors.items():
        sigma = getattr(u, name)
        assert 0.7 * sigma <= float(np.std(error)) <= 1.3 * sigma, name


def test_raw_files_are_byte_identical_across_runs(tmp_path: Path) -> None:
    start = datetime(2027, 3, 1, tzinfo=UTC)
    simulate_scenario(tmp_path / "a", seed=3, days=1, start=start)
    simulate_scenario(tmp_path / "b", seed=3, days=1, start=start)
    first = {k: v for k, v in all_bytes(tmp_path / "a").items() if k.startswith("drone-raw/")}
    second = {k: v for k, v in all_bytes(tmp_path / "b").items() if k.startswith("drone-raw/")}
    assert first and first == second
    assert any(k.endswith(".tlog") for k in first) and any(k.endswith(".klv") for k in first)
