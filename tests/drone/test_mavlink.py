"""MAVLink telemetry logs: write/read round trip, damaged logs, bad telemetry."""

from __future__ import annotations

import math
import random
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mavlink2

from truceline.drone.base import CameraPose, TelemetryGapError
from truceline.drone.mavlink import TelemetryWarning, read_camera_frames, read_tlog, write_tlog
from truceline.drone.sidecar import TelemetrySidecar, sidecar_path, write_sidecar
from truceline.model.errors import RecordError

T0 = 1_780_000_000.0  # 2026-05-28, UTC epoch seconds
SIDECAR = TelemetrySidecar(
    "drone:UAV-1", hfov_deg=40.0, vfov_deg=30.0, width_px=1920, height_px=1440
)
ANGLES = ("heading_deg", "pitch_deg", "roll_deg", "sensor_az_deg", "sensor_el_deg")


def _pose(i: int, rng: random.Random, **kw: Any) -> CameraPose:
    values: dict[str, Any] = {
        "time_s": T0 + 0.25 * i,
        "lon": 37.5 + 1.234567e-5 * i,
        "lat": 48.1 - 0.987654e-5 * i,
        "alt_m": 812.345 + 0.5 * i,
        "heading_deg": rng.uniform(0.0, 360.0),
        "pitch_deg": rng.uniform(-20.0, 20.0),
        "roll_deg": rng.uniform(-30.0, 30.0),
        "sensor_az_deg": rng.uniform(0.0, 360.0),
        "sensor_el_deg": rng.uniform(-85.0, 10.0),
        "sensor_roll_deg": rng.uniform(-10.0, 10.0),
        "hfov_deg": SIDECAR.hfov_deg,
        "vfov_deg": SIDECAR.vfov_deg,
        "width_px": SIDECAR.width_px,
        "height_px": SIDECAR.height_px,
        "frame": 1000 + i if i % 2 == 0 else None,
        "uncertainty": SIDECAR.uncertainty,
    }
    values.update(kw)
    return CameraPose(**values)


def _poses(n: int = 80, seed: int = 7) -> list[CameraPose]:
    rng = random.Random(seed)
    return [_pose(i, rng) for i in range(n)]


def _write(path: Path, poses: list[CameraPose]) -> Path:
    write_tlog(path, poses)
    write_sidecar(path, SIDECAR)
    return path


def _angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _assert_same(read: list[CameraPose], written: list[CameraPose]) -> None:
    assert len(read) == len(written)
    for got, want in zip(read, written, strict=True):
        assert got.time_s == pytest.approx(want.time_s, abs=1e-6)
        assert abs(got.lon - want.lon) <= 1e-7 and abs(got.lat - want.lat) <= 1e-7
        assert got.alt_m == pytest.approx(want.alt_m, abs=1e-3)
        for name in (*ANGLES, "sensor_roll_deg"):
            assert _angle_diff(getattr(got, name), getattr(want, name)) < 0.01, name
        assert got.frame == want.frame
        assert (got.hfov_deg, got.width_px, got.uncertainty) == (40.0, 1920, SIDECAR.uncertainty)


def _record(mav: Any, time_s: float, msg: Any) -> bytes:
    buf: bytes = msg.pack(mav)
    mav.seq = (mav.seq + 1) % 256
    return struct.pack(">Q", round(time_s * 1e6)) + buf


def _position(boot_ms: int, heading_cdeg: int = 0) -> Any:
    return mavlink2.MAVLink_global_position_int_message(
        boot_ms, 481000000, 375000000, 800000, 0, 0, 0, 0, heading_cdeg
    )


def _attitude(boot_ms: int, roll: float, pitch: float, yaw: float) -> Any:
    return mavlink2.MAVLink_attitude_message(boot_ms, roll, pitch, yaw, 0.0, 0.0, 0.0)


def _handmade(path: Path, rows: list[tuple[float, Any]], system_id: int = 1) -> Path:
    mav = mavlink2.MAVLink(None, srcSystem=system_id, srcComponent=1)
    path.write_bytes(b"".join(_record(mav, t, msg) for t, msg in rows))
    write_sidecar(path, SIDECAR)
    return path


# --- round trip ---------------------------------------------------------------------------


def test_round_trip_reproduces_poses_and_frames(tmp_path: Path) -> None:
    poses = _poses()
    tel = read_tlog(_write(tmp_path / "a.tlog", poses))
    _assert_same(tel.poses, poses)
    assert tel.source == str(tmp_path / "a.tlog")
    frames = read_camera_frames(tmp_path / "a.tlog")
    assert frames == {p.frame: pytest.approx(p.time_s, abs=1e-6) for p in poses if p.frame}


