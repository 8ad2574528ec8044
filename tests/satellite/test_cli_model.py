"""``truceline satellite fit`` and ``score`` from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from shapely.geometry import LineString
from typer.testing import CliRunner

from satellite.firms_synth import write_year
from truceline.agreement import demo_agreement_dict
from truceline.cli import app

runner = CliRunner()
TRAIN = (2016, 2017, 2018, 2019, 2020)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("firms")
    train = folder / "train"
    train.mkdir()
    for year in TRAIN:
        write_year(train, year, seed=year)
    war = write_year(folder, 2023, seed=2023, war=True)
    model = folder / "model.npz"
    code, stdout, stderr = invoke("satellite", "fit", "--out", str(model), str(train), "--json")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert summary["years"] == list(TRAIN) and summary["calibrated"] is True
    assert len(summary["persistent_cells"]) == 1
    return model, war


def test_score_prints_one_record_per_fire_cell_day(fitted: tuple[Path, Path]) -> None:
    model, war = fitted
    code, stdout, stderr = invoke(
        "satellite", "score", "--model", str(model), str(war), "--json",
        "--from", "2023-02-01", "--to", "2023-02-28",
    )  # fmt: skip
    assert code == 0, stderr
    records = json.loads(stdout)
    assert records and all(r["date"].startswith("2023-02") for r in records)
    keys = {"cell", "lat", "lon", "date", "detections", "expected", "probability", "flagged"}
    assert keys | {"conflict_probability"} <= set(records[0])
    assert len({(r["cell"], r["date"]) for r in records}) == len(records)
    war_flags = [r for r in records if abs(r["lon"] - 30.75) < 0.01 and r["flagged"]]
    assert len(war_flags) >= 5
    assert all(0.0 <= r["probability"] <= 1.0 for r in records)


def test_flagged_days_ingest_as_observations_and_zone_index(
    fitted: tuple[Path, Path], tmp_path: Path
) -> None:
    model, war = fitted
    line = LineString([(30.75, 47.5), (30.75, 49.5)])
    content = demo_agreement_dict(line, effective_from=datetime(2022, 12, 1, tzinfo=UTC))
    agreement = tmp_path / "agreement.yaml"
    agreement.write_text(yaml.safe_dump(content, sort_keys=False))
    obs = tmp_path / "excess.geojson"
    index = tmp_path / "zones.json"
    code, _, stderr = invoke(
        "satellite", "score", "--model", str(model), str(war), "--from", "2023-03-01",
        "--to", "2023-03-31", "--observations", str(obs), "--agreement", str(agreement),
        "--zone-index", str(index),
    )  # fmt: skip
    assert code == 0, stderr
    features = json.loads(obs.read_text())["features"]
    observations = [f for f in features if f["properties"]["record"] == "observation"]
    assert observations
    assert all(f["properties"]["kind"] == "thermal_anomaly" for f in observations)
    home = tmp_path / "home"
    code, _, stderr = invoke("ingest", "--home", str(home), str(obs))
    assert code == 0, stderr
    code, stdout, _ = invoke("status", "--home", str(home), "--json")
    first = json.loads(stdout)
    code, _, _ = invoke("ingest", "--home", str(home), str(obs))
    code, stdout, _ = invoke("status", "--home", str(home), "--json")
    assert json.loads(stdout) == first
    rows = json.loads(index.read_text())
    zones = {r["zone"] for r in rows}
    assert len(rows) == len(zones) * 31
    # the disengagement zone straddles the burning column: far above a normal day
    near = [r for r in rows if r["zone"] == "disengagement"]
    assert near and sum(r["detections"] for r in near) > 3 * sum(r["expected"] for r in near)
    # the same period with the disengagement zone excluded: nothing flagged inside it
    code, stdout, stderr = invoke(
        "satellite", "score", "--model", str(model), str(war), "--from", "2023-03-01",
        "--to", "2023-03-31", "--agreement", str(agreement), "--exclude-zone", "disengagement",
        "--json",
    )  # fmt: skip
    assert code == 0, stderr
    records = json.loads(stdout)
    war_column = [r for r in records if abs(r["lon"] - 30.75) < 0.01]
    assert war_column and all(r["excluded"] == "exclusion" for r in war_column)
    assert not any(r["flagged"] for r in war_column)
    code, _, stderr = invoke(
        "satellite", "score", "--model", str(model), str(war), "--agreement", str(agreement),
        "--exclude-zone", "nowhere",
    )  # fmt: skip
    assert code == 2 and "no such zone" in stderr


def test_bad_input_is_named_and_nothing_is_written(
    fitted: tuple[Path, Path], tmp_path: Path
) -> None:
    model, war = fitted
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("latitude,longitude,acq_date\n48.1,30.2,2023-01-01\n48.2,2023-01-01,30.1\n")
    obs = tmp_path / "out.geojson"
    code, _, stderr = invoke(
        "satellite", "score", "--model", str(model), str(shifted), "--observations", str(obs)
    )
    assert code == 1
    assert f"{shifted}, line 3, field 'longitude'" in stderr
    assert not obs.exists()
    code, _, stderr = invoke(
        "satellite", "score", "--model", str(model), str(war), "--from", "2031-01-01",
        "--to", "2031-01-31", "--observations", str(obs),
    )  # fmt: skip
    assert code == 1 and "no detections between 2031-01-01 and 2031-01-31" in stderr
    assert not obs.exists()
    code, _, stderr = invoke(
        "satellite", "score", "--model", str(model), str(war), "--from", "2023-03-01",
        "--to", "2023-02-01",
    )  # fmt: skip
    assert code == 2 and "before" in stderr
    code, _, stderr = invoke("satellite", "score", "--model", str(tmp_path / "no.npz"), str(war))
    assert code == 1 and "cannot read the model" in stderr
    out = tmp_path / "m.npz"
    code, _, stderr = invoke("satellite", "fit", "--out", str(out), str(shifted))
    assert code == 1 and not out.exists()
