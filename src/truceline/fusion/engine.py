"""The association engine: observations of every modality into events.

Two levels, each decomposed into independent components
(:mod:`truceline.fusion.components`, gates in :mod:`truceline.fusion.gates`):

1. **Ground arrivals** (bearings and arrival times) are grouped into units of
   arrivals connected in time and located per unit (:mod:`.arrivals`); each
   located source becomes an item.
2. **Items** — located sources, point and footprint observations — are
   grouped into components of items whose gate boxes meet, and each component
   is associated on its own, in a metric frame of its own, in a canonical order
   (:func:`fuse_component`):

   a. **Explosive episodes** (:mod:`.episodes`). Explosions, impacts, launches and gunfire of one
      family closer than ``episode_distance_m`` and ``episode_window_s`` are
      one episode — several rounds of one shelling are one violation. Across
      families (a classifier calling some rounds of one gun "explosion") the
      gate is ``colocated_distance_m`` within ``salvo_window_s``: rounds of one
      firing follow each other within a minute, whereas shells landing on a
      gun position minutes after it fired (counter-battery fire) are another
      event.
      A diffuse source (:func:`~truceline.fusion.assign.is_diffuse`: its own
      error ellipse reaches beyond the distance gate) is not chained: it joins
      the one episode of well-placed rounds it most likely belongs to
      (:func:`_attach`), so it can neither bridge two shellings nor stand
      alone 1.5–2 km from its own.
      An episode whose labels, weighed by the classifiers' confusion rates,
      and place make it more likely rounds of another family's episode (a
      launch round heard as an impact at the gun) joins it (:func:`_rejoin`).
   b. **Scan by scan, a global assignment.** Every other item belongs to a
      scan (one look of one source group, :mod:`.sources`). Scans are taken
      in time order; within a scan, items of one family that meet the gate
      form one blob (a fire several pixels wide, a trench in several
      polygons; never two vehicles or two boxed craters of one frame), and
      the blobs are assigned
      jointly (:func:`truceline.fusion.assign.assign_rows`) to the episodes
      they may corroborate (hot spots, smoke, craters, surface changes;
      capacity: the episode's number of rounds per scan,
      :func:`rounds_heard`; the blob must also meet one of the
      episode's rounds on the ``corroborate`` gate channel), to the tracks of
      their own family (further sightings of a fire, a crater, a parked
      weapon; one per scan), or to a new track — whichever maximises the
      summed log-likelihood ratio of :mod:`truceline.fusion.assign`.

Every episode and every track is an event (:mod:`.events`), placed where its
members are — a launch episode where its rounds are only: fires and craters seen
near a gun position corroborate it, they are not where it fired. The result does not
depend on the order of the input, and fusing all data gives exactly the union
of fusing each component alone: that is what the live mode
(:mod:`truceline.live`) relies on. ``docs/fusion.md`` describes the model.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from truceline.fusion.arrivals import locate_unit, snapped_frame
from truceline.fusion.assign import (
    CORROBORATING_FAMILIES,
    CRATER,
    EXPLOSIVE_FAMILIES,
    FIRE_BLOB_CHI2,
    FIRE_EFFECT,
    Target,
    assign_rows,
    delay_support,
    episode_margin_m,
    pair_llr,
    track_extra_cov,
    track_window_s,
)
from truceline.fusion.components import (
    Box,
    box_links,
    box_pairs,
    boxes_intersect,
    components_from_pairs,
)
from truceline.fusion.config import FusionConfig
from truceline.fusion.episodes import episodes, rounds_heard
from truceline.fusion.events import build_event, explosive_kind
from truceline.fusion.gates import (
    arrival_class,
    corroborate_box,
    ground_units,
    item_boxes,
    local_gap_s,
    partner_side,
)
from truceline.fusion.items import (
    CHI2_2DOF_99,
    Cov,
    Item,
    PositionMoments,
    cov_add,
    isotropic,
    mahalanobis2,
    merge_position,
    union_find_clusters,
)
from truceline.fusion.sources import ItemFactory
from truceline.model.event import Event
from truceline.model.geo import LocalFrame
from truceline.model.location import BearingLocation, StationLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = [
    "ACOUSTIC_MODALITIES",
    "DISCRETE_FAMILIES",
    "Draft",
    "FusionResult",
    "Prepared",
    "associate",
    "component_frame",
    "fuse",
    "fuse_component",
    "fuse_items",
    "is_discrete",
    "item_components",
    "prepare",
    "rounds_heard",
]

_EXPLOSIVE = frozenset(EXPLOSIVE_FAMILIES.values())
#: Families of discrete objects, reported once per look (never merged within a scan).
DISCRETE_FAMILIES = frozenset({"equipment", "military_presence"})
#: Modalities whose bearings and arrival times are located by the ground level.
ACOUSTIC_MODALITIES = frozenset({"acoustic", "infrasound", "seismic"})


class FusionResult:
    """Events plus the observations no event could use.

    Attributes
    ----------
    events
        Fused events sorted by time then id.
    unassociated
        Ids of observations that support no event (e.g. single-station detections), sorted.
    """

    def __init__(self, events: list[Event], unassociated: list[str]) -> None:
        self.events = events
        self.unassociated = unassociated


@dataclass
class Prepared:
    """Observations sorted into the two levels.

    Attributes
    ----------
    arrivals
        Ground arrivals ``(id, observation)`` for the first level, sorted by id.
    items
        Items of point and footprint observations.
    unassociated
        Ids no level can use (a bearing of a non-acoustic modality).
    """

    arrivals: list[tuple[str, Observation]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    unassociated: list[str] = field(default_factory=list)


def prepare(observations: Iterable[tuple[str, Observation]], factory: ItemFactory) -> Prepared:
    """Sort observations into ground arrivals and items (input sorted by id)."""
    prepared = Prepared()
    for oid, obs in observations:
        if isinstance(obs.location, BearingLocation | StationLocation):
            if obs.modality in ACOUSTIC_MODALITIES:
                prepared.arrivals.append((oid, obs))
            else:
                prepared.unassociated.append(oid)
            continue
        item = factory.point_item(oid, obs)
        if item is None:
            prepared.unassociated.append(oid)
        else:
            prepared.items.append(item)
    return prepared


# -- components of items -----------------------------------------------------------------


def item_components(items: Sequence[Item], config: FusionConfig) -> list[list[int]]:
    """Components of the item gates (:mod:`.gates`) over ``items``, as index lists."""
    by_channel: dict[tuple[str, int], tuple[list[int], list[tuple[float, ...]]]] = {}
    for index, item in enumerate(items):
        for channel, box in item_boxes(item, config):
            owners, boxes = by_channel.setdefault(channel, ([], []))
            owners.append(index)
            boxes.append(box)
    pairs = [np.zeros((0, 2), dtype=np.int64)]
    for channel in sorted(by_channel):
        partner = partner_side(channel)
        owners, boxes = by_channel[channel]
        a = np.asarray(boxes, dtype=float)
        if partner == channel:
            found = box_links(a)  # connectivity only: spanning links, not every pair
        elif channel < partner and partner in by_channel:
            other_owners, other_boxes = by_channel[partner]
            found = box_pairs(a, np.asarray(other_boxes, dtype=float))
            found = np.column_stack(
                [np.asarray(owners)[found[:, 0]], np.asarray(other_owners)[found[:, 1]]]
            )
            pairs.append(found.astype(np.int64))
            continue
        else:
            continue
        pairs.append(np.asarray(owners)[found].reshape(-1, 2).astype(np.int64))
    return components_from_pairs(len(items), np.vstack(pairs))


# -- one component -----------------------------------------------------------------------------


@dataclass
class _Group:
    """An event being built: an episode (with its target) or a track."""

    family: str
    items: list[Item]
    target: Target
    moments: PositionMoments | None = None

    def extend(self, blob: Sequence[Item], config: FusionConfig) -> None:
        """Add a blob; a track's target follows its sightings."""
        self.items.extend(blob)
        if self.moments is not None:
            for item in blob:
                self.moments.add(item)
            self.target = _track_target(self.moments, self.family, self.target.t, blob, config)


