"""The engine's events carry the configured calibration and source groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from truceline.fusion import FusionConfig, fuse
from truceline.fusion.confidence import apply_confidence_map
from truceline.model import LocalFrame, Observation, PointLocation, Sensor

T0 = datetime(2026, 11, 2, 6, tzinfo=UTC)
FRAME = LocalFrame(37.5, 48.0)
#: A monotone map far from the identity, so that applying it shows.
KNOTS = ((0.0, 0.0), (0.5, 0.1), (1.0, 0.6))


def _point(sensor: str, kind: str, east_m: float, t: datetime, **attrs: object) -> Observation:
    lon, lat = FRAME.point_to_geo(east_m, 0.0)
    return Observation(
        sensor, "acoustic", kind, t, PointLocation.isotropic(lon, lat, 100.0),
        attributes={"confidence": 0.8, **attrs},
    )  # fmt: skip


def _two_sensors(**attrs: object) -> tuple[list[tuple[str, Observation]], list[Sensor]]:
    sensors = [Sensor(f"acoustic:S{k}", "acoustic", reliability=0.7) for k in range(2)]
    observations = [
        _point(s.id, "explosion", 20.0 * k, T0 + timedelta(seconds=k), **attrs)
        for k, s in enumerate(sensors)
    ]
    return [(o.id, o) for o in observations], sensors


def test_events_carry_the_configured_confidence_map() -> None:
    pairs, sensors = _two_sensors()
    plain = fuse(pairs, sensors).events
    mapped = fuse(pairs, sensors, FusionConfig(confidence_map=KNOTS)).events
    assert len(plain) == len(mapped) == 1
    before, after = plain[0], mapped[0]
    stated = before.attributes["p_real"] * before.attributes["p_kind"]
    assert before.confidence == pytest.approx(stated, abs=1e-6)
    assert after.confidence == pytest.approx(apply_confidence_map(KNOTS, stated), abs=1e-6)
    assert after.confidence < before.confidence - 0.2
    # what the map does not touch: association, P(real), P(kind), sources
    assert after.members == before.members
    for key in ("p_real", "p_kind"):
        assert after.attributes[key] == before.attributes[key]
    assert after.independent_sources == before.independent_sources


def test_a_configured_group_outranks_the_group_an_observation_names() -> None:
    # both observations claim one platform; the operator says they are independent
    pairs, sensors = _two_sensors(source_group="one-platform")
    named = fuse(pairs, sensors).events
    assert [e.independent_sources for e in named] == [1]
    config = FusionConfig(source_groups=(("acoustic:S0", "net-A"), ("acoustic:S1", "net-B")))
    configured = fuse(pairs, sensors, config).events
    assert [e.independent_sources for e in configured] == [2]
    assert configured[0].attributes["p_real"] == pytest.approx(1.0 - 0.3**2, abs=1e-6)
    # and the other way round: a configured shared group merges what the data split
    pairs, sensors = _two_sensors()
    shared = FusionConfig(source_groups=(("acoustic:S0", "chain"), ("acoustic:S1", "chain")))
    assert [e.independent_sources for e in fuse(pairs, sensors, shared).events] == [1]
