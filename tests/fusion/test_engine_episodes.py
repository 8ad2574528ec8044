"""Explosive episodes: what is one shelling, and what it may take from one look."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from truceline.fusion import FusionConfig, fuse
from truceline.fusion.assign import family_of, is_diffuse
from truceline.fusion.confidence import Contribution
from truceline.fusion.engine import (
    fuse_component,
    fuse_items,
    item_components,
    prepare,
    rounds_heard,
)
from truceline.fusion.items import Item, isotropic
from truceline.fusion.sources import ItemFactory
from truceline.model import FootprintLocation, LocalFrame, Observation, PointLocation

T0 = datetime(2026, 11, 2, 6, tzinfo=UTC)
FRAME = LocalFrame(37.5, 48.0)


def _point(
    sensor: str, kind: str, east_m: float, t: datetime, sigma_m: float = 80.0
) -> Observation:
    lon, lat = FRAME.point_to_geo(east_m, 0.0)
    modality = sensor.split(":")[0]
    return Observation(
        sensor, modality, kind, t, PointLocation.isotropic(lon, lat, sigma_m),
        attributes={"confidence": 0.85},
    )  # fmt: skip


def _item(key: str, kind: str, east_m: float, t: float, sensors: list[str], sigma_m: float) -> Item:
    lon, lat = FRAME.point_to_geo(east_m, 0.0)
    modality = "drone" if kind == "crater" else "acoustic"
    return Item(
        key=key, kind=kind, family=family_of(kind), lon=lon, lat=lat, cov=isotropic(sigma_m),
        t=t, t_sigma=1.0, t_lo=t, t_hi=t,
        members=tuple(f"{key}/{k}" for k in range(len(sensors))),
        contributions=tuple(Contribution(s, kind, 0.9, 0.8) for s in sensors),
        modalities=frozenset({modality}),
        scan=("drone:UAV-5", t, t) if kind == "crater" else None,
        kind_votes={kind: 0.72},
    )  # fmt: skip


def _shelled_spot(arrivals: list[str]) -> tuple[list[Item], list[str]]:
    """One located impact with the given station arrivals; three craters in one frame."""
    t0 = T0.timestamp()
    impact = _item("src:a", "impact", 0.0, t0, arrivals, 120.0)
    frame_t = t0 + 4 * 3600.0
    craters = [
        _item(f"c{k}", "crater", east, frame_t, ["drone:UAV-5"], 15.0)
        for k, east in enumerate((-60.0, 0.0, 70.0))
    ]
    return [impact, *craters], [c.key for c in craters]


def test_an_episode_takes_a_crater_per_round_its_stations_heard() -> None:
    # three rounds fired seconds apart were located as one source: station A
    # heard all three, so the shelling left (at least) three craters
    items, craters = _shelled_spot(["acoustic:A", "acoustic:A", "acoustic:A", "acoustic:B"])
    assert rounds_heard(items[:1]) == 3
    events = fuse_items(items, FusionConfig())
    assert len(events) == 1
    assert set(events[0].members) >= {f"{c}/0" for c in craters}
    # one round heard once per station: one crater per frame joins it, the others
    # are craters of their own (one frame shows an object once)
    items, _ = _shelled_spot(["acoustic:A", "acoustic:B", "acoustic:C"])
    assert rounds_heard(items[:1]) == 1
    assert sorted(len(e.members) for e in fuse_items(items, FusionConfig())) == [1, 1, 4]


def _change(east_m: float, half_m: float, start: datetime, end: datetime) -> Observation:
    corners = [(-half_m, -half_m), (half_m, -half_m), (half_m, half_m), (-half_m, half_m)]
    footprint = FootprintLocation(
        tuple(FRAME.point_to_geo(east_m + dx, dy) for dx, dy in [*corners, corners[0]])
    )
    return Observation(
        "sentinel-2b:dnbr", "satellite", "surface_change", start, footprint, time_end=end,
        attributes={"confidence": 1.0},
    )  # fmt: skip


def test_a_ground_change_around_a_shelling_corroborates_it() -> None:
    blast = _point("acoustic:net", "impact", 0.0, T0)
    marks = _change(30.0, 40.0, T0 - timedelta(days=3), T0 + timedelta(days=4))
    before = _change(-20.0, 40.0, T0 - timedelta(days=12), T0 - timedelta(days=5))
    result = fuse([(o.id, o) for o in (blast, marks, before)])
    impact = next(e for e in result.events if e.kind == "impact")
    assert marks.id in impact.members  # changed while the shells fell, where they fell
    assert before.id not in impact.members  # changed before: something else
    assert "satellite" in impact.modalities


def test_counter_battery_fire_on_a_gun_is_not_the_guns_own_episode() -> None:
    # a battery fires three rounds; eight minutes later shells land on it
    launches = [
        _point("acoustic:net", "launch", 0.0, T0 + timedelta(seconds=30 * k)) for k in range(3)
    ]
    answer = T0 + timedelta(minutes=9)
    impacts = [
        _point("acoustic:net", "impact", 120.0, answer + timedelta(seconds=20 * k))
        for k in range(3)
    ]
    events = fuse([(o.id, o) for o in (*launches, *impacts)]).events
    assert sorted(e.kind for e in events) == ["impact", "launch"]
    # a classifier that calls some rounds of one firing "explosion" still gives one event
    mixed = [
        _point(
            "acoustic:net",
            "launch" if k % 2 else "explosion",
            30.0 * k,
            T0 + timedelta(seconds=40 * k),
        )
        for k in range(5)
    ]
    assert len(fuse([(o.id, o) for o in mixed]).events) == 1


def test_a_silence_of_ten_minutes_ends_a_fire_mission() -> None:
    def missions(pause_min: float) -> int:
        first = [
            _point("acoustic:net", "launch", 0.0, T0 + timedelta(seconds=40 * k)) for k in range(4)
        ]
        resume = T0 + timedelta(seconds=120, minutes=pause_min)
        second = [
            _point("acoustic:net", "launch", 50.0, resume + timedelta(seconds=40 * k))
            for k in range(4)
        ]
        return len(fuse([(o.id, o) for o in (*first, *second)]).events)

    assert missions(4.0) == 1  # re-laying the guns on a new aim: one mission
    assert missions(11.0) == 2  # the next mission from the same position
    assert FusionConfig().episode_window_s == 600.0


# -- diffuse sources: attached to one episode, never chained --------------------------------


def _salvo(prefix: str, east_m: float, t: float) -> list[Item]:
    """Three well-placed rounds of one shelling, 20 s apart, 50 m apart."""
    return [
        _item(f"src:{prefix}{k}", "impact", east_m + 50.0 * (k - 1), t + 20.0 * k,
              ["acoustic:A", "acoustic:B", "acoustic:C"], 150.0)
        for k in range(3)
    ]  # fmt: skip


def _members_with(events: list, key: str) -> set[str]:
    return next(set(e.members) for e in events if f"{key}/0" in e.members)


def test_a_poorly_placed_round_joins_its_shelling_instead_of_standing_alone() -> None:
    config = FusionConfig()
    t0 = T0.timestamp()
    salvo = _salvo("a", 0.0, t0)
    # heard at three stations at a poor angle: 900 m sigma, placed 1.7 km off
    # (beyond the 1.5 km chaining gate), within its 99 % gate of the shelling
    stray = _item("src:stray", "impact", 1_700.0, t0 + 30.0, ["acoustic:D"] * 3, 900.0)
    assert is_diffuse(stray, config) and not is_diffuse(salvo[0], config)
    events = fuse_items([*salvo, stray], config)
    assert len(events) == 1
    assert "src:stray/0" in events[0].members
    # the same source placed far beyond its gate (4.5 km) is an event of its own
    far = _item("src:far", "impact", 4_500.0, t0 + 30.0, ["acoustic:D"] * 3, 900.0)
    assert len(fuse_items([*_salvo("b", 0.0, t0), far], config)) == 2


def test_a_poorly_placed_round_does_not_bridge_two_shellings() -> None:
    config = FusionConfig()
    t0 = T0.timestamp()
    west, east = _salvo("w", 0.0, t0), _salvo("e", 2_800.0, t0 + 10.0)
    # within 1.5 km of a round of each: distance chaining made one event of all
    between = _item("src:between", "impact", 1_300.0, t0 + 25.0, ["acoustic:D"] * 3, 900.0)
    events = fuse_items([*west, *east, between], config)
    assert len(events) == 2
    # it joins the shelling it most likely belongs to (the nearer one), and only that
    joined = _members_with(events, "src:between")
    assert "src:w0/0" in joined and "src:e0/0" not in joined


def test_a_mislabelled_poorly_placed_round_of_a_launch_is_not_an_explosion_of_its_own() -> None:
    # a rocket salvo's launch, five rounds in 25 s; some arrivals labelled
    # "explosion" form a source of their own, poorly placed 1.6 km off during
    # the salvo: one launch, not a launch and a (deep-strike) explosion
    config = FusionConfig()
    t0 = T0.timestamp()
    salvo = [
        _item(f"src:l{k}", "launch", 40.0 * k, t0 + 5.0 * k, ["acoustic:A", "acoustic:B"], 150.0)
        for k in range(5)
    ]
    stray = _item("src:x", "explosion", 1_600.0, t0 + 12.0, ["acoustic:C"] * 3, 800.0)
    events = fuse_items([*salvo, stray], config)
    assert [e.kind for e in events] == ["launch"]
    assert "src:x/0" in events[0].members
    # a well-placed explosion there is another event (shells landing near a gun)
    placed = _item("src:y", "explosion", 1_600.0, t0 + 12.0, ["acoustic:C"] * 3, 150.0)
    assert sorted(e.kind for e in fuse_items([*salvo, placed], config)) == ["explosion", "launch"]


def test_two_well_placed_shellings_are_not_merged_by_the_attachment() -> None:
    # the attachment is for diffuse sources only: two well-placed shellings
    # 2 km apart (inside a 900 m source's gate) stay two events
    t0 = T0.timestamp()
    events = fuse_items([*_salvo("a", 0.0, t0), *_salvo("b", 2_000.0, t0 + 15.0)], FusionConfig())
    assert len(events) == 2


def _diffuse_scene(seed: int) -> list[Observation]:
    """Shellings of well-placed and poorly placed rounds, close together, and craters."""
    rng = np.random.default_rng(seed)
    observations = []
    # pairs of shellings 2.5 km apart, the pairs 20 km apart
    centres = [
        (20_000.0 * (k // 2) + 2_500.0 * (k % 2) + rng.normal(0, 300), rng.normal(0, 300))
        for k in range(8)
    ]
    for _ in range(80):
        cx, cy = centres[int(rng.integers(len(centres)))]
        sigma = float(rng.choice([120.0, 200.0, 700.0, 1_100.0]))
        kind = str(rng.choice(["impact", "explosion", "launch"]))
        x, y = cx + rng.normal(0, sigma), cy + rng.normal(0, sigma)
        lon, lat = FRAME.point_to_geo(x, y)
        t = T0 + timedelta(seconds=float(rng.uniform(0, 2 * 3_600)))
        where = PointLocation.isotropic(lon, lat, sigma)
        observations.append(
            Observation("acoustic:net", "acoustic", kind, t, where,
                        attributes={"confidence": float(rng.uniform(0.5, 1.0))})
        )  # fmt: skip
    for _ in range(15):
        cx, cy = centres[int(rng.integers(len(centres)))]
        lon, lat = FRAME.point_to_geo(cx + rng.normal(0, 200), cy + rng.normal(0, 200))
        t = T0 + timedelta(hours=float(rng.uniform(3, 6)))
        observations.append(
            Observation("drone:UAV-1", "drone", "crater", t, PointLocation.isotropic(lon, lat, 8.0),
                        attributes={"confidence": 0.9})
        )  # fmt: skip
    return observations


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_diffuse_sources_keep_fusion_exact_per_component(seed: int) -> None:
    config = FusionConfig()
    pairs = sorted(((o.id, o) for o in _diffuse_scene(seed)), key=lambda p: p[0])
    everything = fuse(pairs, config=config)
    items = prepare(pairs, ItemFactory({}, config)).items
    assert sum(is_diffuse(i, config) for i in items) >= 10
    components = item_components(items, config)
    assert len(components) > 1
    union = [e for c in components for e in fuse_component([items[i] for i in c], config)]
    union.sort(key=lambda e: (e.time, e.id))
    assert [e.to_record() for e in union] == [e.to_record() for e in everything.events]
    for component in components:
        members = {oid for i in component for oid in items[i].members}
        alone = fuse([p for p in pairs if p[0] in members], config=config)
        expected = [e for e in everything.events if set(e.members) <= members]
        assert [e.to_record() for e in alone.events] == [e.to_record() for e in expected]
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    again = fuse(shuffled, config=config)
    assert [e.to_record() for e in again.events] == [e.to_record() for e in everything.events]
