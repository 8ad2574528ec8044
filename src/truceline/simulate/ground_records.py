"""Records of the acoustic edge network shared by its writers: stations and their picks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from truceline.simulate.writers import iso_time, point_geojson

__all__ = ["AcousticSensor", "Pick"]


@dataclass(frozen=True, slots=True)
class AcousticSensor:
    """One acoustic station (position in local metres and degrees)."""

    id: str
    x: float
    y: float
    lon: float
    lat: float
    range_m: float
    timing_sigma_s: float
    azimuth_sigma_deg: float
    reliability: float


@dataclass(frozen=True, slots=True)
class Pick:
    """One detection before formatting.

    Attributes
    ----------
    time
        Arrival time of the generic GeoJSON export, epoch seconds: still-air
        propagation and the Gaussian clock jitter.
    sensor
        The station that picked it.
    kind, confidence, label
        The edge classifier's output.
    azimuth_deg
        Reported back azimuth, degrees from north.
    amplitude_pa
        Peak overpressure, pascals.
    field_time
        Arrival time of the detections CSV, epoch seconds: propagation at the
        day's effective sound speed (temperature and wind along the path), the
        same clock jitter and the sensor's clock offset of the day.
    snr
        Amplitude over the sensor's noise level of the day.
    source
        ``(truth event id, emission number)`` of the sound picked, or ``None``
        for a false alarm (kept for the truth file, never written to the
        sensor formats).
    """

    time: float
    sensor: AcousticSensor
    kind: str
    azimuth_deg: float
    confidence: float
    amplitude_pa: float
    label: str
    field_time: float
    snr: float
    source: tuple[str, int] | None = None

    def feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": point_geojson(self.sensor.lon, self.sensor.lat),
            "properties": {
                "record": "observation",
                "sensor_id": self.sensor.id,
                "modality": "acoustic",
                "kind": self.kind,
                "time": iso_time(self.time),
                "time_sigma_s": self.sensor.timing_sigma_s,
                "bearing": {
                    "azimuth_deg": self.azimuth_deg,
                    "azimuth_sigma_deg": self.sensor.azimuth_sigma_deg,
                    "max_range_m": self.sensor.range_m,
                },
                "attributes": {
                    "confidence": self.confidence,
                    "amplitude_pa": self.amplitude_pa,
                    "label": self.label,
                },
            },
        }
