"""``truceline reliabilities estimate``: a reliability file from monitors' reviews."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.fusion.reliability_file import load_reliability_file
from truceline.review import add_review
from truceline.workspace import Workspace

runner = CliRunner()
WHEN = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


@pytest.fixture()
def home(run_home: Path) -> Path:
    """A private copy of the shared one-run home (tests/conftest.py)."""
    return run_home


def _dismiss_one(home: Path) -> str:
    with Workspace(home) as workspace:
        events = {e.id for e in workspace.store.events()}
        finding = next(f for f in workspace.store.findings() if f.event_id in events)
        add_review(workspace, finding.id, "dismissed", "alice", "a quarry blast", time=WHEN)
        return finding.id


def test_estimate_writes_a_reliability_file_the_run_can_load(home: Path, tmp_path: Path) -> None:
    _dismiss_one(home)
    log_before = (home / "log" / "entries.jsonl").read_bytes()
    target = tmp_path / "profile.yaml"
    result = runner.invoke(
        app, ["reliabilities", "estimate", "--home", str(home), "--out", str(target), "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["reviews_used"] == 1 and body["events"] == 1 and body["source"] == "reviews"
    lowered = [e for e in body["estimates"] if e["level"] == "sensor"]
    assert lowered and all(e["posterior_mean"] < e["prior_mean"] for e in lowered)
    profile = load_reliability_file(target)
    assert profile.provenance["run_id"] == body["run_id"]
    table = {(s, k): p for s, k, p in profile.sensor_reliability}
    for e in lowered:
        assert table[e["key"], e["kind"]] == pytest.approx(e["posterior_mean"], abs=1e-6)
    # the log is not changed by estimating
    assert (home / "log" / "entries.jsonl").read_bytes() == log_before


def test_without_reviews_it_fails_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "profile.yaml"
    result = runner.invoke(
        app, ["reliabilities", "estimate", "--home", str(home), "--out", str(target)]
    )
    assert result.exit_code == 2
    assert "verified or dismissed" in result.stderr
    assert not target.exists()


def test_a_bad_prior_file_is_named(home: Path, tmp_path: Path) -> None:
    _dismiss_one(home)
    prior = tmp_path / "prior.yaml"
    prior.write_text("format: something-else\n", encoding="utf-8")
    target = tmp_path / "profile.yaml"
    result = runner.invoke(
        app,
        [
            "reliabilities",
            "estimate",
            "--home",
            str(home),
            "--prior",
            str(prior),
            "--out",
            str(target),
        ],
    )
    assert result.exit_code == 2
    assert "prior.yaml" in result.stderr and "format" in result.stderr
    assert not target.exists()


def test_the_next_run_uses_the_estimate_and_lowers_the_dismissed_event(
    home: Path, tmp_path: Path
) -> None:
    finding_id = _dismiss_one(home)
    with Workspace(home) as workspace:
        finding = next(f for f in workspace.store.findings() if f.id == finding_id)
        event = next(e for e in workspace.store.events() if e.id == finding.event_id)
        members = set(event.members)
    target = tmp_path / "profile.yaml"
    result = runner.invoke(
        app, ["reliabilities", "estimate", "--home", str(home), "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["run", "--home", str(home), "--reliabilities", str(target)])
    assert result.exit_code == 0, result.output
    with Workspace(home) as workspace:
        again = [e for e in workspace.store.events() if set(e.members) == members]
    assert len(again) == 1
    assert again[0].confidence < event.confidence