def is_discrete(item: Item) -> bool:
    """Whether an item is one whole object of its look (never a piece of a blob).

    Equipment and military presence (:data:`DISCRETE_FAMILIES`), and craters
    reported as points — an object detector's box around one crater. A crater
    footprint (a change polygon) may be one piece of a cratered field.
    """
    if item.family in DISCRETE_FAMILIES:
        return True
    return item.family == CRATER and item.half_extent_m == (0.0, 0.0)


def _blobs(scan: list[Item], config: FusionConfig) -> list[list[Item]]:
    """Items of one scan that are one object: pieces of one extended thing.

    A fire wider than a pixel lights several adjacent pixels of one overpass;
    a trench or a cratered field breaks into several polygons of one change
    map. Discrete objects are reported once per look: two vehicles in one
    frame are two vehicles, and two craters an object detector boxed in one
    frame are two craters, however close (:func:`is_discrete`).
    """
    if len(scan) == 1:
        return [scan]
    pairs = []
    for i, a in enumerate(scan):
        if is_discrete(a):
            continue
        for j in range(i + 1, len(scan)):
            b = scan[j]
            if a.family != b.family or is_discrete(b):
                continue
            cov = cov_add(a.cov, b.cov, track_extra_cov(a.family, config))
            gate = FIRE_BLOB_CHI2 if a.family == FIRE_EFFECT else CHI2_2DOF_99
            if mahalanobis2(a.x - b.x, a.y - b.y, cov) <= gate:
                pairs.append((i, j))
    return [[scan[i] for i in g] for g in union_find_clusters(len(scan), pairs)]


