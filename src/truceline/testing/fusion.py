"""A synthetic load for the fusion engine: many sectors of a front over many days.

The scenario simulator (:mod:`truceline.simulate`) writes field files through
the real adapters and is the reference for accuracy; it does not reach a
million observations. This generator makes observations directly, with the same
kinds and shapes, for throughput and scaling measurements
(``benchmarks/bench_fusion.py``) and for tests. It is a pure function of its
arguments.

The front is a north-south contact line at 38° E between 46° and 50° N
(:data:`CONTACT_LINE`), cut into ``sectors`` sectors of 0.2° of latitude,
each 30 km wide across the line. Every sector-day draws (Poisson means in
:class:`LoadRates`):

* **fires**: background fires, each seen by two to four VIIRS overpasses (four
  a day) as one or two hot spots (σ 180 m);
* **shelling episodes** (in one sector in three): a launch position on one
  side (σ 250 m, ground network solution) and three to seven rounds landing
  on the other (σ 150 m each), two to six minutes long; half of them light
  a fire seen at the next overpass, a third leave a crater a drone sights in
  the next two days (σ 10 m), and each round leaves a crater footprint a SAR
  change map (a 12-day interval) catches with probability 0.4; one episode in
  five is also heard by four direction-finding stations of the sector
  (bearings to 2°, times to 0.1 s);
* **weapons**: eight parked per sector for good (some inside the withdrawal
  bands), each sighted by the day's drone pass with probability 0.6 (σ 12 m);
* **false alarms**: single hot spots and unclassified sounds located by the
  network (σ 300 m).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
from shapely.geometry import LineString

from truceline.model.location import (
    BearingLocation,
    FootprintLocation,
    PointLocation,
)
from truceline.model.observation import Observation
from truceline.model.timeutil import from_epoch

__all__ = ["CONTACT_LINE", "LOAD_START", "LoadRates", "fusion_load", "observations_per_sector_day"]

#: The front of the load: west party left of it walking north.
CONTACT_LINE: Final = LineString([(38.0, 45.9), (38.0, 50.1)])
#: First day of the load (UTC), after the demo agreement's effective date.
LOAD_START: Final = datetime(2026, 11, 2, tzinfo=UTC)

_M_PER_DEG_LAT = 111_132.0
_OVERPASSES_H = (1.2, 10.5, 11.3, 22.9)
_SOUND_MPS = 337.4


@dataclass(frozen=True)
class LoadRates:
    """Poisson means per sector-day of the generator's activities."""

    fires: float = 2.0
    episodes: float = 1.2
    false_hot_spots: float = 3.0
    false_sounds: float = 3.0
    weapons: int = 8


def observations_per_sector_day(rates: LoadRates | None = None) -> float:
    """Expected observations per sector-day (used to size a load), approximate."""
    r = rates or LoadRates()
    fires = r.fires * 3.0 * 1.2
    episodes = r.episodes / 3.0 * (1 + 5 + 0.5 + 0.33 + 5 * 0.4 + 0.2 * 5 * 4)
    return fires + episodes + r.false_hot_spots + r.false_sounds + r.weapons * 0.6


