"""Labelling fused events against the truth, and the held-out calibration study."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from truceline.evaluation.calibration_labels import EventLabel, label_events
from truceline.evaluation.calibration_study import (
    ScenarioSample,
    fit_profile,
    rescore,
    run_study,
    simulate_sample,
)
from truceline.fusion.config import FusionConfig
from truceline.model.event import Event
from truceline.model.geo import WGS84_GEOD
from truceline.model.location import PointLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.model.timeutil import format_utc

T0 = datetime(2026, 11, 2, 6, tzinfo=UTC)
LON, LAT = 37.9, 48.5


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    lon, lat, _ = WGS84_GEOD.fwd(LON, LAT, 90.0, east_m)
    lon, lat, _ = WGS84_GEOD.fwd(lon, lat, 0.0, north_m)
    return float(lon), float(lat)


def _event(
    kind: str,
    east_m: float,
    north_m: float,
    t: datetime,
    members: tuple[str, ...] = ("o",),
    t_end: datetime | None = None,
) -> Event:
    lon, lat = _at(east_m, north_m)
    return Event(
        kind=kind,
        time=t,
        time_sigma_s=1.0,
        time_start=t,
        time_end=t_end or t,
        lon=lon,
        lat=lat,
        cov_ee=100.0,
        cov_en=0.0,
        cov_nn=100.0,
        members=members,
        sensors=("s",),
        modalities=("acoustic",),
        independent_sources=1,
        confidence=0.5,
        attributes={"tag": f"{kind}-{east_m}-{north_m}-{t.isoformat()}"},
    )


def _truth_record(
    id_: str, kind: str, east_m: float, north_m: float, t: datetime, t_end: datetime | None = None
) -> dict[str, Any]:
    lon, lat = _at(east_m, north_m)
    record: dict[str, Any] = {"id": id_, "kind": kind, "lon": lon, "lat": lat}
    record["time"] = format_utc(t)
    if t_end is not None:
        record["time_end"] = format_utc(t_end)
    return record


TRUTH = {
    "events": [
        _truth_record("impact-1", "impact", 0, 0, T0, T0 + timedelta(minutes=5)),
        _truth_record(
            "storm-1", "other", 40_000, 0, T0 + timedelta(hours=8), T0 + timedelta(hours=10)
        ),
        _truth_record("equip-1", "equipment", -20_000, 0, T0, T0 + timedelta(days=2)),
    ],
    "satellite_stacks": {
        "changes": [_truth_record("crater-1", "crater", 5_000, 5_000, T0 - timedelta(days=1))]
    },
}


def test_labels_real_kind_and_duplicates() -> None:
    storm_time = T0 + timedelta(hours=9)
    events = [
        _event("impact", 800, 0, T0 + timedelta(seconds=60)),  # matched to the impact
        _event("explosion", 1_200, 300, T0 + timedelta(seconds=90)),  # a second one: duplicate
        _event("other", 70_000, 0, storm_time),  # thunder 30 km from the storm's mid-track
        _event("explosion", 55_000, 5_000, storm_time),  # thunder called an explosion
        _event("explosion", 0, 50_000, T0),  # nothing there: a false alarm
        _event("crater", 5_100, 5_000, T0, t_end=T0 + timedelta(days=3)),  # a true change
        _event("equipment", -23_000, 0, T0),  # 3 km from the real group: false
        _event("thermal_anomaly", 500, 500, T0 + timedelta(hours=5)),  # fire lit by shelling
        _event("impact", 0, 0, T0 + timedelta(hours=2)),  # right place, two hours late
    ]
    labels = label_events(events, TRUTH)
    got = [(lb.real, lb.kind_correct, lb.duplicate, lb.truth_id) for lb in labels]
    assert got == [
        (True, True, False, "impact-1"),
        (True, True, True, "impact-1"),
        (True, True, False, "storm-1"),
        (True, False, True, "storm-1"),
        (False, False, False, None),
        (True, True, False, "crater-1"),
        (False, False, False, None),
        (True, True, True, "impact-1"),
        (False, False, False, None),
    ]
    assert [lb.event_id for lb in labels] == [e.id for e in events]
    assert label_events([], TRUTH) == []


def _crater_sample(seed: int, n: int, real_every: int) -> ScenarioSample:
    """Single-sensor crater events from one SAR change detector, every ``real_every``-th real."""
    sensor = Sensor("sar:R1", "satellite", reliability=0.5)
    observations: dict[str, Observation] = {}
    events, labels = [], []
    for i in range(n):
        oid = f"{seed}-{i:04d}"
        observations[oid] = Observation(
            sensor_id=sensor.id,
            modality="satellite",
            kind="crater",
            time=T0,
            location=PointLocation(LON, LAT, 100.0, 0.0, 100.0),
            attributes={"seed": seed, "i": i},
        )
        event = _event("crater", 100.0 * i, 0, T0, members=(oid,))
        real = i % real_every == 0
        events.append(event)
        labels.append(EventLabel(event.id, "crater", real, real, False, "c" if real else None))
    return ScenarioSample(seed, events, observations, [sensor], labels)


def test_rescore_and_held_out_study_on_a_known_false_alarm_rate() -> None:
    train = [_crater_sample(1, 100, 4), _crater_sample(2, 100, 4)]  # 25 % real
    test = [_crater_sample(3, 200, 4)]
    config = FusionConfig()
    scored = rescore(test[0], config)
    assert {s.p_real for s in scored} == {0.5}  # the sensor's described reliability
    report = run_study(train, test, config, prior_strength=20.0, min_block=10)
    configured = report["configured"]["p_real"]
    reestimated = report["reestimated"]["p_real"]
    assert report["train_seeds"] == [1, 2] and report["test_seeds"] == [3]
    # 50 of 200 real: the posterior (20 * 0.5 + 50) / (20 + 200) ~ 0.27 is near 0.25.
    [estimate] = [r for r in report["reliabilities"] if r["kind"] == "crater"]
    assert estimate["posterior_mean"] == pytest.approx((20 * 0.5 + 50) / 220, abs=1e-6)
    assert reestimated["brier"]["brier"] < configured["brier"]["brier"]
    assert reestimated["brier"]["reliability"] < 0.002 < configured["brier"]["reliability"]
    assert report["reestimated"]["by_kind"]["crater"]["observed_real"] == 0.25
    with pytest.raises(ValueError, match="overlap"):
        run_study(train, [_crater_sample(2, 10, 4)], config)


def _sighting_sample(seed: int, n: int) -> ScenarioSample:
    """Drone sightings: confident ones (score 0.8) real, doubtful ones (0.3) false alarms."""
    sensor = Sensor("drone:UAV-1", "drone", reliability=0.9)
    observations: dict[str, Observation] = {}
    events, labels = [], []
    for i in range(n):
        real = i % 2 == 0
        oid = f"{seed}-{i:04d}"
        observations[oid] = Observation(
            sensor_id=sensor.id,
            modality="drone",
            kind="equipment",
            time=T0,
            location=PointLocation(LON, LAT, 100.0, 0.0, 100.0),
            attributes={"confidence": 0.8 if real else 0.3, "seed": seed, "i": i},
        )
        event = _event("equipment", 100.0 * i, 0, T0, members=(oid,))
        events.append(event)
        labels.append(EventLabel(event.id, "equipment", real, real, False, None))
    return ScenarioSample(seed, events, observations, [sensor], labels)


def test_profile_recalibrates_what_reliabilities_cannot() -> None:
    # Half the sightings are false: re-estimation brings the reliability from
    # 0.9 towards 0.5, but the detector score separates real from false far
    # better than P(real) x score says; the map learns that out of fold.
    train = [_sighting_sample(seed, 40) for seed in (1, 2, 3)]
    test = [_sighting_sample(4, 40)]
    profile = fit_profile(train, prior_strength=20.0, min_block=5)
    assert profile.train_seeds == [1, 2, 3]
    assert profile.calibration_map is not None
    assert profile.calibration_map.provenance["train_seeds"] == [1, 2, 3]
    assert profile.config.confidence_map == profile.calibration_map.knots
    [estimate] = [e for e in profile.estimates if e.level == "modality"]
    assert estimate.posterior_mean == pytest.approx((20 * 0.9 + 60) / (20 + 120))
    report = run_study(train, test, prior_strength=20.0, min_block=5)
    brier = {v: report[v]["confidence"]["brier"]["brier"] for v in ("reestimated", "recalibrated")}
    assert brier["recalibrated"] < 0.01 < brier["reestimated"]
    with pytest.raises(ValueError, match="two training"):
        fit_profile(train[:1])


@pytest.mark.slow
def test_calibration_on_simulated_scenarios(tmp_path: Path) -> None:
    """End to end: one simulated day of three seeds, two to fit, one held out."""
    train = [simulate_sample(seed, tmp_path, days=1) for seed in (21, 24)]
    test = [simulate_sample(23, tmp_path, days=1)]
    # Rescoring with the run's configuration reproduces the engine's confidences.
    for event, scored in zip(test[0].events, rescore(test[0], FusionConfig()), strict=True):
        assert scored.confidence == pytest.approx(event.confidence, abs=1e-6)
    report = run_study(train, test, FusionConfig())
    assert report["test_seeds"] == [23]
    for variant in ("configured", "reestimated", "recalibrated"):
        for target in ("p_real", "confidence"):
            summary = report[variant][target]
            assert sum(b["count"] for b in summary["diagram"]) == report[variant]["events"]
            assert 0.0 <= summary["brier"]["brier"] <= 1.0
    # Reliabilities learnt from other scenarios improve P(real) on this one.
    assert (
        report["reestimated"]["p_real"]["brier"]["brier"]
        < report["configured"]["p_real"]["brier"]["brier"]
    )
    top = report["reestimated"]["p_real"]["diagram"][-1]
    assert top["mean_predicted"] >= 0.9
    assert abs(top["observed"] - top["mean_predicted"]) < 0.05
