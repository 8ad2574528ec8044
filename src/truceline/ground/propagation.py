"""Travel time of sound and infrasound from a source to a station, with its uncertainty.

Two regimes, blended smoothly by range:

* **Local** (below ``local_range_m``, default 15 km): the signal travels near the
  ground at the effective sound speed ``c = 331.3 + 0.606 T`` m/s plus the wind
  component along the path (:meth:`Atmosphere.effective_speed_mps`). The speed is
  known to ``local_speed_sigma_mps`` (default 2 m/s: about 3 °C of temperature
  error, or 2 m/s of unmodelled wind along the path).
* **Regional** (above ``regional_range_m``, default 50 km): infrasound reaches the
  station through atmospheric ducts, and what matters is the *celerity*, range
  divided by travel time. Observed celerities are about 0.30–0.34 km/s for
  tropospheric, 0.28–0.31 km/s for stratospheric and 0.22–0.27 km/s for
  thermospheric returns (Negraru, Golden & Herrin 2010, *Seismol. Res. Lett.*
  81(4); Brown et al. 2002, *Pure Appl. Geophys.* 159). Which duct carried a given
  detection is rarely known, so the celerity is a Gaussian of mean 0.29 km/s and
  standard deviation 0.025 km/s: ±2 sigma spans 0.24–0.34 km/s, the range used
  by Bayesian infrasonic source location (Modrak, Arrowsmith & Anderson 2010,
  *Geophys. J. Int.* 181). Stratospheric cross-winds also deflect the arrival
  direction by a few degrees, which ``regional_azimuth_sigma_deg`` (2°) adds to
  the array's own back-azimuth uncertainty.

Between the two ranges, speed, speed sigma and azimuth sigma are blended with the
C¹ smoothstep ``w = 3u² − 2u³`` of ``u = (r − local) / (regional − local)``, so the
travel time and its derivative are continuous (Gauss–Newton needs both). The
travel-time sigma is ``r · sigma_v / v²``: it grows linearly with range.

Geometry is geodesic on WGS 84 (:func:`predict`): ranges and both azimuths come
from ``Geod.inv``, never from a projection. A local azimuthal-equidistant frame is
exact only for distances and azimuths *from its centre*; at 500 km from the
centre, distances between other points are off by up to ~0.5 % and azimuths by up
to several degrees (meridian convergence), which would bias a regional solution
by kilometres. The Jacobians are taken with respect to a displacement of the
source in metres east/north at the source, so a covariance derived from them is
the covariance in the source's own tangent plane.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from truceline.ground.base import Atmosphere
from truceline.model.geo import WGS84_GEOD

__all__ = ["Geometry", "PropagationModel", "TravelTime", "predict"]

FloatArray = npt.NDArray[np.float64]

#: Mean Earth radius, metres (for the reduced length of short geodesics).
EARTH_RADIUS_M = 6_371_008.8
#: Ranges below this are treated as this, metres (a bearing to a co-located source is undefined).
MIN_RANGE_M = 1.0


@dataclass(frozen=True, slots=True)
class TravelTime:
    """Travel times over given ranges (arrays of one shape).

    Attributes
    ----------
    time_s
        Travel time, seconds.
    sigma_s
        Its standard deviation from the propagation model, seconds.
    d_time_d_range
        Derivative of the travel time with respect to range, s/m.
    d_time_d_azimuth
        Derivative with respect to the propagation azimuth (through the wind), s/rad.
    azimuth_sigma_deg
        Model uncertainty of the arrival direction, degrees.
    """

    time_s: FloatArray
    sigma_s: FloatArray
    d_time_d_range: FloatArray
    d_time_d_azimuth: FloatArray
    azimuth_sigma_deg: FloatArray


@dataclass(frozen=True, slots=True)
class PropagationModel:
    """Range-dependent propagation speed with uncertainty (see the module docstring).

    Attributes
    ----------
    local_speed_sigma_mps
        Standard deviation of the near-ground effective sound speed, m/s.
    celerity_mps, celerity_sigma_mps
        Mean and standard deviation of the regional (ducted) celerity, m/s.
    local_range_m, regional_range_m
        Below the first, the local model; above the second, the regional one;
        smoothly blended in between, metres.
    local_azimuth_sigma_deg, regional_azimuth_sigma_deg
        Model uncertainty of the arrival direction in each regime, degrees.
    """

    local_speed_sigma_mps: float = 2.0
    celerity_mps: float = 290.0
    celerity_sigma_mps: float = 25.0
    local_range_m: float = 15_000.0
    regional_range_m: float = 50_000.0
    local_azimuth_sigma_deg: float = 0.0
    regional_azimuth_sigma_deg: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 < self.local_range_m < self.regional_range_m:
            raise ValueError(
                "need 0 < local_range_m < regional_range_m, got "
                f"{self.local_range_m} and {self.regional_range_m}"
            )
        if self.celerity_mps <= 0.0:
            raise ValueError(f"celerity_mps must be positive, got {self.celerity_mps}")
        sigmas = (
            self.local_speed_sigma_mps,
            self.celerity_sigma_mps,
            self.local_azimuth_sigma_deg,
            self.regional_azimuth_sigma_deg,
        )
        if min(sigmas) < 0.0 or not all(math.isfinite(s) for s in sigmas):
            raise ValueError(f"model sigmas must be finite and non-negative, got {sigmas}")

    def regional_weight(self, range_m: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Weight of the regional regime in [0, 1] and its derivative (1/m)."""
        span = self.regional_range_m - self.local_range_m
        u = np.clip((np.asarray(range_m, dtype=float) - self.local_range_m) / span, 0.0, 1.0)
        weight = u * u * (3.0 - 2.0 * u)
        d_weight = 6.0 * u * (1.0 - u) / span
        return weight, d_weight

    def travel_time(
        self, range_m: FloatArray, propagation_azimuth_deg: FloatArray, atmosphere: Atmosphere
    ) -> TravelTime:
        """Travel time over ``range_m`` metres in direction ``propagation_azimuth_deg``.

        Parameters
        ----------
        range_m
            Source–station distances, metres.
        propagation_azimuth_deg
            Direction of travel at the source (source towards station), degrees
            from north; only the wind depends on it.
        atmosphere
            Ground-level temperature and wind.
        """
        r = np.asarray(range_m, dtype=float)
        a = np.radians(np.asarray(propagation_azimuth_deg, dtype=float))
        wind_along = atmosphere.wind_east_mps * np.sin(a) + atmosphere.wind_north_mps * np.cos(a)
        wind_d_az = atmosphere.wind_east_mps * np.cos(a) - atmosphere.wind_north_mps * np.sin(a)
        local = atmosphere.sound_speed_mps + wind_along
        if np.any(local <= 0.0):
            raise ValueError("wind along the path exceeds the sound speed")
        weight, d_weight = self.regional_weight(r)
        speed = (1.0 - weight) * local + weight * self.celerity_mps
        d_speed_d_range = d_weight * (self.celerity_mps - local)
        speed_sigma = (1.0 - weight) * self.local_speed_sigma_mps + weight * self.celerity_sigma_mps
        az_sigma = (
            1.0 - weight
        ) * self.local_azimuth_sigma_deg + weight * self.regional_azimuth_sigma_deg
        speed2 = speed * speed
        return TravelTime(
            time_s=r / speed,
            sigma_s=r * speed_sigma / speed2,
            d_time_d_range=1.0 / speed - r * d_speed_d_range / speed2,
            d_time_d_azimuth=-r * (1.0 - weight) * wind_d_az / speed2,
            azimuth_sigma_deg=az_sigma,
        )


