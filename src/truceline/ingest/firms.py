"""NASA FIRMS active-fire CSV: archive ``.txt``, API CSV and the 3-column country export.

Three shapes of the same data are in circulation, and the adapter reads all of them
(see :mod:`truceline.ingest._firms_tables` for the codes and their sources):

``archive``
    The NRT ``.txt`` files (e.g. ``J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025223.txt``):
    every column, ``acq_time`` as ``HH:MM:SS``, VIIRS confidence as words
    (low/nominal/high), satellite as ``N20``/``N21``/``N``, ``A``/``T``.
``api``
    The FIRMS area/country API and archive-download CSVs: the same columns in any
    order, ``acq_time`` as an integer ``HHMM`` (``45``, ``0045``, ``1342``), VIIRS
    confidence as ``l``/``n``/``h``, satellite as ``N``/``1``/``2``/``N20``/``N21``,
    MODIS ``A``/``T`` or ``Aqua``/``Terra``.
``country``
    ``LATITUDE,LONGITUDE,ACQ_DATE`` only. Without a time of day each row becomes
    the interval [date 00:00Z, date+1 day 00:00Z); instrument and satellite are
    ``unknown``.

Each row becomes one ``satellite``/``thermal_anomaly`` :class:`Observation` whose
location is the pixel centre with the covariance of a fire uniformly placed in the
pixel (``scan`` x ``track`` km, or the nominal pixel) plus the geolocation error,
east ~ along scan and north ~ along track (polar orbits run within ~15° of north
at mid-latitudes, so the axes are approximate). A :class:`Sensor` is yielded before
the first observation of each instrument/satellite. ``raw_sha256`` hashes the raw
line bytes without the line terminator.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from truceline.ingest import _firms_tables as tables
from truceline.ingest._csvtext import (
    Columns,
    data_rows,
    probe_header,
    read_header,
)
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.location import PointLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["FirmsAdapter"]

_MODALITY = "satellite"
_KIND = "thermal_anomaly"
_OWNER = "NASA FIRMS (LANCE)"
_COUNTRY_REQUIRED = ("latitude", "longitude", "acq_date")
_FULL_REQUIRED = ("latitude", "longitude", "acq_date", "acq_time", "satellite", "confidence")
#: Columns only the full shapes have; any of them makes the file a full-shape file.
_FULL_MARKERS = frozenset(
    {"acq_time", "satellite", "confidence", "instrument", "scan", "track", "frp", "daynight"}
    | set(tables.HEADER_INSTRUMENT)
)
#: Optional numeric columns -> attribute names (brightness temperatures in kelvin,
#: ``lw`` = the 11-12 µm channel: VIIRS I5, MODIS band 31; FRP in megawatts).
_NUMERIC_ATTRIBUTES = (
    ("brightness", "brightness_k"),
    ("bright_ti4", "brightness_k"),
    ("bright_t31", "brightness_lw_k"),
    ("bright_ti5", "brightness_lw_k"),
    ("frp", "frp_mw"),
)
_TEXT_ATTRIBUTES = (("daynight", "daynight"), ("version", "version"), ("type", "fire_type"))
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Source:
    """What a (satellite, instrument) pair of raw codes resolves to."""

    instrument: str
    satellite: str
    sensor_id: str
    confidence: dict[str, float]


def _sensor(instrument: str, satellite: str) -> Sensor:
    return Sensor(
        id=f"firms:{instrument}:{satellite}",
        modality=_MODALITY,
        owner=_OWNER,
        timing_sigma_s=tables.TIME_SIGMA_S,
        reliability=tables.RELIABILITY[instrument],
    )


def _parse_date(text: str) -> datetime:
    """Midnight UTC of a strict ``YYYY-MM-DD`` date."""
    digits = text[0:4] + text[5:7] + text[8:10]
    if (
        len(text) != 10
        or text[4] != "-"
        or text[7] != "-"
        or not (digits.isascii() and digits.isdigit())
    ):
        raise ValueError(f"expected a date YYYY-MM-DD, got {text!r}")
    return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), tzinfo=UTC)


def _parse_clock(text: str) -> tuple[int, str]:
    """Seconds after midnight and the shape (``archive`` or ``api``) of an ``acq_time``."""
    if ":" in text:
        parts = text.split(":")
        shape = "archive"
        if len(parts) not in (2, 3) or any(len(p) != 2 for p in parts):
            raise ValueError(f"expected HH:MM:SS, got {text!r}")
    else:
        shape = "api"
        if not 1 <= len(text) <= 4:
            raise ValueError(f"expected HHMM (1-4 digits) or HH:MM:SS, got {text!r}")
        padded = text.rjust(4, "0")
        parts = [padded[:2], padded[2:]]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"expected digits in the time, got {text!r}")
    hour, minute, second = (int(p) for p in (*parts, "00")[:3])
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"time {text!r} is out of range")
    return hour * 3600 + minute * 60 + second, shape


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not finite: {text!r}")
    return value


class FirmsAdapter(IngestAdapter):
    """Reader of NASA FIRMS active-fire CSV files in all three shapes."""

    name: ClassVar[str] = "firms"
    description: ClassVar[str] = (
        "NASA FIRMS active fires: archive .txt, API CSV, or LATITUDE,LONGITUDE,ACQ_DATE export"
    )

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether the header line names ``latitude``, ``longitude`` and ``acq_date``."""
        return set(_COUNTRY_REQUIRED) <= probe_header(head)

    def read(self, path: Path) -> Iterator[Record]:
        """Yield a :class:`Sensor` per source seen and one :class:`Observation` per row.

        Raises
        ------
        truceline.model.RecordError
            Naming the file, the 1-based line and the column: missing column (line 1),
            truncated or over-long line, bad number, latitude/longitude out of range,
            bad date or time, unknown satellite or confidence code.
        """
        file = str(path)
        with path.open("rb") as handle:
            columns = Columns.from_names(read_header(handle, file))
            if _FULL_MARKERS.isdisjoint(columns.index):
                columns.require(_COUNTRY_REQUIRED, file, "FIRMS country export")
                yield from _read_country(handle, columns, file)
            else:
                columns.require(_FULL_REQUIRED, file, "FIRMS active-fire CSV")
                yield from _FullReader(columns, file).rows(handle)


