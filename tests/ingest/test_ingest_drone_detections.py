"""drone-detections adapter: conformance, sightings per pass, and refusals."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from ingest.ingest_conformance import AdapterConformance, BadCase, head_of, read_all
from ingest.test_ingest_drone_telemetry import (
    GROUND_M,
    LAT0,
    LON0,
    METRES_PER_DEG_LON,
    SENSOR_ID,
    patrol_poses,
    patrol_tlog_bytes,
    write_patrol,
)
from truceline.drone.camera import project
from truceline.ingest.base import Record
from truceline.ingest.drone_detections import DroneDetectionsAdapter, box_pixel
from truceline.ingest.registry import adapters
from truceline.model import Observation, PointLocation, RecordError, Sensor
from truceline.model.geo import LocalFrame
from truceline.model.timeutil import format_utc, from_epoch

METRES_PER_DEG_LAT = 111_200.0
#: label, east (m), north (m) from the start of the track, and the passes it is reported in
OBJECTS = (
    ("T-72", 300.0, 0.0, (0, 1)),
    ("BMP-2", 300.0, 50.0, (0, 1)),
    ("crater", 150.0, -80.0, (0,)),
    ("car", 200.0, 20.0, (0,)),
)
BOX_PX = (36.0, 37.0)  # a 7 m vehicle at ~0.19 m/pixel


def object_lonlat(east_m: float, north_m: float) -> tuple[float, float]:
    return LON0 + east_m / METRES_PER_DEG_LON, LAT0 + north_m / METRES_PER_DEG_LAT


def detections() -> list[dict[str, Any]]:
    """Boxes of every object in every frame that fully contains them.

    Pass 0 gives frame numbers (resolved through the camera triggers), pass 1 times.
    """
    found = []
    for pose in patrol_poses():
        pass_index = 0 if pose.frame is not None and pose.frame < 100 else 1
        for label, east, north, passes in OBJECTS:
            if pass_index not in passes:
                continue
            uv = project(pose, *object_lonlat(east, north), GROUND_M)
            if uv is None:
                continue
            u, v = uv
            box = [
                round(u - BOX_PX[0] / 2, 2),
                round(v - BOX_PX[1], 2),
                round(u + BOX_PX[0] / 2, 2),
                round(v, 2),
            ]
            if box[0] < 0 or box[1] < 0 or box[2] > pose.width_px or box[3] > pose.height_px:
                continue
            item: dict[str, Any] = {
                "box": box,
                "label": label,
                "score": 0.9 if label == "T-72" else 0.7,
            }
            if pass_index == 0:
                item["frame"] = pose.frame
            else:
                item["time"] = format_utc(from_epoch(pose.time_s))
            found.append(item)
    return found


def document(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "truceline-drone-detections/1",
        "sensor_id": SENSOR_ID,
        "telemetry": "patrol.tlog",
        "telemetry_sha256": hashlib.sha256(patrol_tlog_bytes()).hexdigest(),
        "class_map": {"car": "ignore"},
        "detections": detections(),
    }
    doc.update(changes)
    return doc


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def with_detection(index: int, **values: Any) -> bytes:
    doc = document()
    item = copy.deepcopy(doc["detections"][index])
    item.update(values)
    item = {k: v for k, v in item.items() if v is not None}
    doc["detections"][index] = item
    return encode(doc)


def bad_detection(name: str, index: int, field: str, **values: Any) -> BadCase:
    """Detection ``index`` changed by ``values``; the error must name it and ``field``."""
    return BadCase(name, with_detection(index, **values), f"detections[{index}]", field)


class TestDroneDetectionsConformance(AdapterConformance):
    adapter = DroneDetectionsAdapter
    suffix = ".detections.json"
    own_samples = ()

    @pytest.fixture(autouse=True)
    def _telemetry(self, tmp_path: Path) -> None:
        write_patrol(tmp_path)

    def good_content(self) -> bytes:
        return encode(document())

    def check_records(self, records: list[Record]) -> None:
        sensor, *observations = records
        assert isinstance(sensor, Sensor) and sensor.id == SENSOR_ID
        summary = [
            (o.kind, o.attributes.get("weapon_class"), o.attributes["n_frames"])
            for o in observations
            if isinstance(o, Observation)
        ]
        assert [s[:2] for s in summary] == [
            ("crater", None),
            ("equipment", "tank"),
            ("equipment", "armoured_vehicle"),
            ("equipment", "tank"),
            ("equipment", "armoured_vehicle"),
        ]
        assert all(n >= 15 for _, _, n in summary)  # many frames, one sighting per pass
        truths = [OBJECTS[2], OBJECTS[0], OBJECTS[1], OBJECTS[0], OBJECTS[1]]
        for observation, (_, east, north, _) in zip(observations, truths, strict=True):
            assert isinstance(observation, Observation)
            assert observation.modality == "drone" and observation.sensor_id == SENSOR_ID
            location = observation.location
            assert isinstance(location, PointLocation)
            frame = LocalFrame(*object_lonlat(east, north))
            x, y = frame.point_to_local(location.lon, location.lat)
            assert abs(x) < 1.0 and abs(y) < 1.0
            assert 4.0 < location.cov_ee**0.5 < 20.0
            attributes = observation.attributes
            assert attributes["count"] == 1
            assert attributes["telemetry"] == "patrol.tlog"
            assert attributes["telemetry_sha256"] == hashlib.sha256(patrol_tlog_bytes()).hexdigest()
        tank = observations[1]
        assert isinstance(tank, Observation)
        assert tank.attributes["confidence"] == 0.9
        assert tank.attributes["frames"] == sorted(tank.attributes["frames"])
        later = observations[3]
        assert isinstance(later, Observation) and later.attributes["frames"][0] >= 100

    def bad_cases(self) -> list[BadCase]:
        sha = "ab" * 32
        return [
            BadCase("wrong-format", encode(document(format="x/1")), None, "format"),
            BadCase(
                "hash-mismatch", encode(document(telemetry_sha256=sha)), None, "telemetry_sha256"
            ),
            BadCase("no-telemetry", encode(document(telemetry="gone.tlog")), None, "telemetry"),
            BadCase("other-drone", encode(document(sensor_id="drone:UAV-9")), None, "sensor_id"),
            BadCase(
                "bad-class-map",
                encode(document(class_map={"t72": "warship"})),
                None,
                "class_map.t72",
            ),
            bad_detection("before-flight", 1, "time", time="2026-11-02T09:00:00Z"),
            bad_detection("in-gap", 2, "time", time="2026-11-02T10:01:00Z"),
            bad_detection("no-such-frame", 0, "frame", frame=99_999),
            bad_detection("no-time", 0, "time", frame=None),
            bad_detection("unmapped-label", 3, "label", label="person"),
            bad_detection("box-outside", 0, "box", box=[1900, 10, 1930, 40]),
            bad_detection("box-inverted", 0, "box", box=[50, 10, 40, 40]),
            bad_detection("score", 0, "score", score=1.5),
            bad_detection("unknown-key", 0, "colour", colour="green"),
        ]

    def test_registry_detects_this_adapter(self, good_file: Path) -> None:
        if self.adapter not in adapters():
            pytest.skip(f"entry point {self.adapter.name!r} not yet in pyproject.toml")
        super().test_registry_detects_this_adapter(good_file)


def test_unmapped_label_error_names_it(tmp_path: Path) -> None:
    write_patrol(tmp_path)
    path = tmp_path / "x.detections.json"
    path.write_bytes(with_detection(3, label="person"))
    with pytest.raises(RecordError, match="'person'"):
        read_all(DroneDetectionsAdapter, path)


def test_probe_needs_the_marker(tmp_path: Path) -> None:
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"detections": []}))
    assert not DroneDetectionsAdapter.can_read(path, head_of(path))
    marked = tmp_path / "any-name.json"
    marked.write_bytes(encode(document()))
    assert DroneDetectionsAdapter.can_read(marked, head_of(marked))


def test_ground_contact_pixel() -> None:
    assert box_pixel((100.0, 200.0, 140.0, 280.0)) == (120.0, 280.0, 20.0)
    assert box_pixel((100.0, 200.0, 102.0, 202.0)) == (101.0, 202.0, 1.0)


def test_hash_is_optional_and_time_or_frame_agree(tmp_path: Path) -> None:
    """Without telemetry_sha256 the file is read; the hash is still recorded."""
    write_patrol(tmp_path)
    doc = document()
    del doc["telemetry_sha256"]
    path = tmp_path / "nohash.detections.json"
    path.write_bytes(encode(doc))
    records = read_all(DroneDetectionsAdapter, path)
    good = tmp_path / "good.detections.json"
    good.write_bytes(encode(document()))
    assert [r for r in records if isinstance(r, Observation)] == [
        r for r in read_all(DroneDetectionsAdapter, good) if isinstance(r, Observation)
    ]
