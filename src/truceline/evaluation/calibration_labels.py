"""Label fused events against a simulated scenario's truth.

The simulator knows what really happened (``truth.json``), so every fused
event can be labelled:

* **real** — the event is explained by something that happened: a truth event
  or a true surface change (``satellite_stacks.changes``) that could have
  produced it (:data:`CAUSES`) within the gates of :class:`CalibrationGates`.
  A thunder clap located by the acoustic network is real (it is thunder); a
  crater is real when an impact made it. Otherwise the event is a false alarm.
* **kind correct** — a real event whose stated kind describes one of the
  things that explain it (:data:`CORRECT_KINDS`; an explosive event is right
  when the truth is any explosive kind, as its ``P(kind)`` is computed over
  that set).
* **duplicate** — a real event left over when events are matched one-to-one
  to truth by an optimal assignment (Hungarian algorithm, as in
  :mod:`truceline.evaluation.score`; right kind first, then same scoring
  category, then nearest): a second event for one happening (one storm heard
  as many claps, one shelling split in two, a hot spot it lit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.optimize import linear_sum_assignment

from truceline.evaluation.score import category
from truceline.model.event import Event
from truceline.model.geo import LocalFrame
from truceline.model.timeutil import parse_utc

__all__ = [
    "CAUSES",
    "CORRECT_KINDS",
    "FIRE_KINDS",
    "CalibrationGates",
    "EventLabel",
    "TruthItem",
    "label_events",
    "truth_items",
]

FIRE_KINDS: Final = frozenset({"explosion", "impact", "launch", "gunfire"})
_CHANGES: Final = frozenset({"crater", "earthworks", "burn_scar", "surface_change"})

#: Event kind -> truth kinds that can produce an event of that kind.
CAUSES: Final[Mapping[str, frozenset[str]]] = {
    **{kind: FIRE_KINDS | {"other"} for kind in FIRE_KINDS},
    "other": FIRE_KINDS | {"other"},
    "thermal_anomaly": FIRE_KINDS | {"thermal_anomaly"},
    "smoke": FIRE_KINDS | {"thermal_anomaly"},
    "crater": frozenset({"crater", "impact", "explosion"}),
    "burn_scar": FIRE_KINDS | {"burn_scar", "thermal_anomaly"},
    "surface_change": _CHANGES | {"impact", "explosion"},
    "earthworks": _CHANGES | {"impact", "explosion"},
    "equipment": frozenset({"equipment"}),
    "military_presence": frozenset({"military_presence", "equipment"}),
}
#: Event kind -> truth kinds the event's kind correctly describes.
CORRECT_KINDS: Final[Mapping[str, frozenset[str]]] = {
    **{kind: FIRE_KINDS for kind in FIRE_KINDS},
    "other": frozenset({"other"}),
    "thermal_anomaly": FIRE_KINDS | {"thermal_anomaly"},
    "smoke": FIRE_KINDS | {"thermal_anomaly"},
    "crater": frozenset({"crater", "impact", "explosion"}),
    "burn_scar": FIRE_KINDS | {"burn_scar", "thermal_anomaly"},
    "surface_change": _CHANGES | {"impact", "explosion"},
    "earthworks": frozenset({"earthworks"}),
    "equipment": frozenset({"equipment"}),
    "military_presence": frozenset({"military_presence"}),
}


@dataclass(frozen=True, slots=True)
class CalibrationGates:
    """How far an event may be from the happening that explains it.

    Attributes
    ----------
    fire_distance_m, fire_window_s
        Explosive and acoustic events: metres, and seconds outside the
        happening's time span.
    weather_distance_m
        An acoustic event during a thunderstorm (truth kind ``other`` with a
        time span): metres from the storm's mid-track point, which moves
        tens of kilometres while it lasts.
    thermal_distance_m, thermal_delay_s
        Hot spots and smoke: metres, and how long after the happening's end
        they may be seen, seconds (a fire lit by shelling burns for hours).
    change_distance_m
        Craters, earthworks, burn scars and surface changes: metres; they
        must postdate the happening's start.
    equipment_distance_m, presence_distance_m
        Equipment and military presence: metres; their time spans must overlap.
    slack_s
        Time slack for spans and "after" conditions, seconds.
    """

    fire_distance_m: float = 3_000.0
    fire_window_s: float = 1_800.0
    weather_distance_m: float = 60_000.0
    thermal_distance_m: float = 2_000.0
    thermal_delay_s: float = 43_200.0
    change_distance_m: float = 1_000.0
    equipment_distance_m: float = 1_000.0
    presence_distance_m: float = 2_000.0
    slack_s: float = 3_600.0


@dataclass(frozen=True, slots=True)
class TruthItem:
    """A happening an event may be explained by: a truth event or a true change."""

    id: str
    kind: str
    t0: float
    t1: float
    lon: float
    lat: float


def truth_items(truth: Mapping[str, Any]) -> list[TruthItem]:
    """Truth events and satellite-stack changes of a parsed ``truth.json``."""
    records = list(truth.get("events") or [])
    stacks = truth.get("satellite_stacks") or {}
    records += list(stacks.get("changes") or [])
    items = []
    for record in records:
        t0 = parse_utc(str(record["time"])).timestamp()
        t1 = parse_utc(str(record.get("time_end") or record["time"])).timestamp()
        items.append(
            TruthItem(
                str(record["id"]),
                str(record["kind"]),
                t0,
                t1,
                float(record["lon"]),
                float(record["lat"]),
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class EventLabel:
    """What an event turned out to be.

    Attributes
    ----------
    event_id, kind
        The event and its stated kind.
    real
        Explained by a happening of the truth.
    kind_correct
        Real, and its kind describes a happening that explains it.
    duplicate
        Real but not matched one-to-one (another event took its happening).
    truth_id
        The happening it was matched to, or the nearest that explains it.
    """

    event_id: str
    kind: str
    real: bool
    kind_correct: bool
    duplicate: bool
    truth_id: str | None


class _TruthArrays:
    """Truth items as arrays in a metric frame, for vectorised gating."""

    def __init__(self, items: Sequence[TruthItem], frame: LocalFrame) -> None:
        self.items = list(items)
        x, y = frame.to_local([i.lon for i in items], [i.lat for i in items])
        self.x = np.atleast_1d(np.asarray(x, dtype=float))
        self.y = np.atleast_1d(np.asarray(y, dtype=float))
        self.t0 = np.array([i.t0 for i in items])
        self.t1 = np.array([i.t1 for i in items])
        self.kind = np.array([i.kind for i in items])
        self.category = np.array([category(i.kind) for i in items])


def _feasible(
    event: Event, ex: float, ey: float, truth: _TruthArrays, gates: CalibrationGates
) -> tuple[Any, Any, Any]:
    """How every truth item relates to ``event``.

    Returns
    -------
    tuple
        Distances (metres, ``inf`` where the item cannot explain the event),
        whether the event's kind describes the item, and whether both are of
        the same scoring category (:func:`truceline.evaluation.score.category`).
    """
    causes = CAUSES.get(event.kind, frozenset({event.kind}))
    distance = np.hypot(truth.x - ex, truth.y - ey)
    t, ts, te = (event.time.timestamp(), event.time_start.timestamp(), event.time_end.timestamp())
    slack = gates.slack_s
    kind_ok = np.isin(truth.kind, sorted(causes))
    if event.kind in FIRE_KINDS or event.kind == "other":
        gap = np.maximum(np.maximum(truth.t0 - t, t - truth.t1), 0.0)
        weather = (truth.kind == "other") & (truth.t1 > truth.t0)
        limit = np.where(weather, gates.weather_distance_m, gates.fire_distance_m)
        ok = (gap <= gates.fire_window_s) & (distance <= limit)
    elif event.kind in ("thermal_anomaly", "smoke"):
        ok = (
            (distance <= gates.thermal_distance_m)
            & (truth.t0 - slack <= te)
            & (ts <= truth.t1 + gates.thermal_delay_s)
        )
    elif event.kind in _CHANGES:
        ok = (distance <= gates.change_distance_m) & (truth.t0 <= te + slack)
    else:
        near = (
            gates.equipment_distance_m if event.kind == "equipment" else gates.presence_distance_m
        )
        ok = (distance <= near) & (truth.t0 - slack <= te) & (ts <= truth.t1 + slack)
    correct = np.isin(truth.kind, sorted(CORRECT_KINDS.get(event.kind, frozenset({event.kind}))))
    same = truth.category == category(event.kind)
    return np.where(kind_ok & ok, distance, np.inf), correct, same


def label_events(
    events: Sequence[Event], truth: Mapping[str, Any], gates: CalibrationGates | None = None
) -> list[EventLabel]:
    """Label each event real / kind-correct / duplicate against a scenario's truth.

    Parameters
    ----------
    events
        Fused events.
    truth
        Parsed ``truth.json``.
    gates
        Matching gates.

    Returns
    -------
    list
        One label per event, in the order of ``events``.
    """
    gates = gates or CalibrationGates()
    items = truth_items(truth)
    if not events:
        return []
    if not items:
        return [EventLabel(e.id, e.kind, False, False, False, None) for e in events]
    frame = LocalFrame.around([i.lon for i in items], [i.lat for i in items])
    arrays = _TruthArrays(items, frame)
    ex, ey = frame.to_local([e.lon for e in events], [e.lat for e in events])
    exs, eys = np.atleast_1d(ex), np.atleast_1d(ey)
    cost = np.full((len(events), len(items)), np.inf)
    correct = np.zeros((len(events), len(items)), dtype=bool)
    same = np.zeros((len(events), len(items)), dtype=bool)
    for row, event in enumerate(events):
        cost[row], correct[row], same[row] = _feasible(
            event, float(exs[row]), float(eys[row]), arrays, gates
        )
    feasible = np.isfinite(cost)
    rows = np.flatnonzero(feasible.any(axis=1))
    cols = np.flatnonzero(feasible.any(axis=0))
    assigned: dict[int, int] = {}
    if rows.size and cols.size:
        block = np.ix_(rows, cols)
        # Prefer explanations of the right kind, then of the same category (a
        # hot spot lit by a shelling is the shelling's duplicate, not the
        # shelling), then the nearest.
        sub = cost[block] + np.where(correct[block], 0.0, 1e7) + np.where(same[block], 0.0, 1e5)
        r, c = linear_sum_assignment(np.where(np.isfinite(sub), sub, 1e12))
        for i, j in zip(r, c, strict=True):
            if np.isfinite(sub[i, j]):
                assigned[int(rows[i])] = int(cols[j])
    labels = []
    for row, event in enumerate(events):
        real = bool(feasible[row].any())
        right = feasible[row] & correct[row]
        kind_correct = bool(right.any())
        if row in assigned:
            truth_id: str | None = items[assigned[row]].id
        elif real:
            pool = np.where(right, cost[row], np.inf) if kind_correct else cost[row]
            truth_id = items[int(np.argmin(pool))].id
        else:
            truth_id = None
        labels.append(
            EventLabel(
                event.id, event.kind, real, kind_correct, real and row not in assigned, truth_id
            )
        )
    return labels
