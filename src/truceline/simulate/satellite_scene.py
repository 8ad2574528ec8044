"""Where the satellite image stacks look and what changes happen in them.

:func:`plan_stacks` places the stacks' grid (see
:mod:`truceline.simulate.satellite_raster` for what is written), draws their
land cover and acquisition times, and scripts the changes they will show:
craters where the scenario's shells landed, a trench line dug in the
disengagement zone (unless the scenario family has none), a stubble burn and
a ploughed field. The trench, the burn and the ploughing become truth events
of the world (and the burn a heat source FIRMS can see), so the planning runs
before any channel writes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point, Polygon

from truceline.simulate.satellite_landcover import (
    STUBBLE,
    WHEAT,
    LandCover,
    StackGrid,
    build_landcover,
    coverage,
    nbr,
    utm_epsg,
)
from truceline.simulate.truth import ScenarioError, TruthEvent
from truceline.simulate.world import HeatSource, World

__all__ = [
    "BURN_FACTORS",
    "CRATER_APRON",
    "CRATER_DIAMETER_M",
    "CRATER_SAR_GAIN_DB",
    "PIXEL_M",
    "SAR_ORBITS",
    "SIZE_PX",
    "StackChange",
    "StackPlan",
    "plan_stacks",
]

FloatArray = npt.NDArray[np.float64]

#: Pixel size, metres, and grid size, pixels.
PIXEL_M: Final = 10.0
SIZE_PX: Final = 512
#: Sentinel-1 relative orbits over the area: (orbit, pass, hour of the pass UTC).
SAR_ORBITS: Final = (("043", "ASCENDING", 15.65), ("138", "DESCENDING", 3.72))
_REPEAT_S: Final = 12 * 86_400.0
_N_PRE: Final = 5
_N_POST: Final = 5
_HOUR: Final = 3600.0
_S2_HOUR_UTC: Final = 8.75
#: Reflectance of fresh soil (spoil, crater ejecta) and of ploughed soil: B3, B8, B12.
_SPOIL: Final = (0.12, 0.17, 0.25)
_CRATER: Final = (0.08, 0.12, 0.20)
_PLOUGHED: Final = (0.07, 0.18, 0.22)
#: Apparent crater diameter (lip to lip) per weapon class of the impact, metres.
#: Fresh 152/155 mm craters in farmland are about 5-10 m across (in VHR mapping
#: of shelled fields in eastern Ukraine, Duncan et al. 2023, Science of Remote
#: Sensing 7: 100092, detection is best, F1 0.80, for craters over 60 m², about
#: 9 m across); 122 mm Grad rockets carry about as much explosive (6.4 kg) as a
#: 152/155 mm shell (5.9-6.6 kg). Lighter rounds follow the cube-root scaling of
#: crater size with charge mass (e.g. Cooper 1996, Explosives Engineering,
#: Wiley-VCH): 82-120 mm mortar bombs (0.4-3 kg) 0.4-0.75 times, guns under
#: 100 mm (0.6-0.7 kg) about 0.45 times, heavy rockets (20-90 kg) 1.5-2.4 times.
#: At Sentinel-1's 10 m pixels (about 20 m resolution) the apron
#: (:data:`CRATER_APRON`) of a mortar crater covers about one pixel.
CRATER_DIAMETER_M: Final = {
    "artillery_ge100": (5.0, 10.0),
    "mlrs": (5.0, 10.0),
    "mortar": (2.0, 7.0),
    "artillery_lt100": (2.5, 4.5),
    "heavy_mlrs_missile": (8.0, 20.0),
}
#: Ejecta and disturbed apron around a fresh crater, times its diameter.
CRATER_APRON: Final = (2.0, 3.0)
#: Radar brightening of a crater's apron where it covers a whole pixel, dB
#: (fresh rough soil and clods against smooth fields).
CRATER_SAR_GAIN_DB: Final = (3.0, 6.0)
#: Band factors (B3, B8, B12) of a burn of severity 0 and of severity 1; a burn
#: multiplies the reflectance of its surface by the factors interpolated at its
#: severity (uniform in 0-1). Char and ash darken the visible and the near
#: infrared, and removing the vegetation and its water, and exposing ash and
#: soil, raises SWIR2: the spectral change NBR was designed on (Key & Benson
#: 2006, FIREMON Landscape Assessment, USDA FS RMRS-GTR-164-CD; Pereira et al.
#: 1999, in Chuvieco (ed.), Remote Sensing of Large Wildfires, Springer).
BURN_FACTORS: Final = ((0.7, 0.6, 1.2), (0.5, 0.4, 1.6))


@dataclass(frozen=True, slots=True)
class StackChange:
    """One change injected into the stacks.

    Attributes
    ----------
    id
        Readable id, e.g. ``crater-03``.
    kind
        ``crater``, ``earthworks``, ``burn_scar`` or ``surface_change``.
    polygon
        Its outline, UTM metres of the stack's grid.
    time, time_end
        When it was made (epoch seconds, UTC); it shows in acquisitions after ``time_end``.
    party
        Who made it (``None`` for civilians).
    truth_event
        The truth event it belongs to (an impact for a crater), if any.
    sar_gain_db
        Change of backscatter where it covers a whole pixel, dB.
    optical
        New reflectance ``(B3, B8, B12)`` of the surface, or ``None`` for a burn.
    dnbr
        Drop of NBR for a burn scar (the mean over its wholly burnt pixels of
        the noise-free land cover times ``burn_factors``), else ``None``.
    burn_factors
        What a burn multiplies the reflectance ``(B3, B8, B12)`` by, else ``None``.
    benign_reason, detail
        Why it is lawful (when it is), and free text.
    """

    id: str
    kind: str
    polygon: Polygon
    time: float
    time_end: float
    party: str | None
    truth_event: str | None
    sar_gain_db: float
    optical: tuple[float, float, float] | None
    dnbr: float | None = None
    burn_factors: tuple[float, float, float] | None = None
    benign_reason: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class StackPlan:
    """Where, when and what the stacks show (drawn before any channel writes).

    ``sar_times`` maps each relative orbit of :data:`SAR_ORBITS` to its
    acquisition times (epoch seconds, UTC).
    """

    start: float
    grid: StackGrid
    cover: LandCover
    sar_times: dict[str, tuple[float, ...]]
    optical_times: tuple[float, float]
    changes: tuple[StackChange, ...]


def _local_to_utm(world: World, grid_epsg: int, x: Any, y: Any) -> tuple[FloatArray, FloatArray]:
    lon, lat = world.geo.frame.to_geo(x, y)
    probe = StackGrid(grid_epsg, 0.0, 0.0, 1, PIXEL_M)
    return probe.from_lonlat(lon, lat)


def _utm_to_local(world: World, grid: StackGrid, east: Any, north: Any) -> tuple[FloatArray, ...]:
    lon, lat = grid.to_lonlat(east, north)
    return world.geo.frame.to_local(lon, lat)


def _grid_at(world: World, x: float, y: float) -> StackGrid:
    """The stack grid centred (to the pixel) on local ``(x, y)``."""
    lon, lat = world.geo.to_geo(x, y)
    epsg = utm_epsg(lon, lat)
    east, north = _local_to_utm(world, epsg, x, y)
    half = SIZE_PX * PIXEL_M / 2.0
    west = math.floor((float(east) - half) / PIXEL_M) * PIXEL_M
    top = math.ceil((float(north) + half) / PIXEL_M) * PIXEL_M
    return StackGrid(epsg, west, top, SIZE_PX, PIXEL_M)


def _craters_inside(world: World, grid: StackGrid, margin_m: float) -> list[int]:
    if not world.craters:
        return []
    east, north = _local_to_utm(
        world, grid.epsg, [c.x for c in world.craters], [c.y for c in world.craters]
    )
    west, south, east_edge, north_edge = grid.bounds
    inside = (east > west + margin_m) & (east < east_edge - margin_m)
    inside &= (north > south + margin_m) & (north < north_edge - margin_m)
    return [int(i) for i in np.flatnonzero(inside)]


def _choose_grid(world: World, rng: np.random.Generator) -> tuple[StackGrid, str, float]:
    """The grid holding the most craters with the disengagement zone in it.

    Returns the grid, the side of the line its centre is on and the centre's
    along-line position (metres).
    """
    line = world.geo.line
    reach = SIZE_PX * PIXEL_M - 800.0
    anchors: dict[str, list[tuple[float, float]]] = {}
    for crater in world.craters:
        if float(line.distance_m(crater.x, crater.y)) < reach:
            anchors.setdefault(crater.truth_id, []).append((crater.x, crater.y))
    best: tuple[tuple[float, ...], StackGrid, str, float] | None = None
    for truth_id in sorted(anchors):
        ax, ay = np.mean(anchors[truth_id], axis=0)
        s_anchor = float(line.local.project(Point(ax, ay)))
        side = line.side(float(ax), float(ay))
        for ds in (-1200.0, 0.0, 1200.0):
            for d in (600.0, 1300.0, 2000.0):
                s = s_anchor + ds
                grid = _grid_at(world, *line.place(s, side, d))
                score = (len(_craters_inside(world, grid, 40.0)), -d, -abs(ds))
                if best is None or score > best[0]:
                    best = (score, grid, side, s)
    if best is None:
        s = float(rng.uniform(0.3, 0.7)) * line.length_m
        side = str(rng.choice([line.left_party, line.right_party]))
        return _grid_at(world, *line.place(s, side, 700.0)), side, s
    return best[1], best[2], best[3]


def _times(
    world: World, rng: np.random.Generator
) -> tuple[dict[str, tuple[float, ...]], tuple[float, float]]:
    """SAR acquisition times per orbit and the optical (before, after) times, epoch seconds.

    Each orbit's last acquisition before the start is on the day before it.
    """
    sar = {}
    for orbit, _, hour in SAR_ORBITS:
        last_pre = world.day_start(-1) + hour * _HOUR + round(rng.uniform(-180.0, 180.0))
        sar[orbit] = tuple(last_pre + _REPEAT_S * k for k in range(1 - _N_PRE, _N_POST + 1))
    before = world.day_start(-int(rng.integers(1, 5)))
    after = world.day_start(world.days + int(rng.integers(0, 4)))
    jitter = [round(rng.uniform(-300.0, 300.0)) for _ in range(2)]
    optical = (before + _S2_HOUR_UTC * _HOUR + jitter[0], after + _S2_HOUR_UTC * _HOUR + jitter[1])
    return sar, optical


def _crater_changes(world: World, grid: StackGrid, rng: np.random.Generator) -> list[StackChange]:
    """A crater with its ejecta apron (the polygon) at each impact inside the grid.

    Its size follows the weapon of the impact (:data:`CRATER_DIAMETER_M`; an
    impact of unknown weapon as artillery of 100 mm and above).
    """
    impacts = {e.id: e for e in world.events}
    inside = sorted(_craters_inside(world, grid, 20.0), key=lambda i: world.craters[i].time)
    changes = []
    for number, index in enumerate(inside, start=1):
        crater = world.craters[index]
        impact = impacts.get(crater.truth_id)
        weapon = impact.weapon_class if impact is not None else None
        east, north = _local_to_utm(world, grid.epsg, crater.x, crater.y)
        diameter = float(rng.uniform(*CRATER_DIAMETER_M.get(weapon or "", (5.0, 10.0))))
        apron = diameter * float(rng.uniform(*CRATER_APRON))
        changes.append(
            StackChange(
                f"crater-{number:02d}",
                "crater",
                Point(float(east), float(north)).buffer(apron / 2.0, quad_segs=4),
                crater.time,
                crater.time,
                impact.party if impact is not None else None,
                crater.truth_id,
                float(rng.uniform(*CRATER_SAR_GAIN_DB)),
                _CRATER,
                detail=(
                    f"impact crater {diameter:.0f} m across ({weapon or 'unknown weapon'}), "
                    f"ejecta to {apron:.0f} m"
                ),
            )
        )
    return changes


def _free(polygon: Polygon, grid: StackGrid, taken: Sequence[Polygon], gap_m: float) -> bool:
    inner = grid.footprint.buffer(-150.0)
    return bool(inner.contains(polygon)) and all(polygon.distance(other) > gap_m for other in taken)


def _trench(
    world: World,
    grid: StackGrid,
    rng: np.random.Generator,
    side: str,
    s_centre: float,
    taken: Sequence[Polygon],
) -> StackChange:
    """A trench line dug at night in the disengagement zone, parallel to the line."""
    line = world.geo.line
    day = world.scripted_day(1)
    start = world.day_start(day) + rng.uniform(17.0, 20.0) * _HOUR
    end = min(start + rng.uniform(5.0, 8.0) * _HOUR, world.end - 60.0)
    for _ in range(300):
        s = s_centre + rng.uniform(-1800.0, 1800.0)
        length, width = rng.uniform(150.0, 400.0), rng.uniform(12.0, 20.0)
        cx, cy = line.place(s, side, rng.uniform(350.0, 700.0))
        ahead = line.local.interpolate(s + 200.0)
        behind = line.local.interpolate(s - 200.0)
        tx, ty = ahead.x - behind.x, ahead.y - behind.y
        norm = math.hypot(tx, ty)
        tx, ty = tx / norm, ty / norm
        bend = rng.uniform(-12.0, 12.0)
        xs = [cx - tx * length / 2, cx - ty * bend, cx + tx * length / 2]
        ys = [cy - ty * length / 2, cy + tx * bend, cy + ty * length / 2]
        distances = line.distance_m(xs, ys)
        if distances.min() <= 150.0 or distances.max() >= 900.0:
            continue
        if any(line.side(x, y) != side for x, y in zip(xs, ys, strict=True)):
            continue
        east, north = _local_to_utm(world, grid.epsg, xs, ys)
        polygon = LineString(np.column_stack([east, north])).buffer(width / 2.0, cap_style="flat")
        if not _free(polygon, grid, taken, 60.0):
            continue
        return StackChange(
            "earthworks-1",
            "earthworks",
            polygon,
            start,
            end,
            side,
            "earthworks-1",
            float(rng.uniform(5.0, 7.0)),
            _SPOIL,
            detail=f"trench line {length:.0f} m long dug in the disengagement zone",
        )
    raise ScenarioError("no room for the trench in the stack")  # pragma: no cover


def _fields(cover: LandCover, grid: StackGrid, classes: Sequence[int]) -> list[int]:
    """Fields of ``classes`` centred well inside the grid, with no pond or trees inside."""
    inner = grid.footprint.buffer(-150.0)
    found = []
    for unit, (code, polygon) in enumerate(zip(cover.unit_class, cover.unit_polygons, strict=True)):
        if code not in classes or polygon is None or not inner.contains(polygon.centroid):
            continue
        rows, cols, fraction = coverage(polygon.buffer(-30.0), grid, supersample=2)
        whole = fraction == 1.0
        if np.all(cover.classes[rows[whole], cols[whole]] == code):
            found.append(unit)
    return found


def _burn_spectrum(
    cover: LandCover, grid: StackGrid, scar: Polygon, severity: float
) -> tuple[tuple[float, float, float], float]:
    """Band factors of a burn of ``severity`` (0-1) and the dNBR they give ``scar``.

    The dNBR is the mean, over the pixels wholly inside the scar, of the
    noise-free land cover's NBR before minus after.
    """
    low, high = (np.asarray(f, dtype=float) for f in BURN_FACTORS)
    factors = low + severity * (high - low)
    rows, cols, fraction = coverage(scar, grid)
    whole = fraction >= 1.0
    before = cover.optical[:, rows[whole], cols[whole]]
    dnbr = float(np.mean(nbr(before) - nbr(before * factors[:, None])))
    b3, b8, b12 = (float(f) for f in factors)
    return (b3, b8, b12), dnbr


def _far_from_line(world: World, grid: StackGrid, polygon: Polygon, metres: float) -> bool:
    x, y = _utm_to_local(world, grid, *polygon.exterior.xy)
    return bool(world.geo.line.distance_m(x, y).min() > metres)


def _burn(
    world: World,
    grid: StackGrid,
    cover: LandCover,
    rng: np.random.Generator,
    taken: Sequence[Polygon],
) -> tuple[StackChange, TruthEvent, HeatSource]:
    """A stubble burn: the fire (for FIRMS), its truth event and its scar."""
    candidates = _fields(cover, grid, (STUBBLE,)) or _fields(cover, grid, (WHEAT,))
    for _ in range(300):
        unit = int(rng.choice(candidates))
        field = cover.unit_polygons[unit]
        if field is None:  # pragma: no cover - _fields only lists fields with outlines
            continue
        area = rng.uniform(2e4, 12e4)
        centre = field.centroid
        angles = (np.arange(14) + rng.uniform(-0.3, 0.3, 14)) * (2.0 * math.pi / 14.0)
        radii = math.sqrt(area / math.pi) * rng.uniform(0.75, 1.2, 14)
        blob = Polygon(
            np.column_stack([centre.x + radii * np.sin(angles), centre.y + radii * np.cos(angles)])
        )
        scar = shapely.intersection(blob, field.buffer(-10.0))
        if not isinstance(scar, Polygon) or not 2e4 <= scar.area <= 12e4:
            continue
        if not _free(scar, grid, taken, 100.0) or not _far_from_line(world, grid, scar, 1500.0):
            continue
        day = world.scripted_day(0)
        start = world.day_start(day) + rng.uniform(10.0, 13.0) * _HOUR
        end = start + rng.uniform(1.5, 3.0) * _HOUR
        x, y = (float(v) for v in _utm_to_local(world, grid, scar.centroid.x, scar.centroid.y))
        hectares = scar.area / 1e4
        frp = float(np.clip(rng.lognormal(math.log(4.0 + hectares), 0.3), 3.0, 40.0))
        factors, dnbr = _burn_spectrum(cover, grid, scar, float(rng.uniform(0.0, 1.0)))
        event = TruthEvent(
            "burn-field-1",
            "thermal_anomaly",
            start,
            x,
            y,
            None,
            time_end=end,
            benign_reason="agricultural_burning",
            detail=f"stubble burn of {hectares:.1f} ha (burn scar in the optical stack)",
        )
        change = StackChange(
            "burn-scar-1",
            "burn_scar",
            scar,
            start,
            end,
            None,
            event.id,
            float(rng.normal(-1.0, 0.3)),
            None,
            dnbr=dnbr,
            burn_factors=factors,
            benign_reason="agricultural_burning",
            detail=f"burn scar of {hectares:.1f} ha",
        )
        return change, event, HeatSource(start, end, x, y, frp, event.id)
    raise ScenarioError("no room for the burn scar in the stack")  # pragma: no cover


def _ploughing(
    world: World,
    grid: StackGrid,
    cover: LandCover,
    rng: np.random.Generator,
    taken: Sequence[Polygon],
) -> StackChange | None:
    """A stubble field ploughed during the scenario (benign; a field-shaped change)."""
    inner = grid.footprint.buffer(-150.0)
    for unit in rng.permutation(_fields(cover, grid, (STUBBLE,))):
        field = cover.unit_polygons[int(unit)]
        if field is None:  # pragma: no cover - _fields only lists fields with outlines
            continue
        polygon = shapely.intersection(field.buffer(-10.0), inner)
        if not isinstance(polygon, Polygon) or not 8e4 <= polygon.area <= 6e5:
            continue
        if not _free(polygon, grid, taken, 100.0):
            continue
        day = int(rng.integers(0, world.days))
        start = world.day_start(day) + rng.uniform(7.0, 12.0) * _HOUR
        return StackChange(
            "field-1",
            "surface_change",
            polygon,
            start,
            start + rng.uniform(4.0, 8.0) * _HOUR,
            None,
            "field-1",
            float(rng.uniform(2.5, 4.0)),
            _PLOUGHED,
            benign_reason="ploughing",
            detail=f"stubble field of {polygon.area / 1e4:.0f} ha ploughed",
        )
    return None


def _add_truth(world: World, grid: StackGrid, change: StackChange) -> None:
    """Add the truth event of a change that is an activity of its own (trench, ploughing)."""
    centroid = change.polygon.centroid
    x, y = (float(v) for v in _utm_to_local(world, grid, centroid.x, centroid.y))
    world.events.append(
        TruthEvent(
            change.id,
            change.kind,
            change.time,
            x,
            y,
            change.party,
            time_end=change.time_end,
            benign_reason=change.benign_reason,
            detail=change.detail,
        )
    )


def plan_stacks(world: World, rng: np.random.Generator, *, trench: bool = True) -> StackPlan:
    """Place the stacks and script their changes; add their truth events to ``world``.

    Call after the hostilities are scripted (the craters decide where the
    stacks go) and before any channel writes (FIRMS sees the burn). With
    ``trench=False`` no trench is dug (a scenario without violations).
    """
    grid, side, s_centre = _choose_grid(world, rng)
    sar_times, optical_times = _times(world, rng)
    cover = build_landcover(grid, rng)
    changes = _crater_changes(world, grid, rng)
    if trench:
        dug = _trench(world, grid, rng, side, s_centre, [c.polygon for c in changes])
        _add_truth(world, grid, dug)
        changes.append(dug)
    burn, burn_event, heat = _burn(world, grid, cover, rng, [c.polygon for c in changes])
    world.events.append(burn_event)
    world.heat.append(heat)
    changes.append(burn)
    field = _ploughing(world, grid, cover, rng, [c.polygon for c in changes])
    if field is not None:
        _add_truth(world, grid, field)
        changes.append(field)
    return StackPlan(world.start, grid, cover, sar_times, optical_times, tuple(changes))
