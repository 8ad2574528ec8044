"""Shared types of the ground channel: arrivals and the atmosphere they crossed.

Arrivals are the ground channel's view of :class:`~truceline.model.Observation`
records of modality ``acoustic``, ``infrasound`` or ``seismic`` whose location is
a :class:`~truceline.model.BearingLocation` (an array or direction-finding sensor:
back azimuth known) or a :class:`~truceline.model.StationLocation` (a single
sensor: only the arrival time). Everything physical is in SI units: seconds
since the Unix epoch (UTC), metres, metres per second, degrees clockwise from
north for azimuths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from truceline.model.location import BearingLocation, StationLocation
from truceline.model.observation import Observation

__all__ = ["GROUND_MODALITIES", "Arrival", "Atmosphere"]

GROUND_MODALITIES = frozenset({"acoustic", "infrasound", "seismic"})


def _number(attributes: Mapping[str, Any], key: str) -> float | None:
    value = attributes.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class Arrival:
    """One detection of a signal at a station or array.

    Attributes
    ----------
    id
        Id of the observation it came from.
    station
        Station (or array) id: arrivals of one station are never combined.
    lon, lat
        Station position, degrees.
    time_s, time_sigma_s
        Arrival time (epoch seconds, UTC) and its standard deviation, seconds.
    azimuth_deg, azimuth_sigma_deg
        Back azimuth towards the source and its standard deviation, degrees;
        ``None`` for single sensors.
    max_range_m
        Largest plausible source range, metres.
    kind
        The station's classification (``explosion``, ``launch``, ``impact``,
        ``gunfire``, ``other``).
    confidence
        The classifier's probability of ``kind``.
    trace_velocity_mps
        Apparent horizontal velocity across the array, m/s (``None`` if unknown).
    """

    id: str
    station: str
    lon: float
    lat: float
    time_s: float
    time_sigma_s: float
    azimuth_deg: float | None
    azimuth_sigma_deg: float | None
    max_range_m: float
    kind: str
    confidence: float
    trace_velocity_mps: float | None = None

    @classmethod
    def from_observation(cls, obs_id: str, obs: Observation) -> Arrival | None:
        """The arrival an observation describes, or ``None`` if it is not one."""
        if obs.modality not in GROUND_MODALITIES:
            return None
        loc = obs.location
        if isinstance(loc, BearingLocation):
            azimuth: float | None = loc.azimuth_deg
            azimuth_sigma: float | None = loc.azimuth_sigma_deg
        elif isinstance(loc, StationLocation):
            azimuth = azimuth_sigma = None
        else:
            return None
        confidence = _number(obs.attributes, "confidence")
        return cls(
            id=obs_id,
            station=obs.sensor_id,
            lon=loc.station_lon,
            lat=loc.station_lat,
            time_s=obs.time.timestamp(),
            time_sigma_s=obs.time_sigma_s,
            azimuth_deg=azimuth,
            azimuth_sigma_deg=azimuth_sigma,
            max_range_m=loc.max_range_m,
            kind=obs.kind,
            confidence=1.0 if confidence is None else confidence,
            trace_velocity_mps=_number(obs.attributes, "trace_velocity_mps"),
        )


@dataclass(frozen=True, slots=True)
class Atmosphere:
    """Near-ground propagation conditions.

    Attributes
    ----------
    temperature_c
        Air temperature, degrees Celsius.
    wind_east_mps, wind_north_mps
        Wind vector (towards east / north), m/s.
    """

    temperature_c: float = 10.0
    wind_east_mps: float = 0.0
    wind_north_mps: float = 0.0

    @property
    def sound_speed_mps(self) -> float:
        """Adiabatic sound speed in still air, ``331.3 + 0.606 T`` m/s."""
        return 331.3 + 0.606 * self.temperature_c

    def effective_speed_mps(self, propagation_azimuth_deg: float) -> float:
        """Sound speed plus the wind component along the propagation direction, m/s.

        Parameters
        ----------
        propagation_azimuth_deg
            Direction the sound travels (source towards station), degrees from north.
        """
        a = math.radians(propagation_azimuth_deg)
        along = self.wind_east_mps * math.sin(a) + self.wind_north_mps * math.cos(a)
        return self.sound_speed_mps + along
