"""The ``dense-shelling`` script: a sustained artillery duel along one sector.

Every day of the scenario, both parties shell each other across one 24 km
sector of the front for 3–4 hours (starting 05–09 UTC). What association has
to separate:

* **Concurrent missions.** Each party has three batteries in the sector (heavy
  and light artillery and a mortar platoon, about 8 km apart along the line,
  at their weapon's usual distance behind it and within its range of their
  targets). Each fires a mission every 20–45
  minutes (and rests at least 10 minutes between any two of its missions),
  so several salvoes are in the air at once, their impacts a few
  kilometres apart: concurrent impact groups land at least 1.5 km apart
  (about five times what an acoustic fix is off by), and no ordinary mission
  lands within 1 km of an enemy battery.
* **Counter-battery fire.** After a mission, with probability 0.45, an
  artillery battery of the other party answers 3–10 minutes later at the
  firing position (radar-located to ~60 m): its impacts fall where the
  launch sounds came from, minutes after them, from the other side. The
  battery fired on then moves 1–2 km along the front before its next mission
  (shoot and scoot).

A mission is a shelling episode of the default scenario with one aim point:
a ``launch`` truth event at the firing position and an ``impact`` event at the
aim point (ids ``fire-<n>-launch`` and ``fire-<n>-impact-1``, numbered in
firing order), with the same guns, scatter, flight times, craters and fires
(:data:`truceline.simulate.hostile.GUNS`). After each day's barrage the
monitoring mission flies damage surveys over the two most shelled 4 km
stretches of each side. The default scenario's rocket strike on the deepest
``west`` town (the one escalation) happens too.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from shapely.geometry import Point

from truceline.simulate.hostile import (
    GUNS,
    OTHER_SIDE,
    FireMission,
    attack,
    fire_salvo,
    launch_event,
    survey_time,
)
from truceline.simulate.world import Tasking, World

__all__ = ["COUNTER_BATTERY_P", "SECTOR_HALF_LENGTH_M", "add_barrage"]

_HOUR: Final = 3600.0
_MINUTE: Final = 60.0
#: Half the length of the shelled sector along the contact line, metres.
SECTOR_HALF_LENGTH_M: Final = 12_000.0
#: Probability that a mission is answered by counter-battery fire.
COUNTER_BATTERY_P: Final = 0.45
#: Weapons of each party's batteries in the sector.
_BATTERIES: Final = ("artillery_ge100", "artillery_lt100", "mortar")
#: Along-sector offsets of the batteries before jitter, metres.
_OFFSETS_M: Final = (-8_000.0, 0.0, 8_000.0)
#: Minimum separation of impact groups landing within ``_OVERLAP_S`` of each other, metres.
_IMPACT_SEPARATION_M: Final = 1_500.0
_OVERLAP_S: Final = 10 * _MINUTE
#: Ordinary missions keep this far from enemy batteries, metres.
_BATTERY_CLEARANCE_M: Final = 1_000.0
#: Batteries of one party keep this far apart, metres.
_BATTERY_SEPARATION_M: Final = 1_500.0
#: Standard deviation of a counter-battery radar's fix of a firing position, metres.
_RADAR_SIGMA_M: Final = 60.0
#: Least time between two missions of one battery (re-laying, ammunition), seconds.
_REST_S: Final = 10 * _MINUTE
#: Length of a mission's impacts assumed when checking separation, seconds.
_MISSION_S: Final = 15 * _MINUTE
#: Maximum range of each weapon class, metres (a 120 mm mortar, a 122 mm howitzer
#: and a 152 mm gun-howitzer).
_RANGE_M: Final = {"mortar": 7_000.0, "artillery_lt100": 15_000.0, "artillery_ge100": 24_000.0}


@dataclass(slots=True)
class _Battery:
    """A battery in the sector (mutable: it moves after being fired on)."""

    party: str
    weapon: str
    s_m: float
    x: float
    y: float
    free_at: float = 0.0
    fired_on: bool = False


@dataclass(frozen=True, slots=True)
class _Impacts:
    """Where and when a mission's rounds were aimed (for separation checks)."""

    x: float
    y: float
    start: float
    end: float


