"""Episodes of several rounds: the time-of-flight density is averaged over the offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy.special import ndtr
from shapely.geometry import LineString

from truceline.agreement import agreement_from_dict, demo_agreement_dict
from truceline.ground.flight import _mean_window_density
from truceline.ground.trajectory import TrajectoryConfig, pair_trajectories
from truceline.model.event import Event
from truceline.model.geo import LocalFrame

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
FRAME = LocalFrame(30.0, 48.0)


def _event(kind: str, start_s: float, end_s: float, east_km: float) -> Event:
    lon, lat = FRAME.point_to_geo(east_km * 1e3, 0.0)
    start, end = T0 + timedelta(seconds=start_s), T0 + timedelta(seconds=end_s)
    return Event(
        kind=kind, time=start, time_sigma_s=0.3, time_start=start, time_end=end,
        lon=lon, lat=lat, cov_ee=3600.0, cov_en=0.0, cov_nn=3600.0,
        members=(f"obs-{kind}-{start_s}-{end_s}-{east_km}",), sensors=("s1", "s2", "s3"),
        modalities=("acoustic",), independent_sources=3, confidence=0.9,
        attributes={"kind_scores": {kind: 1.0}},
    )  # fmt: skip


def _llr(launch: Event, impact: Event) -> float:
    result = pair_trajectories([launch, impact], None, TrajectoryConfig())
    (trajectory,) = result.trajectories
    return trajectory.log_likelihood_ratio


def test_mean_density_matches_numerical_average() -> None:
    lo, hi, sigma = np.array(20.0), np.array(60.0), np.array(2.5)
    for a, b in ((10.0, 30.0), (55.0, 140.0), (-30.0, 5.0), (40.0, 40.0)):
        taus = np.linspace(a, b, 20001) if b > a else np.array([a])
        density = (ndtr((hi - taus) / sigma) - ndtr((lo - taus) / sigma)) / (hi - lo)
        expected = float(np.mean(density)) if b > a else float(density[0])
        got = float(_mean_window_density(lo, hi, sigma, np.array(a), np.array(b)))
        assert got == pytest.approx(expected, rel=1e-3, abs=1e-9)


def test_a_long_merged_launch_episode_fits_worse_than_a_single_launch() -> None:
    impact = _event("impact", 40.0, 40.0, 8.0)
    single = _llr(_event("launch", 0.0, 0.0, 0.0), impact)
    merged = _llr(_event("launch", -1_760.0, 0.0, 0.0), impact)
    # half an hour of merged rounds: the impact could have come from any of them
    assert single - merged > 2.0


def test_matching_episodes_fit_as_well_as_single_rounds() -> None:
    single = _llr(_event("launch", 0.0, 0.0, 0.0), _event("impact", 40.0, 40.0, 8.0))
    episode = _llr(_event("launch", 0.0, 300.0, 0.0), _event("impact", 40.0, 340.0, 8.0))
    assert episode == pytest.approx(single, abs=0.05)


def test_dense_launches_around_an_impact_weaken_each_fit() -> None:
    agreement = agreement_from_dict(
        demo_agreement_dict(LineString([(30.05, 47.0), (30.05, 49.0)]))
    )  # every launch below is west of this line, the impact (fired across it) east
    impact = _event("impact", 40.0, 40.0, 8.0)
    alone = [_event("launch", 0.0, 0.0, 0.0)]
    crowd = [*alone, *(_event("launch", 5.0 * k, 5.0 * k, -0.5 * k) for k in range(1, 4))]
    unseen = {}
    for name, launches in (("alone", alone), ("crowd", crowd)):
        result = pair_trajectories([*launches, impact], agreement)
        fired = result.role_of(impact.id).fired_from
        assert fired is not None
        unseen[name] = fired.unseen
    # one launch heard: little room for an unheard one; four launches heard within
    # seconds and kilometres of each other: unrelated fire is dense, each fit means less
    assert unseen["alone"] < 0.01
    assert unseen["crowd"] > 10 * unseen["alone"]
