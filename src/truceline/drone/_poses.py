"""Shared parts of the telemetry-log readers: rotations, look-ups, pose assembly.

The MAVLink (:mod:`.mavlink`) and ArduPilot dataflash (:mod:`.dataflash`) readers
differ in how they decode messages and in their clocks, not in how a camera pose
is made from a position, the latest attitude and the latest gimbal attitude:
that is here, once. Rotations are north-east-down, body to world.
"""

from __future__ import annotations

import math
import warnings
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.sidecar import TelemetrySidecar
from truceline.model.errors import RecordError

__all__ = ["PositionFix", "TelemetryWarning", "assemble_poses"]

#: A pose's frame number is the camera trigger within this many microseconds of it.
_FRAME_MATCH_US = 500


class TelemetryWarning(UserWarning):
    """Telemetry was read, but part of it was damaged, stale or unusable."""


Matrix = tuple[tuple[float, ...], ...]


# --- rotations (north-east-down, body -> world) ------------------------------------------


def _rot(yaw_deg: float, pitch_deg: float, roll_deg: float) -> Matrix:
    """``Rz(yaw) Ry(pitch) Rx(roll)``, aerospace Z-Y-X order."""
    cy, sy = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    cp, sp = math.cos(math.radians(pitch_deg)), math.sin(math.radians(pitch_deg))
    cr, sr = math.cos(math.radians(roll_deg)), math.sin(math.radians(roll_deg))
    return (
        (cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr),
        (sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr),
        (-sp, cp * sr, cp * cr),
    )


def _wrap360(angle_deg: float) -> float:
    """Angle in [0, 360) degrees (``-1e-15 % 360`` is 360.0, hence the second step)."""
    wrapped = angle_deg % 360.0
    return 0.0 if wrapped >= 360.0 else wrapped


def _mul(a: Matrix, b: Matrix, transpose_a: bool = False) -> Matrix:
    if transpose_a:
        a = tuple(zip(*a, strict=True))
    return tuple(
        tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3)
    )


