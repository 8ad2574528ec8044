"""The scenario's violations: shelling, the rocket strike, and forbidden deployments.

Script (days are 0-based; a shorter scenario moves later items to its last day):

* every day one **fire episode** across the line (mortar or artillery; launch
  1.5–12 km from the line on the firer's side, impacts 2–15 km deep on the
  other side), answered by the other party with probability 0.5; an episode
  fires at one or two aim points;
* day 0 afternoon: a **live-fire exercise** of ``west`` inside the
  disengagement zone (gunfire bursts and a few small explosions);
* a **military position** in the disengagement zone: ``east`` from day 0,
  ``west`` from day 2;
* **heavy weapons inside their withdrawal band**: ``east`` artillery ≥100 mm at
  ~30 km (band 50 km) from day 0 and MLRS at ~40 km (band 70 km) on day 1;
  ``west`` tanks at ~8 km and mortars at ~4 km (band 15 km);
* day 1 morning: the **rocket strike** — ``east`` fires a heavy rocket salvo at
  the deepest ``west`` town, 40–80 km from the line (the one escalation).

Impacts leave craters (seen by drones) and may start fires (seen by satellites);
shelled places are queued for a drone damage survey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from shapely.geometry import Point

from truceline.simulate.truth import ScenarioError, TruthEvent
from truceline.simulate.world import Crater, Emission, GroundObject, HeatSource, Tasking, World

__all__ = [
    "GUNS",
    "OTHER_SIDE",
    "FireMission",
    "Gun",
    "add_hostilities",
    "attack",
    "fire_salvo",
    "ignite",
    "launch_event",
    "place_group",
    "survey_time",
]

_HOUR: Final = 3600.0
OTHER_SIDE: Final = {"west": "east", "east": "west"}


@dataclass(frozen=True, slots=True)
class Gun:
    """How a weapon class fires (distances in metres, times in seconds).

    Attributes
    ----------
    launch_m, impact_m
        Distance ranges from the contact line of firing positions (own side)
        and of aim points (the other side), metres.
    rounds
        Rounds per salvo (inclusive range).
    interval_s
        Seconds between rounds.
    launch_strength, impact_strength
        Loudness relative to a 152/155 mm shell.
    scatter_m
        Standard deviation of the impacts around the aim point, metres.
    ignite_p
        Probability that an impact starts a fire.
    speed_mps
        Mean speed of the projectile over its flight, metres per second.
    """

    launch_m: tuple[float, float]
    impact_m: tuple[float, float]
    rounds: tuple[int, int]
    interval_s: tuple[float, float]
    launch_strength: float
    impact_strength: float
    scatter_m: float
    ignite_p: float
    speed_mps: float


GUNS: Final = {
    "mortar": Gun((1500, 4000), (2000, 5000), (4, 10), (8, 30), 0.7, 0.75, 90, 0.06, 200),
    "artillery_lt100": Gun((3000, 8000), (2000, 9000), (4, 8), (15, 50), 0.95, 0.9, 130, 0.1, 350),
    "artillery_ge100": Gun(
        (5000, 12000), (3000, 15000), (4, 10), (20, 60), 1.2, 1.1, 160, 0.15, 400
    ),
}
_GUN_WEIGHTS: Final = (0.35, 0.25, 0.4)


@dataclass(frozen=True, slots=True)
class FireMission:
    """One salvo: who fires what, from where, at what, and its truth ids.

    Attributes
    ----------
    party, weapon
        The firing party and the weapon class (a key of :data:`GUNS`).
    launch, aim
        Firing position and aim point, local metres.
    launch_id, impact_id
        Truth event ids of the firing position and of the impacts.
    impact_detail
        Free text of the impact truth event.
    """

    party: str
    weapon: str
    launch: tuple[float, float]
    aim: tuple[float, float]
    launch_id: str
    impact_id: str
    impact_detail: str


#: (id, party, weapon class, count, distance range m, day, appearance hours, stay h or None)
_DEPLOYMENTS: Final = (
    ("equip-east-art-30km", "east", "artillery_ge100", 4, (27e3, 33e3), 0, (4, 12), None),
    ("equip-east-mlrs-40km", "east", "mlrs", 3, (37e3, 43e3), 1, (0, 8), 36.0),
    ("equip-west-tank-8km", "west", "tank", 5, (6e3, 10e3), 0, (0, 6), None),
    ("equip-west-mortar-4km", "west", "mortar", 2, (3e3, 5e3), 1, (6, 14), None),
)


def survey_time(world: World, rng: np.random.Generator, after: float) -> float | None:
    """First daylight slot (06–14 UTC) after ``after`` for a damage survey flight."""
    hour = (after % 86_400.0) / _HOUR
    if hour < 6.0:
        after += (6.0 - hour) * _HOUR
    elif hour > 14.0:
        after += (30.0 - hour) * _HOUR
    after += float(rng.uniform(0.0, 1.0)) * _HOUR
    return after if after < world.end - 2.0 * _HOUR else None


def ignite(
    world: World,
    rng: np.random.Generator,
    where: tuple[float, float, float],
    p: float,
    frp_median_mw: float,
    hours: tuple[float, float],
    truth_id: str,
) -> None:
    """With probability ``p`` a fire starts at ``where = (time, x, y)``."""
    if rng.random() >= p:
        return
    time, x, y = where
    frp = float(np.clip(rng.lognormal(math.log(frp_median_mw), 0.6), 0.5, 150.0))
    world.heat.append(HeatSource(time, time + rng.uniform(*hours) * _HOUR, x, y, frp, truth_id))


def fire_salvo(
    world: World,
    rng: np.random.Generator,
    mission: FireMission,
    time: float,
) -> tuple[list[float], float, list[tuple[float, float, float]]]:
    """Fire one salvo of ``mission`` from ``time`` and add its impact truth event.

    Every round is a launch emission at the firing position (25 m scatter of
    the guns), an impact emission, a crater and possibly a fire where it lands
    (scatter :attr:`Gun.scatter_m` around the aim point, flight time at
    :attr:`Gun.speed_mps`).

    Returns
    -------
    tuple
        Launch times of the rounds (epoch s), the time the guns are free again
        (epoch s) and the hits ``(time, x, y)``.
    """
    gun = GUNS[mission.weapon]
    lx, ly = mission.launch
    ax, ay = mission.aim
    rounds = int(rng.integers(gun.rounds[0], gun.rounds[1] + 1))
    hits: list[tuple[float, float, float]] = []
    launches: list[float] = []
    for _ in range(rounds):
        x, y = ax + rng.normal(0.0, gun.scatter_m), ay + rng.normal(0.0, gun.scatter_m)
        t_hit = time + math.hypot(x - lx, y - ly) / gun.speed_mps
        bx, by = lx + rng.normal(0.0, 25.0), ly + rng.normal(0.0, 25.0)
        world.emissions.append(
            Emission(time, bx, by, "launch", gun.launch_strength, mission.launch_id)
        )
        world.emissions.append(
            Emission(t_hit, x, y, "impact", gun.impact_strength, mission.impact_id)
        )
        world.craters.append(Crater(t_hit, x, y, mission.impact_id))
        ignite(world, rng, (t_hit, x, y), gun.ignite_p, 3.0, (1.0, 6.0), mission.impact_id)
        hits.append((t_hit, x, y))
        launches.append(time)
        time += rng.uniform(*gun.interval_s)
    cx, cy = float(np.mean([h[1] for h in hits])), float(np.mean([h[2] for h in hits]))
    world.events.append(
        TruthEvent(
            mission.impact_id,
            "impact",
            min(h[0] for h in hits),
            cx,
            cy,
            mission.party,
            mission.weapon,
            rounds,
            time_end=max(h[0] for h in hits),
            detail=mission.impact_detail,
        )
    )
    return launches, time, hits


def launch_event(
    launch_id: str,
    party: str,
    weapon: str,
    launch: tuple[float, float],
    launches: list[float],
    detail: str,
) -> TruthEvent:
    """The truth event of a firing position: every round fired from it in one episode."""
    return TruthEvent(
        launch_id,
        "launch",
        launches[0],
        launch[0],
        launch[1],
        party,
        weapon,
        len(launches),
        time_end=launches[-1],
        detail=detail,
    )


def _fire_episode(
    world: World, rng: np.random.Generator, number: int, party: str, t0: float, s_m: float
) -> float:
    """One shelling episode; returns the time of its last launch (epoch s)."""
    weapon = str(rng.choice(list(GUNS), p=_GUN_WEIGHTS))
    gun, line, other = GUNS[weapon], world.geo.line, OTHER_SIDE[party]
    lx, ly = line.place(s_m + rng.uniform(-2e3, 2e3), party, rng.uniform(*gun.launch_m))
    launch_id = f"fire-{number:02d}-launch"
    aims = 2 if rng.random() < 0.3 else 1
    aim_s = s_m + rng.uniform(-5e3, 5e3)
    time, launches = t0, []
    for aim in range(aims):
        if aim:
            aim_s += float(rng.choice([-1.0, 1.0])) * rng.uniform(2.5e3, 5e3)
            time += rng.uniform(120.0, 360.0)  # re-laying the guns
        ax, ay = line.place(aim_s, other, rng.uniform(*gun.impact_m))
        mission = FireMission(
            party,
            weapon,
            (lx, ly),
            (ax, ay),
            launch_id,
            f"fire-{number:02d}-impact-{aim + 1}",
            f"{weapon} impacts of fire episode {number}",
        )
        fired, time, hits = fire_salvo(world, rng, mission, time)
        launches += fired
        if rng.random() < 0.75:
            when = survey_time(world, rng, max(h[0] for h in hits) + 1800.0)
            if when is not None:
                world.taskings.append(Tasking(when, ax, ay, other, "crater survey"))
    world.events.append(
        launch_event(
            launch_id,
            party,
            weapon,
            (lx, ly),
            launches,
            f"{weapon} firing position of episode {number}",
        )
    )
    return launches[-1]


def _fire_days(world: World, rng: np.random.Generator) -> None:
    """One episode a day, answered by the other party with probability 0.5."""
    length = world.geo.line.length_m
    number = 0
    for day in range(world.days):
        party = str(rng.choice(["west", "east"]))
        t0 = world.day_start(day) + rng.uniform(1.0, 20.0) * _HOUR
        s_m = rng.uniform(0.1, 0.9) * length
        number += 1
        last = _fire_episode(world, rng, number, party, t0, s_m)
        if rng.random() < 0.5:
            number += 1
            reply_at = last + rng.uniform(0.3, 1.5) * _HOUR
            _fire_episode(
                world, rng, number, OTHER_SIDE[party], reply_at, s_m + rng.uniform(-8e3, 8e3)
            )


def attack(world: World, rng: np.random.Generator) -> None:
    """The rocket strike on the deepest ``west`` town (the scenario's escalation).

    ``east`` fires a heavy rocket salvo (8–12 rounds) from 22–32 km behind the
    line on scenario day 1 (or the last day) at about 09:30 UTC.
    """
    geo, line = world.geo, world.geo.line
    town = max(
        (t for t in geo.towns if t.side == "west"), key=lambda t: float(line.distance_m(t.x, t.y))
    )
    s_town = float(line.local.project(Point(town.x, town.y)))
    lx, ly = line.place(s_town + rng.uniform(-15e3, 15e3), "east", rng.uniform(22e3, 32e3))
    t0 = world.day_start(world.scripted_day(1)) + rng.uniform(9.5, 9.75) * _HOUR
    rounds = int(rng.integers(8, 13))
    hits: list[tuple[float, float, float]] = []
    launches = []
    for k in range(rounds):
        time = t0 + k * rng.uniform(2.5, 4.0)
        x, y = town.x + rng.normal(0.0, 350.0), town.y + rng.normal(0.0, 350.0)
        t_hit = time + math.hypot(x - lx, y - ly) / 900.0
        world.emissions.append(
            Emission(
                time, lx + rng.normal(0, 20), ly + rng.normal(0, 20), "launch", 1.4, "attack-launch"
            )
        )
        world.emissions.append(Emission(t_hit, x, y, "impact", 1.5, "attack-impact"))
        world.craters.append(Crater(t_hit, x, y, "attack-impact"))
        ignite(world, rng, (t_hit, x, y), 0.6, 15.0, (3.0, 10.0), "attack-impact")
        hits.append((t_hit, x, y))
        launches.append(time)
    cx, cy = float(np.mean([h[1] for h in hits])), float(np.mean([h[2] for h in hits]))
    world.events += [
        TruthEvent(
            "attack-launch",
            "launch",
            launches[0],
            lx,
            ly,
            "east",
            "heavy_mlrs_missile",
            rounds,
            time_end=launches[-1],
            detail="heavy rocket salvo launch",
        ),
        TruthEvent(
            "attack-impact",
            "impact",
            min(h[0] for h in hits),
            cx,
            cy,
            "east",
            "heavy_mlrs_missile",
            rounds,
            time_end=max(h[0] for h in hits),
            detail=f"rocket strike on {town.name}",
        ),
    ]
    world.taskings.append(
        Tasking(
            max(h[0] for h in hits) + rng.uniform(1.0, 2.0) * _HOUR,
            cx,
            cy,
            "west",
            "post-strike survey",
        )
    )


def _exercise(world: World, rng: np.random.Generator) -> None:
    """A live-fire exercise of ``west`` inside the disengagement zone on day 0."""
    line = world.geo.line
    x, y = line.place(rng.uniform(0.15, 0.85) * line.length_m, "west", rng.uniform(400.0, 800.0))
    t0 = world.day_start(0) + rng.uniform(11.0, 13.0) * _HOUR
    duration = rng.uniform(35.0, 50.0) * 60.0
    bursts = np.sort(rng.uniform(t0, t0 + duration, int(duration / 60.0)))
    for time in bursts:
        world.emissions.append(
            Emission(
                float(time),
                x + rng.normal(0, 60),
                y + rng.normal(0, 60),
                "gunfire",
                0.35,
                "exercise-1",
            )
        )
    for time in np.sort(rng.uniform(t0, t0 + duration, 4)):
        ex, ey = x + rng.normal(0, 80), y + rng.normal(0, 80)
        world.emissions.append(Emission(float(time), ex, ey, "explosion", 0.55, "exercise-1"))
        ignite(world, rng, (float(time), ex, ey), 0.15, 1.5, (1.0, 3.0), "exercise-1")
    world.objects.append(
        GroundObject(
            "military_presence",
            t0 - 1800.0,
            t0 + duration + 1800.0,
            x,
            y,
            int(rng.integers(20, 40)),
            None,
            "exercise-1",
        )
    )
    world.events.append(
        TruthEvent(
            "exercise-1",
            "gunfire",
            float(bursts[0]),
            x,
            y,
            "west",
            time_end=float(bursts[-1]),
            detail="live-fire exercise: small-arms bursts and 4 small explosions",
        )
    )


def _positions(world: World, rng: np.random.Generator) -> None:
    """Military positions inside the disengagement zone."""
    line = world.geo.line
    for party, day in (("east", 0), ("west", 2)):
        x, y = line.place(rng.uniform(0.1, 0.9) * line.length_m, party, rng.uniform(300, 800))
        start = world.day_start(world.scripted_day(day)) + rng.uniform(3.0, 9.0) * _HOUR
        end = min(world.end, start + rng.uniform(20.0, 40.0) * _HOUR)
        count = int(rng.integers(8, 30))
        truth_id = f"presence-{party}"
        world.objects.append(
            GroundObject("military_presence", start, end, x, y, count, None, truth_id)
        )
        world.events.append(
            TruthEvent(
                truth_id,
                "military_presence",
                start,
                x,
                y,
                party,
                count=count,
                time_end=end,
                detail="dug-in position in the disengagement zone",
            )
        )


def place_group(
    world: World, rng: np.random.Generator, side: str, distance_m: tuple[float, float]
) -> tuple[float, float]:
    """A spot ``distance_m`` from the line, at least 4 km from every site and town."""
    geo = world.geo
    keep_away = [(s.x, s.y) for s in (*geo.quarries, *geo.flares, *geo.storage)]
    keep_away += [(t.x, t.y) for t in geo.towns]
    keep_away += [(o.x, o.y) for o in world.objects]
    for _ in range(100):
        x, y = geo.line.place(
            rng.uniform(0.08, 0.92) * geo.line.length_m, side, rng.uniform(*distance_m)
        )
        if all(math.hypot(x - a, y - b) > 4_000.0 for a, b in keep_away):
            return x, y
    raise ScenarioError("could not find a free spot for a weapon group")


def _deployments(world: World, rng: np.random.Generator) -> None:
    """Heavy weapons inside their withdrawal bands."""
    for truth_id, party, weapon, count, band, day, hours, stay in _DEPLOYMENTS:
        x, y = place_group(world, rng, party, band)
        start = world.day_start(world.scripted_day(day)) + rng.uniform(*hours) * _HOUR
        end = world.end if stay is None else min(world.end, start + stay * _HOUR)
        world.objects.append(GroundObject("equipment", start, end, x, y, count, weapon, truth_id))
        world.events.append(
            TruthEvent(
                truth_id,
                "equipment",
                start,
                x,
                y,
                party,
                weapon,
                count,
                time_end=end,
                detail="deployed inside its withdrawal band",
            )
        )


def add_hostilities(world: World, rng: np.random.Generator) -> None:
    """Add the scripted violations (see the module docstring) to ``world``."""
    _deployments(world, rng)
    _positions(world, rng)
    _exercise(world, rng)
    _fire_days(world, rng)
    attack(world, rng)
