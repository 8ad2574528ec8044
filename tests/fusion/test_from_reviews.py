"""Reliabilities re-estimated from monitors' reviews held in a store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline.fusion.config import FusionConfig
from truceline.fusion.from_reviews import NoReviewsError, estimate_from_reviews
from truceline.review import add_review
from truceline.runs import execute_run
from truceline.workspace import Workspace

WHEN = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


@pytest.fixture()
def home(run_home: Path) -> Path:
    """A private copy of the shared one-run home (tests/conftest.py)."""
    return run_home


def _sensors_of(workspace: Workspace, finding_id: str) -> set[str]:
    finding = next(f for f in workspace.store.findings() if f.id == finding_id)
    event = next(e for e in workspace.store.events() if e.id == finding.event_id)
    refs = workspace.store.observation_refs(event.members)
    return {obs.sensor_id for _, obs in refs.values()}


def test_without_reviews_nothing_is_estimated(home: Path) -> None:
    with Workspace(home) as workspace, pytest.raises(NoReviewsError, match="reviewed"):
        estimate_from_reviews(workspace.store, FusionConfig())


def test_without_a_run_it_says_so(tmp_path: Path) -> None:
    with Workspace(tmp_path / "empty") as workspace, pytest.raises(NoReviewsError, match="run"):
        estimate_from_reviews(workspace.store, FusionConfig())


def test_dismissals_lower_and_verifications_raise_the_sensors_reliability(home: Path) -> None:
    config = FusionConfig()
    with Workspace(home) as workspace:
        events = {e.id for e in workspace.store.events()}
        by_event: dict[str, str] = {}
        for finding in workspace.store.findings():
            if finding.event_id in events:  # not a pattern finding
                by_event.setdefault(finding.event_id, finding.id)
        chosen = sorted(by_event.values())
        assert len(chosen) >= 2
        dismissed, verified = chosen[0], chosen[1]
        add_review(workspace, dismissed, "dismissed", "alice", time=WHEN)
        add_review(workspace, verified, "verified", "bob", time=WHEN)
        add_review(workspace, verified, "under_review", "carol", time=WHEN)  # latest wins
        estimate = estimate_from_reviews(workspace.store, config)
        # the latest review of `verified` is under_review: only one ruling is left
        assert estimate.reviews_used == 1 and estimate.reviews_ignored == 1
        assert estimate.tally.events == 1
        add_review(workspace, verified, "verified", "dave", time=WHEN)
        estimate = estimate_from_reviews(workspace.store, config)
        assert estimate.reviews_used == 2 and estimate.tally.events == 2
        down = _sensors_of(workspace, dismissed)
        up = _sensors_of(workspace, verified)
    sensors = {(e.key, e.kind): e for e in estimate.estimates if e.level == "sensor"}
    assert sensors, "every reviewed event's sensors are estimated"
    for (sensor, _), e in sensors.items():
        assert e.trials >= 1 and e.interval[0] < e.posterior_mean < e.interval[1]
        if sensor in down and sensor not in up:
            assert e.successes == 0 and e.posterior_mean < e.prior_mean
        if sensor in up and sensor not in down:
            assert e.successes == e.trials and e.posterior_mean > e.prior_mean
    # the returned configuration carries the posterior means
    table = {(s, k): p for s, k, p in estimate.config.sensor_reliability}
    for key, e in sensors.items():
        assert table[key] == pytest.approx(e.posterior_mean, abs=1e-6)
    assert estimate.config.digest != config.digest


def test_a_reviewed_pattern_finding_is_not_a_trial(home: Path) -> None:
    with Workspace(home) as workspace:
        events = {e.id for e in workspace.store.events()}
        pattern = next(f for f in workspace.store.findings() if f.event_id not in events)
        add_review(workspace, pattern.id, "verified", "alice", time=WHEN)
        with pytest.raises(NoReviewsError, match="1 reviewed finding"):
            estimate_from_reviews(workspace.store, FusionConfig())


def test_reviews_of_findings_the_current_run_lacks_are_not_used(home: Path) -> None:
    with Workspace(home) as workspace:
        events = {e.id for e in workspace.store.events()}
        finding = next(f for f in workspace.store.findings() if f.event_id in events)
        add_review(workspace, finding.id, "dismissed", "alice", time=WHEN)
        # a new run with a different configuration produces other finding ids
        sensors = sorted(_sensors_of(workspace, finding.id))
        kinds = sorted({e.kind for e in workspace.store.events() if e.id == finding.event_id})
        lowered = tuple((s, k, 0.31) for s in sensors for k in kinds)
        execute_run(workspace, FusionConfig(sensor_reliability=lowered))
        assert finding.id not in {f.id for f in workspace.store.findings()}
        with pytest.raises(NoReviewsError, match="1 reviewed finding"):
            estimate_from_reviews(workspace.store, FusionConfig())
