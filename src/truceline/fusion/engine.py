"""Baseline fusion: observations of every modality into events.

Stages, each deterministic:

1. **Acoustic location** — bearing detections from ground sensors are associated
   and located (:mod:`.acoustic`); the located sources become items.
2. **Explosive episodes** — located explosions, impacts, launches and gunfire of the
   same family closer than ``episode_distance_m`` and ``episode_window_s`` merge
   into one event (several rounds of one shelling are one violation).
3. **Corroboration** — satellite hot spots and smoke seen up to
   ``thermal_delay_max_s`` after an explosive event, and craters whose time
   interval contains it, join the event when they pass the Mahalanobis gate.
4. **Other clusters** — remaining hot spots, equipment sightings (static
   positions, any time), military presence and other kinds cluster by gate.

Each event carries its fused position and covariance, time window, members,
contributing sensors and modalities, the number of independent sources and
the noisy-OR confidence of :mod:`.confidence`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from truceline.fusion.acoustic import UNCLASSIFIED, AcousticDetection, associate_acoustic
from truceline.fusion.confidence import Contribution, event_confidence
from truceline.fusion.config import FusionConfig
from truceline.fusion.items import (
    Item,
    bounds_cov,
    isotropic_cov,
    mahalanobis2,
    merge_position,
    union_find_clusters,
    vote,
    winner,
)
from truceline.fusion.network import network_items
from truceline.model.event import Event
from truceline.model.geo import WGS84_GEOD, LocalFrame
from truceline.model.location import (
    BearingLocation,
    FootprintLocation,
    PointLocation,
    StationLocation,
)
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.model.timeutil import from_epoch

__all__ = ["FusionResult", "fuse"]

EXPLOSIVE_FAMILIES: Mapping[str, str] = {
    "explosion": "impact",
    "impact": "impact",
    "launch": "launch",
    "gunfire": "gunfire",
}
EXPLOSIVE_KINDS = frozenset(EXPLOSIVE_FAMILIES)
CORROBORATING = frozenset({"thermal_anomaly", "smoke"})
ACOUSTIC_MODALITIES = frozenset({"acoustic", "infrasound", "seismic"})
CHI2_2DOF_99 = 9.21


class FusionResult:
    """Events plus the observations no event could use.

    Attributes
    ----------
    events
        Fused events sorted by time then id.
    unassociated
        Ids of observations that support no event (e.g. single-station detections).
    frame
        The metric frame used.
    """

    def __init__(self, events: list[Event], unassociated: list[str], frame: LocalFrame) -> None:
        self.events = events
        self.unassociated = unassociated
        self.frame = frame


def _unclassified(obs: Observation) -> bool:
    """An array beam: a direction and a time, no opinion on what made the sound."""
    return obs.kind == "other" and obs.attributes.get("label") == "array_detection"


def _family(obs: Observation) -> str:
    if _unclassified(obs):
        return UNCLASSIFIED
    return EXPLOSIVE_FAMILIES.get(obs.kind, obs.kind)


def _contribution(
    obs: Observation, sensors: Mapping[str, Sensor], config: FusionConfig
) -> Contribution:
    sensor = sensors.get(obs.sensor_id)
    reliability = sensor.reliability if sensor is not None else config.default_reliability
    raw = obs.attributes.get("confidence", 1.0)
    confidence = float(raw) if isinstance(raw, int | float) else 1.0
    return Contribution(
        sensor=obs.sensor_id,
        kind=obs.kind,
        confidence=min(max(confidence, 0.0), 1.0),
        reliability=reliability,
        classifies=obs.kind not in CORROBORATING
        and obs.kind != "crater"
        and not _unclassified(obs),
    )


def _timing_sigma(obs: Observation, sensors: Mapping[str, Sensor]) -> float:
    sensor = sensors.get(obs.sensor_id)
    clock = sensor.timing_sigma_s if sensor is not None else 0.0
    return max(math.hypot(obs.time_sigma_s, clock), 0.05)


class _Builder:
    def __init__(
        self,
        observations: Sequence[tuple[str, Observation]],
        sensors: Mapping[str, Sensor],
        config: FusionConfig,
    ) -> None:
        self.ids = [oid for oid, _ in observations]
        self.obs = [obs for _, obs in observations]
        self.sensors = sensors
        self.config = config
        centres = [obs.centre for obs in self.obs]
        self.frame = LocalFrame.around([c[0] for c in centres], [c[1] for c in centres])
        xs, ys = self.frame.to_local([c[0] for c in centres], [c[1] for c in centres])
        self.xy = np.column_stack([np.atleast_1d(xs), np.atleast_1d(ys)])
        self.unassociated: list[int] = []

    # -- items ---------------------------------------------------------------------
    def _point_item(self, index: int) -> Item | None:
        obs = self.obs[index]
        loc = obs.location
        x, y = float(self.xy[index, 0]), float(self.xy[index, 1])
        if isinstance(loc, PointLocation):
            cov = np.array([[loc.cov_ee, loc.cov_en], [loc.cov_en, loc.cov_nn]])
            cov = cov + isotropic_cov(1.0)
        elif isinstance(loc, FootprintLocation):
            lons, lats = zip(*loc.exterior, strict=True)
            px, py = self.frame.to_local(list(lons), list(lats))
            cov = bounds_cov(float(np.ptp(px)), float(np.ptp(py)))
        else:
            return None
        t = obs.time.timestamp()
        t_hi = t if obs.time_end is None else obs.time_end.timestamp()
        contribution = _contribution(obs, self.sensors, self.config)
        p = contribution.confidence * contribution.reliability
        item = Item(
            kind=obs.kind,
            x=x,
            y=y,
            cov=cov,
            t=t,
            t_sigma=_timing_sigma(obs, self.sensors),
            t_lo=t,
            t_hi=t_hi,
            members=[index],
            contributions=[contribution],
            modalities={obs.modality},
        )
        vote(item.kind_votes, obs.kind, max(p, 1e-6))
        weapon = obs.attributes.get("weapon_class")
        if isinstance(weapon, str):
            vote(item.class_votes, weapon, max(p, 1e-6))
        count = obs.attributes.get("count")
        if isinstance(count, int):
            item.count = count
        return item

    def grid_north_rad(self, index: int) -> float:
        """Angle from grid north to true north at an observation's position, radians.

        Azimuths are measured from true north; the local frame's grid north
        departs from it away from the frame's centre (meridian convergence,
        about a degree 100 km east or west at these latitudes — 175 m of error
        at 10 km range if ignored). Adding this angle turns a true azimuth into
        a grid azimuth.
        """
        lon, lat = self.obs[index].centre
        north_lon, north_lat, _ = WGS84_GEOD.fwd(lon, lat, 0.0, 1_000.0)
        x0, y0 = float(self.xy[index, 0]), float(self.xy[index, 1])
        x1, y1 = self.frame.point_to_local(north_lon, north_lat)
        return math.atan2(x1 - x0, y1 - y0)

    def acoustic_items(self, indices: Sequence[int]) -> list[Item]:
        detections = []
        for index in indices:
            loc = self.obs[index].location
            if not isinstance(loc, BearingLocation):
                continue
            detections.append(
                AcousticDetection(
                    index=index,
                    station=self.obs[index].sensor_id,
                    x=float(self.xy[index, 0]),
                    y=float(self.xy[index, 1]),
                    azimuth_rad=math.radians(loc.azimuth_deg) + self.grid_north_rad(index),
                    azimuth_sigma_rad=math.radians(loc.azimuth_sigma_deg),
                    time_s=self.obs[index].time.timestamp(),
                    time_sigma_s=_timing_sigma(self.obs[index], self.sensors),
                    max_range_m=min(loc.max_range_m, self.config.acoustic_max_range_m),
                    family=_family(self.obs[index]),
                )
            )
        sources, unassociated = associate_acoustic(detections, self.config)
        leftover = sorted(set(unassociated) | (set(indices) - {d.index for d in detections}))
        network, still = network_items(
            self.ids,
            self.obs,
            leftover,
            self.frame,
            lambda o: _contribution(o, self.sensors, self.config),
        )
        self.unassociated.extend(still)
        items = []
        for source in sources:
            votes: dict[str, float] = {}
            contributions = []
            for member in source.members:
                obs = self.obs[member]
                contribution = _contribution(obs, self.sensors, self.config)
                if contribution.classifies:
                    weight = contribution.confidence * contribution.reliability
                    vote(votes, obs.kind, max(weight, 1e-6))
                contributions.append(contribution)
            kind = winner(votes) if votes else "other"
            cov = np.array([[source.cov[0], source.cov[1]], [source.cov[1], source.cov[2]]])
            items.append(
                Item(
                    kind=kind,
                    x=source.x,
                    y=source.y,
                    cov=cov,
                    t=source.origin_s,
                    t_sigma=source.origin_sigma_s,
                    t_lo=source.origin_s,
                    t_hi=source.origin_s,
                    members=list(source.members),
                    contributions=contributions,
                    kind_votes=votes,
                    modalities={self.obs[m].modality for m in source.members},
                )
            )
        return items + network

    # -- clustering ----------------------------------------------------------------
    def cluster(
        self,
        items: list[Item],
        *,
        window_s: float | None,
        extra_var_m2: float,
        max_distance_m: Callable[[Item, Item], float] | None = None,
    ) -> list[list[Item]]:
        order = sorted(range(len(items)), key=lambda i: (items[i].t, items[i].members))
        ordered = [items[i] for i in order]
        pairs = []
        for i, a in enumerate(ordered):
            for j in range(i + 1, len(ordered)):
                b = ordered[j]
                if window_s is not None and b.t_lo - a.t_hi > window_s:
                    break
                distance = math.hypot(a.x - b.x, a.y - b.y)
                if max_distance_m is not None:
                    if distance <= max_distance_m(a, b):
                        pairs.append((i, j))
                elif mahalanobis2(a, b, extra_var_m2) <= CHI2_2DOF_99:
                    pairs.append((i, j))
        return [[ordered[i] for i in group] for group in union_find_clusters(len(ordered), pairs)]

    def attach(self, targets: list[list[Item]], candidates: list[Item]) -> list[Item]:
        """Attach corroborating items to explosive clusters; return the leftovers."""
        leftovers = []
        anchors = [(*merge_position(group), min(i.t for i in group)) for group in targets]
        for item in candidates:
            best: tuple[float, int] | None = None
            for k, (x, y, cov, t) in enumerate(anchors):
                if item.kind == "crater":
                    if not item.t_lo - 600.0 <= t <= item.t_hi + 600.0:
                        continue
                elif not -600.0 <= item.t - t <= self.config.thermal_delay_max_s:
                    continue
                anchor = Item("x", x, y, cov, t, 0.0, t, t, [], [])
                d2 = mahalanobis2(item, anchor, 100.0**2)
                if d2 <= CHI2_2DOF_99 and (best is None or (d2, k) < best):
                    best = (d2, k)
            if best is None:
                leftovers.append(item)
            else:
                targets[best[1]].append(item)
        return leftovers

    # -- events --------------------------------------------------------------------
    def event(self, group: Sequence[Item], kind: str | None = None) -> Event:
        x, y, cov = merge_position(group)
        lon, lat = self.frame.point_to_geo(x, y)
        votes: dict[str, float] = {}
        classes: dict[str, float] = {}
        for item in group:
            for key, weight in sorted(item.kind_votes.items()):
                vote(votes, key, weight)
            for key, weight in sorted(item.class_votes.items()):
                vote(classes, key, weight)
        if kind is None:
            kind = winner(votes)
        # Instants (an acoustic origin, a satellite overpass) date the event;
        # intervals (a crater found between two drone passes) only bound it.
        # An explosive event's window is that of its explosive members: a hot spot
        # seen hours later corroborates the event but does not lengthen it.
        primary = [i for i in group if i.kind in EXPLOSIVE_FAMILIES] or list(group)
        instants = [i for i in primary if i.t_hi - i.t_lo <= 1.0] or list(primary)
        first = min(instants, key=lambda i: (i.t, i.members))
        if first.t_hi - first.t_lo > 1.0:
            lo = max(i.t_lo for i in group)
            hi = min(i.t_hi for i in group)
            if hi < lo:
                lo, hi = min(i.t_lo for i in group), max(i.t_hi for i in group)
            t_best, t_sigma = (lo + hi) / 2.0, (hi - lo) / math.sqrt(12.0)
        else:
            t_best, t_sigma = first.t, first.t_sigma
        t_start = min(i.t_lo for i in instants)
        t_end = max(i.t_hi for i in instants)
        members = sorted({self.ids[m] for item in group for m in item.members})
        sensors = sorted({self.obs[m].sensor_id for item in group for m in item.members})
        modalities = sorted({m for item in group for m in item.modalities})
        kinds = EXPLOSIVE_KINDS if kind in EXPLOSIVE_FAMILIES else frozenset({kind})
        confidence, p_real, p_kind, independent = event_confidence(
            (c for item in group for c in item.contributions), kinds
        )
        total = sum(votes.values()) or 1.0
        attributes: dict[str, object] = {
            "n_observations": len(members),
            "p_real": p_real,
            "p_kind": p_kind,
            "kind_scores": {k: round(v / total, 6) for k, v in sorted(votes.items())},
        }
        if classes:
            class_total = sum(classes.values())
            attributes["weapon_class"] = winner(classes)
            attributes["weapon_class_scores"] = {
                c: round(v / class_total, 6) for c, v in sorted(classes.items())
            }
        if kind == "equipment":
            attributes["count"] = max(item.count for item in group)
        return Event(
            kind=kind,
            time=from_epoch(round(t_best, 3)),
            time_sigma_s=round(t_sigma, 6),
            time_start=from_epoch(round(t_start, 3)),
            time_end=from_epoch(round(t_end, 3)),
            lon=round(lon, 7),
            lat=round(lat, 7),
            cov_ee=round(float(cov[0, 0]), 3),
            cov_en=round(float(cov[0, 1]), 3),
            cov_nn=round(float(cov[1, 1]), 3),
            members=tuple(members),
            sensors=tuple(sensors),
            modalities=tuple(modalities),
            independent_sources=independent,
            confidence=round(confidence, 6),
            attributes=attributes,
        )


def _explosive_kind(group: Sequence[Item]) -> str:
    """Kind of an explosive episode, voted by its explosive members only."""
    votes: dict[str, float] = {}
    for item in group:
        for key, weight in sorted(item.kind_votes.items()):
            if key in EXPLOSIVE_FAMILIES:
                vote(votes, key, weight)
    return winner(votes)


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
        Sensor descriptions (reliability, clock accuracy).
    config
        Parameters; defaults to :class:`FusionConfig`.
    """
    config = config or FusionConfig()
    ordered = sorted(observations, key=lambda pair: pair[0])
    if not ordered:
        return FusionResult([], [], LocalFrame(0.0, 0.0))
    builder = _Builder(ordered, {s.id: s for s in sensors}, config)
    acoustic_indices = []
    explosive: dict[str, list[Item]] = {}
    corroborating: list[Item] = []
    craters: list[Item] = []
    by_kind: dict[str, list[Item]] = {}
    for index, obs in enumerate(builder.obs):
        if isinstance(obs.location, BearingLocation | StationLocation):
            if obs.modality in ACOUSTIC_MODALITIES:
                acoustic_indices.append(index)
            else:
                builder.unassociated.append(index)
            continue
        item = builder._point_item(index)
        if item is None:
            builder.unassociated.append(index)
        elif obs.kind in EXPLOSIVE_FAMILIES:
            explosive.setdefault(EXPLOSIVE_FAMILIES[obs.kind], []).append(item)
        elif obs.kind in CORROBORATING:
            corroborating.append(item)
        elif obs.kind == "crater":
            craters.append(item)
        else:
            by_kind.setdefault(obs.kind, []).append(item)
    for item in builder.acoustic_items(acoustic_indices):
        if item.kind in EXPLOSIVE_FAMILIES:
            explosive.setdefault(EXPLOSIVE_FAMILIES[item.kind], []).append(item)
        else:
            by_kind.setdefault(item.kind, []).append(item)

    def episode_gate(a: Item, b: Item) -> float:
        same = EXPLOSIVE_FAMILIES.get(a.kind) == EXPLOSIVE_FAMILIES.get(b.kind)
        return config.episode_distance_m if same else config.colocated_distance_m

    explosive_groups = builder.cluster(
        [item for family in sorted(explosive) for item in explosive[family]],
        window_s=config.episode_window_s,
        extra_var_m2=0.0,
        max_distance_m=episode_gate,
    )
    corroborating = builder.attach(explosive_groups, corroborating)
    craters = builder.attach(explosive_groups, craters)

    events = [builder.event(group, _explosive_kind(group)) for group in explosive_groups]
    clusters: list[tuple[list[Item], str]] = []
    for group in builder.cluster(
        corroborating, window_s=config.thermal_cluster_window_s, extra_var_m2=0.0
    ):
        clusters.append((group, "thermal_anomaly"))
    for group in builder.cluster(craters, window_s=None, extra_var_m2=25.0**2):
        clusters.append((group, "crater"))
    motion = config.equipment_motion_sigma_m**2
    for kind in sorted(by_kind):
        window = None if kind in {"equipment", "military_presence"} else 86_400.0
        for group in builder.cluster(by_kind[kind], window_s=window, extra_var_m2=motion):
            clusters.append((group, kind))
    events.extend(
        builder.event(group, None if kind == "thermal_anomaly" else kind)
        for group, kind in clusters
    )
    events.sort(key=lambda e: (e.time, e.id))
    unassociated = sorted(builder.ids[i] for i in builder.unassociated)
    return FusionResult(events, unassociated, builder.frame)
