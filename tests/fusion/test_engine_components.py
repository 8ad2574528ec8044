"""Component decomposition: fusing everything equals fusing each component alone."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.fusion import FusionConfig, fuse
from truceline.fusion.acoustic import UNCLASSIFIED
from truceline.fusion.attribute import annotate_roles
from truceline.fusion.components import (
    BoxGrid,
    IncrementalComponents,
    box_links,
    box_pairs,
    boxes_intersect,
    components_from_pairs,
)
from truceline.fusion.engine import fuse_component, item_components, prepare
from truceline.fusion.gates import ArrivalClass, arrivals_interact, ground_units, trajectory_groups
from truceline.fusion.sources import ItemFactory
from truceline.model import (
    BearingLocation,
    Event,
    FootprintLocation,
    LocalFrame,
    Observation,
    PointLocation,
)
from truceline.model.timeutil import from_epoch

T0 = datetime(2026, 11, 2, tzinfo=UTC)
FRAME = LocalFrame(37.5, 48.0)


def _brute_components(n: int, connected: Callable[[int, int], bool]) -> set[frozenset[int]]:
    pairs = np.array(
        [(i, j) for i, j in itertools.combinations(range(n), 2) if connected(i, j)],
        dtype=np.int64,
    ).reshape(-1, 2)
    return {frozenset(c) for c in components_from_pairs(n, pairs)}


_coord = st.floats(-1.0, 1.0, allow_nan=False)
_size = st.floats(0.0, 0.3, allow_nan=False)


@st.composite
def _boxes(draw: st.DrawFn, unbounded: bool = False) -> list[tuple[float, ...]]:
    n = draw(st.integers(0, 25))
    boxes = []
    for _ in range(n):
        x, y, w, h = draw(_coord), draw(_coord), draw(_size), draw(_size)
        if unbounded:
            t0, t1 = -math.inf, math.inf
        else:
            t0 = draw(st.floats(0.0, 1e4, allow_nan=False))
            t1 = t0 + draw(st.floats(0.0, 3e3, allow_nan=False))
        boxes.append((x, x + w, y, y + h, t0, t1))
    return boxes


@given(_boxes(), _boxes())
@settings(max_examples=80, deadline=None)
def test_box_pairs_finds_every_intersecting_pair(a: list, b: list) -> None:
    expected = {(i, j) for i, p in enumerate(a) for j, q in enumerate(b) if boxes_intersect(p, q)}
    found = box_pairs(
        np.array(a, dtype=float).reshape(-1, 6), np.array(b, dtype=float).reshape(-1, 6)
    )
    assert {tuple(p) for p in found.tolist()} == expected
    within = {
        (i, j) for i, j in itertools.combinations(range(len(a)), 2) if boxes_intersect(a[i], a[j])
    }
    assert {tuple(p) for p in box_pairs(np.array(a, dtype=float).reshape(-1, 6)).tolist()} == within


@given(_boxes(unbounded=True))
@settings(max_examples=30, deadline=None)
def test_box_pairs_without_time_bounds(a: list) -> None:
    within = {
        (i, j) for i, j in itertools.combinations(range(len(a)), 2) if boxes_intersect(a[i], a[j])
    }
    assert {tuple(p) for p in box_pairs(np.array(a, dtype=float).reshape(-1, 6)).tolist()} == within


@given(_boxes(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_incremental_components_equal_batch_ones(boxes: list, rng: random.Random) -> None:
    """Insert boxes one by one (and remove some) in any order: same components as batch."""
    grid: BoxGrid[int] = BoxGrid(cell_deg=0.2, cell_s=500.0)

    def neighbours(key: int) -> set[int]:
        return grid.query(boxes[key]) - {key}

    live: IncrementalComponents[int] = IncrementalComponents(neighbours)
    order = list(range(len(boxes)))
    rng.shuffle(order)
    present: set[int] = set()
    while order:
        batch = [order.pop() for _ in range(min(len(order), rng.choice([1, 1, 3])))]
        gone = rng.sample(sorted(present), k=min(len(present), rng.choice([0, 0, 1])))
        for key in gone:
            grid.remove(key)
            present.discard(key)
        for key in batch:
            grid.add(key, boxes[key])
            present.add(key)
        live.update(gone, batch)
    keys = sorted(present)
    expected = _brute_components(
        len(keys), lambda i, j: boxes_intersect(boxes[keys[i]], boxes[keys[j]])
    )
    expected_keys = {frozenset(keys[i] for i in c) for c in expected}
    assert {frozenset(c) for c in live.components()} == expected_keys


@st.composite
def _arrivals(draw: st.DrawFn) -> list[ArrivalClass]:
    n = draw(st.integers(0, 30))
    families = ["impact", "launch", UNCLASSIFIED, ""]
    out = []
    for _ in range(n):
        family = draw(st.sampled_from(families))
        regional = family != "" and draw(st.booleans())
        reach = draw(st.floats(50.0, 3000.0)) if (regional or family == "") else 99.0
        out.append(ArrivalClass(draw(st.floats(0.0, 20_000.0)), family, regional, reach))
    return out


@given(_arrivals())
@settings(max_examples=150, deadline=None)
def test_ground_units_are_the_components_of_the_arrival_relation(arrivals: list) -> None:
    expected = _brute_components(
        len(arrivals), lambda i, j: arrivals_interact(arrivals[i], arrivals[j], 99.0)
    )
    assert {frozenset(u) for u in ground_units(arrivals, 99.0)} == expected


def _scene(seed: int) -> list[Observation]:
    """Points and footprints of several kinds scattered over 60 km and two days."""
    rng = np.random.default_rng(seed)
    observations = []
    kinds = [
        ("acoustic:net", "acoustic", "explosion", 150.0),
        ("acoustic:net", "acoustic", "launch", 200.0),
        ("firms:VIIRS:N", "satellite", "thermal_anomaly", 180.0),
        ("drone:UAV-1", "drone", "equipment", 12.0),
        ("drone:UAV-1", "drone", "crater", 8.0),
        ("report:monitor", "report", "military_presence", 50.0),
    ]
    centres = [(rng.uniform(-30e3, 30e3), rng.uniform(-30e3, 30e3)) for _ in range(8)]
    for _ in range(120):
        cx, cy = centres[int(rng.integers(len(centres)))]
        sensor, modality, kind, sigma = kinds[int(rng.integers(len(kinds)))]
        x, y = cx + rng.normal(0, 600), cy + rng.normal(0, 600)
        lon, lat = FRAME.point_to_geo(x, y)
        t = T0 + timedelta(seconds=float(rng.uniform(0, 2 * 86_400)))
        if kind == "thermal_anomaly":  # overpass times
            t = T0 + timedelta(hours=float(12 * int(rng.integers(4))))
        observations.append(
            Observation(sensor, modality, kind, t, PointLocation.isotropic(lon, lat, sigma),
                        attributes={"confidence": float(rng.uniform(0.5, 1.0))})
        )  # fmt: skip
    for _ in range(10):  # crater polygons between two SAR images
        cx, cy = centres[int(rng.integers(len(centres)))]
        x, y = cx + rng.normal(0, 400), cy + rng.normal(0, 400)
        ring = [
            FRAME.point_to_geo(x + dx, y + dy)
            for dx, dy in ((0, 0), (15, 0), (15, 15), (0, 15), (0, 0))
        ]
        start = T0 - timedelta(days=float(rng.uniform(0, 6)))
        observations.append(
            Observation("sentinel-1a:pwtt:R043", "satellite", "crater", start,
                        FootprintLocation(tuple(ring)), time_end=start + timedelta(days=12))
        )  # fmt: skip
    return observations


def test_fusing_all_equals_the_union_of_fusing_each_component() -> None:
    config = FusionConfig()
    observations = _scene(3)
    pairs = sorted(((o.id, o) for o in observations), key=lambda p: p[0])
    everything = fuse(pairs, config=config)
    items = prepare(pairs, ItemFactory({}, config)).items
    components = item_components(items, config)
    assert 3 < len(components) < len(items)  # a real decomposition, not one blob nor singletons
    union = [e for c in components for e in fuse_component([items[i] for i in c], config)]
    union.sort(key=lambda e: (e.time, e.id))
    assert [e.to_record() for e in union] == [e.to_record() for e in everything.events]
    # and each component's observations fused on their own give its events exactly
    for component in components:
        members = {oid for i in component for oid in items[i].members}
        alone = fuse([p for p in pairs if p[0] in members], config=config)
        expected = [e for e in everything.events if set(e.members) <= members]
        assert [e.to_record() for e in alone.events] == [e.to_record() for e in expected]


def test_components_are_independent_of_input_order() -> None:
    config = FusionConfig()
    observations = _scene(4)
    first = fuse([(o.id, o) for o in observations], config=config)
    random.Random(1).shuffle(observations)
    second = fuse([(o.id, o) for o in observations], config=config)
    assert [e.to_record() for e in first.events] == [e.to_record() for e in second.events]


def test_bearings_far_apart_in_time_are_located_alone() -> None:
    """Two shellings an hour apart: each unit of arrivals gives the same sources alone."""
    stations = [(-8e3, -6e3), (9e3, -5e3), (0.0, 10e3), (-9e3, 7e3)]
    c = FusionConfig().sound_speed_mps
    observations = []
    for origin, (sx, sy) in ((1000.0, (500.0, 800.0)), (4600.0, (-2000.0, 1500.0))):
        for k, (x, y) in enumerate(stations):
            r = math.hypot(sx - x, sy - y)
            azimuth = math.degrees(math.atan2(sx - x, sy - y)) % 360
            lon, lat = FRAME.point_to_geo(x, y)
            observations.append(
                Observation(f"acoustic:S{k}", "acoustic", "explosion",
                            from_epoch(T0.timestamp() + origin + r / c),
                            BearingLocation(lon, lat, azimuth, 2.0, 25_000.0),
                            time_sigma_s=0.1, attributes={"confidence": 0.9})
            )  # fmt: skip
    pairs = [(o.id, o) for o in observations]
    both = fuse(pairs)
    assert len(both.events) == 2
    first = fuse(pairs[:4])
    second = fuse(pairs[4:])
    assert [e.to_record() for e in both.events] == [
        e.to_record() for e in [*first.events, *second.events]
    ]


def _fire_event(kind: str, x: float, y: float, t: float, sigma_m: float, sigma_t: float) -> Event:
    lon, lat = FRAME.point_to_geo(x, y)
    when = from_epoch(T0.timestamp() + t)
    return Event(
        kind=kind, time=when, time_sigma_s=sigma_t, time_start=when, time_end=when,
        lon=round(lon, 7), lat=round(lat, 7), cov_ee=sigma_m**2, cov_en=0.0, cov_nn=sigma_m**2,
        members=(f"{kind}-{x:.0f}-{y:.0f}-{t:.0f}",), sensors=("s1", "s2"),
        modalities=("acoustic",), independent_sources=2, confidence=0.9,
        attributes={"kind_scores": {kind: 1.0}},
    )  # fmt: skip


@given(st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_trajectory_groups_pair_as_all_events_together(seed: int) -> None:
    """Roles per trajectory group equal roles over all events (the groups hold every pair)."""
    rng = np.random.default_rng(seed)
    events = [
        _fire_event(
            str(rng.choice(["launch", "impact", "explosion"])),
            float(rng.uniform(-40e3, 40e3)),
            float(rng.uniform(-40e3, 40e3)),
            float(rng.uniform(0, 3_000)),
            float(rng.choice([30.0, 300.0, 3_000.0])),
            float(rng.choice([0.1, 2.0, 30.0])),
        )
        for _ in range(int(rng.integers(2, 30)))
    ]
    together = {e.id: e for e in annotate_roles(events, [])}
    groups = trajectory_groups(events)
    assert sum(len(g) for g in groups) == len(events)
    apart = {e.id: e for g in groups for e in annotate_roles([events[i] for i in g], [])}
    assert together == apart


@given(st.integers(0, 10_000), st.booleans())
@settings(max_examples=40, deadline=None)
def test_box_links_span_the_same_components_as_every_pair(seed: int, unbounded: bool) -> None:
    """Crowded cells (hundreds of boxes around a few spots) are linked by cliques."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-1.0, 1.0, size=(int(rng.integers(1, 6)), 2))
    n = int(rng.integers(50, 400))
    pick = centres[rng.integers(len(centres), size=n)]
    xy = pick + rng.normal(0.0, rng.choice([0.001, 0.01, 0.05]), size=(n, 2))
    half = rng.uniform(0.0, 0.02, size=(n, 2))
    t0 = rng.uniform(0.0, 5e4, size=n)
    t1 = t0 + rng.uniform(0.0, 2e4, size=n)
    if unbounded:
        t0, t1 = np.full(n, -math.inf), np.full(n, math.inf)
    boxes = np.column_stack(
        [
            xy[:, 0] - half[:, 0],
            xy[:, 0] + half[:, 0],
            xy[:, 1] - half[:, 1],
            xy[:, 1] + half[:, 1],
            t0,
            t1,
        ]
    )
    links = box_links(boxes)
    ba, bb = boxes[links[:, 0]], boxes[links[:, 1]]
    assert all(boxes_intersect(tuple(p), tuple(q)) for p, q in zip(ba, bb, strict=True))
    every = box_pairs(boxes)
    assert {frozenset(c) for c in components_from_pairs(n, links)} == {
        frozenset(c) for c in components_from_pairs(n, every)
    }


def test_box_links_of_a_crowded_spot_grow_linearly() -> None:
    rng = np.random.default_rng(0)
    xy = rng.normal(0.0, 0.0005, size=(400, 2))
    boxes = np.column_stack(
        [xy[:, 0] - 0.002, xy[:, 0] + 0.002, xy[:, 1] - 0.002, xy[:, 1] + 0.002,
         np.full(400, -math.inf), np.full(400, math.inf)]
    )  # fmt: skip
    assert len(box_pairs(boxes)) > 50_000  # nearly every pair meets
    links = box_links(boxes)
    assert len(links) < 1_000
    assert components_from_pairs(400, links) == [list(range(400))]
