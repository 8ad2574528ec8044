"""Escalation records: the top level raises one, with who is told and a checkable evidence list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agreement.agreement_testkit import demo_content
from agreement.run_testkit import (
    STRIKE_AT,
    STRIKE_TIME,
    build_home,
    observation,
    scenario_features,
    write_features,
)
from truceline.agreement.escalation import escalations, top_level_findings
from truceline.agreement.patterns import is_pattern_finding
from truceline.cli import app
from truceline.evidence.merkle import leaf_hash, verify_inclusion
from truceline.ingest.pipeline import ingest_file
from truceline.model.ids import content_id
from truceline.runs import execute_run, rebuild_store
from truceline.workspace import Workspace


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder, _ = build_home(tmp_path_factory.mktemp("escalation"))
    return folder


def log_lines(home: Path) -> list[bytes]:
    return (home / "log" / "entries.jsonl").read_bytes().splitlines()


def test_the_deep_strike_raises_one_record_with_recipients(home: Path) -> None:
    with Workspace(home) as workspace:
        (record,) = escalations(workspace.store)
        findings = workspace.store.findings()
    top = [f for f in findings if f.escalation_level == "attack"]
    assert [f.id for f in top] == [record.finding_id]
    assert record.level == "attack" and record.finding["rule_id"] == "deep-strike"
    assert record.notify == ("guarantors", "monitoring-centre", "west", "east")
    assert record.agreement_id == "demo-ceasefire" and record.agreement_version == 1
    assert record.agreement_version_id == top[0].agreement_id
    assert record.members == ()
    assert record.finding["attributed_to"] == "undetermined"  # no launch was located


def test_every_evidence_item_is_checkable_against_the_log(home: Path) -> None:
    with Workspace(home) as workspace:
        (record,) = escalations(workspace.store)
        finding = next(f for f in workspace.store.findings() if f.id == record.finding_id)
        heads = {h.tree_size: h.root_hash for h in workspace.log.heads}
    lines = log_lines(home)
    assert sorted(item.observation_id for item in record.evidence) == sorted(finding.evidence)
    assert [item.time for item in record.evidence] == sorted(item.time for item in record.evidence)
    assert {item.sensor_id for item in record.evidence} == {"drone-1", "monitor-1"}
    assert {item.modality for item in record.evidence} == {"drone", "report"}
    assert min(item.time for item in record.evidence) == STRIKE_TIME
    # the checkpoint is a signed tree head of the log
    assert heads[record.tree_size] == record.root_hash
    for item in record.evidence:
        entry = json.loads(lines[item.leaf_index])
        assert entry["type"] == "observation" and entry["id"] == item.observation_id
        assert entry["body"]["sensor_id"] == item.sensor_id
        assert leaf_hash(lines[item.leaf_index]).hex() == item.leaf_hash
        proof = [bytes.fromhex(p) for p in item.proof]
        assert verify_inclusion(
            item.leaf_index,
            record.tree_size,
            bytes.fromhex(item.leaf_hash),
            proof,
            bytes.fromhex(record.root_hash),
        )
        # a proof for another leaf does not verify
        assert not verify_inclusion(
            item.leaf_index,
            record.tree_size,
            leaf_hash(b"forged"),
            proof,
            bytes.fromhex(record.root_hash),
        )


def test_the_record_is_written_in_the_runs_batch(home: Path) -> None:
    lines = [json.loads(line) for line in log_lines(home)]
    types = [entry["type"] for entry in lines]
    assert types[-3:] == ["run", "run_result", "escalation"]
    run, result, record = lines[-3:]
    assert record["body"]["run_id"] == run["id"] == result["body"]["run_id"]
    assert record["id"] == content_id(record["body"])
    assert result["body"]["escalations"] == [record["body"]["finding"]["id"]]


def test_a_finding_is_escalated_once(home: Path, tmp_path: Path) -> None:
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    with Workspace(copy) as workspace:
        before = workspace.log.size
        execute_run(workspace)
        assert workspace.log.size == before + 2  # run and result, no new escalation
        assert len(escalations(workspace.store)) == 1
        # new evidence changes the strike's finding: it is escalated again
        extra = observation("drone-2", "drone", "impact", STRIKE_AT, STRIKE_TIME)
        ingest_file(workspace, write_features(tmp_path / "more.geojson", [extra]))
        execute_run(workspace)
        records = escalations(workspace.store)
        assert len(records) == 2
        assert records[0].finding_id != records[1].finding_id
        assert len(records[1].evidence) == 3
        _, _, problems = rebuild_store(workspace)
        assert problems == []
        assert [r.id for r in escalations(workspace.store)] == [r.id for r in records]


def test_no_record_without_a_top_level_finding(tmp_path: Path) -> None:
    home, outcome = build_home(tmp_path, features=scenario_features(strike=False))
    assert outcome.findings  # the barrage and the tanks are still findings
    with Workspace(home) as workspace:
        assert escalations(workspace.store) == []
        assert top_level_findings(outcome.findings, workspace.store.agreements()) == []
    assert json.loads(log_lines(home)[-1])["type"] == "run_result"


def test_a_pattern_at_the_top_level_lists_its_members_and_their_evidence(tmp_path: Path) -> None:
    data = demo_content()
    data["escalation"]["policy"].insert(
        0, {"level": "attack", "when": {"rules": ["sustained-fire"], "min_sources": 2}}
    )
    home, outcome = build_home(tmp_path, content=data, features=scenario_features(strike=False))
    (pattern,) = [f for f in outcome.findings if f.rule_id == "sustained-fire"]
    with Workspace(home) as workspace:
        (record,) = escalations(workspace.store)
    assert record.finding_id == pattern.id and is_pattern_finding(pattern)
    assert [m["id"] for m in record.members] == pattern.attributes["pattern"]["members"]
    assert len(record.members) == 7
    # the pattern's evidence is its member findings; the record lists their observations
    assert pattern.evidence == tuple(pattern.attributes["pattern"]["members"])
    members = {f.id: f for f in outcome.findings if f.id in set(pattern.evidence)}
    behind = set().union(*(set(f.evidence) for f in members.values()))
    assert {item.observation_id for item in record.evidence} == behind
    assert len(record.evidence) == 14  # two observations of each of the seven explosions


def test_escalations_command(home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["escalations", "--home", str(home), "--json"])
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)
    assert record["level"] == "attack" and record["id"] == content_id(
        {k: v for k, v in record.items() if k != "id"}
    )
    assert record["checkpoint"]["tree_size"] > max(e["leaf_index"] for e in record["evidence"])
    table = runner.invoke(app, ["escalations", "--home", str(home)], env={"COLUMNS": "250"})
    assert table.exit_code == 0
    assert "deep-strike" in table.output and "guarantors" in table.output
    assert "1 escalation record(s)" in table.output
