"""Is a stated probability what it claims? Reliability diagrams, Brier scores, recalibration.

A forecaster of binary outcomes (an event is real; it is real *and* of the
stated kind) is *calibrated* when, among the cases it gives probability ``p``,
a fraction ``p`` turn out true. This module measures that:

* :func:`reliability_diagram`: predictions binned by value (equal-width bins
  on [0, 1]); per bin the mean prediction, the observed frequency, the count
  and a 95 % Wilson score interval of the frequency (:func:`wilson_interval`),
  which stays inside [0, 1] and is honest for small or extreme bins. A
  calibrated forecaster's bins lie on the diagonal within their intervals.
* :func:`brier_score`: the mean squared error of the probabilities, with
  Murphy's (1973) decomposition over the same bins::

      BS ≈ reliability − resolution + uncertainty

  *reliability* (lower is better) is the count-weighted squared gap between
  each bin's mean prediction and its observed frequency — the miscalibration;
  *resolution* (higher is better) how far the bins' frequencies spread from
  the base rate; *uncertainty* the base rate's variance ``ō (1 − ō)``. The
  identity is exact when predictions within a bin are equal; otherwise the
  within-bin spread of predictions leaves a small remainder, reported as
  ``remainder`` so that the four terms add up to the score.
* :func:`expected_calibration_error`: count-weighted mean absolute gap.
* :func:`fit_isotonic`: a monotone recalibration map fitted by the
  pool-adjacent-violators algorithm (isotonic regression of outcomes on
  predictions), applied by linear interpolation between its knots
  (:class:`CalibrationMap`). It must be fitted on some scenarios and
  evaluated on others: on its own training data it is optimistic.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BrierScore",
    "CalibrationMap",
    "ReliabilityBin",
    "brier_score",
    "calibration_summary",
    "expected_calibration_error",
    "fit_isotonic",
    "reliability_diagram",
    "wilson_interval",
]

#: Two-sided 95 % normal quantile.
Z95: Final = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Parameters
    ----------
    successes, trials
        Counts (``0 <= successes <= trials``, ``trials > 0``).
    z
        Normal quantile (1.96 for 95 %).

    Returns
    -------
    tuple
        ``(low, high)`` within [0, 1].
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def _arrays(predicted: ArrayLike, outcomes: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    p = np.asarray(predicted, dtype=float).ravel()
    o = np.asarray(outcomes, dtype=float).ravel()
    if p.shape != o.shape:
        raise ValueError(f"{p.size} predictions but {o.size} outcomes")
    if p.size == 0:
        raise ValueError("no predictions")
    if not np.all(np.isfinite(p)) or np.any((p < 0.0) | (p > 1.0)):
        raise ValueError("predictions must be probabilities in [0, 1]")
    if np.any((o != 0.0) & (o != 1.0)):
        raise ValueError("outcomes must be 0/1 (or booleans)")
    return p, o


def _bin_index(p: NDArray[Any], bins: int) -> NDArray[Any]:
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    index: NDArray[Any] = np.minimum((p * bins).astype(int), bins - 1)
    return index


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """One bin of a reliability diagram.

    Attributes
    ----------
    lower, upper
        The bin's range of predicted probability (``[lower, upper)``, the last
        bin closed).
    count
        Predictions in the bin.
    mean_predicted
        Their mean.
    observed
        Fraction of them whose outcome was true.
    wilson_low, wilson_high
        95 % Wilson interval of ``observed``.
    """

    lower: float
    upper: float
    count: int
    mean_predicted: float
    observed: float
    wilson_low: float
    wilson_high: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (rounded)."""
        return {
            "bin": [round(self.lower, 4), round(self.upper, 4)],
            "count": self.count,
            "mean_predicted": round(self.mean_predicted, 4),
            "observed": round(self.observed, 4),
            "wilson95": [round(self.wilson_low, 4), round(self.wilson_high, 4)],
        }


