"""Batch camera rotations and pinhole rays (private to the drone channel).

World frame: east, north, up (ENU) at the camera. The platform attitude is the
aerospace Z-Y-X sequence (heading, pitch, roll) from north-east-down (NED) to the
body frame forward-right-down; the gimbal adds its own Z-Y-X sequence (relative
azimuth about the body's down axis, elevation about its right axis, roll about
the boresight), giving a sensor frame boresight-right-down. The camera frame is
the usual computer-vision one: ``x`` right, ``y`` down, ``z`` forward along the
boresight. So with every angle zero the camera looks along the nose, level; with
``sensor_el_deg = -90`` it looks straight down with the top of the image towards
the nose.

Everything here works on arrays (one row per pose), so thousands of poses are
rotated in a handful of numpy operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from truceline.drone.base import CameraPose

__all__ = ["PoseArrays", "camera_to_enu", "pixel_rays", "pose_arrays", "pose_rotation"]

FloatArray = npt.NDArray[np.float64]

# Columns are the camera axes (x right, y down, z forward) in the sensor frame
# (forward, right, down).
_CAMERA_TO_SENSOR = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
# NED -> ENU: swap the horizontal axes, flip the vertical.
_NED_TO_ENU = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])


@dataclass(frozen=True, slots=True)
class PoseArrays:
    """The numeric fields of many :class:`CameraPose` as arrays (degrees, metres, pixels)."""

    lon: FloatArray
    lat: FloatArray
    alt_m: FloatArray
    heading_deg: FloatArray
    pitch_deg: FloatArray
    roll_deg: FloatArray
    sensor_az_deg: FloatArray
    sensor_el_deg: FloatArray
    sensor_roll_deg: FloatArray
    hfov_deg: FloatArray
    vfov_deg: FloatArray
    width_px: FloatArray
    height_px: FloatArray

    def rotations(self) -> FloatArray:
        """Camera-to-ENU rotation matrices, shape ``(n, 3, 3)``."""
        return camera_to_enu(
            self.heading_deg,
            self.pitch_deg,
            self.roll_deg,
            self.sensor_az_deg,
            self.sensor_el_deg,
            self.sensor_roll_deg,
        )


def pose_arrays(poses: Sequence[CameraPose]) -> PoseArrays:
    """Gather the fields of ``poses`` into arrays (one row per pose)."""
    table = np.array(
        [
            (
                p.lon, p.lat, p.alt_m, p.heading_deg, p.pitch_deg, p.roll_deg,
                p.sensor_az_deg, p.sensor_el_deg, p.sensor_roll_deg, p.hfov_deg,
                p.vfov_deg, p.width_px, p.height_px,
            )
            for p in poses
        ],
        dtype=float,
    ).reshape(-1, 13)  # fmt: skip
    return PoseArrays(*(np.ascontiguousarray(table[:, i]) for i in range(13)))


def pose_rotation(pose: CameraPose) -> FloatArray:
    """The camera-to-ENU rotation matrix of one pose, shape ``(3, 3)``."""
    angles = (pose.heading_deg, pose.pitch_deg, pose.roll_deg,
              pose.sensor_az_deg, pose.sensor_el_deg, pose.sensor_roll_deg)  # fmt: skip
    result: FloatArray = camera_to_enu(*(np.array([a]) for a in angles))[0]
    return result


def _zyx(z_deg: FloatArray, y_deg: FloatArray, x_deg: FloatArray) -> FloatArray:
    """``Rz(z) @ Ry(y) @ Rx(x)`` for arrays of angles in degrees, shape ``(n, 3, 3)``."""
    cz, sz = np.cos(np.radians(z_deg)), np.sin(np.radians(z_deg))
    cy, sy = np.cos(np.radians(y_deg)), np.sin(np.radians(y_deg))
    cx, sx = np.cos(np.radians(x_deg)), np.sin(np.radians(x_deg))
    out = np.empty((*np.shape(cz), 3, 3))
    out[..., 0, 0] = cz * cy
    out[..., 0, 1] = cz * sy * sx - sz * cx
    out[..., 0, 2] = cz * sy * cx + sz * sx
    out[..., 1, 0] = sz * cy
    out[..., 1, 1] = sz * sy * sx + cz * cx
    out[..., 1, 2] = sz * sy * cx - cz * sx
    out[..., 2, 0] = -sy
    out[..., 2, 1] = cy * sx
    out[..., 2, 2] = cy * cx
    return out


def camera_to_enu(
    heading_deg: FloatArray,
    pitch_deg: FloatArray,
    roll_deg: FloatArray,
    sensor_az_deg: FloatArray,
    sensor_el_deg: FloatArray,
    sensor_roll_deg: FloatArray,
) -> FloatArray:
    """Rotation matrices taking camera-frame vectors to ENU, shape ``(n, 3, 3)``.

    Parameters
    ----------
    heading_deg, pitch_deg, roll_deg
        Platform attitude, degrees (heading clockwise from north, nose up, right
        wing down).
    sensor_az_deg, sensor_el_deg, sensor_roll_deg
        Gimbal relative to the platform, degrees (clockwise from the nose, up,
        clockwise about the boresight).
    """
    body = _zyx(
        np.asarray(heading_deg, float), np.asarray(pitch_deg, float), np.asarray(roll_deg, float)
    )
    sensor = _zyx(
        np.asarray(sensor_az_deg, float),
        np.asarray(sensor_el_deg, float),
        np.asarray(sensor_roll_deg, float),
    )
    result: FloatArray = _NED_TO_ENU @ body @ sensor @ _CAMERA_TO_SENSOR
    return result


def pixel_rays(
    u: npt.ArrayLike, v: npt.ArrayLike, width_px: npt.ArrayLike, height_px: npt.ArrayLike,
    hfov_deg: npt.ArrayLike, vfov_deg: npt.ArrayLike,
) -> FloatArray:  # fmt: skip
    """Unit ray directions in the camera frame for pixels ``(u, v)``, shape ``(..., 3)``.

    An ideal pinhole: the image centre ``(width/2, height/2)`` is the boresight and
    the image edges are at half the full fields of view.
    """
    width, height = np.asarray(width_px, float), np.asarray(height_px, float)
    x = (2.0 * np.asarray(u, float) / width - 1.0) * np.tan(np.radians(hfov_deg) / 2.0)
    y = (2.0 * np.asarray(v, float) / height - 1.0) * np.tan(np.radians(vfov_deg) / 2.0)
    x, y = np.broadcast_arrays(x, y)
    rays = np.stack([x, y, np.ones_like(x)], axis=-1)
    result: FloatArray = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    return result
