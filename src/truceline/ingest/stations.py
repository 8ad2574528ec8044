"""Ground station metadata: StationXML (``stationxml``) and station CSV (``stations-csv``).

Both yield one :class:`~truceline.model.Sensor` per station (see
``docs/ground-formats.md``).

**StationXML** is read with ObsPy's ``read_inventory``; how channels become
sensors (ids, modality from the SEED channel code, arrays from numbered station
codes) is described in :mod:`truceline.ingest._ground_stationxml`. The probe
looks for the ``FDSNStationXML`` root element.

**Station CSV** has a header naming ``station, lon, lat, sensor_type`` and
optionally ``elevation_m, array, timing_sigma_s, detection_range_m,
reliability``; column names are matched case-insensitively and any other column
is refused. ``station`` is the sensor id as written (the same id a detections
CSV names); ``sensor_type`` is ``acoustic``, ``infrasound`` or ``seismic`` (also
accepted: ``microphone``, ``microbarometer``, ``seismometer``, ``geophone``,
``accelerometer``). Empty cells: no elevation, no array, clock accuracy
0.01 s, no detection range, reliability 0.5. A station listed twice is refused
at its second line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar, Final

from truceline.ingest._csvtext import Columns, data_rows, probe_header, read_known_header
from truceline.ingest._ground_common import DEFAULT_CLOCK_SIGMA_S
from truceline.ingest._ground_stationxml import inventory_sensors
from truceline.ingest._values import check_lon_lat, text_number
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.sensor import Sensor

__all__ = ["SENSOR_TYPES", "StationCSVAdapter", "StationXMLAdapter"]

_ROOT: Final = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?FDSNStationXML[\s>/]")
_REQUIRED: Final = ("station", "lon", "lat", "sensor_type")
_OPTIONAL: Final = ("elevation_m", "array", "timing_sigma_s", "detection_range_m", "reliability")
_KNOWN: Final = frozenset((*_REQUIRED, *_OPTIONAL))

#: ``sensor_type`` values -> modality.
SENSOR_TYPES: Final = {
    "acoustic": "acoustic",
    "microphone": "acoustic",
    "infrasound": "infrasound",
    "microbarometer": "infrasound",
    "seismic": "seismic",
    "seismometer": "seismic",
    "geophone": "seismic",
    "accelerometer": "seismic",
}


class StationXMLAdapter(IngestAdapter):
    """Reader of FDSN StationXML inventories."""

    name: ClassVar[str] = "stationxml"
    description: ClassVar[str] = "FDSN StationXML station metadata (via ObsPy)"

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether ``head`` opens an ``FDSNStationXML`` root element."""
        return bool(_ROOT.search(head))

    def read(self, path: Path) -> Iterator[Record]:
        """Yield one :class:`Sensor` per station, location and modality.

        Raises
        ------
        truceline.model.RecordError
            When ObsPy cannot read the file, or a station's channels disagree on
            its position (record ``NET.STA``, field ``Latitude``...).
        """
        yield from inventory_sensors(path)


class StationCSVAdapter(IngestAdapter):
    """Reader of station metadata CSVs."""

    name: ClassVar[str] = "stations-csv"
    description: ClassVar[str] = "ground station metadata CSV (station,lon,lat,sensor_type,...)"

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether the header names ``station, lon, lat, sensor_type`` and no ``time``."""
        names = probe_header(head)
        return names >= set(_REQUIRED) and "time" not in names

    def read(self, path: Path) -> Iterator[Record]:
        """Yield one :class:`Sensor` per data line (blank lines are skipped).

        Raises
        ------
        truceline.model.RecordError
            Naming the file, the 1-based line and the column.
        """
        file = str(path)
        with path.open("rb") as handle:
            columns = read_known_header(handle, file, _KNOWN, _REQUIRED, "station CSV")
            yield from _rows(handle, columns, file)


def _rows(handle: BinaryIO, columns: Columns, file: str) -> Iterator[Sensor]:
    seen: dict[str, int] = {}
    for line_no, _, fields in data_rows(handle, columns, file):
        try:
            sensor = _sensor(fields, columns)
            if sensor.id in seen:
                raise RecordError(
                    f"station {sensor.id!r} is already listed on line {seen[sensor.id]}",
                    field="station",
                )
        except RecordError as exc:
            field = columns.field(exc.field) if exc.field else None
            raise RecordError(exc.message, file=file, record=line_no, field=field) from None
        seen[sensor.id] = line_no
        yield sensor


def _sensor(fields: list[str], columns: Columns) -> Sensor:
    def cell(key: str) -> str:
        position = columns.pos(key)
        return fields[position] if position >= 0 else ""

    def number(key: str) -> float | None:
        text = cell(key)
        return text_number(text, key) if text else None

    station = cell("station")
    if not station:
        raise RecordError("station id is empty", field="station")
    kind = cell("sensor_type").lower()
    if kind not in SENSOR_TYPES:
        raise RecordError(
            f"unknown sensor type {cell('sensor_type')!r}; expected one of {sorted(SENSOR_TYPES)}",
            field="sensor_type",
        )
    lon = text_number(cell("lon"), "lon")
    lat = text_number(cell("lat"), "lat")
    check_lon_lat(lon, lat, "lon", "lat")
    timing = number("timing_sigma_s")
    if timing is not None and timing < 0:
        raise RecordError("must be non-negative (seconds)", field="timing_sigma_s")
    detection_range = number("detection_range_m")
    if detection_range is not None and detection_range <= 0:
        raise RecordError("must be positive (metres)", field="detection_range_m")
    reliability = number("reliability")
    if reliability is not None and not 0.0 < reliability < 1.0:
        raise RecordError("must be in (0, 1)", field="reliability")
    return Sensor(
        id=station,
        modality=SENSOR_TYPES[kind],
        lon=lon,
        lat=lat,
        timing_sigma_s=DEFAULT_CLOCK_SIGMA_S if timing is None else timing,
        detection_range_m=detection_range,
        reliability=0.5 if reliability is None else reliability,
        elevation_m=number("elevation_m"),
        array=cell("array") or None,
    )
