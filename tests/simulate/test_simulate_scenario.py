"""The scenario entry point: determinism, summary, arguments, re-runs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from simulate.simulate_testkit import all_bytes, load_truth
from truceline.simulate import DEFAULT_START, ScenarioSummary, simulate_scenario


def test_same_seed_writes_byte_identical_files(scenario_dir: Path, tmp_path: Path) -> None:
    simulate_scenario(tmp_path, seed=0)
    assert all_bytes(tmp_path) == all_bytes(scenario_dir)


def test_different_seeds_differ(scenario_dir: Path, tmp_path: Path) -> None:
    simulate_scenario(tmp_path, seed=1)
    first, second = all_bytes(scenario_dir), all_bytes(tmp_path)
    assert first["agreement.yaml"] != second["agreement.yaml"]
    assert first["truth.json"] != second["truth.json"]
    shared = set(first) & set(second)
    assert {name for name in shared if first[name] == second[name]} == set()


def test_summary_lists_every_file_written(scenario: ScenarioSummary) -> None:
    on_disk = {p.relative_to(scenario.out_dir) for p in scenario.out_dir.rglob("*") if p.is_file()}
    assert set(scenario.files) == on_disk
    assert list(scenario.files) == sorted(scenario.files)
    folders = {p.parts[0] for p in scenario.files if len(p.parts) > 1}
    assert folders == {
        "firms",
        "satellite",
        "ground",
        "ground-edge",
        "ground-array",
        "drone",
        "drone-raw",
        "satellite-stacks",
    }
    assert {Path("agreement.yaml"), Path("contact-line.geojson"), Path("truth.json")} <= set(
        scenario.files
    )


def test_summary_counts(scenario: ScenarioSummary) -> None:
    counts = scenario.counts
    truth = load_truth(scenario.out_dir)
    assert counts["truth_events"] == len(truth["events"])
    assert counts["violations"] == len(truth["violations"])
    assert counts["escalations"] == 1
    assert counts["firms_files"] == 12  # 2 satellites x (day + night) x 3 days
    assert len(list((scenario.out_dir / "firms").glob("*.csv"))) == counts["firms_files"]
    assert len(list((scenario.out_dir / "ground").glob("*.geojson"))) == 3
    # moderate volumes: the whole demo must stay fast
    assert 200 <= counts["firms_rows"] <= 3000
    assert 500 <= counts["acoustic_detections"] <= 4000
    assert 40 <= counts["drone_detections"] <= 600
    assert counts["acoustic_sensors"] == 84
    assert counts["edge_detections"] > counts["acoustic_detections"]  # plus vehicles
    assert counts["array_elements"] == 5
    assert counts["array_samples"] == 5 * 9000 * 50
    assert counts["array_events"] >= 2


def test_one_day_scenario_keeps_the_script(tmp_path: Path) -> None:
    summary = simulate_scenario(tmp_path, seed=5, days=1, start=datetime(2027, 3, 1, tzinfo=UTC))
    truth = load_truth(tmp_path)
    assert truth["start"] == "2027-03-01T00:00:00Z"
    assert truth["end"] == "2027-03-02T00:00:00Z"
    assert summary.counts["escalations"] == 1
    assert all(e["time"].startswith("2027-03-01") for e in truth["events"] if e["violation"])


def test_rerun_replaces_previous_scenario_but_keeps_other_files(tmp_path: Path) -> None:
    simulate_scenario(tmp_path, seed=2, days=3)
    keep = tmp_path / "ground" / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    summary = simulate_scenario(tmp_path, seed=2, days=1)
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(summary.files) | {Path("ground/notes.txt")}
    assert keep.read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days"),
        ({"days": 32}, "days"),
        ({"days": 2.5}, "days"),
        ({"seed": -1}, "seed"),
        ({"start": datetime(2026, 11, 2)}, "naive"),  # noqa: DTZ001 - the point of the test
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate_scenario(tmp_path, **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "truth.json").exists()


def test_default_start_is_a_day_into_the_ceasefire(scenario_dir: Path) -> None:
    truth = load_truth(scenario_dir)
    assert datetime(2026, 11, 2, tzinfo=UTC) == DEFAULT_START
    assert truth["start"] == "2026-11-02T00:00:00Z"
    assert truth["end"] == "2026-11-05T00:00:00Z"
    agreement = yaml.safe_load((scenario_dir / "agreement.yaml").read_text(encoding="utf-8"))
    assert agreement["effective_from"] == "2026-11-01T00:00:00Z"
    assert agreement["contact_line"]["left_party"] == "west"
