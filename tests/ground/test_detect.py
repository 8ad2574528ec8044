"""Single-sensor detection and waveform loading on synthetic miniSEED, SAC and WAV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import obspy
import pytest
from scipy.io import wavfile

from truceline.ground.detect import DetectorConfig, detect
from truceline.ground.waveforms import GroundDataWarning, load_waveforms
from truceline.model import RecordError, sha256_hex

RATE = 100.0
START = obspy.UTCDateTime(2026, 11, 1, 12, 0, 0)
ONSET = 3123  # sample index of the true onset


def noisy_arrival(seed: int = 1, n: int = 6000, amp: float = 20.0) -> np.ndarray:
    """White noise with a decaying 8 Hz arrival starting at sample ONSET."""
    rng = np.random.default_rng(seed)
    data = rng.normal(0.0, 1.0, n)
    t = np.arange(400) / RATE
    data[ONSET : ONSET + 400] += amp * np.sin(2 * np.pi * 8.0 * t) * np.exp(-t / 0.5)
    return data


def trace(data: np.ndarray, start: obspy.UTCDateTime = START, **header: object) -> obspy.Trace:
    stats = {"network": "XX", "station": "A1", "channel": "HDF", "sampling_rate": RATE}
    stats.update(header)
    return obspy.Trace(data=data, header={**stats, "starttime": start})


def write_sac(path: Path, data: np.ndarray, coords: bool = True) -> Path:
    tr = trace(data.astype(np.float32))
    if coords:
        tr.stats.sac = obspy.core.AttribDict({"stla": 48.0, "stlo": 37.0, "stel": 120.0})
    tr.write(str(path), format="SAC")
    return path


def test_sac_arrival_is_picked_within_a_few_samples(tmp_path: Path) -> None:
    [wave] = load_waveforms(write_sac(tmp_path / "a.sac", noisy_arrival()))
    assert (wave.lon, wave.lat, wave.elevation_m) == (37.0, 48.0, 120.0)
    assert wave.sensor_type == "infrasound"
    [found] = detect(wave)
    error_samples = (found.onset_s - START.timestamp) * RATE - ONSET
    assert abs(error_samples) <= 3
    assert 0 < found.onset_sigma_s < 0.05
    assert found.snr > 3
    assert found.dominant_frequency_hz == pytest.approx(8.0, abs=0.5)
    assert found.amplitude_unit == "counts"
    first = wave.index_at(found.window_start_s)
    stop = wave.index_at(found.window_end_s)
    assert found.waveform_sha256 == sha256_hex(wave.raw[first:stop].astype("<f4").tobytes())


def test_noise_alone_gives_no_detection(tmp_path: Path) -> None:
    [wave] = load_waveforms(write_sac(tmp_path / "n.sac", noisy_arrival(amp=0.0)))
    assert detect(wave) == []


def test_wav_with_sidecar_is_calibrated(tmp_path: Path) -> None:
    path = tmp_path / "mic.wav"
    wavfile.write(path, int(RATE), (noisy_arrival() * 100).astype(np.int16))
    side = {"station": "M7", "start": "2026-11-01T12:00:00Z", "lon": 37.1, "lat": 48.2}
    side |= {"sensor_type": "acoustic", "calibration_pa_per_count": 0.01}
    (tmp_path / "mic.wav.json").write_text(json.dumps(side))
    [wave] = load_waveforms(path)
    [found] = detect(wave)
    assert found.amplitude_unit == "Pa"
    assert found.amplitude == pytest.approx(17.7, rel=0.2)
    assert abs((found.onset_s - START.timestamp) * RATE - ONSET) <= 3


def test_wav_without_sidecar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mic.wav"
    wavfile.write(path, int(RATE), np.zeros(100, dtype=np.int16))
    with pytest.raises(RecordError, match="sidecar"):
        load_waveforms(path)


def test_nan_sample_names_file_and_index(tmp_path: Path) -> None:
    data = noisy_arrival()
    data[1234] = np.nan
    path = write_sac(tmp_path / "nan.sac", data)
    with pytest.raises(RecordError) as info:
        load_waveforms(path)
    assert info.value.file == str(path)
    assert "1234" in str(info.value)


def test_missing_coordinates_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="no coordinates") as info:
        load_waveforms(write_sac(tmp_path / "nocoord.sac", noisy_arrival(), coords=False))
    assert info.value.field == "stla"
    path = tmp_path / "x.mseed"
    trace(noisy_arrival().astype(np.float32)).write(str(path), format="MSEED")
    with pytest.raises(RecordError, match="no coordinates"):
        load_waveforms(path)


def test_mseed_gap_is_merged_with_warning_and_never_triggers(tmp_path: Path) -> None:
    data = noisy_arrival(amp=0.0, n=8000).astype(np.float32) + 500.0  # offset: gap edge step
    path = tmp_path / "gap.mseed"
    stream = obspy.Stream([trace(data[:4000]), trace(data[4500:], start=START + 45.0)])
    stream.write(str(path), format="MSEED")
    side = {"lon": 37.0, "lat": 48.0}
    (tmp_path / "gap.mseed.json").write_text(json.dumps(side))
    with pytest.warns(GroundDataWarning, match="gap of 5.000 s"):
        [wave] = load_waveforms(path)
    assert wave.gaps == ((4000, 4500),)
    assert wave.touches_gap(3990, 4010)
    assert detect(wave, DetectorConfig()) == []


def test_clock_jump_splits_the_trace(tmp_path: Path) -> None:
    data = noisy_arrival().astype(np.float32)
    path = tmp_path / "jump.mseed"
    late = START + 30.0 + 0.006  # 0.6 sample off the grid (libmseed merges < 0.5)
    obspy.Stream([trace(data[:3000]), trace(data[3000:], start=late)]).write(
        str(path), format="MSEED"
    )
    (tmp_path / "jump.mseed.json").write_text(json.dumps({"lon": 37.0, "lat": 48.0}))
    with pytest.warns(GroundDataWarning, match="clock jump"):
        waves = load_waveforms(path)
    assert [w.npts for w in waves] == [3000, 3000]
    assert waves[1].start_s == pytest.approx(late.timestamp)