def test_round_trip_nadir_and_north_and_level(tmp_path: Path) -> None:
    rng = random.Random(1)
    poses = [
        _pose(0, rng, sensor_el_deg=-90.0, sensor_roll_deg=0.0, sensor_az_deg=35.0),
        _pose(1, rng, heading_deg=0.0, pitch_deg=0.0, roll_deg=0.0, sensor_az_deg=0.0),
        _pose(2, rng, heading_deg=359.999, sensor_el_deg=-89.9, sensor_roll_deg=0.0),
    ]
    _assert_same(read_tlog(_write(tmp_path / "n.tlog", poses)).poses, poses)


def test_write_is_deterministic_and_only_writes_the_log(tmp_path: Path) -> None:
    poses = _poses(20)
    write_tlog(tmp_path / "a.tlog", poses)
    write_tlog(tmp_path / "b.tlog", poses, system_id=1)
    assert (tmp_path / "a.tlog").read_bytes() == (tmp_path / "b.tlog").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tlog", "b.tlog"]


def test_written_log_reads_in_pymavlink_mavutil(tmp_path: Path) -> None:
    # mavutil switches its protocol through os.environ, so it runs in its own process.
    path = tmp_path / "a.tlog"
    write_tlog(path, _poses(10))
    code = (
        "import sys, collections\nfrom pymavlink import mavutil\n"
        "log = mavutil.mavlink_connection(sys.argv[1], dialect='ardupilotmega')\n"
        "seen = collections.Counter()\n"
        "while (m := log.recv_match()) is not None: seen[m.get_type()] += 1\n"
        "print(sorted(seen.items()))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(
        sorted(
            {
                "ATTITUDE": 10,
                "CAMERA_TRIGGER": 5,
                "GIMBAL_DEVICE_ATTITUDE_STATUS": 10,
                "GLOBAL_POSITION_INT": 10,
            }.items()
        )
    )


def test_write_refuses_unordered_or_no_poses(tmp_path: Path) -> None:
    poses = _poses(3)
    with pytest.raises(RecordError, match="increasing time"):
        write_tlog(tmp_path / "a.tlog", [poses[1], poses[0]])
    with pytest.raises(RecordError, match="no poses"):
        write_tlog(tmp_path / "a.tlog", [])


# --- damaged logs -------------------------------------------------------------------------


def test_garbage_in_the_middle_is_skipped_with_its_offsets(tmp_path: Path) -> None:
    poses = _poses()
    whole = _write(tmp_path / "whole.tlog", poses).read_bytes()
    boundary = len(_write(tmp_path / "half.tlog", poses[:40]).read_bytes())
    garbage = bytes(random.Random(3).randrange(256) for _ in range(700))
    bad = tmp_path / "bad.tlog"
    bad.write_bytes(whole[:boundary] + garbage + whole[boundary:])
    write_sidecar(bad, SIDECAR)
    with pytest.warns(TelemetryWarning) as caught:
        tel = read_tlog(bad)
    _assert_same(tel.poses, poses)
    end = boundary + len(garbage)
    assert [str(w.message) for w in caught] == [
        f"{bad}: bytes {boundary}–{end - 1} (700 bytes) are not valid MAVLink records; "
        f"skipped, reading resumed at byte {end}"
    ]


def test_damage_inside_a_record_loses_only_that_record(tmp_path: Path) -> None:
    poses = _poses()
    data = bytearray(_write(tmp_path / "a.tlog", poses).read_bytes())
    data[5000] ^= 0xFF  # breaks one record's CRC (or timestamp)
    (tmp_path / "a.tlog").write_bytes(bytes(data))
    with pytest.warns(TelemetryWarning, match=r"bytes \d+–\d+ .* resumed at byte \d+") as caught:
        tel = read_tlog(tmp_path / "a.tlog")
    first = int(str(caught[0].message).split("bytes ")[1].split("–")[0])
    assert 5000 - 60 < first <= 5000
    assert len(poses) - 1 <= len(tel.poses) <= len(poses)


def test_truncated_log_is_read_up_to_the_cut(tmp_path: Path) -> None:
    poses = _poses(79)  # the last pose has a frame: the last record is its camera trigger
    path = _write(tmp_path / "a.tlog", poses)
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.warns(TelemetryWarning, match=r"truncated at byte \d+: the last record"):
        tel = read_tlog(path)
    _assert_same(tel.poses, [*poses[:-1], replace(poses[-1], frame=None)])
    with pytest.warns(TelemetryWarning, match="truncated"):
        frames = read_camera_frames(path)
    assert frames.keys() == {p.frame for p in poses[:-1] if p.frame}


