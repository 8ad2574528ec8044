"""Synthetic geography of the built-in scenario.

The contact line is a seeded, smoothly meandering line about 300 km long in an
eastern-Europe-like setting (about 37–39 °E, 47–49.5 °N). Its coordinates run
**from south to north**, so walking the line in coordinate order the party
``west`` is on the left and ``east`` on the right, as the agreement file states.

Every distance and side the simulator uses is computed as the agreement computes
it: in the metric frame :meth:`truceline.model.LocalFrame.around` the contact
line's coordinates (azimuthal equidistant, metres east/north), the distance to
the line being the geodesic distance to the nearest point found in that frame.
Positions are generated in that frame as (along-line position, side, distance
from the line) and then projected to longitude/latitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Point, Polygon

from truceline.model.geo import WGS84_GEOD, LocalFrame

__all__ = [
    "LEFT_PARTY",
    "RIGHT_PARTY",
    "ContactLine",
    "Geography",
    "Site",
    "Town",
    "build_geography",
]

LEFT_PARTY: Final = "west"
RIGHT_PARTY: Final = "east"

FloatArray = npt.NDArray[np.float64]

#: Centre of the frame the line is drawn in, degrees (lon, lat).
_DRAW_CENTRE: Final = (38.0, 48.25)
#: Half the north-south extent of the line, metres.
_HALF_SPAN_M: Final = 148_000.0
#: Vertex spacing of the line, metres.
_VERTEX_STEP_M: Final = 2_000.0
#: Meander components: (amplitude m, wavelength m).
_MEANDERS: Final = ((7_000.0, 190_000.0), (2_500.0, 80_000.0), (700.0, 27_000.0))

#: Towns (fictional names): side, name, along-line fraction, distance from the line (m).
_TOWN_PLAN: Final = (
    (LEFT_PARTY, "Halyn", 0.20, 11e3),
    (LEFT_PARTY, "Marivka", 0.47, 30e3),
    (LEFT_PARTY, "Dovzhyk", 0.72, 62e3),
    (RIGHT_PARTY, "Ostrets", 0.30, 9e3),
    (RIGHT_PARTY, "Veresk", 0.58, 24e3),
    (RIGHT_PARTY, "Lobova", 0.85, 45e3),
)
#: Sites: id, kind, owning party (None: civilian operator), side of the line.
_SITE_PLAN: Final[tuple[tuple[str, str, str | None, str], ...]] = (
    ("quarry-north", "quarry", LEFT_PARTY, LEFT_PARTY),
    ("quarry-south", "quarry", None, RIGHT_PARTY),
    ("steelworks", "flare", None, RIGHT_PARTY),
    ("gas-flare", "flare", None, LEFT_PARTY),
    ("storage-west", "storage", LEFT_PARTY, LEFT_PARTY),
    ("storage-east", "storage", RIGHT_PARTY, RIGHT_PARTY),
)
#: Where each site goes: (along-line fraction range, distance range in metres).
_SITE_PLACES: Final[dict[str, tuple[tuple[float, float], tuple[float, float]]]] = {
    "quarry-north": ((0.62, 0.66), (28e3, 40e3)),
    "quarry-south": ((0.12, 0.16), (35e3, 50e3)),
    "steelworks": ((0.40, 0.44), (18e3, 26e3)),
    "gas-flare": ((0.88, 0.91), (30e3, 45e3)),
    "storage-west": ((0.36, 0.40), (6e3, 9e3)),
    "storage-east": ((0.66, 0.70), (6e3, 9e3)),
}


class ContactLine:
    """The contact line with metric distance and side queries.

    Parameters
    ----------
    coords
        ``(lon, lat)`` vertices in degrees, south to north.
    left_party, right_party
        Party ids on the left and right walking in coordinate order.
    """

    def __init__(
        self,
        coords: tuple[tuple[float, float], ...],
        left_party: str = LEFT_PARTY,
        right_party: str = RIGHT_PARTY,
    ) -> None:
        if len(coords) < 2:
            raise ValueError("a contact line needs at least two vertices")
        self.coords = coords
        self.left_party = left_party
        self.right_party = right_party
        lons, lats = zip(*coords, strict=True)
        self.frame = LocalFrame.around(lons, lats)
        x, y = self.frame.to_local(lons, lats)
        self.local = LineString(np.column_stack([x, y]))
        self.length_m = float(self.local.length)
        self._left_region = _left_region(np.column_stack([x, y]))
        shapely.prepare(self.local)
        shapely.prepare(self._left_region)

    @property
    def geometry(self) -> LineString:
        """The line in lon/lat degrees (for the agreement file)."""
        return LineString(self.coords)

    def distance_m(self, x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
        """Distance in metres from local points ``(x, y)`` to the line.

        As the agreement measures it: the nearest point of the line is found in
        the metric frame, and the distance to it is the geodesic one.
        """
        px, py = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        points = shapely.points(px, py)
        feet = shapely.line_interpolate_point(
            self.local, shapely.line_locate_point(self.local, points)
        )
        lon, lat = self.frame.to_geo(px, py)
        foot_lon, foot_lat = self.frame.to_geo(shapely.get_x(feet), shapely.get_y(feet))
        _, _, dist = WGS84_GEOD.inv(lon, lat, foot_lon, foot_lat)
        return np.asarray(dist, dtype=float)

    def is_left(self, x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether local points lie on the left (``left_party``) side of the line."""
        return np.asarray(
            shapely.contains_xy(self._left_region, np.asarray(x, float), np.asarray(y, float))
        )

    def side(self, x: float, y: float) -> str:
        """Party id of the side of the line the local point ``(x, y)`` lies on."""
        return self.left_party if bool(self.is_left(x, y)) else self.right_party

    def place(self, s_m: float, side: str, distance_m: float) -> tuple[float, float]:
        """Local point at along-line position ``s_m`` on ``side``, ``distance_m`` from the line.

        The point is pushed along the local normal of the line and the push is
        corrected until its true distance to the (curved) line matches
        ``distance_m`` to within a metre.

        Raises
        ------
        ValueError
            If ``side`` is not one of the two parties.
        """
        if side not in (self.left_party, self.right_party):
            raise ValueError(f"unknown side {side!r}")
        s = min(max(s_m, 0.0), self.length_m)
        base = self.local.interpolate(s)
        ahead = self.local.interpolate(min(s + 3_000.0, self.length_m))
        behind = self.local.interpolate(max(s - 3_000.0, 0.0))
        tx, ty = ahead.x - behind.x, ahead.y - behind.y
        norm = math.hypot(tx, ty)
        sign = 1.0 if side == self.left_party else -1.0
        nx, ny = -ty / norm * sign, tx / norm * sign
        push = distance_m
        x, y = base.x + nx * push, base.y + ny * push
        for _ in range(6):
            actual = float(self.distance_m(x, y))
            if actual <= 0.0 or abs(actual - distance_m) < 1.0:
                break
            push *= distance_m / actual
            x, y = base.x + nx * push, base.y + ny * push
        return float(x), float(y)