class _Barrage:
    """One day's barrage: batteries, the missions queue and what has landed."""

    def __init__(self, world: World, rng: np.random.Generator, s_centre: float) -> None:
        self.world, self.rng, self.s_centre = world, rng, s_centre
        self.batteries: list[_Battery] = []
        self.impacts: list[_Impacts] = []
        self.queue: list[tuple[float, int, str, int, tuple[float, float], str]] = []
        self.sequence = 0

    def push(
        self, time: float, kind: str, battery: int, target: tuple[float, float], why: str
    ) -> None:
        heapq.heappush(self.queue, (time, self.sequence, kind, battery, target, why))
        self.sequence += 1

    def _clear_of_own(self, party: str, x: float, y: float, skip: _Battery | None) -> bool:
        return all(
            math.hypot(b.x - x, b.y - y) >= _BATTERY_SEPARATION_M
            for b in self.batteries
            if b.party == party and b is not skip
        )

    def place(self, battery: _Battery, s_m: float) -> None:
        """Put ``battery`` near along-line ``s_m`` at its weapon's distance from the line."""
        line, gun = self.world.geo.line, GUNS[battery.weapon]
        low = self.s_centre - SECTOR_HALF_LENGTH_M
        high = self.s_centre + SECTOR_HALF_LENGTH_M
        for _ in range(50):
            s = float(np.clip(s_m + self.rng.normal(0.0, 300.0), low, high))
            x, y = line.place(s, battery.party, float(self.rng.uniform(*gun.launch_m)))
            if self._clear_of_own(battery.party, x, y, battery):
                battery.s_m, battery.x, battery.y = s, x, y
                return
        battery.s_m, battery.x, battery.y = s, x, y  # crowded: keep the last draw

    def aim(self, battery: _Battery, time: float) -> tuple[float, float] | None:
        """An aim point for an ordinary mission, or ``None`` when the sector is busy."""
        line, gun = self.world.geo.line, GUNS[battery.weapon]
        other = OTHER_SIDE[battery.party]
        busy = [i for i in self.impacts if i.start - _OVERLAP_S < time + _MISSION_S]
        busy = [i for i in busy if i.end + _OVERLAP_S > time]
        enemies = [(b.x, b.y) for b in self.batteries if b.party == other]
        reach = _RANGE_M[battery.weapon]
        for _ in range(30):
            s = battery.s_m + float(self.rng.uniform(-0.5, 0.5)) * reach
            s = float(
                np.clip(
                    s, self.s_centre - SECTOR_HALF_LENGTH_M, self.s_centre + SECTOR_HALF_LENGTH_M
                )
            )
            x, y = line.place(s, other, float(self.rng.uniform(*gun.impact_m)))
            if math.hypot(x - battery.x, y - battery.y) > reach:
                continue
            if all(math.hypot(i.x - x, i.y - y) >= _IMPACT_SEPARATION_M for i in busy) and all(
                math.hypot(ex - x, ey - y) >= _BATTERY_CLEARANCE_M for ex, ey in enemies
            ):
                return x, y
        return None


def _fire(
    barrage: _Barrage, battery: _Battery, aim: tuple[float, float], time: float, why: str
) -> tuple[list[float], list[tuple[float, float, float]]]:
    """Fire one mission (the next ``fire-<n>`` episode); returns launch times and hits."""
    world = barrage.world
    number = sum(1 for e in world.events if e.id.startswith("fire-") and e.kind == "launch") + 1
    launch_id = f"fire-{number:02d}-launch"
    mission = FireMission(
        battery.party,
        battery.weapon,
        (battery.x, battery.y),
        aim,
        launch_id,
        f"fire-{number:02d}-impact-1",
        f"{battery.weapon} {why} {number}",
    )
    launches, _, hits = fire_salvo(world, barrage.rng, mission, time)
    world.events.append(
        launch_event(
            launch_id,
            battery.party,
            battery.weapon,
            (battery.x, battery.y),
            launches,
            f"{battery.weapon} firing position of {why} {number}",
        )
    )
    barrage.impacts.append(
        _Impacts(aim[0], aim[1], min(h[0] for h in hits), max(h[0] for h in hits))
    )
    battery.free_at = launches[-1] + _REST_S
    return launches, hits


