"""Event-level precision, recall and F1 of fused events against the truth.

Every true event (:mod:`truceline.evaluation.items`: violations and benign
activity) is matched one-to-one to fused events by an optimal assignment
(:mod:`truceline.evaluation.assignment`): a pair is allowed when the fused
kind can stand for the true kind (:data:`~truceline.evaluation.items.COMPATIBLE`),
the positions are within the category's distance gate and the time windows
within its time gate; its cost is ``sqrt(d² + (v·gap)²)`` with ``d`` the
distance (metres), ``gap`` the time between the two windows (seconds, zero
when they overlap; a trace's window is first extended by its look-back) and
``v`` :attr:`EventGates.speed_mps`.

Counting:

* **precision** = matched / fused events;
* **recall** = matched / (matched + missed *locatable* true events): a true
  event that the sensors did not record well enough to place is a *sensing
  gap* — reported, but not held against fusion;
* **F1** their harmonic mean.

Misses and false events are labelled so that fixes can be aimed:

* missed, ``merged``: a fused event could have stood for it but stands for
  another true event (association made one event of two);
* missed, ``wrong_kind``: a fused event lies within the gates but of a kind
  that cannot stand for it (thunder called an explosion);
* missed, ``not_formed``: no fused event within the gates (nothing formed, or
  formed too far off);
* sensing gap, ``unobserved`` (no sensor recorded it) or ``not_locatable``
  (too little to place it, e.g. a blast picked at two stations);
* false, ``duplicate``: within the gates of a true event that another fused
  event stands for (association split one event in two);
* false, ``wrong_kind``: a true event lies within the gates, but the fused
  kind cannot stand for it (classification error);
* false, ``spurious``: no true event within the gates (sensor false alarms,
  mislocation).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from scipy.spatial import cKDTree

from truceline.evaluation.assignment import Pairs, assign
from truceline.evaluation.items import ScoredItem, compatible, locatable
from truceline.model.timeutil import format_utc, from_epoch

__all__ = ["DEFAULT_DISTANCE_M", "DEFAULT_WINDOW_S", "EventGates", "score_events"]

#: Distance gate per category, metres.
DEFAULT_DISTANCE_M: Final[Mapping[str, float]] = {
    "fire": 3_000.0,
    "equipment": 1_000.0,
    "presence": 1_000.0,
    "thermal": 2_000.0,
    "ground": 1_000.0,
    "other": 2_000.0,
}
#: Time gate per category, seconds between the two windows.
DEFAULT_WINDOW_S: Final[Mapping[str, float]] = {
    "fire": 1_800.0,
    "equipment": 3_600.0,
    "presence": 3_600.0,
    "thermal": 1_800.0,
    "ground": 3_600.0,
    "other": 120.0,
}
#: Labels of missed locatable true events and of false fused events (module docstring).
_MISSED: Final = ("merged", "wrong_kind", "not_formed")
_FALSE: Final = ("duplicate", "wrong_kind", "spurious")
#: Largest number of missed and of false events listed in the score.
LISTED: Final = 200


@dataclass(frozen=True, slots=True)
class EventGates:
    """Gates and costs of event-level matching.

    Attributes
    ----------
    distance_m, window_s
        Per true-event category, the largest distance (metres) and time gap
        (seconds) of an allowed pair; unlisted categories use
        ``other_distance_m`` / ``other_window_s``.
    trace_distance_m
        Distance gate of a trace (a crater, a fire lit by a shell, a scar),
        metres: traces lie where the thing happened.
    speed_mps
        Metres of cost per second of time gap (also GOSPA's speed scale).
    min_acoustic_stations
        Stations whose picks of one sound make a true event locatable.
    """

    distance_m: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_DISTANCE_M))
    window_s: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WINDOW_S))
    other_distance_m: float = 2_000.0
    other_window_s: float = 1_800.0
    trace_distance_m: float = 1_500.0
    speed_mps: float = 1.0
    min_acoustic_stations: int = 3

    def limits(self, category: str, lookback_s: float) -> tuple[float, float]:
        """``(distance m, window s)`` gate of a pair."""
        distance = self.distance_m.get(category, self.other_distance_m)
        if lookback_s > 0.0:
            distance = min(distance, self.trace_distance_m)
        return distance, self.window_s.get(category, self.other_window_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for the score file."""
        return {
            "distance_m": dict(sorted(self.distance_m.items())),
            "window_s": dict(sorted(self.window_s.items())),
            "trace_distance_m": self.trace_distance_m,
            "speed_mps": self.speed_mps,
            "min_acoustic_stations": self.min_acoustic_stations,
        }


def _by_kind(items: Sequence[ScoredItem]) -> dict[str, list[int]]:
    table: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        table.setdefault(item.kind, []).append(index)
    return table


def allowed_pairs(
    truth: Sequence[ScoredItem],
    fused: Sequence[ScoredItem],
    gates: EventGates,
    *,
    any_kind: bool = False,
) -> Pairs:
    """Every allowed (true, fused) pair with its cost (see the module docstring).

    With ``any_kind`` the kinds are not compared (no look-back either): the
    pairs that only the kinds keep apart, for labelling kind errors.
    """
    rows: list[int] = []
    cols: list[int] = []
    costs: list[float] = []
    fused_kinds = _by_kind(fused)
    for true_kind, t_index in sorted(_by_kind(truth).items()):
        t_items = [truth[i] for i in t_index]
        t_tree = cKDTree([(t.x, t.y) for t in t_items])
        for fused_kind, f_index in sorted(fused_kinds.items()):
            lookback = 0.0 if any_kind else compatible(true_kind, fused_kind)
            if lookback is None:
                continue
            max_d, max_gap = gates.limits(t_items[0].category, lookback)
            f_items = [fused[j] for j in f_index]
            f_tree = cKDTree([(f.x, f.y) for f in f_items])
            near = t_tree.sparse_distance_matrix(f_tree, max_d, output_type="ndarray")
            for i, j, distance in zip(near["i"], near["j"], near["v"], strict=True):
                t, f = t_items[int(i)], f_items[int(j)]
                gap = max(f.start - lookback - t.end, t.start - f.end, 0.0)
                if gap <= max_gap:
                    rows.append(t_index[int(i)])
                    cols.append(f_index[int(j)])
                    costs.append(float(np.hypot(distance, gates.speed_mps * gap)))
    return (
        np.asarray(rows, dtype=np.intp),
        np.asarray(cols, dtype=np.intp),
        np.asarray(costs, dtype=float),
    )


def _why(index: int, paired: set[int], near: set[int], labels: tuple[str, str, str]) -> str:
    """The first label when ``index`` had an allowed pair, the second when only the
    kinds kept it from one, else the third."""
    if index in paired:
        return labels[0]
    return labels[1] if index in near else labels[2]


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    total = precision + recall
    return round(2.0 * precision * recall / total, 4) if total else 0.0


def _counts(matched: int, found: int, locatable_missed: int) -> dict[str, Any]:
    precision = _ratio(matched, found)
    recall = _ratio(matched, matched + locatable_missed)
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def _listing(item: ScoredItem, why: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "time": format_utc(from_epoch(item.start)),
        "lon": round(item.lon, 6),
        "lat": round(item.lat, 6),
        "why": why,
    }
    if item.observed is not None:
        record["observed"] = dict(item.observed)
        record["violation"] = item.violation
    if item.modalities:
        record["modalities"] = list(item.modalities)
        record["confidence"] = item.extra.get("confidence")
    return record


def score_events(
    truth: Sequence[ScoredItem],
    fused: Sequence[ScoredItem],
    gates: EventGates | None = None,
) -> dict[str, Any]:
    """Event-level scores of ``fused`` against ``truth`` (see the module docstring).

    Returns
    -------
    dict
        ``true``, ``observed``, ``locatable``, ``found``, ``matched``,
        ``precision``, ``recall``, ``f1``, ``recall_all_true`` (matched over
        every true event), ``kind_agreement`` (share of matched pairs of the
        same kind), ``location_error_m`` (``median``, ``p90``), ``missed``
        (``merged``, ``wrong_kind``, ``not_formed``), ``sensing_gaps``
        (``unobserved``, ``not_locatable``), ``false`` (``duplicate``,
        ``wrong_kind``, ``spurious``),
        ``false_by_kind``, ``false_by_modalities``, ``by_category`` (the same
        per category), ``missed_events`` and ``false_events`` (listings, at
        most :data:`LISTED` each, association misses only), ``gates``.
    """
    gates = gates or EventGates()
    pairs = allowed_pairs(truth, fused, gates)
    chosen = assign(len(truth), len(fused), pairs)
    matched_t = {r: c for r, c, _ in chosen}
    matched_f = {c for _, c, _ in chosen}
    has_pair_t = set(pairs[0].tolist())
    has_pair_f = set(pairs[1].tolist())
    near = allowed_pairs(truth, fused, gates, any_kind=True)
    near_t, near_f = set(near[0].tolist()), set(near[1].tolist())
    can_place = [locatable(t, gates.min_acoustic_stations) for t in truth]

    missed_why: dict[int, str] = {}
    for i, item in enumerate(truth):
        if i in matched_t:
            continue
        if not can_place[i]:
            missed_why[i] = "not_locatable" if item.observed else "unobserved"
        else:
            missed_why[i] = _why(i, has_pair_t, near_t, ("merged", "wrong_kind", "not_formed"))
    false_why = {
        j: _why(j, has_pair_f, near_f, ("duplicate", "wrong_kind", "spurious"))
        for j in range(len(fused))
        if j not in matched_f
    }
    errors = [
        float(np.hypot(truth[r].x - fused[c].x, truth[r].y - fused[c].y)) for r, c, _ in chosen
    ]
    same_kind = sum(1 for r, c, _ in chosen if truth[r].kind == fused[c].kind)

    why_t = Counter(missed_why.values())
    why_f = Counter(false_why.values())
    locatable_missed = sum(why_t[k] for k in _MISSED)
    result: dict[str, Any] = {
        "true": len(truth),
        "observed": sum(1 for t in truth if t.observed is None or t.observed),
        "locatable": sum(can_place),
        "found": len(fused),
        "matched": len(chosen),
        **_counts(len(chosen), len(fused), locatable_missed),
        "recall_all_true": _ratio(len(chosen), len(truth)),
        "kind_agreement": _ratio(same_kind, len(chosen)),
        "location_error_m": {
            "median": round(float(np.median(errors)), 1) if errors else None,
            "p90": round(float(np.percentile(errors, 90)), 1) if errors else None,
        },
        "missed": {key: why_t[key] for key in _MISSED},
        "sensing_gaps": {
            "unobserved": why_t["unobserved"],
            "not_locatable": why_t["not_locatable"],
        },
        "false": {key: why_f[key] for key in _FALSE},
        "false_by_kind": dict(sorted(Counter(fused[j].kind for j in false_why).items())),
        "false_by_modalities": dict(
            sorted(Counter("+".join(fused[j].modalities) or "-" for j in false_why).items())
        ),
        "by_category": _by_category(truth, fused, chosen, missed_why, false_why, can_place),
        "missed_events": [
            _listing(truth[i], why) for i, why in sorted(missed_why.items()) if why in _MISSED
        ][:LISTED],
        "false_events": [_listing(fused[j], why) for j, why in sorted(false_why.items())][:LISTED],
        "gates": gates.to_dict(),
    }
    return result


def _by_category(
    truth: Sequence[ScoredItem],
    fused: Sequence[ScoredItem],
    chosen: Sequence[tuple[int, int, float]],
    missed_why: Mapping[int, str],
    false_why: Mapping[int, str],
    can_place: Sequence[bool],
) -> dict[str, dict[str, Any]]:
    """The counts of :func:`score_events` per category (true events by theirs, fused by theirs)."""
    categories = sorted({t.category for t in truth} | {f.category for f in fused})
    table: dict[str, dict[str, Any]] = {}
    for category in categories:
        t_index = [i for i, t in enumerate(truth) if t.category == category]
        f_index = [j for j, f in enumerate(fused) if f.category == category]
        matched_t = sum(1 for r, _, _ in chosen if truth[r].category == category)
        matched_f = sum(1 for _, c, _ in chosen if fused[c].category == category)
        why_t = Counter(missed_why[i] for i in t_index if i in missed_why)
        why_f = Counter(false_why[j] for j in f_index if j in false_why)
        precision = _ratio(matched_f, len(f_index))
        recall = _ratio(matched_t, matched_t + sum(why_t[k] for k in _MISSED))
        table[category] = {
            "true": len(t_index),
            "locatable": sum(1 for i in t_index if can_place[i]),
            "found": len(f_index),
            "matched": matched_t,
            "precision": precision,
            "recall": recall,
            "f1": _f1(precision, recall),
            **{key: why_t[key] for key in (*_MISSED, "unobserved", "not_locatable")},
            **{f"false_{key}": why_f[key] for key in _FALSE},
        }
    return table
