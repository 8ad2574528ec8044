"""Observation: one report by one sensor, normalised."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from truceline.model.errors import RecordError
from truceline.model.ids import canonical_json, sha256_hex
from truceline.model.location import Location, PointLocation, location_from_dict
from truceline.model.timeutil import format_utc, parse_utc
from truceline.model.vocab import ACTIVITY_KINDS, MODALITIES

__all__ = ["Observation"]

_encode_str = encode_basestring


def _number(value: float | int) -> str:
    """JSON text of a number exactly as :func:`json.dumps` writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(int(value))


def _check_finite_floats(*values: float) -> None:
    for value in values:
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value!r} cannot be canonicalised")


@dataclass(frozen=True, slots=True)
class Observation:
    """One report by one sensor.

    Attributes
    ----------
    sensor_id
        The reporting sensor (or source, e.g. ``firms:VIIRS_NOAA20``).
    modality
        One of :data:`truceline.model.vocab.MODALITIES`.
    kind
        One of :data:`truceline.model.vocab.ACTIVITY_KINDS`.
    time
        Instant of the observation (UTC), or the start of its interval.
    time_sigma_s
        Standard deviation of ``time``, seconds.
    time_end
        End of the interval (UTC) for observations that only bound the time,
        e.g. "the crater appeared between two drone passes"; ``None`` for instants.
    location
        Point + covariance, footprint, or bearing.
    attributes
        Further JSON-compatible facts: confidence, FRP, weapon class, count...
    raw_sha256
        Hex SHA-256 of the raw bytes of the source record (the CSV line, the
        GeoJSON feature...) so the record can be checked against its artifact.
    """

    sensor_id: str
    modality: str
    kind: str
    time: datetime
    location: Location
    time_sigma_s: float = 0.0
    time_end: datetime | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    raw_sha256: str | None = None

    def __post_init__(self) -> None:
        if not self.sensor_id:
            raise RecordError("sensor id is empty", field="sensor_id")
        if self.modality not in MODALITIES:
            raise RecordError(
                f"unknown modality {self.modality!r}; expected one of {sorted(MODALITIES)}",
                field="modality",
            )
        if self.kind not in ACTIVITY_KINDS:
            raise RecordError(
                f"unknown kind {self.kind!r}; expected one of {sorted(ACTIVITY_KINDS)}",
                field="kind",
            )
        if self.time.tzinfo is None:
            raise RecordError("time must be timezone-aware UTC", field="time")
        if self.time_sigma_s < 0:
            raise RecordError("time sigma must be non-negative", field="time_sigma_s")
        if self.time_end is not None and self.time_end < self.time:
            raise RecordError("interval ends before it starts", field="time_end")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready canonical content (the id is derived from exactly this)."""
        return {
            "sensor_id": self.sensor_id,
            "modality": self.modality,
            "kind": self.kind,
            "time": format_utc(self.time),
            "time_sigma_s": self.time_sigma_s,
            "time_end": None if self.time_end is None else format_utc(self.time_end),
            "location": self.location.to_dict(),
            "attributes": dict(self.attributes),
            "raw_sha256": self.raw_sha256,
        }

    def canonical(self) -> bytes:
        """Canonical JSON bytes of :meth:`to_dict`.

        Assembled field by field in sorted key order, which gives exactly
        ``canonical_json(self.to_dict())`` (a property test checks it) at a
        fraction of the cost; ingest computes it for every record.
        """
        location = self.location
        if isinstance(location, PointLocation):
            _check_finite_floats(
                location.lon, location.lat, location.cov_ee, location.cov_en, location.cov_nn
            )
            loc = (
                f'{{"cov_m2":[{location.cov_ee!r},{location.cov_en!r},{location.cov_nn!r}],'
                f'"lat":{location.lat!r},"lon":{location.lon!r},"type":"point"}}'
            )
        else:
            loc = canonical_json(location.to_dict()).decode("utf-8")
        sigma = self.time_sigma_s
        _check_finite_floats(float(sigma))
        end = "null" if self.time_end is None else f'"{format_utc(self.time_end)}"'
        raw = "null" if self.raw_sha256 is None else _encode_str(self.raw_sha256)
        text = (
            f'{{"attributes":{canonical_json(dict(self.attributes)).decode("utf-8")},'
            f'"kind":{_encode_str(self.kind)},"location":{loc},'
            f'"modality":{_encode_str(self.modality)},"raw_sha256":{raw},'
            f'"sensor_id":{_encode_str(self.sensor_id)},"time":"{format_utc(self.time)}",'
            f'"time_end":{end},"time_sigma_s":{_number(sigma)}}}'
        )
        return text.encode("utf-8")

    @property
    def id(self) -> str:
        """Content-addressed id: hex SHA-256 of :meth:`canonical`."""
        return sha256_hex(self.canonical())

    @property
    def centre(self) -> tuple[float, float]:
        """Representative ``(lon, lat)`` of the location, degrees."""
        return self.location.centre

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        """Rebuild from :meth:`to_dict` output, naming the field at fault."""
        try:
            time = parse_utc(str(data["time"]))
        except KeyError:
            raise RecordError("missing", field="time") from None
        except ValueError as exc:
            raise RecordError(str(exc), field="time") from None
        end_raw = data.get("time_end")
        try:
            time_end = None if end_raw in (None, "") else parse_utc(str(end_raw))
        except ValueError as exc:
            raise RecordError(str(exc), field="time_end") from None
        location = data.get("location")
        if not isinstance(location, Mapping):
            raise RecordError("missing or not an object", field="location")
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise RecordError("must be an object", field="attributes")
        try:
            sigma = float(data.get("time_sigma_s") or 0.0)
        except (TypeError, ValueError):
            raise RecordError("expected a number", field="time_sigma_s") from None
        return cls(
            sensor_id=str(data.get("sensor_id") or ""),
            modality=str(data.get("modality") or ""),
            kind=str(data.get("kind") or ""),
            time=time,
            time_sigma_s=sigma,
            time_end=time_end,
            location=location_from_dict(location),
            attributes=dict(attributes),
            raw_sha256=data.get("raw_sha256"),
        )
