"""Determinism of the whole pipeline: same data, same findings, byte for byte."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from truceline.demo import _array_files, _change_files, _field_files, run_demo
from truceline.ingest.array import ingest_array
from truceline.ingest.pipeline import ingest_file
from truceline.runs import add_agreement, execute_run
from truceline.workspace import Workspace


def test_same_seed_gives_identical_findings_in_another_home(tmp_path: Path) -> None:
    quiet = Console(quiet=True)
    first = run_demo(tmp_path / "a", tmp_path / "a" / "home", seed=5, days=1, console=quiet)
    second = run_demo(tmp_path / "b", tmp_path / "b" / "home", seed=5, days=1, console=quiet)
    assert first.outcome.findings_digest == second.outcome.findings_digest
    assert first.outcome.root_hash == second.outcome.root_hash
    for name in ("findings.csv", "findings.geojson", "report.html", "map.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first.score["violations"] == second.score["violations"]


def test_ingest_order_does_not_change_findings(tmp_path: Path) -> None:
    quiet = Console(quiet=True)
    reference = run_demo(tmp_path / "a", tmp_path / "a" / "home", seed=6, days=1, console=quiet)
    scenario = tmp_path / "a" / "scenario"
    with Workspace(tmp_path / "reversed") as workspace:
        for path in reversed(_field_files(scenario) + _change_files(tmp_path / "a")):
            ingest_file(workspace, path)
        add_agreement(workspace, scenario / "agreement.yaml")
        ingest_array(workspace, list(reversed(_array_files(scenario))))
        outcome = execute_run(workspace)
    assert outcome.root_hash != reference.outcome.root_hash  # a different log...
    assert outcome.findings_digest == reference.outcome.findings_digest  # ...same findings
    assert outcome.events_digest == reference.outcome.events_digest
