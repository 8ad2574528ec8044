"""The ground acoustic sensor network and what it reports.

About 85 single-station acoustic sensors: four staggered rows along the line
(4 km and 14 km from it on both sides, 15 sensors a row) plus four sensors near
each town. Each sensor runs an edge detector/classifier and reports, for every
impulsive sound it picks, the arrival time, a direction of arrival and a class.

Physics and noise
-----------------
* Detection probability falls off with range ``r`` as
  ``0.95 / (1 + exp((r - R50) / (0.12 R50)))`` with ``R50`` the sensor's
  detection range (15–25 km) times the source's loudness (1 = a 155 mm shell).
* Arrival time = origin time + ``r / c`` with ``c = 331.3 + 0.606 T`` m/s and
  ``T`` the day's air temperature (°C, ~5 ± 3), plus the clock error (Gaussian,
  the sensor's ``timing_sigma_s``, 0.1–0.5 s).
* Azimuth = true geodesic azimuth from the station to the source + Gaussian
  noise of 3–5° (the sensor's ``azimuth_sigma_deg``).
* The classifier confuses classes (launch/impact/explosion), labels thunder
  ``other``/"thunder" most of the time and ``explosion`` with low confidence
  (0.2–0.4) otherwise.
* Each sensor produces about 1.5 isolated false alarms a day and is offline
  for a whole day with probability 0.05 (no coverage, no detections).

Outputs
-------
* ``ground/acoustic-YYYY-MM-DD.geojson`` (what the demo ingests today): one
  generic GeoJSON file per UTC day holding the sensor descriptions, each online
  sensor's coverage circle for the day and the day's detections in time order,
  with still-air arrival times as above. Its bytes do not depend on the field
  channel below (separate generator).
* ``ground-edge/`` (:mod:`truceline.simulate.ground_edge`): the same picks in
  the detections CSV and station CSV of ``docs/ground-formats.md``, with arrival
  times through the day's temperature *and* wind
  (:mod:`truceline.simulate.weather`), a daily clock offset per sensor, an SNR,
  and vehicle false triggers on top.

The day's weather is returned for :mod:`truceline.simulate.ground_array` (the
infrasound array streaming miniSEED).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from shapely.geometry import Point

from truceline.model.geo import WGS84_GEOD
from truceline.model.timeutil import from_epoch
from truceline.simulate.geography import Geography
from truceline.simulate.ground_edge import CLOCK_OFFSET_FRACTION, vehicle_triggers, write_edge
from truceline.simulate.ground_records import AcousticSensor, Pick
from truceline.simulate.truth import FalseAlarm
from truceline.simulate.weather import Weather, draw_weather
from truceline.simulate.world import World
from truceline.simulate.writers import (
    iso_time,
    local_polygon_geojson,
    point_geojson,
    write_feature_collection,
)

__all__ = [
    "AcousticSensor",
    "GroundOutput",
    "Pick",
    "deploy_network",
    "detection_probability",
    "write_ground",
]

_OWNER: Final = "monitoring-mission"
_ROWS: Final = (("west", 4e3), ("east", 4e3), ("west", 14e3), ("east", 14e3))
_PER_ROW: Final = 15
_P_MAX: Final = 0.95
#: Mean isolated false alarms per sensor per day.
_FALSE_PER_DAY: Final = 1.5
#: Reported kind probabilities for each true class.
_CONFUSION: Final[dict[str, tuple[tuple[str, ...], tuple[float, ...]]]] = {
    "launch": (("launch", "explosion", "impact", "other"), (0.72, 0.16, 0.07, 0.05)),
    "impact": (("impact", "explosion", "launch", "other"), (0.70, 0.20, 0.05, 0.05)),
    "explosion": (("explosion", "impact", "launch", "other"), (0.78, 0.12, 0.04, 0.06)),
    "gunfire": (("gunfire", "explosion", "other"), (0.85, 0.05, 0.10)),
    "thunder": (("other", "explosion"), (0.8, 0.2)),
}
_LABELS: Final = {
    "launch": "launch",
    "impact": "impact",
    "explosion": "blast",
    "gunfire": "small_arms",
    "other": "unknown",
}


def detection_probability(range_m: Any, r50_m: Any) -> Any:
    """Probability of detecting a source at ``range_m`` (metres) given its ``R50`` (metres)."""
    r = np.asarray(range_m, dtype=float)
    r50 = np.asarray(r50_m, dtype=float)
    return _P_MAX / (1.0 + np.exp((r - r50) / (0.12 * r50)))


#: Sensors around each town (a city's own network): three or more are needed to
#: locate a strike on the town from the town's sensors alone.
_PER_TOWN: Final = 4


def deploy_network(geo: Geography, rng: np.random.Generator) -> list[AcousticSensor]:
    """Place the stations; ids ``acoustic:A001``... in along-line order."""
    line = geo.line
    spots: list[tuple[float, float, float]] = []
    for row, (side, distance) in enumerate(_ROWS):
        for k in range(_PER_ROW):
            s_m = (k + 0.25 + 0.25 * row) / _PER_ROW * line.length_m + rng.uniform(-3e3, 3e3)
            x, y = line.place(s_m, side, distance * rng.uniform(0.75, 1.25))
            spots.append((s_m, x, y))
    for town in geo.towns:
        for _ in range(_PER_TOWN):
            bearing, dist = rng.uniform(0, 2 * math.pi), rng.uniform(2e3, 5e3)
            x, y = town.x + dist * math.sin(bearing), town.y + dist * math.cos(bearing)
            spots.append((float(line.local.project(Point(x, y))), x, y))
    spots.sort()
    sensors = []
    for number, (_, x, y) in enumerate(spots, start=1):
        lon, lat = geo.to_geo(x, y)
        sensors.append(
            AcousticSensor(
                id=f"acoustic:A{number:03d}",
                x=x,
                y=y,
                lon=round(lon, 6),
                lat=round(lat, 6),
                range_m=round(float(rng.uniform(15e3, 25e3)), -2),
                timing_sigma_s=round(float(rng.uniform(0.1, 0.5)), 2),
                azimuth_sigma_deg=round(float(rng.uniform(3.0, 5.0)), 1),
                reliability=round(float(rng.uniform(0.8, 0.95)), 2),
            )
        )
    return sensors


def _mean_pd(range_m: float) -> float:
    """Mean detection probability of a 155 mm shell over the coverage disk."""
    r = np.linspace(0.0, range_m, 201)
    p = detection_probability(r, range_m)
    return round(float(np.trapezoid(p * 2 * r, r) / range_m**2), 3)


def _sensor_feature(sensor: AcousticSensor) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": point_geojson(sensor.lon, sensor.lat),
        "properties": {
            "record": "sensor",
            "id": sensor.id,
            "modality": "acoustic",
            "owner": _OWNER,
            "timing_sigma_s": sensor.timing_sigma_s,
            "detection_range_m": sensor.range_m,
            "reliability": sensor.reliability,
        },
    }


def _coverage_feature(
    geo: Geography, sensor: AcousticSensor, start: float, end: float
) -> dict[str, Any]:
    circle = Point(sensor.x, sensor.y).buffer(sensor.range_m, quad_segs=8)
    return {
        "type": "Feature",
        "geometry": local_polygon_geojson(geo.frame, circle),
        "properties": {
            "record": "coverage",
            "sensor_id": sensor.id,
            "start": iso_time(start),
            "end": iso_time(end),
            "detection_probability": _mean_pd(sensor.range_m),
            "target": "explosion",
        },
    }


def _classify(rng: np.random.Generator, true_kind: str) -> tuple[str, float, str]:
    """Edge classifier: reported kind, confidence and label for a true class."""
    kinds, weights = _CONFUSION[true_kind]
    kind = str(rng.choice(kinds, p=weights))
    if true_kind == "thunder":
        if kind == "other":
            return kind, round(float(rng.uniform(0.5, 0.9)), 2), "thunder"
        return kind, round(float(rng.uniform(0.2, 0.4)), 2), _LABELS[kind]
    right = kind == true_kind
    confidence = rng.uniform(0.6, 0.95) if right else rng.uniform(0.3, 0.6)
    return kind, round(float(confidence), 2), _LABELS[kind]


@dataclass(frozen=True, slots=True)
class _EdgeState:
    """Per sensor-day state of the field channel (arrays of shape ``(days, sensors)``).

    ``clock_offset_s`` is each sensor's clock error of the day (seconds) and
    ``noise_pa`` its background noise level (pascals).
    """

    online: np.ndarray
    clock_offset_s: np.ndarray
    noise_pa: np.ndarray


def _picks(
    world: World,
    sensors: list[AcousticSensor],
    state: _EdgeState,
    rng: np.random.Generator,
    field_rng: np.random.Generator,
) -> tuple[list[Pick], Weather]:
    """Detections of the world's emissions (vectorised over sources x sensors) and the weather.

    The draws from ``rng`` are those of the generic GeoJSON export (its files do
    not change when the field channel does); the wind comes from ``field_rng``.
    """
    online = state.online
    emissions = sorted(world.emissions, key=lambda e: (e.time, e.truth_id, e.x, e.y))
    if not emissions:
        temperatures = np.asarray(field_rng.normal(5.0, 3.0, online.shape[0]), dtype=float)
        return [], draw_weather(field_rng, world.start, temperatures.tolist())
    src_lon, src_lat = world.geo.frame.to_geo([e.x for e in emissions], [e.y for e in emissions])
    st_lon = np.array([s.lon for s in sensors])
    st_lat = np.array([s.lat for s in sensors])
    n, m = len(emissions), len(sensors)
    az, _, dist = WGS84_GEOD.inv(
        np.repeat(st_lon[None, :], n, 0).ravel(),
        np.repeat(st_lat[None, :], n, 0).ravel(),
        np.repeat(src_lon[:, None], m, 1).ravel(),
        np.repeat(src_lat[:, None], m, 1).ravel(),
    )
    az = np.asarray(az).reshape(n, m)
    dist = np.asarray(dist).reshape(n, m)
    strength = np.array([e.strength for e in emissions])
    r50 = np.array([s.range_m for s in sensors])[None, :] * strength[:, None]
    days = np.array([int((e.time - world.start) // 86_400.0) for e in emissions])
    alive = online[np.clip(days, 0, online.shape[0] - 1)]
    heard = (rng.random((n, m)) < detection_probability(dist, r50)) & alive & (dist < 1.6 * r50)
    temperature = np.asarray(rng.normal(5.0, 3.0, online.shape[0]), dtype=float)
    weather = draw_weather(field_rng, world.start, temperature.tolist())
    speed = 331.3 + 0.606 * temperature
    picks = []
    for i, j in zip(*np.nonzero(heard), strict=True):
        emission, sensor = emissions[i], sensors[j]
        day = int(np.clip(days[i], 0, online.shape[0] - 1))
        jitter = rng.normal(0.0, sensor.timing_sigma_s)
        arrival = emission.time + dist[i, j] / speed[day] + jitter
        # The sound travels from the source towards the station: opposite the back azimuth.
        c_eff = weather.days[day].effective_speed_mps((az[i, j] + 180.0) % 360.0)
        field = emission.time + dist[i, j] / c_eff + jitter + state.clock_offset_s[day, j]
        azimuth = (az[i, j] + rng.normal(0.0, sensor.azimuth_sigma_deg)) % 360.0
        kind, confidence, label = _classify(rng, emission.kind)
        amplitude = 150.0 * emission.strength**2 * (1000.0 / max(dist[i, j], 100.0)) ** 1.1
        amplitude *= rng.lognormal(0.0, 0.3)
        picks.append(
            Pick(
                float(arrival),
                sensor,
                kind,
                round(float(azimuth), 1) % 360.0,
                confidence,
                float(f"{amplitude:.3g}"),
                label,
                float(field),
                round(float(amplitude / state.noise_pa[day, j]), 1),
                (emission.truth_id, int(i)),
            )
        )
    return picks, weather


def _false_alarms(
    world: World, sensors: list[AcousticSensor], state: _EdgeState, rng: np.random.Generator
) -> Iterator[Pick]:
    """Isolated spurious picks, about 1.5 per online sensor per day."""
    for day in range(state.online.shape[0]):
        for j, sensor in enumerate(sensors):
            if not state.online[day, j]:
                continue
            for _ in range(int(rng.poisson(_FALSE_PER_DAY))):
                time = world.day_start(day) + rng.uniform(0.0, 86_400.0)
                kind = str(rng.choice(["explosion", "gunfire", "other"], p=[0.4, 0.25, 0.35]))
                azimuth = round(float(rng.uniform(0, 360)), 1) % 360.0
                confidence = round(float(rng.uniform(0.2, 0.55)), 2)
                amplitude = float(f"{rng.uniform(0.2, 2.0):.3g}")
                yield Pick(
                    float(time),
                    sensor,
                    kind,
                    azimuth,
                    confidence,
                    amplitude,
                    _LABELS[kind],
                    float(time),
                    round(amplitude / float(state.noise_pa[day, j]), 1),
                )


@dataclass(frozen=True)
class GroundOutput:
    """What :func:`write_ground` wrote and drew.

    Attributes
    ----------
    files
        Paths written.
    counts
        ``acoustic_sensors``, ``acoustic_detections``, ``acoustic_coverage``
        (generic GeoJSON export) and ``edge_detections`` (detections CSV).
    false_alarms
        Injected false alarms: isolated spurious picks and vehicle triggers.
    weather
        The scenario's daily atmospheres (shared with the infrasound array).
    heard
        Per truth event with picks in the detections CSV (``ground-edge/``):
        ``acoustic_picks`` (all its picks) and ``acoustic_stations`` (the most
        stations that picked one of its sounds).
    """

    files: list[Path]
    counts: dict[str, int]
    false_alarms: list[FalseAlarm]
    weather: Weather
    heard: dict[str, dict[str, int]]


def _heard(world: World, picks: list[Pick]) -> dict[str, dict[str, int]]:
    """What the detections CSV holds of each truth event (see :class:`GroundOutput`)."""
    picked: dict[str, int] = {}
    stations: dict[tuple[str, int], set[str]] = {}
    for pick in picks:
        if pick.source is None or not world.start <= pick.field_time < world.end:
            continue
        picked[pick.source[0]] = picked.get(pick.source[0], 0) + 1
        stations.setdefault(pick.source, set()).add(pick.sensor.id)
    best: dict[str, int] = {}
    for (truth_id, _), heard_by in stations.items():
        best[truth_id] = max(best.get(truth_id, 0), len(heard_by))
    return {
        truth_id: {"acoustic_picks": picked[truth_id], "acoustic_stations": best[truth_id]}
        for truth_id in sorted(picked)
    }


def _write_geojson(
    out_dir: Path,
    world: World,
    sensors: list[AcousticSensor],
    online: np.ndarray,
    picks: list[Pick],
) -> tuple[list[Path], dict[str, int]]:
    """One generic-observation GeoJSON file per day (the export the demo reads today)."""
    by_day: dict[int, list[Pick]] = {}
    for pick in picks:
        if world.start <= pick.time < world.end:
            by_day.setdefault(int((pick.time - world.start) // 86_400.0), []).append(pick)
    files: list[Path] = []
    counts = {"acoustic_sensors": len(sensors), "acoustic_detections": 0, "acoustic_coverage": 0}
    for day in range(world.days):
        start, end = world.day_start(day), world.day_start(day + 1)
        coverage = [
            _coverage_feature(world.geo, sensor, start, end)
            for j, sensor in enumerate(sensors)
            if online[day, j]
        ]
        day_picks = sorted(by_day.get(day, []), key=lambda p: (p.time, p.sensor.id))
        features = [_sensor_feature(s) for s in sensors] + coverage
        features += [p.feature() for p in day_picks]
        path = out_dir / "ground" / f"acoustic-{from_epoch(start):%Y-%m-%d}.geojson"
        write_feature_collection(path, features)
        files.append(path)
        counts["acoustic_detections"] += len(day_picks)
        counts["acoustic_coverage"] += len(coverage)
    return files, counts


def write_ground(
    out_dir: Path, world: World, rng: np.random.Generator, field_rng: np.random.Generator
) -> GroundOutput:
    """Deploy the network, observe the world and write its files.

    Parameters
    ----------
    out_dir
        Scenario directory.
    world
        What happens.
    rng
        Generator of the network, its detections and the GeoJSON export.
    field_rng
        Generator of what only the field formats carry: wind, clock offsets,
        noise levels, elevations and vehicle triggers.
    """
    sensors = deploy_network(world.geo, rng)
    online = rng.random((world.days, len(sensors))) >= 0.05
    timing = np.array([s.timing_sigma_s for s in sensors])
    state = _EdgeState(
        online,
        field_rng.normal(0.0, 1.0, online.shape) * CLOCK_OFFSET_FRACTION * timing[None, :],
        field_rng.uniform(0.03, 0.1, online.shape),
    )
    picks, weather = _picks(world, sensors, state, rng, field_rng)
    spurious = list(_false_alarms(world, sensors, state, rng))
    files, counts = _write_geojson(out_dir, world, sensors, online, picks + spurious)
    vehicles = vehicle_triggers(world, sensors, online, state.noise_pa, field_rng)
    edge_files, edge_count = write_edge(
        out_dir, world, sensors, field_rng, picks + spurious + vehicles
    )
    alarms = [
        FalseAlarm(p.sensor.id, p.time, p.sensor.x, p.sensor.y, p.kind) for p in spurious + vehicles
    ]
    counts["edge_detections"] = edge_count
    return GroundOutput(files + edge_files, counts, alarms, weather, _heard(world, picks))