def _number_error(
    fields: list[str], positions: list[int], columns: Columns, file: str, line_no: int
) -> RecordError:
    """Find which of ``positions`` failed to parse as a finite number (slow path)."""
    for position in positions:
        try:
            _finite(fields[position])
        except ValueError:
            return RecordError(
                f"expected a number, got {fields[position]!r}",
                file=file,
                record=line_no,
                field=columns.names[position],
            )
    return RecordError("bad number", file=file, record=line_no)  # pragma: no cover


def _check_lat_lon(lat: float, lon: float, columns: Columns, file: str, line_no: int) -> None:
    if not -90.0 <= lat <= 90.0:
        raise RecordError(
            f"latitude {lat} is outside [-90, 90]",
            file=file,
            record=line_no,
            field=columns.field("latitude"),
        )
    if not -180.0 <= lon <= 180.0:
        raise RecordError(
            f"longitude {lon} is outside [-180, 180]",
            file=file,
            record=line_no,
            field=columns.field("longitude"),
        )


def _read_country(handle: BinaryIO, columns: Columns, file: str) -> Iterator[Record]:
    """Rows of the ``LATITUDE,LONGITUDE,ACQ_DATE`` export (the hot path: keep it lean)."""
    i_lat, i_lon, i_date = (columns.pos(key) for key in _COUNTRY_REQUIRED)
    variance = tables.pixel_variance_m2(
        tables.COUNTRY_PIXEL_M, tables.GEOLOCATION_SIGMA_M[tables.UNKNOWN]
    )
    sensor = _sensor(tables.UNKNOWN, tables.UNKNOWN)
    sensor_id = sensor.id
    attributes = {"shape": "country", "instrument": tables.UNKNOWN, "satellite": tables.UNKNOWN}
    days: dict[str, tuple[datetime, datetime]] = {}
    sha256 = hashlib.sha256
    for line_no, raw, fields in data_rows(handle, columns, file, strip=False):
        try:
            lat = float(fields[i_lat])
            lon = float(fields[i_lon])
        except ValueError:
            raise _number_error(fields, [i_lat, i_lon], columns, file, line_no) from None
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            _check_lat_lon(lat, lon, columns, file, line_no)
        day = days.get(fields[i_date])
        if day is None:
            try:
                start = _parse_date(fields[i_date])
            except ValueError as exc:
                raise RecordError(
                    str(exc), file=file, record=line_no, field=columns.names[i_date]
                ) from None
            day = days[fields[i_date]] = (start, start + _ONE_DAY)
            if len(days) == 1:
                yield sensor
        # Positional arguments: this loop runs ~10^5 times per second.
        yield Observation(
            sensor_id,
            _MODALITY,
            _KIND,
            day[0],
            PointLocation(lon, lat, variance, 0.0, variance),
            0.0,
            day[1],
            dict(attributes),
            sha256(raw).hexdigest(),
        )


