"""Monte Carlo of camera pose errors: noisy poses and geolocation calibration trials.

Used by the test-suite and ``benchmarks/bench_drone_geometry.py`` to check that
:func:`truceline.drone.geolocate.geolocate` states honest uncertainties, and
usable by the simulator to write noisy telemetry. Errors are drawn as the
geolocation model assumes: independent Gaussians with the one-sigma values of
:class:`~truceline.drone.base.PoseUncertainty` (east, north, altitude; each of
heading, pitch, roll; each gimbal angle) and of the pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from truceline.drone.base import CameraPose
from truceline.drone.geolocate import geolocate
from truceline.drone.terrain import Terrain
from truceline.model.geo import WGS84_GEOD

__all__ = ["GeolocationTrials", "geolocation_trials", "sample_pose"]

FloatArray = npt.NDArray[np.float64]

#: Chi-square quantile of 95 % with two degrees of freedom.
CHI2_95_2DOF = -2.0 * math.log(0.05)


def sample_pose(
    pose: CameraPose,
    rng: np.random.Generator,
    velocity_enu_mps: tuple[float, float, float] | None = None,
) -> CameraPose:
    """The pose as a navigation system with ``pose.uncertainty`` would report it.

    Parameters
    ----------
    pose
        The true pose.
    rng
        Seeded random generator.
    velocity_enu_mps
        Platform velocity (m/s east, north, up): a time-stamp error then moves
        the reported position by ``velocity * dt``.
    """
    unc = pose.uncertainty
    east, north = rng.normal(0.0, unc.horizontal_m, 2)
    up = rng.normal(0.0, unc.vertical_m)
    if velocity_enu_mps is not None:
        dt = rng.normal(0.0, unc.time_s)
        east += velocity_enu_mps[0] * dt
        north += velocity_enu_mps[1] * dt
        up += velocity_enu_mps[2] * dt
    lon, lat, _ = WGS84_GEOD.fwd(
        pose.lon, pose.lat, math.degrees(math.atan2(east, north)), math.hypot(east, north)
    )
    att = rng.normal(0.0, unc.attitude_deg, 3)
    gim = rng.normal(0.0, unc.gimbal_deg, 3)
    return replace(
        pose,
        lon=float(lon),
        lat=float(lat),
        alt_m=pose.alt_m + float(up),
        heading_deg=pose.heading_deg + float(att[0]),
        pitch_deg=pose.pitch_deg + float(att[1]),
        roll_deg=pose.roll_deg + float(att[2]),
        sensor_az_deg=pose.sensor_az_deg + float(gim[0]),
        sensor_el_deg=pose.sensor_el_deg + float(gim[1]),
        sensor_roll_deg=pose.sensor_roll_deg + float(gim[2]),
    )


@dataclass(frozen=True, slots=True)
class GeolocationTrials:
    """Outcome of Monte Carlo geolocation trials.

    Attributes
    ----------
    error_m
        Horizontal distance from each estimate to the truth, metres.
    mahalanobis2
        Squared Mahalanobis distance of the truth under each estimate's covariance.
    slant_range_m
        Mean slant range of the estimates, metres.
    """

    error_m: FloatArray
    mahalanobis2: FloatArray
    slant_range_m: float

    def coverage(self, chi2: float = CHI2_95_2DOF) -> float:
        """Fraction of trials whose truth lies inside the ellipse (default 95 %)."""
        return float(np.mean(self.mahalanobis2 <= chi2))

    @property
    def median_error_m(self) -> float:
        """Median horizontal error, metres."""
        return float(np.median(self.error_m))


def geolocation_trials(
    pose: CameraPose,
    u: float,
    v: float,
    terrain: Terrain,
    n: int,
    rng: np.random.Generator,
    pixel_sigma_px: float = 1.0,
    velocity_enu_mps: tuple[float, float, float] | None = None,
) -> GeolocationTrials:
    """Geolocate the true ground point of pixel ``(u, v)`` ``n`` times with noisy inputs.

    The truth is where pixel ``(u, v)`` of the true ``pose`` meets the terrain.
    Each trial draws a reported pose (:func:`sample_pose`) and a pixel error,
    geolocates, and measures the truth against the estimate and its covariance.
    """
    truth = geolocate(pose, u, v, terrain, 0.0)
    est_lon, est_lat = np.empty(n), np.empty(n)
    covs = np.empty((n, 2, 2))
    ranges = np.empty(n)
    for k in range(n):
        noisy = sample_pose(pose, rng, velocity_enu_mps)
        du, dv = rng.normal(0.0, pixel_sigma_px, 2)
        uu = min(max(u + du, 0.0), float(pose.width_px))
        vv = min(max(v + dv, 0.0), float(pose.height_px))
        point = geolocate(noisy, uu, vv, terrain, pixel_sigma_px, velocity_enu_mps=velocity_enu_mps)
        est_lon[k], est_lat[k] = point.lon, point.lat
        covs[k] = [[point.cov_ee, point.cov_en], [point.cov_en, point.cov_nn]]
        ranges[k] = point.slant_range_m
    azimuth, _, dist = WGS84_GEOD.inv(
        est_lon, est_lat, np.full(n, truth.lon), np.full(n, truth.lat)
    )
    az = np.radians(np.asarray(azimuth, float))
    dist = np.asarray(dist, float)
    err = np.stack([dist * np.sin(az), dist * np.cos(az)], axis=1)
    m2 = np.einsum("ki,kij,kj->k", err, np.linalg.inv(covs), err)
    return GeolocationTrials(error_m=dist, mahalanobis2=m2, slant_range_m=float(ranges.mean()))
