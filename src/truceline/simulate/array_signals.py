"""Waveform synthesis for the simulated infrasound array: noise, pulses and nuisances.

Every signal is evaluated analytically at the sample times, so sub-sample delays
between array elements survive sampling exactly (no shifting of sampled
pulses). Pressures are in pascals, times in seconds from the trace start.

* **Background noise** per element: incoherent wind noise (red, an AR(1)
  process with coefficient 0.9, RMS rising with the day's wind speed) plus a
  coherent microbarom (three sinusoids at 0.15–0.3 Hz, 0.02 Pa each, crossing
  the array as a plane wave at 340 m/s).
* **Impulses**: a Ricker wavelet ``(1 - 2 (pi f tau)^2) exp(-(pi f tau)^2)``
  whose peak (value 1) lies exactly at the arrival time, with ``f`` the
  pulse's peak frequency (duration about ``1 / f``: 0.1–0.5 s for shells).
* **Vehicles**: an engine tone (fundamental 8–15 Hz plus its second harmonic)
  under a Gaussian envelope tens of seconds long, coherent across the array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.signal import lfilter

__all__ = ["Pulse", "Tone", "add_pulse", "add_tone", "background_noise", "ricker"]

#: AR(1) coefficient of the wind noise (50 Hz samples: a corner near 1 Hz).
_WIND_AR: Final = 0.9
#: Plane-wave speed of the microbarom across the array, m/s.
_MICROBAROM_SPEED_MPS: Final = 340.0


@dataclass(frozen=True, slots=True)
class Pulse:
    """An impulsive arrival at one element.

    Attributes
    ----------
    time_s
        Arrival time of the pulse peak, seconds from the trace start.
    amplitude_pa
        Peak overpressure, pascals.
    frequency_hz
        Peak frequency of the Ricker wavelet, hertz.
    """

    time_s: float
    amplitude_pa: float
    frequency_hz: float


@dataclass(frozen=True, slots=True)
class Tone:
    """A vehicle's engine tone at one element.

    Attributes
    ----------
    centre_s
        Time of the envelope maximum at this element, seconds from the trace start.
    width_s
        Standard deviation of the Gaussian envelope, seconds.
    amplitude_pa
        Envelope maximum, pascals.
    frequency_hz
        Fundamental frequency, hertz.
    phase_rad
        Phase of the fundamental at the envelope maximum, radians.
    """

    centre_s: float
    width_s: float
    amplitude_pa: float
    frequency_hz: float
    phase_rad: float


def ricker(tau_s: np.ndarray, frequency_hz: float) -> np.ndarray:
    """Ricker wavelet of unit peak at ``tau_s = 0`` (seconds), peak frequency in hertz."""
    arg = (math.pi * frequency_hz * tau_s) ** 2
    return np.asarray((1.0 - 2.0 * arg) * np.exp(-arg), dtype=float)


def _span(trace: np.ndarray, rate_hz: float, lo_s: float, hi_s: float) -> slice:
    first = max(math.floor(lo_s * rate_hz), 0)
    last = min(math.ceil(hi_s * rate_hz) + 1, trace.size)
    return slice(first, max(first, last))


def add_pulse(trace: np.ndarray, rate_hz: float, pulse: Pulse) -> None:
    """Add a Ricker pulse to ``trace`` (pascals, sampled at ``rate_hz``) in place."""
    half = 2.0 / pulse.frequency_hz
    span = _span(trace, rate_hz, pulse.time_s - half, pulse.time_s + half)
    tau = np.arange(span.start, span.stop) / rate_hz - pulse.time_s
    trace[span] += pulse.amplitude_pa * ricker(tau, pulse.frequency_hz)


def add_tone(trace: np.ndarray, rate_hz: float, tone: Tone) -> None:
    """Add a vehicle tone to ``trace`` (pascals, sampled at ``rate_hz``) in place."""
    half = 4.0 * tone.width_s
    span = _span(trace, rate_hz, tone.centre_s - half, tone.centre_s + half)
    tau = np.arange(span.start, span.stop) / rate_hz - tone.centre_s
    envelope = tone.amplitude_pa * np.exp(-0.5 * (tau / tone.width_s) ** 2)
    phase = 2.0 * math.pi * tone.frequency_hz * tau + tone.phase_rad
    trace[span] += envelope * (np.sin(phase) + 0.5 * np.sin(2.0 * phase))


def background_noise(
    rng: np.random.Generator,
    n_samples: int,
    rate_hz: float,
    offsets_m: Sequence[tuple[float, float]],
    wind_mps: float,
) -> list[np.ndarray]:
    """Background pressure of each element, pascals.

    Parameters
    ----------
    rng
        Generator of the noise draws.
    n_samples, rate_hz
        Trace length (samples) and sampling rate (hertz).
    offsets_m
        Each element's ``(east, north)`` offset from the array centre, metres.
    wind_mps
        Wind speed, m/s: the incoherent wind noise has an RMS of
        ``0.02 + 0.006 * wind`` Pa.
    """
    rms = 0.02 + 0.006 * wind_mps
    towards = rng.uniform(0.0, 2.0 * math.pi)  # microbarom propagation direction
    slowness = np.array([math.sin(towards), math.cos(towards)]) / _MICROBAROM_SPEED_MPS
    freqs = rng.uniform(0.15, 0.3, 3)
    phases = rng.uniform(0.0, 2.0 * math.pi, 3)
    t = np.arange(n_samples) / rate_hz
    traces = []
    for east, north in offsets_m:
        white = rng.normal(0.0, 1.0, n_samples)
        red = np.asarray(lfilter([1.0], [1.0, -_WIND_AR], white), dtype=float)
        red *= rms * math.sqrt(1.0 - _WIND_AR**2)
        delay = float(slowness @ np.array([east, north]))
        for f, phase in zip(freqs, phases, strict=True):
            red += 0.02 * np.sin(2.0 * math.pi * f * (t - delay) + phase)
        traces.append(red)
    return traces
