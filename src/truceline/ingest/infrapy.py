"""InfraPy infrasound array detections (format ``infrapy``).

Two shapes, as LANL's InfraPy and its demonstration data write them:

* ``.dets.json``: a JSON list of detection objects with ``"Time (UTC)"`` (older
  files: ``"Peak F-Stat Time (UTC)"``), ``"Back Azimuth"``, ``"Latitude"``,
  ``"Longitude"``, ``"F Stat."`` (``"F Statistic"``), ``"Trace Vel. (m/s)"``
  (``"Trace Velocity (m/s)"``), ``"Array Dim."`` (``"Array Dimension"``),
  ``"Elevation (m)"`` (``"Elevation"``) and the optional ``"Name"``,
  ``"Start"``, ``"End"``, ``"Freq Range"``, ``"Method"``, ``"Event"``,
  ``"Note"``, ``"Network"``, ``"Station"``. Any other key is refused.
* the whitespace table of ``association-demo-set1.dat``: ``#`` starts a comment
  line; each data line holds ``lat lon time back_az f_stat array_dim``.

Interpretation (documented choices):

* **Time** is the time of the beam's peak F statistic. InfraPy defines its times
  as UTC and writes them without an offset, so here (and only here) a naive time
  means UTC; a stated offset is honoured. Its standard deviation is taken as
  :data:`TIME_SIGMA_S` (half a typical 10 s beamforming window).
* **Kind** is ``explosion``: InfraPy detections are of impulsive sources, and
  the real sets these files come from are detonations.
* **Back azimuth** is normalised to [0, 360) (InfraPy writes [-180, 180]); its
  standard deviation follows InfraPy's own likelihood model
  (``infrapy.propagation.likelihoods.InfrasoundDetection``): the beam's half
  width at half maximum ``w = arccos(1 - ln 2 / (2 (N - 1) F))`` for ``N``
  array elements and peak F statistic ``F``, clipped to [4°, 12°], is widened by
  4° for propagation (crosswinds deflect regional arrivals), and the von Mises
  half width ``w + 4°`` is read as a Gaussian's, ``sigma = (w + 4°) / sqrt(2 ln 2)``
  (6.8° to 13.6°). Without ``F`` or ``N`` the widest beam is assumed. A null
  back azimuth gives a :class:`~truceline.model.StationLocation` (time only).
* **Range**: up to :data:`MAX_RANGE_M` (stratospheric ducting).
* **Sensor**: one per array, id ``infrasound:NET.STA`` when the detection names
  its ``Network`` and ``Station``, else ``infrasound:<lat>,<lon>`` from the array
  position rounded to 3 decimals (~100 m, well inside an array's aperture).
  InfraPy's ``"Name"`` names the detection, not the array, so it becomes the
  ``name`` attribute.

Attributes: ``f_stat``, ``trace_velocity_mps``, ``array_dim`` and, when given,
``name``, ``event``, ``note``, ``method``, ``frequency_range_hz``,
``signal_start_s``, ``signal_end_s`` (seconds relative to the peak). JSON records
hash their canonical JSON; table records hash their raw line.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Final

from truceline.ingest._ground_common import DEFAULT_CLOCK_SIGMA_S, naive_utc, normalise_azimuth
from truceline.ingest._values import check_lon_lat, json_number, text_number
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.ids import canonical_json, sha256_hex
from truceline.model.location import BearingLocation, Location, StationLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["MAX_RANGE_M", "TIME_SIGMA_S", "InfraPyAdapter", "azimuth_sigma_deg"]

#: Largest plausible source range of a regional infrasound detection, metres.
MAX_RANGE_M: Final = 1_500_000.0
#: Standard deviation of a peak-F-statistic time, seconds.
TIME_SIGMA_S: Final = 5.0

_MIN_WIDTH_DEG: Final = 4.0
_MAX_WIDTH_DEG: Final = 12.0
_PROPAGATION_WIDTH_DEG: Final = 4.0
_HWHM_PER_SIGMA: Final = math.sqrt(2.0 * math.log(2.0))

#: Canonical key -> spellings InfraPy has used (current first).
_ALIASES: Final = {
    "time": ("Time (UTC)", "Peak F-Stat Time (UTC)"),
    "f_stat": ("F Stat.", "F Statistic"),
    "trace_velocity": ("Trace Vel. (m/s)", "Trace Velocity (m/s)"),
    "elevation": ("Elevation (m)", "Elevation"),
    "array_dim": ("Array Dim.", "Array Dimension"),
}
_PLAIN_KEYS: Final = frozenset(
    {"Name", "Back Azimuth", "Latitude", "Longitude", "Start", "End", "Freq Range"}
    | {"Method", "Event", "Note", "Network", "Station"}
)
_KNOWN_KEYS: Final = _PLAIN_KEYS | {key for keys in _ALIASES.values() for key in keys}
_TEXT_ATTRIBUTES: Final = (("Name", "name"), ("Event", "event"), ("Note", "note"))
_TABLE_FIELDS: Final = ("lat", "lon", "time", "back_az", "f_stat", "array_dim")
_NUMBER: Final = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TABLE_LINE: Final = re.compile(
    rf"^\s*{_NUMBER}\s+{_NUMBER}\s+\d{{4}}-\d\d-\d\dT[\d:.]+\S*\s+{_NUMBER}\s+{_NUMBER}\s+\d+\s*$"
)


def azimuth_sigma_deg(f_stat: float | None, array_dim: int | None) -> float:
    """Back-azimuth standard deviation of an InfraPy detection, degrees.

    Parameters
    ----------
    f_stat
        Peak Fisher F statistic of the beam (dimensionless), or ``None``.
    array_dim
        Number of array elements, or ``None``.

    Returns
    -------
    float
        ``(w + 4°) / sqrt(2 ln 2)`` with ``w`` the beam half width at half
        maximum from ``kappa = 2 (N - 1) F``, clipped to [4°, 12°] (see the
        module docstring).
    """
    width = _MAX_WIDTH_DEG
    if f_stat is not None and array_dim is not None:
        kappa = 2.0 * (array_dim - 1) * f_stat
        if kappa > 0.0:
            cosine = max(-1.0, 1.0 - math.log(2.0) / kappa)
            width = min(max(math.degrees(math.acos(cosine)), _MIN_WIDTH_DEG), _MAX_WIDTH_DEG)
    return (width + _PROPAGATION_WIDTH_DEG) / _HWHM_PER_SIGMA


class InfraPyAdapter(IngestAdapter):
    """Reader of InfraPy detection files (``.dets.json`` and the demo table)."""

    name: ClassVar[str] = "infrapy"
    description: ClassVar[str] = (
        "InfraPy infrasound detections (.dets.json, or lat lon time back_az f_stat array_dim)"
    )

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether ``head`` is a JSON list of InfraPy detections or the demo table."""
        stripped = head.lstrip()
        if stripped.startswith(b"["):
            return b'"Back Azimuth"' in head and b'Time (UTC)"' in head
        for raw in head.splitlines()[:50]:
            line = raw.decode("utf-8", errors="replace").strip()
            if line and not line.startswith("#"):
                return bool(_TABLE_LINE.match(line))
        return False

    def read(self, path: Path) -> Iterator[Record]:
        """Yield a :class:`Sensor` per array and an :class:`Observation` per detection.

        Raises
        ------
        truceline.model.RecordError
            Naming the file, the record (``detections[i]`` for JSON, the 1-based
            line for the table) and the field (the JSON key or table column).
        """
        file = str(path)
        data = path.read_bytes()
        if not data.strip():
            raise RecordError("empty file: no detections", file=file)
        rows = _json_rows(data, file) if data.lstrip().startswith(b"[") else _table_rows(data, file)
        sensors: set[str] = set()
        for record, detection in rows:
            try:
                sensor, observation = _records(detection)
            except RecordError as exc:
                raise exc.located(file=file, record=record) from None
            if sensor.id not in sensors:
                sensors.add(sensor.id)
                yield sensor
            yield observation


