"""Thermal satellites: VIIRS active-fire detections written as FIRMS API CSV.

Two VIIRS instruments (Suomi NPP, satellite code ``N``; NOAA-20, ``N20``)
each pass over the area twice a day, near 13:30 and 01:30 local solar time —
about 10:58 and 22:58 UTC at 38 °E — NOAA-20 about 50 minutes ahead of Suomi
NPP, with a seeded ±30 min day-to-day shift (orbit repeat geometry).

Each overpass writes ``firms/VIIRS_<SAT>_NRT_<YYYY-MM-DD>T<HHMM>.csv`` in the
FIRMS area-API shape (``latitude,longitude,bright_ti4,scan,track,acq_date,
acq_time,satellite,confidence,version,bright_ti5,frp,daynight``; ``acq_time`` as
zero-padded ``HHMM``; confidence ``l``/``n``/``h``), one row per fire pixel:

* every heat source burning at the overpass and not under cloud is detected
  with probability ``min(0.97, 1 - exp(-FRP / 2.5 MW))``;
* a fire of more than 12 (40) MW covers two (three) adjacent pixels;
* the reported position is the pixel centre: the fire lies uniformly within
  the ``scan`` x ``track`` pixel (0.37–0.8 km) plus ~80 m geolocation error.

Clouds are a seeded field of discs (15–60 km radius) per overpass, plus the
thunderstorm's anvil when one is active; detections under cloud are removed.
The clear-sky area of each overpass is written as a generic GeoJSON coverage
feature in ``satellite/clear-sky-VIIRS_<SAT>_NRT_<YYYY-MM-DD>T<HHMM>.geojson``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import shapely
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from truceline.model.timeutil import from_epoch
from truceline.simulate.world import World
from truceline.simulate.writers import iso_time, write_feature_collection

__all__ = [
    "FIRMS_COLUMNS",
    "Overpass",
    "area_of_interest",
    "fire_pixels",
    "local_geometry_geojson",
    "plan_overpasses",
    "write_satellite",
]

FIRMS_COLUMNS: Final = (
    "latitude",
    "longitude",
    "bright_ti4",
    "scan",
    "track",
    "acq_date",
    "acq_time",
    "satellite",
    "confidence",
    "version",
    "bright_ti5",
    "frp",
    "daynight",
)

#: (FIRMS satellite code, product name part, sensor id the FIRMS adapter assigns,
#: offset from the nominal overpass in minutes).
_SATELLITES: Final = (
    ("N", "SNPP", "firms:VIIRS:Suomi-NPP", 0.0),
    ("N20", "NOAA20", "firms:VIIRS:NOAA-20", -50.0),
)
#: Nominal day and night overpass times at ~38 °E, hours UTC.
_NOMINAL_UTC_H: Final = (10.97, 22.97)
_HALO_M: Final = 110_000.0


@dataclass(frozen=True, slots=True)
class Overpass:
    """One satellite overpass of the scenario area.

    Attributes
    ----------
    time
        Epoch seconds (UTC) of the overpass.
    code, product, sensor_id
        FIRMS satellite code, product name part and the adapter's sensor id.
    day
        Daytime pass (``D``) or night (``N``).
    clouds
        Cloud cover, local metres (a union of discs).
    scan_km, track_km
        Pixel size across and along track at this viewing geometry, km.
    """

    time: float
    code: str
    product: str
    sensor_id: str
    day: bool
    clouds: BaseGeometry
    scan_km: float
    track_km: float

    @property
    def stem(self) -> str:
        """File name stem, e.g. ``VIIRS_NOAA20_NRT_2026-11-02T1042``."""
        return f"VIIRS_{self.product}_NRT_{from_epoch(self.time):%Y-%m-%dT%H%M}"


def area_of_interest(world: World) -> BaseGeometry:
    """Rectangle (local metres) the satellites report on: the line plus 110 km."""
    x0, y0, x1, y1 = world.geo.line.local.bounds
    return box(x0 - _HALO_M, y0 - 30_000.0, x1 + _HALO_M, y1 + 30_000.0)


def _clouds(world: World, rng: np.random.Generator, time: float) -> BaseGeometry:
    x0, y0, x1, y1 = area_of_interest(world).bounds
    discs = [
        Point(rng.uniform(x0, x1), rng.uniform(y0, y1)).buffer(rng.uniform(15e3, 60e3), quad_segs=6)
        for _ in range(int(rng.poisson(7)))
    ]
    for storm in world.storms:
        if storm.start - 3 * 3600.0 <= time <= storm.end + 3 * 3600.0:
            cx, cy = storm.centre(time)
            discs.append(Point(cx, cy).buffer(storm.radius_m, quad_segs=6))
    return shapely.union_all(discs) if discs else shapely.Polygon()


def plan_overpasses(world: World, rng: np.random.Generator) -> list[Overpass]:
    """All overpasses inside the scenario window, in time order."""
    passes = []
    for day in range(-1, world.days + 1):
        for hour in _NOMINAL_UTC_H:
            for code, product, sensor_id, offset_min in _SATELLITES:
                shift = rng.uniform(-30.0, 30.0)
                time = world.day_start(day) + hour * 3600.0 + (offset_min + shift) * 60.0
                time = round(time / 60.0) * 60.0 + float(rng.integers(0, 60))
                u = rng.uniform(0.0, 1.0)
                if not world.start <= time < world.end:
                    continue
                passes.append(
                    Overpass(
                        time,
                        code,
                        product,
                        sensor_id,
                        hour < 12.0,
                        _clouds(world, rng, time),
                        round(0.37 + 0.43 * u * u, 2),
                        round(0.36 + 0.3 * u * u, 2),
                    )
                )
    return sorted(passes, key=lambda p: (p.time, p.code))


def _row(
    world: World, overpass: Overpass, x: float, y: float, frp: float, rng: np.random.Generator
) -> list[Any]:
    lon, lat = world.geo.to_geo(x, y)
    when = from_epoch(overpass.time)
    base4 = 300.0 if overpass.day else 290.0
    ti4 = min(367.0, base4 + 12.0 * math.log1p(frp * 3.0) + rng.normal(0.0, 3.0))
    ti5 = (288.0 if overpass.day else 276.0) + 2.0 * math.log1p(frp) + rng.normal(0.0, 2.0)
    if ti4 >= 360.0 or frp > 20.0:
        confidence = "h"
    elif frp < 1.5 and overpass.day:
        confidence = "l"
    else:
        confidence = "n"
    return [
        f"{lat:.5f}",
        f"{lon:.5f}",
        f"{ti4:.2f}",
        f"{overpass.scan_km:.2f}",
        f"{overpass.track_km:.2f}",
        f"{when:%Y-%m-%d}",
        f"{when:%H%M}",
        overpass.code,
        confidence,
        "2.0NRT",
        f"{ti5:.2f}",
        f"{frp:.2f}",
        "D" if overpass.day else "N",
    ]


def fire_pixels(
    world: World,
    overpass: Overpass,
    rng: np.random.Generator,
    seen: dict[str, int] | None = None,
) -> list[list[Any]]:
    """FIRMS rows (as text fields) of the fires burning and cloud-free at ``overpass``.

    When ``seen`` is given, the number of fire pixels written for each truth
    event is added to it (for the truth file).
    """
    rows = []
    burning = [h for h in world.heat if h.start <= overpass.time < h.end]
    prepared = overpass.clouds
    shapely.prepare(prepared)
    for heat in sorted(burning, key=lambda h: (h.truth_id, h.start, h.x)):
        frp_now = heat.frp_mw * float(rng.lognormal(0.0, 0.25))
        if prepared.contains(Point(heat.x, heat.y)):
            continue
        if rng.random() >= min(0.97, 1.0 - math.exp(-frp_now / 2.5)):
            continue
        pixels = 1 + int(frp_now > 12.0) + int(frp_now > 40.0)
        if seen is not None:
            seen[heat.truth_id] = seen.get(heat.truth_id, 0) + pixels
        for k in range(pixels):
            dx = (k - (pixels - 1) / 2.0) * overpass.scan_km * 1000.0
            dx += rng.uniform(-0.5, 0.5) * overpass.scan_km * 1000.0 + rng.normal(0.0, 80.0)
            dy = rng.uniform(-0.5, 0.5) * overpass.track_km * 1000.0 + rng.normal(0.0, 80.0)
            share = frp_now / pixels * float(rng.uniform(0.7, 1.3))
            rows.append(_row(world, overpass, heat.x + dx, heat.y + dy, share, rng))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def _clear_sky_feature(world: World, overpass: Overpass) -> dict[str, Any]:
    clear = area_of_interest(world).difference(overpass.clouds)
    clear = shapely.simplify(clear, 200.0)
    return {
        "type": "Feature",
        "geometry": local_geometry_geojson(world, clear),
        "properties": {
            "record": "coverage",
            "sensor_id": overpass.sensor_id,
            "start": iso_time(overpass.time - 60.0),
            "end": iso_time(overpass.time + 60.0),
            "detection_probability": 0.7,
            "target": "thermal_anomaly",
        },
    }


def local_geometry_geojson(world: World, geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON (lon/lat, RFC 7946 winding, holes kept) of a local-metre (multi)polygon.

    Coordinates are snapped to a 1e-6 degree grid with :func:`shapely.set_precision`,
    which keeps the polygon valid (plain rounding of each vertex can make a
    thin ring cross itself).
    """
    frame = world.geo.frame

    def to_geo(coords: Any) -> Any:
        lons, lats = frame.to_geo(coords[:, 0], coords[:, 1])
        return np.column_stack([lons, lats])

    lonlat = shapely.make_valid(shapely.transform(shapely.make_valid(geometry), to_geo))
    areal = [p for p in shapely.get_parts(lonlat) if p.geom_type in ("Polygon", "MultiPolygon")]
    snapped = shapely.set_precision(shapely.union_all(areal), 1e-6)
    polygons = []
    for part in shapely.get_parts(snapped):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        oriented = orient(part, sign=1.0)
        rings = [oriented.exterior, *oriented.interiors]
        polygons.append([[[float(x), float(y)] for x, y in ring.coords] for ring in rings])
    return {"type": "MultiPolygon", "coordinates": polygons}


def write_satellite(
    out_dir: Path, world: World, rng: np.random.Generator, seen: dict[str, int] | None = None
) -> tuple[list[Path], dict[str, int], list[Overpass]]:
    """Write one FIRMS CSV and one clear-sky coverage file per overpass.

    ``seen``, when given, receives the number of fire pixels written per truth
    event (see :func:`fire_pixels`).

    Returns
    -------
    tuple
        Files written, counts (``firms_files``, ``firms_rows``) and the overpasses.
    """
    overpasses = plan_overpasses(world, rng)
    files: list[Path] = []
    rows_total = 0
    (out_dir / "firms").mkdir(parents=True, exist_ok=True)
    for overpass in overpasses:
        rows = fire_pixels(world, overpass, rng, seen)
        lines = [",".join(FIRMS_COLUMNS)] + [",".join(str(v) for v in row) for row in rows]
        path = out_dir / "firms" / f"{overpass.stem}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        coverage = out_dir / "satellite" / f"clear-sky-{overpass.stem}.geojson"
        write_feature_collection(coverage, [_clear_sky_feature(world, overpass)])
        files += [path, coverage]
        rows_total += len(rows)
    return files, {"firms_files": len(overpasses), "firms_rows": rows_total}, overpasses
