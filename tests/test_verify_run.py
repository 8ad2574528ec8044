"""verify-run: re-derive a run from the log alone and catch every kind of tampering."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agreement.run_testkit import STRIKE_AT, STRIKE_TIME, build_home, observation, write_features
from truceline.cli import app
from truceline.ingest.pipeline import ingest_file
from truceline.model.finding import Finding
from truceline.model.ids import canonical_json
from truceline.runs import execute_run
from truceline.verify_run import VerifyRunError, diff_findings, verify_run
from truceline.workspace import Workspace

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("verify")
    build_home(folder)
    return folder


@pytest.fixture()
def home(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(built / "home", copy)
    return copy


def recorded_digest(home: Path) -> str:
    code, output = invoke("status", "--home", str(home), "--json")
    assert code == 0, output
    return str(json.loads(output)["findings_digest"])


def test_a_clean_run_verifies(home: Path) -> None:
    digest = recorded_digest(home)
    with Workspace(home) as workspace:
        report = verify_run(workspace, digest=digest)
    assert report.ok, report.problems
    assert report.findings_digest == report.recorded["findings_digest"]
    assert report.findings == report.recorded["findings"] > 0
    assert report.escalations_checked == 1
    assert report.store_diff is not None and report.store_diff.empty
    code, output = invoke("verify-run", "--home", str(home))
    assert code == 0, output
    assert "run verified" in output


def test_a_tampered_store_is_detected(home: Path) -> None:
    with Workspace(home) as workspace:
        findings = workspace.store.findings()
    db = sqlite3.connect(home / "store.sqlite")
    changed, dropped = findings[0], findings[1]
    body = json.loads(
        db.execute("SELECT body FROM findings WHERE id=?", (changed.id,)).fetchone()[0]
    )
    body["severity"] = "minor"  # the id column is left as it was
    db.execute("UPDATE findings SET body=? WHERE id=?", (json.dumps(body), changed.id))
    db.execute("DELETE FROM findings WHERE id=?", (dropped.id,))
    db.commit()
    db.close()
    with Workspace(home) as workspace:
        report = verify_run(workspace)
    assert not report.ok
    diff = report.store_diff
    assert diff is not None
    assert diff.added == (dropped.id,)  # re-derived, missing from the store
    tampered = Finding.from_dict(body).id  # the stored copy hashes anew
    assert tampered != changed.id
    assert diff.changed == ((tampered, changed.id),) and diff.removed == ()
    # the log itself is intact: the digests still match
    assert report.findings_digest == report.recorded["findings_digest"]
    code, output = invoke("verify-run", "--home", str(home), "--json")
    assert code == 1
    data = json.loads(output[: output.rindex("}") + 1])
    assert data["ok"] is False and data["store"]["added"] == [dropped.id]
    code, output = invoke("verify-run", "--home", str(home))
    assert code == 1 and "MISSING" in output and "CHANGED" in output


def rewrite_agreement_entry(home: Path, change: str, to: str) -> None:
    """Edit the logged agreement's body in place, keeping the file's length."""
    path = home / "log" / "entries.jsonl"
    lines = path.read_bytes().split(b"\n")
    index = next(i for i, line in enumerate(lines) if line.endswith(b'"type":"agreement"}'))
    entry = json.loads(lines[index])
    for rule in entry["body"]["rules"]:
        if rule["id"] == "deep-strike":
            assert rule[change] == 0.5
            rule[change] = to
    edited = canonical_json(entry)
    assert len(edited) == len(lines[index])  # same length: the log still opens
    lines[index] = edited
    path.write_bytes(b"\n".join(lines))


def test_a_different_agreement_body_in_the_log_is_detected(home: Path) -> None:
    rewrite_agreement_entry(home, "min_confidence", 1.0)  # no deep strike can break it now
    with Workspace(home) as workspace:
        report = verify_run(workspace)
    problems = "\n".join(report.problems)
    assert "entries the run read were changed" in problems
    assert "agreement versions in the log prefix differ" in problems
    assert "findings digest differs" in problems
    assert "escalated finding ids differs" in problems
    code, output = invoke("verify-run", "--home", str(home))
    assert code == 1 and "FAIL" in output


def test_a_guarantors_own_copy_of_the_agreement(home: Path, built: Path, tmp_path: Path) -> None:
    original = built / "agreement.yaml"
    code, output = invoke("verify-run", "--home", str(home), "--agreement", str(original))
    assert code == 0, output
    content = yaml.safe_load(original.read_text())
    for rule in content["rules"]:
        if rule["id"] == "deep-strike":
            rule["min_confidence"] = 0.6
    altered = tmp_path / "altered.yaml"
    altered.write_text(yaml.safe_dump(content))
    with Workspace(home) as workspace:
        report = verify_run(workspace, agreements=[altered])
    (problem,) = report.problems
    assert "is not one the run used" in problem
    assert "a different text of demo-ceasefire v1" in problem
    code, output = invoke("verify-run", "--home", str(home), "--agreement", str(altered))
    assert code == 1


def test_a_different_published_digest_is_detected(home: Path) -> None:
    digest = recorded_digest(home)
    wrong = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    with Workspace(home) as workspace:
        (problem,) = verify_run(workspace, digest=wrong).problems
    assert f"given {wrong}" in problem
    code, output = invoke("verify-run", "--home", str(home), "--digest", wrong)
    assert code == 1 and "differs from the one given" in output
    code, output = invoke("verify-run", "--home", str(home), "--digest", digest.upper())
    assert code == 0, output


def test_an_earlier_run_verifies_after_new_evidence(home: Path, tmp_path: Path) -> None:
    with Workspace(home) as workspace:
        first = workspace.store.runs()[-1]["id"]
        extra = observation("drone-2", "drone", "impact", STRIKE_AT, STRIKE_TIME)
        ingest_file(workspace, write_features(tmp_path / "more.geojson", [extra]))
        second = execute_run(workspace)
        old = verify_run(workspace, first[:10])
        new = verify_run(workspace)
    assert old.ok and new.ok, (old.problems, new.problems)
    assert old.run_id == first and new.run_id == second.run_id
    assert old.store_diff is None  # the store holds the later run
    assert old.findings_digest != new.findings_digest
    with Workspace(home) as workspace, pytest.raises(VerifyRunError, match="no recorded run"):
        verify_run(workspace, "ffffffffffff")
    code, output = invoke("verify-run", "ffffffffffff", "--home", str(home))
    assert code == 1 and "no recorded run matches" in output


def test_diff_pairs_changed_findings_by_event_rule_and_version(built: Path) -> None:
    with Workspace(built / "home") as workspace:
        findings = workspace.store.findings()
    edited = Finding.from_dict({**findings[0].to_dict(), "severity": "minor"})
    diff = diff_findings(findings, [edited, *findings[2:]])
    assert diff.changed == ((edited.id, findings[0].id),)
    assert diff.added == (findings[1].id,) and diff.removed == ()
    assert diff_findings(findings, list(reversed(findings))).empty
