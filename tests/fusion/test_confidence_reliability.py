"""Re-estimating source reliabilities from reviewed findings (Beta-Binomial)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline.fusion.config import FusionConfig
from truceline.fusion.reliability import (
    ReviewTally,
    Tally,
    apply_estimates,
    configured_reliability,
    event_outcomes,
    reestimate,
    tally_reviews,
)
from truceline.fusion.reliability_file import (
    load_reliability_file,
    packaged_reliability_file,
    with_reliability_file,
    write_reliability_file,
)
from truceline.model.errors import RecordError
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.location import PointLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _obs(sensor: str, kind: str, modality: str, n: int) -> Observation:
    return Observation(
        sensor_id=sensor,
        modality=modality,
        kind=kind,
        time=T0,
        location=PointLocation(37.9, 48.5, 100.0, 0.0, 100.0),
        attributes={"n": n},
    )


class _Scene:
    """Events built from observations, each with a known review outcome."""

    def __init__(self) -> None:
        self.observations: dict[str, Observation] = {}
        self.events: list[Event] = []
        self.outcomes: dict[str, bool] = {}

    def event(self, members: list[tuple[str, str, str]], real: bool | None) -> Event:
        ids = []
        for sensor, kind, modality in members:
            obs = _obs(sensor, kind, modality, len(self.observations))
            oid = f"obs-{len(self.observations):04d}"
            self.observations[oid] = obs
            ids.append(oid)
        event = Event(
            kind=members[0][1],
            time=T0,
            time_sigma_s=1.0,
            time_start=T0,
            time_end=T0,
            lon=37.9,
            lat=48.5,
            cov_ee=100.0,
            cov_en=0.0,
            cov_nn=100.0,
            members=tuple(ids),
            sensors=tuple(sorted({m[0] for m in members})),
            modalities=tuple(sorted({m[2] for m in members})),
            independent_sources=1,
            confidence=0.5,
            attributes={"n": len(self.events)},
        )
        self.events.append(event)
        if real is not None:
            self.outcomes[event.id] = real
        return event


def _finding(event_id: str, rule: str) -> Finding:
    return Finding(
        event_id=event_id,
        rule_id=rule,
        agreement_id="a",
        agreement_version=1,
        status="candidate",
        severity="minor",
        kind="explosion",
        time=T0,
        time_sigma_s=1.0,
        lon=37.9,
        lat=48.5,
        cov_ee=1.0,
        cov_en=0.0,
        cov_nn=1.0,
        zone_id=None,
        side=None,
        party=None,
        distance_to_line_m=0.0,
        confidence=0.5,
        escalation_level="notice",
        evidence=(),
        explanation="",
    )


def test_event_outcomes_from_finding_reviews() -> None:
    a1, a2 = _finding("ev-a", "r1"), _finding("ev-a", "r2")
    b1 = _finding("ev-b", "r1")
    c1 = _finding("ev-c", "r1")
    d1 = _finding("ev-d", "r1")
    statuses = {a1.id: "dismissed", a2.id: "verified", b1.id: "dismissed", c1.id: "under_review"}
    outcomes = event_outcomes([a1, a2, b1, c1, d1], statuses)
    # A verified finding makes the event real even if another rule was dismissed.
    assert outcomes == {"ev-a": True, "ev-b": False}


def test_each_event_counts_once_per_source_group() -> None:
    scene = _Scene()
    element = "infrasound:TL.ARR0{}"
    array = [Sensor(element.format(i), "infrasound", array="infrasound:TL.ARR") for i in (1, 2, 3)]
    # One event heard by three elements of one array, twice by one microphone.
    scene.event(
        [(s.id, "explosion", "infrasound") for s in array]
        + [("acoustic:A1", "explosion", "acoustic")] * 2,
        real=False,
    )
    scene.event([("acoustic:A1", "explosion", "acoustic")], real=True)
    scene.event([("acoustic:A1", "explosion", "acoustic")], real=None)  # unreviewed
    tally = tally_reviews(scene.events, scene.outcomes, scene.observations, FusionConfig(), array)
    assert tally.events == 2
    assert tally.classes[("infrasound", "explosion")] == Tally(1, 0)  # the array once
    assert tally.classes[("acoustic", "explosion")] == Tally(2, 1)  # repeats once
    assert tally.sensors[("infrasound:TL.ARR01", "explosion")] == Tally(1, 0)
    assert tally.sensors[("acoustic:A1", "explosion")] == Tally(2, 1)


def test_missing_member_is_named() -> None:
    scene = _Scene()
    event = scene.event([("s", "explosion", "acoustic")], real=True)
    with pytest.raises(KeyError, match=event.members[0]):
        tally_reviews(scene.events, scene.outcomes, {}, FusionConfig())


def _tally(trials: int, successes: int) -> ReviewTally:
    return ReviewTally(
        classes={("satellite", "crater"): Tally(trials, successes)},
        sensors={("sar:R1", "crater"): Tally(trials, successes)},
        sensor_modality={"sar:R1": "satellite"},
        configured={("sar:R1", "crater"): 0.5},
        events=trials,
    )


def test_beta_binomial_update_moves_towards_outcomes_by_the_prior_strength() -> None:
    config = FusionConfig(modality_reliability=(("satellite", "crater", 0.5),))
    weak = {e.level: e for e in reestimate(_tally(40, 10), config, prior_strength=10.0)}
    strong = {e.level: e for e in reestimate(_tally(40, 10), config, prior_strength=160.0)}
    # (s m0 + k) / (s + n)
    assert weak["modality"].posterior_mean == pytest.approx((10 * 0.5 + 10) / (10 + 40))
    assert strong["modality"].posterior_mean == pytest.approx((160 * 0.5 + 10) / (160 + 40))
    observed = 10 / 40
    assert observed < weak["modality"].posterior_mean < strong["modality"].posterior_mean < 0.5
    low, high = weak["modality"].interval
    assert low < weak["modality"].posterior_mean < high
    narrower = {e.level: e for e in reestimate(_tally(400, 100), config, 10.0)}["modality"]
    assert narrower.interval[1] - narrower.interval[0] < high - low
    # No reviews: the prior stands.
    none = {e.level: e for e in reestimate(_tally(0, 0), config, 10.0)}
    assert none["modality"].posterior_mean == pytest.approx(0.5)


def test_sensor_prior_is_its_class_without_its_own_reviews() -> None:
    tally = ReviewTally(
        classes={("satellite", "crater"): Tally(30, 10)},
        sensors={("sar:R1", "crater"): Tally(20, 5), ("sar:R2", "crater"): Tally(10, 5)},
        sensor_modality={"sar:R1": "satellite", "sar:R2": "satellite"},
        configured={("sar:R1", "crater"): 0.5, ("sar:R2", "crater"): 0.5},
        events=30,
    )
    config = FusionConfig(
        modality_reliability=(("satellite", "crater", 0.5),),
        sensor_reliability=(("sar:R2", "crater", 0.9),),
    )
    estimates = {(e.level, e.key): e for e in reestimate(tally, config, prior_strength=10.0)}
    r1 = estimates["sensor", "sar:R1"]
    # Class prior 0.5 updated by the other sensor's 5 of 10 only.
    assert r1.prior_mean == pytest.approx((10 * 0.5 + 5) / (10 + 10))
    assert r1.posterior_mean == pytest.approx((10 * r1.prior_mean + 5) / (10 + 20))
    # An explicitly configured sensor keeps its own prior.
    r2 = estimates["sensor", "sar:R2"]
    assert r2.prior_mean == 0.9
    assert r2.posterior_mean == pytest.approx((10 * 0.9 + 5) / 20)


def test_class_prior_falls_back_to_the_sensors_configured_values() -> None:
    tally = ReviewTally(
        classes={("acoustic", "explosion"): Tally(4, 4)},
        sensors={("a", "explosion"): Tally(2, 2), ("b", "explosion"): Tally(2, 2)},
        sensor_modality={"a": "acoustic", "b": "acoustic"},
        configured={("a", "explosion"): 0.8, ("b", "explosion"): 0.9},
        events=4,
    )
    estimate = next(e for e in reestimate(tally, FusionConfig(), 10.0) if e.level == "modality")
    assert estimate.prior_mean == pytest.approx(0.85)


def test_end_to_end_reestimation_changes_the_contributions() -> None:
    scene = _Scene()
    sar = Sensor("sar:R1", "satellite", reliability=0.5)
    for i in range(30):
        scene.event([("sar:R1", "crater", "satellite")], real=i % 5 == 0)  # 6 of 30 real
    config = FusionConfig()
    tally = tally_reviews(scene.events, scene.outcomes, scene.observations, config, [sar])
    updated = apply_estimates(config, reestimate(tally, config, prior_strength=20.0))
    before = configured_reliability(config, "sar:R1", "satellite", "crater", sar)
    after = configured_reliability(updated, "sar:R1", "satellite", "crater", sar)
    unseen = configured_reliability(updated, "sar:R9", "satellite", "crater", sar)
    assert before == 0.5
    assert 0.2 < after < 0.5
    assert 0.2 < unseen < 0.5  # a never-reviewed sensor of the class gets the class estimate
    assert (
        configured_reliability(updated, "sar:R1", "satellite", "surface_change", sar) == 0.5
    )  # other kinds are untouched


def test_reliability_file_round_trip(tmp_path: Path) -> None:
    config = FusionConfig(
        modality_reliability=(("satellite", "crater", 0.3),),
        sensor_reliability=(("acoustic:A1", "*", 0.9),),
        source_groups=(("sar:R1", "sar"),),
        confidence_map=((0.1, 0.02), (0.5, 0.45), (0.95, 0.99)),
    )
    estimates = reestimate(_tally(10, 3), config, 20.0)
    path = tmp_path / "rel.yaml"
    write_reliability_file(path, config, provenance={"method": "test"}, estimates=estimates)
    loaded = load_reliability_file(path)
    assert loaded.provenance == {"method": "test"}
    assert len(loaded.estimates) == len(estimates)
    base = FusionConfig(modality_reliability=(("satellite", "crater", 0.5), ("drone", "*", 0.8)))
    merged = with_reliability_file(base, path)
    assert merged.modality_reliability == (("drone", "*", 0.8), ("satellite", "crater", 0.3))
    assert merged.sensor_reliability == config.sensor_reliability
    assert merged.source_groups == config.source_groups
    assert merged.confidence_map == config.confidence_map
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("format: other/1\n", "format"),
        ("format: truceline-reliability/1\nmodalities: {satellite: {crater: 1.5}}\n", "crater"),
        ("format: truceline-reliability/1\nsensors: {a: {'*': yes}}\n", "sensors.a"),
        ("format: truceline-reliability/1\nmodalities: {satellite: 0.5}\n", "modalities.satellite"),
        ("format: truceline-reliability/1\nextra: 1\n", "extra"),
        ("format: truceline-reliability/1\ngroups: {a: 3}\n", "groups"),
        ("format: truceline-reliability/1\nconfidence_map: [[0.1]]\n", "confidence_map"),
    ],
)
def test_bad_reliability_file_names_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RecordError) as info:
        load_reliability_file(path)
    assert str(path) in str(info.value)
    assert field in str(info.value)


def test_packaged_profile_is_valid_and_says_how_it_was_made() -> None:
    path = packaged_reliability_file("reliability-sim-v1")
    content = load_reliability_file(path)
    assert content.provenance["train_seeds"]
    assert str(content.provenance["command"]).startswith(
        "python -m truceline.evaluation.calibration_study fit"
    )
    assert content.confidence_map  # fitted with the reliabilities it goes with
    config = with_reliability_file(FusionConfig(), path)
    assert config.modality_reliability and config.confidence_map == content.confidence_map
    with pytest.raises(FileNotFoundError, match="no-such-profile"):
        packaged_reliability_file("no-such-profile")