class _FullReader:
    """State for one full-column file (archive or API shape)."""

    def __init__(self, columns: Columns, file: str) -> None:
        self.columns = columns
        self.file = file
        self.shape: str | None = None
        self.header_instrument = next(
            (inst for key, inst in tables.HEADER_INSTRUMENT.items() if key in columns.index),
            None,
        )
        pos = columns.pos
        self.i_lat, self.i_lon = pos("latitude"), pos("longitude")
        self.i_date, self.i_time = pos("acq_date"), pos("acq_time")
        self.i_sat, self.i_inst = pos("satellite"), pos("instrument")
        self.i_conf = pos("confidence")
        self.i_scan, self.i_track = pos("scan"), pos("track")
        self.numeric = [(attr, pos(key)) for key, attr in _NUMERIC_ATTRIBUTES if pos(key) >= 0]
        self.text = [(attr, pos(key)) for key, attr in _TEXT_ATTRIBUTES if pos(key) >= 0]
        self.times: dict[tuple[str, str], datetime] = {}
        self.sources: dict[tuple[str, str], _Source] = {}
        self.pixels: dict[tuple[str, str, str], tuple[float, float, float, float]] = {}

    def error(self, message: str, line_no: int, key: str) -> RecordError:
        return RecordError(message, file=self.file, record=line_no, field=self.columns.field(key))

    def rows(self, handle: BinaryIO) -> Iterator[Record]:
        """Yield sensors and observations for every data line of ``handle``."""
        columns, file = self.columns, self.file
        sensors_seen: set[str] = set()
        sha256 = hashlib.sha256
        for line_no, raw, fields in data_rows(handle, columns, file, strip=False):
            try:
                lat = float(fields[self.i_lat])
                lon = float(fields[self.i_lon])
            except ValueError:
                positions = [self.i_lat, self.i_lon]
                raise _number_error(fields, positions, columns, file, line_no) from None
            _check_lat_lon(lat, lon, columns, file, line_no)
            time = self.time(fields, line_no)
            source = self.source(fields, line_no)
            if source.sensor_id not in sensors_seen:
                sensors_seen.add(source.sensor_id)
                yield _sensor(source.instrument, source.satellite)
            scan_km, track_km, var_e, var_n = self.pixel(fields, source.instrument, line_no)
            attributes = self.attributes(fields, source, line_no)
            attributes["scan_km"] = scan_km
            attributes["track_km"] = track_km
            yield Observation(
                sensor_id=source.sensor_id,
                modality=_MODALITY,
                kind=_KIND,
                time=time,
                location=PointLocation(lon, lat, var_e, 0.0, var_n),
                time_sigma_s=tables.TIME_SIGMA_S,
                attributes=attributes,
                raw_sha256=sha256(raw).hexdigest(),
            )

    def source(self, fields: list[str], line_no: int) -> _Source:
        """Resolve the satellite (and instrument) codes of a row, cached per file."""
        sat_raw = fields[self.i_sat]
        inst_raw = fields[self.i_inst] if self.i_inst >= 0 else ""
        found = self.sources.get((sat_raw, inst_raw))
        if found is not None:
            return found
        known = tables.SATELLITES.get(sat_raw.strip().upper())
        if known is None:
            codes = ", ".join(sorted(tables.SATELLITES))
            raise self.error(f"unknown satellite {sat_raw!r}; known: {codes}", line_no, "satellite")
        instrument, satellite = known
        if self.i_inst >= 0 and inst_raw.strip().upper() != instrument:
            raise self.error(
                f"instrument {inst_raw!r} does not match satellite {sat_raw!r} ({instrument})",
                line_no,
                "instrument",
            )
        if self.header_instrument not in (None, instrument):
            raise self.error(
                f"satellite {sat_raw!r} is {instrument}, but the columns are "
                f"{self.header_instrument}'s",
                line_no,
                "satellite",
            )
        found = _Source(
            instrument, satellite, f"firms:{instrument}:{satellite}", tables.CONFIDENCE[instrument]
        )
        self.sources[(sat_raw, inst_raw)] = found
        return found

    def time(self, fields: list[str], line_no: int) -> datetime:
        """UTC acquisition time of a row, cached per (date, time) text."""
        key = (fields[self.i_date], fields[self.i_time])
        found = self.times.get(key)
        if found is not None:
            return found
        try:
            day = _parse_date(key[0])
        except ValueError as exc:
            raise self.error(str(exc), line_no, "acq_date") from None
        try:
            seconds, shape = _parse_clock(key[1])
        except ValueError as exc:
            raise self.error(str(exc), line_no, "acq_time") from None
        if self.shape is None:
            self.shape = shape
        elif shape != self.shape:
            expected = "HH:MM:SS" if self.shape == "archive" else "HHMM"
            raise self.error(
                f"{key[1]!r} is not {expected} like the earlier rows of this file",
                line_no,
                "acq_time",
            )
        found = self.times[key] = day + timedelta(seconds=seconds)
        return found

    def pixel(
        self, fields: list[str], instrument: str, line_no: int
    ) -> tuple[float, float, float, float]:
        """``(scan_km, track_km, var_east_m2, var_north_m2)`` of a row, cached."""
        scan_raw = fields[self.i_scan] if self.i_scan >= 0 else ""
        track_raw = fields[self.i_track] if self.i_track >= 0 else ""
        key = (scan_raw, track_raw, instrument)
        found = self.pixels.get(key)
        if found is not None:
            return found
        nominal = tables.NOMINAL_PIXEL_KM[instrument]
        sizes = []
        for raw, column in ((scan_raw, "scan"), (track_raw, "track")):
            if self.columns.pos(column) < 0:
                sizes.append(nominal)
                continue
            try:
                size = _finite(raw)
            except ValueError:
                raise self.error(f"expected a number, got {raw!r}", line_no, column) from None
            if size <= 0:
                raise self.error(f"pixel size {size} km must be positive", line_no, column)
            sizes.append(size)
        geo = tables.GEOLOCATION_SIGMA_M[instrument]
        found = (
            sizes[0],
            sizes[1],
            tables.pixel_variance_m2(sizes[0] * 1000.0, geo),
            tables.pixel_variance_m2(sizes[1] * 1000.0, geo),
        )
        self.pixels[key] = found
        return found

    def attributes(self, fields: list[str], source: _Source, line_no: int) -> dict[str, Any]:
        """Attributes of a row, except the pixel size the caller adds."""
        conf_raw = fields[self.i_conf]
        confidence = source.confidence.get(conf_raw)
        if confidence is None:
            confidence = source.confidence.get(conf_raw.strip().lower())
            if confidence is None:
                expected = (
                    "low/nominal/high or l/n/h"
                    if source.instrument == tables.VIIRS
                    else ("an integer percentage 0-100")
                )
                raise self.error(
                    f"confidence {conf_raw!r} is not {expected}", line_no, "confidence"
                )
        attributes: dict[str, Any] = {
            "shape": self.shape,
            "instrument": source.instrument,
            "satellite": source.satellite,
            "confidence": confidence,
            "confidence_raw": conf_raw,
        }
        try:
            for attr, position in self.numeric:
                attributes[attr] = _finite(fields[position])
        except ValueError:
            positions = [position for _, position in self.numeric]
            raise _number_error(fields, positions, self.columns, self.file, line_no) from None
        for attr, position in self.text:
            attributes[attr] = fields[position]
        return attributes