def _left_region(xy: FloatArray) -> Polygon:
    """Half-plane-like polygon of everything left of the line, in local metres.

    The line is extended 3000 km along its end directions and closed far to its
    left, so points beyond the line's ends still get a side.
    """
    far = 3_000_000.0
    start_dir = xy[0] - xy[1]
    end_dir = xy[-1] - xy[-2]
    start_ext = xy[0] + start_dir / np.hypot(*start_dir) * far
    end_ext = xy[-1] + end_dir / np.hypot(*end_dir) * far
    chord = end_ext - start_ext
    left = np.array([-chord[1], chord[0]]) / np.hypot(*chord) * far
    ring = [start_ext, *xy, end_ext, end_ext + left, start_ext + left]
    return Polygon(ring)


@dataclass(frozen=True, slots=True)
class Site:
    """A declared or known site.

    Attributes
    ----------
    id
        Zone id used in the agreement (declared and storage sites) or truth.
    kind
        ``quarry`` (declared blasting site), ``flare`` (industrial heat source)
        or ``storage`` (declared heavy-weapon storage site).
    party
        Owning party, or ``None`` for civilian operators.
    x, y
        Centre in local metres.
    local
        The site polygon in local metres.
    polygon
        The site polygon in lon/lat degrees.
    """

    id: str
    kind: str
    party: str | None
    x: float
    y: float
    local: Polygon
    polygon: Polygon


