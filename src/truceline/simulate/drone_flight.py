"""Camera poses of a drone patrol: the true flight and the noisy telemetry recorded of it.

A patrol (:class:`truceline.simulate.drone.Patrol`) is flown along its waypoints
at 30 m/s from its take-off time, sampled at :data:`POSE_RATE_HZ`:

* altitude: a cruise height of 300–1500 m above the (flat) terrain drawn per
  patrol, varying by ±5 % over ten minutes;
* platform heading along the geodesic track plus a wind crab angle (±6°), pitch
  about +2° and roll about 0° with slowly varying (AR(1)) disturbances of 1°;
* gimbal scan: the camera looks sideways (relative azimuth 90° or 270°) and its
  depression swings between 2° off nadir and 55° off nadir every
  :data:`SCAN_PERIOD_S`, right then left, so the footprint sweeps the ~3 km
  corridor of the patrol with near-nadir and oblique frames;
* every :data:`FRAME_EVERY`-th pose is a camera frame (numbered from 1).

The recorded telemetry adds errors whose one-sigma sizes are the patrol's
:class:`~truceline.drone.base.PoseUncertainty` (written to the sidecar): GNSS
position (east, north, up) and platform attitude and gimbal angles as AR(1)
processes (correlation times 30 s, 5 s and 5 s), the time stamp as white noise.
The per-patrol sigmas are drawn around 3 m / 5 m / 0.5° / 0.3° / 0.02 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from truceline.drone.base import CameraPose, PoseUncertainty
from truceline.model.geo import WGS84_GEOD
from truceline.simulate.drone import Patrol
from truceline.simulate.world import World

__all__ = [
    "CAMERA",
    "FRAME_EVERY",
    "LINE_CLIPS_S",
    "POINT_CLIP_S",
    "POSE_RATE_HZ",
    "SCAN_PERIOD_S",
    "FlightLog",
    "fly_camera",
]

FloatArray = npt.NDArray[np.float64]

#: Telemetry rate, poses per second.
POSE_RATE_HZ: Final = 1.0
#: One camera frame every this many poses.
FRAME_EVERY: Final = 3
#: Period of the gimbal's right-left sweep, seconds.
SCAN_PERIOD_S: Final = 24.0
#: Line patrols record a clip of this many seconds every so many seconds.
LINE_CLIPS_S: Final = (90.0, 300.0)
#: Other patrols record a clip of this many seconds centred on each route point.
POINT_CLIP_S: Final = 120.0
#: Camera: (hfov_deg, vfov_deg, width_px, height_px).
CAMERA: Final = (40.0, 23.0, 1920, 1080)

_SPEED_MPS: Final = 30.0
_MIN_OFF_NADIR_DEG: Final = 2.0
_MAX_OFF_NADIR_DEG: Final = 55.0
_TAU_GNSS_S: Final = 30.0
_TAU_ATTITUDE_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class FlightLog:
    """One patrol's camera poses.

    Attributes
    ----------
    patrol
        The patrol flown.
    true
        The true poses, in time order (frames carry their number).
    recorded
        The same poses as the telemetry records them (with errors), one per
        true pose.
    uncertainty
        One-sigma sizes of the recorded errors.
    gap
        ``(start, end)`` epoch seconds of a telemetry drop-out, or ``None``.
    """

    patrol: Patrol
    true: tuple[CameraPose, ...]
    recorded: tuple[CameraPose, ...]
    uncertainty: PoseUncertainty
    gap: tuple[float, float] | None


def _ar1(rng: np.random.Generator, n: int, sigma: float, tau_s: float) -> FloatArray:
    """``n`` samples at :data:`POSE_RATE_HZ` of a stationary AR(1) process of std ``sigma``."""
    rho = math.exp(-1.0 / (POSE_RATE_HZ * tau_s))
    burn = int(5 * tau_s * POSE_RATE_HZ)
    white = rng.normal(0.0, sigma, n + burn)
    series: FloatArray = lfilter([math.sqrt(1.0 - rho * rho)], [1.0, -rho], white)
    return series[burn:]


def _route(
    patrol: Patrol, world: World
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Times (epoch s), local positions (m) and recording flags of the poses en route."""
    points = np.asarray(patrol.waypoints, dtype=float)
    steps = np.hypot(*np.diff(points, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(steps)])
    duration = min(along[-1] / _SPEED_MPS, world.end - patrol.start - 1.0)
    elapsed = np.arange(0.0, duration, 1.0 / POSE_RATE_HZ)
    s = elapsed * _SPEED_MPS
    if patrol.kind == "line":
        recording = elapsed % LINE_CLIPS_S[1] < LINE_CLIPS_S[0]
    else:
        at_point = along[np.concatenate([[True], steps >= 1.0])] / _SPEED_MPS
        nearest = np.min(np.abs(elapsed[:, None] - at_point[None, :]), axis=1)
        recording = nearest <= POINT_CLIP_S / 2.0
    x, y = np.interp(s, along, points[:, 0]), np.interp(s, along, points[:, 1])
    return patrol.start + elapsed, x, y, recording


def _uncertainty(rng: np.random.Generator) -> PoseUncertainty:
    """This patrol's error sizes (receivers, weather and gimbals differ)."""
    h, v, a, g = rng.uniform((2.5, 4.0, 0.4, 0.25), (3.5, 6.0, 0.6, 0.35))
    return PoseUncertainty(
        horizontal_m=round(float(h), 2),
        vertical_m=round(float(v), 2),
        attitude_deg=round(float(a), 3),
        gimbal_deg=round(float(g), 3),
        time_s=0.02,
    )


