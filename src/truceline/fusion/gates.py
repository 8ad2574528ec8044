"""The gates that decide what may interact, for the component decomposition.

Each is a pairwise predicate on two things, wide enough to contain every
interaction the fusion stage it guards can make (see
:mod:`truceline.fusion.components` for why that makes per-component fusion
exact):

Ground arrivals (bearings and arrival times, before location)
    Two arrivals interact when one associator could put them in one source
    (:func:`arrivals_interact`): two bearings, whatever their classifiers'
    labels (the local associator combines labels), within its chunk gap
    (``acoustic_max_range_m`` over the sound speed, plus 10 s); two regional
    bearings within the larger of their reaches (the bearing's range over the
    slowest regional celerity, plus 10 s); two arrivals without direction
    within the larger of their reaches (the station's range over 300 m/s).
    Space is not gated: a bearing reaches tens of kilometres. Components are
    computed by :func:`ground_units`.

Items (point and footprint observations, located sources)
    Each item draws one space-time box per *channel* it takes part in, and
    two items interact when their boxes on a common channel intersect:

    ``episode``
        explosive items: a box half ``max(episode_distance_m,
        colocated_distance_m)`` wide, stretched by half ``episode_window_s``
        either side in time; a diffuse source's
        (:func:`truceline.fusion.assign.is_diffuse`) grown to its 3-sigma box
        and its episode's margin, so that it meets every round of the
        episodes it may be attached to (the engine attaches it only to an
        episode with a round whose box it meets);
    ``corroborate``
        explosive items (side 0) against hot spots, smoke, craters and
        surface changes (side 1), each a 3-sigma box (footprints: their
        extent) grown by three margins: an explosive item's by its episode's
        (:func:`truceline.fusion.assign.episode_margin_m`: for an impact, the
        association margin and the impacts' scatter), a corroborating one's
        by the association margin; the explosive one at its time, the
        corroborating one over the event times its delay model allows
        (:func:`truceline.fusion.assign.delay_support`). The engine lets a
        corroborating item join an episode only when it meets one of the
        episode's rounds on this channel (:func:`corroborate_box`);
    ``track:<family>``
        sightings of one family (hot spots, craters, equipment, ...): 3-sigma
        boxes (5-sigma for hot spots, whose pixels of one fire link within
        :data:`~truceline.fusion.assign.FIRE_BLOB_CHI2`) grown by the track's
        motion allowance, stretched by half the family's track window
        (unbounded for craters, equipment and military presence).

Events (for trajectory pairing and everything downstream)
    A launch candidate and an impact candidate interact when their distance
    and the delay from launch to impact fit some weapon family's range and
    time-of-flight envelope, widened by three standard deviations and a
    margin (:func:`trajectory_pair_gate`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from truceline.fusion.assign import (
    CORROBORATING_FAMILIES,
    EXPLOSIVE_FAMILIES,
    FIRE_BLOB_CHI2,
    FIRE_EFFECT,
    delay_support,
    episode_margin_m,
    is_diffuse,
    track_extra_cov,
    track_window_s,
)
from truceline.fusion.components import Box
from truceline.fusion.config import FusionConfig
from truceline.fusion.items import CHI2_2DOF_99, Item, union_find_clusters
from truceline.fusion.network import REGIONAL_CELERITY_MIN_MPS, REGIONAL_REACH_M
from truceline.ground.attribution import IMPACT_KINDS, LAUNCH_KINDS, is_launch_candidate
from truceline.ground.flight import WEAPON_FAMILIES
from truceline.model.event import Event
from truceline.model.location import BearingLocation, StationLocation
from truceline.model.observation import Observation

__all__ = [
    "CORROBORATE",
    "EPISODE",
    "ArrivalClass",
    "Channel",
    "arrival_class",
    "arrivals_interact",
    "corroborate_box",
    "episode_box",
    "ground_units",
    "item_boxes",
    "local_gap_s",
    "metres_to_degrees",
    "partner_side",
    "position_sigma_m",
    "trajectory_groups",
    "trajectory_pair_gate",
    "trajectory_role",
    "trajectory_window_s",
]

#: A gate channel: ``(name, side)``; items on the same side of a self channel
#: (side 0) meet each other, sides 0 and 1 of a two-sided channel meet.
Channel = tuple[str, int]

EPISODE: Final = "episode"
CORROBORATE: Final = "corroborate"
_TWO_SIDED: Final = frozenset({CORROBORATE})
#: Sigmas of a 99 % gate in two dimensions.
_K: Final = math.sqrt(CHI2_2DOF_99)
#: Metres per degree of latitude, rounded down and given 1 % slack (boxes grow).
_M_PER_DEG_LAT: Final = 110_574.0 / 1.01
_M_PER_DEG_LON_EQ: Final = 111_320.0 / 1.01
#: Slowest sound speed assumed for sensors without direction (TDOA), m/s.
_TDOA_SPEED_MPS: Final = 300.0
#: Extra time slack of the trajectory gate, seconds, and its range margin, metres.
_TRAJECTORY_SLACK_S: Final = 30.0
_TRAJECTORY_MARGIN_M: Final = 1_000.0

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def partner_side(channel: Channel) -> Channel:
    """The channel side a box meets (the same side for a self channel)."""
    name, side = channel
    return (name, 1 - side) if name in _TWO_SIDED else channel


def metres_to_degrees(lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """Half-widths in degrees (longitude, latitude) covering ``east_m``/``north_m`` metres."""
    cos_lat = max(math.cos(math.radians(lat)), 1e-3)
    return east_m / (_M_PER_DEG_LON_EQ * cos_lat), north_m / _M_PER_DEG_LAT


def _box(item: Item, east_m: float, north_m: float, t0: float, t1: float) -> Box:
    dlon, dlat = metres_to_degrees(item.lat, east_m, north_m)
    return (item.lon - dlon, item.lon + dlon, item.lat - dlat, item.lat + dlat, t0, t1)


def corroborate_box(item: Item, config: FusionConfig) -> Box:
    """The box an explosive or corroborating item draws on the ``corroborate`` channel.

    Its 3-sigma box (footprints: plus their extent) grown by three margins —
    an explosive item's by its episode's
    (:func:`~truceline.fusion.assign.episode_margin_m`), a corroborating
    one's by the association margin, so that two boxes meet wherever the
    pair's gate lets them; an explosive item's at its time, a corroborating
    one's over the event times its delay model allows. A corroborating item may join an
    episode only when its box meets the box of one of the episode's rounds
    (:mod:`truceline.fusion.engine`), so this channel holds every such pair.
    """
    sx, sy = item.sigma_m
    hx, hy = item.half_extent_m
    # the explosive side carries its episode's margin, the corroborating side
    # the association margin: together at least the pair's gate
    if item.family in CORROBORATING_FAMILIES:
        margin = _K * config.association_margin_m
    else:
        margin = _K * episode_margin_m(config, item.family)
    if item.family in CORROBORATING_FAMILIES:
        lo, hi = delay_support(item, config)
    else:
        lo, hi = item.t_lo, item.t_hi
    return _box(item, _K * sx + hx + margin, _K * sy + hy + margin, lo, hi)


def episode_box(item: Item, config: FusionConfig) -> Box:
    """The box an explosive item draws on the ``episode`` channel.

    Half ``max(episode_distance_m, colocated_distance_m)`` wide (two rounds
    the distance gates chain meet), stretched by half ``episode_window_s``
    either side in time; a diffuse source's
    (:func:`~truceline.fusion.assign.is_diffuse`) grown to its 3-sigma box
    plus three of its episode margins. The engine attaches a diffuse source
    only to an episode with a round whose box its box meets.
    """
    sx, sy = item.sigma_m
    half = max(config.episode_distance_m, config.colocated_distance_m) / 2.0
    hx = hy = half
    if is_diffuse(item, config):
        margin = _K * episode_margin_m(config, item.family)
        hx, hy = max(half, _K * sx + margin), max(half, _K * sy + margin)
    w = config.episode_window_s / 2.0
    return _box(item, hx, hy, item.t_lo - w, item.t_hi + w)


def item_boxes(item: Item, config: FusionConfig) -> list[tuple[Channel, Box]]:
    """The gate boxes an item draws, one per channel side it takes part in."""
    sx, sy = item.sigma_m
    hx, hy = item.half_extent_m
    boxes: list[tuple[Channel, Box]] = []
    if item.family in EXPLOSIVE_FAMILIES.values():
        boxes.append(((EPISODE, 0), episode_box(item, config)))
        boxes.append(((CORROBORATE, 0), corroborate_box(item, config)))
        return boxes
    if item.family in CORROBORATING_FAMILIES:
        boxes.append(((CORROBORATE, 1), corroborate_box(item, config)))
    extra = math.sqrt(max(track_extra_cov(item.family, config)[0], 0.0))
    window = track_window_s(item.family, config)
    if window is None:
        t0, t1 = -math.inf, math.inf
    else:
        t0, t1 = item.t_lo - window / 2.0, item.t_hi + window / 2.0
    # pixels of one fire in one overpass link within a wider gate (FIRE_BLOB_CHI2)
    k = math.sqrt(FIRE_BLOB_CHI2) if item.family == FIRE_EFFECT else _K
    grow = k * extra
    boxes.append(
        (
            (f"track:{item.family}", 0),
            _box(item, k * sx + hx + grow, k * sy + hy + grow, t0, t1),
        )
    )
    return boxes


@dataclass(frozen=True, slots=True)
class ArrivalClass:
    """What decides which ground arrivals may interact.

    Attributes
    ----------
    t
        Arrival time, epoch seconds.
    family
        Signal family of a bearing (its classifier's label,
        :data:`~truceline.fusion.acoustic.UNCLASSIFIED` for an array beam), or
        ``""`` for an arrival without direction.
    regional
        Whether it is a regional bearing (an infrasound array's).
    reach_s
        Longest plausible delay from a source to it, seconds.
    """

    t: float
    family: str
    regional: bool
    reach_s: float

    @property
    def bearing(self) -> bool:
        """Whether it has a direction."""
        return self.family != ""


def arrival_class(obs: Observation, family: str, config: FusionConfig) -> ArrivalClass:
    """The :class:`ArrivalClass` of a bearing (of signal ``family``) or station arrival."""
    loc = obs.location
    t = obs.time.timestamp()
    local = config.acoustic_max_range_m / config.sound_speed_mps + 10.0
    if isinstance(loc, StationLocation):
        return ArrivalClass(t, "", False, max(loc.max_range_m / _TDOA_SPEED_MPS + 10.0, local))
    if isinstance(loc, BearingLocation) and loc.max_range_m > REGIONAL_REACH_M:
        return ArrivalClass(t, family, True, loc.max_range_m / REGIONAL_CELERITY_MIN_MPS + 10.0)
    return ArrivalClass(t, family, False, local)


def arrivals_interact(a: ArrivalClass, b: ArrivalClass, local_gap_s: float) -> bool:
    """The ground-arrival relation of the module docstring.

    * two bearings (any labels) within ``local_gap_s`` (the local
      associator's chunks);
    * two regional bearings within the larger of their reaches (the regional
      associator's chunks);
    * two arrivals without direction within the larger of their reaches (TDOA).
    """
    dt = abs(a.t - b.t)
    if a.bearing and b.bearing:
        if dt <= local_gap_s:
            return True
        return a.regional and b.regional and dt <= max(a.reach_s, b.reach_s)
    if not a.bearing and not b.bearing:
        return dt <= max(a.reach_s, b.reach_s)
    return False


def local_gap_s(config: FusionConfig) -> float:
    """Time gap (seconds) that separates chunks of the local bearing associator."""
    return config.acoustic_max_range_m / config.sound_speed_mps + 10.0


def ground_units(arrivals: Sequence[ArrivalClass], gap_s: float) -> list[list[int]]:
    """Components of :func:`arrivals_interact` over ``arrivals``, as sorted index lists.

    Each of the three relations is an interval relation in time, whose
    components are consecutive runs of its arrivals in time order; linking
    consecutive members of every run and taking the connected components of
    the union gives the components of the whole relation.
    """
    n = len(arrivals)
    order = sorted(range(n), key=lambda i: (arrivals[i].t, i))
    pairs: list[tuple[int, int]] = []
    bearings = [i for i in order if arrivals[i].bearing]
    pairs.extend(_runs(bearings, arrivals, gap_s))
    pairs.extend(_runs([i for i in bearings if arrivals[i].regional], arrivals, None))
    pairs.extend(_runs([i for i in order if not arrivals[i].bearing], arrivals, None))
    return union_find_clusters(n, pairs)


def _runs(
    members: Sequence[int], arrivals: Sequence[ArrivalClass], gap_s: float | None
) -> list[tuple[int, int]]:
    """Links of consecutive time-sorted members in one interval relation's components.

    With ``gap_s`` two members interact within that gap (a run continues while
    consecutive members are within it). Without, ``a`` and ``b`` interact when
    either lies within the other's reach; every member interacts with all
    members inside ``[t - reach, t + reach]``, a contiguous range in time
    order, so a link between consecutive members exists exactly when some
    member's range covers both (counted with a difference array).
    """
    if gap_s is not None:
        return [
            (a, b) for a, b in itertools.pairwise(members) if arrivals[b].t - arrivals[a].t <= gap_s
        ]
    n = len(members)
    if n < 2:
        return []
    times = np.array([arrivals[i].t for i in members])
    reach = np.array([arrivals[i].reach_s for i in members])
    lo = np.searchsorted(times, times - reach, side="left")
    hi = np.searchsorted(times, times + reach, side="right") - 1
    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, lo, 1)
    np.add.at(cover, hi, -1)
    linked = np.cumsum(cover)[: n - 1] > 0  # link k joins members k and k + 1
    return [(members[k], members[k + 1]) for k in np.flatnonzero(linked).tolist()]


# -- trajectories ---------------------------------------------------------------------------------

_MAX_FLIGHT_S: Final = max(f.max_time_of_flight_s for f in WEAPON_FAMILIES)


def _sigma_along_m(event: Event) -> float:
    """Upper bound of an event's position sigma along any line, metres."""
    return math.sqrt(max(event.cov_ee, event.cov_nn, 0.0))


def _haversine_m(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(2.0 * 6_371_008.8 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=float)


def trajectory_pair_gate(
    launches: Sequence[Event], impacts: Sequence[Event]
) -> npt.NDArray[np.bool_]:
    """Whether each ``(launches[k], impacts[k])`` may pair into one trajectory.

    A superset of :func:`truceline.ground.trajectory.pair_trajectories`'s gate:
    the distance (a spherical lower bound, less 0.5 %) within some family's
    range interval grown by three standard deviations and 1 km, and the flight
    time interval ``[impact start - launch end, impact start - launch start]``
    meeting that family's time-of-flight window at such a range, grown by three
    standard deviations of both times and 30 s.
    """
    if not launches:
        return np.zeros(0, dtype=bool)
    la = np.array(
        [
            (
                e.lon,
                e.lat,
                e.time_start.timestamp(),
                e.time_end.timestamp(),
                e.time_sigma_s,
                _sigma_along_m(e),
            )
            for e in launches
        ]
    )
    ia = np.array(
        [
            (e.lon, e.lat, e.time_start.timestamp(), e.time_sigma_s, _sigma_along_m(e))
            for e in impacts
        ]
    )
    r = _haversine_m(la[:, 0], la[:, 1], ia[:, 0], ia[:, 1])
    sigma_r = np.hypot(la[:, 5], ia[:, 4]) + 1.0
    spread = 3.0 * sigma_r + _TRAJECTORY_MARGIN_M
    r_lo, r_hi = np.maximum(0.995 * r - spread, 0.0), 1.005 * r + spread
    var_t = la[:, 4] ** 2 + ia[:, 3] ** 2 + 0.01
    ok = np.zeros(len(la), dtype=bool)
    for family in WEAPON_FAMILIES:
        speed2 = family.min_speed_mps * family.max_speed_mps
        slack = 3.0 * np.sqrt(var_t + sigma_r**2 / speed2) + _TRAJECTORY_SLACK_S
        tof_lo = ia[:, 2] - la[:, 3] - slack
        tof_hi = ia[:, 2] - la[:, 2] + slack
        in_range = (r_hi >= family.min_range_m) & (r_lo <= family.max_range_m)
        earliest = np.maximum(r_lo, family.min_range_m) / family.max_speed_mps
        latest = np.minimum(
            np.minimum(r_hi, family.max_range_m) / family.min_speed_mps, family.max_time_of_flight_s
        )
        ok |= in_range & (tof_hi >= earliest) & (tof_lo <= latest)
    return ok


def position_sigma_m(event: Event) -> float:
    """Upper bound of an event's position sigma along any line, metres."""
    return _sigma_along_m(event)


def trajectory_role(event: Event) -> str | None:
    """``"launch"`` or ``"impact"`` candidate for trajectory pairing, or ``None``."""
    if event.kind not in LAUNCH_KINDS | IMPACT_KINDS:
        return None
    return "launch" if is_launch_candidate(event) else "impact"


def trajectory_window_s(sigma_max_s: float, sigma_max_m: float = 0.0) -> tuple[float, float]:
    """``(before, after)``: a gated impact starts within ``[launch start - before,
    launch end + after]`` (seconds).

    Given the largest time sigma (seconds) and position sigma (metres, the
    larger axis) of the events in play: the widest time tolerance any pair of
    :func:`trajectory_pair_gate` can have.
    """
    sigma_r = 2.0 * sigma_max_m + 1.0
    slowest = min(f.min_speed_mps * f.max_speed_mps for f in WEAPON_FAMILIES)
    slack = 3.0 * math.sqrt(2.0 * sigma_max_s**2 + 0.01 + sigma_r**2 / slowest)
    slack += _TRAJECTORY_SLACK_S + 1.0
    return slack, _MAX_FLIGHT_S + slack


def trajectory_groups(events: Sequence[Event]) -> list[list[int]]:
    """Components of the trajectory relation over ``events``, as sorted index lists.

    Events that are neither launch nor impact candidates are components of
    their own.
    """
    roles = [trajectory_role(e) for e in events]
    launches = [i for i, r in enumerate(roles) if r == "launch"]
    impacts = sorted(
        (i for i, r in enumerate(roles) if r == "impact"), key=lambda i: events[i].time_start
    )
    pairs: list[tuple[int, int]] = []
    if launches and impacts:
        sigma = max(events[i].time_sigma_s for i in launches + impacts)
        sigma_m = max(_sigma_along_m(events[i]) for i in launches + impacts)
        before, after = trajectory_window_s(sigma, sigma_m)
        starts = np.array([events[i].time_start.timestamp() for i in impacts])
        cand_l: list[int] = []
        cand_i: list[int] = []
        for li in launches:
            event = events[li]
            lo = int(np.searchsorted(starts, event.time_start.timestamp() - before, side="left"))
            hi = int(np.searchsorted(starts, event.time_end.timestamp() + after, side="right"))
            cand_l.extend([li] * (hi - lo))
            cand_i.extend(impacts[lo:hi])
        if cand_l:
            ok = trajectory_pair_gate([events[i] for i in cand_l], [events[i] for i in cand_i])
            pairs = [(a, b) for a, b, keep in zip(cand_l, cand_i, ok.tolist(), strict=True) if keep]
    return union_find_clusters(len(events), pairs)
