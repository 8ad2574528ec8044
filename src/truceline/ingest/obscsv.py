"""Generic observations as CSV (format ``obs-csv``, see ``docs/observation-formats.md``).

Header row required. Columns ``sensor_id, modality, kind, time, time_sigma_s, lon,
lat`` and location uncertainty as ``sigma_m`` (isotropic, metres) or
``cov_ee, cov_en, cov_nn`` (m², east/north) or, for a direction from a station at
``lon, lat``, ``azimuth_deg, azimuth_sigma_deg, max_range_m``. A file may carry
several of these groups; each row must fill exactly one. Optional ``time_end``;
``attr_NAME`` columns become ``attributes.NAME`` (integers and finite decimals
are parsed as numbers, empty cells are left out). Column names are matched
case-insensitively; any other column is refused, so a misspelling is caught
rather than ignored. Cells are stripped of surrounding whitespace. An empty
``time_sigma_s`` means 0 s.

``raw_sha256`` hashes the raw line bytes without the line terminator; errors name
the file, the 1-based line and the column.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from truceline.ingest._csvtext import (
    Columns,
    data_rows,
    probe_header,
    read_header,
)
from truceline.ingest._values import (
    check_covariance,
    check_lon_lat,
    remap_field,
    text_number,
    utc_time,
)
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.location import BearingLocation, Location, PointLocation
from truceline.model.observation import Observation

__all__ = ["ObservationCSVAdapter"]

_REQUIRED = ("sensor_id", "modality", "kind", "time", "time_sigma_s", "lon", "lat")
_COVARIANCE = ("cov_ee", "cov_en", "cov_nn")
_BEARING = ("azimuth_deg", "azimuth_sigma_deg", "max_range_m")
_GROUPS = (("sigma_m",), _COVARIANCE, _BEARING)
_KNOWN = frozenset((*_REQUIRED, "time_end", "sigma_m", *_COVARIANCE, *_BEARING))
_ATTR_PREFIX = "attr_"
#: The probe's signature: a header naming all of these.
_SIGNATURE = frozenset(("sensor_id", "modality", "kind", "time", "lon", "lat"))
_MODEL_FIELDS = {
    "location.lat": "lat",
    "location.lon": "lon",
    "location.station.lat": "lat",
    "location.station.lon": "lon",
    "location.cov_m2": "cov_ee",
    "location.azimuth_deg": "azimuth_deg",
    "location.azimuth_sigma_deg": "azimuth_sigma_deg",
}


def attribute_value(text: str) -> int | float | str:
    """An ``attr_`` cell as a JSON value: integer, finite decimal, or the text itself.

    Digit-group underscores (``1_000``) and non-ASCII digits are kept as text, and
    so are ``nan``/``inf``, which have no JSON form.
    """
    if not text.isascii() or "_" in text:
        return text
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


class _Layout:
    """Validated header of one file."""

    def __init__(self, columns: Columns, file: str) -> None:
        self.columns = columns
        unknown = [
            name
            for name in columns.names
            if name.lower() not in _KNOWN and not name.lower().startswith(_ATTR_PREFIX)
        ]
        if unknown:
            raise RecordError(
                "unknown column (attributes go in attr_NAME columns)",
                file=file,
                record=1,
                field=unknown[0],
            )
        columns.require(_REQUIRED, file, "generic observation CSV")
        self.groups: list[tuple[str, ...]] = []
        for group in _GROUPS:
            present = [key for key in group if key in columns.index]
            if present and len(present) < len(group):
                missing = next(key for key in group if key not in columns.index)
                raise RecordError(
                    f"column {missing!r} is needed with {', '.join(present)}",
                    file=file,
                    record=1,
                    field=missing,
                )
            if present:
                self.groups.append(group)
        if not self.groups:
            raise RecordError(
                "location uncertainty needs sigma_m, or cov_ee,cov_en,cov_nn, "
                "or azimuth_deg,azimuth_sigma_deg,max_range_m",
                file=file,
                record=1,
                field="sigma_m",
            )
        self.attributes: list[tuple[str, int]] = []
        for position, name in enumerate(columns.names):
            if name.lower().startswith(_ATTR_PREFIX):
                attribute = name[len(_ATTR_PREFIX) :]
                if not attribute:
                    raise RecordError("attribute column without a name", file=file, record=1)
                self.attributes.append((attribute, position))


class ObservationCSVAdapter(IngestAdapter):
    """Reader of truceline's generic observation CSV."""

    name: ClassVar[str] = "obs-csv"
    description: ClassVar[str] = (
        "generic observation CSV (sensor_id,modality,kind,time,time_sigma_s,lon,lat,...)"
    )

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether the header line names the generic CSV's key columns."""
        return probe_header(head) >= _SIGNATURE

    def read(self, path: Path) -> Iterator[Record]:
        """Yield one :class:`Observation` per data line (blank lines are skipped).

        Raises
        ------
        truceline.model.RecordError
            Naming the file, the 1-based line and the column.
        """
        file = str(path)
        with path.open("rb") as handle:
            layout = _Layout(Columns.from_names(read_header(handle, file)), file)
            yield from _rows(handle, layout, file)