def test_garbage_at_the_end_is_ignored_with_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.tlog", _poses(10))
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + b"\x00junk" * 4)
    with pytest.warns(TelemetryWarning, match=f"bytes {size}–{size + 19} .* at the end"):
        assert len(read_tlog(path).poses) == 10


def test_empty_or_foreign_file_raises_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "x.tlog"
    path.write_bytes(b"")
    write_sidecar(path, SIDECAR)
    with pytest.raises(RecordError, match="empty file") as info:
        read_tlog(path)
    assert info.value.file == str(path)
    path.write_bytes(b"not a mavlink log at all, \xfe\xfd just text\n" * 10)
    with (
        pytest.raises(RecordError, match="no valid MAVLink records") as info,
        pytest.warns(TelemetryWarning, match="bytes 0–"),
    ):
        read_tlog(path)
    assert info.value.file == str(path)


def test_missing_file_and_missing_sidecar_raise_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "a.tlog"
    write_tlog(path, _poses(4))
    with pytest.raises(RecordError) as info:
        read_tlog(path)
    assert info.value.file == str(sidecar_path(path))
    write_sidecar(tmp_path / "gone.tlog", SIDECAR)
    with pytest.raises(RecordError, match="cannot read") as info:
        read_tlog(tmp_path / "gone.tlog")
    assert info.value.file == str(tmp_path / "gone.tlog")


# --- bad telemetry ------------------------------------------------------------------------


def _gimbal_q(flags: int, yaw: float, pitch: float, roll: float = 0.0) -> Any:
    """A gimbal status with a quaternion from Z-Y-X Euler angles in degrees."""
    h, p, r = (math.radians(a) / 2 for a in (yaw, pitch, roll))
    q = [
        math.cos(r) * math.cos(p) * math.cos(h) + math.sin(r) * math.sin(p) * math.sin(h),
        math.sin(r) * math.cos(p) * math.cos(h) - math.cos(r) * math.sin(p) * math.sin(h),
        math.cos(r) * math.sin(p) * math.cos(h) + math.sin(r) * math.cos(p) * math.sin(h),
        math.cos(r) * math.cos(p) * math.sin(h) - math.sin(r) * math.sin(p) * math.cos(h),
    ]
    return mavlink2.MAVLink_gimbal_device_attitude_status_message(0, 0, 0, flags, q, 0, 0, 0, 0)


def _steady(
    n: int, att: tuple[float, float, float], gimbal: Any, step_s: float = 0.5
) -> list[tuple[float, Any]]:
    rows: list[tuple[float, Any]] = []
    for i in range(n):
        t = T0 + step_s * i
        rows += [(t, _position(500 * i)), (t, _attitude(500 * i, *att)), (t, gimbal)]
    return rows


def test_nan_attitude_drops_the_pose_with_a_warning(tmp_path: Path) -> None:
    rows = _steady(6, (0.0, 0.0, 0.5), _gimbal_q(0, 0.0, -45.0))
    rows[3 * 2 + 1] = (T0 + 1.0, _attitude(2, math.nan, 0.0, 0.5))
    with pytest.warns(TelemetryWarning, match=r"1 positions dropped, attitude is NaN \(first at"):
        tel = read_tlog(_handmade(tmp_path / "a.tlog", rows))
    assert [p.time_s - T0 for p in tel.poses] == [0.0, 0.5, 1.5, 2.0, 2.5]
    assert all(math.isfinite(p.heading_deg) for p in tel.poses)


def test_stale_attitude_and_gimbal_drop_poses(tmp_path: Path) -> None:
    rows = _steady(3, (0.0, 0.0, 0.0), _gimbal_q(0, 0.0, -45.0))
    rows += [(T0 + 1.0 + 0.5 * i, _position(10 + i)) for i in range(1, 8)]  # attitude stops
    with pytest.warns(TelemetryWarning) as caught:
        tel = read_tlog(_handmade(tmp_path / "a.tlog", rows))
    assert len(tel.poses) == 5  # 3 full + 2 positions within 1 s of the last attitude
    assert "5 positions dropped, no ATTITUDE within 1.0 s" in str(caught[0].message)
    no_gimbal = _steady(3, (0.0, 0.0, 0.0), _gimbal_q(0, 0.0, -45.0))[:-1]
    no_gimbal = [row for row in no_gimbal if row[1].get_type() != "GIMBAL_DEVICE_ATTITUDE_STATUS"]
    with (
        pytest.raises(RecordError, match="no usable camera pose"),
        pytest.warns(TelemetryWarning, match="no gimbal attitude within 2.0 s"),
    ):
        read_tlog(_handmade(tmp_path / "b.tlog", no_gimbal))
    fixed = read_tlog(tmp_path / "b.tlog", fixed_mount_deg=(0.0, -90.0, 0.0))
    assert [p.sensor_el_deg for p in fixed.poses] == [-90.0] * 3


