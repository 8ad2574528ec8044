"""Single-sensor onset detection: band-pass, STA/LTA trigger, AIC onset refinement.

The chain, per continuous run of a :class:`~truceline.ground.waveforms.Waveform`
(runs end at gaps, so a gap edge never triggers):

1. **Band-pass** (Butterworth, ``corners`` poles, zero-phase so the onset is not
   delayed): 1–20 Hz by default, where blasts, guns and rocket motors put their
   acoustic energy while wind noise (below ~1 Hz) and most vehicle and insect
   noise are cut. For infrasound arrays at regional range, 0.5–5 Hz is usual;
   for seismic sensors 2–20 Hz. ``freqmax_hz`` is capped at 0.45 x the sampling
   rate.
2. **Trigger**: classic STA/LTA (:func:`obspy.signal.trigger.classic_sta_lta`,
   STA ``sta_s``, LTA ``lta_s``; the first LTA window is not used) and
   :func:`obspy.signal.trigger.trigger_onset` with ``trigger_on``/``trigger_off``.
3. **Onset refinement**: the Akaike Information Criterion picker
   (:func:`obspy.signal.trigger.aic_simple`, Maeda 1985), first on the
   band-passed samples from ``pick_pre_s`` before to ``pick_post_s`` after the
   trigger, then again within ``refine_s`` of that pick on samples that are
   only high-passed: the zero-phase low-pass smears energy a few samples ahead
   of the true onset and biased picks early by ~4 samples at 100 Hz. The AIC is
   ``-2 log L`` of a two-segment Gaussian model, so ``exp(-ΔAIC / 2)`` is the
   relative likelihood of each candidate onset (Akaike weights); the onset
   uncertainty combines the standard deviation of that distribution, the
   sample quantisation ``1 / (fs sqrt 12)`` and 5 % of the dominant period
   (the first rise of a cycle can hide in the noise; on synthetic decaying
   sines in noise, SNR 3–30, 3–15 Hz, 96 % of picks fell within 1.96 sigma).
4. **Measurements** on the band-passed samples: SNR is the RMS over
   ``signal_s`` after the onset divided by the RMS over ``noise_s`` before it
   (an amplitude ratio); amplitude is the peak absolute value after the onset
   (pascals when the sensor is calibrated, else counts); the dominant frequency
   is the peak of the Hann-tapered amplitude spectrum of the signal window.

Each :class:`Detection` carries the SHA-256 of the raw stored samples of its
window (noise window start to signal window end), so the log can point back to
exactly the bytes it was measured on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from obspy.signal.filter import bandpass, highpass
from obspy.signal.trigger import (
    aic_simple,
    classic_sta_lta,
    trigger_onset,
)

from truceline.ground.waveforms import Waveform

__all__ = ["Detection", "DetectorConfig", "aic_onset", "band_pass", "detect", "high_pass"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Settings of the single-sensor detector (all times in seconds, rates in Hz).

    Attributes
    ----------
    freqmin_hz, freqmax_hz, corners
        Band-pass corners and Butterworth order.
    sta_s, lta_s
        Short- and long-term averaging windows.
    trigger_on, trigger_off
        STA/LTA ratios that open and close a trigger.
    pick_pre_s, pick_post_s
        AIC window before and after the trigger time.
    refine_s
        Half-width of the second AIC window on high-passed samples.
    noise_s, signal_s
        Windows before and after the onset for SNR, amplitude and frequency.
    min_snr
        Detections below this SNR (amplitude ratio) are dropped.
    """

    freqmin_hz: float = 1.0
    freqmax_hz: float = 20.0
    corners: int = 4
    sta_s: float = 0.5
    lta_s: float = 10.0
    trigger_on: float = 4.0
    trigger_off: float = 1.5
    pick_pre_s: float = 2.0
    pick_post_s: float = 1.0
    refine_s: float = 0.3
    noise_s: float = 5.0
    signal_s: float = 2.0
    min_snr: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 < self.freqmin_hz < self.freqmax_hz:
            raise ValueError("band-pass needs 0 < freqmin_hz < freqmax_hz")
        if not 0.0 < self.sta_s < self.lta_s:
            raise ValueError("STA/LTA needs 0 < sta_s < lta_s")
        if not self.trigger_on > self.trigger_off > 0.0:
            raise ValueError("trigger needs trigger_on > trigger_off > 0")
        windows = (self.pick_pre_s, self.pick_post_s, self.refine_s, self.noise_s, self.signal_s)
        if min(windows) <= 0.0:
            raise ValueError("pick, noise and signal windows must be positive")


