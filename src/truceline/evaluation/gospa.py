"""GOSPA of fused events against the truth, with Stone Soup as an independent scorer.

The Generalized Optimal Sub-Pattern Assignment metric (Rahmathullah,
García-Fernández & Svensson 2017) scores a set of estimates against a set of
true objects in one number that splits into localisation error, missed
objects and false objects. Here it is computed by Stone Soup's
:class:`stonesoup.metricgenerator.ospametric.GOSPAMetric` (``alpha = 2``;
its own Jonker–Volgenant assignment), on states built from the events:

* each event is the state vector ``(x, y, v·t_start, v·t_end)``: position in
  the truth's metric frame (metres east, north) and its time window scaled
  by a speed ``v`` (:attr:`GospaSettings.speed_mps`, default 1 m/s: a minute
  apart costs as much as 60 m apart);
* the distance between two states is ``sqrt(dx² + dy² + (v·gap)²)`` with
  ``gap`` the time between their windows, zero when they overlap
  (:class:`WindowGap`). For instantaneous events this is exactly the
  Euclidean distance of ``(x, y, v·t)``; for events that last (a weapon group
  present for days, a burn for hours) it does not penalise a sighting made
  at any moment of the event. (With windows the triangle inequality can
  fail, so strictly it is a GOSPA-type score rather than a metric.)
* traces (a crater, a scar, a trench seen later) have their window extended
  into the past by their look-back
  (:data:`truceline.evaluation.items.TRACE_LOOKBACK_S`);
* events of different categories (:data:`~truceline.evaluation.items.CATEGORY`:
  firing, equipment, thermal, ...) never pair: GOSPA is the sum over
  categories (with ``p = 1`` the components simply add; for other ``p`` their
  ``p``-th powers do).

Unlike the F1 scorer it knows no kind compatibility beyond the category and
no gates beyond the cut-off ``c``; a pair farther apart than ``c`` costs as
much as a miss plus a false event (``c^p / 2`` each). So a fire lit by a
shell (thermal) or a ground change where shells fell (ground) that fusion did
not merge into the shelling is a false event here, and a duplicate there. The true events scored
are the *locatable* ones (:func:`truceline.evaluation.items.locatable`).

Each connected group of states closer than ``c`` is scored by Stone Soup on
its own and the groups' components are added: pairs farther apart than ``c``
never change the optimum, so the sum is the GOSPA of the whole sets (a test
checks this against one call on everything).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
from scipy.spatial import cKDTree
from stonesoup.measures import Measure
from stonesoup.metricgenerator.ospametric import GOSPAMetric
from stonesoup.types.array import StateVector
from stonesoup.types.state import State

from truceline.evaluation.assignment import groups
from truceline.evaluation.items import TRACE_LOOKBACK_S, ScoredItem

__all__ = ["GospaSettings", "WindowGap", "gospa_score", "to_state"]

#: The one timestamp every state carries (time is inside the state vector).
_EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)


class WindowGap(Measure):  # type: ignore[misc]  # Stone Soup is untyped
    """Distance between ``(x, y, v·t_start, v·t_end)`` states: space and the gap of the windows.

    ``sqrt(dx² + dy² + g²)`` with ``g = max(0, s2 - e1, s1 - e2)`` in the
    scaled time units (metres).
    """

    def __call__(self, state1: State, state2: State) -> float:
        a = np.asarray(state1.state_vector, dtype=float).ravel()
        b = np.asarray(state2.state_vector, dtype=float).ravel()
        gap = max(b[2] - a[3], a[2] - b[3], 0.0)
        return float(np.sqrt((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + gap**2))


@dataclass(frozen=True, slots=True)
class GospaSettings:
    """Parameters of the GOSPA score.

    Attributes
    ----------
    c_m
        Cut-off distance, metres: a miss or a false event costs ``c^p / 2``.
    p
        Order of the metric (1: components add up in metres).
    speed_mps
        Speed turning time into distance, metres per second.
    """

    c_m: float = 2_000.0
    p: float = 1.0
    speed_mps: float = 1.0


def to_state(item: ScoredItem, speed_mps: float, t0: float, *, estimate: bool) -> State:
    """The Stone Soup state of an event: ``(x, y, v·(start - t0), v·(end - t0))``.

    An estimated (fused) trace's window starts its look-back earlier; ``t0``
    (epoch seconds) keeps the numbers small.
    """
    start = item.start - (TRACE_LOOKBACK_S.get(item.kind, 0.0) if estimate else 0.0)
    return State(
        StateVector([item.x, item.y, speed_mps * (start - t0), speed_mps * (item.end - t0)]),
        timestamp=_EPOCH,
    )


def _close_pairs(
    truth: Sequence[State], fused: Sequence[State], measure: WindowGap, c: float
) -> tuple[list[int], list[int]]:
    """(truth, fused) index pairs closer than ``c``: a spatial search, then the measure."""
    if not truth or not fused:
        return [], []
    t_tree = cKDTree([[float(s.state_vector[0]), float(s.state_vector[1])] for s in truth])
    f_tree = cKDTree([[float(s.state_vector[0]), float(s.state_vector[1])] for s in fused])
    rows: list[int] = []
    cols: list[int] = []
    for i, near in enumerate(t_tree.query_ball_tree(f_tree, c)):
        for j in near:
            if measure(truth[i], fused[j]) < c:
                rows.append(i)
                cols.append(int(j))
    return rows, cols


def _category_gospa(
    metric: GOSPAMetric, truth: Sequence[State], fused: Sequence[State]
) -> dict[str, float]:
    """Stone Soup's components for one category, summed over its connected groups."""
    totals = {"localisation": 0.0, "missed": 0.0, "false": 0.0, "assigned": 0.0}
    rows, cols = _close_pairs(truth, fused, metric.measure, metric.c)
    for members_t, members_f in groups(len(truth), len(fused), rows, cols):
        value, assignment = metric.compute_gospa_metric(
            [fused[j] for j in members_f], [truth[i] for i in members_t]
        )
        for key in ("localisation", "missed", "false"):
            totals[key] += abs(float(value.value[key]))
        totals["assigned"] += float(sum(1 for a in assignment if a != -1))
    return totals


