"""drone-telemetry adapter: conformance on a written .tlog, KLV, probes and terrain.

The builders here (a patrol over flat ground written with the drone channel's own
MAVLink and KLV writers) are shared with ``test_ingest_drone_detections``.
"""

from __future__ import annotations

import json
import math
import struct
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import shapely
from pymavlink.dialects.v20 import ardupilotmega as mavlink2

from ingest.ingest_conformance import AdapterConformance, BadCase, head_of, read_all
from truceline.drone.base import CameraPose
from truceline.drone.klv import write_klv
from truceline.drone.mavlink import write_tlog
from truceline.drone.sidecar import TelemetrySidecar, write_sidecar
from truceline.ingest.base import Record
from truceline.ingest.registry import adapters
from truceline.ingest.telemetry import DroneTelemetryAdapter, TerrainWarning
from truceline.model import Coverage, RecordError, Sensor

T0 = 1_793_613_600.0  # 2026-11-02T10:00:00Z
GROUND_M = 150.0
ALT_M = 650.0
LON0, LAT0 = 37.5, 48.0
SPEED_MPS = 20.0
METRES_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
SENSOR_ID = "drone:UAV-3"
#: pass 0: 60 poses at 2 Hz from T0 (frames 0-59); pass 1: 40 poses from T0 + 100 s (100-139)
PASSES = ((T0, 60, 0), (T0 + 100.0, 40, 100))


def patrol_poses() -> list[CameraPose]:
    """Two eastbound passes along 48° N, camera straight down, 500 m above the ground."""
    poses = []
    for start, n, first_frame in PASSES:
        for i in range(n):
            east_m = SPEED_MPS * 0.5 * i
            poses.append(
                CameraPose(
                    start + 0.5 * i, LON0 + east_m / METRES_PER_DEG_LON, LAT0, ALT_M,
                    90.0, 0.0, 0.0, 0.0, -90.0, 0.0, 40.0, 30.0, 1920, 1440,
                    frame=first_frame + i,
                )
            )  # fmt: skip
    return poses


def write_patrol_sidecar(path: Path, **extra: Any) -> Path:
    """The sidecar of ``path``, with ``terrain_height_m`` and ``reliability`` unless overridden."""
    side = write_sidecar(path, TelemetrySidecar(SENSOR_ID, 40.0, 30.0, 1920, 1440))
    data = json.loads(side.read_text())
    data.update({"terrain_height_m": GROUND_M, "reliability": 0.8, "owner": "mission"})
    data.update(extra)
    data = {k: v for k, v in data.items() if v is not None}
    side.write_text(json.dumps(data))
    return side


