"""Synthetic FIRMS country-archive files for the excess-activity model's tests.

A 1° x 1.5° area (10 x 15 cells of 0.1°) at 48–49 N, 30–31.5 E with:

* agricultural burning in two seasons (days 90–130 and 200–245) in cells of
  varying propensity, with a random year-level intensity (bursty years);
* a background of rare fires everywhere;
* an industrial heat source (a steel plant) in cell (2, 3) burning most days;
* MODIS-only years before 2012 seeing 40 % of the fire-days of VIIRS years;
* optionally a "war": column 7 (30.75 E) burning on 35 % of all days.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LAT0, LON0 = 48.0, 30.0
N_LAT, N_LON = 10, 15
WAR_COLUMN = 7
PLANT = (2, 3)


def fire_days(year: int, rng: np.random.Generator, *, war: bool = False) -> np.ndarray:
    """``(days, N_LAT, N_LON)`` boolean fire-day array for one year."""
    n_days = 366 if year % 4 == 0 else 365
    day = np.arange(n_days)[:, None, None]
    propensity = np.random.default_rng(7).uniform(0.0, 1.0, (N_LAT, N_LON))[None]
    season = ((day >= 90) & (day <= 130)) | ((day >= 200) & (day <= 245))
    intensity = rng.gamma(8.0, 1.0 / 8.0)
    p = 0.003 + season * 0.12 * propensity * intensity
    if year < 2012:
        p = p * 0.4
    p = np.broadcast_to(p, (n_days, N_LAT, N_LON)).copy()
    p[:, PLANT[0], PLANT[1]] = 0.6
    if war:
        p[:, :, WAR_COLUMN] = np.maximum(p[:, :, WAR_COLUMN], 0.35)
    return rng.random(p.shape) < p


def write_year(folder: Path, year: int, seed: int, *, war: bool = False) -> Path:
    """Write ``ukr_fire_data_{year}.csv`` (``LATITUDE,LONGITUDE,ACQ_DATE``) and return it."""
    rng = np.random.default_rng(seed)
    fires = fire_days(year, rng, war=war)
    lines = ["LATITUDE,LONGITUDE,ACQ_DATE"]
    start = np.datetime64(f"{year}-01-01")
    for t, i, j in zip(*np.nonzero(fires), strict=True):
        for _ in range(1 + rng.poisson(1.0)):
            lat = LAT0 + (i + rng.uniform(0.05, 0.95)) * 0.1
            lon = LON0 + (j + rng.uniform(0.05, 0.95)) * 0.1
            lines.append(f"{lat:.5f},{lon:.5f},{start + t}")
    path = folder / f"ukr_fire_data_{year}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def war_cell(lat: float, lon: float) -> bool:
    """Whether a cell centre lies in the war column."""
    return int(np.floor((lon - LON0) / 0.1 + 1e-9)) == WAR_COLUMN