def test_time_gaps_stay_gaps(tmp_path: Path) -> None:
    poses = _poses(8)
    gapped = poses[:4] + [replace(p, time_s=p.time_s + 30.0) for p in poses[4:]]
    tel = read_tlog(_write(tmp_path / "a.tlog", gapped))
    tel.at(gapped[1].time_s + 0.1)
    tel.at(gapped[5].time_s + 0.1)
    with pytest.raises(TelemetryGapError, match=r"gap of 30\.2 s"):
        tel.at(gapped[3].time_s + 10.0)
    with pytest.raises(TelemetryGapError, match="outside"):
        tel.at(gapped[-1].time_s + 1.0)


# --- gimbal conventions -------------------------------------------------------------------


def test_gimbal_yaw_relative_to_vehicle_and_to_north(tmp_path: Path) -> None:
    att = (0.0, math.radians(10.0), math.radians(30.0))  # nose 10° up, heading 030
    vehicle = _steady(
        2, att, _gimbal_q(mavlink2.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME, 0.0, -30.0)
    )
    pose = read_tlog(_handmade(tmp_path / "v.tlog", vehicle)).poses[0]
    assert pose.heading_deg == pytest.approx(30.0)
    # pitch relative to the horizon: -30° under a nose 10° up is -40° below the nose
    assert (pose.sensor_az_deg, pose.sensor_el_deg, pose.sensor_roll_deg) == pytest.approx(
        (0.0, -40.0, 0.0), abs=1e-4
    )
    earth = _steady(2, (0.0, 0.0, math.radians(30.0)), _gimbal_q(64, 90.0, -30.0))
    pose = read_tlog(_handmade(tmp_path / "e.tlog", earth)).poses[0]
    assert (pose.sensor_az_deg, pose.sensor_el_deg, pose.sensor_roll_deg) == pytest.approx(
        (60.0, -30.0, 0.0), abs=1e-4
    )


def test_mount_status_in_centidegrees(tmp_path: Path) -> None:
    mount = mavlink2.MAVLink_mount_status_message(0, 0, -4500, 0, -2000, 0)  # pitch, roll, yaw
    rows = _steady(2, (0.0, 0.0, math.radians(100.0)), mount)
    pose = read_tlog(_handmade(tmp_path / "m.tlog", rows)).poses[0]
    assert (pose.sensor_az_deg, pose.sensor_el_deg) == pytest.approx((340.0, -45.0), abs=1e-4)


# --- camera frames and systems --------------------------------------------------------------


def test_boot_time_triggers_use_the_position_clock(tmp_path: Path) -> None:
    rows = _steady(4, (0.0, 0.0, 0.0), _gimbal_q(0, 0.0, -45.0))  # boot time 0 is at T0
    rows.append((T0 + 1.2, mavlink2.MAVLink_camera_trigger_message(1_100_000, 42)))
    rows.append((T0 + 1.3, mavlink2.MAVLink_camera_trigger_message(round(T0 * 1e6) + 1, 43)))
    frames = read_camera_frames(_handmade(tmp_path / "a.tlog", rows))
    assert frames == {42: pytest.approx(T0 + 1.1, abs=1e-6), 43: pytest.approx(T0, abs=1e-6)}


def test_several_systems_need_a_system_id(tmp_path: Path) -> None:
    path = tmp_path / "a.tlog"
    one = _steady(3, (0.0, 0.0, 0.0), _gimbal_q(0, 0.0, -45.0))
    mav1 = mavlink2.MAVLink(None, srcSystem=1, srcComponent=1)
    mav2 = mavlink2.MAVLink(None, srcSystem=2, srcComponent=1)
    path.write_bytes(
        b"".join(_record(mav1, t, m) for t, m in one)
        + b"".join(_record(mav2, t + 5.0, m) for t, m in one)
    )
    write_sidecar(path, SIDECAR)
    with pytest.raises(RecordError, match=r"several systems \[1, 2\]: pass system_id"):
        read_tlog(path)
    assert read_tlog(path, system_id=2).start_s == pytest.approx(T0 + 5.0)
    with pytest.raises(RecordError, match="no positions from system 3"):
        read_tlog(path, system_id=3)


def test_dataflash_bin_goes_to_the_dataflash_reader(tmp_path: Path) -> None:
    path = tmp_path / "flight.BIN"
    path.write_bytes(b"\xa3\x95\x80")
    write_sidecar(path, SIDECAR)
    with pytest.raises(RecordError, match=r"not an ArduPilot dataflash \.bin log") as info:
        read_tlog(path)
    assert info.value.file == str(path)