@cache
def patrol_tlog_bytes() -> bytes:
    """The patrol as a MAVLink .tlog (deterministic bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "patrol.tlog"
        write_tlog(path, patrol_poses())
        return path.read_bytes()


def write_patrol(directory: Path, name: str = "patrol.tlog") -> Path:
    """The patrol .tlog and its sidecar in ``directory``."""
    path = directory / name
    path.write_bytes(patrol_tlog_bytes())
    write_patrol_sidecar(path)
    return path


def attitude_only_tlog() -> bytes:
    """A valid MAVLink log with no position message."""
    mav = mavlink2.MAVLink(None, srcSystem=1, srcComponent=1)
    msg = mavlink2.MAVLink_attitude_message(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    return struct.pack(">Q", int(T0 * 1e6)) + msg.pack(mav)


def two_systems_tlog() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "two.tlog"
        write_tlog(path, patrol_poses()[:5], system_id=2)
        return patrol_tlog_bytes() + path.read_bytes()


class TestDroneTelemetryConformance(AdapterConformance):
    adapter = DroneTelemetryAdapter
    suffix = ".tlog"
    own_samples = ()

    @pytest.fixture(autouse=True)
    def _sidecars(self, tmp_path: Path) -> None:
        """Every telemetry file the suite writes has its sidecar beside it."""
        for stem in ("good", "bad", "empty", "renamed-copy"):
            write_patrol_sidecar(tmp_path / f"{stem}{self.suffix}")

    def good_content(self) -> bytes:
        return patrol_tlog_bytes()

    def check_records(self, records: list[Record]) -> None:
        sensor, *coverage = records
        assert sensor == Sensor(
            SENSOR_ID, "drone", owner="mission", timing_sigma_s=0.02, reliability=0.8
        )
        assert all(isinstance(c, Coverage) for c in coverage)

        def at(minute: int, second: int, micro: int = 0) -> datetime:
            return datetime(2026, 11, 2, 10, minute, second, micro, tzinfo=UTC)

        assert [(c.start, c.end) for c in coverage if isinstance(c, Coverage)] == [
            (at(0, 0), at(0, 29, 500_000)),
            (at(1, 40), at(1, 59, 500_000)),
        ]
        first = coverage[0]
        assert isinstance(first, Coverage)
        assert first.target == "heavy_weapon" and first.detection_probability > 0.85
        assert first.area.contains(shapely.Point(LON0 + 300 / METRES_PER_DEG_LON, LAT0))
        assert not first.area.contains(shapely.Point(LON0, LAT0 + 0.01))  # 1.1 km north

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("no-positions", attitude_only_tlog(), None, None),
            BadCase("two-drones", two_systems_tlog(), None, None),
        ]

    def test_registry_detects_this_adapter(self, good_file: Path) -> None:
        if self.adapter not in adapters():
            pytest.skip(f"entry point {self.adapter.name!r} not yet in pyproject.toml")
        super().test_registry_detects_this_adapter(good_file)


def test_probe_needs_the_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "lonely.tlog"
    path.write_bytes(patrol_tlog_bytes())
    assert not DroneTelemetryAdapter.can_read(path, head_of(path))
    write_patrol_sidecar(path)
    assert DroneTelemetryAdapter.can_read(path, head_of(path))
    text = tmp_path / "notes.tlog"
    text.write_text("not a log at all\n")
    write_patrol_sidecar(text)
    assert not DroneTelemetryAdapter.can_read(text, head_of(text))


def test_klv_stream(tmp_path: Path) -> None:
    path = tmp_path / "patrol.klv"
    write_klv(path, patrol_poses())
    write_patrol_sidecar(path)
    assert DroneTelemetryAdapter.can_read(path, head_of(path))
    sensor, *coverage = read_all(DroneTelemetryAdapter, path)
    assert isinstance(sensor, Sensor) and sensor.id == SENSOR_ID
    tlog = read_all(DroneTelemetryAdapter, write_patrol(tmp_path))[1:]
    assert len(coverage) == len(tlog) == 2
    for klv_cov, tlog_cov in zip(coverage, tlog, strict=True):
        assert isinstance(klv_cov, Coverage) and isinstance(tlog_cov, Coverage)
        assert klv_cov.start == tlog_cov.start
        overlap = klv_cov.area.intersection(tlog_cov.area).area
        assert overlap == pytest.approx(tlog_cov.area.area, rel=0.01)


def test_broken_dataflash_is_recognised_and_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "flight.bin"
    path.write_bytes(b"\xa3\x95\x80" + bytes(200))
    write_patrol_sidecar(path)
    assert DroneTelemetryAdapter.can_read(path, head_of(path))
    with pytest.raises(RecordError, match=r"dataflash \.bin") as info:
        read_all(DroneTelemetryAdapter, path)
    assert info.value.file == str(path)


def test_missing_terrain_height_warns(tmp_path: Path) -> None:
    path = write_patrol(tmp_path)
    write_patrol_sidecar(path, terrain_height_m=None)
    with pytest.warns(TerrainWarning, match="0 m"):
        records = read_all(DroneTelemetryAdapter, path)
    assert len(records) == 3


def test_bad_sidecar_extra_is_named(tmp_path: Path) -> None:
    path = write_patrol(tmp_path)
    side = write_patrol_sidecar(path, reliability=1.5)
    with pytest.raises(RecordError) as info:
        read_all(DroneTelemetryAdapter, path)
    assert (info.value.file, info.value.field) == (str(side), "reliability")
    write_patrol_sidecar(path, terrain_height_m="low")
    with pytest.raises(RecordError) as info:
        read_all(DroneTelemetryAdapter, path)
    assert info.value.field == "terrain_height_m"
