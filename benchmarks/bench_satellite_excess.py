"""Excess fire-activity model on the real FIRMS archive, driven through the CLI.

Everything here runs ``truceline satellite fit`` / ``score --json`` as a user
would (subprocesses), on ``../shared/data/firms-ukraine``:

* **Peacetime** — leave-one-year-out over 2016 and 2018–2021: fit on every
  other peacetime year (2001–2021 as present; MODIS-only years included), with
  the 2014–2022 Donbas conflict area (east of 37.0 E, 47.0–49.5 N, from
  2014-04-01 to 2022-02-23) left out of training; score the held-out year and
  report the share of its fire cell-days outside that area that are flagged
  (target: at most 2 %).
* **War** — fit on all peacetime years, score 2023; report flagged cell-days,
  the share whose cell centre lies within 30 km of the 2023 front line
  (target: at least 60 %, with at least 2,000 front-zone flags), per month, and
  how many flags fall inside the Economist's hand-marked non-war boxes.
* **Timing** — fitting time on all historical rows (with the leave-one-year-out
  calibration), scoring time of one year and of one day (with its history).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import box, shape

DATA = Path(
    os.environ.get(
        "TRUCELINE_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
)
FIRMS = DATA / "firms-ukraine"
FRONT = DATA / "front-line" / "front-line-2023.geojson"
BOXES = FIRMS / "forest_fire_locations_2022_2024.csv"
HELD_OUT = (2016, 2018, 2019, 2020, 2021)
DONBAS = (37.0, 47.0, 41.0, 49.5)  # W, S, E, N (the area east of 37.0 E, 47.0-49.5 N)
FRONT_KM = 30.0


def _cli(*args: str) -> tuple[str, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", "from truceline.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"truceline {' '.join(args)} failed: {done.stderr}")
    return done.stdout, elapsed


def _peace_files() -> dict[int, Path]:
    files = {}
    for path in sorted(FIRMS.glob("ukr_fire_data_*.csv")):
        year = int(path.stem.rsplit("_", 1)[1])
        if year <= 2021:
            files[year] = path
    return files


def _front_distance_km(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    geometry = json.loads(FRONT.read_text())["geometry"]
    aeqd = pyproj.Transformer.from_crs(
        4326, "+proj=aeqd +lat_0=48.5 +lon_0=36 +units=m", always_xy=True
    )
    line = shapely.transform(
        shape(geometry), lambda xy: np.column_stack(aeqd.transform(xy[:, 0], xy[:, 1]))
    )
    x, y = aeqd.transform(lons, lats)
    return np.asarray(shapely.distance(line, shapely.points(x, y))) / 1000.0


def run() -> dict[str, Any]:
    if not FIRMS.is_dir() or not FRONT.exists():
        return {"satellite_excess_skipped": f"shared data not found under {DATA}"}
    peace = _peace_files()
    tmp = Path(tempfile.mkdtemp(prefix="bench-excess-"))
    exclusion = tmp / "donbas.geojson"
    exclusion.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": box(*DONBAS).__geo_interface__,
                        "properties": {
                            "name": "Donbas 2014-2022",
                            "start": "2014-04-01",
                            "end": "2022-02-23",
                        },
                    }
                ],
            }
        )
    )
    figures: dict[str, Any] = {}
    # -- war: fit on all peacetime years, score 2023 ----------------------------------
    model = tmp / "all.npz"
    stdout, fit_s = _cli(
        "satellite", "fit", "--out", str(model), "--exclude", str(exclusion), "--json",
        *map(str, peace.values()),
    )  # fmt: skip
    summary = json.loads(stdout)
    figures["satellite_excess_fit_s"] = round(fit_s, 1)
    figures["satellite_excess_fit_rows"] = summary["detections"]
    figures["satellite_excess_fit_years"] = summary["years"]
    figures["satellite_excess_alpha"] = summary["alpha"]
    figures["satellite_excess_persistent_cells"] = len(summary["persistent_cells"])
    war_file = FIRMS / "ukr_fire_data_2023.csv"
    stdout, score_s = _cli("satellite", "score", "--model", str(model), str(war_file), "--json")
    records = json.loads(stdout)
    figures["satellite_excess_score_year_s"] = round(score_s, 1)
    _, day_s = _cli(
        "satellite", "score", "--model", str(model), str(war_file), "--json",
        "--from", "2023-07-15", "--to", "2023-07-15",
    )  # fmt: skip
    figures["satellite_excess_score_day_s"] = round(day_s, 2)
    flagged = [r for r in records if r["flagged"]]
    lat = np.array([r["lat"] for r in flagged])
    lon = np.array([r["lon"] for r in flagged])
    near = _front_distance_km(lat, lon) <= FRONT_KM if flagged else np.zeros(0, bool)
    all_lat = np.array([r["lat"] for r in records])
    all_lon = np.array([r["lon"] for r in records])
    base = float(np.mean(_front_distance_km(all_lat, all_lon) <= FRONT_KM))
    figures["satellite_excess_2023_fire_cell_days"] = len(records)
    figures["satellite_excess_2023_flagged"] = len(flagged)
    figures["satellite_excess_2023_front_flagged"] = int(near.sum())
    figures["satellite_excess_2023_front_share"] = round(float(near.mean()), 4)
    figures["satellite_excess_2023_front_base_rate"] = round(base, 4)
    months: dict[str, dict[str, Any]] = {}
    for r, is_near in zip(flagged, near, strict=True):
        m = months.setdefault(r["date"][:7], {"flagged": 0, "front": 0})
        m["flagged"] += 1
        m["front"] += int(is_near)
    for m in months.values():
        m["front_share"] = round(m["front"] / m["flagged"], 3)
    figures["satellite_excess_2023_by_month"] = dict(sorted(months.items()))
    figures.update(_boxes(flagged))
    # -- peacetime: leave one year out --------------------------------------------------
    rates = {}
    for year in HELD_OUT:
        if year not in peace:
            continue
        held = tmp / f"without-{year}.npz"
        _cli(
            "satellite", "fit", "--out", str(held), "--exclude", str(exclusion), "--json",
            *(str(p) for y, p in peace.items() if y != year),
        )  # fmt: skip
        stdout, _ = _cli("satellite", "score", "--model", str(held), str(peace[year]), "--json")
        scored = json.loads(stdout)
        west, south, _, north = DONBAS
        outside = [r for r in scored if not (r["lon"] > west and south <= r["lat"] <= north)]
        rates[str(year)] = {
            "fire_cell_days": len(outside),
            "flagged": sum(r["flagged"] for r in outside),
            "rate": round(sum(r["flagged"] for r in outside) / len(outside), 4),
        }
    figures["satellite_excess_peacetime_loyo"] = rates
    figures["satellite_excess_peacetime_max_rate"] = max(v["rate"] for v in rates.values())
    return figures


def _boxes(flagged: list[dict[str, Any]]) -> dict[str, Any]:
    if not BOXES.exists():
        return {"satellite_excess_boxes_skipped": f"{BOXES} not found"}
    from truceline.satellite.exclusions import read_exclusions

    inside_period = 0
    inside_any = 0
    per_box = []
    for ex in read_exclusions(BOXES):
        hits = [r for r in flagged if shapely.contains_xy(ex.geometry, r["lon"], r["lat"])]
        in_period = [r for r in hits if ex.days(np.array([np.datetime64(r["date"])]))[0]]
        inside_any += len(hits)
        inside_period += len(in_period)
        per_box.append({"note": ex.name, "flags": len(hits), "flags_in_period": len(in_period)})
    return {
        "satellite_excess_2023_flags_in_non_war_boxes": inside_any,
        "satellite_excess_2023_flags_in_non_war_boxes_in_period": inside_period,
        "satellite_excess_2023_non_war_boxes": per_box,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
