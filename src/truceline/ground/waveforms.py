"""Loading and validating ground-sensor waveforms (miniSEED, SAC, WAV + sidecar).

Every file becomes a list of :class:`Waveform` segments, one per channel and
continuous sample grid, with the station position attached. The rules for bad
input (``docs/ground-formats.md``):

* **NaN or infinite samples** -> :class:`~truceline.model.RecordError` naming the
  file, the trace and the sample index; nothing of the file is used.
* **Gaps and overlaps** that keep the sample grid (the next record starts a
  whole number of samples after the previous one's end, give or take a tenth
  of a sample) are merged into one segment with a :class:`GroundDataWarning`;
  missing samples are zero-filled and listed in :attr:`Waveform.gaps` so that
  detection never triggers on a gap edge and beamforming refuses any window
  that touches one. Overlapping samples keep the earlier record's values.
* **Clock jumps** -- a discontinuity that is not a whole number of samples, or
  a record starting before the previous record's start -- cannot be put on one
  sample grid: the trace is split there into separate segments, with a
  :class:`GroundDataWarning`.
* **No station coordinates** (no SAC ``stla``/``stlo``, no sidecar) ->
  :class:`~truceline.model.RecordError`: the arrival would be located nowhere.

Coordinates come from the SAC header (``stla``, ``stlo``, ``stel``) or from a
JSON sidecar ``<file name>.json`` (required for WAV, optional for miniSEED and
SAC, where it overrides the header): ``{"station", "network"?, "channel"?,
"start" (WAV only), "lon", "lat", "elevation_m"?, "sensor_type"?,
"calibration_pa_per_count"?}``.

Array elements and their geometry (:class:`Element`, :func:`array_geometry`...)
live in :mod:`truceline.ground.array_geometry` and are re-exported here.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import obspy
from scipy.io import wavfile

from truceline.ground.array_geometry import ArrayGeometry, Element, array_geometry, elements_of
from truceline.model.errors import RecordError
from truceline.model.ids import sha256_hex
from truceline.model.sensor import Sensor
from truceline.model.timeutil import parse_utc

__all__ = [
    "MAX_RANGE_M",
    "ArrayGeometry",
    "Element",
    "GroundDataWarning",
    "Waveform",
    "array_geometry",
    "elements_of",
    "load_waveforms",
    "modality_of_channel",
    "sidecar_path",
]

FloatArray = npt.NDArray[np.float64]

#: Largest plausible source range by sensor type, metres.
MAX_RANGE_M = {"acoustic": 30_000.0, "infrasound": 1_000_000.0, "seismic": 100_000.0}

#: A discontinuity within this fraction of a sample of the grid counts as on-grid.
GRID_TOLERANCE_SAMPLES = 0.1


#: Looks up ingested station metadata by (network, station, location) code.
StationLookup = Callable[[str, str, str], Sensor | None]


class GroundDataWarning(UserWarning):
    """Waveform data were repaired (gap merged, clock jump split) rather than refused."""


@dataclass(frozen=True, eq=False)
class Waveform:
    """One continuous-grid segment of one channel, with its station position.

    Attributes
    ----------
    network, station, location, channel
        SEED-style codes (``location`` may be empty).
    lon, lat
        Station position, degrees (WGS 84).
    elevation_m
        Station elevation, metres, if known.
    start_s
        Time of the first sample, seconds since the Unix epoch (UTC).
    sampling_rate_hz
        Samples per second.
    data
        Samples as float64, zero in gaps (counts, or pascals once multiplied by
        ``calibration_pa_per_count``).
    raw
        The samples as stored in the file (original dtype), for hashing.
    gaps
        Half-open sample index ranges ``(first, stop)`` that were missing.
    calibration_pa_per_count
        Pascals per count, if the sensor is calibrated.
    sensor_type
        ``acoustic``, ``infrasound`` or ``seismic``.
    source
        The file the samples came from.
    """

    network: str
    station: str
    location: str
    channel: str
    lon: float
    lat: float
    elevation_m: float | None
    start_s: float
    sampling_rate_hz: float
    data: FloatArray
    raw: npt.NDArray[Any]
    gaps: tuple[tuple[int, int], ...]
    calibration_pa_per_count: float | None
    sensor_type: str
    source: str

    @property
    def id(self) -> str:
        """``NET.STA.LOC.CHA``."""
        return f"{self.network}.{self.station}.{self.location}.{self.channel}"

    @property
    def station_code(self) -> str:
        """``NET.STA`` (``STA`` alone when there is no network code)."""
        return f"{self.network}.{self.station}" if self.network else self.station

    @property
    def npts(self) -> int:
        """Number of samples."""
        return int(self.data.size)

    @property
    def end_s(self) -> float:
        """Time just after the last sample, epoch seconds."""
        return self.start_s + self.npts / self.sampling_rate_hz

    def index_at(self, time_s: float) -> int:
        """Index of the sample nearest ``time_s`` (epoch seconds); may be out of range."""
        return round((time_s - self.start_s) * self.sampling_rate_hz)

    def touches_gap(self, first: int, stop: int) -> bool:
        """Whether samples ``[first, stop)`` overlap a gap or leave the segment."""
        if first < 0 or stop > self.npts:
            return True
        return any(first < g_stop and g_first < stop for g_first, g_stop in self.gaps)

    def raw_sha256(self, first: int, stop: int) -> str:
        """Hex SHA-256 of raw samples ``[first, stop)`` as little-endian bytes."""
        return sha256_hex(self.raw_bytes(first, stop))

    def raw_bytes(self, first: int, stop: int) -> bytes:
        """Raw samples ``[first, stop)`` as little-endian bytes (machine independent)."""
        window = np.ascontiguousarray(self.raw[first:stop])
        return window.astype(window.dtype.newbyteorder("<"), copy=False).tobytes()


def modality_of_channel(channel: str) -> str:
    """Sensor type from a SEED channel code: ``?DF`` infrasound, ``?H?`` seismic, else acoustic."""
    code = channel.upper()
    if len(code) == 3 and code[1:] == "DF":
        return "infrasound"
    if len(code) == 3 and code[1] == "H":
        return "seismic"
    return "acoustic"


def sidecar_path(path: Path) -> Path:
    """The JSON sidecar of a waveform file: ``NAME.wav`` -> ``NAME.wav.json``."""
    return path.with_name(path.name + ".json")


def _read_sidecar(path: Path, required: bool) -> dict[str, Any] | None:
    side = sidecar_path(path)
    if not side.is_file():
        if required:
            raise RecordError(f"WAV needs a JSON sidecar {side.name}", file=str(path))
        return None
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"sidecar is not JSON: {exc}", file=str(side)) from None
    if not isinstance(data, dict):
        raise RecordError("sidecar must be a JSON object", file=str(side))
    return data


def _number(value: Any, file: str, field: str, *, required: bool) -> float | None:
    if value is None:
        if required:
            raise RecordError("missing", file=file, field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordError(f"expected a finite number, got {value!r}", file=file, field=field)
    return float(value)


def _required(value: Any, file: str, field: str) -> float:
    number = _number(value, file, field, required=True)
    if number is None:  # pragma: no cover - _number raises first
        raise RecordError("missing", file=file, field=field)
    return number


@dataclass(frozen=True)
class _Meta:
    """Station facts for a file, from the sidecar or a SAC header."""

    lon: float
    lat: float
    elevation_m: float | None
    calibration: float | None
    sensor_type: str | None
    station: str | None
    network: str | None
    channel: str | None


def _meta_from_sidecar(side: Mapping[str, Any], path: Path) -> _Meta:
    file = str(sidecar_path(path))
    lon = _required(side.get("lon"), file, "lon")
    lat = _required(side.get("lat"), file, "lat")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise RecordError(f"position ({lon}, {lat}) is outside the world", file=file, field="lat")
    sensor_type = side.get("sensor_type")
    if sensor_type is not None and sensor_type not in ("acoustic", "infrasound", "seismic"):
        raise RecordError(
            f"unknown sensor_type {sensor_type!r} (acoustic, infrasound or seismic)",
            file=file,
            field="sensor_type",
        )
    calibration = _number(
        side.get("calibration_pa_per_count"), file, "calibration_pa_per_count", required=False
    )
    return _Meta(
        lon=lon,
        lat=lat,
        elevation_m=_number(side.get("elevation_m"), file, "elevation_m", required=False),
        calibration=calibration,
        sensor_type=sensor_type,
        station=None if side.get("station") is None else str(side["station"]),
        network=None if side.get("network") is None else str(side["network"]),
        channel=None if side.get("channel") is None else str(side["channel"]),
    )


def _meta_from_sac(stats: Any, path: Path, trace_id: str) -> _Meta:
    sac = stats.get("sac") or {}
    lat, lon = sac.get("stla"), sac.get("stlo")
    for name, value in (("stla", lat), ("stlo", lon)):
        if value is None or not math.isfinite(float(value)) or float(value) == -12345.0:
            raise RecordError(
                f"station {trace_id} has no coordinates (SAC header {name} unset); "
                "ingest its station metadata or add a JSON sidecar with lon/lat",
                file=str(path),
                field=name,
            )
    elevation = sac.get("stel")
    return _Meta(
        lon=float(lon),  # type: ignore[arg-type]  # checked above
        lat=float(lat),  # type: ignore[arg-type]
        elevation_m=None if elevation in (None, -12345.0) else float(elevation),
        calibration=None,
        sensor_type=None,
        station=None,
        network=None,
        channel=None,
    )


def _check_finite(samples: npt.NDArray[Any], path: Path, trace_id: str) -> None:
    if samples.dtype.kind != "f":
        return
    bad = np.flatnonzero(~np.isfinite(samples))
    if bad.size:
        raise RecordError(
            f"{bad.size} non-finite sample(s) (NaN or infinity), first at sample index "
            f"{int(bad[0])}",
            file=str(path),
            record=f"trace {trace_id} sample {int(bad[0])}",
            field="data",
        )


def _read_wav(path: Path, side: Mapping[str, Any]) -> list[tuple[Any, npt.NDArray[Any]]]:
    try:
        rate, samples = wavfile.read(path)
    except (ValueError, OSError) as exc:
        raise RecordError(f"not a readable WAV file: {exc}", file=str(path)) from None
    if samples.ndim != 1:
        raise RecordError("WAV must have one channel", file=str(path), field="channels")
    start_text = side.get("start")
    if not isinstance(start_text, str):
        raise RecordError("missing start time", file=str(sidecar_path(path)), field="start")
    try:
        start = parse_utc(start_text)
    except ValueError as exc:
        raise RecordError(str(exc), file=str(sidecar_path(path)), field="start") from None
    header = {
        "network": str(side.get("network") or ""),
        "station": str(side.get("station") or path.stem),
        "channel": str(side.get("channel") or ""),
        "sampling_rate": float(rate),
        "starttime": obspy.UTCDateTime(start.timestamp()),
    }
    trace = obspy.Trace(data=np.asarray(samples), header=header)
    return [(trace.stats, np.asarray(samples))]


def _read_obspy(path: Path) -> list[tuple[Any, npt.NDArray[Any]]]:
    try:
        stream = obspy.read(str(path))
    except Exception as exc:  # ObsPy raises many types for unreadable files
        raise RecordError(f"not a readable waveform file: {exc}", file=str(path)) from None
    return [(trace.stats, np.asarray(trace.data)) for trace in stream]


def load_waveforms(path: Path, stations: StationLookup | None = None) -> list[Waveform]:
    """Read a miniSEED, SAC or WAV file into validated waveform segments.

    Parameters
    ----------
    path
        The waveform file; a WAV file needs its sidecar ``NAME.wav.json``.
    stations
        Where coordinates come from when neither a sidecar nor a SAC header gives
        them (miniSEED): ``stations(network, station, location)`` returns the
        ingested station metadata, or ``None``.

    Returns
    -------
    list of Waveform
        One segment per channel and continuous sample grid, in file order.

    Raises
    ------
    truceline.model.RecordError
        Unreadable file, NaN samples, missing coordinates or a bad sidecar.

    Warns
    -----
    GroundDataWarning
        A gap or overlap was merged, or a clock jump split a trace.
    """
    if path.stat().st_size == 0:
        raise RecordError("empty file", file=str(path))
    is_wav = path.suffix.lower() == ".wav"
    side = _read_sidecar(path, required=is_wav)
    traces = _read_wav(path, side or {}) if is_wav else _read_obspy(path)
    if not traces:
        raise RecordError("no traces in file", file=str(path))
    groups: dict[str, list[tuple[Any, npt.NDArray[Any]]]] = {}
    for stats, samples in traces:
        trace_id = f"{stats.network}.{stats.station}.{stats.location}.{stats.channel}"
        _check_finite(samples, path, trace_id)
        groups.setdefault(trace_id, []).append((stats, samples))
    segments: list[Waveform] = []
    for trace_id, parts in groups.items():
        stats0 = parts[0][0]
        if side is not None:
            meta = _meta_from_sidecar(side, path)
        elif stats0.get("_format") == "SAC":
            meta = _meta_from_sac(stats0, path, trace_id)
        elif (
            stations is not None
            and (known := stations(str(stats0.network), str(stats0.station), str(stats0.location)))
            is not None
            and known.lon is not None
            and known.lat is not None
        ):
            meta = _Meta(
                lon=known.lon,
                lat=known.lat,
                elevation_m=known.elevation_m,
                calibration=None,
                sensor_type=known.modality if known.modality in MAX_RANGE_M else None,
                station=None,
                network=None,
                channel=None,
            )
        else:
            raise RecordError(
                f"station {trace_id} has no coordinates; ingest its station metadata or "
                f"add a JSON sidecar {sidecar_path(path).name} with lon/lat",
                file=str(path),
                field="lon",
            )
        codes = (
            str(stats0.network),
            str(stats0.station),
            str(stats0.location),
            str(stats0.channel),
        )
        for run in _stitch(parts, path, trace_id):
            segments.append(_segment(run, codes, meta, path))
    return segments


def _stitch(
    parts: list[tuple[Any, npt.NDArray[Any]]], path: Path, trace_id: str
) -> list[list[tuple[float, float, npt.NDArray[Any]]]]:
    """Group a channel's records into runs that share one sample grid."""
    ordered = sorted(
        ((float(s.starttime.timestamp), float(s.sampling_rate), d) for s, d in parts),
        key=lambda item: item[0],
    )
    runs: list[list[tuple[float, float, npt.NDArray[Any]]]] = [[ordered[0]]]
    for start, rate, samples in ordered[1:]:
        run_start, run_rate, _ = runs[-1][0]
        offset = (start - run_start) * run_rate
        on_grid = abs(offset - round(offset)) <= GRID_TOLERANCE_SAMPLES
        if rate != run_rate or not on_grid:
            warnings.warn(
                f"{path}: {trace_id}: clock jump of {(offset - round(offset)) / run_rate:+.4f} s "
                f"(off the sample grid) at epoch {start:.3f}; trace split there",
                GroundDataWarning,
                stacklevel=4,
            )
            runs.append([(start, rate, samples)])
            continue
        prev_start, _, prev = runs[-1][-1]
        expected = prev_start + prev.size / run_rate
        missing = round((start - expected) * run_rate)
        if missing != 0:
            what = "gap" if missing > 0 else "overlap"
            warnings.warn(
                f"{path}: {trace_id}: {what} of {abs(missing) / run_rate:.3f} s "
                f"({abs(missing)} samples) at epoch {expected:.3f}; merged",
                GroundDataWarning,
                stacklevel=4,
            )
        runs[-1].append((start, rate, samples))
    return runs


