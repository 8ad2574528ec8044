"""Event confidence from source reliabilities, counting correlated sources once.

Each observation ``i`` of a real event is taken to be a detection that is right
with probability ``p_i = reliability(sensor_i) * confidence_i`` (the sensor's
prior reliability times the confidence the sensor itself reported). Detections
by the **same sensor** are correlated — the same microphone hearing the same
noise, the same drone looking at the same decoy — so a sensor contributes only
its best detection. Different sensors are treated as independent, and the event
is real unless every one of them is wrong (noisy-OR)::

    P(real) = 1 - prod_s (1 - max_{i in s} p_i)

This baseline does not model correlation between sensors of one network (a
shared classifier, a shared atmosphere); the fusion issue calibrates that.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["noisy_or_by_source"]


def noisy_or_by_source(contributions: Iterable[tuple[str, float]]) -> tuple[float, int]:
    """Combine ``(source_id, probability)`` pairs.

    Returns
    -------
    tuple
        ``(confidence, independent_sources)``: the noisy-OR over the best
        probability of each source, and the number of distinct sources.
    """
    best: dict[str, float] = {}
    for source, probability in contributions:
        p = min(max(float(probability), 0.0), 1.0)
        best[source] = max(best.get(source, 0.0), p)
    miss = 1.0
    for source in sorted(best):
        miss *= 1.0 - best[source]
    return round(1.0 - miss, 12), len(best)
