"""Coverage: which area a sensor could observe, when, and how well."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely import wkt
from shapely.geometry.base import BaseGeometry

from truceline.model.ids import content_id
from truceline.model.timeutil import format_utc, parse_utc

__all__ = ["Coverage"]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Area observed by one sensor in one time window.

    Attributes
    ----------
    sensor_id
        The observing sensor.
    start, end
        Time window (UTC).
    area_wkt
        Observed area as WKT in lon/lat degrees (polygon or multipolygon).
    detection_probability
        Probability of detecting the target class inside the area, in [0, 1].
    target
        What the probability refers to (e.g. ``explosion``, ``thermal_anomaly``).
    """

    sensor_id: str
    start: datetime
    end: datetime
    area_wkt: str
    detection_probability: float
    target: str = "any"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("coverage window ends before it starts")
        if not 0.0 <= self.detection_probability <= 1.0:
            raise ValueError("detection probability must be in [0, 1]")

    @property
    def area(self) -> BaseGeometry:
        """The observed area as a shapely geometry (degrees)."""
        return wkt.loads(self.area_wkt)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "sensor_id": self.sensor_id,
            "start": format_utc(self.start),
            "end": format_utc(self.end),
            "area_wkt": self.area_wkt,
            "detection_probability": self.detection_probability,
            "target": self.target,
        }

    @property
    def id(self) -> str:
        """Content id."""
        return content_id(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coverage:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            sensor_id=str(data["sensor_id"]),
            start=parse_utc(str(data["start"])),
            end=parse_utc(str(data["end"])),
            area_wkt=str(data["area_wkt"]),
            detection_probability=float(data["detection_probability"]),
            target=str(data.get("target", "any")),
        )
