"""True and fused events reduced to what event-level scoring compares.

What counts as a true event
---------------------------
Every event of ``truth.json`` — violations and benign activity alike — at the
simulator's granularity (:mod:`truceline.simulate.truth`): one ``launch`` per
firing position per shelling episode, one ``impact`` per aim point per
episode (all its rounds), one ``equipment`` event per weapon group for as long
as it stays, one ``thermal_anomaly`` per burn or flare site, one ``other``
event per lightning stroke, one ``surface_change`` per field ploughed, and so
on. Sensor artefacts (``false_alarms``) are not events.

A true event is **locatable** when what the sensors recorded of it (its
``observed`` counts, :mod:`truceline.simulate.observed`) could place it on
the map by itself: a FIRMS pixel, a drone detection or an image change, or
one of its sounds picked at ``min_acoustic_stations`` or more stations (the
infrasound array counting as one). A missed event that is not locatable is a
*sensing gap*, not a fusion error; a truth file without ``observed`` counts
makes every event locatable.

Kinds that match
----------------
A fused event can stand for a true event when its kind is in
:data:`COMPATIBLE` for the true kind. Kinds of one *category*
(:data:`CATEGORY`) are interchangeable for firing (an acoustic classifier
mixes up launches, impacts and blasts); some fused kinds are *traces* seen
after the fact — a crater (or a ground change where shells fell), a fire lit
by a shell, a burn scar, a trench seen in a later image — and carry a
look-back: the fused event's time window is extended that far into the past
before the time gap is measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from truceline.model.event import Event
from truceline.model.geo import LocalFrame
from truceline.model.timeutil import parse_utc

__all__ = [
    "CATEGORY",
    "COMPATIBLE",
    "TRACE_LOOKBACK_S",
    "ScoredItem",
    "category_of",
    "compatible",
    "fused_items",
    "locatable",
    "truth_frame",
    "truth_items",
]

_DAY: Final = 86_400.0
_HOUR: Final = 3_600.0

#: Scoring category of each activity kind.
CATEGORY: Final[Mapping[str, str]] = {
    "launch": "fire",
    "impact": "fire",
    "explosion": "fire",
    "gunfire": "fire",
    "crater": "fire",
    "equipment": "equipment",
    "military_presence": "presence",
    "thermal_anomaly": "thermal",
    "burn_scar": "thermal",
    "smoke": "thermal",
    "earthworks": "ground",
    "surface_change": "ground",
    "flight": "flight",
    "other": "other",
}

#: Look-back of the kinds that are traces of something earlier, seconds: a
#: crater or a trench seen in an image (or by a drone) shows something done
#: up to two days before it was first seen.
TRACE_LOOKBACK_S: Final[Mapping[str, float]] = {
    "crater": 2 * _DAY,
    "burn_scar": 2 * _DAY,
    "earthworks": 2 * _DAY,
    "surface_change": 2 * _DAY,
}

_FIRING: Final = {"launch": 0.0, "impact": 0.0, "explosion": 0.0, "gunfire": 0.0}
#: Marks a shell leaves on the ground: craters, and ground changes that image change
#: detection could not call craters (several craters in one blob, say).
_SHELL_MARKS: Final = {
    "crater": TRACE_LOOKBACK_S["crater"],
    "surface_change": TRACE_LOOKBACK_S["surface_change"],
}
#: A fire lit by a shell burns for up to ~10 hours; its smoke for a few.
_FIRE_LIT: Final = {"thermal_anomaly": 12 * _HOUR, "smoke": 6 * _HOUR}

#: True kind -> fused kinds that can stand for it, with the look-back (seconds)
#: applied to the fused event's window for that pair (0: seen as it happened).
COMPATIBLE: Final[Mapping[str, Mapping[str, float]]] = {
    "launch": _FIRING,
    "impact": {**_FIRING, **_SHELL_MARKS, **_FIRE_LIT},
    "explosion": {**_FIRING, **_SHELL_MARKS, **_FIRE_LIT},
    "gunfire": {**_FIRING, **_FIRE_LIT},
    "equipment": {"equipment": 0.0},
    "military_presence": {"military_presence": 0.0},
    "thermal_anomaly": {"thermal_anomaly": 0.0, "smoke": 0.0, "burn_scar": 2 * _DAY},
    "earthworks": {"earthworks": 2 * _DAY, "surface_change": 2 * _DAY},
    "surface_change": {"surface_change": 2 * _DAY, "earthworks": 2 * _DAY},
    "other": {"other": 0.0},
}

#: ``observed`` counts that place an event on the map by themselves.
_POSITIONING: Final = ("firms_pixels", "drone_detections", "image_changes")


def category_of(kind: str) -> str:
    """Scoring category of an activity kind (the kind itself when unlisted)."""
    return CATEGORY.get(kind, kind)


def compatible(true_kind: str, fused_kind: str) -> float | None:
    """Look-back (seconds) when ``fused_kind`` can stand for ``true_kind``, else ``None``."""
    table = COMPATIBLE.get(true_kind, {true_kind: 0.0})
    return table.get(fused_kind)


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """An event as scoring sees it.

    Attributes
    ----------
    id
        Truth id, or the fused event's id.
    kind
        Activity kind.
    x, y
        Position in the truth's metric frame, metres east and north.
    start, end
        Time window, epoch seconds (UTC): the truth event's first and last
        emission or presence; the fused event's ``time_start``/``time_end``.
    modalities
        Contributing modalities (fused events).
    observed
        What the sensors recorded of it (true events; ``None`` when unknown).
    violation
        Whether the true event is a violation.
    lon, lat
        Position in degrees, for listings.
    """

    id: str
    kind: str
    x: float
    y: float
    start: float
    end: float
    modalities: tuple[str, ...] = ()
    observed: Mapping[str, int] | None = None
    violation: bool = False
    lon: float = 0.0
    lat: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def category(self) -> str:
        """Scoring category of the kind."""
        return category_of(self.kind)


def locatable(item: ScoredItem, min_acoustic_stations: int = 3) -> bool:
    """Whether the sensors recorded enough of a true event to place it (module docstring)."""
    if item.observed is None:
        return True
    if any(item.observed.get(key, 0) > 0 for key in _POSITIONING):
        return True
    stations = item.observed.get("acoustic_stations", 0)
    stations += 1 if item.observed.get("array_emissions", 0) > 0 else 0
    return stations >= min_acoustic_stations


def truth_frame(truth: Mapping[str, Any]) -> LocalFrame:
    """The metric frame named in a truth document."""
    frame = truth["frame"]
    return LocalFrame(float(frame["lon0"]), float(frame["lat0"]))


def truth_items(truth: Mapping[str, Any]) -> list[ScoredItem]:
    """Every true event of a parsed ``truth.json``, in its order."""
    frame = truth_frame(truth)
    items = []
    for record in truth["events"]:
        lon, lat = float(record["lon"]), float(record["lat"])
        x, y = frame.point_to_local(lon, lat)
        start = parse_utc(str(record["time"])).timestamp()
        end = parse_utc(str(record.get("time_end") or record["time"])).timestamp()
        observed = record.get("observed")
        items.append(
            ScoredItem(
                str(record["id"]),
                str(record["kind"]),
                x,
                y,
                start,
                end,
                observed=None if observed is None else dict(observed),
                violation=bool(record.get("violation")),
                lon=lon,
                lat=lat,
                extra={"party": record.get("party")},
            )
        )
    return items


def fused_items(events: Sequence[Event], frame: LocalFrame) -> list[ScoredItem]:
    """Fused events in the truth's frame, with their content ids."""
    items = []
    for event in events:
        x, y = frame.point_to_local(event.lon, event.lat)
        items.append(
            ScoredItem(
                event.id,
                event.kind,
                x,
                y,
                event.time_start.timestamp(),
                event.time_end.timestamp(),
                modalities=tuple(event.modalities),
                lon=event.lon,
                lat=event.lat,
                extra={"confidence": event.confidence},
            )
        )
    return items
