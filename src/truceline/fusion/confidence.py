"""Event confidence: is it real, and is it what we say it is?

An event's confidence is ``P(real) * P(kind)``, both computed over **source
groups**, not over detections.

Source groups (independence)
    Detections of one sensor are not independent corroboration — the same
    microphone hearing the same noise, the same drone looking twice at the same
    decoy, the same satellite re-detecting the same hot roof — and neither are
    detections of one correlated source: the elements of one array (one
    atmosphere, one beamformer), one drone flight, one processing chain. Each
    :class:`Contribution` names its group (:attr:`Contribution.source`; the
    sensor id unless the engine says otherwise, see
    :func:`truceline.fusion.reliability.source_group`), and every group counts
    **once**: through its best contribution. Taking the best is the
    fully-dependent limit of the noisy-OR below (if the detections of a group
    are perfectly correlated, the chance that at least one is genuine is the
    largest single chance); it never claims more than the evidence carries, and
    a partial-dependence model would need a correlation per group that reviews
    of a few dozen events cannot estimate. Groups are treated as independent.

``P(real)``
    A group's detection is genuine (not a false alarm) with its reliability
    ``r_g`` (configured or re-estimated from reviews,
    :mod:`truceline.fusion.reliability`). The event is real unless every group's
    detection is a false alarm (noisy-OR over independent groups)::

        P(real) = 1 - prod_g (1 - r_g)

``P(kind)``
    The groups that classify (an acoustic sensor's edge classifier, a drone
    detector) each give the probability ``c_g`` of the class they report: a
    group that reported the event's kind contributes its most confident such
    report, one that only reported other classes contributes ``1 - c`` of its
    most confident one. Independent opinions are pooled in log-odds from an
    even prior::

        logit P(kind) = sum_g logit(c_g)

    with ``c_g`` clipped to [0.05, 0.95] so that no single group is decisive.
    Three sensors each 30 % sure that thunder was an explosion give 7 %, not
    the 66 % a noisy-OR of their confidences would. Groups that only
    corroborate that *something* happened (a satellite hot spot, a crater found
    later) contribute to ``P(real)`` but not to ``P(kind)``.

Kind likelihood of a located source
    Where the question is not "is it real" but "which of two kinds is it" — a
    source heard at a gun position that most stations call an impact: a round
    of the launch or a shell landing on the gun? — the engine needs how
    likely the members' labels are under each true kind, not a vote
    (:func:`label_log_likelihoods`). A label ``l`` reported with confidence
    ``c`` says the true kind is ``l`` with probability ``c``; the rest,
    ``1 - c``, is shared among the other kinds in proportion to how often each
    is given that label, ``P(l | k)`` (the classifier's confusion rates,
    ``FusionConfig.label_confusion``, defaults :data:`DEFAULT_LABEL_CONFUSION`).
    Each label's probabilities are clipped like ``c_g`` above and the labels
    are pooled as independent evidence (a sum of logs, from an even prior).

Recalibration
    Whether these numbers mean what they say is measured on simulated
    scenarios (:mod:`truceline.evaluation.calibration_study`: reliability
    diagram, Brier score). Re-estimated reliabilities fix most of the
    miscalibration; what remains (detector scores that are not calibrated
    class probabilities, for one) can be removed by a monotone map of the final
    confidence fitted on training scenarios (``FusionConfig.confidence_map``,
    passed here as ``confidence_map``). ``P(real)`` and ``P(kind)`` are
    reported unmapped.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "DEFAULT_LABEL_CONFUSION",
    "Contribution",
    "apply_confidence_map",
    "event_confidence",
    "label_log_likelihoods",
    "noisy_or_by_source",
    "pooled_kind_probability",
]

_CLIP = (0.05, 0.95)

#: Default confusion rates of the acoustic edge classifiers,
#: ``{modality: {true kind: {label: P(label | true kind)}}}``. They are the
#: rates of the simulated edge classifier the demo scenarios are generated with
#: (:mod:`truceline.simulate.ground`, its classifier model: a launch is labelled
#: explosion/impact about one time in four, thunder explosion one time in
#: five), not field measurements: an operator with a measured confusion matrix
#: for the deployed classifiers overrides them (``label_confusion`` of the
#: fusion configuration or of a reliability file).
DEFAULT_LABEL_CONFUSION: Final[Mapping[str, Mapping[str, Mapping[str, float]]]] = {
    "acoustic": {
        "launch": {"launch": 0.72, "explosion": 0.16, "impact": 0.07, "other": 0.05},
        "impact": {"impact": 0.70, "explosion": 0.20, "launch": 0.05, "other": 0.05},
        "explosion": {"explosion": 0.78, "impact": 0.12, "launch": 0.04, "other": 0.06},
        "gunfire": {"gunfire": 0.85, "explosion": 0.05, "other": 0.10},
        "thunder": {"other": 0.8, "explosion": 0.2},
    },
}
#: ``P(label | true kind)`` of a label a kind's row does not list.
_UNLISTED_RATE = 0.01


@dataclass(frozen=True, slots=True)
class Contribution:
    """One observation's say in an event.

    Attributes
    ----------
    sensor
        The sensor id.
    kind
        The kind it reported.
    confidence
        Its classifier's probability of that kind, in [0, 1].
    reliability
        The probability that a detection of this source is genuine, in [0, 1].
    classifies
        Whether its kind is a classification of the event (True) or only
        corroboration that something happened (False).
    group
        The correlated source group it belongs to (an array, a flight, a
        processing chain); ``None`` means the sensor alone.
    """

    sensor: str
    kind: str
    confidence: float
    reliability: float
    classifies: bool = True
    group: str | None = None

    @property
    def source(self) -> str:
        """The independent source this contribution counts under."""
        return self.group if self.group is not None else self.sensor


def noisy_or_by_source(contributions: Iterable[tuple[str, float]]) -> tuple[float, int]:
    """Noisy-OR over the best probability of each source.

    Parameters
    ----------
    contributions
        ``(source, probability)`` pairs; a source may appear many times.

    Returns
    -------
    tuple
        ``(probability, distinct_sources)``.
    """
    best: dict[str, float] = {}
    for source, probability in contributions:
        p = min(max(float(probability), 0.0), 1.0)
        best[source] = max(best.get(source, 0.0), p)
    miss = 1.0
    for source in sorted(best):
        miss *= 1.0 - best[source]
    return round(1.0 - miss, 12), len(best)


def pooled_kind_probability(
    contributions: Iterable[Contribution], kinds: frozenset[str]
) -> float | None:
    """Log-odds pooled probability that the event is of one of ``kinds``.

    Each source group gives one opinion: its most confident report in favour
    if it made one, else its most confident report against. Returns ``None``
    when no group classifies.
    """
    favour: dict[str, float] = {}
    against: dict[str, float] = {}
    for c in contributions:
        if not c.classifies:
            continue
        if c.kind in kinds:
            favour[c.source] = max(favour.get(c.source, 0.0), c.confidence)
        else:
            against[c.source] = max(against.get(c.source, 0.0), c.confidence)
    sources = sorted(set(favour) | set(against))
    if not sources:
        return None
    total = 0.0
    for source in sources:
        p = favour[source] if source in favour else 1.0 - against[source]
        p = min(max(p, _CLIP[0]), _CLIP[1])
        total += math.log(p / (1.0 - p))
    return 1.0 / (1.0 + math.exp(-total))


def label_log_likelihoods(
    labels: Iterable[tuple[str, float]], confusion: Mapping[str, Mapping[str, float]]
) -> dict[str, float]:
    """Log-likelihood of a source's labels under each true kind (module docstring).

    Parameters
    ----------
    labels
        ``(label, confidence)`` of each classifying member, confidence in [0, 1].
    confusion
        ``{true kind: {label: P(label | true kind)}}`` of their modality.

    Returns
    -------
    dict
        ``{true kind: log-likelihood}`` (natural log, up to a constant common
        to all kinds); empty when there are no labels or no kinds.
    """
    kinds = sorted(confusion)
    result = dict.fromkeys(kinds, 0.0)
    seen = False
    for label, confidence in labels:
        seen = True
        rates = {k: confusion[k].get(label, _UNLISTED_RATE) for k in kinds}
        if label in confusion:
            c = min(max(float(confidence), 0.0), 1.0)
            others = sum(r for k, r in rates.items() if k != label) or 1.0
            shares = {k: c if k == label else (1.0 - c) * rates[k] / others for k in kinds}
        else:  # a label no kind is named after ("other"): the rates alone
            total = sum(rates.values()) or 1.0
            shares = {k: rates[k] / total for k in kinds}
        for k in kinds:
            result[k] += math.log(min(max(shares[k], _CLIP[0]), _CLIP[1]))
    return result if seen and kinds else {}


def apply_confidence_map(knots: Sequence[tuple[float, float]], p: float) -> float:
    """Map a probability through ``(stated, calibrated)`` knots.

    Linear between knots, constant beyond the first and last; no knots: ``p``.
    """
    if not knots:
        return p
    i = bisect.bisect_left(knots, (p, -math.inf))
    if i == 0:
        return knots[0][1]
    if i == len(knots):
        return knots[-1][1]
    (x0, y0), (x1, y1) = knots[i - 1], knots[i]
    return y0 + (y1 - y0) * (p - x0) / (x1 - x0)


def event_confidence(
    contributions: Iterable[Contribution],
    kinds: frozenset[str],
    confidence_map: Sequence[tuple[float, float]] = (),
) -> tuple[float, float, float, int]:
    """Confidence of an event from its contributions.

    Parameters
    ----------
    contributions
        One per member observation.
    kinds
        The kinds that make the event's kind right (e.g. every explosive kind
        for an explosive episode).
    confidence_map
        Recalibration knots for the final confidence (``FusionConfig.confidence_map``).

    Returns
    -------
    tuple
        ``(confidence, p_real, p_kind, independent_sources)``, the last being
        the number of source groups.
    """
    items = list(contributions)
    p_real, sources = noisy_or_by_source((c.source, c.reliability) for c in items)
    p_kind = pooled_kind_probability(items, kinds)
    if p_kind is None:
        p_kind = 1.0
    confidence = apply_confidence_map(confidence_map, p_real * p_kind)
    return round(confidence, 6), round(p_real, 6), round(p_kind, 6), sources
