"""The skeleton's fusion, frozen: the peer of the benchmarks.

This is the baseline fusion truceline shipped before the association engine of
:mod:`truceline.fusion.engine`: explosive episodes by union-find, corroborating
hot spots and craters attached greedily to the first best explosive cluster,
everything else clustered by union-find over a Mahalanobis gate, confidence
counting each sensor once. It is kept verbatim (apart from the adapter to
:func:`truceline.fusion.network.network_sources`) so that
``benchmarks/bench_fusion.py`` can measure the new engine against it on the
same input in one run. Nothing else uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from truceline.fusion.acoustic import UNCLASSIFIED, AcousticDetection, associate_acoustic
from truceline.fusion.confidence import Contribution, event_confidence
from truceline.fusion.config import FusionConfig
from truceline.fusion.network import NetworkSource, network_sources
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

FloatArray = npt.NDArray[np.float64]


@dataclass
class _Item:
    """Something to be fused into an event.

    Attributes
    ----------
    kind
        Activity kind.
    x, y
        Position, metres east/north in the run's frame.
    cov
        2x2 covariance, m².
    t, t_sigma
        Best time (epoch seconds) and its standard deviation, seconds.
    t_lo, t_hi
        Interval bounding the time (epoch seconds); equal to ``t`` for instants.
    members
        Observation indices.
    contributions
        Each member's say in the event's confidence (see :mod:`.confidence`).
    kind_votes
        Confidence-weighted votes for the kind.
    class_votes
        Confidence-weighted votes for the weapon class.
    modalities
        Contributing modalities.
    count
        Largest reported number of objects (equipment).
    """

    kind: str
    x: float
    y: float
    cov: FloatArray
    t: float
    t_sigma: float
    t_lo: float
    t_hi: float
    members: list[int]
    contributions: list[Contribution]
    kind_votes: dict[str, float] = field(default_factory=dict)
    class_votes: dict[str, float] = field(default_factory=dict)
    modalities: set[str] = field(default_factory=set)
    count: int = 1


def mahalanobis2(a: _Item, b: _Item, extra_var_m2: float = 0.0) -> float:
    """Squared Mahalanobis distance between two items' positions."""
    delta = np.array([a.x - b.x, a.y - b.y])
    cov = a.cov + b.cov + np.eye(2) * extra_var_m2
    return float(delta @ np.linalg.solve(cov, delta))


def merge_position(items: Sequence[_Item]) -> tuple[float, float, FloatArray]:
    """Information-weighted mean position, with the members' spread added.

    When the members are repeated measurements of one point, the fused
    covariance is the inverse of the summed information. When they are distinct
    points of one episode (several rounds landing around a target), their scatter
    is part of where the event is, so the sample covariance of the members about
    the mean is added.
    """
    info = np.zeros((2, 2))
    weighted = np.zeros(2)
    for item in items:
        inv = np.linalg.inv(item.cov)
        info += inv
        weighted += inv @ np.array([item.x, item.y])
    fused: FloatArray = np.asarray(np.linalg.inv(info), dtype=np.float64)
    mean = fused @ weighted
    if len(items) > 1:
        points = np.array([[item.x, item.y] for item in items]) - mean
        spread = points.T @ points / len(items)
        fused = np.asarray(fused + spread, dtype=np.float64)
    return float(mean[0]), float(mean[1]), fused


def union_find_clusters(n: int, pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected components of ``range(n)`` under ``pairs``, each sorted, ordered by first."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def isotropic_cov(sigma_m: float) -> FloatArray:
    """Covariance of an isotropic error with standard deviation ``sigma_m``, m²."""
    return np.eye(2) * float(sigma_m) ** 2


def bounds_cov(width_m: float, height_m: float) -> FloatArray:
    """Covariance of a uniform distribution over a ``width_m`` x ``height_m`` box, m²."""
    return np.diag([max(width_m, 1.0) ** 2 / 12.0, max(height_m, 1.0) ** 2 / 12.0])


def vote(votes: dict[str, float], key: str, weight: float) -> None:
    """Add ``weight`` to ``votes[key]``."""
    votes[key] = votes.get(key, 0.0) + weight


def winner(votes: dict[str, float]) -> str:
    """The key with the most weight (ties broken alphabetically)."""
    return min(votes, key=lambda k: (-votes[k], k))


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
    def _point_item(self, index: int) -> _Item | None:
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
        item = _Item(
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

    def acoustic_items(self, indices: Sequence[int]) -> list[_Item]:
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
        located, still = network_sources(self.ids, self.obs, leftover)
        network = [self._network_item(source) for source in located]
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
                _Item(
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

    def _network_item(self, source: NetworkSource) -> _Item:
        x, y = self.frame.point_to_local(source.lon, source.lat)
        votes: dict[str, float] = {}
        contributions = []
        for index in source.members:
            c = _contribution(self.obs[index], self.sensors, self.config)
            if c.classifies:
                vote(votes, c.kind, max(c.confidence * c.reliability, 1e-6))
            contributions.append(c)
        kind = min(votes, key=lambda k: (-votes[k], k)) if votes else "other"
        ee, en, nn = source.cov
        return _Item(
            kind=kind,
            x=x,
            y=y,
            cov=np.array([[ee, en], [en, nn]]),
            t=source.origin_s,
            t_sigma=source.origin_sigma_s,
            t_lo=source.origin_s,
            t_hi=source.origin_s,
            members=list(source.members),
            contributions=contributions,
            kind_votes=votes,
            modalities={self.obs[i].modality for i in source.members},
        )

    # -- clustering ----------------------------------------------------------------
    def cluster(
        self,
        items: list[_Item],
        *,
        window_s: float | None,
        extra_var_m2: float,
        max_distance_m: Callable[[_Item, _Item], float] | None = None,
    ) -> list[list[_Item]]:
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

    def attach(self, targets: list[list[_Item]], candidates: list[_Item]) -> list[_Item]:
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
                anchor = _Item("x", x, y, cov, t, 0.0, t, t, [], [])
                d2 = mahalanobis2(item, anchor, 100.0**2)
                if d2 <= CHI2_2DOF_99 and (best is None or (d2, k) < best):
                    best = (d2, k)
            if best is None:
                leftovers.append(item)
            else:
                targets[best[1]].append(item)
        return leftovers

    # -- events --------------------------------------------------------------------
    def event(self, group: Sequence[_Item], kind: str | None = None) -> Event:
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


def _explosive_kind(group: Sequence[_Item]) -> str:
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
    explosive: dict[str, list[_Item]] = {}
    corroborating: list[_Item] = []
    craters: list[_Item] = []
    by_kind: dict[str, list[_Item]] = {}
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

    def episode_gate(a: _Item, b: _Item) -> float:
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
    clusters: list[tuple[list[_Item], str]] = []
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