def gospa_score(
    truth: Sequence[ScoredItem],
    fused: Sequence[ScoredItem],
    settings: GospaSettings | None = None,
) -> dict[str, Any]:
    """GOSPA of ``fused`` against ``truth`` (see the module docstring).

    ``truth`` should hold the true events to score (the locatable ones).

    Returns
    -------
    dict
        ``distance`` (``(localisation + missed + false)^(1/p)``),
        ``localisation``, ``missed``, ``false`` (Stone Soup's components, in
        metres^p), ``assigned``, ``missed_count``, ``false_count`` (objects:
        component / (c^p / 2)), ``mean_localisation_m`` (for ``p = 1``: per
        assigned pair), ``truth_states``, ``estimated_states``, ``by_category``
        and the settings (``c_m``, ``p``, ``alpha``, ``speed_mps``).
    """
    settings = settings or GospaSettings()
    metric = GOSPAMetric(c=settings.c_m, p=settings.p, measure=WindowGap())
    starts = [item.start for item in (*truth, *fused)]
    t0 = min(starts) if starts else 0.0
    categories = sorted({t.category for t in truth} | {f.category for f in fused})
    by_category: dict[str, dict[str, float]] = {}
    for category in categories:
        t_states = [
            to_state(t, settings.speed_mps, t0, estimate=False)
            for t in truth
            if t.category == category
        ]
        f_states = [
            to_state(f, settings.speed_mps, t0, estimate=True)
            for f in fused
            if f.category == category
        ]
        by_category[category] = _category_gospa(metric, t_states, f_states)
    unit = settings.c_m**settings.p / 2.0
    total = {
        key: sum(v[key] for v in by_category.values())
        for key in ("localisation", "missed", "false", "assigned")
    }
    distance = (total["localisation"] + total["missed"] + total["false"]) ** (1.0 / settings.p)
    return {
        "c_m": settings.c_m,
        "p": settings.p,
        "alpha": 2,
        "speed_mps": settings.speed_mps,
        "truth_states": len(truth),
        "estimated_states": len(fused),
        "distance": round(distance, 1),
        "localisation": round(total["localisation"], 1),
        "missed": round(total["missed"], 1),
        "false": round(total["false"], 1),
        "assigned": int(total["assigned"]),
        "missed_count": round(total["missed"] / unit),
        "false_count": round(total["false"] / unit),
        "mean_localisation_m": (
            round(total["localisation"] / total["assigned"], 1)
            if total["assigned"] and settings.p == 1.0
            else None
        ),
        "by_category": {
            category: {
                "localisation": round(v["localisation"], 1),
                "missed_count": round(v["missed"] / unit),
                "false_count": round(v["false"] / unit),
                "assigned": int(v["assigned"]),
            }
            for category, v in by_category.items()
        },
    }
