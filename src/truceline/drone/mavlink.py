"""MAVLink telemetry logs (``.tlog``) to and from camera poses.

A ``.tlog`` is what a ground station records: each MAVLink frame (v1 or v2) is
preceded by an 8-byte big-endian timestamp, microseconds since the Unix epoch
(UTC), the time the ground station received it. **That timestamp is the time
base of every pose read here**; it trails the vehicle's own clock by the link
latency (typically tens of milliseconds), which ``PoseUncertainty.time_s``
should cover.

How a pose is assembled (:func:`read_tlog`):

* one pose per ``GLOBAL_POSITION_INT`` (``lat``/``lon`` in 1e-7 degrees,
  ``alt`` in millimetres above mean sea level), at its tlog time;
* platform attitude from the latest ``ATTITUDE`` (roll, pitch, yaw in radians)
  at or before that time; ``heading_deg`` is yaw clockwise from north in
  [0, 360). An attitude older than ``max_attitude_age_s``, or one with a NaN,
  drops the pose with a :class:`TelemetryWarning` — never a pose with a guessed
  attitude;
* gimbal from the latest ``GIMBAL_DEVICE_ATTITUDE_STATUS`` (quaternion) or
  ``MOUNT_STATUS`` (centidegrees) at or before that time, no older than
  ``max_gimbal_age_s``. As in the MAVLink gimbal protocol, roll and pitch are
  relative to the horizon and yaw to the vehicle's heading (to north when the
  flags say ``YAW_IN_EARTH_FRAME``, or ``YAW_LOCK`` without
  ``YAW_IN_VEHICLE_FRAME``). The camera's attitude in the world is turned into
  angles relative to the airframe (``sensor_az/el/roll_deg`` of
  :mod:`truceline.drone.base`, ``R_world = Rz(heading) Ry(pitch) Rx(roll)
  Rz(az) Ry(el) Rx(sensor_roll)`` in north-east-down). Looking straight up or
  down, azimuth and sensor roll are one rotation: it is reported as azimuth
  with a sensor roll of 0;
* fields of view, image size, uncertainty and sensor id come from the JSON
  sidecar (:mod:`truceline.drone.sidecar`), which must exist;
* a pose takes the frame number of a ``CAMERA_TRIGGER`` / ``CAMERA_FEEDBACK``
  within 0.5 ms of it; other frame times come from :func:`read_camera_frames`
  and ``Telemetry.at``.

A damaged log is read up to the damage: bytes that are not a valid record
(bad magic, bad CRC) are skipped until the next valid record, and a truncated
last record is ignored, each with a :class:`TelemetryWarning` naming the byte
offsets. The framing is parsed here, with pymavlink's MAVLink 2 dialect decoding
and CRC-checking each frame: ``mavutil.mavlink_connection`` reads the same files
but switches protocol versions through ``os.environ`` and does not report where
damage is. ArduPilot dataflash ``.bin`` logs are handed to
:mod:`truceline.drone.dataflash` (``system_id`` does not apply to them).
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mavlink2

from truceline.drone._poses import (
    PositionFix,
    TelemetryWarning,
    _Gimbal,
    _matrix_to_quat,
    _mul,
    _quat_to_matrix,
    _rot,
    _Series,
    _warn,
    assemble_poses,
)
from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.sidecar import read_sidecar
from truceline.model.errors import RecordError

__all__ = ["TelemetryWarning", "read_camera_frames", "read_tlog", "write_tlog"]


_MIN_US = 946_684_800_000_000  # 2000-01-01: earlier tlog stamps are not UTC epoch times
_MAX_US = 4_102_444_800_000_000  # 2100-01-01
_UNIX_TIME_US = 10**15  # CAMERA_TRIGGER.time_usec above this is epoch time, else boot time
_V1, _V2 = 0xFE, 0xFD
_EARTH_YAW = mavlink2.GIMBAL_DEVICE_FLAGS_YAW_IN_EARTH_FRAME
_VEHICLE_YAW = mavlink2.GIMBAL_DEVICE_FLAGS_YAW_IN_VEHICLE_FRAME
_YAW_LOCK = mavlink2.GIMBAL_DEVICE_FLAGS_YAW_LOCK
_GIMBAL_COMPONENT = mavlink2.MAV_COMP_ID_GIMBAL

# --- reading the byte stream --------------------------------------------------------------


def _frame_end(data: bytes, pos: int) -> int | None:
    """End offset of the record (timestamp + frame) at ``pos``; None if no magic byte."""
    if pos + 10 > len(data):
        return len(data) + 1 if pos < len(data) else None
    magic, length = data[pos + 8], data[pos + 9]
    if magic == _V1:
        return pos + 8 + 6 + length + 2
    if magic == _V2:
        signed = pos + 10 < len(data) and data[pos + 10] & 0x01
        return pos + 8 + 10 + length + 2 + (13 if signed else 0)
    return None


def _decode(mav: Any, data: bytes, pos: int, end: int) -> Any | None:
    (stamp,) = struct.unpack_from(">Q", data, pos)
    if not _MIN_US <= stamp < _MAX_US:
        return None
    try:
        return mav.decode(bytearray(data[pos + 8 : end]))
    except (mavlink2.MAVError, struct.error):
        return None


def _iter_records(data: bytes, file: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(tlog time in µs, message)``; skip damage with a warning naming offsets."""
    mav = mavlink2.MAVLink(None)
    pos, bad_from = 0, -1
    while pos < len(data):
        end = _frame_end(data, pos)
        if end is not None and end > len(data) and bad_from < 0:
            _warn(
                f"{file}: truncated at byte {pos}: the last record is incomplete "
                f"({len(data) - pos} bytes ignored)",
                3,
            )
            return
        msg = _decode(mav, data, pos, end) if end is not None and end <= len(data) else None
        if msg is not None and not (bad_from >= 0 and isinstance(msg, mavlink2.MAVLink_unknown)):
            if bad_from >= 0:
                _warn(
                    f"{file}: bytes {bad_from}–{pos - 1} ({pos - bad_from} bytes) are not valid "
                    f"MAVLink records; skipped, reading resumed at byte {pos}",
                    3,
                )
                bad_from = -1
            yield struct.unpack_from(">Q", data, pos)[0], msg
            pos = end  # type: ignore[assignment]  # end is an int whenever msg is not None
            continue
        if bad_from < 0:
            bad_from = pos
        # resynchronise: the next candidate has a magic byte 8 bytes after its start
        nxt = [i for i in (data.find(b"\xfd", pos + 9), data.find(b"\xfe", pos + 9)) if i >= 0]
        pos = min(nxt) - 8 if nxt else len(data)
    if bad_from >= 0:
        _warn(
            f"{file}: bytes {bad_from}–{len(data) - 1} ({len(data) - bad_from} bytes) at the "
            "end are not valid MAVLink records; ignored",
            3,
        )