def _serve(barrage: _Barrage, end: float) -> list[tuple[float, float, float, str]]:
    """Run the missions queue until the barrage ends; returns every hit with its side."""
    rng, batteries = barrage.rng, barrage.batteries
    hits_by_side: list[tuple[float, float, float, str]] = []
    while barrage.queue:
        time, _, kind, index, target, why = heapq.heappop(barrage.queue)
        battery = batteries[index]
        if time < battery.free_at:
            barrage.push(
                battery.free_at + float(rng.uniform(60.0, 180.0)), kind, index, target, why
            )
            continue
        if kind == "mission":
            if time > end:
                continue
            if battery.fired_on:
                step = float(rng.choice([-1.0, 1.0])) * float(rng.uniform(1_000.0, 2_000.0))
                barrage.place(battery, battery.s_m + step)
                battery.fired_on = False
            aim = barrage.aim(battery, time)
            if aim is None:
                barrage.push(
                    time + float(rng.uniform(5.0, 10.0)) * _MINUTE, kind, index, target, why
                )
                continue
        else:
            aim = (
                target[0] + rng.normal(0.0, _RADAR_SIGMA_M),
                target[1] + rng.normal(0.0, _RADAR_SIGMA_M),
            )
        launches, hits = _fire(barrage, battery, aim, time, why)
        side = OTHER_SIDE[battery.party]
        hits_by_side += [(t, x, y, side) for t, x, y in hits]
        if kind == "mission":
            barrage.push(
                launches[-1] + float(rng.uniform(20.0, 45.0)) * _MINUTE, kind, index, target, why
            )
            _answer(barrage, battery, launches[-1])
    return hits_by_side


def _answer(barrage: _Barrage, battery: _Battery, last_launch: float) -> None:
    """Maybe queue counter-battery fire at ``battery``'s position (it then moves)."""
    rng = barrage.rng
    if rng.random() >= COUNTER_BATTERY_P:
        return
    guns = [
        i
        for i, b in enumerate(barrage.batteries)
        if b.party == OTHER_SIDE[battery.party]
        and b.weapon != "mortar"
        and math.hypot(b.x - battery.x, b.y - battery.y) <= _RANGE_M[b.weapon]
    ]
    if not guns:
        return
    index = guns[int(rng.integers(len(guns)))]
    when = last_launch + float(rng.uniform(3.0, 10.0)) * _MINUTE
    barrage.push(when, "counter", index, (battery.x, battery.y), "counter-battery fire mission")
    battery.fired_on = True


def _surveys(
    world: World, rng: np.random.Generator, hits: list[tuple[float, float, float, str]], end: float
) -> None:
    """Damage surveys over the two most shelled 4 km stretches of each side."""
    line = world.geo.line
    for side in ("west", "east"):
        bins: dict[int, list[tuple[float, float]]] = {}
        for _, x, y, hit_side in hits:
            if hit_side == side:
                s = float(line.local.project(Point(x, y)))
                bins.setdefault(int(s // 4_000.0), []).append((x, y))
        ranked = sorted(bins.items(), key=lambda item: (-len(item[1]), item[0]))[:2]
        for _, points in ranked:
            when = survey_time(world, rng, end + 1800.0)
            if when is not None:
                cx, cy = np.mean(points, axis=0)
                world.taskings.append(Tasking(when, float(cx), float(cy), side, "crater survey"))


def _day(world: World, rng: np.random.Generator, day: int, s_centre: float) -> None:
    """One day's barrage along the sector centred at ``s_centre`` (metres along the line)."""
    barrage = _Barrage(world, rng, s_centre)
    for party in ("west", "east"):
        weapons = list(rng.permutation(_BATTERIES))
        for offset, weapon in zip(_OFFSETS_M, weapons, strict=True):
            battery = _Battery(party, str(weapon), 0.0, 0.0, 0.0)
            barrage.place(battery, s_centre + offset + float(rng.uniform(-1_500.0, 1_500.0)))
            barrage.batteries.append(battery)
    start = world.day_start(day) + float(rng.uniform(5.0, 9.0)) * _HOUR
    end = start + float(rng.uniform(3.0, 4.0)) * _HOUR
    for index in range(len(barrage.batteries)):
        first = start + float(rng.uniform(0.0, 20.0)) * _MINUTE
        barrage.push(first, "mission", index, (0.0, 0.0), "fire mission")
    hits = _serve(barrage, end)
    _surveys(world, rng, hits, end)


def add_barrage(world: World, rng: np.random.Generator) -> None:
    """Add the dense-shelling script (see the module docstring) to ``world``."""
    line = world.geo.line
    s_centre = float(rng.uniform(0.25, 0.75)) * line.length_m
    for day in range(world.days):
        _day(world, rng, day, s_centre)
    attack(world, rng)