class _Detection:
    """One detection's values, whichever shape it came in.

    Attributes hold SI units: degrees, seconds, m/s; ``fields`` names each value's
    key in the file so errors point at it.
    """

    def __init__(self, raw_sha256: str, fields: Mapping[str, str]) -> None:
        self.raw_sha256 = raw_sha256
        self.fields = fields
        self.lat = 0.0
        self.lon = 0.0
        self.time_text = ""
        self.back_azimuth: float | None = None
        self.f_stat: float | None = None
        self.array_dim: int | None = None
        self.trace_velocity: float | None = None
        self.elevation: float | None = None
        self.network = ""
        self.station = ""
        self.attributes: dict[str, Any] = {}


def _records(det: _Detection) -> tuple[Sensor, Observation]:
    names = det.fields
    check_lon_lat(det.lon, det.lat, names["lon"], names["lat"])
    if det.f_stat is not None and det.f_stat < 0:
        raise RecordError("an F statistic is non-negative", field=names["f_stat"])
    if det.array_dim is not None and det.array_dim < 2:
        raise RecordError("an array has at least 2 elements", field=names["array_dim"])
    if det.trace_velocity is not None and det.trace_velocity <= 0:
        raise RecordError("must be positive (m/s)", field=names["trace_velocity"])
    if det.network and det.station:
        sensor_id = f"infrasound:{det.network}.{det.station}"
    else:
        sensor_id = f"infrasound:{det.lat:.3f},{det.lon:.3f}"
    location: Location
    if det.back_azimuth is None:
        location = StationLocation(det.lon, det.lat, MAX_RANGE_M)
    else:
        sigma = azimuth_sigma_deg(det.f_stat, det.array_dim)
        azimuth = normalise_azimuth(det.back_azimuth)
        location = BearingLocation(det.lon, det.lat, azimuth, sigma, MAX_RANGE_M)
    attributes: dict[str, Any] = {
        "f_stat": det.f_stat,
        "trace_velocity_mps": det.trace_velocity,
        "array_dim": det.array_dim,
        **det.attributes,
    }
    observation = Observation(
        sensor_id=sensor_id,
        modality="infrasound",
        kind="explosion",
        time=naive_utc(det.time_text, names["time"]),
        location=location,
        time_sigma_s=TIME_SIGMA_S,
        attributes={key: value for key, value in attributes.items() if value is not None},
        raw_sha256=det.raw_sha256,
    )
    sensor = Sensor(
        id=sensor_id,
        modality="infrasound",
        lon=det.lon,
        lat=det.lat,
        timing_sigma_s=DEFAULT_CLOCK_SIGMA_S,
        detection_range_m=MAX_RANGE_M,
        elevation_m=det.elevation,
    )
    return sensor, observation