@dataclass(frozen=True, slots=True)
class Detection:
    """One onset found on one channel.

    Attributes
    ----------
    station
        Channel id ``NET.STA.LOC.CHA``.
    onset_s, onset_sigma_s
        Onset time (epoch seconds, UTC) and its standard deviation, seconds.
    snr
        Signal RMS over noise RMS (amplitude ratio, band-passed).
    amplitude
        Peak absolute band-passed amplitude after the onset, in ``amplitude_unit``.
    amplitude_unit
        ``"Pa"`` for calibrated sensors, else ``"counts"``.
    dominant_frequency_hz
        Spectral peak of the signal window, Hz.
    window_start_s, window_end_s
        The samples the detection was measured on (epoch seconds).
    waveform_sha256
        Hex SHA-256 of those raw samples (little-endian bytes).
    """

    station: str
    onset_s: float
    onset_sigma_s: float
    snr: float
    amplitude: float
    amplitude_unit: str
    dominant_frequency_hz: float
    window_start_s: float
    window_end_s: float
    waveform_sha256: str


def band_pass(data: FloatArray, rate_hz: float, config: DetectorConfig) -> FloatArray:
    """Demean and zero-phase band-pass ``data`` (sampled at ``rate_hz``) per ``config``."""
    freqmax = min(config.freqmax_hz, 0.45 * rate_hz)
    if freqmax <= config.freqmin_hz:
        raise ValueError(
            f"sampling rate {rate_hz} Hz is too low for a {config.freqmin_hz} Hz high-pass"
        )
    centred = data - float(np.mean(data))
    return np.asarray(
        bandpass(centred, config.freqmin_hz, freqmax, rate_hz, config.corners, zerophase=True),
        dtype=np.float64,
    )


def high_pass(data: FloatArray, rate_hz: float, config: DetectorConfig) -> FloatArray:
    """Demean and zero-phase high-pass ``data`` at ``config.freqmin_hz``."""
    centred = data - float(np.mean(data))
    return np.asarray(
        highpass(centred, config.freqmin_hz, rate_hz, config.corners, zerophase=True),
        dtype=np.float64,
    )


def aic_onset(samples: FloatArray, rate_hz: float) -> tuple[int, float]:
    """Onset index in ``samples`` by the AIC picker, and its standard deviation (s).

    Parameters
    ----------
    samples
        Band-passed samples spanning noise then signal.
    rate_hz
        Sampling rate, Hz.

    Returns
    -------
    index, sigma_s
        The most likely onset sample and the Akaike-weight standard deviation,
        seconds (never below the sample quantisation ``1 / (rate sqrt 12)``).
    """
    if samples.size < 8:
        raise ValueError("AIC picker needs at least 8 samples")
    aic = np.asarray(aic_simple(samples), dtype=np.float64)
    inner = np.arange(2, samples.size - 2)
    values = aic[inner]
    finite = np.isfinite(values)
    inner, values = inner[finite], values[finite]
    best = int(np.argmin(values))
    weights = np.exp(-(values - values[best]) / 2.0)
    weights /= weights.sum()
    index = int(inner[best])
    spread = float(np.sqrt(np.sum(weights * (inner - index) ** 2)))
    sigma_s = math.hypot(spread, 1.0 / math.sqrt(12.0)) / rate_hz
    return index, sigma_s


def _runs(waveform: Waveform) -> list[tuple[int, int]]:
    """Gap-free sample ranges ``(first, stop)`` of a waveform."""
    runs, first = [], 0
    for g_first, g_stop in waveform.gaps:
        if g_first > first:
            runs.append((first, g_first))
        first = g_stop
    if first < waveform.npts:
        runs.append((first, waveform.npts))
    return runs


