"""Gating, likelihood ratios and global assignment of the association engine."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from fusion.fusion_testkit import point_at
from truceline.fusion import FusionConfig, fuse
from truceline.fusion.assign import assign_rows, delay_log_ratio
from truceline.fusion.baseline import fuse as baseline_fuse
from truceline.fusion.items import Item
from truceline.model import FootprintLocation, LocalFrame, Observation, Sensor

T0 = datetime(2026, 11, 2, 6, tzinfo=UTC)
FRAME = LocalFrame(37.5, 48.0)


#: A point observation in this module's frame (``fusion_testkit.point_at``).
_point = partial(point_at, FRAME)


def _members(result_events: list, ids: set[str]) -> list[set[str]]:
    return [set(e.members) & ids for e in result_events if set(e.members) & ids]


def test_joint_assignment_beats_first_come() -> None:
    # Row 0 prefers column 0 but also fits column 1; row 1 fits column 0 only.
    llr = [[3.0, 2.5], [2.8, None]]
    chosen = assign_rows(llr, [1, 1])
    assert chosen == [1, 0]
    # first come, first served: row 0 takes its best, row 1 finds it full
    greedy: list[int | None] = []
    taken: set[int] = set()
    for row in llr:
        options = [(v, j) for j, v in enumerate(row) if v is not None and j not in taken]
        best = max(options)[1] if options else None
        greedy.append(best)
        if best is not None:
            taken.add(best)
    assert greedy == [0, None]
    total = sum(llr[i][j] or 0.0 for i, j in enumerate(chosen) if j is not None)
    greedy_total = sum(llr[i][j] or 0.0 for i, j in enumerate(greedy) if j is not None)
    assert total > greedy_total


def test_assignment_respects_capacity_and_new_event_option() -> None:
    # three rows want column 0 (capacity 2): the weakest goes to "new"
    assert assign_rows([[5.0], [4.0], [1.0]], [2]) == [0, 0, None]
    # a non-positive ratio never associates: "new event" (score 0) is better
    assert assign_rows([[-0.5], [0.0]], [3]) == [None, None]
    assert assign_rows([], [1]) == []


def test_one_overpass_two_fires_go_to_the_two_shellings() -> None:
    """Hot spots of one overpass: the one between both shellings belongs to the second.

    Two single-round shellings 500 m apart (17 minutes apart, so two episodes);
    one overpass two hours later sees two fires (pixels of about 140 m, too far
    apart to be one fire): H2 next to the first shelling and out of the
    second's gate, H1 between them, a little nearer the first.
    One overpass shows one fire per round, so the joint assignment gives H2 to
    the first shelling and H1 to the second; the greedy baseline attaches both
    to the first and leaves the second uncorroborated.
    """
    e1 = _point("acoustic:net", "acoustic", "explosion", 0.0, 0.0, 100.0, T0)
    e2 = _point(
        "acoustic:net", "acoustic", "explosion", 500.0, 0.0, 100.0, T0 + timedelta(seconds=1000)
    )
    overpass = T0 + timedelta(hours=2)
    h1 = _point("firms:VIIRS:NOAA-20", "satellite", "thermal_anomaly", 180.0, 0.0, 40.0, overpass)
    h2 = _point("firms:VIIRS:NOAA-20", "satellite", "thermal_anomaly", -150.0, 0.0, 40.0, overpass)
    pairs = [(o.id, o) for o in (e1, e2, h1, h2)]
    result = fuse(pairs)
    by_event = {frozenset(e.members) for e in result.events}
    assert by_event == {frozenset({e1.id, h2.id}), frozenset({e2.id, h1.id})}
    old = baseline_fuse(pairs)
    assert {frozenset(e.members) for e in old.events} == {
        frozenset({e1.id, h1.id, h2.id}),
        frozenset({e2.id}),
    }


def test_an_array_counts_once_however_many_elements_heard_it() -> None:
    array = [
        Sensor(f"infrasound:A{k}", "infrasound", reliability=0.7, array="ARR") for k in range(3)
    ]
    singles = [Sensor(f"acoustic:S{k}", "acoustic", reliability=0.7) for k in range(3)]
    for sensors, expected_sources in ((array, 1), (singles, 3)):
        observations = [
            _point(s.id, s.modality, "explosion", 20.0 * k, 0.0, 100.0, T0 + timedelta(seconds=k))
            for k, s in enumerate(sensors)
        ]
        result = fuse([(o.id, o) for o in observations], sensors)
        assert len(result.events) == 1
        event = result.events[0]
        assert event.independent_sources == expected_sources
        expected_p_real = 1.0 - (1.0 - 0.7) ** expected_sources
        assert event.attributes["p_real"] == pytest.approx(expected_p_real, abs=1e-6)


def test_an_observation_may_name_its_source_group() -> None:
    # two sensor ids on one platform say so: one source, not two
    a = _point("drone:UAV-1:eo", "drone", "explosion", 0.0, 0.0, 30.0, T0, source_group="flight-7")
    b = _point("drone:UAV-1:ir", "drone", "explosion", 10.0, 0.0, 30.0, T0, source_group="flight-7")
    c = _point("acoustic:net", "acoustic", "explosion", 30.0, 0.0, 100.0, T0)
    result = fuse([(o.id, o) for o in (a, b, c)])
    assert len(result.events) == 1
    assert result.events[0].independent_sources == 2


@pytest.mark.parametrize(
    ("delay_h", "joins"), [(-0.5, False), (0.0, True), (6.0, True), (11.5, True), (12.5, False)]
)
def test_hot_spot_delay_gate(delay_h: float, joins: bool) -> None:
    blast = _point("acoustic:net", "acoustic", "explosion", 0.0, 0.0, 100.0, T0)
    fire = _point(
        "firms:VIIRS:N", "satellite", "thermal_anomaly", 100.0, 0.0, 150.0,
        T0 + timedelta(hours=delay_h),
    )  # fmt: skip
    result = fuse([(o.id, o) for o in (blast, fire)])
    explosion = next(e for e in result.events if e.kind == "explosion")
    assert (fire.id in explosion.members) is joins


def test_hot_spot_delay_density_decreases() -> None:
    config = FusionConfig()
    item = Item(
        key="h", kind="thermal_anomaly", family="fire_effect", lon=0.0, lat=0.0,
        cov=(1.0, 0.0, 1.0), t=10_000.0, t_sigma=1.0, t_lo=10_000.0, t_hi=10_000.0,
        members=("h",), contributions=(), modalities=frozenset({"satellite"}),
    )  # fmt: skip
    early = delay_log_ratio(item, 10_000.0 - 600.0, config)
    late = delay_log_ratio(item, 10_000.0 - 40_000.0, config)
    assert early is not None and late is not None
    assert early > 0.0 > late
    assert early - late == pytest.approx((40_000.0 - 600.0) / config.thermal_delay_scale_s)
    assert delay_log_ratio(item, 10_000.0 + 3_600.0, config) is None  # a fire before the blast


def _crater_footprint(east_m: float, half_m: float) -> FootprintLocation:
    corners = [(-half_m, -half_m), (half_m, -half_m), (half_m, half_m), (-half_m, half_m)]
    return FootprintLocation(
        tuple(FRAME.point_to_geo(east_m + dx, dy) for dx, dy in [*corners, corners[0]])
    )


@pytest.mark.parametrize(
    ("start_d", "end_d", "joins"), [(-5.0, 7.0, True), (-12.0, -1.0, False), (0.5, 12.0, False)]
)
def test_crater_interval_must_contain_the_shelling(
    start_d: float, end_d: float, joins: bool
) -> None:
    blast = _point("acoustic:net", "acoustic", "impact", 0.0, 0.0, 100.0, T0)
    crater = Observation(
        "sentinel-1a:pwtt:R043", "satellite", "crater", T0 + timedelta(days=start_d),
        _crater_footprint(40.0, 5.0), time_end=T0 + timedelta(days=end_d),
        attributes={"confidence": 0.95},
    )  # fmt: skip
    result = fuse([(o.id, o) for o in (blast, crater)])
    impact = next(e for e in result.events if e.kind == "impact")
    assert (crater.id in impact.members) is joins


def test_footprint_far_from_the_event_is_not_contained() -> None:
    blast = _point("acoustic:net", "acoustic", "impact", 0.0, 0.0, 30.0, T0)
    near = Observation(
        "sentinel-1a:pwtt:R043", "satellite", "crater", T0 - timedelta(days=3),
        _crater_footprint(60.0, 5.0), time_end=T0 + timedelta(days=9),
    )  # fmt: skip
    far = Observation(
        "sentinel-1a:pwtt:R138", "satellite", "crater", T0 - timedelta(days=2),
        _crater_footprint(900.0, 5.0), time_end=T0 + timedelta(days=10),
    )  # fmt: skip
    result = fuse([(o.id, o) for o in (blast, near, far)])
    impact = next(e for e in result.events if e.kind == "impact")
    assert near.id in impact.members and far.id not in impact.members


def test_crater_seen_by_a_drone_days_later_corroborates() -> None:
    blast = _point("acoustic:net", "acoustic", "impact", 0.0, 0.0, 100.0, T0)
    seen = _point("drone:UAV-1", "drone", "crater", 50.0, 0.0, 10.0, T0 + timedelta(days=3))
    too_late = _point("drone:UAV-2", "drone", "crater", -40.0, 0.0, 10.0, T0 + timedelta(days=9))
    result = fuse([(o.id, o) for o in (blast, seen, too_late)])
    impact = next(e for e in result.events if e.kind == "impact")
    assert seen.id in impact.members and too_late.id not in impact.members


def test_two_vehicles_in_one_look_are_two_events() -> None:
    # one drone frame sees two tanks 40 m apart: two objects, not one
    t = T0
    a = _point("drone:UAV-1", "drone", "equipment", 0.0, 0.0, 10.0, t, weapon_class="tank")
    b = _point("drone:UAV-1", "drone", "equipment", 40.0, 0.0, 10.0, t, weapon_class="tank")
    # the next day's pass sees one of them again: it joins the nearer
    c = _point(
        "drone:UAV-1",
        "drone",
        "equipment",
        42.0,
        0.0,
        10.0,
        t + timedelta(days=1),
        weapon_class="tank",
    )
    result = fuse([(o.id, o) for o in (a, b, c)])
    groups = sorted(sorted(e.members) for e in result.events)
    assert groups == sorted([sorted([a.id]), sorted([b.id, c.id])])
    # the baseline's union-find merges the two tanks into one sighting
    assert len(baseline_fuse([(o.id, o) for o in (a, b, c)]).events) == 1


def test_repeated_unclassified_sounds_stay_separate_events() -> None:
    sounds = [
        _point(
            "acoustic:net", "acoustic", "other", 30.0 * k, 0.0, 200.0, T0 + timedelta(minutes=5 * k)
        )
        for k in range(4)
    ]
    result = fuse([(o.id, o) for o in sounds])
    assert len(result.events) == 4
    assert math.isclose(sum(len(e.members) for e in result.events), 4)


def test_pixels_of_one_fire_in_one_overpass_are_one_event() -> None:
    sigma = 375.0 / math.sqrt(12.0)  # a 375 m VIIRS pixel, uniform
    overpass = T0 + timedelta(hours=1)
    front = [
        _point("firms:VIIRS:N", "satellite", "thermal_anomaly", x, y, sigma, overpass)
        for x, y in ((0.0, 0.0), (375.0, 0.0), (750.0, 375.0), (1_500.0, 375.0))  # one missed
    ]
    elsewhere = _point(
        "firms:VIIRS:N", "satellite", "thermal_anomaly", 4_000.0, 0.0, sigma, overpass
    )
    result = fuse([(o.id, o) for o in [*front, elsewhere]])
    groups = sorted(len(e.members) for e in result.events)
    assert groups == [1, 4]
