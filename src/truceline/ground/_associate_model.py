"""Propagation model, residuals and hypothesis seeds of :mod:`truceline.ground.associate`.

Ranges and azimuths are geodesic (WGS 84, through pyproj), so the same code
serves sensors a few hundred metres apart and arrays a thousand kilometres
apart. The Gauss–Newton steps are taken in the tangent plane at the current
source position: moving the source by ``d`` (east, north) changes the range to
a station by ``u . d`` and the station's back azimuth by ``(u x d) / r``, where
``u`` is the unit vector at the source pointing away from the station.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pyproj import Transformer

from truceline.ground.base import Arrival, Atmosphere
from truceline.model.geo import WGS84_GEOD, LocalFrame

if TYPE_CHECKING:
    from truceline.ground.associate import AssociationConfig

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_UNKNOWN_SIGMA_M = 1e7


@dataclass(frozen=True, slots=True)
class Source:
    """A source hypothesis: position, origin time and their uncertainty (SI units)."""

    lon: float
    lat: float
    origin_s: float
    cov_m2: tuple[float, float, float] = (_UNKNOWN_SIGMA_M**2, 0.0, _UNKNOWN_SIGMA_M**2)
    origin_sigma_s: float = 0.0

    @property
    def position_sigma_m(self) -> float:
        """Largest position standard deviation, metres."""
        ee, en, nn = self.cov_m2
        half = (ee + nn) / 2.0
        return math.sqrt(max(half + math.sqrt(max(((ee - nn) / 2.0) ** 2 + en * en, 0.0)), 0.0))


def _wrap(angle: FloatArray) -> FloatArray:
    return np.asarray((angle + math.pi) % (2.0 * math.pi) - math.pi, dtype=float)


@lru_cache(maxsize=16)
def _gnomonic(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    proj = f"+proj=gnom +lat_0={lat0!r} +lon_0={lon0!r} +datum=WGS84 +units=m +no_defs"
    return (
        Transformer.from_crs("EPSG:4326", proj, always_xy=True),
        Transformer.from_crs(proj, "EPSG:4326", always_xy=True),
    )


class Network:
    """Vectorised arrivals of one chunk with the propagation model and its residuals."""

    def __init__(
        self, arrivals: list[Arrival], atmosphere: Atmosphere, config: AssociationConfig
    ) -> None:
        self.n = len(arrivals)
        self.ids = [a.id for a in arrivals]
        names = sorted({a.station for a in arrivals})
        self.station_idx = np.array([names.index(a.station) for a in arrivals], dtype=np.int64)
        self.lon = np.array([a.lon for a in arrivals])
        self.lat = np.array([a.lat for a in arrivals])
        self.t = np.array([a.time_s for a in arrivals])
        self.t_sigma = np.array([a.time_sigma_s for a in arrivals])
        self.has_az = np.array([a.azimuth_deg is not None for a in arrivals], dtype=bool)
        self.az = np.radians([a.azimuth_deg or 0.0 for a in arrivals])
        self.az_sigma = np.radians([a.azimuth_sigma_deg or 1.0 for a in arrivals])
        self.max_range = np.array([a.max_range_m for a in arrivals])
        self.atmosphere = atmosphere
        self.gate = config.gate_sigmas
        self.floor_m = config.position_floor_m
        if config.celerity_mps is not None:
            low, high = config.celerity_mps
            self.speed_fixed: float | None = (low + high) / 2.0
            self.speed_sigma = (high - low) / math.sqrt(12.0)
        else:
            self.speed_fixed = None
            self.speed_sigma = config.speed_sigma_mps
        self._lines: tuple[FloatArray, FloatArray, FloatArray] | None = None

    @cached_property
    def gnomonic(self) -> tuple[Transformer, Transformer]:
        """Forward and inverse gnomonic projection centred on the chunk's stations."""
        frame = LocalFrame.around(self.lon, self.lat)
        return _gnomonic(frame.lon0, frame.lat0)

    def bearing_lines(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Each bearing as a gnomonic line: station ``(x, y)`` and direction ``(n, 2)``."""
        if self._lines is None:
            forward = self.gnomonic[0]
            reach = np.minimum(self.max_range, 2_000_000.0) / 2.0
            far_lon, far_lat, _ = WGS84_GEOD.fwd(self.lon, self.lat, np.degrees(self.az), reach)
            px, py = forward.transform(self.lon, self.lat)
            qx, qy = forward.transform(far_lon, far_lat)
            px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
            direction = np.column_stack([np.asarray(qx) - px, np.asarray(qy) - py])
            self._lines = (px, py, direction)
        return self._lines

    # -- model -------------------------------------------------------------------------
    def speed(self, propagation_az_rad: FloatArray) -> FloatArray:
        """Mean propagation speed along paths leaving the source at these azimuths, m/s."""
        if self.speed_fixed is not None:
            return np.full_like(propagation_az_rad, self.speed_fixed)
        atm = self.atmosphere
        along = atm.wind_east_mps * np.sin(propagation_az_rad)
        along = along + atm.wind_north_mps * np.cos(propagation_az_rad)
        return atm.sound_speed_mps + along

    def geometry(self, src: Source, idx: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Back azimuth at each station and azimuth at the source (rad), range (m)."""
        n = idx.size
        az12, az21, dist = WGS84_GEOD.inv(
            self.lon[idx], self.lat[idx], np.full(n, src.lon), np.full(n, src.lat)
        )
        r = np.maximum(np.asarray(dist, dtype=float), 1.0)
        return np.radians(az12), np.radians(az21), r

    def misfit(
        self, src: Source, idx: IntArray, gated: bool = True, fitted: bool = False
    ) -> FloatArray:
        """Squared normalised innovations per arrival (``inf`` outside the gate/range).

        With ``fitted`` the arrivals are those the source was fitted to, and the
        source's own uncertainty is left out of the normalisation.
        """
        if idx.size == 0:
            return np.zeros(0)
        az12, az21, r = self.geometry(src, idx)
        v = self.speed(az21)
        pos = 0.0 if fitted else src.position_sigma_m
        origin_sigma = 0.0 if fitted else src.origin_sigma_s
        sa = np.hypot(self.az_sigma[idx], np.hypot(pos, self.floor_m) / r)
        st = np.sqrt(
            self.t_sigma[idx] ** 2
            + (r * self.speed_sigma / v**2) ** 2
            + (pos / v) ** 2
            + origin_sigma**2
        )
        za = np.where(self.has_az[idx], _wrap(self.az[idx] - az12) / sa, 0.0)
        zt = (self.t[idx] - src.origin_s - r / v) / st
        z2 = za**2 + zt**2
        if gated:
            bad = (np.abs(za) > self.gate) | (np.abs(zt) > self.gate)
            z2 = np.where(bad | (r > 1.2 * self.max_range[idx]), np.inf, z2)
        return np.asarray(z2, dtype=float)

    def _best_per_station(self, idx: IntArray, z2: FloatArray) -> IntArray:
        order = np.lexsort((idx, z2, self.station_idx[idx]))
        stations = self.station_idx[idx][order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = stations[1:] != stations[:-1]
        return np.sort(idx[order[first]])

    def support(self, src: Source, available: BoolArray) -> tuple[IntArray, float]:
        """The best gated available arrival of each station, and the gated LLR score."""
        idx = np.flatnonzero(available).astype(np.int64)
        z2 = self.misfit(src, idx)
        ok = np.isfinite(z2)
        members = self._best_per_station(idx[ok], z2[ok])
        if members.size == 0:
            return members, -math.inf
        dims = 1.0 + self.has_az[members]
        score = float(np.sum(self.gate**2 * dims - self.misfit(src, members)) / 2.0)
        return members, score

    def primary(self, src: Source, members: IntArray) -> IntArray:
        """One member per station: the one the source explains best."""
        return self._best_per_station(members, self.misfit(src, members, gated=False))

    def phases(self, src: Source, members: IntArray, available: BoolArray) -> IntArray:
        """Available arrivals at the members' stations that also fit the source."""
        stations = np.isin(self.station_idx, self.station_idx[members])
        idx = np.flatnonzero(available & stations).astype(np.int64)
        return idx[np.isfinite(self.misfit(src, idx))]

    def max_crossing_sin(self, src: Source, members: IntArray) -> float:
        """Largest |sin| of the angle between two members' rays at the source."""
        _, az21, _ = self.geometry(src, members)
        diff = az21[:, None] - az21[None, :]
        return float(np.max(np.abs(np.sin(diff)))) if members.size > 1 else 0.0

    # -- least squares -------------------------------------------------------------------
    def refine(self, seed: Source, idx: IntArray, iterations: int = 15) -> Source | None:
        """Gauss–Newton over (east, north, origin) on the given arrivals.

        Returns ``None`` when the solution is not finite, lies beyond a member's
        range, or fires after one of its arrivals.
        """
        lon, lat, origin = seed.lon, seed.lat, seed.origin_s
        info = np.eye(3)
        for _ in range(iterations):
            az12, az21, r = self.geometry(Source(lon, lat, origin), idx)
            v = self.speed(az21)
            ue, un = -np.sin(az21), -np.cos(az21)
            st = np.hypot(self.t_sigma[idx], r * self.speed_sigma / v**2)
            rows_t = np.column_stack([ue / v, un / v, np.ones_like(r)]) / st[:, None]
            res_t = (self.t[idx] - origin - r / v) / st
            a = self.has_az[idx]
            sa = np.hypot(self.az_sigma[idx][a], self.floor_m / r[a])
            rows_a = np.column_stack([un[a] / r[a], -ue[a] / r[a], np.zeros(int(a.sum()))])
            res_a = _wrap(self.az[idx][a] - az12[a]) / sa
            jac = np.vstack([rows_t, rows_a / sa[:, None]])
            res = np.concatenate([res_t, res_a])
            info = jac.T @ jac
            step = np.linalg.lstsq(jac, res, rcond=None)[0]
            shift = float(math.hypot(step[0], step[1]))
            limit = max(2_000.0, 0.3 * float(np.median(r)))
            if shift > limit:
                step[:2] *= limit / shift
                shift = limit
            if not np.all(np.isfinite(step)):
                return None
            if shift > 0.0:
                heading = math.degrees(math.atan2(step[0], step[1]))
                lon_a, lat_a, _ = WGS84_GEOD.fwd(lon, lat, heading, shift)
                lon, lat = float(lon_a), float(lat_a)
            origin += float(step[2])
            if shift < max(0.1, 1e-6 * float(np.min(r))) and abs(float(step[2])) < 1e-4:
                break
        cov = np.linalg.pinv(info)
        floor2 = self.floor_m**2
        src = Source(
            lon,
            lat,
            origin,
            (float(cov[0, 0]) + floor2, float(cov[0, 1]), float(cov[1, 1]) + floor2),
            float(math.sqrt(max(float(cov[2, 2]), 0.0))),
        )
        _, _, r = self.geometry(src, idx)
        if not (math.isfinite(lon) and math.isfinite(lat) and math.isfinite(origin)):
            return None
        if np.any(r > 1.2 * self.max_range[idx]):
            return None
        if origin > float(np.min(self.t[idx] + self.gate * self.t_sigma[idx])):
            return None
        return src


def gnomonic_crossing(net: Network, i: int, j: int, min_sin: float, gate: float) -> Source | None:
    """Where the bearings of arrivals ``i`` and ``j`` cross, with a joint origin time.

    Great circles are straight lines in a gnomonic projection, so the crossing
    of two bearings is a 2x2 linear solve there. ``None`` when the rays do not
    meet ahead of both stations within range, cross at a shallow angle, or
    imply origin times more than ``gate`` sigmas apart.
    """
    pair = np.array([i, j], dtype=np.int64)
    px, py, d = net.bearing_lines()
    px, py, d = px[pair], py[pair], d[pair]
    matrix = np.array([[d[0, 0], -d[1, 0]], [d[0, 1], -d[1, 1]]])
    if abs(float(np.linalg.det(matrix))) < 1e-9 * float(np.sum(d**2)):
        return None
    a, b = np.linalg.solve(matrix, np.array([px[1] - px[0], py[1] - py[0]]))
    if a <= 0.0 or b <= 0.0:
        return None
    lon_x, lat_x = net.gnomonic[1].transform(px[0] + a * d[0, 0], py[0] + a * d[0, 1])
    seed = Source(float(lon_x), float(lat_x), 0.0)
    az12, az21, r = net.geometry(seed, pair)
    if np.any(r > net.max_range[pair]) or np.any(np.cos(az12 - net.az[pair]) < 0.0):
        return None
    if abs(math.sin(float(az21[0] - az21[1]))) < min_sin:
        return None
    v = net.speed(az21)
    origins = net.t[pair] - r / v
    sig = np.hypot(net.t_sigma[pair], r * net.speed_sigma / v**2)
    if abs(float(origins[0] - origins[1])) > gate * float(np.hypot(sig[0], sig[1])):
        return None
    weights = 1.0 / sig**2
    return Source(seed.lon, seed.lat, float(np.sum(origins * weights) / np.sum(weights)))


def grid_seeds(
    net: Network, needed: int, gate: float, spacing_m: float | None
) -> list[tuple[Source, IntArray]]:
    """Seeds for arrivals without bearings from a back-projection grid (TDOA).

    At a trial source position each time-only arrival implies an origin time
    (arrival minus travel time). For each anchor arrival, a coarse grid over
    the network (plus a margin) is searched for the node where the implied
    origins of the most distinct stations fall within ``gate`` sigmas (pick
    error plus the grid's own travel-time error) of the anchor's; the three
    best nodes are zoomed into three times (a 9x9 sub-grid at a quarter of the
    spacing), narrowing the window each time. The best final node seeds a
    source with its arrivals (one per station) if there are ``needed`` stations.
    """
    tonly = np.flatnonzero(~net.has_az).astype(np.int64)
    if len(set(net.station_idx[tonly].tolist())) < needed:
        return []
    frame = LocalFrame.around(net.lon, net.lat)
    stack = _Stack(net, tonly, frame, gate)
    size = max(float(np.ptp(stack.sx)), float(np.ptp(stack.sy)), 1_000.0)
    margin = min(float(np.median(net.max_range[tonly])), max(0.5 * size, 2_000.0))
    spacing = spacing_m if spacing_m is not None else (size + 2 * margin) / 40.0
    gx = np.arange(float(stack.sx.min()) - margin, float(stack.sx.max()) + margin, spacing)
    gy = np.arange(float(stack.sy.min()) - margin, float(stack.sy.max()) + margin, spacing)
    nx, ny = (g.ravel() for g in np.meshgrid(gx, gy))
    offsets = np.arange(-4, 5) / 4.0
    ox, oy = (g.ravel() for g in np.meshgrid(offsets, offsets))
    seeds: dict[tuple[int, ...], tuple[Source, IntArray]] = {}
    for k in range(tonly.size):
        value, _, _ = stack.evaluate(nx, ny, spacing, k)
        best: tuple[float, float, float, IntArray] | None = None
        for node in np.argsort(-value, kind="stable")[:3]:
            x, y, step = float(nx[node]), float(ny[node]), spacing
            for _ in range(3):
                cx, cy = x + ox * step, y + oy * step
                step /= 4.0
                value_z, members_z, origin_z = stack.evaluate(cx, cy, step, k)
                top = int(np.argmax(value_z))
                x, y = float(cx[top]), float(cy[top])
            if best is None or value_z[top] > best[0]:
                best = (float(value_z[top]), x, y, members_z(top))
                best_origin = origin_z(top)
        if best is None or best[3].size < needed:
            continue
        key = tuple(tonly[best[3]].tolist())
        if key not in seeds:
            lon, lat = frame.point_to_geo(best[1], best[2])
            seeds[key] = (Source(lon, lat, best_origin), tonly[best[3]])
    return list(seeds.values())


class _Stack:
    """Implied-origin stacking of time-only arrivals over trial source positions."""

    def __init__(self, net: Network, tonly: IntArray, frame: LocalFrame, gate: float) -> None:
        self.net, self.tonly, self.gate = net, tonly, gate
        self.sx, self.sy = frame.to_local(net.lon[tonly], net.lat[tonly])
        self.stations = net.station_idx[tonly]
        self.onehot = (self.stations[:, None] == np.unique(self.stations)[None, :]).astype(float)
        self.pick_var = 2.0 * float(np.median(net.t_sigma[tonly])) ** 2

    def evaluate(
        self, nx: FloatArray, ny: FloatArray, spacing: float, k: int
    ) -> tuple[FloatArray, Callable[[int], IntArray], Callable[[int], float]]:
        """Score of each node for anchor ``k``: distinct stations minus a spread term."""
        dx, dy = self.sx[None, :] - nx[:, None], self.sy[None, :] - ny[:, None]
        dist = np.hypot(dx, dy)
        v = self.net.speed(np.arctan2(dx, dy))
        implied = self.net.t[self.tonly][None, :] - dist / v
        v0 = float(np.mean(v))
        speed_term = float(np.median(dist)) * self.net.speed_sigma / v0**2
        width = self.gate * math.sqrt(self.pick_var + (spacing / v0) ** 2 + speed_term**2)
        gap = np.abs(implied - implied[:, k : k + 1])
        inside = gap <= width
        counts = ((inside.astype(float) @ self.onehot) > 0).sum(axis=1)
        value = counts - np.where(inside, gap, 0.0).sum(axis=1) / (width * self.tonly.size)

        def members(node: int) -> IntArray:
            cols = np.flatnonzero(inside[node])
            order = np.lexsort((cols, gap[node, cols], self.stations[cols]))
            keep = np.ones(order.size, dtype=bool)
            keep[1:] = self.stations[cols][order][1:] != self.stations[cols][order][:-1]
            return np.sort(cols[order[keep]]).astype(np.int64)

        def origin(node: int) -> float:
            return float(np.mean(implied[node, members(node)]))

        return np.asarray(value, dtype=float), members, origin
