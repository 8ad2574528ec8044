"""ArduPilot dataflash logs: written here, read by pymavlink and by the drone channel."""

from __future__ import annotations

import contextlib
import io
import math
import random
import struct
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pymavlink import DFReader

from ingest.ingest_conformance import head_of, read_all
from ingest.test_ingest_drone_telemetry import patrol_poses, write_patrol_sidecar
from truceline.drone.base import CameraPose
from truceline.drone.dataflash import (
    GPS_UTC_LEAP_S,
    read_dataflash,
    read_dataflash_frames,
    write_dataflash,
)
from truceline.drone.mavlink import TelemetryWarning, read_camera_frames, read_tlog
from truceline.drone.sidecar import TelemetrySidecar, write_sidecar
from truceline.ingest.telemetry import DroneTelemetryAdapter
from truceline.model import Coverage, RecordError, Sensor

T0 = 1_780_000_000.0  # 2026-05-28, UTC epoch seconds
SIDECAR = TelemetrySidecar(
    "drone:UAV-1", hfov_deg=40.0, vfov_deg=30.0, width_px=1920, height_px=1440
)
ANGLES = ("heading_deg", "pitch_deg", "roll_deg", "sensor_az_deg", "sensor_el_deg")


def _poses(n: int = 40, seed: int = 11) -> list[CameraPose]:
    rng = random.Random(seed)
    return [
        CameraPose(
            T0 + 0.25 * i,
            37.5 + 1.234567e-5 * i,
            48.1 - 0.987654e-5 * i,
            812.34 + 0.5 * i,
            rng.uniform(0.0, 360.0),
            rng.uniform(-20.0, 20.0),
            rng.uniform(-30.0, 30.0),
            rng.uniform(0.0, 360.0),
            rng.uniform(-85.0, 10.0),
            rng.uniform(-10.0, 10.0),
            40.0,
            30.0,
            1920,
            1440,
            frame=1000 + i if i % 2 == 0 else None,
        )
        for i in range(n)
    ]


def _write(path: Path, poses: list[CameraPose]) -> Path:
    write_dataflash(path, poses)
    write_sidecar(path, SIDECAR)
    return path


def _angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_round_trip_reproduces_poses_and_frames(tmp_path: Path) -> None:
    written = _poses()
    path = _write(tmp_path / "flight.bin", written)
    read = read_dataflash(path).poses
    assert len(read) == len(written)
    for got, want in zip(read, written, strict=True):
        assert got.time_s == pytest.approx(want.time_s, abs=1e-6)
        assert abs(got.lon - want.lon) <= 1e-7 and abs(got.lat - want.lat) <= 1e-7
        assert got.alt_m == pytest.approx(want.alt_m, abs=0.006)  # GPS.Alt is in cm
        for name in (*ANGLES, "sensor_roll_deg"):
            assert _angle_diff(getattr(got, name), getattr(want, name)) < 0.01, name
        assert got.frame == want.frame
        assert (got.hfov_deg, got.width_px, got.uncertainty) == (40.0, 1920, SIDECAR.uncertainty)
    frames = {p.frame: p.time_s for p in written if p.frame is not None}
    assert read_dataflash_frames(path) == pytest.approx(frames)
    assert read_camera_frames(path) == pytest.approx(frames)  # dispatched by the suffix
    assert read_tlog(path).poses == read  # likewise


def test_nadir_pose_round_trips(tmp_path: Path) -> None:
    pose = replace(_poses(1)[0], heading_deg=90.0, pitch_deg=0.0, roll_deg=0.0)
    nadir = [replace(pose, sensor_az_deg=0.0, sensor_el_deg=-90.0, sensor_roll_deg=0.0)]
    got = read_dataflash(_write(tmp_path / "n.bin", nadir)).poses[0]
    assert got.sensor_el_deg == pytest.approx(-90.0, abs=0.01)
    assert _angle_diff(got.sensor_az_deg, 0.0) < 0.01 and abs(got.sensor_roll_deg) < 0.01


def test_written_log_is_dataflash_as_pymavlink_reads_it(tmp_path: Path) -> None:
    written = _poses(6)
    path = _write(tmp_path / "flight.bin", written)
    with contextlib.redirect_stderr(io.StringIO()):
        reader = DFReader.DFReader_binary(str(path))
    try:
        kinds: dict[str, list[Any]] = {}
        while (msg := reader.recv_msg()) is not None:
            kinds.setdefault(msg.get_type(), []).append(msg)
    finally:
        reader.data_map.close()
        reader.filehandle.close()
    assert {k: len(v) for k, v in kinds.items()} == {
        "FMT": 5, "GPS": 6, "ATT": 6, "MNT": 6, "CAM": 3,
    }  # fmt: skip
    gps = kinds["GPS"][0]
    assert (gps.Lat, gps.Lng) == pytest.approx((written[0].lat, written[0].lon), abs=1e-7)
    gps_s = gps.GWk * 604_800 + gps.GMS / 1000 + 315_964_800 - GPS_UTC_LEAP_S
    assert gps_s == pytest.approx(T0, abs=1e-6)
    assert [m.Img for m in kinds["CAM"]] == [1000, 1002, 1004]
    assert kinds["ATT"][0].Roll == pytest.approx(written[0].roll_deg, abs=1e-4)