def _json_rows(data: bytes, file: str) -> Iterator[tuple[str, _Detection]]:
    try:
        document = json.loads(data)
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 text ({exc.reason})", file=file) from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"not JSON: {exc.msg}", file=file, record=exc.lineno) from None
    if not isinstance(document, list):
        raise RecordError("expected a JSON list of detections", file=file)
    for index, item in enumerate(document):
        record = f"detections[{index}]"
        try:
            yield record, _json_detection(item)
        except RecordError as exc:
            raise exc.located(file=file, record=record) from None


def _key(item: Mapping[str, Any], name: str) -> str:
    """The spelling of ``name`` this object uses (the current one when absent)."""
    return next((key for key in _ALIASES[name] if key in item), _ALIASES[name][0])


def _optional(item: Mapping[str, Any], key: str) -> float | None:
    value = item.get(key)
    return None if value is None else json_number(value, key)


def _json_detection(item: Any) -> _Detection:
    if not isinstance(item, Mapping):
        raise RecordError("expected a detection object")
    for key in sorted(item):
        if key not in _KNOWN_KEYS:
            raise RecordError(f"unknown InfraPy key {key!r}", field=str(key))
    keys = {name: _key(item, name) for name in _ALIASES}
    fields = {"lat": "Latitude", "lon": "Longitude", "back_azimuth": "Back Azimuth", **keys}
    det = _Detection(sha256_hex(canonical_json(item)), fields)
    for required in ("Latitude", "Longitude", keys["time"]):
        if item.get(required) is None:
            raise RecordError("missing", field=required)
    det.lat = json_number(item["Latitude"], "Latitude")
    det.lon = json_number(item["Longitude"], "Longitude")
    if not isinstance(item[keys["time"]], str):
        raise RecordError("expected an ISO 8601 time string", field=keys["time"])
    det.time_text = item[keys["time"]]
    det.back_azimuth = _optional(item, "Back Azimuth")
    det.f_stat = _optional(item, keys["f_stat"])
    dim = item.get(keys["array_dim"])
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise RecordError(
            f"expected a whole number of elements, got {dim!r}", field=keys["array_dim"]
        )
    det.array_dim = dim
    det.trace_velocity = _optional(item, keys["trace_velocity"])
    det.elevation = _optional(item, keys["elevation"])
    det.network = _text(item, "Network")
    det.station = _text(item, "Station")
    for key, attribute in _TEXT_ATTRIBUTES:
        if text := _text(item, key):
            det.attributes[attribute] = text
    if method := _text(item, "Method"):
        det.attributes["method"] = method
    for key, attribute in (("Start", "signal_start_s"), ("End", "signal_end_s")):
        value = _optional(item, key)
        if value is not None:
            det.attributes[attribute] = value
    band = item.get("Freq Range")
    if band is not None:
        if not isinstance(band, list) or len(band) != 2:
            raise RecordError("expected [f_min, f_max] in Hz", field="Freq Range")
        det.attributes["frequency_range_hz"] = [
            json_number(value, f"Freq Range[{i}]") for i, value in enumerate(band)
        ]
    return det


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"expected a string, got {value!r}", field=key)
    return value.strip()