@dataclass(frozen=True, slots=True)
class Town:
    """A town: name, side and centre in local metres."""

    name: str
    side: str
    x: float
    y: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Geography:
    """Everything fixed on the ground in the scenario."""

    line: ContactLine
    towns: tuple[Town, ...]
    quarries: tuple[Site, ...]
    flares: tuple[Site, ...]
    storage: tuple[Site, ...]

    @property
    def frame(self) -> LocalFrame:
        """The metric frame of the agreement (centred on the contact line)."""
        return self.line.frame

    def to_geo(self, x: float, y: float) -> tuple[float, float]:
        """Local metres to ``(lon, lat)`` degrees."""
        return self.frame.point_to_geo(x, y)

    def town(self, name: str) -> Town:
        """The town called ``name``."""
        for town in self.towns:
            if town.name == name:
                return town
        raise KeyError(name)

    def site_at(self, x: float, y: float, kinds: tuple[str, ...]) -> Site | None:
        """The first site of one of ``kinds`` containing the local point, if any."""
        point = Point(x, y)
        for site in (*self.quarries, *self.flares, *self.storage):
            if site.kind in kinds and site.local.covers(point):
                return site
        return None


def _draw_line(rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    """Seeded meandering line, south to north, rounded to 1e-6 degrees."""
    frame = LocalFrame(*_DRAW_CENTRE)
    y = np.arange(-_HALF_SPAN_M, _HALF_SPAN_M + 1.0, _VERTEX_STEP_M)
    x = np.zeros_like(y)
    for amplitude, wavelength in _MEANDERS:
        phase = rng.uniform(0.0, 2.0 * math.pi)
        scale = rng.uniform(0.8, 1.2)
        x += amplitude * scale * np.sin(2.0 * math.pi * y / wavelength + phase)
    lons, lats = frame.to_geo(x, y)
    return tuple((round(float(a), 6), round(float(b), 6)) for a, b in zip(lons, lats, strict=True))


def _blob(
    rng: np.random.Generator, line: ContactLine, x: float, y: float, radius_m: float
) -> tuple[Polygon, Polygon]:
    """An irregular convex-ish polygon about ``2 * radius_m`` across (local, lon/lat)."""
    angles = (np.arange(7) + rng.uniform(-0.3, 0.3, 7)) * (2.0 * math.pi / 7.0)
    radii = radius_m * rng.uniform(0.8, 1.15, angles.size)
    xs = x + radii * np.sin(angles)
    ys = y + radii * np.cos(angles)
    lons, lats = line.frame.to_geo(xs, ys)
    ring = [(round(float(a), 6), round(float(b), 6)) for a, b in zip(lons, lats, strict=True)]
    geo = Polygon(ring).convex_hull
    local_x, local_y = line.frame.to_local(*zip(*geo.exterior.coords, strict=True))
    return Polygon(np.column_stack([local_x, local_y])), geo


def _site(
    rng: np.random.Generator, line: ContactLine, plan: tuple[str, str, str | None, str]
) -> Site:
    """A ~1 km site placed by its plan ``(id, kind, owning party, side)``."""
    site_id, kind, party, side = plan
    fractions, distances = _SITE_PLACES[site_id]
    x, y = line.place(
        float(rng.uniform(*fractions)) * line.length_m, side, float(rng.uniform(*distances))
    )
    local, geo = _blob(rng, line, x, y, 560.0)
    return Site(site_id, kind, party, x, y, local, geo)


def _towns(rng: np.random.Generator, line: ContactLine) -> tuple[Town, ...]:
    towns = []
    for side, name, fraction, distance in _TOWN_PLAN:
        s_m = (fraction + float(rng.uniform(-0.03, 0.03))) * line.length_m
        x, y = line.place(s_m, side, distance * float(rng.uniform(0.9, 1.1)))
        towns.append(Town(name, side, x, y, radius_m=float(rng.uniform(1_500.0, 2_500.0))))
    return tuple(towns)


def build_geography(rng: np.random.Generator) -> Geography:
    """Draw the contact line, towns and sites from ``rng``.

    Layout (distances from the contact line): ``west`` towns at ~11, ~30 and
    ~62 km, ``east`` towns at ~9, ~24 and ~45 km; two declared quarry blasting
    sites 28–50 km out; two industrial flare sites (steelworks 18–26 km, gas
    flare 30–45 km); one declared storage site per party 6–9 km out, inside the
    15 km band.
    """
    line = ContactLine(_draw_line(rng))
    towns = _towns(rng, line)
    quarries = tuple(_site(rng, line, plan) for plan in _SITE_PLAN if plan[1] == "quarry")
    flares = tuple(_site(rng, line, plan) for plan in _SITE_PLAN if plan[1] == "flare")
    storage = tuple(_site(rng, line, plan) for plan in _SITE_PLAN if plan[1] == "storage")
    return Geography(line, towns, quarries, flares, storage)
