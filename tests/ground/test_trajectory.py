"""Launch -> impact pairing, roles and origin sides on constructed events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from shapely.geometry import LineString

from truceline.agreement import Agreement, agreement_from_dict, demo_agreement_dict
from truceline.ground.attribution import SideSampling, origin_side
from truceline.ground.trajectory import (
    TrajectoryConfig,
    TrajectoryResult,
    pair_trajectories,
    plausible_families,
)
from truceline.model.event import Event
from truceline.model.geo import LocalFrame, geodesic_distance_m

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
#: Metric frame centred on the contact line (lon 30°E, north-south): west is left.
FRAME = LocalFrame(30.0, 48.0)
_AGREEMENT: dict[str, Agreement] = {}


def agreement() -> Agreement:
    if "a" not in _AGREEMENT:
        line = LineString([(30.0, 47.0), (30.0, 49.0)])
        _AGREEMENT["a"] = agreement_from_dict(demo_agreement_dict(line))
    return _AGREEMENT["a"]


def event(
    kind: str,
    t_s: float,
    east_km: float,
    north_km: float,
    *,
    sigma_m: float = 60.0,
    time_sigma_s: float = 0.3,
    scores: dict[str, float] | None = None,
) -> Event:
    """An event ``east_km``/``north_km`` from (30°E, 48°N) at ``T0 + t_s``."""
    lon, lat = FRAME.point_to_geo(east_km * 1e3, north_km * 1e3)
    time = T0 + timedelta(seconds=t_s)
    attributes: dict[str, Any] = {"kind_scores": scores or {kind: 1.0}}
    return Event(
        kind=kind,
        time=time,
        time_sigma_s=time_sigma_s,
        time_start=time,
        time_end=time,
        lon=round(lon, 7),
        lat=round(lat, 7),
        cov_ee=sigma_m**2,
        cov_en=0.0,
        cov_nn=sigma_m**2,
        members=(f"obs-{kind}-{t_s}-{east_km}-{north_km}",),
        sensors=("s1", "s2", "s3"),
        modalities=("acoustic",),
        independent_sources=3,
        confidence=0.9,
        attributes=attributes,
    )


def pairs(result: TrajectoryResult) -> set[tuple[str, str]]:
    return {(t.launch_event, t.impact_event) for t in result.trajectories}


def test_launch_west_paired_with_impact_east_is_attributed_to_west() -> None:
    launch = event("launch", 0.0, -3.0, 0.0)
    impact = event("impact", 35.0, 8.0, 0.5)
    result = pair_trajectories([launch, impact], agreement())
    assert pairs(result) == {(launch.id, impact.id)}
    (trajectory,) = result.trajectories
    assert trajectory.range_m == pytest.approx(11_011, abs=30)
    assert trajectory.time_of_flight_s == pytest.approx(35.0)
    assert trajectory.azimuth_deg == pytest.approx(87.4, abs=0.5)
    assert "gun_ge100" in dict(trajectory.weapon_families)
    assert "mortar" not in dict(trajectory.weapon_families)  # 11 km is beyond mortar range
    assert trajectory.origin is not None
    assert trajectory.origin.side == "west"
    assert trajectory.origin.probability("west") > 0.99
    assert trajectory.impact_side == "east"
    roles = {r.event_id: r for r in result.roles}
    assert roles[launch.id].role == "launch" and roles[launch.id].paired_with == (impact.id,)
    assert roles[launch.id].probability("launch") > 0.95
    assert roles[impact.id].role == "impact" and roles[impact.id].origin is None
    assert roles[impact.id].landed_on == "east"
    json.dumps(result.to_dict())  # JSON-ready


def test_launch_straddling_the_line_is_undetermined() -> None:
    launch = event("launch", 0.0, -0.3, 0.0, sigma_m=2_000.0)
    impact = event("impact", 30.0, 9.0, 0.0)
    result = pair_trajectories([launch, impact], agreement())
    (trajectory,) = result.trajectories
    assert trajectory.origin is not None
    assert trajectory.origin.side == "undetermined"
    west = trajectory.origin.probability("west")
    assert 0.4 < west < 0.7  # Φ(0.3 / 2) ≈ 0.56
    assert west + trajectory.origin.probability("east") == pytest.approx(1.0)


def test_origin_side_matches_the_gaussian_and_is_seeded() -> None:
    launch = event("launch", 0.0, -1.0, 0.0, sigma_m=1_000.0)
    first = origin_side(launch, agreement(), SideSampling(n_samples=20_000))
    again = origin_side(launch, agreement(), SideSampling(n_samples=20_000))
    assert first == again
    assert first.probability("west") == pytest.approx(0.8413, abs=0.01)  # Φ(1)
    assert first.side == "undetermined"
    assert origin_side(launch, agreement(), SideSampling(threshold=0.8)).side == "west"


def test_an_impact_alone_is_never_attributed() -> None:
    impact = event("impact", 0.0, 6.0, 0.0)
    result = pair_trajectories([impact], agreement())
    assert result.trajectories == ()
    (role,) = result.roles
    assert role.role == "impact"
    assert role.origin is None and role.paired_with == ()
    assert role.landed_on == "east"


def test_an_unpaired_launch_gets_its_own_origin_side() -> None:
    launch = event("launch", 0.0, 4.0, 2.0)
    impact = event("impact", 500.0, -6.0, 0.0)  # far too late to be its round
    result = pair_trajectories([launch, impact], agreement())
    assert result.trajectories == ()
    role = result.role_of(launch.id)
    assert role.role == "launch"
    assert role.origin is not None and role.origin.side == "east"
    assert role.origin.probability("east") > 0.99


def test_time_inconsistent_pairs_are_rejected() -> None:
    launch = event("launch", 100.0, -3.0, 0.0)
    before = event("impact", 90.0, 8.0, 0.0)  # lands before the launch
    too_fast = event("impact", 101.0, 8.0, 5.0)  # 12 km in 1 s
    too_slow = event("impact", 1_000.0, 5.0, -5.0)  # 10 km in 15 min
    result = pair_trajectories([launch, before, too_fast, too_slow], agreement())
    assert result.trajectories == ()
    assert plausible_families(11_000.0, -10.0) == ()
    assert plausible_families(13_000.0, 1.0) == ()
    assert plausible_families(11_000.0, 35.0) != ()


def test_rocket_and_missile_ranges_pair() -> None:
    launch = event("launch", 0.0, -25.0, 0.0, sigma_m=150.0)
    impact = event("impact", 110.0, 45.0, 10.0)  # ~70 km in 110 s: rockets
    result = pair_trajectories([launch, impact], agreement())
    (trajectory,) = result.trajectories
    families = dict(trajectory.weapon_families)
    assert "mlrs" in families and "gun_ge100" not in families
    far = plausible_families(250_000.0, 200.0)
    assert [name for name, _ in far] == ["tactical_missile"]


def _greedy_nearest(events: list[Event]) -> set[tuple[str, str]]:
    """Nearest-first pairing among time-consistent pairs (the baseline that fails)."""
    launches = [e for e in events if e.kind == "launch"]
    impacts = [e for e in events if e.kind == "impact"]
    candidates = []
    for a in launches:
        for b in impacts:
            distance = geodesic_distance_m(a.lon, a.lat, b.lon, b.lat)
            tof = (b.time - a.time).total_seconds()
            if plausible_families(distance, tof, time_sigma_s=0.5):
                candidates.append((distance, a.id, b.id))
    used: set[str] = set()
    chosen = set()
    for _, a_id, b_id in sorted(candidates):
        if a_id not in used and b_id not in used:
            chosen.add((a_id, b_id))
            used |= {a_id, b_id}
    return chosen


def crossing_fire() -> tuple[list[Event], set[tuple[str, str]]]:
    """Two western batteries whose lines of fire cross just east of the line.

    Battery A (south) fires first at Y, 13.6 km north-east; battery B (north)
    fires after Y has landed at X, 7 km south-east. X is also within mortar reach
    of A at a consistent (slow, high-angle) time, and it is A's nearest impact.
    """
    a = event("launch", 0.0, -3.0, 0.0)
    b = event("launch", 45.0, -3.0, 6.0)
    x = event("impact", 67.0, 2.0, 1.0)
    y = event("impact", 40.0, 8.0, 8.0)
    return [a, b, x, y], {(a.id, y.id), (b.id, x.id)}


def test_crossing_fire_needs_the_global_assignment() -> None:
    events, truth = crossing_fire()
    a, _, x, _ = events
    greedy = _greedy_nearest(events)
    assert greedy == {(a.id, x.id)}  # nearest-first takes A->X and strands B and Y
    result = pair_trajectories(events, agreement())
    assert pairs(result) == truth
    for trajectory in result.trajectories:
        assert trajectory.origin is not None and trajectory.origin.side == "west"
        assert trajectory.impact_side == "east"


def test_result_does_not_depend_on_input_order() -> None:
    events, _ = crossing_fire()
    events += [event("explosion", 20.0, 3.0, -4.0), event("launch", 200.0, 5.0, 5.0)]
    reference = pair_trajectories(events, agreement()).to_dict()
    rng = np.random.default_rng(7)
    for _ in range(3):
        shuffled = [events[i] for i in rng.permutation(len(events))]
        assert pair_trajectories(shuffled, agreement()).to_dict() == reference


def test_kind_scores_decide_launch_candidates_and_role_probabilities() -> None:
    # an "explosion" whose acoustic scores favour launch acts as a launch
    launch_like = event("explosion", 0.0, -4.0, 0.0, scores={"launch": 0.7, "explosion": 0.3})
    impact = event("explosion", 40.0, 9.0, 0.0, scores={"explosion": 0.6, "launch": 0.4})
    result = pair_trajectories([launch_like, impact], agreement())
    assert pairs(result) == {(launch_like.id, impact.id)}
    launch_role = result.role_of(launch_like.id)
    impact_role = result.role_of(impact.id)
    assert launch_role.role == "launch" and launch_role.origin is not None
    # pairing raised the impact's probability above its acoustic 0.6
    assert impact_role.role == "impact" and impact_role.probability("impact") > 0.85
    alone = pair_trajectories([impact], agreement()).role_of(impact.id)
    assert alone.probability("impact") < impact_role.probability("impact")
    assert sum(p for _, p in alone.probabilities) == pytest.approx(1.0, abs=1e-5)


def test_other_kinds_are_ignored_and_no_agreement_gives_no_sides() -> None:
    launch = event("launch", 0.0, -3.0, 0.0)
    impact = event("impact", 35.0, 8.0, 0.5)
    gunfire = event("gunfire", 1.0, -0.5, 0.0)
    result = pair_trajectories([gunfire, launch, impact], None)
    assert {r.event_id for r in result.roles} == {launch.id, impact.id}
    (trajectory,) = result.trajectories
    assert trajectory.origin is None and trajectory.impact_side is None
    assert all(r.origin is None and r.landed_on is None for r in result.roles)


def test_one_launch_event_may_feed_several_impacts_when_allowed() -> None:
    launch = event("launch", 0.0, -5.0, 0.0)
    first = event("impact", 40.0, 7.0, 2.0)
    second = event("impact", 42.0, 6.0, -3.0)
    assert len(pair_trajectories([launch, first, second], agreement()).trajectories) == 1
    config = TrajectoryConfig(max_impacts_per_launch=2)
    result = pair_trajectories([launch, first, second], agreement(), config)
    assert pairs(result) == {(launch.id, first.id), (launch.id, second.id)}
    assert result.role_of(launch.id).paired_with == tuple(sorted([first.id, second.id]))


def test_bad_events_and_config_raise() -> None:
    bad = event("launch", 0.0, -3.0, 0.0)
    with pytest.raises(ValueError, match="not finite"):
        pair_trajectories([Event(**{**_fields(bad), "cov_ee": float("nan")})], None)
    with pytest.raises(ValueError, match="positive semi-definite"):
        pair_trajectories([Event(**{**_fields(bad), "cov_en": 1e9})], None)
    naive = bad.time.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive"):
        pair_trajectories([Event(**{**_fields(bad), "time": naive})], None)
    with pytest.raises(ValueError, match="twice"):
        pair_trajectories([bad, bad], None)
    with pytest.raises(ValueError, match="side_threshold"):
        TrajectoryConfig(side_threshold=0.4)
    for share in (0.0, 1.0):
        with pytest.raises(ValueError, match="own_side_share"):
            TrajectoryConfig(own_side_share=share)


def _fields(e: Event) -> dict[str, Any]:
    return {name: getattr(e, name) for name in Event.__dataclass_fields__}