def _read_records(path: Path) -> list[tuple[int, Any]]:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror or exc}", file=file) from None
    if not data:
        raise RecordError("empty file: not a MAVLink telemetry log", file=file)
    records = list(_iter_records(data, file))
    if not records:
        raise RecordError("no valid MAVLink records: not a MAVLink telemetry log", file=file)
    return records


# --- assembling poses ---------------------------------------------------------------------


def _gimbal(msg: Any) -> _Gimbal:
    if msg.get_type() == "MOUNT_STATUS":  # ArduPilot: pitch, roll, yaw(vs vehicle), cdeg
        angles = (msg.pointing_c / 100.0, msg.pointing_a / 100.0, msg.pointing_b / 100.0)
        return _Gimbal(_rot(*angles), earth_yaw=False)
    flags = msg.flags
    earth = bool(flags & _EARTH_YAW or (flags & _YAW_LOCK and not flags & _VEHICLE_YAW))
    try:
        return _Gimbal(_quat_to_matrix(*msg.q), earth)
    except ValueError:
        return _Gimbal(None, earth)


def _system(records: list[tuple[int, Any]], system_id: int | None, file: str) -> int:
    systems: list[int] = sorted(
        {m.get_srcSystem() for _, m in records if m.get_type() == "GLOBAL_POSITION_INT"}
    )
    if not systems:
        raise RecordError("no GLOBAL_POSITION_INT messages: no positions", file=file)
    if system_id is None:
        if len(systems) > 1:
            raise RecordError(
                f"positions from several systems {systems}: pass system_id", file=file
            )
        return systems[0]
    if system_id not in systems:
        raise RecordError(f"no positions from system {system_id} (only {systems})", file=file)
    return system_id


