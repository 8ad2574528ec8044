"""The scene's null distribution, the false-discovery-rate threshold and q-values.

While the statistic is written, chunk by chunk, a fixed-bin histogram of it
is accumulated (:class:`Histogram`: bounded memory whatever the scene size).
From it:

* the **null model** (:class:`NullModel`): how the statistic is distributed
  where nothing changed. SAR z-scores have a theoretical null, N(0, 1); the
  *empirical* null (Efron 2004) keeps centre 0 but scales by the robust spread
  of the scene, ``1.4826 · median(|x|)``, which absorbs speckle that is
  spatially correlated or not quite gamma. Optical differences (dNBR, NDVI,
  brightness) have no theoretical null: centre = median, scale = 1.4826 · MAD.
* the **Benjamini–Hochberg threshold**: the smallest threshold ``t`` with
  ``N · p(t) / C(t) <= alpha``, N the valid pixels, p the null tail and C the
  pixels at least as extreme as t — the default detection threshold;
* **q-values**: ``q(x) = min over t <= x of N · p(t) / C(t)``, the estimated
  fraction of false alarms among all scene pixels at least as extreme as x.
  A change polygon's confidence is ``1 - q(peak)``;
* the detector's **reliability** (:func:`reliability_prior`): ``1 - FDR`` of
  the Benjamini–Hochberg threshold, or ``1 - q`` of a given one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = ["FdrTable", "Histogram", "NullModel", "fit_null", "reliability_prior"]

_MAD_TO_SIGMA = 1.4826


@dataclass
class Histogram:
    """Counts of finite values in ``bins`` equal bins over ``[-limit, limit]``.

    Values beyond the range fall in the end bins (they are far in the tails,
    where only their count matters).
    """

    limit: float
    bins: int = 16000
    counts: npt.NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        self.counts = np.zeros(self.bins, dtype=np.int64)

    @property
    def width(self) -> float:
        """Bin width in the statistic's units."""
        return 2.0 * self.limit / self.bins

    @property
    def total(self) -> int:
        """Number of finite values counted."""
        return int(self.counts.sum())

    def block_counts(self, block: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
        """Counts of one block (combine with :meth:`add`; safe to call from threads)."""
        values = np.asarray(block, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]
        index = np.clip(((values + self.limit) / self.width).astype(np.int64), 0, self.bins - 1)
        return np.bincount(index, minlength=self.bins).astype(np.int64)

    def add(self, counts: npt.NDArray[np.int64]) -> None:
        """Add counts from :meth:`block_counts`."""
        self.counts += counts

    @property
    def edges(self) -> npt.NDArray[np.float64]:
        """The ``bins + 1`` bin edges."""
        return np.linspace(-self.limit, self.limit, self.bins + 1)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile, linearly interpolated inside its bin."""
        total = self.total
        if total == 0:
            return float("nan")
        cumulative = np.cumsum(self.counts)
        target = q * total
        index = int(np.searchsorted(cumulative, target, side="left"))
        index = min(index, self.bins - 1)
        before = cumulative[index - 1] if index > 0 else 0
        inside = self.counts[index]
        fraction = 0.5 if inside == 0 else (target - before) / inside
        return float(-self.limit + (index + fraction) * self.width)

    def abs_median(self, centre: float) -> float:
        """Median of ``|x - centre|`` (bin resolution)."""
        total = self.total
        if total == 0:
            return float("nan")
        mids = self.edges[:-1] + self.width / 2.0
        distance = np.abs(mids - centre)
        order = np.argsort(distance, kind="stable")
        cumulative = np.cumsum(self.counts[order])
        index = int(np.searchsorted(cumulative, 0.5 * total, side="left"))
        return float(distance[order[min(index, self.bins - 1)]] + self.width / 2.0)


@dataclass(frozen=True)
class NullModel:
    """The statistic's distribution without change: ``(x - centre) / scale ~ N(0, 1)``.

    Attributes
    ----------
    centre, scale
        In the statistic's units.
    two_sided
        Whether changes of both signs are sought (``|x - centre|`` large) or
        only increases.
    source
        ``"theoretical"`` or ``"empirical"``.
    """

    centre: float
    scale: float
    two_sided: bool
    source: str

    def z(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Standardised statistic."""
        return (np.asarray(x, dtype=np.float64) - self.centre) / self.scale

    def p_value(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Tail probability of a value at least as extreme as ``x`` (per pixel, no correction)."""
        z = self.z(x)
        if self.two_sided:
            return np.asarray(2.0 * special.ndtr(-np.abs(z)), dtype=np.float64)
        return np.asarray(special.ndtr(-z), dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "centre": self.centre,
            "scale": self.scale,
            "two_sided": self.two_sided,
            "source": self.source,
        }


def fit_null(histogram: Histogram, *, two_sided: bool, empirical: bool) -> NullModel:
    """The null model of a scene from its histogram.

    Parameters
    ----------
    histogram
        The statistic's histogram over the valid pixels.
    two_sided
        Centre fixed at 0 (a signed z-score); else centre = median.
    empirical
        Scale from the scene's robust spread; ``False`` means the theoretical
        N(0, 1) (only for z-scores, which need ``two_sided``).
    """
    floor = 2.0 * histogram.width
    if not empirical:
        return NullModel(0.0, 1.0, two_sided, "theoretical")
    centre = 0.0 if two_sided else histogram.quantile(0.5)
    spread = _MAD_TO_SIGMA * histogram.abs_median(centre)
    if not np.isfinite(centre):
        centre, spread = 0.0, 1.0
    scale = max(float(spread), floor) if np.isfinite(spread) else 1.0
    return NullModel(float(centre), scale, two_sided, "empirical")


def _tail_counts(histogram: Histogram, null: NullModel) -> tuple[npt.NDArray[np.float64], ...]:
    """Candidate thresholds (bin edges) with the count at or beyond each and its p-value."""
    edges = histogram.edges
    above = np.cumsum(histogram.counts[::-1])[::-1]  # count of values >= edges[i]
    if null.two_sided:
        below = np.cumsum(histogram.counts)  # count of values < edges[i + 1]
        mid = histogram.bins // 2
        # |x| >= t for t = edges[mid + j] (= j * width): above[mid + j] + below[mid - j - 1].
        j = np.arange(0, histogram.bins - mid)
        thresholds = edges[mid + j]
        extreme = above[mid + j] + np.where(mid - j - 1 >= 0, below[np.maximum(mid - j - 1, 0)], 0)
    else:
        start = int(np.searchsorted(edges, null.centre))
        thresholds = edges[start:-1]
        extreme = above[start:]
    p = null.p_value(thresholds)
    return thresholds, extreme.astype(np.float64), p


class FdrTable:
    """Benjamini–Hochberg quantities of one scene, precomputed for fast look-ups.

    Parameters
    ----------
    histogram
        The statistic's histogram over the valid pixels.
    null
        The scene's null model.
    """

    def __init__(self, histogram: Histogram, null: NullModel) -> None:
        self.null = null
        self.total = histogram.total
        self.thresholds, self.extreme, p = _tail_counts(histogram, null)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.ratio = np.where(
                self.extreme > 0, self.total * p / np.maximum(self.extreme, 1.0), np.inf
            )
        self.running_min = np.minimum.accumulate(self.ratio) if self.ratio.size else self.ratio

    def threshold(self, alpha: float) -> float | None:
        """The BH threshold at false-discovery rate ``alpha``; None when no pixel passes.

        In the statistic's units: a pixel is a discovery when its value (its
        absolute value for a two-sided null) is at least the threshold.
        """
        ok = (self.extreme > 0) & (self.ratio <= alpha)
        if not ok.any():
            return None
        return float(self.thresholds[int(np.argmax(ok))])

    def q_value(self, x: float) -> float:
        """The q-value of a pixel value ``x`` (see the module notes), in [0, 1]."""
        if self.total == 0 or not np.isfinite(x):
            return 1.0
        value = abs(x) if self.null.two_sided else x
        index = int(np.searchsorted(self.thresholds, value, side="right")) - 1
        if index < 0:
            return 1.0
        # Pixels at least as extreme as x: at least those beyond the next bin edge
        # (never more, so this errs on the side of a larger q).
        beyond = self.extreme[index + 1] if index + 1 < self.extreme.size else 0.0
        own = self.total * float(self.null.p_value(value)) / max(beyond, 1.0)
        return float(min(1.0, self.running_min[index], own))


def reliability_prior(
    given: float | None, table: FdrTable, threshold: float | None, source: str, fdr: float
) -> tuple[float, str]:
    """The detector's reliability (for its sensor record) and where it came from.

    Parameters
    ----------
    given
        A reliability chosen by the user (returned as is), or None.
    table
        The scene's Benjamini–Hochberg quantities.
    threshold
        The threshold used (None: nothing passed).
    source
        Where it came from: ``"given"`` for a user's threshold.
    fdr
        The run's false-discovery rate.

    Notes
    -----
    Default: the false-discovery control of the threshold. With the
    Benjamini–Hochberg threshold (or the dNBR floor above it) at most a
    fraction ``fdr`` of the detected pixels is expected to be noise:
    ``1 - fdr``. With a given threshold, ``1 - q(threshold)``, the estimated
    false-discovery proportion of pixels beyond it, kept in [0.01, 0.99].
    """
    if given is not None:
        return given, "given"
    if threshold is None or source != "given":
        return 1.0 - fdr, f"1 - FDR ({fdr}) of the Benjamini-Hochberg threshold"
    q = table.q_value(threshold)
    value = min(max(1.0 - q, 0.01), 0.99)
    return round(value, 6), f"1 - q-value ({q:.4g}) of the given threshold"
