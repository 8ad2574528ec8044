"""Drone patrols: flight plans, imaged corridors and a simulated object detector.

Patrols a day (times UTC):

* three **line patrols** (``L1``–``L3``, around 01, 07 and 13 h) flying 100–150 km
  stretches of the contact line itself, imaging the disengagement zone;
* four **depth patrols** (``DW1``/``DW2`` at ~08 and ~14 h over ``west``,
  ``DE1``/``DE2`` at ~09 and ~15 h over ``east``) from the line through
  inspection points — known weapon groups and positions (each with probability
  0.75), the party's storage site and two random points 10–70 km deep — and back;
* **tasked patrols** (``T1``...) flying out to places that were shelled (crater
  survey at first daylight) or struck (post-strike survey 1–2 h later).

The camera images a 3 km swath at 30 m/s. Each 10 km stretch of the flight is
written as a ``coverage`` feature (corridor polygon, start/end, detection
probability 0.85). The detector finds weapon groups with probability 0.85 per
pass (positions 0.75, new craters 0.7), places them with a 15–40 m error
(``cov_m2`` oriented along/across track), misclassifies 10 % of weapon groups
into a neighbouring class, and adds low-confidence false positives (~0.01 per
stretch). A crater is reported on the first pass after it was made, bounded in
time by the previous pass over the spot (``time``..``time_end``).

Output: ``drone/patrol-<YYYY-MM-DD>-<id>.geojson`` per patrol.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from truceline.model.timeutil import from_epoch
from truceline.simulate.truth import FalseAlarm
from truceline.simulate.world import World
from truceline.simulate.writers import (
    iso_time,
    local_polygon_geojson,
    point_geojson,
    write_feature_collection,
)

__all__ = ["DEFAULT_PATROLS", "Patrol", "PatrolPlan", "plan_patrols", "write_drones"]

_HOUR: Final = 3600.0
_SPEED_MPS: Final = 30.0
_SWATH_M: Final = 3000.0
_PIECE_M: Final = 10_000.0
_MERGE_S: Final = 180.0
_P_DETECT: Final = {"equipment": 0.85, "military_presence": 0.75, "crater": 0.7}
_P_MISCLASS: Final = 0.10
_FALSE_PER_PIECE: Final = 0.01
_NEIGHBOURS: Final = {
    "tank": ("armoured_vehicle",),
    "armoured_vehicle": ("tank",),
    "artillery_lt100": ("artillery_ge100", "mortar"),
    "artillery_ge100": ("artillery_lt100", "mlrs"),
    "mortar": ("artillery_lt100",),
    "mlrs": ("heavy_mlrs_missile", "artillery_ge100"),
    "heavy_mlrs_missile": ("mlrs",),
}
_OWNER: Final = "monitoring-mission"
#: Depth patrols a day: (side, take-off hours UTC, platform, id).
_DEPTH_PATROLS: Final = (
    ("west", (7.0, 8.5), "UAV-03", "DW1"),
    ("east", (8.0, 9.5), "UAV-04", "DE1"),
    ("west", (13.0, 14.5), "UAV-03", "DW2"),
    ("east", (14.0, 15.5), "UAV-04", "DE2"),
)


#: Line patrols a day: (take-off hours UTC, platform).
_LINE_PATROLS: Final = (((0.5, 2.0), "UAV-01"), ((6.0, 8.0), "UAV-02"), ((12.0, 15.0), "UAV-01"))


@dataclass(frozen=True, slots=True)
class PatrolPlan:
    """Which routine patrols fly every day (tasked patrols fly whenever asked for).

    Attributes
    ----------
    line
        Line patrols: (take-off hours UTC, platform); ids ``L1``, ``L2``...
    depth
        Depth patrols: (side, take-off hours UTC, platform, id).
    """

    line: tuple[tuple[tuple[float, float], str], ...] = _LINE_PATROLS
    depth: tuple[tuple[str, tuple[float, float], str, str], ...] = _DEPTH_PATROLS


#: The default scenario's patrols (see the module docstring).
DEFAULT_PATROLS: Final = PatrolPlan()


@dataclass(frozen=True, slots=True)
class Patrol:
    """A planned flight: id, platform, kind, take-off time (epoch s), waypoints (local m)."""

    id: str
    platform: str
    kind: str
    start: float
    waypoints: tuple[tuple[float, float], ...]


@dataclass(slots=True)
class _Flight:
    """A flown patrol: imaged stretches as arrays, and features found so far."""

    patrol: Patrol
    a: np.ndarray  # (k, 2) stretch start points, local m
    b: np.ndarray  # (k, 2) stretch end points
    t0: np.ndarray  # (k,) epoch s
    t1: np.ndarray
    found: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    areas: np.ndarray = field(init=False)  # (k,) corridor polygons imaged, local m

    def __post_init__(self) -> None:
        self.areas = np.array(
            [
                LineString([p, q]).buffer(_SWATH_M / 2.0, quad_segs=2)
                for p, q in zip(self.a, self.b, strict=True)
            ],
            dtype=object,
        )
        shapely.prepare(self.areas)


def _fly(patrol: Patrol, end: float) -> _Flight:
    """Split the route into <= 10 km stretches flown at constant speed, up to ``end``."""
    a, b, t0, t1 = [], [], [], []
    time = patrol.start
    points = np.asarray(patrol.waypoints, dtype=float)
    for p, q in itertools.pairwise(points):
        length = float(np.hypot(*(q - p)))
        if length < 1.0:
            continue  # two inspection points at the same spot
        pieces = max(1, math.ceil(length / _PIECE_M))
        for k in range(pieces):
            u0, u1 = k / pieces, (k + 1) / pieces
            duration = length / pieces / _SPEED_MPS
            if time + duration > end:
                break
            a.append(p + (q - p) * u0)
            b.append(p + (q - p) * u1)
            t0.append(time)
            t1.append(time + duration)
            time += duration
    return _Flight(
        patrol, np.reshape(a, (-1, 2)), np.reshape(b, (-1, 2)), np.asarray(t0), np.asarray(t1)
    )


def _line_route(world: World, rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    line = world.geo.line
    length = rng.uniform(100e3, 150e3)
    s0 = rng.uniform(0.0, line.length_m - length)
    route = [line.local.interpolate(s) for s in np.arange(s0, s0 + length, 2_000.0)]
    points = tuple((float(p.x), float(p.y)) for p in route)
    return points[::-1] if rng.random() < 0.5 else points


def _depth_route(
    world: World, rng: np.random.Generator, side: str, time: float
) -> tuple[tuple[float, float], ...]:
    geo, line = world.geo, world.geo.line
    targets = [
        (o.x, o.y)
        for o in world.objects
        if o.start <= time < o.end and line.side(o.x, o.y) == side and rng.random() < 0.75
    ]
    targets += [(s.x, s.y) for s in geo.storage if s.party == side and rng.random() < 0.9]
    for _ in range(2):
        targets.append(
            line.place(rng.uniform(0.1, 0.9) * line.length_m, side, rng.uniform(10e3, 70e3))
        )
    along = sorted((float(line.local.project(Point(x, y))), x, y) for x, y in targets)
    first, last = line.local.interpolate(along[0][0]), line.local.interpolate(along[-1][0])
    return ((first.x, first.y), *((x, y) for _, x, y in along), (last.x, last.y))


def plan_patrols(
    world: World, rng: np.random.Generator, plan: PatrolPlan = DEFAULT_PATROLS
) -> list[Patrol]:
    """All patrols of the scenario (see the module docstring), in take-off order."""
    patrols = []
    for day in range(world.days):
        base = world.day_start(day)
        date = f"{from_epoch(base):%Y-%m-%d}"
        for n, (hours, platform) in enumerate(plan.line, start=1):
            time = base + rng.uniform(*hours) * _HOUR
            patrols.append(
                Patrol(f"{date}-L{n}", f"drone:{platform}", "line", time, _line_route(world, rng))
            )
        for side, hours, platform, code in plan.depth:
            time = base + rng.uniform(*hours) * _HOUR
            patrols.append(
                Patrol(
                    f"{date}-{code}",
                    f"drone:{platform}",
                    "depth",
                    time,
                    _depth_route(world, rng, side, time),
                )
            )
        tasks = [t for t in world.taskings if base <= t.time < base + 86_400.0]
        for n, task in enumerate(sorted(tasks, key=lambda t: (t.time, t.x)), start=1):
            near = world.geo.line.local.interpolate(
                world.geo.line.local.project(Point(task.x, task.y))
            )
            route = ((near.x, near.y), (task.x, task.y), (near.x, near.y))
            patrols.append(Patrol(f"{date}-T{n}", "drone:UAV-05", "tasked", task.time, route))
    return sorted(patrols, key=lambda p: (p.start, p.id))


def _passes(flights: Sequence[_Flight], x: float, y: float) -> list[tuple[float, int, int]]:
    """``(time, flight index, stretch index)`` of each pass over local ``(x, y)``.

    A pass is a stretch whose imaged corridor contains the point; consecutive
    stretches of one flight seeing it within 3 minutes are one pass (the
    overlap at stretch joins).
    """
    found = []
    for index, flight in enumerate(flights):
        if flight.t0.size == 0:
            continue
        d = flight.b - flight.a
        rel = np.array([x, y]) - flight.a
        u = np.clip(np.einsum("ij,ij->i", rel, d) / np.einsum("ij,ij->i", d, d), 0.0, 1.0)
        inside = shapely.contains_xy(flight.areas, x, y)
        last = -math.inf
        for k in np.nonzero(inside)[0]:
            time = float(flight.t0[k] + u[k] * (flight.t1[k] - flight.t0[k]))
            if time - last > _MERGE_S:
                found.append((time, index, int(k)))
            last = time
    return sorted(found)


def _detection(
    world: World,
    flight: _Flight,
    k: int,
    time: float,
    where: tuple[float, float],
    rng: np.random.Generator,
) -> dict[str, Any]:
    """An observation feature with a 15–40 m error oriented along the flight."""
    heading = math.atan2(*(flight.b[k] - flight.a[k]))
    along = np.array([math.sin(heading), math.cos(heading)])
    across = np.array([math.cos(heading), -math.sin(heading)])
    s_along, s_across = rng.uniform(15.0, 40.0, 2)
    error = along * rng.normal(0, s_along) + across * rng.normal(0, s_across)
    cov = s_along**2 * np.outer(along, along) + s_across**2 * np.outer(across, across)
    lon, lat = world.geo.to_geo(where[0] + error[0], where[1] + error[1])
    return {
        "type": "Feature",
        "geometry": point_geojson(lon, lat),
        "properties": {
            "record": "observation",
            "sensor_id": flight.patrol.platform,
            "modality": "drone",
            "time": iso_time(time),
            "time_sigma_s": 0.5,
            "cov_m2": [
                round(float(cov[0, 0]), 1),
                round(float(cov[0, 1]), 1),
                round(float(cov[1, 1]), 1),
            ],
        },
    }


def _see_objects(world: World, flights: list[_Flight], rng: np.random.Generator) -> None:
    for obj in sorted(world.objects, key=lambda o: (o.truth_id, o.start)):
        for time, index, k in _passes(flights, obj.x, obj.y):
            if not obj.start <= time < obj.end or rng.random() >= _P_DETECT[obj.kind]:
                continue
            flight = flights[index]
            feature = _detection(world, flight, k, time, (obj.x, obj.y), rng)
            confidence = rng.uniform(0.6, 0.95)
            attributes: dict[str, Any] = {}
            if obj.weapon_class is not None:
                weapon = obj.weapon_class
                if rng.random() < _P_MISCLASS:
                    weapon = str(rng.choice(_NEIGHBOURS[weapon]))
                    confidence = rng.uniform(0.4, 0.7)
                attributes["weapon_class"] = weapon
                attributes["count"] = max(1, int(rng.binomial(obj.count, 0.9)))
            else:
                attributes["count"] = max(1, round(obj.count * rng.uniform(0.6, 1.2)))
                attributes["label"] = "personnel"
            attributes["confidence"] = round(float(confidence), 2)
            attributes["patrol"] = flight.patrol.id
            feature["properties"]["kind"] = obj.kind
            feature["properties"]["attributes"] = attributes
            flight.found.append((time, feature))


def _see_craters(world: World, flights: list[_Flight], rng: np.random.Generator) -> None:
    for crater in sorted(world.craters, key=lambda c: (c.time, c.x, c.y)):
        previous = world.start
        for time, index, k in _passes(flights, crater.x, crater.y):
            if time < crater.time:
                previous = time
                continue
            if rng.random() < _P_DETECT["crater"]:
                flight = flights[index]
                feature = _detection(world, flight, k, previous, (crater.x, crater.y), rng)
                feature["properties"]["kind"] = "crater"
                feature["properties"]["time_sigma_s"] = 0.0
                feature["properties"]["time_end"] = iso_time(time)
                feature["properties"]["attributes"] = {
                    "confidence": round(float(rng.uniform(0.55, 0.95)), 2),
                    "patrol": flight.patrol.id,
                }
                flight.found.append((time, feature))
            break


def _false_positives(
    world: World, flights: list[_Flight], rng: np.random.Generator
) -> list[FalseAlarm]:
    alarms = []
    for flight in flights:
        for k in range(flight.t0.size):
            for _ in range(int(rng.poisson(_FALSE_PER_PIECE))):
                u, lateral = rng.uniform(0, 1), rng.uniform(-0.5, 0.5) * _SWATH_M
                d = flight.b[k] - flight.a[k]
                normal = np.array([-d[1], d[0]]) / np.hypot(*d)
                x, y = flight.a[k] + d * u + normal * lateral
                time = float(flight.t0[k] + u * (flight.t1[k] - flight.t0[k]))
                feature = _detection(world, flight, k, time, (float(x), float(y)), rng)
                if rng.random() < 0.7:
                    kind = "equipment"
                    attributes: dict[str, Any] = {
                        "weapon_class": str(rng.choice(sorted(_NEIGHBOURS))),
                        "count": int(rng.integers(1, 3)),
                    }
                else:
                    kind = "military_presence"
                    attributes = {"count": int(rng.integers(2, 7)), "label": "personnel"}
                attributes["confidence"] = round(float(rng.uniform(0.15, 0.4)), 2)
                attributes["patrol"] = flight.patrol.id
                feature["properties"]["kind"] = kind
                feature["properties"]["attributes"] = attributes
                flight.found.append((time, feature))
                alarms.append(FalseAlarm(flight.patrol.platform, time, float(x), float(y), kind))
    return alarms


def _coverage(world: World, flight: _Flight) -> list[dict[str, Any]]:
    features = []
    for k in range(flight.t0.size):
        corridor = flight.areas[k]
        features.append(
            {
                "type": "Feature",
                "geometry": local_polygon_geojson(world.geo.frame, corridor),
                "properties": {
                    "record": "coverage",
                    "sensor_id": flight.patrol.platform,
                    "start": iso_time(float(flight.t0[k])),
                    "end": iso_time(float(flight.t1[k])),
                    "detection_probability": _P_DETECT["equipment"],
                    "target": "equipment",
                },
            }
        )
    return features


def _sensor(platform: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "record": "sensor",
            "id": platform,
            "modality": "drone",
            "owner": _OWNER,
            "timing_sigma_s": 0.5,
            "detection_range_m": _SWATH_M / 2.0,
            "reliability": 0.9,
        },
    }


def write_drones(
    out_dir: Path, world: World, rng: np.random.Generator, plan: PatrolPlan = DEFAULT_PATROLS
) -> tuple[list[Path], dict[str, int], list[FalseAlarm], list[Patrol]]:
    """Plan and fly the patrols (routine ones by ``plan``); write one GeoJSON file per patrol.

    Returns
    -------
    tuple
        Files written, counts (``drone_patrols``, ``drone_detections``,
        ``drone_coverage``), the detector's false positives and the patrols
        flown (in take-off order).
    """
    flights = [_fly(p, world.end) for p in plan_patrols(world, rng, plan)]
    flights = [f for f in flights if f.t0.size]
    _see_objects(world, flights, rng)
    _see_craters(world, flights, rng)
    alarms = _false_positives(world, flights, rng)
    files: list[Path] = []
    counts = {"drone_patrols": len(flights), "drone_detections": 0, "drone_coverage": 0}
    for flight in flights:
        coverage = _coverage(world, flight)
        found = sorted(
            flight.found,
            key=lambda item: (
                item[0],
                item[1]["properties"]["kind"],
                item[1]["geometry"]["coordinates"],
            ),
        )
        features = [_sensor(flight.patrol.platform), *coverage, *(f for _, f in found)]
        path = out_dir / "drone" / f"patrol-{flight.patrol.id}.geojson"
        write_feature_collection(path, features)
        files.append(path)
        counts["drone_detections"] += len(found)
        counts["drone_coverage"] += len(coverage)
    return files, counts, alarms, [flight.patrol for flight in flights]
