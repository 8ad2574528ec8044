"""Ground detections as CSV (format ``detections-csv``, see ``docs/ground-formats.md``).

What low-bandwidth field sensors send: one row per detection, header required.
Columns ``station, time, lon, lat`` are required; ``time_sigma_s, elevation_m,
back_azimuth_deg, back_azimuth_sigma_deg, trace_velocity_mps, kind, confidence,
amplitude_pa, snr, dominant_frequency_hz, f_stat, modality, max_range_m, label``
are optional. Column names are matched case-insensitively and any other column
is refused, so a misspelling is caught rather than ignored.

Each row becomes an :class:`~truceline.model.Observation` of its ``modality``
(default ``acoustic``) and ``kind`` (default ``other``, any of
:data:`~truceline.model.vocab.ACTIVITY_KINDS`) whose location is a
:class:`~truceline.model.BearingLocation` at the station when a back azimuth is
given (normalised to [0, 360)) and a :class:`~truceline.model.StationLocation`
otherwise. Empty cells take the modality's defaults
(:data:`truceline.ingest._ground_common.GROUND_DEFAULTS`): back-azimuth sigma
5° acoustic, 2° infrasound, 10° seismic; time sigma 0.1 s acoustic and seismic,
1 s infrasound; largest range 30 km acoustic, 1000 km infrasound, 100 km seismic.

The adapter also yields one :class:`~truceline.model.Sensor` per station, before
the station's first detection, placed where its rows say; one station at two
positions (or elevations, or modalities) in one file is refused at the line
that disagrees. ``raw_sha256`` hashes the raw line without its terminator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from truceline.ingest._csvtext import Columns, data_rows, probe_header, read_known_header
from truceline.ingest._ground_common import (
    DEFAULT_CLOCK_SIGMA_S,
    defaults_for,
    normalise_azimuth,
)
from truceline.ingest._values import check_lon_lat, remap_field, text_number, utc_time
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.location import BearingLocation, Location, StationLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["DetectionsCSVAdapter"]

_REQUIRED = ("station", "time", "lon", "lat")
_OPTIONAL = (
    "time_sigma_s",
    "elevation_m",
    "back_azimuth_deg",
    "back_azimuth_sigma_deg",
    "trace_velocity_mps",
    "kind",
    "confidence",
    "amplitude_pa",
    "snr",
    "dominant_frequency_hz",
    "f_stat",
    "modality",
    "max_range_m",
    "label",
)
_KNOWN = frozenset((*_REQUIRED, *_OPTIONAL))
#: Numeric attribute columns and the smallest value each allows (``>`` when strict).
_NUMERIC_ATTRIBUTES = (
    ("confidence", 0.0, False),
    ("trace_velocity_mps", 0.0, True),
    ("amplitude_pa", 0.0, False),
    ("snr", 0.0, False),
    ("dominant_frequency_hz", 0.0, True),
    ("f_stat", 0.0, False),
)
_MODEL_FIELDS = {
    "sensor_id": "station",
    "location.station.lat": "lat",
    "location.station.lon": "lon",
    "location.azimuth_deg": "back_azimuth_deg",
    "location.azimuth_sigma_deg": "back_azimuth_sigma_deg",
    "location.max_range_m": "max_range_m",
}


@dataclass(frozen=True, slots=True)
class _Station:
    """Where and what a station is, as its first row said."""

    lon: float
    lat: float
    elevation_m: float | None
    modality: str


class DetectionsCSVAdapter(IngestAdapter):
    """Reader of ground-sensor detection CSVs."""

    name: ClassVar[str] = "detections-csv"
    description: ClassVar[str] = "ground sensor detections CSV (station,time,lon,lat,...)"

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether the header line names ``station``, ``time``, ``lon`` and ``lat``."""
        return probe_header(head) >= set(_REQUIRED)

    def read(self, path: Path) -> Iterator[Record]:
        """Yield a :class:`Sensor` per station and an :class:`Observation` per row.

        Raises
        ------
        truceline.model.RecordError
            Naming the file, the 1-based line and the column.
        """
        file = str(path)
        with path.open("rb") as handle:
            columns = read_known_header(handle, file, _KNOWN, _REQUIRED, "detections CSV")
            known = frozenset(self.context.sensors) if self.context is not None else frozenset()
            yield from _rows(handle, columns, file, known)


