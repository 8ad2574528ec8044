"""The simulated world: what physically happens, before any sensor looks at it.

The scenario script (:mod:`truceline.simulate.hostile`,
:mod:`truceline.simulate.background`) fills a :class:`World` with truth events
and the physical emissions they cause; the channel modules
(:mod:`~truceline.simulate.ground`, :mod:`~truceline.simulate.satellite`,
:mod:`~truceline.simulate.drone`) then observe those emissions. All positions
are local metres (east, north) in the contact line's frame; all times are epoch
seconds (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from truceline.simulate.geography import Geography
from truceline.simulate.truth import TruthEvent

__all__ = [
    "Crater",
    "Emission",
    "GroundObject",
    "HeatSource",
    "Storm",
    "Tasking",
    "World",
    "child_rng",
]


@dataclass(frozen=True, slots=True)
class Emission:
    """An impulsive sound: a launch, impact, explosion, gunshot burst or thunder clap.

    Attributes
    ----------
    time
        Origin time, epoch seconds.
    x, y
        Source position, local metres.
    kind
        Physical class: ``launch``, ``impact``, ``explosion``, ``gunfire`` or ``thunder``.
    strength
        Loudness relative to a 152/155 mm shell (1.0); scales detection range.
    truth_id
        The truth event it belongs to.
    """

    time: float
    x: float
    y: float
    kind: str
    strength: float
    truth_id: str


@dataclass(frozen=True, slots=True)
class HeatSource:
    """A fire or industrial heat source seen by thermal satellites.

    Attributes
    ----------
    start, end
        Burning interval, epoch seconds.
    x, y
        Position, local metres.
    frp_mw
        Fire radiative power, megawatts.
    truth_id
        The truth event that caused it.
    """

    start: float
    end: float
    x: float
    y: float
    frp_mw: float
    truth_id: str


@dataclass(frozen=True, slots=True)
class GroundObject:
    """Something on the ground a drone camera can see: a weapon group or a position.

    Attributes
    ----------
    kind
        ``equipment`` or ``military_presence``.
    start, end
        When it is there, epoch seconds.
    x, y
        Centre, local metres.
    count
        Vehicles, or personnel for presence.
    weapon_class
        For equipment.
    truth_id
        Its truth event.
    """

    kind: str
    start: float
    end: float
    x: float
    y: float
    count: int
    weapon_class: str | None
    truth_id: str


@dataclass(frozen=True, slots=True)
class Crater:
    """A shell or rocket crater, made at ``time`` at local ``(x, y)``."""

    time: float
    x: float
    y: float
    truth_id: str


@dataclass(frozen=True, slots=True)
class Storm:
    """A thunderstorm cell moving in a straight line.

    Attributes
    ----------
    start, end
        Active interval, epoch seconds.
    x0, y0
        Cell centre at ``start``, local metres.
    vx, vy
        Velocity, metres per second east and north.
    radius_m
        Radius of the cloud shield, metres.
    """

    start: float
    end: float
    x0: float
    y0: float
    vx: float
    vy: float
    radius_m: float

    def centre(self, time: float) -> tuple[float, float]:
        """Cell centre at ``time`` (clamped to the active interval), local metres."""
        dt = min(max(time, self.start), self.end) - self.start
        return self.x0 + self.vx * dt, self.y0 + self.vy * dt


@dataclass(frozen=True, slots=True)
class Tasking:
    """A request for a drone to look at a point after ``time`` (e.g. shelling damage)."""

    time: float
    x: float
    y: float
    side: str
    reason: str


@dataclass(slots=True)
class World:
    """Everything that happens in the scenario window ``[start, end)`` (epoch seconds)."""

    geo: Geography
    start: float
    end: float
    events: list[TruthEvent] = field(default_factory=list)
    emissions: list[Emission] = field(default_factory=list)
    heat: list[HeatSource] = field(default_factory=list)
    objects: list[GroundObject] = field(default_factory=list)
    craters: list[Crater] = field(default_factory=list)
    storms: list[Storm] = field(default_factory=list)
    taskings: list[Tasking] = field(default_factory=list)

    @property
    def days(self) -> int:
        """Number of whole days in the window."""
        return round((self.end - self.start) / 86_400.0)

    def day_start(self, day: int) -> float:
        """Epoch seconds at the start of scenario day ``day`` (0-based)."""
        return self.start + 86_400.0 * day

    def scripted_day(self, preferred: int) -> int:
        """``preferred`` clipped to the days the scenario has."""
        return min(preferred, self.days - 1)


def child_rng(seed: int, channel: int) -> np.random.Generator:
    """An independent generator per (seed, channel), so channels do not shift each other."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, channel])))