def _table_rows(data: bytes, file: str) -> Iterator[tuple[int, _Detection]]:
    fields = {name: name for name in _TABLE_FIELDS}
    fields |= {"back_azimuth": "back_az", "trace_velocity": "trace_velocity"}
    for line_no, raw_line in enumerate(data.splitlines(), start=1):
        raw = raw_line.rstrip(b"\r")
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise RecordError(f"not UTF-8 text ({exc.reason})", file=file, record=line_no) from None
        if not text or text.startswith("#"):
            continue
        tokens = text.split()
        if len(tokens) != len(_TABLE_FIELDS):
            field = _TABLE_FIELDS[len(tokens)] if len(tokens) < len(_TABLE_FIELDS) else None
            raise RecordError(
                f"{len(tokens)} columns; expected {' '.join(_TABLE_FIELDS)}",
                file=file,
                record=line_no,
                field=field,
            )
        try:
            yield line_no, _table_detection(tokens, sha256_hex(raw), fields)
        except RecordError as exc:
            raise exc.located(file=file, record=line_no) from None


def _table_detection(tokens: list[str], raw_sha256: str, fields: dict[str, str]) -> _Detection:
    lat, lon, time, back_az, f_stat, array_dim = tokens
    det = _Detection(raw_sha256, fields)
    det.lat = text_number(lat, "lat")
    det.lon = text_number(lon, "lon")
    det.time_text = time
    det.back_azimuth = text_number(back_az, "back_az")
    det.f_stat = text_number(f_stat, "f_stat")
    if not array_dim.isdigit():
        raise RecordError(
            f"expected a whole number of elements, got {array_dim!r}", field="array_dim"
        )
    det.array_dim = int(array_dim)
    return det
