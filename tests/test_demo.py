"""Determinism of the whole pipeline: same data, same findings, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from truceline.demo import _array_files, _change_files, _field_files, run_demo
from truceline.ingest.array import ingest_array
from truceline.ingest.pipeline import ingest_file
from truceline.runs import add_agreement, execute_run
from truceline.simulate.families import get_family
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
        outcome = execute_run(workspace, reference.fusion_config)
    assert outcome.root_hash != reference.outcome.root_hash  # a different log...
    assert outcome.findings_digest == reference.outcome.findings_digest  # ...same findings
    assert outcome.events_digest == reference.outcome.events_digest


def _score_file(out: Path) -> dict[str, Any]:
    score: dict[str, Any] = json.loads((out / "score.json").read_text(encoding="utf-8"))
    return score


def test_quiet_week_demo_finds_no_violation_and_scores_events(tmp_path: Path) -> None:
    result = run_demo(tmp_path, tmp_path / "home", seed=2, days=1, family="quiet-week",
                      console=Console(quiet=True))  # fmt: skip
    score = _score_file(tmp_path)
    assert score == result.score
    assert score["scenario"] == {"seed": 2, "days": 1, "family": "quiet-week"}
    truth = json.loads((tmp_path / "scenario" / "truth.json").read_text(encoding="utf-8"))
    events = score["events"]
    assert events["true"] == len(truth["events"]) and events["found"] == len(result.outcome.events)
    assert events["matched"] <= min(events["found"], events["true"])
    assert events["matched"] > 0  # hot spots of burns and flares at least
    assert score["gospa"]["truth_states"] == events["locatable"]
    assert score["violations"]["true"] == 0 and score["escalations"]["true"] == 0
    # the quiet week's acceptance: nothing found, nothing escalated
    assert score["violations"]["found"] == 0, score["false_positives"]
    assert score["targets"]["escalations"]["met"], score["escalations"]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["default", "dense-shelling", "quiet-week"])
def test_every_family_runs_through_the_demo(family: str, tmp_path: Path) -> None:
    result = run_demo(tmp_path, tmp_path / "home", seed=1, family=family,
                      console=Console(quiet=True))  # fmt: skip
    score = _score_file(tmp_path)
    truth = json.loads((tmp_path / "scenario" / "truth.json").read_text(encoding="utf-8"))
    assert score["scenario"]["family"] == truth["family"] == family
    assert score["scenario"]["days"] == get_family(family).days
    assert score["violations"]["true"] == len(truth["violations"])
    assert score["escalations"]["true"] == len(truth["escalations"])
    assert score["events"]["found"] == len(result.outcome.events)
    assert score["targets"]["escalations"]["met"], score["escalations"]
    if family == "quiet-week":
        assert score["violations"]["found"] == 0, score["false_positives"]


def test_a_profile_with_configured_only_reliabilities_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use_profile=False"):
        run_demo(
            tmp_path / "out",
            tmp_path / "home",
            reliabilities=tmp_path / "profile.yaml",
            use_profile=False,
            console=Console(quiet=True),
        )
    assert not (tmp_path / "out").exists() and not (tmp_path / "home").exists()


def test_cli_demo_refuses_both_profile_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from truceline.cli import app

    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--out",
            str(tmp_path / "out"),
            "--reliabilities",
            str(tmp_path / "p.yaml"),
            "--configured-reliabilities",
        ],
    )
    assert result.exit_code == 2 and "exclude each other" in result.stderr
    assert not (tmp_path / "out").exists()
