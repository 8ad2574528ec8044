"""Monitor reviews: rulings appended to the evidence log, never edits of findings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.evidence.verify import verify_log
from truceline.review import (
    ReviewError,
    add_review,
    resolve_finding_id,
    review_history,
    reviews,
)
from truceline.runs import rebuild_store
from truceline.workspace import Workspace

runner = CliRunner()
WHEN = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


@pytest.fixture()
def home(run_home: Path) -> Path:
    """A private copy of the shared one-run home (tests/conftest.py)."""
    return run_home


def test_a_review_is_a_log_entry_and_the_finding_is_unchanged(home: Path) -> None:
    with Workspace(home) as workspace:
        findings = workspace.store.findings()
        target = findings[0]
        size = workspace.log.size
        review = add_review(workspace, target.id, "verified", "alice", "two sources", time=WHEN)
        assert workspace.log.size == size + 1 and review.seq == size
        assert [f.to_dict() for f in workspace.store.findings()] == [f.to_dict() for f in findings]
        assert reviews(workspace.store) == {target.id: "verified"}
    entry = json.loads((home / "log" / "entries.jsonl").read_bytes().splitlines()[review.seq])
    assert entry["type"] == "review" and entry["id"] == review.id
    assert entry["body"] == {
        "finding_id": target.id,
        "status": "verified",
        "by": "alice",
        "note": "two sources",
        "time": "2026-11-03T09:30:00Z",
    }
    assert verify_log(home / "log").ok  # covered by a signed tree head


def test_the_latest_review_wins_and_history_is_kept(home: Path) -> None:
    with Workspace(home) as workspace:
        first, second = workspace.store.findings()[:2]
        add_review(workspace, first.id, "under_review", "alice", time=WHEN)
        add_review(workspace, second.id, "dismissed", "bob", "quarry blast", time=WHEN)
        add_review(workspace, first.id[:10], "verified", "carol", time=WHEN)  # a prefix
        assert reviews(workspace.store) == dict(
            sorted({first.id: "verified", second.id: "dismissed"}.items())
        )
        history = review_history(workspace.store, first.id)
        assert [(r.status, r.by) for r in history] == [
            ("under_review", "alice"),
            ("verified", "carol"),
        ]
        assert len(review_history(workspace.store)) == 3
        # the store is a projection: rebuilding it from the log keeps the reviews
        _, _, problems = rebuild_store(workspace)
        assert problems == []
        assert reviews(workspace.store)[first.id] == "verified"


@pytest.mark.parametrize(
    ("finding", "status", "by", "message"),
    [
        (None, "approved", "alice", "field 'status': unknown review status 'approved'"),
        (None, "verified", "  ", "field 'by'"),
        ("0123456789abcdef", "verified", "alice", "no finding '0123456789abcdef'"),
        ("abc", "verified", "alice", "at least 8 characters"),
    ],
)
def test_bad_reviews_are_refused_and_write_nothing(
    home: Path, finding: str | None, status: str, by: str, message: str
) -> None:
    with Workspace(home) as workspace:
        target = finding or workspace.store.findings()[0].id
        size = workspace.log.size
        with pytest.raises(ReviewError, match=re.escape(message)):
            add_review(workspace, target, status, by)
        assert workspace.log.size == size
        assert reviews(workspace.store) == {}


def test_finding_ids_resolve_from_unique_prefixes() -> None:
    ids = ["abcdef01" + "0" * 56, "abcdef01" + "1" * 56, "99" * 32]
    with pytest.raises(ReviewError, match="ambiguous: 2 findings match"):
        resolve_finding_id(ids, "abcdef01")
    assert resolve_finding_id(ids, "abcdef011") == ids[1]
    assert resolve_finding_id(ids, ids[0]) == ids[0]
    assert resolve_finding_id(ids, "99999999999…") == ids[2]  # as the tables print it
    assert resolve_finding_id(ids, "  ABCDEF010 ") == ids[0]
    with pytest.raises(ReviewError, match="at least 8"):
        resolve_finding_id(ids, "9999")


def test_review_command_and_findings_column(home: Path) -> None:
    listed = runner.invoke(app, ["findings", "--home", str(home), "--json"])
    assert listed.exit_code == 0, listed.output
    records = json.loads(listed.output)
    assert all(r["review_status"] is None for r in records)
    target = records[0]["id"]
    result = runner.invoke(
        app,
        ["review", target[:12], "--status", "dismissed", "--by", "dana", "--note", "echo",
         "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"finding {target[:12]}… dismissed by dana" in result.output
    records = json.loads(runner.invoke(app, ["findings", "--home", str(home), "--json"]).output)
    assert {r["id"]: r["review_status"] for r in records}[target] == "dismissed"
    assert sum(r["review_status"] is not None for r in records) == 1
    table = runner.invoke(app, ["findings", "--home", str(home)], env={"COLUMNS": "250"})
    assert "review_status" in table.output and "dismissed" in table.output
    bad = runner.invoke(
        app, ["review", target, "--status", "approved", "--by", "dana", "--home", str(home)]
    )
    assert bad.exit_code == 2 and "unknown review status 'approved'" in bad.output