@dataclass(frozen=True, slots=True)
class Geometry:
    """Predicted observables at stations for one source position.

    Jacobians are with respect to a displacement of the source of (east, north)
    metres in its own tangent plane.

    Attributes
    ----------
    range_m
        Geodesic source–station distance, metres.
    azimuth_deg
        Predicted back azimuth at each station (towards the source), degrees in [0, 360).
    travel
        The propagation model's travel times along these paths.
    time_jacobian
        ``(n, 2)`` derivative of travel time, s/m.
    azimuth_jacobian
        ``(n, 2)`` derivative of the back azimuth, rad/m.
    """

    range_m: FloatArray
    azimuth_deg: FloatArray
    travel: TravelTime
    time_jacobian: FloatArray
    azimuth_jacobian: FloatArray


def predict(
    station_lon: FloatArray,
    station_lat: FloatArray,
    source_lon: float,
    source_lat: float,
    atmosphere: Atmosphere,
    model: PropagationModel,
) -> Geometry:
    """Geodesic ranges, back azimuths, travel times and their Jacobians.

    Parameters
    ----------
    station_lon, station_lat
        Station positions, degrees (WGS 84).
    source_lon, source_lat
        Source position, degrees.
    atmosphere, model
        Propagation conditions and model.
    """
    lons = np.asarray(station_lon, dtype=float)
    lats = np.asarray(station_lat, dtype=float)
    az12, az21, dist = WGS84_GEOD.inv(
        lons, lats, np.full_like(lons, source_lon), np.full_like(lats, source_lat)
    )
    r = np.maximum(np.asarray(dist, dtype=float), MIN_RANGE_M)
    at_source = np.radians(np.asarray(az21, dtype=float))  # source -> station
    sin_s, cos_s = np.sin(at_source), np.cos(at_source)
    # reduced length of the geodesic (spherical approximation, exact to < 0.1 %)
    reduced = EARTH_RADIUS_M * np.sin(r / EARTH_RADIUS_M)
    d_range = np.column_stack([-sin_s, -cos_s])
    # moving the source to the right of its line of sight turns both azimuths clockwise
    perpendicular = np.column_stack([-cos_s, sin_s])
    azimuth_jacobian = perpendicular / reduced[:, None]
    travel = model.travel_time(r, np.degrees(at_source), atmosphere)
    # the direction of travel at the source also turns as the source moves east,
    # because north itself turns (meridian convergence, tan(lat) / R per metre)
    d_source_azimuth = perpendicular / r[:, None]
    d_source_azimuth[:, 0] += math.tan(math.radians(source_lat)) / EARTH_RADIUS_M
    time_jacobian = (
        travel.d_time_d_range[:, None] * d_range
        + travel.d_time_d_azimuth[:, None] * d_source_azimuth
    )
    return Geometry(
        range_m=r,
        azimuth_deg=np.asarray(az12, dtype=float) % 360.0,
        travel=travel,
        time_jacobian=time_jacobian,
        azimuth_jacobian=azimuth_jacobian,
    )