def _summary(blob: list[Item]) -> Item:
    """One item standing for a blob when it is scored."""
    if len(blob) == 1:
        return blob[0]
    x, y, cov = merge_position(blob)
    first = blob[0]
    return Item(
        key=first.key,
        kind=first.kind,
        family=first.family,
        lon=first.lon,
        lat=first.lat,
        cov=cov,
        t=min(i.t for i in blob),
        t_sigma=first.t_sigma,
        t_lo=min(i.t_lo for i in blob),
        t_hi=max(i.t_hi for i in blob),
        members=first.members,
        contributions=first.contributions,
        modalities=first.modalities,
        scan=first.scan,
        half_extent_m=(
            max(i.half_extent_m[0] for i in blob),
            max(i.half_extent_m[1] for i in blob),
        ),
        x=x,
        y=y,
    )


def _track_target(
    moments: PositionMoments,
    family: str,
    last_t: float,
    blob: Sequence[Item],
    config: FusionConfig,
) -> Target:
    """A track's target: its merged position with the sightings' spread, last time.

    The spread keeps the gate of an extended object (a fire several pixels
    wide, burning for days) as wide as the object instead of shrinking with
    every sighting. Running moments make each update O(1).
    """
    x, y, cov = moments.merged()
    return Target(
        family=family,
        x=x,
        y=y,
        cov=cov,
        t=max(last_t, max(i.t_hi for i in blob)),
        capacity=1,
        extra_cov=track_extra_cov(family, config),
        corroborated=False,
    )


def _track(blob: Sequence[Item], config: FusionConfig) -> _Group:
    moments = PositionMoments()
    for item in blob:
        moments.add(item)
    family = blob[0].family
    target = _track_target(moments, family, -math.inf, blob, config)
    return _Group(family, list(blob), target, moments)


def _scan_key(item: Item) -> tuple[float, float, str, str]:
    if item.scan is None:
        return (item.t_lo, item.t_hi, "", item.key)
    group, lo, hi = item.scan
    return (lo, hi, group, "")


_K = math.sqrt(CHI2_2DOF_99)


def _reach(target: Target) -> tuple[float, float]:
    """Half-widths (metres) beyond which no item of zero extent passes its gate."""
    return (
        _K * math.sqrt(max(target.cov[0] + target.extra_cov[0], 0.0)),
        _K * math.sqrt(max(target.cov[2] + target.extra_cov[2], 0.0)),
    )


