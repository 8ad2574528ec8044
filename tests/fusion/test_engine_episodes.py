"""Explosive episodes: what is one shelling, and what it may take from one look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from truceline.fusion import FusionConfig, fuse
from truceline.fusion.assign import family_of
from truceline.fusion.confidence import Contribution
from truceline.fusion.engine import fuse_items, rounds_heard
from truceline.fusion.items import Item, isotropic
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
