"""Amended agreements: each event is judged by the version in force at its time, end to end.

Version 2 (in force from day 3) widens the west's 15 km tank band to 25 km and makes
firing a critical breach that alerts the guarantors. The same tank position and the same
shelling are judged differently before and after the amendment, and the findings say
which version judged them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from agreement.agreement_testkit import DAY, T0, demo_content, offset, write_yaml
from agreement.run_testkit import observation, write_features
from truceline.agreement.escalation import escalations
from truceline.ingest.pipeline import ingest_file
from truceline.model.finding import Finding
from truceline.runs import RunOutcome, add_agreement, execute_run
from truceline.verify_run import verify_run
from truceline.workspace import Workspace

AMENDED = T0 + 3 * DAY
BLAST_AT = offset(5_000, lat=48.4)


def tank_at(day: int) -> tuple[float, float]:
    """20 km west of the line (outside 15 km, inside 25 km); another tank each day."""
    return offset(-20_000, lat=47.2 + 0.1 * day)


def versions() -> tuple[dict[str, Any], dict[str, Any]]:
    first = demo_content()
    second = demo_content(version=2, effective_from=AMENDED)
    for zone in second["zones"]:
        if zone["id"] == "west-15km":
            zone["band"]["max_m"] = 25_000
    for rule in second["rules"]:
        if rule["id"] == "no-fire":
            rule["severity"] = "critical"
    second["escalation"]["policy"].insert(
        0, {"level": "attack", "when": {"rules": ["no-fire"], "min_severity": "critical"}}
    )
    return first, second


def scenario() -> list[dict[str, Any]]:
    features = []
    for day in (1, 5):  # before and after the amendment
        when = T0 + day * DAY
        features.append(
            observation("drone-1", "drone", "equipment", tank_at(day), when, weapon_class="tank")
        )
        features.append(observation("drone-2", "drone", "explosion", BLAST_AT, when))
        features.append(
            observation("monitor-1", "report", "explosion", BLAST_AT, when + timedelta(seconds=20))
        )
    return features


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunOutcome]:
    folder = tmp_path_factory.mktemp("versions")
    first, second = versions()
    v1 = write_yaml(folder, first, "v1.yaml")
    v2 = write_yaml(folder, second, "v2.yaml")
    data = write_features(folder / "obs.geojson", scenario())
    with Workspace(folder / "home") as workspace:
        add_agreement(workspace, v2)  # registration order does not matter
        add_agreement(workspace, v1)
        ingest_file(workspace, data)
        outcome = execute_run(workspace)
    return folder / "home", outcome


def by_day(findings: list[Finding], rule: str) -> dict[int, Finding]:
    return {(f.time - T0).days: f for f in findings if f.rule_id == rule}


def test_the_band_widened_by_the_amendment(run: tuple[Path, RunOutcome]) -> None:
    _, outcome = run
    tanks = by_day(outcome.findings, "west-withdrawal-15km")
    assert set(tanks) == {5}  # at 20 km the tank broke only the amended 25 km band
    assert tanks[5].agreement_version == 2


def test_firing_is_judged_by_the_version_in_force(run: tuple[Path, RunOutcome]) -> None:
    home, outcome = run
    fire = by_day(outcome.findings, "no-fire")
    assert set(fire) == {1, 5}
    assert (fire[1].agreement_version, fire[1].severity) == (1, "serious")
    assert (fire[5].agreement_version, fire[5].severity) == (2, "critical")
    assert fire[1].agreement_id != fire[5].agreement_id
    assert "demo-ceasefire v1" in fire[1].explanation
    assert "demo-ceasefire v2" in fire[5].explanation
    assert fire[1].escalation_level == "urgent" and fire[5].escalation_level == "attack"
    with Workspace(home) as workspace:
        (record,) = escalations(workspace.store)
    assert record.finding_id == fire[5].id
    assert (record.agreement_version, record.agreement_version_id) == (2, fire[5].agreement_id)


def test_an_amended_run_verifies(run: tuple[Path, RunOutcome]) -> None:
    home, _ = run
    with Workspace(home) as workspace:
        report = verify_run(workspace)
    assert report.ok, report.problems
    assert report.escalations_checked == 1
