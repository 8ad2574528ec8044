"""Sensor: a source of observations and what is known about its quality."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from truceline.model.errors import RecordError
from truceline.model.ids import content_id
from truceline.model.vocab import MODALITIES

__all__ = ["Sensor"]


@dataclass(frozen=True, slots=True)
class Sensor:
    """A sensor, station, platform or reporting source.

    Attributes
    ----------
    id
        Stable identifier chosen by the operator (e.g. ``acoustic:A017``).
    modality
        One of :data:`truceline.model.vocab.MODALITIES`.
    owner
        Who operates it (a guarantor, the mission, a public data provider).
    lon, lat
        Fixed position in degrees, or ``None`` for moving platforms.
    timing_sigma_s
        Clock accuracy, seconds (one standard deviation).
    detection_range_m
        Range within which the sensor is expected to detect its target class, metres.
    reliability
        Prior probability that one of its detections is real, in (0, 1).
    public_key
        Optional hex Ed25519 public key its reports are signed with.
    elevation_m
        Station elevation above sea level, metres.
    array
        Id of the array this element belongs to, if any.
    """

    id: str
    modality: str
    owner: str = "unknown"
    lon: float | None = None
    lat: float | None = None
    timing_sigma_s: float = 0.0
    detection_range_m: float | None = None
    reliability: float = 0.5
    public_key: str | None = None
    elevation_m: float | None = None
    array: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise RecordError("sensor id is empty", field="id")
        if self.modality not in MODALITIES:
            raise RecordError(f"unknown modality {self.modality!r}", field="modality")
        if not 0.0 < self.reliability < 1.0:
            raise RecordError("reliability must be in (0, 1)", field="reliability")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "modality": self.modality,
            "owner": self.owner,
            "lon": self.lon,
            "lat": self.lat,
            "timing_sigma_s": self.timing_sigma_s,
            "detection_range_m": self.detection_range_m,
            "reliability": self.reliability,
            "public_key": self.public_key,
            "elevation_m": self.elevation_m,
            "array": self.array,
        }

    @property
    def content_id(self) -> str:
        """Hash of the full description (changes when any property changes)."""
        return content_id(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sensor:
        """Rebuild from :meth:`to_dict` output."""

        def opt_float(key: str) -> float | None:
            value = data.get(key)
            if value in (None, ""):
                return None
            try:
                return float(value)
            except (TypeError, ValueError):
                raise RecordError(f"expected a number, got {value!r}", field=key) from None

        return cls(
            id=str(data.get("id") or ""),
            modality=str(data.get("modality") or ""),
            owner=str(data.get("owner") or "unknown"),
            lon=opt_float("lon"),
            lat=opt_float("lat"),
            timing_sigma_s=opt_float("timing_sigma_s") or 0.0,
            detection_range_m=opt_float("detection_range_m"),
            reliability=opt_float("reliability") or 0.5,
            public_key=data.get("public_key"),
            elevation_m=opt_float("elevation_m"),
            array=None if data.get("array") in (None, "") else str(data.get("array")),
        )
