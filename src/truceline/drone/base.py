"""Shared types of the drone channel: camera poses, their uncertainty, telemetry.

Conventions (used by every module of the channel):

* Positions: longitude/latitude in degrees on WGS 84; ``alt_m`` is the camera
  height above mean sea level in metres (the terrain model uses the same datum).
* Platform attitude, aerospace Z-Y-X order: ``heading_deg`` clockwise from true
  north, ``pitch_deg`` nose up positive, ``roll_deg`` right wing down positive.
* Sensor (gimbal) relative to the platform, as in MISB ST 0601: ``sensor_az_deg``
  clockwise from the platform's nose, ``sensor_el_deg`` up positive (-90 is
  straight down), ``sensor_roll_deg`` clockwise looking along the boresight.
* Image: ``width_px`` x ``height_px``, pixel ``(u, v)`` with ``u`` to the right
  and ``v`` down from the top-left corner, centre of the image at
  ``(width/2, height/2)``; an ideal pinhole with full fields of view
  ``hfov_deg`` and ``vfov_deg``.
* Times: seconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from truceline.model.errors import RecordError

__all__ = ["CameraPose", "PoseUncertainty", "Telemetry", "TelemetryGapError"]


@dataclass(frozen=True, slots=True)
class PoseUncertainty:
    """One-sigma errors of a camera pose.

    Attributes
    ----------
    horizontal_m
        Horizontal position error (each of east, north), metres.
    vertical_m
        Altitude error, metres.
    attitude_deg
        Platform heading/pitch/roll error, degrees.
    gimbal_deg
        Sensor relative azimuth/elevation/roll error, degrees.
    time_s
        Frame time-stamp error, seconds.
    """

    horizontal_m: float = 3.0
    vertical_m: float = 5.0
    attitude_deg: float = 0.5
    gimbal_deg: float = 0.3
    time_s: float = 0.02


@dataclass(frozen=True, slots=True)
class CameraPose:
    """Where a camera was and where it looked, at one instant.

    Attributes
    ----------
    time_s
        UTC epoch seconds.
    lon, lat, alt_m
        Camera position (degrees, metres above mean sea level).
    heading_deg, pitch_deg, roll_deg
        Platform attitude, degrees (see the module conventions).
    sensor_az_deg, sensor_el_deg, sensor_roll_deg
        Sensor orientation relative to the platform, degrees.
    hfov_deg, vfov_deg
        Full horizontal and vertical fields of view, degrees.
    width_px, height_px
        Image size, pixels.
    frame
        Frame number, when known.
    uncertainty
        One-sigma errors of this pose.
    """

    time_s: float
    lon: float
    lat: float
    alt_m: float
    heading_deg: float
    pitch_deg: float
    roll_deg: float
    sensor_az_deg: float
    sensor_el_deg: float
    sensor_roll_deg: float
    hfov_deg: float
    vfov_deg: float
    width_px: int
    height_px: int
    frame: int | None = None
    uncertainty: PoseUncertainty = field(default_factory=PoseUncertainty)

    def __post_init__(self) -> None:
        values = (
            self.time_s, self.lon, self.lat, self.alt_m, self.heading_deg, self.pitch_deg,
            self.roll_deg, self.sensor_az_deg, self.sensor_el_deg, self.sensor_roll_deg,
            self.hfov_deg, self.vfov_deg,
        )  # fmt: skip
        if not all(math.isfinite(v) for v in values):
            raise RecordError(f"camera pose at t={self.time_s} has a non-finite value (NaN?)")
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise RecordError(f"camera position ({self.lon}, {self.lat}) is outside the world")
        if not (0.0 < self.hfov_deg < 180.0 and 0.0 < self.vfov_deg < 180.0):
            raise RecordError("fields of view must be in (0, 180) degrees")
        if self.width_px <= 0 or self.height_px <= 0:
            raise RecordError("image size must be positive")


class TelemetryGapError(RecordError):
    """A time falls in a gap of the telemetry (or outside it): no pose can be given."""


class Telemetry:
    """A time-ordered series of camera poses with interpolation.

    Parameters
    ----------
    poses
        Poses in any order; they are sorted by time.
    source
        Where they came from (file name), for messages.
    max_gap_s
        Largest gap between poses across which interpolation is allowed, seconds.
    """

    def __init__(
        self, poses: Sequence[CameraPose], source: str = "<telemetry>", max_gap_s: float = 2.0
    ) -> None:
        if not poses:
            raise RecordError("no camera poses", file=source)
        self.poses = sorted(poses, key=lambda p: p.time_s)
        self.source = source
        self.max_gap_s = max_gap_s
        self._times = [p.time_s for p in self.poses]

    @property
    def start_s(self) -> float:
        """First pose time, epoch seconds."""
        return self._times[0]

    @property
    def end_s(self) -> float:
        """Last pose time, epoch seconds."""
        return self._times[-1]

    def at(self, time_s: float) -> CameraPose:
        """The pose at ``time_s``, linearly interpolated between neighbours.

        Angles are interpolated along the shorter arc. Raises
        :class:`TelemetryGapError` outside the series or across a gap longer than
        ``max_gap_s`` — never an extrapolated (silently wrong) pose.
        """
        import bisect

        i = bisect.bisect_left(self._times, time_s)
        if i < len(self._times) and self._times[i] == time_s:
            return self.poses[i]
        if i == 0 or i == len(self._times):
            raise TelemetryGapError(
                f"time {time_s:.3f} is outside the telemetry ({self.start_s:.3f}–{self.end_s:.3f})",
                file=self.source,
            )
        a, b = self.poses[i - 1], self.poses[i]
        if b.time_s - a.time_s > self.max_gap_s:
            raise TelemetryGapError(
                f"time {time_s:.3f} falls in a telemetry gap of {b.time_s - a.time_s:.1f} s",
                file=self.source,
            )
        w = (time_s - a.time_s) / (b.time_s - a.time_s)

        def lin(x: float, y: float) -> float:
            return x + w * (y - x)

        def ang(x: float, y: float) -> float:
            return x + w * ((y - x + 180.0) % 360.0 - 180.0)

        return CameraPose(
            time_s=time_s,
            lon=lin(a.lon, b.lon),
            lat=lin(a.lat, b.lat),
            alt_m=lin(a.alt_m, b.alt_m),
            heading_deg=ang(a.heading_deg, b.heading_deg) % 360.0,
            pitch_deg=lin(a.pitch_deg, b.pitch_deg),
            roll_deg=lin(a.roll_deg, b.roll_deg),
            sensor_az_deg=ang(a.sensor_az_deg, b.sensor_az_deg) % 360.0,
            sensor_el_deg=lin(a.sensor_el_deg, b.sensor_el_deg),
            sensor_roll_deg=lin(a.sensor_roll_deg, b.sensor_roll_deg),
            hfov_deg=lin(a.hfov_deg, b.hfov_deg),
            vfov_deg=lin(a.vfov_deg, b.vfov_deg),
            width_px=a.width_px,
            height_px=a.height_px,
            frame=None,
            uncertainty=a.uncertainty,
        )
