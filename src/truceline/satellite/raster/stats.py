"""Per-pixel change statistics on numpy blocks (dask maps them over chunks).

Every function takes and returns plain arrays of one spatial block, is
NaN-aware (a NaN input — nodata, cloud, outside the footprint — is left out of
that pixel's computation, never treated as a value), and emits no warnings for
empty pixels.

SAR statistics are z-scores: under "no change" each is approximately standard
normal, so one threshold means the same false-alarm rate everywhere, whatever
the number of valid looks at a pixel.

* :func:`welch_z` — the pixel-wise Welch t-test (PWTT, Ballinger 2025) between
  the pre and post stacks of backscatter in dB, converted to the normal
  quantile of the same tail probability under the Welch–Satterthwaite degrees
  of freedom.
* :func:`log_ratio_z` — one pre and one post image: the log-ratio divided by
  its standard deviation under L-look gamma speckle, ``sqrt(2 ψ1(L))`` in
  natural-log units (ψ1 the trigamma function).
* :func:`combine` — polarisations and orbits: the most extreme channel with a
  Šidák correction for having picked it among k (``"max"``), or Stouffer's sum
  over the channels (``"mean"``).
* :func:`stouffer_window` — spatial aggregation: Stouffer's Z over a square
  window, i.e. the focal mean times the square root of the valid count, which
  stays standard normal for independent pixels.

Optical statistics are differences of indices (:func:`normalized_difference`):
dNBR, NDVI loss and brightness change in dB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "Z_LIMIT",
    "box_sum",
    "brightness_db",
    "combine",
    "focal_mean",
    "log_ratio_z",
    "mean_over",
    "normalized_difference",
    "stouffer_window",
    "to_db",
    "welch_z",
]

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]

#: z-scores are clipped to ±Z_LIMIT: beyond it double-precision tail
#: probabilities underflow and the normal quantile is no longer finite.
Z_LIMIT = 37.0
_DB_PER_NEPER = 10.0 / math.log(10.0)


def to_db(values: npt.NDArray[np.floating], units: str) -> F32:
    """Backscatter in dB (float32); linear power ``<= 0`` (no signal / nodata) becomes NaN.

    Parameters
    ----------
    values
        Backscatter (σ0, γ0 or β0) as linear power ratio or already in dB.
    units
        ``"linear"`` or ``"db"``.
    """
    data = np.asarray(values, dtype=np.float32)
    if units == "db":
        return data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(data)  # NaN stays NaN; 0 gives -inf, negative NaN
    out *= np.float32(10.0)
    out[~np.isfinite(out)] = np.nan
    return out


def _moments(stack: npt.NDArray[np.floating]) -> tuple[F64, F64, F64]:
    """Per-pixel valid count, mean and unbiased variance over axis 0 (NaN-aware).

    Accumulated in float64 whatever the input; a block without any NaN takes
    the plain (faster) path.
    """
    if stack.shape[0] >= 2 and not np.isnan(stack).any():
        count = np.full(stack.shape[1:], float(stack.shape[0]))
        mean = stack.mean(axis=0, dtype=np.float64)
        var = stack.var(axis=0, dtype=np.float64, ddof=1)
        return count, mean, var
    valid = np.isfinite(stack)
    count = valid.sum(axis=0).astype(np.float64)
    filled = np.where(valid, stack, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = filled.sum(axis=0, dtype=np.float64) / count
        dev = np.where(valid, stack - mean, 0.0)
        var = (dev * dev).sum(axis=0) / (count - 1.0)
    return count, mean, var


#: Below this many degrees of freedom the t -> z conversion is exact (scipy);
#: at or above it Hill's approximation is within 0.004 in z (checked in the tests).
_HILL_MIN_DF = 3.0


def _hill_z(t: F64, df: F64) -> F64:
    """Normal deviate with the tail probability of Student's ``|t|`` (Hill 1970, ACM 395).

    Plain numpy, so threads run it in parallel (scipy's special functions hold
    the GIL), and about four times faster than ``ndtri(stdtr(df, -t))``.
    """
    a = df - 0.5
    b = 48.0 * a * a
    y = a * np.log1p(t * t / df)
    correction = (((-0.4 * y - 3.3) * y - 24.0) * y - 85.5) / (0.8 * y * y + 100.0 + b)
    out: F64 = ((correction + y + 3.0) / b + 1.0) * np.sqrt(y)
    return out


def _t_to_z(t: F64, df: F64) -> F64:
    """Normal quantile with the same tail probability as Student's ``t`` with ``df``."""
    magnitude = np.abs(t)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        z = _hill_z(magnitude, df)
        few = df < _HILL_MIN_DF
        if few.any():
            z[few] = -special.ndtri(special.stdtr(df[few], -magnitude[few]))
    out: F64 = np.clip(np.sign(t) * z, -Z_LIMIT, Z_LIMIT)
    return out