def _rows(
    handle: BinaryIO, columns: Columns, file: str, known_sensors: frozenset[str]
) -> Iterator[Record]:
    """Rows as observations, with a minimal sensor description per new station.

    A station already described by ingested metadata (a station CSV or
    StationXML, richer than what a detection row says) gets no new description,
    so the result does not depend on which file was ingested first.
    """
    stations: dict[str, _Station] = {}
    for line_no, raw, fields in data_rows(handle, columns, file):
        try:
            observation, station = _row(fields, columns, hashlib.sha256(raw).hexdigest())
            known = stations.get(observation.sensor_id)
            if known is None:
                stations[observation.sensor_id] = station
                if observation.sensor_id not in known_sensors:
                    yield _sensor(observation.sensor_id, station)
            else:
                _check_same_station(known, station)
            yield observation
        except RecordError as exc:
            named = remap_field(exc, _MODEL_FIELDS, None)
            field = columns.field(named.field) if named.field else None
            raise RecordError(named.message, file=file, record=line_no, field=field) from None


def _sensor(station_id: str, station: _Station) -> Sensor:
    return Sensor(
        id=station_id,
        modality=station.modality,
        lon=station.lon,
        lat=station.lat,
        timing_sigma_s=DEFAULT_CLOCK_SIGMA_S,
        detection_range_m=defaults_for(station.modality, "modality").max_range_m,
        elevation_m=station.elevation_m,
    )


def _check_same_station(known: _Station, row: _Station) -> None:
    """Refuse a station that moves, changes elevation or modality within one file."""
    for key in ("lon", "lat", "elevation_m", "modality"):
        first, now = getattr(known, key), getattr(row, key)
        if first != now:
            raise RecordError(
                f"this station was at {key} = {first!r} on an earlier line, here {now!r}",
                field=key,
            )


def _row(fields: list[str], columns: Columns, raw_sha256: str) -> tuple[Observation, _Station]:
    def cell(key: str) -> str:
        position = columns.pos(key)
        return fields[position] if position >= 0 else ""

    def number(key: str) -> float | None:
        text = cell(key)
        return text_number(text, key) if text else None

    modality = cell("modality") or "acoustic"
    defaults = defaults_for(modality, "modality")
    lon = text_number(cell("lon"), "lon")
    lat = text_number(cell("lat"), "lat")
    check_lon_lat(lon, lat, "lon", "lat")
    time_sigma_s = number("time_sigma_s")
    if time_sigma_s is not None and time_sigma_s < 0:
        raise RecordError("must be non-negative (seconds)", field="time_sigma_s")
    max_range_m = number("max_range_m")
    if max_range_m is not None and max_range_m <= 0:
        raise RecordError("must be positive (metres)", field="max_range_m")
    location = _location(
        lon, lat, number, defaults.azimuth_sigma_deg, max_range_m or defaults.max_range_m
    )
    attributes: dict[str, Any] = {}
    for key, lowest, strict in _NUMERIC_ATTRIBUTES:
        value = number(key)
        if value is None:
            continue
        if value < lowest or (strict and value == lowest):
            relation = "positive" if strict else "non-negative"
            raise RecordError(f"must be {relation}, got {value}", field=key)
        if key == "confidence" and value > 1.0:
            raise RecordError(f"a probability must be in [0, 1], got {value}", field=key)
        attributes[key] = value
    if cell("label"):
        attributes["label"] = cell("label")
    observation = Observation(
        sensor_id=cell("station"),
        modality=modality,
        kind=cell("kind") or "other",
        time=utc_time(cell("time"), "time"),
        location=location,
        time_sigma_s=defaults.time_sigma_s if time_sigma_s is None else time_sigma_s,
        attributes=attributes,
        raw_sha256=raw_sha256,
    )
    return observation, _Station(lon, lat, number("elevation_m"), modality)


def _location(
    lon: float,
    lat: float,
    number: Callable[[str], float | None],
    default_sigma_deg: float,
    max_range_m: float,
) -> Location:
    azimuth = number("back_azimuth_deg")
    sigma = number("back_azimuth_sigma_deg")
    if azimuth is None:
        if sigma is not None:
            raise RecordError(
                "a back-azimuth sigma needs back_azimuth_deg", field="back_azimuth_sigma_deg"
            )
        return StationLocation(lon, lat, max_range_m)
    if sigma is not None and sigma <= 0:
        raise RecordError("must be positive (degrees)", field="back_azimuth_sigma_deg")
    return BearingLocation(
        lon,
        lat,
        normalise_azimuth(azimuth),
        default_sigma_deg if sigma is None else sigma,
        max_range_m,
    )