class _Targets:
    """The episodes and tracks of a component, searchable by time and family.

    A quick test on the axis-aligned bounds of the Mahalanobis gate (the gate
    ellipse of ``S = cov_item + cov_target + extra`` lies within ``k
    (sigma_item + sigma_target)`` of the target on each axis) discards pairs
    that :func:`~truceline.fusion.assign.pair_llr` would gate out, so a scan is
    scored against nearby candidates only.
    """

    def __init__(self, fires: list[_Group], config: FusionConfig) -> None:
        self.fires = sorted(fires, key=lambda g: g.target.t)
        self.fire_times = [g.target.t for g in self.fires]
        self.tracks: dict[str, list[_Group]] = {}
        self._config = config
        self._boxes: dict[str, Box] = {}

    def _box(self, item: Item) -> Box:
        box = self._boxes.get(item.key)
        if box is None:
            box = self._boxes[item.key] = corroborate_box(item, self._config)
        return box

    def _touches_a_round(self, blob: Sequence[Item], group: _Group) -> bool:
        """Whether an item of the blob meets a round of the episode (the component gate)."""
        rounds = [self._box(r) for r in group.items if r.family in _EXPLOSIVE]
        return any(boxes_intersect(self._box(item), box) for item in blob for box in rounds)

    def add_track(self, group: _Group) -> None:
        self.tracks.setdefault(group.family, []).append(group)

    def candidates(self, summary: Item, blob: Sequence[Item], config: FusionConfig) -> list[_Group]:
        """Episodes and tracks the blob (scored as ``summary``) may join."""
        sx = _K * math.sqrt(max(summary.cov[0], 0.0)) + summary.half_extent_m[0]
        sy = _K * math.sqrt(max(summary.cov[2], 0.0)) + summary.half_extent_m[1]
        found: list[_Group] = []
        if summary.family in CORROBORATING_FAMILIES:
            lo, hi = delay_support(summary, config)
            first = bisect.bisect_left(self.fire_times, lo)
            last = bisect.bisect_right(self.fire_times, hi)
            for group in self.fires[first:last]:
                rx, ry = _reach(group.target)
                near = abs(summary.x - group.target.x) <= rx + sx
                near = near and abs(summary.y - group.target.y) <= ry + sy
                if near and self._touches_a_round(blob, group):
                    found.append(group)
        window = track_window_s(summary.family, config)
        for group in self.tracks.get(summary.family, ()):
            target = group.target
            if window is not None and summary.t_lo - target.t > window:
                continue
            rx, ry = _reach(target)
            if abs(summary.x - target.x) <= rx + sx and abs(summary.y - target.y) <= ry + sy:
                found.append(group)
        return found


@dataclass
class Draft:
    """An associated group of items, before it becomes an event.

    Attributes
    ----------
    items
        Its items.
    kind
        Its kind, or ``None`` to take the members' vote.
    x, y
        Its merged position, metres in the component's frame.
    cov
        Its position covariance, m².
    """

    items: list[Item]
    kind: str | None
    x: float
    y: float
    cov: Cov


def component_frame(items: Sequence[Item]) -> LocalFrame:
    """The metric frame a component is associated in (see :func:`snapped_frame`)."""
    return snapped_frame([i.lon for i in items], [i.lat for i in items])


def _new_track(
    tracks: list[_Group], targets: _Targets, blob: list[Item], config: FusionConfig
) -> None:
    group = _track(blob, config)
    tracks.append(group)
    targets.add_track(group)


def associate(items: Sequence[Item], config: FusionConfig) -> list[Draft]:
    """Associate the items of one component (module docstring, step 2).

    The items' ``x``/``y`` must be set in the component's frame. The result
    depends only on the set of items (they are put in a canonical order first)
    and the configuration.
    """
    ordered = sorted(items, key=lambda i: i.key)
    explosive = [i for i in ordered if i.family in _EXPLOSIVE]
    fires: list[_Group] = []
    for episode in episodes(explosive, config):
        x, y, cov = merge_position(episode)
        kind = explosive_kind(episode)
        target = Target(
            family=EXPLOSIVE_FAMILIES[kind],
            x=x,
            y=y,
            cov=cov,
            t=min(i.t for i in episode),
            capacity=rounds_heard(episode),
            extra_cov=isotropic(episode_margin_m(config, EXPLOSIVE_FAMILIES[kind])),
            corroborated=True,
        )
        fires.append(_Group(kind, list(episode), target))
    scans: dict[tuple[float, float, str, str], list[Item]] = {}
    for item in ordered:
        if item.family not in _EXPLOSIVE:
            scans.setdefault(_scan_key(item), []).append(item)
    tracks: list[_Group] = []
    targets = _Targets(fires, config)
    for key in sorted(scans):
        blobs = _blobs(scans[key], config)
        summaries = [_summary(blob) for blob in blobs]
        columns: list[_Group] = []
        seen: set[int] = set()
        for summary, blob in zip(summaries, blobs, strict=True):
            for group in targets.candidates(summary, blob, config):
                if id(group) not in seen:
                    seen.add(id(group))
                    columns.append(group)
        if not columns:
            for blob in blobs:
                _new_track(tracks, targets, blob, config)
            continue
        llr = [[pair_llr(s, g.target, config) for g in columns] for s in summaries]
        chosen = assign_rows(llr, [g.target.capacity for g in columns])
        for blob, column in zip(blobs, chosen, strict=True):
            if column is None:
                _new_track(tracks, targets, blob, config)
                continue
            columns[column].extend(blob, config)
    drafts = []
    for k, group in enumerate([*fires, *tracks]):
        # a launch is where its rounds left from: fires and craters seen near it
        # corroborate it but are not where it fired (an impact's refine its place)
        launch = k < len(fires) and group.family == "launch"
        located = [i for i in group.items if i.family in _EXPLOSIVE] if launch else []
        x, y, cov = merge_position(located or group.items)
        # an episode's kind is voted by its rounds; a fire's by its hot spots and smoke
        voted = k >= len(fires) and group.family == FIRE_EFFECT
        drafts.append(Draft(group.items, None if voted else group.family, x, y, cov))
    return drafts


