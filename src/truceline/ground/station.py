"""Station processing of arrays: detections from beams, and their observations.

:func:`detect_array` turns the sliding-window beams of
:mod:`truceline.ground.beamform` into detections: consecutive windows whose
grid-corrected F-test p-value is below ``alpha`` form one detection, reported
at its highest-F window with the curvature uncertainty of back azimuth and
trace velocity.

**Arrival time.** The delay-and-sum beam steered at the detection's slowness
(integer-sample shifts: at 100 Hz the rounding is at most 5 ms) is run through
the single-sensor detector (:func:`truceline.ground.detect.detect`, same band,
LTA = one beam window, trigger ratio 3); the strongest onset inside the
detection is the arrival time at the array reference point, with the picker's
sigma. Without one, the peak window's start is used with sigma
``window_s / sqrt(12)``.

:func:`process_array` reads the element files and returns one
:class:`~truceline.model.Observation` per detection: modality of the elements,
kind ``other``, a :class:`~truceline.model.BearingLocation` at the array's
centroid, attributes ``trace_velocity_mps``, ``trace_velocity_sigma_mps``,
``f_stat``, ``p_value``, ``label`` (``"array_detection"``) and
``waveform_sha256`` (also ``raw_sha256``): the hash of the peak window's raw
samples of all elements, concatenated in element-id order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from truceline.ground.beamform import (
    ArrayDetection,
    BeamformConfig,
    Beamformer,
    FloatArray,
    Scan,
    direction_sigma,
    segment_at,
)
from truceline.ground.detect import DetectorConfig, detect
from truceline.ground.waveforms import (
    MAX_RANGE_M,
    ArrayGeometry,
    Element,
    StationLookup,
    Waveform,
    array_geometry,
    elements_of,
    load_waveforms,
)
from truceline.model.location import BearingLocation
from truceline.model.observation import Observation
from truceline.model.timeutil import from_epoch

__all__ = ["default_array_id", "detect_array", "process_array"]


def detect_array(
    elements: Sequence[Element], array_id: str, config: BeamformConfig | None = None
) -> list[ArrayDetection]:
    """Coherent arrivals across an array, with direction and uncertainty.

    Parameters
    ----------
    elements
        At least three elements at distinct, non-collinear positions.
    array_id
        Id written into each detection.
    config
        Beamformer settings.

    Returns
    -------
    list of ArrayDetection
        One per run of consecutive detecting windows, in time order.
    """
    config = config or BeamformConfig()
    geometry = array_geometry(elements, config.min_separation_m)
    former = Beamformer(geometry, geometry.rate_hz, config)
    scans = former.run(elements, array_id)
    runs: list[list[Scan]] = []
    previous_end = -math.inf
    for scan in scans:
        if scan.beam.p_value >= config.alpha or scan.beam.f_stat < config.min_f_stat:
            continue
        if runs and scan.beam.start_s - previous_end <= config.step_s * 1.0001:
            runs[-1].append(scan)
        else:
            runs.append([scan])
        previous_end = scan.beam.start_s
    found = []
    for run in runs:
        detection = _detection(former, elements, run, array_id)
        if detection is not None:
            found.append(detection)
    return found


def _detection(
    former: Beamformer, elements: Sequence[Element], run: list[Scan], array_id: str
) -> ArrayDetection | None:
    peak = max(run, key=lambda scan: scan.beam.f_stat)
    slowness = np.array([peak.beam.slowness_e, peak.beam.slowness_n])
    cov = former.slowness_cov(peak.spec, slowness)
    if cov is None:
        return None
    baz_sigma, vel_sigma = direction_sigma(slowness, cov)
    config = former.config
    time_s, time_sigma_s = _beam_onset(
        elements, former.geometry, slowness, run[0].beam.start_s, run[-1].beam.end_s, config
    ) or (peak.beam.start_s, config.window_s / math.sqrt(12.0))
    return ArrayDetection(
        array=array_id,
        lon=former.geometry.lon,
        lat=former.geometry.lat,
        time_s=time_s,
        time_sigma_s=time_sigma_s,
        back_azimuth_deg=peak.beam.back_azimuth_deg,
        back_azimuth_sigma_deg=baz_sigma,
        trace_velocity_mps=peak.beam.trace_velocity_mps,
        trace_velocity_sigma_mps=vel_sigma,
        f_stat=peak.beam.f_stat,
        p_value=peak.beam.p_value,
        window_start_s=peak.beam.start_s,
        window_end_s=peak.beam.end_s,
        n_windows=len(run),
        waveform_sha256=peak.digest,
    )


def _beam_onset(
    elements: Sequence[Element],
    geometry: ArrayGeometry,
    slowness: FloatArray,
    start_s: float,
    end_s: float,
    config: BeamformConfig,
) -> tuple[float, float] | None:
    """Onset (epoch s) and sigma (s) of the delay-and-sum beam within a detection."""
    detector = DetectorConfig(
        freqmin_hz=config.freqmin_hz,
        freqmax_hz=config.freqmax_hz,
        lta_s=max(config.window_s, 2.0),
        sta_s=min(0.5, config.window_s / 4.0),
        trigger_on=3.0,
    )
    rate = geometry.rate_hz
    lead = detector.lta_s + detector.pick_pre_s
    begin = start_s - lead
    n = round((end_s - begin) * rate)
    delays = slowness @ np.vstack([geometry.east_m, geometry.north_m])
    rows = []
    for element, delay in zip(elements, delays, strict=True):
        shifted = begin + float(delay)
        segment = segment_at(element.segments, shifted, n)
        if segment is None:
            return None
        first = segment.index_at(shifted)
        rows.append(segment.data[first : first + n])
    base = elements[0].segments[0]
    beam = Waveform(
        network="",
        station="beam",
        location="",
        channel="",
        lon=geometry.lon,
        lat=geometry.lat,
        elevation_m=None,
        start_s=begin,
        sampling_rate_hz=rate,
        data=np.mean(np.vstack(rows), axis=0),
        raw=np.zeros(n, dtype=np.float32),
        gaps=(),
        calibration_pa_per_count=base.calibration_pa_per_count,
        sensor_type=base.sensor_type,
        source=base.source,
    )
    onsets = [d for d in detect(beam, detector) if start_s - 1.0 <= d.onset_s <= end_s]
    if not onsets:
        return None
    best = max(onsets, key=lambda d: d.snr)
    return best.onset_s, best.onset_sigma_s


def default_array_id(elements: Sequence[Element]) -> str:
    """``MODALITY:NET.PREFIX``: the common prefix of the element station codes.

    For the elements ``YJ.BRP1``..``YJ.BRP4`` of an infrasound array this is
    ``infrasound:YJ.BRP``, and ``TL.ARR01``..``TL.ARR05`` give ``infrasound:TL.ARR``:
    trailing digits are dropped, as the StationXML adapter names arrays.
    """
    first = elements[0].segments[0]
    codes = [e.segments[0].station_code for e in elements]
    prefix = codes[0]
    for code in codes[1:]:
        while not code.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix.rstrip("._0123456789") or "+".join(codes)
    return f"{first.sensor_type}:{prefix}"


def process_array(
    paths: Sequence[Path],
    config: BeamformConfig | None = None,
    array_id: str | None = None,
    stations: StationLookup | None = None,
) -> list[Observation]:
    """Beamform the element files of one array into bearing observations.

    Parameters
    ----------
    paths
        One or more waveform files holding the array's elements (miniSEED, SAC
        or WAV + sidecar), at least three channels in all.
    config
        Beamformer settings.
    array_id
        Sensor id of the array; default :func:`default_array_id`.
    stations
        Station metadata lookup for files without coordinates (miniSEED); see
        :func:`truceline.ground.waveforms.load_waveforms`.

    Returns
    -------
    list of Observation
        One per detection, in time order.

    Raises
    ------
    truceline.model.RecordError
        Bad waveform data (see :func:`truceline.ground.waveforms.load_waveforms`)
        or an invalid array (see :func:`truceline.ground.waveforms.array_geometry`).
    """
    segments: list[Waveform] = []
    for path in paths:
        segments.extend(load_waveforms(Path(path), stations))
    elements = elements_of(segments)
    name = array_id or default_array_id(elements)
    modality = elements[0].segments[0].sensor_type
    observations = []
    for found in detect_array(elements, name, config):
        observations.append(
            Observation(
                sensor_id=name,
                modality=modality,
                kind="other",
                time=from_epoch(found.time_s),
                time_sigma_s=found.time_sigma_s,
                location=BearingLocation(
                    station_lon=found.lon,
                    station_lat=found.lat,
                    azimuth_deg=found.back_azimuth_deg,
                    azimuth_sigma_deg=max(found.back_azimuth_sigma_deg, 1e-3),
                    max_range_m=MAX_RANGE_M[modality],
                ),
                attributes={
                    "label": "array_detection",
                    "trace_velocity_mps": found.trace_velocity_mps,
                    "trace_velocity_sigma_mps": found.trace_velocity_sigma_mps,
                    "f_stat": found.f_stat,
                    "p_value": found.p_value,
                    "waveform_sha256": found.waveform_sha256,
                },
                raw_sha256=found.waveform_sha256,
            )
        )
    return observations