def _rows(handle: BinaryIO, layout: _Layout, file: str) -> Iterator[Observation]:
    columns = layout.columns
    for line_no, raw, fields in data_rows(handle, columns, file):
        try:
            yield _observation(fields, layout, hashlib.sha256(raw).hexdigest())
        except RecordError as exc:
            named = remap_field(exc, _MODEL_FIELDS, None)
            field = columns.field(named.field) if named.field else None
            raise RecordError(named.message, file=file, record=line_no, field=field) from None


def _observation(fields: list[str], layout: _Layout, raw_sha256: str) -> Observation:
    def cell(key: str) -> str:
        position = layout.columns.pos(key)
        return fields[position] if position >= 0 else ""

    time = utc_time(cell("time"), "time")
    end_text = cell("time_end")
    time_end = utc_time(end_text, "time_end") if end_text else None
    if time_end is not None and time_end < time:
        raise RecordError("interval ends before it starts", field="time_end")
    sigma_text = cell("time_sigma_s")
    time_sigma_s = text_number(sigma_text, "time_sigma_s") if sigma_text else 0.0
    if time_sigma_s < 0:
        raise RecordError("must be non-negative (seconds)", field="time_sigma_s")
    attributes: dict[str, Any] = {}
    for name, position in layout.attributes:
        if fields[position]:
            attributes[name] = attribute_value(fields[position])
    return Observation(
        sensor_id=cell("sensor_id"),
        modality=cell("modality"),
        kind=cell("kind"),
        time=time,
        location=_location(cell, layout),
        time_sigma_s=time_sigma_s,
        time_end=time_end,
        attributes=attributes,
        raw_sha256=raw_sha256,
    )


def _location(cell: Callable[[str], str], layout: _Layout) -> Location:
    lon = text_number(cell("lon"), "lon")
    lat = text_number(cell("lat"), "lat")
    check_lon_lat(lon, lat, "lon", "lat")
    filled = [group for group in layout.groups if cell(group[0])]
    if len(filled) != 1:
        fields = [group[0] for group in filled] or [layout.groups[0][0]]
        raise RecordError(
            "fill exactly one of sigma_m, cov_ee..cov_nn or azimuth_deg..max_range_m"
            + (f" (got {', '.join(fields)})" if filled else ""),
            field=fields[-1],
        )
    group = filled[0]
    values = [text_number(cell(key), key) for key in group]
    if group == _BEARING:
        azimuth, sigma, max_range = values
        if sigma <= 0:
            raise RecordError("must be positive (degrees)", field="azimuth_sigma_deg")
        if max_range <= 0:
            raise RecordError("must be positive (metres)", field="max_range_m")
        # Angles wrap: -10° and 350° are the same direction.
        return BearingLocation(lon, lat, azimuth % 360.0, sigma, max_range)
    if group == _COVARIANCE:
        cov_ee, cov_en, cov_nn = values
        check_covariance(cov_ee, cov_en, cov_nn, "cov_ee")
        return PointLocation(lon, lat, cov_ee, cov_en, cov_nn)
    if values[0] < 0:
        raise RecordError("must be non-negative (metres)", field="sigma_m")
    return PointLocation(lon, lat, values[0] ** 2, 0.0, values[0] ** 2)
