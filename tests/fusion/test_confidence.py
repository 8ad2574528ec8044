"""Event confidence: source groups count once; contributions from observations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from truceline.fusion.confidence import (
    Contribution,
    apply_confidence_map,
    event_confidence,
    pooled_kind_probability,
)
from truceline.fusion.config import FusionConfig
from truceline.fusion.reliability import (
    configured_reliability,
    observation_contribution,
    source_group,
)
from truceline.model.location import PointLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

FIRE = frozenset({"explosion", "impact", "launch", "gunfire"})


def _c(
    sensor: str, reliability: float = 0.6, confidence: float = 0.8, **kw: object
) -> Contribution:
    return Contribution(sensor, "explosion", confidence, reliability, **kw)  # type: ignore[arg-type]


def test_two_detections_of_one_sensor_are_not_two_sources() -> None:
    one = event_confidence([_c("a")], FIRE)
    same_sensor = event_confidence([_c("a"), _c("a")], FIRE)
    two_sensors = event_confidence([_c("a"), _c("b")], FIRE)
    assert same_sensor == one
    assert same_sensor[1] == pytest.approx(0.6)
    assert two_sensors[1] == pytest.approx(1 - 0.4 * 0.4)
    assert (same_sensor[3], two_sensors[3]) == (1, 2)


def test_a_correlated_group_counts_once_through_its_best_member() -> None:
    grouped = [_c("a", 0.6, group="array-1"), _c("b", 0.7, group="array-1")]
    _confidence, p_real, p_kind, sources = event_confidence(grouped, FIRE)
    assert sources == 1
    assert p_real == pytest.approx(0.7)  # the best member, not 1 - 0.4 * 0.3
    assert p_kind == pytest.approx(0.8)  # one opinion, not two pooled
    independent = event_confidence([_c("a", 0.6), _c("b", 0.7)], FIRE)
    assert independent[1] == pytest.approx(1 - 0.4 * 0.3)
    assert independent[2] > p_kind
    # A second, independent source on top of the group does count.
    more = event_confidence([*grouped, _c("c", 0.5)], FIRE)
    assert more[3] == 2
    assert more[1] == pytest.approx(1 - 0.3 * 0.5)


def test_group_defaults_to_the_sensor() -> None:
    assert _c("a").source == "a"
    assert _c("a", group="g").source == "g"


def test_kind_pooling_uses_each_group_once_and_counts_dissent() -> None:
    votes = [
        Contribution("a", "explosion", 0.9, 0.9, group="g"),
        Contribution("b", "explosion", 0.9, 0.9, group="g"),
        Contribution("c", "other", 0.7, 0.9),
    ]
    p = pooled_kind_probability(votes, FIRE)
    assert p == pytest.approx(0.9 * 0.3 / (0.9 * 0.3 + 0.1 * 0.7))
    corroborating = [Contribution("s", "thermal_anomaly", 1.0, 0.9, classifies=False)]
    assert pooled_kind_probability(corroborating, FIRE) is None
    assert event_confidence(corroborating, FIRE)[2] == 1.0


def _obs(sensor: str, kind: str, modality: str = "acoustic", **attributes: object) -> Observation:
    return Observation(
        sensor_id=sensor,
        modality=modality,
        kind=kind,
        time=datetime(2026, 11, 2, tzinfo=UTC),
        location=PointLocation(37.9, 48.5, 100.0, 0.0, 100.0),
        attributes=attributes,
    )


def test_reliability_precedence() -> None:
    sensor = Sensor("acoustic:A1", "acoustic", reliability=0.85)
    config = FusionConfig(default_reliability=0.6)
    assert configured_reliability(config, "acoustic:A1", "acoustic", "explosion", sensor) == 0.85
    assert configured_reliability(config, "acoustic:A1", "acoustic", "explosion", None) == 0.6
    config = FusionConfig(modality_reliability=(("acoustic", "*", 0.7),))
    assert configured_reliability(config, "acoustic:A1", "acoustic", "explosion", sensor) == 0.7
    config = FusionConfig(
        modality_reliability=(("acoustic", "*", 0.7), ("acoustic", "explosion", 0.75)),
        sensor_reliability=(("acoustic:A1", "*", 0.9),),
    )
    assert configured_reliability(config, "acoustic:A1", "acoustic", "explosion", sensor) == 0.9
    assert configured_reliability(config, "acoustic:A2", "acoustic", "explosion", None) == 0.75
    assert configured_reliability(config, "acoustic:A2", "acoustic", "gunfire", None) == 0.7
    config = FusionConfig(
        sensor_reliability=(("acoustic:A1", "*", 0.9), ("acoustic:A1", "other", 0.2))
    )
    assert configured_reliability(config, "acoustic:A1", "acoustic", "other", sensor) == 0.2


def test_source_group_precedence() -> None:
    element = Sensor("infrasound:TL.ARR01", "infrasound", array="infrasound:TL.ARR")
    lone = Sensor("acoustic:A1", "acoustic")
    config = FusionConfig()
    assert source_group(config, element.id, element) == "infrasound:TL.ARR"
    assert source_group(config, lone.id, lone) == "acoustic:A1"
    assert source_group(config, "unknown", None) == "unknown"
    config = FusionConfig(source_groups=(("acoustic:A1", "shared-classifier"),))
    assert source_group(config, lone.id, lone) == "shared-classifier"


def test_an_observation_may_name_its_group_but_the_configuration_wins() -> None:
    element = Sensor("drone:UAV-1", "drone", array=None)
    flight = _obs("drone:UAV-1", "equipment", "drone", source_group="flight-7")
    plain = _obs("drone:UAV-1", "equipment", "drone", source_group="")
    assert observation_contribution(flight, element, FusionConfig()).source == "flight-7"
    assert observation_contribution(plain, element, FusionConfig()).source == "drone:UAV-1"
    config = FusionConfig(source_groups=(("drone:UAV-1", "all-drones"),))
    assert observation_contribution(flight, element, config).source == "all-drones"


def test_observation_contribution() -> None:
    sensor = Sensor("drone:UAV-1", "drone", reliability=0.9)
    config = FusionConfig(modality_reliability=(("drone", "crater", 0.4),))
    sighting = observation_contribution(
        _obs("drone:UAV-1", "equipment", "drone", confidence=0.7), sensor, config
    )
    assert (sighting.reliability, sighting.confidence, sighting.classifies) == (0.9, 0.7, True)
    assert sighting.source == "drone:UAV-1"
    crater = observation_contribution(_obs("drone:UAV-1", "crater", "drone"), sensor, config)
    assert (crater.reliability, crater.confidence, crater.classifies) == (0.4, 1.0, False)
    beam = observation_contribution(_obs("x", "other", label="array_detection"), None, config)
    assert not beam.classifies
    assert beam.reliability == config.default_reliability
    weird = observation_contribution(_obs("x", "explosion", confidence="high"), None, config)
    assert weird.confidence == 1.0


def test_config_tables_round_trip_and_keep_the_old_digest_when_empty() -> None:
    plain = FusionConfig()
    assert "modality_reliability" not in plain.to_dict()
    config = FusionConfig(
        modality_reliability=(("satellite", "crater", 0.3), ("satellite", "*", 0.8)),
        sensor_reliability=(("acoustic:A1", "*", 0.9),),
        source_groups=(("sentinel-1a:pwtt:R043", "sentinel-1a"),),
    )
    data = config.to_dict()
    assert data["modality_reliability"] == {"satellite": {"*": 0.8, "crater": 0.3}}
    assert FusionConfig.from_dict(data) == config
    assert FusionConfig.from_dict(data).digest == config.digest != plain.digest
    shuffled = FusionConfig(
        modality_reliability=(("satellite", "*", 0.8), ("satellite", "crater", 0.3)),
        sensor_reliability=(("acoustic:A1", "*", 0.9),),
        source_groups=(("sentinel-1a:pwtt:R043", "sentinel-1a"),),
    )
    assert shuffled.digest == config.digest


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"modality_reliability": (("satellite", "crater", 1.0),)}, "satellite.crater"),
        ({"sensor_reliability": (("s", "*", 0.0),)}, "sensor_reliability.s"),
        (
            {"modality_reliability": (("satellite", "crater", 0.3), ("satellite", "crater", 0.4))},
            "twice",
        ),
        ({"source_groups": (("s", "a"), ("s", "b"))}, "source_groups.s"),
        ({"default_reliability": 1.5}, "default_reliability"),
    ],
)
def test_bad_reliability_tables_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FusionConfig(**kwargs)  # type: ignore[arg-type]


def test_from_dict_names_the_bad_table_entry() -> None:
    with pytest.raises(ValueError, match=r"modality_reliability\.satellite\.crater"):
        FusionConfig.from_dict({"modality_reliability": {"satellite": {"crater": "high"}}})
    with pytest.raises(ValueError, match="unknown fusion parameter"):
        FusionConfig.from_dict({"reliabilities": {}})


def test_confidence_map_recalibrates_only_the_final_confidence() -> None:
    knots = ((0.2, 0.05), (0.6, 0.5), (0.9, 0.97))
    contributions = [_c("a", 0.75, confidence=0.8)]  # 0.75 * 0.8 = 0.6
    plain = event_confidence(contributions, FIRE)
    mapped = event_confidence(contributions, FIRE, knots)
    assert plain[0] == pytest.approx(0.6)
    assert mapped[0] == pytest.approx(0.5)
    assert mapped[1:] == plain[1:]  # P(real), P(kind) and sources are reported unmapped
    assert apply_confidence_map(knots, 0.75) == pytest.approx(0.5 + 0.47 * 0.5)
    assert apply_confidence_map(knots, 0.1) == 0.05
    assert apply_confidence_map(knots, 0.99) == 0.97
    assert apply_confidence_map((), 0.3) == 0.3
    config = FusionConfig(confidence_map=knots)
    assert FusionConfig.from_dict(config.to_dict()) == config
    assert "confidence_map" not in FusionConfig().to_dict()
    with pytest.raises(ValueError, match="confidence_map"):
        FusionConfig(confidence_map=((0.5, 0.5), (0.4, 0.6)))
    with pytest.raises(ValueError, match="confidence_map"):
        FusionConfig(confidence_map=((0.5, 0.5), (0.6, 0.4)))
