"""Waveforms (format ``waveform``): miniSEED, SAC, or WAV with a JSON sidecar.

Reading a file runs single-sensor station processing
(:func:`truceline.ground.detect.detect`, default :class:`DetectorConfig`) on every
channel and yields one :class:`~truceline.model.Sensor` per channel and one
:class:`~truceline.model.Observation` per detection: kind ``other`` (label
``"onset"``; classification comes later), a
:class:`~truceline.model.StationLocation` with the range of the modality
(acoustic 30 km, infrasound 1000 km, seismic 100 km), the onset time and its
sigma, and attributes ``snr``, ``amplitude``, ``amplitude_unit``,
``dominant_frequency_hz`` and ``waveform_sha256`` (also ``raw_sha256``). Arrays
need all their elements at once: see :func:`truceline.ground.station.process_array`.

The probe is cheap: miniSEED 2 by its fixed header (6 sequence digits, a
quality code ``D``/``R``/``Q``/``M``, a plausible year and day), SAC by the suffix
``.sac`` and a sane header (version 6 or 7, positive sample interval, in either
byte order), WAV by ``RIFF....WAVE`` and an existing sidecar ``NAME.wav.json``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from truceline.ground.detect import detect
from truceline.ground.waveforms import MAX_RANGE_M, load_waveforms, sidecar_path
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.location import StationLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.model.timeutil import from_epoch

__all__ = ["WaveformAdapter", "looks_like_mseed", "looks_like_sac"]


def looks_like_mseed(head: bytes) -> bool:
    """Whether ``head`` starts with a miniSEED 2 fixed data header."""
    if len(head) < 48:
        return False
    sequence, quality = head[:6], head[6:7]
    if not all(c in b"0123456789 " for c in sequence) or quality not in (b"D", b"R", b"Q", b"M"):
        return False
    if head[7:8] not in (b" ", b"\x00"):
        return False
    for order in (">", "<"):
        year, day = struct.unpack(f"{order}HH", head[20:24])
        if 1900 <= year <= 2100 and 1 <= day <= 366:
            return True
    return False


def looks_like_sac(path: Path, head: bytes) -> bool:
    """Whether ``path`` is a binary SAC file: suffix ``.sac`` and a sane header."""
    if path.suffix.lower() != ".sac" or len(head) < 632:
        return False
    for order in ("<", ">"):
        delta = struct.unpack(f"{order}f", head[0:4])[0]
        version, npts = (
            struct.unpack(f"{order}ii", head[304:312])[0],
            struct.unpack(f"{order}i", head[316:320])[0],
        )
        if version in (6, 7) and math.isfinite(delta) and delta > 0 and npts >= 0:
            return True
    return False


class WaveformAdapter(IngestAdapter):
    """miniSEED / SAC / WAV+sidecar waveforms through single-sensor detection."""

    name: ClassVar[str] = "waveform"
    description: ClassVar[str] = "waveforms (miniSEED, SAC, WAV + .json sidecar) -> onsets"

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """miniSEED header, SAC suffix + header, or RIFF/WAVE with a sidecar."""
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            return sidecar_path(path).is_file()
        return looks_like_mseed(head) or looks_like_sac(path, head)

    def read(self, path: Path) -> Iterator[Record]:
        """Yield each channel's sensor, then its detections."""
        context = self.context
        segments = load_waveforms(path, None if context is None else context.station)
        seen: set[str] = set()
        for segment in segments:
            modality = segment.sensor_type
            # the same id as the station's metadata (StationXML: <modality>:NET.STA[.LOC])
            location = f".{segment.location}" if segment.location else ""
            sensor_id = f"{modality}:{segment.station_code}{location}"
            if sensor_id not in seen:
                seen.add(sensor_id)
                yield Sensor(
                    id=sensor_id,
                    modality=modality,
                    lon=segment.lon,
                    lat=segment.lat,
                    elevation_m=segment.elevation_m,
                    detection_range_m=MAX_RANGE_M[modality],
                )
            for found in detect(segment):
                try:
                    yield Observation(
                        sensor_id=sensor_id,
                        modality=modality,
                        kind="other",
                        time=from_epoch(found.onset_s),
                        time_sigma_s=found.onset_sigma_s,
                        location=StationLocation(segment.lon, segment.lat, MAX_RANGE_M[modality]),
                        attributes={
                            "label": "onset",
                            "snr": found.snr,
                            "amplitude": found.amplitude,
                            "amplitude_unit": found.amplitude_unit,
                            "dominant_frequency_hz": found.dominant_frequency_hz,
                            "waveform_sha256": found.waveform_sha256,
                        },
                        raw_sha256=found.waveform_sha256,
                    )
                except RecordError as exc:
                    raise exc.located(file=str(path), record=segment.id) from None
