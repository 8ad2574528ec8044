"""ArduPilot dataflash logs (``.bin``) to camera poses, and a small writer for tests.

A dataflash log is what the autopilot records on board: records of
``A3 95 <type>`` followed by a fixed-length little-endian body whose layout a
``FMT`` record (type 128, format ``BBnNZ``: Type, Length, Name, Format, Columns)
declared earlier in the file. Records carry no checksum. Decoding is done by
pymavlink's :class:`pymavlink.DFReader.DFReader_binary`, which applies the
ArduPilot scale of each format character (``L`` 1e-7 degrees, ``e`` centimetres,
``c``/``C`` centidegrees, ...), so the reader works by *field name* and accepts
both the integer and the float variants of a message.

How a pose is assembled (:func:`read_dataflash`), mirroring
:func:`truceline.drone.mavlink.read_tlog`:

* one pose per ``GPS`` message of instance ``I = 0`` with a 3D fix
  (``Status >= 3``): ``Lat``/``Lng`` in degrees, ``Alt`` in metres above mean
  sea level. Its time is the GPS time ``GWk`` (weeks since 1980-01-06) and
  ``GMS`` (milliseconds into the week) turned into UTC by subtracting the
  GPS-UTC leap seconds, **18 s** (constant since 2017-01-01;
  :data:`GPS_UTC_LEAP_S`);
* every other message is stamped by ``TimeUS`` (microseconds since boot) plus
  the median offset between the GPS UTC time and ``TimeUS`` of the GPS messages;
* platform attitude from the latest ``ATT`` (``Roll``, ``Pitch``, ``Yaw`` in
  degrees, ArduPilot's north-east-down Z-Y-X Euler angles: the module
  conventions of :mod:`truceline.drone.base`) at or before the GPS message, no
  older than ``max_attitude_age_s``; a NaN drops the pose with a
  :class:`~truceline.drone.mavlink.TelemetryWarning`;
* gimbal from the latest mount message ``MNT`` (or ``MOUN``) of instance 0, no
  older than ``max_gimbal_age_s``: ``Roll`` and ``Pitch`` (degrees, relative to
  the horizon, pitch up positive) and ``YawB`` (degrees, relative to the
  vehicle's nose), or ``YawE`` (relative to north) when ``YawB`` is NaN or
  absent. That is the MAVLink gimbal convention, converted to sensor
  ``az/el/roll`` relative to the airframe by the same code as ``MOUNT_STATUS``
  in :mod:`truceline.drone.mavlink`. A NaN roll/pitch (ArduPilot logs NaN for an
  unknown mount attitude) drops the pose with a warning;
* a pose takes the frame number ``Img`` of a ``CAM`` message (instance 0)
  within 0.5 ms of it; ``CAM`` times come from ``GPSWeek``/``GPSTime`` (as for
  GPS) or, when the week is 0, from ``TimeUS``.

A damaged log is read up to the damage: bytes that do not start a record of a
declared type are skipped to the next record, and a truncated last record is
ignored, each with a :class:`~truceline.drone.mavlink.TelemetryWarning` naming
the byte offsets. Damage *inside* a record cannot be detected (no checksum).
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import struct
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pymavlink import DFReader

from truceline.drone._poses import (
    PositionFix,
    TelemetryWarning,
    _euler,
    _Gimbal,
    _mul,
    _rot,
    _Series,
    _wrap360,
    assemble_poses,
)
from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.sidecar import read_sidecar
from truceline.model.errors import RecordError

__all__ = ["GPS_UTC_LEAP_S", "read_dataflash", "read_dataflash_frames", "write_dataflash"]

#: GPS time minus UTC, seconds (leap seconds since 1980; unchanged since 2017-01-01).
GPS_UTC_LEAP_S: Final = 18
_GPS_EPOCH_S: Final = 315_964_800  # 1980-01-06T00:00:00Z in Unix seconds
_WEEK_S: Final = 604_800
_HEAD: Final = b"\xa3\x95"
_FMT_TYPE: Final = 0x80
_FMT_LEN: Final = 89
_MOUNT_NAMES: Final = ("MNT", "MOUN")
_WANTED: Final = ["GPS", "ATT", "CAM", *_MOUNT_NAMES]


def _warn(message: str) -> None:
    warnings.warn(message, TelemetryWarning, stacklevel=3)


def _gps_utc_us(week: int, ms: int) -> int:
    """UTC epoch microseconds of GPS week ``week`` and millisecond ``ms`` of the week."""
    return (_GPS_EPOCH_S + week * _WEEK_S - GPS_UTC_LEAP_S) * 1_000_000 + ms * 1000


# --- framing: find the valid records and the damage ----------------------------------------


def _scan(data: bytes, file: str) -> tuple[int, list[str]]:
    """Count the records other than ``FMT``; the damage found, as warning texts."""
    lengths = {_FMT_TYPE: _FMT_LEN}
    problems: list[str] = []
    pos, bad_from, count = 0, -1, 0
    while pos < len(data):
        kind = data[pos + 2] if pos + 2 < len(data) else -1
        if data.startswith(_HEAD, pos) and (kind in lengths or kind == -1):
            end = pos + (lengths[kind] if kind >= 0 else 3)
            if end > len(data):
                problems.append(
                    f"{file}: truncated at byte {pos}: the last record is incomplete "
                    f"({len(data) - pos} bytes ignored)"
                )
                return count, problems
            valid = True
            if kind == _FMT_TYPE:
                declared, length = data[pos + 3], data[pos + 4]
                valid = length >= 3 and data[pos + 5] != 0
                valid &= declared != _FMT_TYPE or length == _FMT_LEN
                if valid:
                    lengths[declared] = length
            if valid:
                if bad_from >= 0:
                    problems.append(
                        f"{file}: bytes {bad_from}–{pos - 1} ({pos - bad_from} bytes) are not "
                        f"valid dataflash records; skipped, reading resumed at byte {pos}"
                    )
                    bad_from = -1
                count += kind != _FMT_TYPE
                pos = end
                continue
        if bad_from < 0:
            bad_from = pos
        nxt = data.find(_HEAD, pos + 1)
        pos = nxt if nxt >= 0 else len(data)
    if bad_from >= 0:
        problems.append(
            f"{file}: bytes {bad_from}–{len(data) - 1} ({len(data) - bad_from} bytes) at the "
            "end are not valid dataflash records; ignored"
        )
    return count, problems


def _read_messages(path: Path) -> list[Any]:
    """The GPS, ATT, mount and CAM messages of the log, in file order (warns on damage)."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror or exc}", file=file) from None
    count, problems = _scan(data, file)
    if count == 0:
        raise RecordError(
            "no valid dataflash records: not an ArduPilot dataflash .bin log", file=file
        )
    for problem in problems:
        _warn(problem)
    messages: list[Any] = []
    with contextlib.redirect_stderr(io.StringIO()):  # DFReader prints damage; we warned
        try:
            reader = DFReader.DFReader_binary(file)
        except (OSError, ValueError, struct.error, KeyError, IndexError) as exc:
            raise RecordError(f"pymavlink cannot read the log: {exc}", file=file) from None
        try:
            while (msg := reader.recv_match(type=_WANTED)) is not None:
                messages.append(msg)
        finally:
            reader.data_map.close()
            reader.filehandle.close()
    return messages