def _track_heading(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Geodesic azimuth (degrees clockwise from true north) of the track at each pose."""
    if lon.size < 2:
        return np.zeros_like(lon)
    azimuth, _, _ = WGS84_GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    forward = np.asarray(azimuth, dtype=float)
    return np.concatenate([forward, forward[-1:]]) % 360.0


def _poses(
    times: FloatArray,
    columns: dict[str, FloatArray],
    frames: npt.NDArray[np.int64],
    uncertainty: PoseUncertainty,
) -> tuple[CameraPose, ...]:
    hfov, vfov, width, height = CAMERA
    rows = zip(
        times.tolist(),
        *(columns[k].tolist() for k in ("lon", "lat", "alt", "hd", "pt", "rl", "az", "el", "sr")),
        frames.tolist(),
        strict=True,
    )
    return tuple(
        CameraPose(
            t,
            lon,
            lat,
            alt,
            hd,
            pt,
            rl,
            az,
            el,
            sr,
            hfov,
            vfov,
            width,
            height,
            frame if frame > 0 else None,
            uncertainty,
        )
        for t, lon, lat, alt, hd, pt, rl, az, el, sr, frame in rows
    )


def fly_camera(
    world: World,
    patrol: Patrol,
    rng: np.random.Generator,
    terrain_height_m: float,
    gap_s: float = 0.0,
) -> FlightLog:
    """Fly ``patrol`` and record its telemetry (see the module docstring).

    Parameters
    ----------
    world
        The scenario (for the frame and the end of the window).
    patrol
        Route and take-off time.
    rng
        Generator for this patrol's draws.
    terrain_height_m
        Height of the flat terrain above mean sea level, metres.
    gap_s
        Length of a telemetry drop-out to cut from the middle of the flight,
        seconds (0: none). Frames in the gap are lost with it.

    Returns
    -------
    FlightLog
        True and recorded poses (empty when the patrol starts after the window).
    """
    uncertainty = _uncertainty(rng)
    agl_m, crab_deg, scan_phase, wave_phase = rng.uniform(
        (300.0, -6.0, 0.0, 0.0), (1500.0, 6.0, 1.0, 2 * math.pi)
    )
    times, x, y, recording = _route(patrol, world)
    n = times.size
    lon, lat = world.geo.frame.to_geo(x, y)
    elapsed = times - patrol.start
    phase = (elapsed / SCAN_PERIOD_S + scan_phase) % 1.0
    off_nadir = _MIN_OFF_NADIR_DEG + (_MAX_OFF_NADIR_DEG - _MIN_OFF_NADIR_DEG) * np.abs(
        np.sin(2 * math.pi * phase)
    )
    agl = agl_m * (1.0 + 0.05 * np.sin(2 * math.pi * elapsed / 600.0 + wave_phase))
    true = {
        "lon": np.asarray(lon, dtype=float),
        "lat": np.asarray(lat, dtype=float),
        "alt": terrain_height_m + agl,
        "hd": (_track_heading(lon, lat) + crab_deg) % 360.0,
        "pt": 2.0 + _ar1(rng, n, 1.0, 20.0),
        "rl": _ar1(rng, n, 1.0, 10.0),
        "az": np.where(phase < 0.5, 90.0, 270.0),
        "el": off_nadir - 90.0,
        "sr": np.zeros(n),
    }
    u = uncertainty
    east, north = (
        _ar1(rng, n, u.horizontal_m, _TAU_GNSS_S),
        _ar1(rng, n, u.horizontal_m, _TAU_GNSS_S),
    )
    rec_lon, rec_lat = world.geo.frame.to_geo(x + east, y + north)
    recorded = {
        "lon": np.asarray(rec_lon, dtype=float),
        "lat": np.asarray(rec_lat, dtype=float),
        "alt": true["alt"] + _ar1(rng, n, u.vertical_m, _TAU_GNSS_S),
    }
    for key, sigma in (("hd", u.attitude_deg), ("pt", u.attitude_deg), ("rl", u.attitude_deg)):
        recorded[key] = true[key] + _ar1(rng, n, sigma, _TAU_ATTITUDE_S)
    for key in ("az", "el", "sr"):
        recorded[key] = true[key] + _ar1(rng, n, u.gimbal_deg, _TAU_ATTITUDE_S)
    recorded["hd"] %= 360.0
    recorded["az"] %= 360.0
    rec_times = times + rng.normal(0.0, u.time_s, n)
    index = np.arange(n)
    frames = np.where(index % FRAME_EVERY == 0, index // FRAME_EVERY + 1, 0)
    keep = recording.copy()
    gap = None
    # the drop-out starts inside a clip that goes on for 30 s more, mid-flight
    lead = int(30 * POSE_RATE_HZ)
    inside = np.nonzero(recording[:-lead] & recording[lead:])[0] if n > lead else np.array([])
    if gap_s > 0.0 and inside.size:
        middle = float(times[inside[len(inside) // 2]])
        keep &= (times < middle) | (times >= middle + gap_s)
        gap = (middle, middle + gap_s)
    return FlightLog(
        patrol,
        _poses(times[keep], {k: v[keep] for k, v in true.items()}, frames[keep], uncertainty),
        _poses(
            rec_times[keep], {k: v[keep] for k, v in recorded.items()}, frames[keep], uncertainty
        ),
        uncertainty,
        gap,
    )
