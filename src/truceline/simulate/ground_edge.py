"""The acoustic edge network in field formats: detections CSV and station metadata CSV.

Low-bandwidth field sensors send one line per detection, not waveforms. The
simulator writes what the network of :mod:`truceline.simulate.ground` reports in
the detections CSV and station CSV of ``docs/ground-formats.md``::

    OUT/ground-edge/stations.csv                 one row per station
    OUT/ground-edge/detections-YYYY-MM-DD.csv    the day's detections in time order

The detections are those of the generic GeoJSON export plus vehicle triggers,
with field physics the export lacks:

* arrival time = origin time + range / effective sound speed, the speed being
  the day's :class:`~truceline.ground.base.Atmosphere` (temperature and wind,
  :mod:`truceline.simulate.weather`) along the propagation direction;
* clock error = the Gaussian jitter of every pick (``timing_sigma_s``) plus a
  clock offset per sensor and day (Gaussian, half of ``timing_sigma_s``); the
  reported ``time_sigma_s`` is their combined standard deviation;
* ``snr`` = peak amplitude over the sensor's noise level of the day (0.03–0.1 Pa);
* **vehicle triggers**: about 0.8 a day per online sensor between 05 and 21 UTC,
  weak (0.1–0.8 Pa), from any direction, classified ``other`` (label
  ``vehicle``), sometimes ``explosion`` or ``gunfire``, with low confidence.
  Thunder and quarry blasts reach the sensors as real emissions of the world.

Rows are sorted by time, then station; every number is rounded to the precision
written, so the files are byte-identical for a seed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from truceline.model.timeutil import from_epoch
from truceline.simulate.ground_records import AcousticSensor, Pick
from truceline.simulate.world import World
from truceline.simulate.writers import iso_time

__all__ = [
    "CLOCK_OFFSET_FRACTION",
    "DETECTION_COLUMNS",
    "STATION_COLUMNS",
    "vehicle_triggers",
    "write_edge",
]

#: Standard deviation of a sensor's daily clock offset, as a fraction of its timing sigma.
CLOCK_OFFSET_FRACTION: Final = 0.5
#: Columns of the detections CSV (a subset of the documented ones), in order.
DETECTION_COLUMNS: Final = (
    "station",
    "time",
    "time_sigma_s",
    "lon",
    "lat",
    "elevation_m",
    "back_azimuth_deg",
    "back_azimuth_sigma_deg",
    "kind",
    "confidence",
    "amplitude_pa",
    "snr",
    "modality",
    "max_range_m",
    "label",
)
#: Columns of the station metadata CSV, in the documented order.
STATION_COLUMNS: Final = (
    "station",
    "lon",
    "lat",
    "elevation_m",
    "sensor_type",
    "array",
    "timing_sigma_s",
    "detection_range_m",
    "reliability",
)
#: Mean vehicle triggers per online sensor per day.
_VEHICLES_PER_DAY: Final = 0.8
_VEHICLE_KINDS: Final = (("other", "explosion", "gunfire"), (0.6, 0.25, 0.15))


def vehicle_triggers(
    world: World,
    sensors: Sequence[AcousticSensor],
    online: np.ndarray,
    noise_pa: np.ndarray,
    rng: np.random.Generator,
) -> list[Pick]:
    """Picks of passing vehicles, about 0.8 per online sensor per day (05–21 UTC).

    Parameters
    ----------
    online, noise_pa
        Per (day, sensor): whether the sensor works, and its noise level in pascals.
    """
    picks = []
    kinds, weights = _VEHICLE_KINDS
    for day in range(online.shape[0]):
        for j, sensor in enumerate(sensors):
            if not online[day, j]:
                continue
            for _ in range(int(rng.poisson(_VEHICLES_PER_DAY))):
                time = world.day_start(day) + rng.uniform(5.0, 21.0) * 3600.0
                kind = str(rng.choice(kinds, p=weights))
                amplitude = float(f"{rng.uniform(0.1, 0.8):.3g}")
                picks.append(
                    Pick(
                        float(time),
                        sensor,
                        kind,
                        round(float(rng.uniform(0.0, 360.0)), 1) % 360.0,
                        round(float(rng.uniform(0.2, 0.5)), 2),
                        amplitude,
                        "vehicle",
                        float(time),
                        round(amplitude / float(noise_pa[day, j]), 1),
                    )
                )
    return picks


def _station_rows(
    sensors: Sequence[AcousticSensor], elevations_m: Sequence[int]
) -> list[list[object]]:
    return [
        [
            s.id,
            s.lon,
            s.lat,
            elevation,
            "acoustic",
            "",
            s.timing_sigma_s,
            s.range_m,
            s.reliability,
        ]
        for s, elevation in zip(sensors, elevations_m, strict=True)
    ]


def _detection_row(pick: Pick, elevation_m: int) -> list[object]:
    sensor = pick.sensor
    sigma = sensor.timing_sigma_s * math.hypot(1.0, CLOCK_OFFSET_FRACTION)
    return [
        sensor.id,
        iso_time(pick.field_time),
        round(sigma, 3),
        sensor.lon,
        sensor.lat,
        elevation_m,
        pick.azimuth_deg,
        sensor.azimuth_sigma_deg,
        pick.kind,
        pick.confidence,
        pick.amplitude_pa,
        pick.snr,
        "acoustic",
        sensor.range_m,
        pick.label,
    ]


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_edge(
    out_dir: Path,
    world: World,
    sensors: Sequence[AcousticSensor],
    rng: np.random.Generator,
    picks: Sequence[Pick],
) -> tuple[list[Path], int]:
    """Write ``ground-edge/stations.csv`` and one detections CSV per UTC day.

    Parameters
    ----------
    out_dir
        Scenario directory.
    world
        The scenario (its window decides the days).
    sensors
        The stations, in id order.
    rng
        Generator of the station elevations (80–250 m).
    picks
        Every detection; those whose field arrival time falls outside the
        window are dropped.

    Returns
    -------
    tuple
        Files written and the number of detection rows.
    """
    elevations = [round(float(e)) for e in rng.uniform(80.0, 250.0, len(sensors))]
    elevation_of = {s.id: e for s, e in zip(sensors, elevations, strict=True)}
    folder = out_dir / "ground-edge"
    stations = folder / "stations.csv"
    _write_csv(stations, STATION_COLUMNS, _station_rows(sensors, elevations))
    by_day: dict[int, list[Pick]] = {}
    for pick in picks:
        if world.start <= pick.field_time < world.end:
            by_day.setdefault(int((pick.field_time - world.start) // 86_400.0), []).append(pick)
    files, count = [stations], 0
    for day in range(world.days):
        day_picks = sorted(by_day.get(day, []), key=lambda p: (p.field_time, p.sensor.id))
        rows = [_detection_row(p, elevation_of[p.sensor.id]) for p in day_picks]
        path = folder / f"detections-{from_epoch(world.day_start(day)):%Y-%m-%d}.csv"
        _write_csv(path, DETECTION_COLUMNS, rows)
        files.append(path)
        count += len(rows)
    return files, count