def _dominant_frequency(signal: FloatArray, rate_hz: float, config: DetectorConfig) -> float:
    tapered = signal * np.hanning(signal.size)
    nfft = 4 * int(2 ** math.ceil(math.log2(max(signal.size, 2))))
    spectrum = np.abs(np.fft.rfft(tapered, nfft))
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate_hz)
    band = (freqs >= config.freqmin_hz) & (freqs <= min(config.freqmax_hz, 0.45 * rate_hz))
    return float(freqs[band][int(np.argmax(spectrum[band]))])


def detect(waveform: Waveform, config: DetectorConfig | None = None) -> list[Detection]:
    """Find impulsive onsets on one waveform segment.

    Parameters
    ----------
    waveform
        A validated segment (see :func:`truceline.ground.waveforms.load_waveforms`).
    config
        Detector settings; defaults to :class:`DetectorConfig()`.

    Returns
    -------
    list of Detection
        In time order; runs shorter than the LTA window plus the signal window
        give none.
    """
    config = config or DetectorConfig()
    rate = waveform.sampling_rate_hz
    found: list[Detection] = []
    for first, stop in _runs(waveform):
        found.extend(_detect_run(waveform, first, stop, rate, config))
    return found


def _detect_run(
    waveform: Waveform, first: int, stop: int, rate: float, config: DetectorConfig
) -> list[Detection]:
    nsta, nlta = round(config.sta_s * rate), round(config.lta_s * rate)
    if stop - first < nlta + round(config.signal_s * rate) or nsta < 1:
        return []
    filtered = band_pass(waveform.data[first:stop], rate, config)
    broadband = high_pass(waveform.data[first:stop], rate, config)
    ratio = np.asarray(classic_sta_lta(filtered, nsta, nlta), dtype=np.float64)
    ratio[:nlta] = 0.0
    triggers = trigger_onset(ratio, config.trigger_on, config.trigger_off)
    detections: list[Detection] = []
    last_onset = -1
    for on, _off in triggers:
        lo = max(0, int(on) - round(config.pick_pre_s * rate))
        hi = min(filtered.size, int(on) + round(config.pick_post_s * rate))
        if hi - lo < 8:
            continue
        coarse = lo + aic_onset(filtered[lo:hi], rate)[0]
        lo = max(0, coarse - round(config.refine_s * rate))
        hi = min(filtered.size, coarse + round(config.refine_s * rate))
        offset, sigma_s = aic_onset(broadband[lo:hi], rate) if hi - lo >= 8 else (0, 0.0)
        onset = lo + offset if hi - lo >= 8 else coarse
        if onset <= last_onset:
            continue
        detection = _measure(waveform, filtered, first, onset, sigma_s, config)
        if detection is not None and detection.snr >= config.min_snr:
            detections.append(detection)
            last_onset = onset
    return detections


def _measure(
    waveform: Waveform,
    filtered: FloatArray,
    first: int,
    onset: int,
    sigma_s: float,
    config: DetectorConfig,
) -> Detection | None:
    rate = waveform.sampling_rate_hz
    n0 = max(0, onset - round(config.noise_s * rate))
    n1 = min(filtered.size, onset + round(config.signal_s * rate))
    noise, signal = filtered[n0:onset], filtered[onset:n1]
    if noise.size < 4 or signal.size < 4:
        return None
    noise_rms = float(np.sqrt(np.mean(noise**2)))
    signal_rms = float(np.sqrt(np.mean(signal**2)))
    snr = signal_rms / noise_rms if noise_rms > 0 else math.inf
    if not math.isfinite(snr):
        snr = 1e9
    scale = waveform.calibration_pa_per_count
    peak = float(np.max(np.abs(signal))) * (scale if scale is not None else 1.0)
    start = waveform.start_s + (first + n0) / rate
    dominant_hz = _dominant_frequency(signal, rate, config)
    return Detection(
        station=waveform.id,
        onset_s=waveform.start_s + (first + onset) / rate,
        onset_sigma_s=math.hypot(sigma_s, 0.05 / dominant_hz),
        snr=snr,
        amplitude=peak,
        amplitude_unit="Pa" if scale is not None else "counts",
        dominant_frequency_hz=dominant_hz,
        window_start_s=start,
        window_end_s=waveform.start_s + (first + n1) / rate,
        waveform_sha256=waveform.raw_sha256(first + n0, first + n1),
    )
