"""Event: what happened, inferred from one or more observations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from truceline.model.located import LocatedRecord
from truceline.model.timeutil import format_utc, parse_utc

__all__ = ["Event"]


@dataclass(frozen=True, slots=True)
class Event(LocatedRecord):
    """A fused event.

    Attributes
    ----------
    kind
        Activity kind (see :data:`truceline.model.vocab.ACTIVITY_KINDS`).
    time
        Best estimate of when it happened (UTC).
    time_sigma_s
        Standard deviation of ``time``, seconds.
    time_start, time_end
        The window spanned by member observations (UTC).
    lon, lat
        Best-estimate position, degrees.
    cov_ee, cov_en, cov_nn
        Position covariance, m² (east, north).
    members
        Ids of the member observations, sorted.
    sensors
        Ids of the contributing sensors, sorted.
    modalities
        Contributing modalities, sorted.
    independent_sources
        Number of sources treated as independent corroboration.
    confidence
        Probability that the event is real, in [0, 1].
    attributes
        Further facts (weapon class, counts, per-kind scores...).
    """

    kind: str
    time: datetime
    time_sigma_s: float
    time_start: datetime
    time_end: datetime
    lon: float
    lat: float
    cov_ee: float
    cov_en: float
    cov_nn: float
    members: tuple[str, ...]
    sensors: tuple[str, ...]
    modalities: tuple[str, ...]
    independent_sources: int
    confidence: float
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the id)."""
        return {
            "kind": self.kind,
            "time": format_utc(self.time),
            "time_sigma_s": self.time_sigma_s,
            "time_start": format_utc(self.time_start),
            "time_end": format_utc(self.time_end),
            "lon": self.lon,
            "lat": self.lat,
            "cov_m2": [self.cov_ee, self.cov_en, self.cov_nn],
            "members": list(self.members),
            "sensors": list(self.sensors),
            "modalities": list(self.modalities),
            "independent_sources": self.independent_sources,
            "confidence": self.confidence,
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Rebuild from :meth:`to_dict` (or :meth:`to_record`) output."""
        cov = data["cov_m2"]
        return cls(
            kind=str(data["kind"]),
            time=parse_utc(str(data["time"])),
            time_sigma_s=float(data["time_sigma_s"]),
            time_start=parse_utc(str(data["time_start"])),
            time_end=parse_utc(str(data["time_end"])),
            lon=float(data["lon"]),
            lat=float(data["lat"]),
            cov_ee=float(cov[0]),
            cov_en=float(cov[1]),
            cov_nn=float(cov[2]),
            members=tuple(data["members"]),
            sensors=tuple(data["sensors"]),
            modalities=tuple(data["modalities"]),
            independent_sources=int(data["independent_sources"]),
            confidence=float(data["confidence"]),
            attributes=dict(data.get("attributes") or {}),
        )