def _euler(m: Matrix) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of ``m``; at pitch ±90 the roll is folded into yaw."""
    horizontal = math.hypot(m[0][0], m[1][0])
    if horizontal < 1e-5:  # within ~0.0006° of straight up/down
        pitch = -90.0 if m[2][0] > 0 else 90.0
        return math.degrees(math.atan2(-m[0][1], m[1][1])), pitch, 0.0
    pitch = math.degrees(math.atan2(-m[2][0], horizontal))
    return (
        math.degrees(math.atan2(m[1][0], m[0][0])),
        pitch,
        math.degrees(math.atan2(m[2][1], m[2][2])),
    )


def _quat_to_matrix(w: float, x: float, y: float, z: float) -> Matrix:
    n = math.sqrt(w * w + x * x + y * y + z * z)
    if not n > 0.0:  # also catches NaN
        raise ValueError("zero or NaN quaternion")
    w, x, y, z = w / n, x / n, y / n, z / n
    return (
        (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)),
        (2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)),
        (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)),
    )


def _matrix_to_quat(m: Matrix) -> tuple[float, float, float, float]:
    """Unit quaternion (w, x, y, z) with ``w >= 0`` (Shepperd's method)."""
    trace = m[0][0] + m[1][1] + m[2][2]
    if trace > 0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = (0.25 * s, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s)
    elif m[0][0] >= m[1][1] and m[0][0] >= m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[0][0] - m[1][1] - m[2][2])
        q = ((m[2][1] - m[1][2]) / s, 0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s)
    elif m[1][1] >= m[2][2]:
        s = 2.0 * math.sqrt(1.0 + m[1][1] - m[0][0] - m[2][2])
        q = ((m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s)
    else:
        s = 2.0 * math.sqrt(1.0 + m[2][2] - m[0][0] - m[1][1])
        q = ((m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s)
    return q if q[0] >= 0 else (-q[0], -q[1], -q[2], -q[3])


def _warn(message: str, depth: int) -> None:
    """Warn on behalf of the public function ``depth`` frames up (so it names the caller)."""
    warnings.warn(message, TelemetryWarning, stacklevel=depth + 2)


@dataclass(frozen=True, slots=True)
class _Gimbal:
    """A gimbal attitude: world rotation ``Rz(heading) @ rotation`` unless ``earth_yaw``."""

    rotation: Matrix | None  # None: NaN or invalid in the message
    earth_yaw: bool


def _utc(time_us: int) -> str:
    return datetime.fromtimestamp(time_us / 1e6, UTC).isoformat(timespec="milliseconds")


class _Series:
    """Messages of one kind in time order, for "latest at or before" look-ups."""

    def __init__(self, items: list[tuple[int, Any]]) -> None:
        items.sort(key=lambda item: item[0])
        self.times = [t for t, _ in items]
        self.values = [v for _, v in items]

    def latest(self, time_us: int, max_age_s: float) -> tuple[bool, Any]:
        """(found, value) of the latest item at or before ``time_us`` within ``max_age_s``."""
        i = bisect_right(self.times, time_us) - 1
        if i < 0 or time_us - self.times[i] > max_age_s * 1e6:
            return False, None
        return True, self.values[i]


def _sensor_angles(
    heading: float, pitch: float, roll: float, rotation: Matrix, earth_yaw: bool
) -> tuple[float, float, float]:
    """Sensor azimuth, elevation, roll relative to the airframe, degrees."""
    world = rotation if earth_yaw else _mul(_rot(heading, 0, 0), rotation)
    az, el, sensor_roll = _euler(_mul(_rot(heading, pitch, roll), world, transpose_a=True))
    return _wrap360(az), el, sensor_roll


@dataclass(frozen=True, slots=True)
class PositionFix:
    """One position report of a log, on its clocks.

    Attributes
    ----------
    time_us
        UTC epoch microseconds: the pose's time.
    lookup_us
        The same instant on the clock of the attitude and gimbal series (the
        tlog receive clock, or a dataflash log's time since boot).
    lon, lat, alt_m
        Position in degrees and altitude above mean sea level, metres.
    problem
        Why this report cannot make a pose (no fix...), or ``None``.
    """

    time_us: int
    lookup_us: int
    lon: float
    lat: float
    alt_m: float
    problem: str | None = None


def assemble_poses(
    fixes: Sequence[PositionFix],
    attitudes: _Series,
    gimbals: _Series,
    frames: dict[int, int],
    sidecar: TelemetrySidecar,
    file: str,
    names: tuple[str, str, str],
    *,
    max_attitude_age_s: float,
    max_gimbal_age_s: float,
    fixed_mount_deg: tuple[float, float, float] | None,
    max_gap_s: float,
) -> Telemetry:
    """Camera poses from position reports and the latest attitude and gimbal before each.

    Shared by the MAVLink and the dataflash readers. ``attitudes`` holds
    ``(roll, pitch, yaw)`` in degrees, ``gimbals`` :class:`_Gimbal` values;
    ``frames`` maps UTC microseconds to frame numbers; ``names`` are the log's
    names for the attitude message, the gimbal attitude and a bad gimbal value,
    used in the warnings. A report that cannot make a pose is dropped and
    counted in one :class:`TelemetryWarning` per reason, never turned into a
    silently wrong pose.
    """
    attitude_name, gimbal_name, gimbal_bad = names
    frame_times = sorted(frames)
    dropped: dict[str, list[int]] = {}
    poses: list[CameraPose] = []
    for fix in fixes:
        t = fix.time_us
        found, angles = attitudes.latest(fix.lookup_us, max_attitude_age_s)
        ok_gimbal, gim = gimbals.latest(fix.lookup_us, max_gimbal_age_s)
        reason = fix.problem
        if reason is not None:
            pass
        elif not found:
            reason = f"no {attitude_name} within {max_attitude_age_s} s before the position"
        elif not all(math.isfinite(a) for a in angles):
            reason = "attitude is NaN"
        elif fixed_mount_deg is None and not ok_gimbal:
            reason = f"no {gimbal_name} within {max_gimbal_age_s} s before the position"
        elif fixed_mount_deg is None and gim.rotation is None:
            reason = gimbal_bad
        if reason is not None:
            dropped.setdefault(reason, []).append(t)
            continue
        roll, pitch, yaw = angles
        heading = _wrap360(yaw)
        if fixed_mount_deg is not None:
            sensor = fixed_mount_deg
        else:
            sensor = _sensor_angles(heading, pitch, roll, gim.rotation, gim.earth_yaw)
        i = bisect_right(frame_times, t + _FRAME_MATCH_US) - 1
        frame = frames[frame_times[i]] if i >= 0 and t - frame_times[i] <= _FRAME_MATCH_US else None
        poses.append(
            CameraPose(
                time_s=t / 1e6,
                lon=fix.lon,
                lat=fix.lat,
                alt_m=fix.alt_m,
                heading_deg=heading,
                pitch_deg=pitch,
                roll_deg=roll,
                sensor_az_deg=sensor[0],
                sensor_el_deg=sensor[1],
                sensor_roll_deg=sensor[2],
                hfov_deg=sidecar.hfov_deg,
                vfov_deg=sidecar.vfov_deg,
                width_px=sidecar.width_px,
                height_px=sidecar.height_px,
                frame=frame,
                uncertainty=sidecar.uncertainty,
            )
        )
    for reason, times in dropped.items():
        _warn(f"{file}: {len(times)} positions dropped, {reason} (first at {_utc(times[0])})", 2)
    if not poses:
        raise RecordError("no usable camera pose (see the warnings)", file=file)
    return Telemetry(poses, source=file, max_gap_s=max_gap_s)