def welch_z(pre_db: npt.NDArray[np.floating], post_db: npt.NDArray[np.floating]) -> F64:
    """PWTT statistic: Welch's t of post vs pre (dB), as a signed z-score.

    Parameters
    ----------
    pre_db, post_db
        ``(n_pre, rows, cols)`` and ``(n_post, rows, cols)`` backscatter in dB,
        NaN where an image has no valid value.

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)``: positive where backscatter rose. NaN where either
        period has fewer than two valid values or neither varies.
    """
    n1, m1, v1 = _moments(pre_db)
    n2, m2, v2 = _moments(post_db)
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = v1 / n1, v2 / n2
        se2 = a + b
        t = (m2 - m1) / np.sqrt(se2)
        df = se2 * se2 / (a * a / (n1 - 1.0) + b * b / (n2 - 1.0))
    bad = (n1 < 2) | (n2 < 2) | ~(se2 > 0)
    z = _t_to_z(np.where(bad, 0.0, t), np.where(bad, 10.0, df))
    return np.where(bad, np.nan, z)


def log_ratio_sigma(looks: float) -> float:
    """Standard deviation (nepers) of ``ln(post/pre)`` for two independent L-look images.

    Parameters
    ----------
    looks
        Equivalent number of looks L of the gamma speckle (Sentinel-1 IW GRDH: 4.4).
    """
    return math.sqrt(2.0 * float(special.polygamma(1, looks)))


def log_ratio_z(
    pre_db: npt.NDArray[np.floating], post_db: npt.NDArray[np.floating], looks: float
) -> F64:
    """Log-ratio ``10 log10(post/pre)`` in dB scaled to a z-score under gamma speckle.

    Parameters
    ----------
    pre_db, post_db
        ``(rows, cols)`` backscatter in dB.
    looks
        Equivalent number of looks of both images.
    """
    nepers = (np.asarray(post_db, np.float64) - np.asarray(pre_db, np.float64)) / _DB_PER_NEPER
    return np.clip(nepers / log_ratio_sigma(looks), -Z_LIMIT, Z_LIMIT)