class _Sector:
    """Geometry of one sector: metres east/north of its centre on the line."""

    def __init__(self, index: int) -> None:
        self.lat0 = 46.0 + 0.2 * index + 0.1
        self.lon0 = 38.0
        self.m_per_deg_lon = _M_PER_DEG_LAT * math.cos(math.radians(self.lat0))
        self.index = index

    def geo(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.m_per_deg_lon, self.lat0 + y / _M_PER_DEG_LAT


def _point(
    sensor: str,
    modality: str,
    kind: str,
    sector: _Sector,
    x: float,
    y: float,
    sigma: float,
    t: float,
    **attributes: object,
) -> Observation:
    lon, lat = sector.geo(x, y)
    return Observation(
        sensor, modality, kind, from_epoch(round(t, 3)),
        PointLocation.isotropic(round(lon, 7), round(lat, 7), sigma),
        attributes={"confidence": 0.9, **attributes},
    )  # fmt: skip


def _footprint(sector: _Sector, x: float, y: float, half: float) -> FootprintLocation:
    corners = [(-half, -half), (half, -half), (half, half), (-half, half), (-half, -half)]
    return FootprintLocation(
        tuple(
            (round(lon, 7), round(lat, 7))
            for lon, lat in (sector.geo(x + dx, y + dy) for dx, dy in corners)
        )
    )


def _next_overpass(t: float, day0: float) -> float:
    for day in range(3):
        for hour in _OVERPASSES_H:
            when = day0 + 86_400.0 * day + 3_600.0 * hour
            if when > t:
                return when
    return t + 43_200.0


def _fires(
    rng: np.random.Generator, sector: _Sector, day0: float, rates: LoadRates
) -> list[Observation]:
    out = []
    for _ in range(int(rng.poisson(rates.fires))):
        fx, fy = rng.uniform(-15e3, 15e3), rng.uniform(-11e3, 11e3)
        first = int(rng.integers(4))
        for k in range(first, first + int(rng.integers(2, 5))):
            t = day0 + 86_400.0 * (k // 4) + 3_600.0 * _OVERPASSES_H[k % 4]
            sat = "NOAA-20" if k % 2 else "Suomi-NPP"
            for _pixel in range(1 + int(rng.random() < 0.2)):
                out.append(
                    _point(f"firms:VIIRS:{sat}", "satellite", "thermal_anomaly", sector,
                           fx + rng.normal(0, 150), fy + rng.normal(0, 150), 180.0, t)
                )  # fmt: skip
    return out


def _bearings(
    sector: _Sector, x: float, y: float, t: float, kind: str, rng: np.random.Generator
) -> list[Observation]:
    out = []
    for k, (sx, sy) in enumerate(((-9e3, -8e3), (9e3, -7e3), (0.0, 10e3), (-10e3, 6e3))):
        r = math.hypot(x - sx, y - sy)
        if r > 24e3:
            continue
        azimuth = (math.degrees(math.atan2(x - sx, y - sy)) + rng.normal(0, 2.0)) % 360
        lon, lat = sector.geo(sx, sy)
        out.append(
            Observation(
                f"acoustic:S{sector.index:03d}-{k}", "acoustic", kind,
                from_epoch(round(t + r / _SOUND_MPS + rng.normal(0, 0.1), 3)),
                BearingLocation(round(lon, 7), round(lat, 7), azimuth, 2.0, 25_000.0),
                time_sigma_s=0.1, attributes={"confidence": 0.85},
            )
        )  # fmt: skip
    return out


def _episode(rng: np.random.Generator, sector: _Sector, day0: float) -> list[Observation]:
    net = f"acoustic:net{sector.index:03d}"
    side = 1.0 if rng.random() < 0.5 else -1.0
    lx, ly = -side * rng.uniform(6e3, 12e3), rng.uniform(-10e3, 10e3)
    tx, ty = side * rng.uniform(1e3, 9e3), ly + rng.uniform(-3e3, 3e3)
    t0 = day0 + rng.uniform(0, 86_000.0)
    rounds = int(rng.integers(3, 8))
    flight = math.hypot(tx - lx, ty - ly) / 500.0
    heard = rng.random() < 0.2
    out = [_point(net, "acoustic", "launch", sector, lx, ly, 250.0, t0)]
    if heard:
        out.extend(_bearings(sector, lx, ly, t0, "launch", rng))
    for k in range(rounds):
        t = t0 + flight + 60.0 * k * rng.uniform(0.3, 1.0)
        x, y = tx + rng.normal(0, 100), ty + rng.normal(0, 100)
        out.append(_point(net, "acoustic", "impact", sector, x, y, 150.0, t))
        if heard:
            out.extend(_bearings(sector, x, y, t, "impact", rng))
        if rng.random() < 0.4:  # caught by the SAR change map of its 12-day cycle
            cycle = LOAD_START.timestamp() + 12 * 86_400.0 * (
                (t - LOAD_START.timestamp()) // (12 * 86_400.0)
            )
            out.append(
                Observation(f"sentinel-1a:pwtt:S{sector.index:03d}", "satellite", "crater",
                            from_epoch(cycle), _footprint(sector, x, y, 5.0),
                            time_end=from_epoch(cycle + 12 * 86_400.0),
                            attributes={"confidence": 0.95})
            )  # fmt: skip
    if rng.random() < 0.5:
        when = _next_overpass(t0 + flight, day0)
        out.append(
            _point("firms:VIIRS:NOAA-20", "satellite", "thermal_anomaly", sector,
                   tx + rng.normal(0, 150), ty + rng.normal(0, 150), 180.0, when)
        )  # fmt: skip
    if rng.random() < 0.33:
        out.append(
            _point("drone:UAV-1", "drone", "crater", sector, tx + rng.normal(0, 30),
                   ty + rng.normal(0, 30), 10.0, t0 + rng.uniform(3_600.0, 2 * 86_400.0))
        )  # fmt: skip
    return out


def _day(
    rng: np.random.Generator, sector: _Sector, day: int, weapons: np.ndarray, rates: LoadRates
) -> list[Observation]:
    day0 = LOAD_START.timestamp() + 86_400.0 * day
    out = _fires(rng, sector, day0, rates)
    if sector.index % 3 == 0:
        for _ in range(int(rng.poisson(rates.episodes * 3.0))):
            out.extend(_episode(rng, sector, day0))
    for _ in range(int(rng.poisson(rates.false_hot_spots))):
        t = day0 + 3_600.0 * _OVERPASSES_H[int(rng.integers(4))]
        out.append(
            _point("firms:VIIRS:Suomi-NPP", "satellite", "thermal_anomaly", sector,
                   rng.uniform(-15e3, 15e3), rng.uniform(-11e3, 11e3), 180.0, t, confidence=0.3)
        )  # fmt: skip
    for _ in range(int(rng.poisson(rates.false_sounds))):
        out.append(
            _point(f"acoustic:net{sector.index:03d}", "acoustic", "other", sector,
                   rng.uniform(-15e3, 15e3), rng.uniform(-11e3, 11e3), 300.0,
                   day0 + rng.uniform(0, 86_400.0), confidence=0.5)
        )  # fmt: skip
    t_pass = day0 + rng.uniform(21_600.0, 57_600.0)
    for k, (wx, wy, cls) in enumerate(weapons):
        if rng.random() < 0.6:
            out.append(
                _point("drone:UAV-2", "drone", "equipment", sector, float(wx) + rng.normal(0, 8),
                       float(wy) + rng.normal(0, 8), 12.0, t_pass + 5.0 * k,
                       weapon_class=str(cls), count=1)
            )  # fmt: skip
    return out


def fusion_load(
    n_observations: int, *, sectors: int = 20, seed: int = 0, rates: LoadRates | None = None
) -> list[Observation]:
    """About ``n_observations`` observations over ``sectors`` sectors and enough days.

    Parameters
    ----------
    n_observations
        Target size; the days are ``ceil(n / (sectors * per sector-day))``
        and the result is cut to exactly ``n_observations`` (the latest ones
        are dropped, whole days kept where possible).
    sectors
        Sectors along the front (at most 20).
    seed
        Seed of every draw.
    rates
        Activity rates.

    Returns
    -------
    list
        Observations in time order.
    """
    rates = rates or LoadRates()
    sectors = max(1, min(sectors, 20))
    days = max(1, math.ceil(n_observations / (sectors * observations_per_sector_day(rates))))
    classes = ("artillery_ge100", "mlrs", "tank", "artillery_lt100")
    out: list[Observation] = []
    for s in range(sectors):
        rng = np.random.default_rng([seed, s])
        sector = _Sector(s)
        weapons = np.array(
            [
                (rng.choice([-1.0, 1.0]) * rng.uniform(2e3, 40e3), rng.uniform(-10e3, 10e3),
                 classes[int(rng.integers(len(classes)))])
                for _ in range(rates.weapons)
            ],
            dtype=object,
        )  # fmt: skip
        for day in range(days):
            out.extend(_day(rng, sector, day, weapons, rates))
    out.sort(key=lambda o: (o.time, o.sensor_id))
    return out[:n_observations]