def _boot_offset_us(records: list[tuple[int, Any]], system: int) -> int | None:
    """Median of (tlog time - time_boot_ms) over the system's positions, µs."""
    offsets = sorted(
        t - m.time_boot_ms * 1000
        for t, m in records
        if m.get_type() == "GLOBAL_POSITION_INT" and m.get_srcSystem() == system
    )
    return offsets[len(offsets) // 2] if offsets else None


def _frames(records: list[tuple[int, Any]], system: int, file: str) -> dict[int, int]:
    """Frame number -> UTC epoch µs from CAMERA_TRIGGER / CAMERA_FEEDBACK."""
    boot_offset = _boot_offset_us(records, system)
    frames: dict[int, int] = {}
    duplicates: list[int] = []
    for _, msg in records:
        kind = msg.get_type()
        if kind not in ("CAMERA_TRIGGER", "CAMERA_FEEDBACK") or msg.get_srcSystem() != system:
            continue
        frame = msg.seq if kind == "CAMERA_TRIGGER" else msg.img_idx
        time_us = msg.time_usec
        if time_us < _UNIX_TIME_US:  # time since boot
            if boot_offset is None:
                continue
            time_us += boot_offset
        if frame in frames:
            duplicates.append(frame)
        else:
            frames[frame] = time_us
    if duplicates:
        _warn(
            f"{file}: {len(duplicates)} frame numbers repeat (first {duplicates[0]}); "
            "the first trigger of each is kept",
            2,
        )
    return frames


def read_camera_frames(path: Path, *, system_id: int | None = None) -> dict[int, float]:
    """Frame numbers and their times from a ``.tlog``'s camera trigger messages.

    Parameters
    ----------
    path
        The ``.tlog`` file.
    system_id
        MAVLink system id of the drone; needed only when several systems report positions.

    Returns
    -------
    dict
        Frame number (``CAMERA_TRIGGER.seq`` / ``CAMERA_FEEDBACK.img_idx``) -> UTC epoch
        seconds. Trigger times since boot are converted with the median offset between
        ``GLOBAL_POSITION_INT.time_boot_ms`` and the tlog time.
    """
    if path.suffix.lower() == ".bin":  # ArduPilot dataflash: CAM messages
        from truceline.drone.dataflash import read_dataflash_frames  # import cycle

        return read_dataflash_frames(path)
    records = _read_records(path)
    frames = _frames(records, _system(records, system_id, str(path)), str(path))
    return {frame: t / 1e6 for frame, t in sorted(frames.items())}


def read_tlog(
    path: Path,
    *,
    system_id: int | None = None,
    max_attitude_age_s: float = 1.0,
    max_gimbal_age_s: float = 2.0,
    max_gap_s: float = 2.0,
    fixed_mount_deg: tuple[float, float, float] | None = None,
) -> Telemetry:
    """Camera poses from a MAVLink ``.tlog`` and its sidecar (see the module notes).

    Parameters
    ----------
    path
        The ``.tlog`` file; ``path.name + ".json"`` beside it is the sidecar.
    system_id
        MAVLink system id of the drone; needed only when several systems report positions.
    max_attitude_age_s, max_gimbal_age_s
        Oldest ``ATTITUDE`` / gimbal message a pose may use, seconds before its position.
    max_gap_s
        Largest time between poses across which ``Telemetry.at`` interpolates, seconds;
        longer gaps stay gaps.
    fixed_mount_deg
        ``(az, el, roll)`` of a camera fixed to the airframe, degrees; when given, gimbal
        messages are ignored. Without it a log with no gimbal messages yields no pose.

    Raises
    ------
    truceline.model.RecordError
        Unreadable, empty or non-MAVLink file, missing or bad sidecar, no usable pose.
    """
    file = str(path)
    if path.suffix.lower() == ".bin":  # ArduPilot dataflash: its own reader (one vehicle)
        from truceline.drone.dataflash import read_dataflash  # import cycle

        return read_dataflash(
            path, max_attitude_age_s=max_attitude_age_s, max_gimbal_age_s=max_gimbal_age_s,
            max_gap_s=max_gap_s, fixed_mount_deg=fixed_mount_deg,
        )  # fmt: skip
    sidecar = read_sidecar(path)
    records = _read_records(path)
    system = _system(records, system_id, file)
    kinds: dict[str, list[tuple[int, Any]]] = {"pos": [], "att": [], "gimbal": []}
    for t, msg in records:
        if msg.get_srcSystem() != system:
            continue
        kind = msg.get_type()
        if kind == "GLOBAL_POSITION_INT":
            kinds["pos"].append((t, msg))
        elif kind == "ATTITUDE":
            kinds["att"].append((t, tuple(math.degrees(a) for a in (msg.roll, msg.pitch, msg.yaw))))
        elif kind in ("GIMBAL_DEVICE_ATTITUDE_STATUS", "MOUNT_STATUS"):
            kinds["gimbal"].append((t, _gimbal(msg)))
    fixes = [
        PositionFix(
            time_us=t,
            lookup_us=t,
            lon=pos.lon * 1e-7,
            lat=pos.lat * 1e-7,
            alt_m=pos.alt / 1000.0,
            problem="no position fix (latitude = longitude = 0)"
            if pos.lat == 0 and pos.lon == 0
            else None,
        )
        for t, pos in sorted(kinds["pos"], key=lambda item: item[0])
    ]
    return assemble_poses(
        fixes,
        _Series(kinds["att"]),
        _Series(kinds["gimbal"]),
        {t: f for f, t in _frames(records, system, file).items()},
        sidecar,
        file,
        ("ATTITUDE", "gimbal attitude", "gimbal quaternion is NaN or zero"),
        max_attitude_age_s=max_attitude_age_s,
        max_gimbal_age_s=max_gimbal_age_s,
        fixed_mount_deg=fixed_mount_deg,
        max_gap_s=max_gap_s,
    )


# --- writing ------------------------------------------------------------------------------


def _pack(mav: Any, msg: Any) -> bytes:
    buf: bytes = msg.pack(mav)
    mav.seq = (mav.seq + 1) % 256
    return buf


def write_tlog(path: Path, poses: Sequence[CameraPose], *, system_id: int = 1) -> None:
    """Write ``poses`` as a MAVLink 2 ``.tlog`` that :func:`read_tlog` reads back.

    Per pose, all stamped with the pose time (UTC µs): ``GLOBAL_POSITION_INT``,
    ``ATTITUDE``, ``GIMBAL_DEVICE_ATTITUDE_STATUS`` (from the gimbal component,
    quaternion with yaw in the vehicle frame) and, when the pose has a frame
    number, ``CAMERA_TRIGGER``. ``time_boot_ms`` counts from the first pose's
    whole second. The same poses always give the same bytes. The sidecar is
    not written (use :func:`truceline.drone.sidecar.write_sidecar`).

    Raises
    ------
    truceline.model.RecordError
        No poses, or poses not in strictly increasing time.
    """
    if not poses:
        raise RecordError("no poses to write", file=str(path))
    times = [round(p.time_s * 1e6) for p in poses]
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise RecordError("poses must be in strictly increasing time order", file=str(path))
    autopilot = mavlink2.MAVLink(None, srcSystem=system_id, srcComponent=1)
    gimbal = mavlink2.MAVLink(None, srcSystem=system_id, srcComponent=_GIMBAL_COMPONENT)
    boot_us = times[0] - times[0] % 1_000_000
    out = bytearray()
    for pose, t in zip(poses, times, strict=True):
        boot_ms = (t - boot_us) // 1000
        heading = pose.heading_deg
        world = _mul(
            _rot(heading, pose.pitch_deg, pose.roll_deg),
            _rot(pose.sensor_az_deg, pose.sensor_el_deg, pose.sensor_roll_deg),
        )
        q = _matrix_to_quat(_mul(_rot(heading, 0, 0), world, transpose_a=True))
        yaw = math.radians((heading + 180.0) % 360.0 - 180.0)
        messages = [
            (
                autopilot,
                mavlink2.MAVLink_global_position_int_message(
                    boot_ms, round(pose.lat * 1e7), round(pose.lon * 1e7),
                    round(pose.alt_m * 1000), 0, 0, 0, 0, round(heading * 100) % 36000,
                ),
            ),
            (
                autopilot,
                mavlink2.MAVLink_attitude_message(
                    boot_ms, math.radians(pose.roll_deg), math.radians(pose.pitch_deg), yaw,
                    0.0, 0.0, 0.0,
                ),
            ),
            (
                gimbal,
                mavlink2.MAVLink_gimbal_device_attitude_status_message(
                    0, 0, boot_ms, _VEHICLE_YAW, q, 0.0, 0.0, 0.0, 0,
                ),
            ),
        ]  # fmt: skip
        if pose.frame is not None:
            trigger = mavlink2.MAVLink_camera_trigger_message(t, pose.frame)
            messages.append((autopilot, trigger))
        for mav, msg in messages:
            out += struct.pack(">Q", t) + _pack(mav, msg)
    path.write_bytes(bytes(out))