def combine(channels: Sequence[F64], how: str) -> F64:
    """Combine per-channel z-scores (polarisations x orbits) into one z per pixel.

    Parameters
    ----------
    channels
        ``(rows, cols)`` z-scores, NaN where a channel has no test.
    how
        ``"max"``: the channel with the largest ``|z|``, its two-sided p-value
        Šidák-corrected for the k channels valid at the pixel
        (``1 - (1 - p)^k``) and turned back into a signed z.
        ``"mean"``: Stouffer's ``sum(z) / sqrt(k)`` over valid channels.
    """
    stack = np.stack([np.asarray(c, dtype=np.float64) for c in channels])
    valid = np.isfinite(stack)
    k = valid.sum(axis=0).astype(np.float64)
    if len(channels) == 1:
        only: F64 = stack[0]
        return only
    if how == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(valid, stack, 0.0).sum(axis=0) / np.sqrt(k)
        return np.where(k > 0, np.clip(z, -Z_LIMIT, Z_LIMIT), np.nan)
    if how != "max":
        raise ValueError(f"unknown combination {how!r}; expected 'max' or 'mean'")
    magnitude = np.where(valid, np.abs(stack), -1.0)
    pick = np.argmax(magnitude, axis=0)
    z = np.take_along_axis(stack, pick[None], axis=0)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_two = 2.0 * special.ndtr(-np.abs(z))
        p_any = -np.expm1(k * np.log1p(-np.minimum(p_two, 1.0)))
        adjusted = -special.ndtri(p_any / 2.0)
    adjusted = np.clip(np.maximum(adjusted, 0.0), 0.0, Z_LIMIT)
    return np.where(k > 0, np.sign(z) * adjusted, np.nan)


def box_sum(values: F64, size: int) -> F64:
    """Sum over a ``size`` x ``size`` window centred on each pixel (zeros beyond the edge).

    Shifted-slice sums in a fixed order, so a pixel's sum is bit-for-bit the
    same whatever block it is computed in (chunk-size invariance).
    """
    r = size // 2
    rows, cols = values.shape
    padded = np.pad(values, r)
    across = padded[0:rows, :].copy()
    for i in range(1, size):
        across += padded[i : i + rows, :]
    out = across[:, 0:cols].copy()
    for j in range(1, size):
        out += across[:, j : j + cols]
    return out


def stouffer_window(z: npt.NDArray[np.floating], size: int) -> F32:
    """Stouffer's Z over a ``size`` x ``size`` window centred on each pixel.

    ``sum(valid z in window) / sqrt(valid count)``: standard normal under "no
    change" when pixels are independent, and a matched filter for a change of
    the window's size. Pixels whose own z is NaN stay NaN; near the block edge
    only the pixels present count (dask supplies the halo between chunks).
    """
    data = np.asarray(z, dtype=np.float64)
    valid = np.isfinite(data)
    if size <= 1:
        return data.astype(np.float32)
    sums = box_sum(np.where(valid, data, 0.0), size)
    counts = box_sum(valid.astype(np.float64), size)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = sums / np.sqrt(counts)
    return np.where(valid, np.clip(out, -Z_LIMIT, Z_LIMIT), np.nan).astype(np.float32)


def focal_mean(values: npt.NDArray[np.floating], size: int) -> F32:
    """NaN-aware mean over a ``size`` x ``size`` window; NaN pixels stay NaN."""
    data = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(data)
    if size <= 1:
        return data.astype(np.float32)
    sums = box_sum(np.where(valid, data, 0.0), size)
    counts = box_sum(valid.astype(np.float64), size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(valid, sums / counts, np.nan).astype(np.float32)


def normalized_difference(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> F64:
    """``(a - b) / (a + b)`` (NBR with NIR, SWIR2; NDVI with NIR, red); NaN where undefined."""
    x = np.asarray(a, dtype=np.float64)
    y = np.asarray(b, dtype=np.float64)
    total = x + y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total != 0, (x - y) / total, np.nan)


def mean_over(stack: npt.NDArray[np.floating]) -> F64:
    """NaN-aware mean over axis 0 (a composite of several images); NaN where none is valid."""
    valid = np.isfinite(stack)
    count = valid.sum(axis=0)
    total = np.where(valid, stack, 0.0).sum(axis=0, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.where(count > 0, total / count, np.nan)
    return out


def brightness_db(pre: F64, post: F64) -> F64:
    """Brightness change ``10 log10(post/pre)`` in dB; NaN where either is ``<= 0``."""
    ok = (pre > 0) & (post > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ok, post / np.where(ok, pre, 1.0), np.nan)
        return np.where(ok, 10.0 * np.log10(np.where(ok, ratio, 1.0)), np.nan)
