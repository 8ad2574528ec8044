"""Passes and per-pass de-duplication of geolocated detections."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.classmap import ClassTarget
from truceline.drone.passes import (
    MAX_LISTED_FRAMES,
    FlightPass,
    LocatedDetection,
    deduplicate,
    pass_of,
    split_passes,
)
from truceline.model.geo import LocalFrame

T0 = 1_793_613_600.0  # 2026-11-02T10:00:00Z
FRAME = LocalFrame(37.5, 48.0)
TANK = ClassTarget("equipment", "tank")
APC = ClassTarget("equipment", "armoured_vehicle")
CRATER = ClassTarget("crater")


def pose(t: float) -> CameraPose:
    return CameraPose(t, 37.5, 48.0, 650.0, 90.0, 0.0, 0.0, 0.0, -90.0, 0.0, 40.0, 30.0, 640, 480)


def one_pass(start: float = T0, seconds: float = 60.0) -> FlightPass:
    return FlightPass(0, tuple(pose(start + i) for i in range(int(seconds) + 1)))


def detection(
    index: int,
    east_m: float,
    north_m: float,
    *,
    t: float | None = None,
    target: ClassTarget = TANK,
    sigma_m: float = 5.0,
    score: float = 0.8,
    frame: int | None = None,
) -> LocatedDetection:
    lon, lat = FRAME.point_to_geo(east_m, north_m)
    time_s = T0 + index if t is None else t
    var = sigma_m**2
    return LocatedDetection(index, time_s, frame, target, score, lon, lat, var, 0.0, var)


def noisy_track(
    rng: random.Random, east_m: float, north_m: float, n: int, first: int = 0, **kw: object
) -> list[LocatedDetection]:
    """``n`` frames of one object located with 5 m errors."""
    return [
        detection(first + i, east_m + rng.gauss(0, 5), north_m + rng.gauss(0, 5), frame=first + i,
                  **kw)  # type: ignore[arg-type]
        for i in range(n)
    ]  # fmt: skip


def test_split_passes_at_gaps() -> None:
    times = [T0 + i for i in range(10)] + [T0 + 30 + i for i in range(5)]
    passes = split_passes(Telemetry([pose(t) for t in times], max_gap_s=2.0))
    assert [(p.index, len(p.poses)) for p in passes] == [(0, 10), (1, 5)]
    assert (passes[1].start_s, passes[1].end_s) == (T0 + 30, T0 + 34)
    assert len(split_passes(Telemetry([pose(t) for t in times]), max_gap_s=60.0)) == 1
    assert pass_of(passes, T0 + 31.5) == 1
    with pytest.raises(ValueError, match="no pass"):
        pass_of(passes, T0 + 20)


def test_same_tank_in_30_frames_is_one_sighting() -> None:
    found = deduplicate(noisy_track(random.Random(1), 100.0, 50.0, 30), [one_pass()])
    assert len(found) == 1
    sighting = found[0]
    assert (sighting.n_frames, sighting.count, sighting.target) == (30, 1, TANK)
    x, y = FRAME.point_to_local(sighting.lon, sighting.lat)
    assert math.hypot(x - 100.0, y - 50.0) < 5.0
    # fully correlated frames: never better than one frame (5 m)
    assert sighting.cov_ee == pytest.approx(25.0, rel=1e-3)
    assert sighting.time_s == T0
    attributes = sighting.attributes()
    assert attributes["weapon_class"] == "tank"
    assert attributes["frames"] == list(range(30))
    assert attributes["n_frames"] == 30 and attributes["confidence"] == 0.8


def test_independent_frames_shrink_the_covariance() -> None:
    members = noisy_track(random.Random(2), 0.0, 0.0, 25)
    (sighting,) = deduplicate(members, [one_pass()], error_correlation=0.0)
    assert sighting.cov_ee == pytest.approx(1.0, rel=1e-3)


def test_two_tanks_50_m_apart_are_two_sightings() -> None:
    rng = random.Random(3)
    members = noisy_track(rng, 0.0, 0.0, 20) + noisy_track(rng, 50.0, 0.0, 20, first=20)
    found = deduplicate(members, [one_pass()])
    assert len(found) == 2
    east = sorted(FRAME.point_to_local(s.lon, s.lat)[0] for s in found)
    assert east[0] == pytest.approx(0.0, abs=5.0) and east[1] == pytest.approx(50.0, abs=5.0)


def test_other_family_and_other_pass_are_other_sightings() -> None:
    second = FlightPass(1, tuple(pose(T0 + 600 + i) for i in range(61)))
    members = [
        detection(0, 0.0, 0.0),
        detection(1, 1.0, 0.0, target=CRATER),
        detection(2, 0.0, 1.0, t=T0 + 620),
    ]
    found = deduplicate(members, [one_pass(), second])
    assert [(s.pass_index, s.target.kind) for s in found] == [
        (0, "equipment"),
        (0, "crater"),
        (1, "equipment"),
    ]


def test_misclassified_frames_are_voted() -> None:
    rng = random.Random(4)
    members = noisy_track(rng, 0.0, 0.0, 8) + noisy_track(rng, 0.0, 0.0, 2, first=8, target=APC)
    (sighting,) = deduplicate(members, [one_pass()])
    assert sighting.target == TANK
    assert sighting.attributes()["weapon_class_scores"] == {"armoured_vehicle": 0.2, "tank": 0.8}


def test_several_boxes_in_one_frame_count_and_widen() -> None:
    members = []
    for i in range(10):
        members.append(detection(2 * i, 0.0, 0.0, t=T0 + i, frame=i))
        members.append(detection(2 * i + 1, 12.0, 0.0, t=T0 + i, frame=i))
    (sighting,) = deduplicate(members, [one_pass()])
    assert (sighting.count, sighting.n_frames) == (2, 10)
    x, _ = FRAME.point_to_local(sighting.lon, sighting.lat)
    assert x == pytest.approx(6.0, abs=0.01)
    assert sighting.cov_ee == pytest.approx(25.0 + 36.0, rel=1e-3)  # single frame + spread


def test_frames_listed_are_capped() -> None:
    members = [detection(i, 0.0, 0.0, t=T0 + i * 0.5, frame=i) for i in range(80)]
    (sighting,) = deduplicate(members, [one_pass()])
    attributes = sighting.attributes()
    assert attributes["n_frames"] == 80
    assert len(attributes["frames"]) == len(attributes["detections"]) == MAX_LISTED_FRAMES


def test_order_of_input_does_not_matter() -> None:
    rng = random.Random(5)
    members = noisy_track(rng, 0.0, 0.0, 15) + noisy_track(rng, 80.0, 30.0, 15, first=15)
    shuffled = list(members)
    random.Random(6).shuffle(shuffled)
    assert deduplicate(members, [one_pass()]) == deduplicate(shuffled, [one_pass()])


def test_gate_is_chi_square() -> None:
    """Two 5 m detections: linked up to d² = 13.8 (99.9 %), i.e. 26.3 m apart."""
    limit = math.sqrt(-2.0 * math.log(0.001) * 50.0)
    near = [detection(0, 0.0, 0.0), detection(1, limit - 0.1, 0.0)]
    far = [detection(0, 0.0, 0.0), detection(1, limit + 0.1, 0.0)]
    assert len(deduplicate(near, [one_pass()])) == 1
    assert len(deduplicate(far, [one_pass()])) == 2


def test_detection_outside_passes_and_bad_parameters() -> None:
    with pytest.raises(ValueError, match="no pass"):
        deduplicate([detection(0, 0.0, 0.0, t=T0 - 5)], [one_pass()])
    with pytest.raises(ValueError, match="error_correlation"):
        deduplicate([], [one_pass()], error_correlation=1.5)
    assert deduplicate([], [one_pass()]) == []
    assert np.isfinite(deduplicate([detection(0, 0.0, 0.0)], [one_pass()])[0].cov_nn)
