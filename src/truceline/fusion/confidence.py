"""Event confidence: is it real, and is it what we say it is?

An event's confidence is ``P(real) * P(kind)``:

``P(real)``
    Each contributing sensor ``s`` is a detection that is genuine (not a false
    alarm of that sensor) with its prior reliability ``r_s``. Detections by the
    **same sensor** are correlated — the same microphone hearing the same noise,
    the same drone looking at the same decoy — so a sensor counts once.
    Different sensors are treated as independent, and the event is real unless
    every one of them is a false alarm (noisy-OR)::

        P(real) = 1 - prod_s (1 - r_s)

``P(kind)``
    The sensors that classify (an acoustic sensor's edge classifier, a drone
    detector) each give the probability ``c_s`` of the class they report. For
    the event's kind, a sensor that reported it contributes ``c_s`` and one that
    reported another class contributes ``1 - c_s``; independent opinions are
    pooled in log-odds from an even prior::

        logit P(kind) = sum_s logit(c_s)

    with ``c_s`` clipped to [0.05, 0.95] so that no single sensor is decisive.
    Three sensors each 30 % sure that thunder was an explosion give 7 %, not
    the 66 % a noisy-OR of their confidences would. Sensors that only
    corroborate that *something* happened (a satellite hot spot, a crater
    found later) contribute to ``P(real)`` but not to ``P(kind)``.

This baseline does not model correlation between sensors of one network (a
shared classifier, a shared atmosphere); the fusion issue calibrates that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Contribution", "event_confidence", "noisy_or_by_source", "pooled_kind_probability"]

_CLIP = (0.05, 0.95)


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
        The sensor's prior probability that a detection is genuine, in [0, 1].
    classifies
        Whether its kind is a classification of the event (True) or only
        corroboration that something happened (False).
    """

    sensor: str
    kind: str
    confidence: float
    reliability: float
    classifies: bool = True


def noisy_or_by_source(contributions: Iterable[tuple[str, float]]) -> tuple[float, int]:
    """Noisy-OR over the best probability of each source.

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

    Each sensor gives one opinion: its most confident report in favour if it
    made one, else its most confident report against. Returns ``None`` when no
    sensor classifies.
    """
    favour: dict[str, float] = {}
    against: dict[str, float] = {}
    for c in contributions:
        if not c.classifies:
            continue
        if c.kind in kinds:
            favour[c.sensor] = max(favour.get(c.sensor, 0.0), c.confidence)
        else:
            against[c.sensor] = max(against.get(c.sensor, 0.0), c.confidence)
    sensors = sorted(set(favour) | set(against))
    if not sensors:
        return None
    total = 0.0
    for sensor in sensors:
        p = favour[sensor] if sensor in favour else 1.0 - against[sensor]
        p = min(max(p, _CLIP[0]), _CLIP[1])
        total += math.log(p / (1.0 - p))
    return 1.0 / (1.0 + math.exp(-total))


def event_confidence(
    contributions: Iterable[Contribution], kinds: frozenset[str]
) -> tuple[float, float, float, int]:
    """``(confidence, p_real, p_kind, independent_sources)`` of an event."""
    items = list(contributions)
    p_real, sources = noisy_or_by_source((c.sensor, c.reliability) for c in items)
    p_kind = pooled_kind_probability(items, kinds)
    if p_kind is None:
        p_kind = 1.0
    return round(p_real * p_kind, 6), round(p_real, 6), round(p_kind, 6), sources