# --- assembling poses ---------------------------------------------------------------------


def _field(msg: Any, name: str, default: float = math.nan) -> float:
    value = getattr(msg, name, None)
    return default if value is None else float(value)


def _mount(msg: Any) -> _Gimbal:
    """Gimbal attitude of an ``MNT``/``MOUN`` message (see the module notes)."""
    roll, pitch = _field(msg, "Roll"), _field(msg, "Pitch")
    yaw, earth = _field(msg, "YawB"), False
    if not math.isfinite(yaw):
        yaw, earth = _field(msg, "YawE"), True
    if not all(math.isfinite(a) for a in (roll, pitch, yaw)):
        return _Gimbal(None, earth)
    return _Gimbal(_rot(yaw, pitch, roll), earth)


def _boot_offset_us(messages: list[Any], file: str) -> int:
    """Median of (GPS UTC time - ``TimeUS``) over GPS messages with a GPS week, µs."""
    offsets = sorted(
        _gps_utc_us(int(m.GWk), int(m.GMS)) - int(m.TimeUS)
        for m in messages
        if m.get_type() == "GPS" and int(getattr(m, "GWk", 0) or 0) > 0
    )
    if not offsets:
        raise RecordError("no GPS message with a GPS time (GWk > 0): no UTC times", file=file)
    return offsets[len(offsets) // 2]


def _frames(messages: list[Any], offset_us: int, file: str) -> dict[int, int]:
    """Frame number (``CAM.Img``) -> UTC epoch µs, for camera instance 0."""
    frames: dict[int, int] = {}
    duplicates: list[int] = []
    for m in messages:
        if m.get_type() != "CAM" or int(getattr(m, "I", 0) or 0) != 0:
            continue
        if getattr(m, "Img", None) is None:
            raise RecordError("CAM messages have no Img (image number) field", file=file)
        week = int(getattr(m, "GPSWeek", 0) or 0)
        time_us = _gps_utc_us(week, int(m.GPSTime)) if week > 0 else int(m.TimeUS) + offset_us
        frame = int(m.Img)
        if frame in frames:
            duplicates.append(frame)
        else:
            frames[frame] = time_us
    if duplicates:
        _warn(
            f"{file}: {len(duplicates)} frame numbers repeat (first {duplicates[0]}); "
            "the first trigger of each is kept"
        )
    return frames


def read_dataflash_frames(path: Path) -> dict[int, float]:
    """Frame numbers and their times from a ``.bin`` log's ``CAM`` messages.

    Returns
    -------
    dict
        Frame number (``CAM.Img``) -> UTC epoch seconds.

    Raises
    ------
    truceline.model.RecordError
        Unreadable or non-dataflash file, no GPS time.
    """
    messages = _read_messages(path)
    frames = _frames(messages, _boot_offset_us(messages, str(path)), str(path))
    return {frame: t / 1e6 for frame, t in sorted(frames.items())}


def read_dataflash(
    path: Path,
    *,
    max_attitude_age_s: float = 1.0,
    max_gimbal_age_s: float = 2.0,
    max_gap_s: float = 2.0,
    fixed_mount_deg: tuple[float, float, float] | None = None,
) -> Telemetry:
    """Camera poses from an ArduPilot dataflash ``.bin`` log and its sidecar.

    Parameters are those of :func:`truceline.drone.mavlink.read_tlog` (ages and
    gaps in seconds, ``fixed_mount_deg`` as ``(az, el, roll)`` degrees); see the
    module notes for the messages and fields read.

    Raises
    ------
    truceline.model.RecordError
        Unreadable or non-dataflash file, missing or bad sidecar, no usable pose.
    """
    file = str(path)
    sidecar = read_sidecar(path)
    messages = _read_messages(path)
    offset = _boot_offset_us(messages, file)
    gps: list[Any] = []
    att: list[tuple[int, tuple[float, float, float]]] = []
    mounts: list[tuple[int, _Gimbal]] = []
    for m in messages:
        kind = m.get_type()
        if kind == "GPS" and int(getattr(m, "I", 0) or 0) == 0:
            gps.append(m)
        elif kind == "ATT":
            att.append((int(m.TimeUS), (_field(m, "Roll"), _field(m, "Pitch"), _field(m, "Yaw"))))
        elif kind in _MOUNT_NAMES and int(getattr(m, "I", 0) or 0) == 0:
            mounts.append((int(m.TimeUS), _mount(m)))
    fixes = []
    for pos in gps:
        boot_us = int(pos.TimeUS)
        t = _gps_utc_us(int(pos.GWk), int(pos.GMS)) if int(pos.GWk) > 0 else boot_us + offset
        fixes.append(
            PositionFix(
                time_us=t,
                lookup_us=boot_us,
                lon=float(pos.Lng),
                lat=float(pos.Lat),
                alt_m=float(pos.Alt),
                problem="no 3D GPS fix (Status < 3)" if int(pos.Status) < 3 else None,
            )
        )
    return assemble_poses(
        fixes,
        _Series(att),
        _Series(mounts),
        {t: f for f, t in _frames(messages, offset, file).items()},
        sidecar,
        file,
        ("ATT", "mount attitude", "mount attitude is NaN"),
        max_attitude_age_s=max_attitude_age_s,
        max_gimbal_age_s=max_gimbal_age_s,
        fixed_mount_deg=fixed_mount_deg,
        max_gap_s=max_gap_s,
    )


# --- writing (a test and simulation helper) -----------------------------------------------

#: ArduPilot format characters used here -> (struct code, scale) (AP_Logger/LogStructure.h).
_CHARS: Final = {
    "B": ("B", 1.0), "H": ("H", 1.0), "I": ("I", 1.0), "Q": ("Q", 1.0), "f": ("f", 1.0),
    "n": ("4s", 1.0), "N": ("16s", 1.0), "Z": ("64s", 1.0), "L": ("i", 1e-7),
    "e": ("i", 0.01), "c": ("h", 0.01), "C": ("H", 0.01),
}  # fmt: skip
#: (type, name, format, columns) of the messages :func:`write_dataflash` writes.
LAYOUTS: Final = (
    (130, "GPS", "QBBIHBcLLeffffB",
     "TimeUS,I,Status,GMS,GWk,NSats,HDop,Lat,Lng,Alt,Spd,GCrs,VZ,Yaw,U"),
    (131, "ATT", "QffffffB", "TimeUS,DesRoll,Roll,DesPitch,Pitch,DesYaw,Yaw,AEKF"),
    (132, "MNT", "QBfffffffff", "TimeUS,I,DRoll,Roll,DPitch,Pitch,DYawB,YawB,DYawE,YawE,Dist"),
    (133, "CAM", "QBHIHLLeeeccC", "TimeUS,I,Img,GPSTime,GPSWeek,Lat,Lng,Alt,RelAlt,GPSAlt,R,P,Y"),
)  # fmt: skip


def _struct(fmt: str) -> struct.Struct:
    return struct.Struct("<" + "".join(_CHARS[c][0] for c in fmt))


def _record(kind: int, fmt: str, values: Sequence[float]) -> bytes:
    raw = [
        v if _CHARS[c][0] == "f" else round(v / _CHARS[c][1])
        for c, v in zip(fmt, values, strict=True)
    ]
    return _HEAD + bytes([kind]) + _struct(fmt).pack(*raw)


def _fmt_record(kind: int, name: str, fmt: str, columns: str) -> bytes:
    length = 3 + _struct(fmt).size
    body = struct.pack("<BB4s16s64s", kind, length, name.encode(), fmt.encode(), columns.encode())
    return _HEAD + bytes([_FMT_TYPE]) + body


def write_dataflash(path: Path, poses: Sequence[CameraPose]) -> None:
    """Write ``poses`` as a minimal ArduPilot dataflash log that :func:`read_dataflash` reads.

    A test and simulation helper (pymavlink reads dataflash but cannot write it):
    ``FMT`` records for ``FMT`` and :data:`LAYOUTS`, then per pose ``GPS``
    (3D fix, GPS week/ms of the pose time plus :data:`GPS_UTC_LEAP_S`), ``ATT``
    (float degrees, so a NaN survives), ``MNT`` (earth-frame roll/pitch, yaw
    relative to the nose and to north) and, when the pose has a frame number,
    ``CAM``. ``TimeUS`` counts from the first pose's whole second. Times are
    rounded to the millisecond of ``GMS``. The same poses always give the same bytes.

    Raises
    ------
    truceline.model.RecordError
        No poses, poses not in strictly increasing millisecond, a frame number over 65535.
    """
    file = str(path)
    if not poses:
        raise RecordError("no poses to write", file=file)
    times = [round(p.time_s * 1000) * 1000 for p in poses]
    if any(b <= a for a, b in itertools.pairwise(times)):
        raise RecordError("poses must be in strictly increasing time (ms)", file=file)
    if any(p.frame is not None and not 0 <= p.frame <= 0xFFFF for p in poses):
        raise RecordError("CAM.Img holds frame numbers 0-65535 only", file=file)
    out = bytearray(_fmt_record(_FMT_TYPE, "FMT", "BBnNZ", "Type,Length,Name,Format,Columns"))
    for layout in LAYOUTS:
        out += _fmt_record(*layout)
    (gps_t, _, gps_f, _), (att_t, _, att_f, _), (mnt_t, _, mnt_f, _), (cam_t, _, cam_f, _) = LAYOUTS
    boot_us = times[0] - times[0] % 1_000_000 - 1_000_000
    for pose, t in zip(poses, times, strict=True):
        gps_ms = (t // 1000) + (GPS_UTC_LEAP_S - _GPS_EPOCH_S) * 1000
        week, ms = divmod(gps_ms, _WEEK_S * 1000)
        us = t - boot_us
        heading = pose.heading_deg
        world = _mul(
            _rot(heading, pose.pitch_deg, pose.roll_deg),
            _rot(pose.sensor_az_deg, pose.sensor_el_deg, pose.sensor_roll_deg),
        )
        yaw_b, pitch, roll = _euler(_mul(_rot(heading, 0, 0), world, transpose_a=True))
        yaw_e = _wrap360(heading + yaw_b)
        yaw = (heading + 180.0) % 360.0 - 180.0
        ll = (pose.lat, pose.lon, pose.alt_m)
        out += _record(gps_t, gps_f, (us, 0, 3, ms, week, 12, 0.8, *ll, 0, 0, 0, 0, 1))
        out += _record(att_t, att_f, (us, 0, pose.roll_deg, 0, pose.pitch_deg, 0, yaw, 1))
        out += _record(
            mnt_t, mnt_f, (us, 0, roll, roll, pitch, pitch, yaw_b, yaw_b, yaw_e, yaw_e, math.nan)
        )
        if pose.frame is not None:
            att = (pose.roll_deg, pose.pitch_deg, _wrap360(heading))
            out += _record(cam_t, cam_f, (us, 0, pose.frame, ms, week, *ll, 0, *ll[2:], *att))
    path.write_bytes(bytes(out))