def test_write_is_deterministic_and_refuses_bad_input(tmp_path: Path) -> None:
    poses = _poses(5)
    write_dataflash(tmp_path / "a.bin", poses)
    write_dataflash(tmp_path / "b.bin", poses)
    assert (tmp_path / "a.bin").read_bytes() == (tmp_path / "b.bin").read_bytes()
    with pytest.raises(RecordError, match="strictly increasing"):
        write_dataflash(tmp_path / "c.bin", poses[::-1])
    with pytest.raises(RecordError, match="no poses"):
        write_dataflash(tmp_path / "c.bin", [])
    with pytest.raises(RecordError, match="65535"):
        write_dataflash(tmp_path / "c.bin", [replace(poses[0], frame=70_000)])


def test_nan_attitude_drops_the_pose_with_a_warning(tmp_path: Path) -> None:
    poses = _poses(6)
    # CameraPose refuses NaN, so write a finite pose and overwrite ATT.Roll (float) with NaN.
    path = _write(tmp_path / "nan.bin", poses)
    data = bytearray(path.read_bytes())
    roll = struct_float_offset(data, poses[2].roll_deg)
    data[roll : roll + 4] = b"\x00\x00\xc0\x7f"  # float32 NaN
    path.write_bytes(bytes(data))
    with pytest.warns(TelemetryWarning, match="1 positions dropped, attitude is NaN"):
        telemetry = read_dataflash(path)
    assert [p.time_s for p in telemetry.poses] == [p.time_s for i, p in enumerate(poses) if i != 2]


def struct_float_offset(data: bytearray, value: float) -> int:
    """Offset of the little-endian float32 ``value`` in ``data`` (exactly one occurrence)."""
    needle = struct.pack("<f", value)
    at = data.find(needle)
    assert at >= 0 and data.find(needle, at + 1) < 0
    return at


def test_truncated_log_is_read_up_to_the_cut(tmp_path: Path) -> None:
    path = _write(tmp_path / "cut.bin", _poses(10))
    data = path.read_bytes()
    path.write_bytes(data[:-30])
    with pytest.warns(TelemetryWarning, match=r"truncated at byte \d+"):
        telemetry = read_dataflash(path)
    assert 8 <= len(telemetry.poses) <= 10


def test_garbage_is_skipped_with_its_offsets(tmp_path: Path) -> None:
    path = _write(tmp_path / "garbage.bin", _poses(10))
    data = path.read_bytes()
    fmt_end = 5 * 89  # garbage between the five FMT records and the first GPS record
    path.write_bytes(data[:fmt_end] + b"\x00\x01noise" + data[fmt_end:])
    with (
        pytest.warns(TelemetryWarning, match=r"bytes 445–451 \(7 bytes\) are not valid"),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        assert len(read_dataflash(path).poses) == 10


def test_unreadable_or_foreign_file_and_missing_sidecar_raise_naming_them(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "flight.bin", _poses(3))
    (tmp_path / "flight.bin.json").unlink()
    with pytest.raises(RecordError, match=r"no sidecar flight\.bin\.json") as info:
        read_dataflash(path)
    assert info.value.file == str(tmp_path / "flight.bin.json")
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"not a log at all" * 10)
    write_sidecar(foreign, SIDECAR)
    with pytest.raises(RecordError, match="no valid dataflash records") as info:
        read_dataflash(foreign)
    assert info.value.file == str(foreign)
    missing = tmp_path / "missing.bin"
    write_sidecar(missing, SIDECAR)
    with pytest.raises(RecordError, match="cannot read") as info:
        read_dataflash(missing)
    assert info.value.file == str(missing)


def test_telemetry_adapter_ingests_a_dataflash_log(tmp_path: Path) -> None:
    path = tmp_path / "patrol.bin"
    write_dataflash(path, patrol_poses())
    write_patrol_sidecar(path)
    assert DroneTelemetryAdapter.can_read(path, head_of(path))
    records = read_all(DroneTelemetryAdapter, path)
    assert isinstance(records[0], Sensor) and records[0].id == "drone:UAV-3"
    coverages = [r for r in records[1:] if isinstance(r, Coverage)]
    assert len(coverages) == len(records) - 1 == 2
    assert all(math.isfinite(c.area.area) and c.area.area > 0 for c in coverages)