def reliability_diagram(
    predicted: ArrayLike, outcomes: ArrayLike, bins: int = 10
) -> list[ReliabilityBin]:
    """Reliability diagram of probabilistic predictions of binary outcomes.

    Parameters
    ----------
    predicted
        Predicted probabilities, in [0, 1].
    outcomes
        What happened (1/True or 0/False), one per prediction.
    bins
        Number of equal-width bins on [0, 1].

    Returns
    -------
    list
        The non-empty bins, in increasing order of probability.
    """
    p, o = _arrays(predicted, outcomes)
    index = _bin_index(p, bins)
    result = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n == 0:
            continue
        k = int(o[mask].sum())
        low, high = wilson_interval(k, n)
        result.append(
            ReliabilityBin(b / bins, (b + 1) / bins, n, float(p[mask].mean()), k / n, low, high)
        )
    return result


@dataclass(frozen=True, slots=True)
class BrierScore:
    """Brier score and its Murphy decomposition.

    Attributes
    ----------
    score
        Mean squared difference between predictions and outcomes (0 is perfect).
    reliability
        Miscalibration term (0 when every bin's frequency equals its mean prediction).
    resolution
        How much the bins' frequencies differ from the base rate.
    uncertainty
        ``base_rate (1 - base_rate)``.
    remainder
        ``score - (reliability - resolution + uncertainty)``: the within-bin
        spread of predictions (0 when predictions within a bin are equal).
    base_rate
        Fraction of true outcomes.
    count
        Number of predictions.
    """

    score: float
    reliability: float
    resolution: float
    uncertainty: float
    remainder: float
    base_rate: float
    count: int

    @property
    def skill(self) -> float:
        """Brier skill score against always forecasting the base rate (1 is perfect)."""
        return 1.0 - self.score / self.uncertainty if self.uncertainty > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (rounded)."""
        return {
            "brier": round(self.score, 5),
            "reliability": round(self.reliability, 5),
            "resolution": round(self.resolution, 5),
            "uncertainty": round(self.uncertainty, 5),
            "remainder": round(self.remainder, 5),
            "skill": round(self.skill, 4),
            "base_rate": round(self.base_rate, 4),
            "count": self.count,
        }


def brier_score(predicted: ArrayLike, outcomes: ArrayLike, bins: int = 10) -> BrierScore:
    """Brier score with its reliability/resolution/uncertainty decomposition.

    Parameters
    ----------
    predicted, outcomes
        As for :func:`reliability_diagram`.
    bins
        Bins of the decomposition (equal width on [0, 1]).
    """
    p, o = _arrays(predicted, outcomes)
    n = p.size
    score = float(np.mean((p - o) ** 2))
    base = float(o.mean())
    index = _bin_index(p, bins)
    reliability = resolution = 0.0
    for b in range(bins):
        mask = index == b
        nb = int(mask.sum())
        if nb == 0:
            continue
        mean_p = float(p[mask].mean())
        freq = float(o[mask].mean())
        reliability += nb * (mean_p - freq) ** 2
        resolution += nb * (freq - base) ** 2
    reliability /= n
    resolution /= n
    uncertainty = base * (1.0 - base)
    remainder = score - (reliability - resolution + uncertainty)
    return BrierScore(score, reliability, resolution, uncertainty, remainder, base, n)


def expected_calibration_error(predicted: ArrayLike, outcomes: ArrayLike, bins: int = 10) -> float:
    """Count-weighted mean of ``|mean predicted - observed|`` over the bins."""
    diagram = reliability_diagram(predicted, outcomes, bins)
    total = sum(b.count for b in diagram)
    return sum(b.count * abs(b.mean_predicted - b.observed) for b in diagram) / total


def calibration_summary(
    predicted: ArrayLike, outcomes: ArrayLike, bins: int = 10
) -> dict[str, Any]:
    """Diagram, Brier decomposition and ECE as one JSON-ready mapping."""
    return {
        "brier": brier_score(predicted, outcomes, bins).to_dict(),
        "ece": round(expected_calibration_error(predicted, outcomes, bins), 5),
        "diagram": [b.to_dict() for b in reliability_diagram(predicted, outcomes, bins)],
    }


@dataclass(frozen=True, slots=True)
class CalibrationMap:
    """A monotone map from stated to calibrated probability.

    Attributes
    ----------
    knots
        ``(stated, calibrated)`` pairs, increasing in both; the map interpolates
        linearly between them and is constant beyond the first and last.
    provenance
        How the map was produced (data, seeds, method), kept with it.
    """

    knots: tuple[tuple[float, float], ...]
    provenance: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not self.knots:
            raise ValueError("a calibration map needs at least one knot")
        xs = [x for x, _ in self.knots]
        ys = [y for _, y in self.knots]
        if any(not 0.0 <= v <= 1.0 for v in xs + ys):
            raise ValueError("calibration knots must lie in [0, 1]")
        if any(b <= a for a, b in itertools.pairwise(xs)):
            raise ValueError("calibration knots must have strictly increasing stated values")
        if any(b < a for a, b in itertools.pairwise(ys)):
            raise ValueError("calibration knots must not decrease")

    def __call__(self, predicted: ArrayLike) -> NDArray[Any]:
        """Calibrated probabilities of ``predicted``."""
        xs = np.array([x for x, _ in self.knots])
        ys = np.array([y for _, y in self.knots])
        return np.asarray(np.interp(np.asarray(predicted, dtype=float), xs, ys))

    def rounded(self, digits: int = 6) -> CalibrationMap:
        """The map with knots rounded (a knot whose stated value rounds onto its
        predecessor's is dropped), so that writing and reading it back is exact."""
        knots: list[tuple[float, float]] = []
        for x, y in self.knots:
            knot = (round(x, digits), round(y, digits))
            if knots and knot[0] <= knots[-1][0]:
                continue
            knots.append((knot[0], max(knot[1], knots[-1][1]) if knots else knot[1]))
        return CalibrationMap(tuple(knots), self.provenance)

    def to_dict(self) -> dict[str, Any]:
        """YAML/JSON-ready form (knots rounded to 6 decimals, see :meth:`rounded`)."""
        return {
            "knots": [list(knot) for knot in self.rounded().knots],
            "provenance": dict(self.provenance),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationMap:
        """Rebuild from :meth:`to_dict` output."""
        knots = data.get("knots")
        if not isinstance(knots, list) or not all(
            isinstance(k, list | tuple) and len(k) == 2 for k in knots
        ):
            raise ValueError("knots: expected a list of [stated, calibrated] pairs")
        provenance = data.get("provenance") or {}
        if not isinstance(provenance, Mapping):
            raise ValueError("provenance: expected a mapping")
        return cls(tuple((float(x), float(y)) for x, y in knots), dict(provenance))


def fit_isotonic(
    predicted: ArrayLike,
    outcomes: ArrayLike,
    provenance: Mapping[str, Any] | None = None,
    min_block: int = 1,
) -> CalibrationMap:
    """Isotonic (pool-adjacent-violators) recalibration of predictions.

    Parameters
    ----------
    predicted, outcomes
        Training predictions and outcomes.
    provenance
        Stored with the map.
    min_block
        Smallest number of predictions a knot may stand for: adjacent blocks
        are pooled until each holds at least this many (a block of three
        cases says little about a probability).

    Returns
    -------
    CalibrationMap
        Knots at the mean prediction of each pooled block, with its observed
        frequency.
    """
    p, o = _arrays(predicted, outcomes)
    order = np.argsort(p, kind="stable")
    # Start with one block per distinct prediction value.
    _, starts = np.unique(p[order], return_index=True)
    ends = [*starts[1:], p.size]
    blocks: list[list[float]] = []  # [sum_p, sum_o, count]
    for s, e in zip(starts, ends, strict=True):
        idx = order[s:e]
        blocks.append([float(p[idx].sum()), float(o[idx].sum()), float(e - s)])
        # Pool while the new block's frequency is below its predecessor's.
        while len(blocks) > 1 and _violates(blocks[-2], blocks[-1], min_block):
            last = blocks.pop()
            for i in range(3):
                blocks[-1][i] += last[i]
    if len(blocks) > 1 and blocks[-1][2] < min_block:
        last = blocks.pop()
        for i in range(3):
            blocks[-1][i] += last[i]
    knots = [(b[0] / b[2], b[1] / b[2]) for b in blocks]
    return CalibrationMap(tuple(knots), dict(provenance or {}))


def _violates(previous: Sequence[float], current: Sequence[float], min_block: int) -> bool:
    """Whether two adjacent blocks must be pooled."""
    if previous[2] < min_block:
        return True
    return current[1] / current[2] < previous[1] / previous[2]
