"""Scenario families: the registry, determinism, what each family's truth holds, the CLI."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from simulate.simulate_testkit import all_bytes, load_truth, truth_frame
from truceline.cli import app
from truceline.model import parse_utc
from truceline.simulate import ScenarioSummary, simulate_scenario
from truceline.simulate.families import FAMILIES, UnknownFamilyError, get_family
from truceline.simulate.observed import OBSERVED_KEYS

FIRE_KINDS = {"launch", "impact", "explosion", "gunfire"}


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> ScenarioSummary:
    """One day of the dense-shelling family, seed 4."""
    return simulate_scenario(
        tmp_path_factory.mktemp("dense"), seed=4, days=1, family="dense-shelling"
    )


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> ScenarioSummary:
    """Two days of the quiet week (day 1 has a thunderstorm), seed 4."""
    return simulate_scenario(tmp_path_factory.mktemp("quiet"), seed=4, days=2, family="quiet-week")


def _seconds(event: dict[str, Any], key: str = "time") -> float:
    return parse_utc(event.get(key) or event["time"]).timestamp()


def _xy(truth: dict[str, Any], event: dict[str, Any]) -> tuple[float, float]:
    return truth_frame(truth).point_to_local(event["lon"], event["lat"])


def _apart_m(truth: dict[str, Any], a: dict[str, Any], b: dict[str, Any]) -> float:
    (ax, ay), (bx, by) = _xy(truth, a), _xy(truth, b)
    return math.hypot(ax - bx, ay - by)


# -- the registry ------------------------------------------------------------------------------
def test_registry_lists_the_three_families_in_order() -> None:
    assert list(FAMILIES) == ["default", "dense-shelling", "quiet-week"]
    assert [f.days for f in FAMILIES.values()] == [3, 2, 7]
    assert get_family("quiet-week").hostilities is None
    assert not get_family("quiet-week").trench


def test_unknown_family_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownFamilyError, match="default, dense-shelling, quiet-week") as info:
        simulate_scenario(tmp_path, family="heavy-rain")
    assert isinstance(info.value, ValueError)
    assert info.value.known == ("default", "dense-shelling", "quiet-week")
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


def test_default_family_is_written_to_the_truth(scenario: ScenarioSummary) -> None:
    # the session's scenario is simulate_scenario's default: the default family
    assert load_truth(scenario.out_dir)["family"] == "default"


@pytest.mark.parametrize("family", ["dense-shelling", "quiet-week"])
def test_a_family_is_deterministic_for_a_seed(
    family: str, dense: ScenarioSummary, quiet: ScenarioSummary, tmp_path: Path
) -> None:
    reference = dense if family == "dense-shelling" else quiet
    days = 1 if family == "dense-shelling" else 2
    simulate_scenario(tmp_path, seed=4, days=days, family=family)
    assert all_bytes(tmp_path) == all_bytes(reference.out_dir)
    assert load_truth(tmp_path)["family"] == family


def test_families_differ_for_the_same_seed(dense: ScenarioSummary, tmp_path: Path) -> None:
    simulate_scenario(tmp_path, seed=4, days=1, family="default")
    default, barrage = load_truth(tmp_path), load_truth(dense.out_dir)
    assert default["frame"] == barrage["frame"]  # same geography for a seed...
    assert len(barrage["violations"]) > 3 * len(default["violations"])  # ...another week


@pytest.mark.slow
def test_family_length_is_the_default_number_of_days(tmp_path: Path) -> None:
    summary = simulate_scenario(tmp_path, seed=1, family="dense-shelling")
    truth = load_truth(tmp_path)
    assert (truth["start"], truth["end"]) == ("2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z")
    assert summary.counts["firms_files"] == 8  # 2 satellites x 2 passes x 2 days


# -- quiet week ----------------------------------------------------------------------------------
def test_quiet_week_has_no_violation_and_no_attack(quiet: ScenarioSummary) -> None:
    truth = load_truth(quiet.out_dir)
    assert truth["family"] == "quiet-week"
    assert truth["violations"] == [] and truth["escalations"] == []
    assert all("benign_reason" in e and not e["rules"] for e in truth["events"])
    kinds = {e["kind"] for e in truth["events"]}
    assert kinds.isdisjoint({"launch", "impact", "gunfire", "military_presence", "earthworks"})
    reasons = {e["benign_reason"] for e in truth["events"]}
    assert {"agricultural_burning", "industrial_flare", "thunder", "quarry_blast"} <= reasons
    assert truth["false_alarms"]  # the sensors' own false alarms are there
    changes = truth["satellite_stacks"]["changes"]
    assert {c["kind"] for c in changes} <= {"burn_scar", "surface_change"}  # no crater, no trench


def test_quiet_week_flies_three_routine_patrols_a_day(quiet: ScenarioSummary) -> None:
    patrols = [p["patrol"] for p in load_truth(quiet.out_dir)["drone"]["patrols"]]
    assert [p.rsplit("-", 1)[1] for p in patrols] == ["L1", "DW1", "DE1"] * 2


# -- dense shelling ------------------------------------------------------------------------------
def test_dense_shelling_overlaps_in_space_and_time(dense: ScenarioSummary) -> None:
    truth = load_truth(dense.out_dir)
    fire = [e for e in truth["events"] if e["id"].startswith("fire-")]
    launches = [e for e in fire if e["kind"] == "launch"]
    assert len(launches) >= 20 and {e["party"] for e in launches} == {"west", "east"}
    close = 0
    for a, b in itertools.combinations(fire, 2):
        gap = max(_seconds(a) - _seconds(b, "time_end"), _seconds(b) - _seconds(a, "time_end"))
        close += gap < 1800.0 and _apart_m(truth, a, b) < 3000.0
    assert close >= 20  # many fire events within half an hour and 3 km of another


def test_counter_battery_lands_on_firing_positions(dense: ScenarioSummary) -> None:
    truth = load_truth(dense.out_dir)
    events = truth["events"]
    counter = [e for e in events if e["kind"] == "impact" and "counter-battery" in e["detail"]]
    assert counter
    for impact in counter:
        answered = [
            launch
            for launch in events
            if launch["kind"] == "launch"
            and launch["party"] != impact["party"]
            and _apart_m(truth, launch, impact) < 500.0
            and 0.0 < _seconds(impact) - _seconds(launch, "time_end") < 3600.0
        ]
        assert answered, impact["id"]  # impacts where the launch sounds came from, after them


def test_concurrent_missions_stay_separable(dense: ScenarioSummary) -> None:
    truth = load_truth(dense.out_dir)
    events = truth["events"]
    ordinary = [e for e in events if e["kind"] == "impact" and "fire mission" in e["detail"]]
    ordinary = [e for e in ordinary if "counter-battery" not in e["detail"]]
    for a, b in itertools.combinations(ordinary, 2):
        overlap = _seconds(a) < _seconds(b, "time_end") and _seconds(b) < _seconds(a, "time_end")
        if overlap:
            assert _apart_m(truth, a, b) > 1200.0, (a["id"], b["id"])
    launches = [e for e in events if e["kind"] == "launch" and e["id"].startswith("fire-")]
    for a, b in itertools.combinations(launches, 2):
        if _apart_m(truth, a, b) < 200.0:  # the same battery, not moved
            first, second = sorted((a, b), key=_seconds)
            assert _seconds(second) - _seconds(first, "time_end") >= 600.0


def test_dense_shelling_keeps_the_attack(dense: ScenarioSummary) -> None:
    truth = load_truth(dense.out_dir)
    assert truth["escalations"] == ["attack-impact"]


# -- observed counts -------------------------------------------------------------------------------
def test_observed_counts_add_up_to_the_field_files(scenario: ScenarioSummary) -> None:
    truth = load_truth(scenario.out_dir)
    events = truth["events"]
    assert all(set(e["observed"]) <= set(OBSERVED_KEYS) for e in events)
    pixels = sum(e["observed"].get("firms_pixels", 0) for e in events)
    assert pixels == scenario.counts["firms_rows"]  # every fire pixel is some event's
    picks = sum(e["observed"].get("acoustic_picks", 0) for e in events)
    alarms = sum(1 for a in truth["false_alarms"] if a["sensor_id"].startswith("acoustic"))
    assert picks + alarms == scenario.counts["edge_detections"]
    by_id = {e["id"]: e for e in events}
    assert by_id["attack-impact"]["observed"]["acoustic_stations"] >= 3
    assert any(e["observed"] == {} for e in events)  # burns nobody saw
    for heard in truth["array"]["events"]:
        assert by_id[heard["id"]]["observed"]["array_emissions"] == heard["emissions"]


def test_thunder_is_one_event_per_stroke(scenario: ScenarioSummary) -> None:
    strokes = [e for e in load_truth(scenario.out_dir)["events"] if e["kind"] == "other"]
    assert len(strokes) > 100
    assert all(e["id"].startswith("storm-1-stroke-") for e in strokes)
    assert all(e["benign_reason"] == "thunder" and "time_end" not in e for e in strokes)


# -- command line --------------------------------------------------------------------------------
def test_cli_unknown_scenario_exits_2_naming_the_families(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--scenario", "nope"])
    assert result.exit_code == 2
    assert "default, dense-shelling, quiet-week" in result.output
    assert not (tmp_path / "truth.json").exists()


def test_cli_help_lists_the_families() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in FAMILIES:
        assert name in text


def test_cli_simulates_a_family(tmp_path: Path) -> None:
    args = ["--scenario", "quiet-week", "--days", "1", "--seed", "2"]
    result = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), *args])
    assert result.exit_code == 0, result.output
    truth = load_truth(tmp_path)
    assert (truth["family"], truth["seed"], truth["violations"]) == ("quiet-week", 2, [])
