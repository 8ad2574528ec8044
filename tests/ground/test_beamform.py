"""Array beamforming: synthetic plane waves, bad arrays, gaps, and the real BRP array."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from obspy.signal.filter import bandpass

from truceline.ground.beamform import BeamformConfig, beamform
from truceline.ground.station import default_array_id, detect_array, process_array
from truceline.ground.waveforms import Element, GroundDataWarning, Waveform, elements_of
from truceline.model import BearingLocation, LocalFrame, RecordError

RATE = 100.0
T0 = 1.7e9
#: A 4-element array of ~150 m aperture (east, north metres).
POSITIONS = np.array([[0.0, 0.0], [80.0, 10.0], [-20.0, 90.0], [-60.0, -50.0]])


def plane_wave(
    seed: int,
    baz_deg: float,
    velocity_mps: float,
    snr: float = 3.0,
    duration_s: float = 60.0,
    arrival_s: float = 30.0,
    positions: np.ndarray = POSITIONS,
) -> list[Waveform]:
    """A 5 s band-limited (1-8 Hz) plane wave in white noise at each element."""
    rng = np.random.default_rng(seed)
    frame = LocalFrame(37.0, 48.0)
    lons, lats = frame.to_geo(positions[:, 0], positions[:, 1])
    az = math.radians(baz_deg)
    slowness = -np.array([math.sin(az), math.cos(az)]) / velocity_mps
    n = int(duration_s * RATE)
    source = bandpass(rng.normal(0.0, 1.0, n + 2000), 1.0, 8.0, RATE, 4, zerophase=True)
    source /= source.std()
    t = np.arange(n) / RATE
    waves = []
    for k, (east, north) in enumerate(positions):
        lag = t - arrival_s - float(slowness @ np.array([east, north]))
        envelope = ((lag > 0) & (lag < 5.0)).astype(float)
        signal = np.interp(lag, np.arange(source.size) / RATE - 10.0, source) * envelope
        data = snr * signal + rng.normal(0.0, 1.0, n)
        waves.append(
            Waveform(
                "XX", f"A{k}", "", "BDF", float(lons[k]), float(lats[k]), None, T0, RATE,
                data, data.astype(np.float32), (), None, "infrasound", "synthetic",
            )
        )  # fmt: skip
    return waves


@pytest.mark.parametrize(("seed", "baz"), [(0, 60.0), (1, 200.0), (2, 315.0), (3, 120.0)])
def test_plane_wave_recovered_within_stated_uncertainty(seed: int, baz: float) -> None:
    found = detect_array(elements_of(plane_wave(seed, baz, 340.0)), "XX.A")
    best = max(found, key=lambda d: d.f_stat)
    miss = (best.back_azimuth_deg - baz + 180.0) % 360.0 - 180.0
    assert abs(miss) <= 3.0 * best.back_azimuth_sigma_deg
    assert abs(best.trace_velocity_mps - 340.0) <= 3.0 * best.trace_velocity_sigma_mps
    assert best.back_azimuth_sigma_deg < 2.0
    assert best.p_value < 1e-10
    az = math.radians(baz)
    centroid_delay = float(-np.array([math.sin(az), math.cos(az)]) @ POSITIONS.mean(axis=0)) / 340
    # emergent random-signal onsets: the pick may trail by a few cycles' rise
    assert abs(best.time_s - (T0 + 30.0 + centroid_delay)) <= max(3.0 * best.time_sigma_s, 0.1)


def test_uncertainty_is_calibrated_over_trials() -> None:
    """Normalised errors of weak arrivals have a spread near one (not over-confident)."""
    z = []
    for seed in range(12):
        found = detect_array(elements_of(plane_wave(100 + seed, 45.0, 330.0, snr=1.0)), "A")
        best = max(found, key=lambda d: d.f_stat)
        z.append(((best.back_azimuth_deg - 45.0 + 180) % 360 - 180) / best.back_azimuth_sigma_deg)
    assert 0.4 < float(np.sqrt(np.mean(np.square(z)))) < 2.0


def test_noise_only_windows_rarely_detect() -> None:
    waves = plane_wave(7, 0.0, 340.0, snr=0.0, duration_s=200.0)
    beams = beamform(elements_of(waves))
    assert len(beams) == 39
    assert sum(b.p_value < 0.01 for b in beams) <= 2


def test_duplicate_element_position_is_refused() -> None:
    positions = POSITIONS.copy()
    positions[3] = positions[1] + 0.2
    with pytest.raises(RecordError, match="same position"):
        detect_array(elements_of(plane_wave(0, 60.0, 340.0, positions=positions)), "A")


def test_too_few_or_collinear_elements_are_refused() -> None:
    with pytest.raises(RecordError, match="at least 3"):
        beamform(elements_of(plane_wave(0, 60.0, 340.0)[:2]))
    line = np.array([[0.0, 0.0], [50.0, 0.0], [100.0, 0.0], [150.0, 0.0]])
    with pytest.raises(RecordError, match="one line"):
        beamform(elements_of(plane_wave(0, 60.0, 340.0, positions=line)))


def test_windows_across_a_gap_are_not_beamformed() -> None:
    waves = plane_wave(0, 60.0, 340.0)
    gapped = waves[2]
    waves[2] = Waveform(
        **{**gapped.__dict__, "gaps": ((1000, 1500),)}  # 10-15 s missing in one element
    )
    with pytest.warns(GroundDataWarning, match="gap"):
        beams = beamform(elements_of(waves))
    assert all(b.end_s <= T0 + 10.0 or b.start_s >= T0 + 15.0 for b in beams)


def test_default_array_id() -> None:
    elements = [Element(w.id, (w,)) for w in plane_wave(0, 60.0, 340.0)]
    assert default_array_id(elements) == "infrasound:XX.A"


def test_real_brp_array(shared_data: Path) -> None:
    paths = sorted((shared_data / "infrasound" / "brp-array").glob("YJ.BRP*.SAC"))
    if len(paths) != 4:
        pytest.skip("BRP array SAC files not found in the shared data")
    observations = process_array(paths, BeamformConfig(position_sigma_m=3.2))
    best = max(observations, key=lambda o: float(o.attributes["f_stat"]))
    assert best.sensor_id == "infrasound:YJ.BRP"
    assert isinstance(best.location, BearingLocation)
    assert 310.0 < best.location.azimuth_deg < 330.0
    assert 0.5 < best.location.azimuth_sigma_deg < 5.0
    assert 300.0 < float(best.attributes["trace_velocity_mps"]) < 420.0
    assert best.raw_sha256 == best.attributes["waveform_sha256"]