def _project(items: Sequence[Item], frame: LocalFrame) -> None:
    xs, ys = frame.to_local([i.lon for i in items], [i.lat for i in items])
    for item, x, y in zip(
        items, np.atleast_1d(xs).tolist(), np.atleast_1d(ys).tolist(), strict=True
    ):
        item.x, item.y = x, y


def _finalise(drafts: Sequence[Draft], frame: LocalFrame, config: FusionConfig) -> list[Event]:
    if not drafts:
        return []
    lons, lats = frame.to_geo([d.x for d in drafts], [d.y for d in drafts])
    knots = config.confidence_map
    return [
        build_event(d.items, d.kind, lon, lat, d.cov, confidence_map=knots)
        for d, lon, lat in zip(
            drafts, np.atleast_1d(lons).tolist(), np.atleast_1d(lats).tolist(), strict=True
        )
    ]


def fuse_component(items: Sequence[Item], config: FusionConfig) -> list[Event]:
    """Events of one component: :func:`associate` in its frame, back to degrees."""
    frame = component_frame(items)
    _project(items, frame)
    return _finalise(associate(items, config), frame, config)


# -- everything ----------------------------------------------------------------------------


def fuse_items(items: Sequence[Item], config: FusionConfig) -> list[Event]:
    """Events of items: component by component, sorted by time then id."""
    by_frame: dict[LocalFrame, list[list[Item]]] = {}
    for c in item_components(items, config):
        component = [items[i] for i in c]
        by_frame.setdefault(component_frame(component), []).append(component)
    # one projection per frame for all its components (the same numbers as one
    # call per component: points are projected independently)
    events: list[Event] = []
    for frame in sorted(by_frame, key=lambda f: (f.lon0, f.lat0)):
        components = by_frame[frame]
        _project([item for component in components for item in component], frame)
        drafts = [d for component in components for d in associate(component, config)]
        events.extend(_finalise(drafts, frame, config))
    events.sort(key=lambda e: (e.time, e.id))
    return events


def locate_arrivals(
    arrivals: Sequence[tuple[str, Observation]], factory: ItemFactory
) -> tuple[list[Item], list[str]]:
    """First level: located-source items of every unit, and the arrivals left unused."""
    config = factory.config
    classes = [arrival_class(obs, factory.family(obs), config) for _, obs in arrivals]
    items: list[Item] = []
    unassociated: list[str] = []
    for unit in ground_units(classes, local_gap_s(config)):
        located, left = locate_unit([arrivals[i] for i in unit], factory)
        items.extend(located)
        unassociated.extend(left)
    return items, unassociated


def fuse(
    observations: Sequence[tuple[str, Observation]],
    sensors: Sequence[Sensor] = (),
    config: FusionConfig | None = None,
) -> FusionResult:
    """Fuse observations into events.

    Parameters
    ----------
    observations
        ``(id, observation)`` pairs (any order; the result does not depend on it).
    sensors
        Sensor descriptions (reliability, clock accuracy, array membership).
    config
        Parameters; defaults to :class:`FusionConfig`.
    """
    config = config or FusionConfig()
    factory = ItemFactory(_by_id(sensors), config)
    prepared = prepare(sorted(observations, key=lambda pair: pair[0]), factory)
    located, unassociated = locate_arrivals(prepared.arrivals, factory)
    events = fuse_items([*prepared.items, *located], config)
    return FusionResult(events, sorted([*prepared.unassociated, *unassociated]))


def _by_id(sensors: Sequence[Sensor]) -> Mapping[str, Sensor]:
    return {s.id: s for s in sensors}
