"""The store conformance suite: every backend runs these same tests.

A backend's test module subclasses :class:`StoreConformance` and provides a
``store`` fixture returning an empty store (the geopandas/pandas
extension-array pattern).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from truceline.evidence.entries import make_entry, observation_entry
from truceline.model import (
    BearingLocation,
    Coverage,
    Event,
    Finding,
    FootprintLocation,
    Observation,
    PointLocation,
    Sensor,
)
from truceline.store.base import BBox, ObservationRow, Query, Store

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def make_observations() -> list[Observation]:
    return [
        Observation("s1", "acoustic", "explosion", T0, PointLocation.isotropic(37.0, 48.0, 100)),
        Observation(
            "s2", "satellite", "thermal_anomaly", T0 + timedelta(hours=3),
            PointLocation.isotropic(37.5, 48.5, 300),
        ),
        Observation(
            "d1", "drone", "crater", T0 + timedelta(hours=5),
            FootprintLocation(((38.0, 47.0), (38.1, 47.0), (38.1, 47.1), (38.0, 47.1))),
            time_end=T0 + timedelta(hours=20),
        ),
        Observation(
            "a1", "acoustic", "launch", T0 + timedelta(days=1),
            BearingLocation(36.0, 49.0, 90.0, 3.0, 10_000.0),
        ),
    ]  # fmt: skip


def make_event(kind: str = "explosion", lon: float = 37.0) -> Event:
    return Event(
        kind=kind, time=T0, time_sigma_s=1.0, time_start=T0, time_end=T0 + timedelta(minutes=5),
        lon=lon, lat=48.0, cov_ee=100.0, cov_en=0.0, cov_nn=100.0, members=("a", "b"),
        sensors=("s1", "s2"), modalities=("acoustic",), independent_sources=2, confidence=0.9,
    )  # fmt: skip


def make_finding(event: Event) -> Finding:
    return Finding(
        event_id=event.id, rule_id="no-fire", agreement_id="x" * 64, agreement_version=1,
        status="candidate", severity="serious", kind=event.kind, time=event.time,
        time_sigma_s=1.0, lon=event.lon, lat=event.lat, cov_ee=100.0, cov_en=0.0, cov_nn=100.0,
        zone_id=None, side="west", party="west", distance_to_line_m=1234.0, confidence=0.9,
        escalation_level="urgent", evidence=event.members, explanation="test",
    )  # fmt: skip


def load(store: Store, observations: list[Observation]) -> list[str]:
    rows = []
    ids = []
    for seq, obs in enumerate(observations):
        entry_id, _, body = observation_entry(obs, {"artifact": "f" * 64, "record": seq + 1})
        rows.append(ObservationRow(seq, entry_id, obs, body, "f" * 64, seq + 1))
        ids.append(entry_id)
    store.add_batch(end_seq=len(rows), observations=rows)
    return ids


class StoreConformance:
    """Tests every :class:`~truceline.store.base.Store` backend must pass."""

    def test_empty(self, store: Store) -> None:
        assert store.log_size() == 0
        assert store.observations() == []
        assert all(count == 0 for count in store.counts().values())

    def test_observations_round_trip(self, store: Store) -> None:
        observations = make_observations()
        ids = load(store, observations)
        assert store.log_size() == len(observations)
        got = store.observations()
        assert [i for i, _ in got] == ids
        assert [o for _, o in got] == observations
        assert store.known_ids("observations", [ids[0], "nope"]) == {ids[0]}

    def test_time_window(self, store: Store) -> None:
        ids = load(store, make_observations())
        window = Query(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=4))
        assert [i for i, _ in store.observations(window)] == [ids[1]]
        # an interval observation matches any window it overlaps
        later = Query(since=T0 + timedelta(hours=10), until=T0 + timedelta(hours=11))
        assert [i for i, _ in store.observations(later)] == [ids[2]]

    def test_bbox(self, store: Store) -> None:
        ids = load(store, make_observations())
        box = Query(bbox=BBox(36.9, 47.9, 37.1, 48.1))
        assert [i for i, _ in store.observations(box)] == [ids[0]]
        footprint = Query(bbox=BBox(38.05, 47.05, 38.06, 47.06))
        assert [i for i, _ in store.observations(footprint)] == [ids[2]]
        # a bearing's extent reaches its maximum range (10 km east of 36.0 E)
        bearing = Query(bbox=BBox(36.1, 48.99, 36.12, 49.01))
        assert [i for i, _ in store.observations(bearing)] == [ids[3]]

    def test_kinds_and_prefix(self, store: Store) -> None:
        ids = load(store, make_observations())
        assert [i for i, _ in store.observations(Query(kinds=("launch",)))] == [ids[3]]
        assert [i for i, _ in store.observations(Query(before_seq=2))] == ids[:2]

    def test_sensors_upsert(self, store: Store) -> None:
        _, first = make_entry("sensor", Sensor("s1", "acoustic", reliability=0.7).to_dict())
        _, second = make_entry("sensor", Sensor("s1", "acoustic", reliability=0.8).to_dict())
        store.add_batch(end_seq=2, other_entries=[(0, first), (1, second)])
        assert store.sensors() == [Sensor("s1", "acoustic", reliability=0.8)]

    def test_coverage_query(self, store: Store) -> None:
        cov = Coverage(
            "d1", T0, T0 + timedelta(hours=1), "POLYGON ((37 48, 37.1 48, 37.1 48.1, 37 48))", 0.8
        )
        _, entry = make_entry("coverage", cov.to_dict())
        store.add_batch(end_seq=1, other_entries=[(0, entry)])
        assert store.coverage() == [cov]
        assert store.coverage(Query(since=T0 + timedelta(hours=2))) == []
        assert store.coverage(Query(bbox=BBox(30, 30, 31, 31))) == []

    def test_observation_refs(self, store: Store) -> None:
        observations = make_observations()
        ids = load(store, observations)
        refs = store.observation_refs([ids[2], ids[0], "unknown"])
        assert refs == {ids[0]: (0, observations[0]), ids[2]: (2, observations[2])}

    def test_escalations_and_reviews(self, store: Store) -> None:
        alert = {"key": "k" * 64, "level": "attack", "finding": {"id": "f" * 64}, "run_id": "r"}
        _, escalation = make_entry("escalation", alert)
        ruling = {"finding_id": "f" * 64, "status": "verified", "by": "alice", "note": None}
        _, first = make_entry("review", ruling)
        _, second = make_entry("review", {**ruling, "status": "dismissed"})
        store.add_batch(end_seq=3, other_entries=[(0, escalation), (1, first), (2, second)])
        (logged,) = store.escalations()
        assert logged["seq"] == 0 and logged["body"] == alert
        assert [r["body"]["status"] for r in store.reviews()] == ["verified", "dismissed"]
        assert [r["seq"] for r in store.reviews(before_seq=2)] == [1]
        assert store.counts()["reviews"] == 2 and store.counts()["escalations"] == 1

    def test_results_are_replaced(self, store: Store) -> None:
        first = make_event()
        store.replace_results("run1", [first], [make_finding(first)])
        second = make_event("launch", lon=37.2)
        store.replace_results("run2", [second], [])
        assert store.events() == [second]
        assert store.findings() == []
        third = make_event(lon=36.0)
        store.replace_results("run3", [third], [make_finding(third)])
        assert [f.event_id for f in store.findings()] == [third.id]
        assert store.findings(Query(bbox=BBox(37.5, 47, 38, 49))) == []

    def test_digest_reflects_content(self, store: Store) -> None:
        empty = store.content_digest()
        load(store, make_observations()[:1])
        assert store.content_digest() != empty

    def test_failed_batch_leaves_nothing(self, store: Store) -> None:
        observations = make_observations()
        load(store, observations[:1])
        before = store.content_digest()
        entry_id, _, body = observation_entry(observations[1], {})
        good = ObservationRow(1, entry_id, observations[1], body, None, None)
        duplicate = ObservationRow(2, entry_id, observations[1], body, None, None)
        with pytest.raises(Exception, match=r"UNIQUE|unique|duplicate"):
            store.add_batch(end_seq=3, observations=[good, duplicate])
        assert store.content_digest() == before
        assert store.log_size() == 1
