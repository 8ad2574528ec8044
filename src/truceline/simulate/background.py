"""Benign background that a monitor must not mistake for violations.

* **Agricultural burning**: ~600 small daytime field fires a day (06–14 UTC,
  1–5 h each, 3–95 km from the line): thermal only.
* **Industrial flares**: the steelworks and the gas flare burn all the time and
  show up in every clear overpass, day and night.
* **Quarry blasts** at the two declared blasting sites, most days around
  midday (loud explosions, exempt by the agreement).
* **Thunderstorms**: a cell crossing the sensor field from west to east in the
  afternoon of day 1 (and every third day after), with ~2 cloud-to-ground
  strokes a minute; ground sensors hear the thunder. Each stroke is its own
  truth event (kind ``other``, id ``storm-<n>-stroke-<k>``): the strokes of one
  storm are kilometres and minutes apart, so no single place and time stands
  for the storm.
* **Lawful heavy weapons**: groups beyond their withdrawal band, in declared
  storage sites, or of classes no band restricts; plus six random garrison
  groups a side (armour anywhere, tanks and light artillery beyond 15 km, heavy
  artillery beyond 50 km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
from shapely.geometry import Point

from truceline.simulate.hostile import place_group
from truceline.simulate.truth import TruthEvent
from truceline.simulate.world import Emission, GroundObject, HeatSource, Storm, World

__all__ = ["DEFAULT_BACKGROUND", "BackgroundPlan", "add_background"]

_HOUR: Final = 3600.0
#: Mean number of agricultural burns a day.
_BURNS_PER_DAY: Final = 600
#: Mean interval between cloud-to-ground strokes of a storm, seconds.
_STROKE_INTERVAL_S: Final = 30.0

#: (id, party, weapon class, count, distance range m, benign reason)
_LAWFUL: Final = (
    ("equip-east-art-62km", "east", "artillery_ge100", 6, (58e3, 66e3), "beyond_withdrawal_band"),
    ("equip-west-mlrs-82km", "west", "mlrs", 4, (78e3, 86e3), "beyond_withdrawal_band"),
    ("equip-east-tank-20km", "east", "tank", 4, (18e3, 24e3), "beyond_withdrawal_band"),
    ("equip-west-mortar-19km", "west", "mortar", 3, (17e3, 22e3), "beyond_withdrawal_band"),
    ("equip-west-apc-10km", "west", "armoured_vehicle", 3, (8e3, 12e3), "not_restricted"),
)
#: Garrison groups drawn at random: (weapon class, distance range m, count range).
_GARRISON: Final = (
    ("armoured_vehicle", (3e3, 40e3), (2, 8)),
    ("tank", (16e3, 45e3), (3, 10)),
    ("artillery_lt100", (16e3, 45e3), (2, 6)),
    ("artillery_ge100", (52e3, 85e3), (3, 8)),
)
_GARRISONS_PER_SIDE: Final = 6
#: (id, storage site id, weapon class, count)
_STORED: Final = (
    ("equip-west-storage", "storage-west", "artillery_ge100", 6),
    ("equip-east-storage", "storage-east", "tank", 8),
)


@dataclass(frozen=True, slots=True)
class BackgroundPlan:
    """How much benign activity a scenario family has.

    Attributes
    ----------
    burns_per_day
        Mean number of agricultural burns a day (Poisson).
    storm_every_days
        A thunderstorm on day 1 and then every ``storm_every_days`` days.
    quarry_blast_p
        Probability that a declared quarry blasts on a given day.
    """

    burns_per_day: float = _BURNS_PER_DAY
    storm_every_days: int = 3
    quarry_blast_p: float = 0.85

    def __post_init__(self) -> None:
        if self.burns_per_day < 0 or self.storm_every_days < 1:
            raise ValueError(f"invalid background plan {self!r}")
        if not 0.0 <= self.quarry_blast_p <= 1.0:
            raise ValueError(f"quarry_blast_p must be in [0, 1], got {self.quarry_blast_p}")


#: The default scenario's background.
DEFAULT_BACKGROUND: Final = BackgroundPlan()

#: Typical fire radiative power of the flare sites, megawatts.
_FLARE_FRP_MW: Final = {"steelworks": 45.0, "gas-flare": 20.0}


def _flares(world: World) -> None:
    for site in world.geo.flares:
        truth_id = f"flare-{site.id}"
        world.heat.append(
            HeatSource(
                world.start - 86_400.0,
                world.end + 86_400.0,
                site.x,
                site.y,
                _FLARE_FRP_MW.get(site.id, 25.0),
                truth_id,
            )
        )
        world.events.append(
            TruthEvent(
                truth_id,
                "thermal_anomaly",
                world.start,
                site.x,
                site.y,
                None,
                time_end=world.end,
                benign_reason="industrial_flare",
                detail=f"persistent industrial heat source at {site.id}",
            )
        )


def _burns(world: World, rng: np.random.Generator, per_day: float) -> None:
    line = world.geo.line
    for day in range(world.days):
        for number in range(int(rng.poisson(per_day))):
            side = str(rng.choice(["west", "east"]))
            x, y = line.place(rng.uniform(0.0, 1.0) * line.length_m, side, rng.uniform(3e3, 95e3))
            start = world.day_start(day) + rng.uniform(6.0, 13.0) * _HOUR
            end = start + rng.uniform(1.0, 5.0) * _HOUR
            frp = float(np.clip(rng.lognormal(math.log(2.5), 0.8), 0.3, 60.0))
            truth_id = f"burn-d{day}-{number:03d}"
            world.heat.append(HeatSource(start, end, x, y, frp, truth_id))
            world.events.append(
                TruthEvent(
                    truth_id,
                    "thermal_anomaly",
                    start,
                    x,
                    y,
                    None,
                    time_end=end,
                    benign_reason="agricultural_burning",
                )
            )


def _quarry_blasts(world: World, rng: np.random.Generator, p: float) -> None:
    for day in range(world.days):
        for site in world.geo.quarries:
            if rng.random() >= p:
                continue
            time = world.day_start(day) + rng.uniform(8.5, 12.5) * _HOUR
            x, y = site.x, site.y
            for _ in range(20):
                cx, cy = site.x + rng.normal(0, 150), site.y + rng.normal(0, 150)
                if site.local.contains(Point(cx, cy)):
                    x, y = cx, cy
                    break
            truth_id = f"quarry-{site.id}-d{day}"
            world.emissions.append(Emission(time, x, y, "explosion", 1.1, truth_id))
            world.events.append(
                TruthEvent(
                    truth_id,
                    "explosion",
                    time,
                    x,
                    y,
                    site.party,
                    benign_reason="quarry_blast",
                    detail=f"production blast at declared site {site.id}",
                )
            )


def _storms(world: World, rng: np.random.Generator, every_days: int) -> None:
    line = world.geo.line
    for number, day in enumerate(range(world.scripted_day(1), world.days, every_days), start=1):
        start = world.day_start(day) + rng.uniform(14.0, 17.0) * _HOUR
        duration = rng.uniform(2.0, 3.0) * _HOUR
        s_m = rng.uniform(0.3, 0.7) * line.length_m
        x0, y0 = line.place(s_m, "west", rng.uniform(35e3, 45e3))
        x1, y1 = line.place(s_m + rng.uniform(-20e3, 20e3), "east", rng.uniform(35e3, 45e3))
        storm = Storm(
            start,
            start + duration,
            x0,
            y0,
            (x1 - x0) / duration,
            (y1 - y0) / duration,
            radius_m=35e3,
        )
        world.storms.append(storm)
        strokes = np.sort(
            rng.uniform(start, start + duration, int(rng.poisson(duration / _STROKE_INTERVAL_S)))
        )
        for k, time in enumerate(strokes, start=1):
            cx, cy = storm.centre(float(time))
            x, y = cx + rng.normal(0, 5e3), cy + rng.normal(0, 5e3)
            truth_id = f"storm-{number}-stroke-{k:03d}"
            world.emissions.append(Emission(float(time), x, y, "thunder", 0.8, truth_id))
            world.events.append(
                TruthEvent(
                    truth_id,
                    "other",
                    float(time),
                    x,
                    y,
                    None,
                    benign_reason="thunder",
                    detail=f"cloud-to-ground stroke {k} of {strokes.size} of thunderstorm {number}",
                )
            )


def _lawful_weapons(world: World, rng: np.random.Generator) -> None:
    sites = {s.id: s for s in world.geo.storage}
    placed: list[tuple[str, str, str, int, float, float, str]] = []
    for truth_id, party, weapon, count, band, reason in _LAWFUL:
        x, y = place_group(world, rng, party, band)
        placed.append((truth_id, party, weapon, count, x, y, reason))
        world.objects.append(
            GroundObject("equipment", world.start, world.end, x, y, count, weapon, truth_id)
        )
    for side in ("west", "east"):
        for number in range(1, _GARRISONS_PER_SIDE + 1):
            weapon, band, counts = _GARRISON[int(rng.integers(len(_GARRISON)))]
            x, y = place_group(world, rng, side, band)
            count = int(rng.integers(counts[0], counts[1] + 1))
            reason = "not_restricted" if weapon == "armoured_vehicle" else "beyond_withdrawal_band"
            truth_id = f"garrison-{side}-{number}"
            placed.append((truth_id, side, weapon, count, x, y, reason))
            world.objects.append(
                GroundObject("equipment", world.start, world.end, x, y, count, weapon, truth_id)
            )
    for truth_id, site_id, weapon, count in _STORED:
        site = sites[site_id]
        party = site.party or "west"
        placed.append((truth_id, party, weapon, count, site.x, site.y, "in_storage_site"))
        world.objects.append(
            GroundObject(
                "equipment", world.start, world.end, site.x, site.y, count, weapon, truth_id
            )
        )
    for truth_id, party, weapon, count, x, y, reason in placed:
        world.events.append(
            TruthEvent(
                truth_id,
                "equipment",
                world.start,
                x,
                y,
                party,
                weapon,
                count,
                time_end=world.end,
                benign_reason=reason,
            )
        )


def add_background(
    world: World, rng: np.random.Generator, plan: BackgroundPlan = DEFAULT_BACKGROUND
) -> None:
    """Add the benign background (see the module docstring) to ``world``.

    ``plan`` sets how many burns, storms and quarry blasts there are; the
    default is the default scenario's.
    """
    _lawful_weapons(world, rng)
    _flares(world)
    _quarry_blasts(world, rng, plan.quarry_blast_p)
    _storms(world, rng, plan.storm_every_days)
    _burns(world, rng, plan.burns_per_day)