def _segment(
    run: list[tuple[float, float, npt.NDArray[Any]]],
    codes: tuple[str, str, str, str],
    meta: _Meta,
    path: Path,
) -> Waveform:
    """Merge one run of on-grid records into a segment, zero-filling gaps."""
    start, rate, _ = run[0]
    stops = [round((s - start) * rate) + d.size for s, _, d in run]
    raw = np.zeros(max(stops), dtype=run[0][2].dtype)
    filled = np.zeros(raw.size, dtype=bool)
    for s, _, d in run:
        first = round((s - start) * rate)
        fresh = ~filled[first : first + d.size]
        raw[first : first + d.size][fresh] = d[fresh]
        filled[first : first + d.size] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([0], (~filled).astype(np.int8), [0]))))
    gaps = tuple((int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True))
    network, station, location, channel = codes
    return Waveform(
        network=meta.network if meta.network is not None else network,
        station=meta.station if meta.station is not None else station,
        location=location,
        channel=meta.channel if meta.channel is not None else channel,
        lon=meta.lon,
        lat=meta.lat,
        elevation_m=meta.elevation_m,
        start_s=start,
        sampling_rate_hz=rate,
        data=raw.astype(np.float64),
        raw=raw,
        gaps=gaps,
        calibration_pa_per_count=meta.calibration,
        sensor_type=meta.sensor_type or modality_of_channel(channel),
        source=str(path),
    )
