"""Baseline fusion on constructed scenes with known answers."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from truceline.fusion import FusionConfig, fuse
from truceline.fusion.confidence import noisy_or_by_source
from truceline.model import BearingLocation, LocalFrame, Observation, PointLocation, Sensor
from truceline.model.timeutil import from_epoch

T0 = datetime(2026, 11, 2, tzinfo=UTC)
FRAME = LocalFrame(37.5, 48.0)
C = FusionConfig().sound_speed_mps


def _bearing_scene(
    seed: int, n_sources: int = 6, false_alarms: int = 10, spread_m: float = 8e3
) -> tuple[list[Observation], list[tuple[float, float, float]]]:
    rng = np.random.default_rng(seed)
    stations = [(rng.uniform(-15e3, 15e3), rng.uniform(-15e3, 15e3)) for _ in range(12)]
    sources = [
        (rng.uniform(-spread_m, spread_m), rng.uniform(-spread_m, spread_m), 1000.0 + 20.0 * k)
        for k in range(n_sources)
    ]
    t0 = T0.timestamp()
    observations = []
    for sx, sy, origin in sources:
        for i, (x, y) in enumerate(stations):
            r = math.hypot(sx - x, sy - y)
            if r > 18e3 or rng.random() < 0.2:
                continue
            azimuth = (math.degrees(math.atan2(sx - x, sy - y)) + rng.normal(0, 3)) % 360
            lon, lat = FRAME.point_to_geo(x, y)
            observations.append(
                Observation(
                    f"ac{i}", "acoustic", "explosion",
                    from_epoch(t0 + origin + r / C + rng.normal(0, 0.2)),
                    BearingLocation(lon, lat, azimuth, 3.0, 25_000.0),
                    time_sigma_s=0.2, attributes={"confidence": 0.8},
                )
            )  # fmt: skip
    for _ in range(false_alarms):
        i = int(rng.integers(12))
        lon, lat = FRAME.point_to_geo(*stations[i])
        observations.append(
            Observation(
                f"ac{i}", "acoustic", "explosion", from_epoch(t0 + rng.uniform(900, 1300)),
                BearingLocation(lon, lat, float(rng.uniform(0, 360)), 3.0, 25_000.0),
                attributes={"confidence": 0.5},
            )
        )  # fmt: skip
    return observations, sources


def _xy(lon: float, lat: float) -> tuple[float, float]:
    return FRAME.point_to_local(lon, lat)


def test_overlapping_acoustic_sources_are_located() -> None:
    observations, sources = _bearing_scene(1, false_alarms=0)
    config = FusionConfig(
        episode_distance_m=0.0, salvo_window_s=0.0
    )  # keep every round separate here
    result = fuse([(o.id, o) for o in observations], config=config)
    assert len(result.events) == len(sources)
    for event, (sx, sy, _) in zip(result.events, sources, strict=True):
        x, y = _xy(event.lon, event.lat)
        error = math.hypot(x - sx, y - sy)
        # within the 99 % ellipse and within a few hundred metres
        assert error < 400.0
        assert error < 3.1 * math.sqrt(max(event.cov_ee, event.cov_nn))
        assert event.independent_sources >= 2


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_random_false_alarms_stay_mostly_unassociated(seed: int) -> None:
    observations, sources = _bearing_scene(seed, false_alarms=15)
    result = fuse(
        [(o.id, o) for o in observations],
        config=FusionConfig(episode_distance_m=0.0, salvo_window_s=0.0),
    )
    located = 0
    for sx, sy, _ in sources:
        located += any(
            math.hypot(_xy(e.lon, e.lat)[0] - sx, _xy(e.lon, e.lat)[1] - sy) < 500
            for e in result.events
        )
    assert located == len(sources)
    assert len(result.events) <= len(sources) + 2
    assert len(result.unassociated) >= 10


def test_result_does_not_depend_on_input_order() -> None:
    observations, _ = _bearing_scene(5)
    pairs = [(o.id, o) for o in observations]
    first = fuse(pairs)
    random.Random(7).shuffle(pairs)
    second = fuse(pairs)
    assert [e.to_record() for e in first.events] == [e.to_record() for e in second.events]


def test_rounds_of_one_episode_merge_into_one_event() -> None:
    # six rounds within 300 m of one target over 100 s: one shelling, one event
    observations, sources = _bearing_scene(1, false_alarms=0, spread_m=300.0)
    separate = fuse(
        [(o.id, o) for o in observations],
        config=FusionConfig(episode_distance_m=0.0, salvo_window_s=0.0),
    )
    assert len(separate.events) >= 4  # the rounds are resolved individually...
    result = fuse([(o.id, o) for o in observations])  # default episode gate: 1.5 km, 10 min
    assert len(result.events) == 1  # ...and merged into one episode
    event = result.events[0]
    assert event.attributes["n_observations"] == len(observations) - len(result.unassociated)
    x, y = _xy(event.lon, event.lat)
    assert (
        math.hypot(x - np.mean([s[0] for s in sources]), y - np.mean([s[1] for s in sources])) < 300
    )


def _point(
    sensor: str, kind: str, lon: float, lat: float, sigma: float, t: datetime, **attrs: object
) -> Observation:
    modality = {"s": "satellite", "d": "drone", "a": "acoustic"}[sensor[0]]
    return Observation(
        sensor, modality, kind, t, PointLocation.isotropic(lon, lat, sigma), attributes=dict(attrs)
    )


def test_hot_spot_after_shelling_corroborates_it() -> None:
    lon, lat = FRAME.point_to_geo(1000.0, 2000.0)
    blast = _point("a-net", "explosion", lon, lat, 150.0, T0, confidence=0.9)
    lon2, lat2 = FRAME.point_to_geo(1200.0, 2100.0)
    fire = _point(
        "s-viirs", "thermal_anomaly", lon2, lat2, 200.0, T0 + timedelta(hours=4), confidence=0.8
    )
    far_lon, far_lat = FRAME.point_to_geo(30_000.0, 2000.0)
    burn = _point("s-viirs", "thermal_anomaly", far_lon, far_lat, 200.0, T0 + timedelta(hours=4))
    result = fuse(
        [(o.id, o) for o in (blast, fire, burn)], [Sensor("s-viirs", "satellite", reliability=0.9)]
    )
    kinds = sorted(e.kind for e in result.events)
    assert kinds == ["explosion", "thermal_anomaly"]
    explosion = next(e for e in result.events if e.kind == "explosion")
    assert set(explosion.members) == {blast.id, fire.id}
    assert explosion.modalities == ("acoustic", "satellite")
    assert explosion.independent_sources == 2


def test_hot_spot_before_shelling_does_not_corroborate_it() -> None:
    blast = _point("a-net", "explosion", 37.5, 48.0, 150.0, T0)
    fire = _point("s-viirs", "thermal_anomaly", 37.5, 48.0, 200.0, T0 - timedelta(hours=4))
    result = fuse([(o.id, o) for o in (blast, fire)])
    assert len(result.events) == 2


def test_repeated_sightings_of_one_weapon_are_one_event() -> None:
    sightings = [
        _point(
            "d-1",
            "equipment",
            37.5 + dx,
            48.0,
            20.0,
            T0 + timedelta(hours=h),
            weapon_class=w,
            confidence=0.9,
        )
        for dx, h, w in [
            (0.0, 0, "artillery_ge100"),
            (0.0002, 26, "artillery_ge100"),
            (-0.0002, 50, "artillery_lt100"),
        ]
    ]
    other = _point("d-1", "equipment", 37.6, 48.0, 20.0, T0, weapon_class="tank", confidence=0.9)
    result = fuse([(o.id, o) for o in [*sightings, other]])
    assert len(result.events) == 2
    big = next(e for e in result.events if e.attributes["n_observations"] == 3)
    assert big.attributes["weapon_class"] == "artillery_ge100"
    assert big.time_start == T0 and big.time_end == T0 + timedelta(hours=50)


def test_one_sensor_is_not_independent_corroboration() -> None:
    confidence, sources = noisy_or_by_source([("a", 0.6), ("a", 0.6), ("a", 0.5)])
    assert (confidence, sources) == (0.6, 1)
    confidence, sources = noisy_or_by_source([("a", 0.6), ("b", 0.6)])
    assert sources == 2
    assert confidence == pytest.approx(0.84)


def test_salvo_ghosts_are_absorbed_into_the_launch_position() -> None:
    """Ten rockets launched within 20 s from one spot are one source, not ten plus ghosts."""
    rng = np.random.default_rng(11)
    stations = [(rng.uniform(-15e3, 15e3), rng.uniform(-15e3, 15e3)) for _ in range(10)]
    sx, sy = 2_000.0, -1_000.0
    t0 = T0.timestamp()
    observations = []
    for k in range(10):
        origin = t0 + 2.0 * k + rng.uniform(0, 0.5)
        for i, (x, y) in enumerate(stations):
            r = math.hypot(sx - x, sy - y)
            if r > 20e3 or rng.random() < 0.15:
                continue
            azimuth = (math.degrees(math.atan2(sx - x, sy - y)) + rng.normal(0, 3)) % 360
            lon, lat = FRAME.point_to_geo(x, y)
            observations.append(
                Observation(
                    f"ac{i}", "acoustic", "launch", from_epoch(origin + r / C + rng.normal(0, 0.2)),
                    BearingLocation(lon, lat, azimuth, 3.0, 25_000.0),
                    time_sigma_s=0.2, attributes={"confidence": 0.8},
                )
            )  # fmt: skip
    pairs = [(o.id, o) for o in observations]
    result = fuse(pairs)
    assert len(result.events) == 1
    x, y = _xy(result.events[0].lon, result.events[0].lat)
    assert math.hypot(x - sx, y - sy) < 300.0
    # without salvo handling, cross-pairing rounds leaves ghost sources kilometres away
    raw = fuse(pairs, config=FusionConfig(episode_distance_m=0.0, salvo_window_s=0.0))
    assert len(raw.events) > 1
