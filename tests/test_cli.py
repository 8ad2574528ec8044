"""The command line end to end: demo, queries, verification, rebuild, errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app
from truceline.fusion import FusionConfig
from truceline.fusion.reliability_file import load_reliability_file, packaged_reliability_file
from truceline.workspace import Workspace

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    code, output = invoke("demo", "--out", str(out), "--seed", "3", "--days", "1")
    assert code == 0, output
    return out


def test_demo_writes_report_and_score(demo: Path) -> None:
    for name in ("report.html", "findings.geojson", "findings.csv", "map.png", "score.json"):
        assert (demo / name).is_file(), name
    score = json.loads((demo / "score.json").read_text())
    violations = score["violations"]
    assert set(violations) == {"true", "found", "matched", "precision", "recall"}
    assert violations["true"] > 0
    assert set(score["location_error_m"]) == {"median", "p90"}
    assert set(score["escalations"]) >= {"true", "raised"}
    findings = json.loads((demo / "findings.geojson").read_text())
    assert (
        len([f for f in findings["features"] if f["geometry"]["type"] == "Point"])
        == score["run"]["findings"]
    )


def test_status_json(demo: Path) -> None:
    code, output = invoke("status", "--home", str(demo / "home"), "--json")
    assert code == 0, output
    status = json.loads(output)
    assert status["observations"] > 100
    assert status["findings"] > 0
    assert len(status["log"]["root_hash"]) == 64
    assert (
        status["findings_digest"]
        == json.loads((demo / "score.json").read_text())["run"]["findings_digest"]
    )


def test_events_and_findings_json_with_filters(demo: Path) -> None:
    home = str(demo / "home")
    code, output = invoke("findings", "--home", home, "--json")
    assert code == 0, output
    findings = json.loads(output)
    assert findings
    for record in findings:
        assert {
            "time",
            "lon",
            "lat",
            "cov_m2",
            "ellipse_95",
            "kind",
            "confidence",
            "evidence",
        } <= set(record)
        assert record["ellipse_95"]["semi_major_m"] >= record["ellipse_95"]["semi_minor_m"] > 0
    first = findings[0]
    box = f"{first['lon'] - 0.01},{first['lat'] - 0.01},{first['lon'] + 0.01},{first['lat'] + 0.01}"
    code, output = invoke("findings", "--home", home, "--json", "--bbox", box)
    assert code == 0 and first["id"] in {r["id"] for r in json.loads(output)}
    code, output = invoke(
        "findings", "--home", home, "--json", "--since", first["time"], "--until", first["time"]
    )
    assert code == 0 and all(r["time"] == first["time"] for r in json.loads(output))
    code, output = invoke("events", "--home", home, "--json", "--until", "2000-01-01T00:00:00Z")
    assert code == 0 and json.loads(output) == []
    code, output = invoke("events", "--home", home, "--json")
    events = json.loads(output)
    assert all(e["members"] for e in events)
    code, output = invoke("events", "--home", home, "--bbox", "1,2,3")
    assert code == 2 and "min_lon,min_lat,max_lon,max_lat" in output


PROFILE = packaged_reliability_file("reliability-sim-v1")


def test_demo_runs_with_the_packaged_reliability_profile(demo: Path) -> None:
    score = json.loads((demo / "score.json").read_text())
    assert score["run"]["reliabilities"] == {
        "file": "reliability-sim-v1.yaml",
        "sha256": hashlib.sha256(PROFILE.read_bytes()).hexdigest(),
    }
    with Workspace(demo / "home") as workspace:
        (run,) = workspace.store.runs()
    assert run["body"]["reliabilities"] == score["run"]["reliabilities"]
    profile = load_reliability_file(PROFILE)
    recorded = FusionConfig.from_dict(dict(run["body"]["config"]["fusion"]))
    assert recorded.confidence_map == profile.confidence_map  # the tables reached the config
    assert set(profile.modality_reliability) <= set(recorded.modality_reliability)


def test_run_is_deterministic_and_rebuild_is_identical(demo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo / "home", home)
    code, first = invoke("run", "--home", str(home), "--json", "--reliabilities", str(PROFILE))
    assert code == 0, first
    assert json.loads(first)["reliabilities"]["file"] == PROFILE.name
    code, second = invoke("run", "--home", str(home), "--json", "--reliabilities", str(PROFILE))
    assert json.loads(first)["findings_digest"] == json.loads(second)["findings_digest"]
    assert (
        json.loads(first)["findings_digest"]
        == json.loads((demo / "score.json").read_text())["run"]["findings_digest"]
    )
    code, output = invoke("store", "rebuild", "--home", str(home))
    assert code == 0, output
    assert "identical" in output
    code, output = invoke("log", "verify", "--home", str(home))
    assert code == 0 and "log OK" in output
    code, output = invoke("report", "--home", str(home), "--out", str(tmp_path / "report"))
    assert code == 0, output
    assert (tmp_path / "report" / "findings.csv").read_bytes() == (
        demo / "findings.csv"
    ).read_bytes()


def test_run_records_the_reliability_profile_and_verify_run_rederives_it(
    demo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo / "home", home)
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "format: truceline-reliability/1\nmodalities: {acoustic: {'*': 0.7}}\n"
        "confidence_map: [[0.0, 0.0], [0.5, 0.3], [1.0, 0.9]]\n",
        encoding="utf-8",
    )
    code, plain = invoke("run", "--home", str(home), "--json")
    assert code == 0, plain
    code, output = invoke("run", "--home", str(home), "--json", "--reliabilities", str(profile))
    assert code == 0, output
    summary = json.loads(output)
    digest = hashlib.sha256(profile.read_bytes()).hexdigest()
    assert summary["reliabilities"] == {"file": "profile.yaml", "sha256": digest}
    assert summary["config_digest"] != json.loads(plain)["config_digest"]
    with Workspace(home) as workspace:
        run = workspace.store.runs()[-1]
    assert run["body"]["reliabilities"]["sha256"] == digest
    config = FusionConfig.from_dict(dict(run["body"]["config"]["fusion"]))
    assert ("acoustic", "*", 0.7) in config.modality_reliability
    assert config.confidence_map == ((0.0, 0.0), (0.5, 0.3), (1.0, 0.9))
    code, output = invoke("verify-run", "--home", str(home))  # without the file: the log suffices
    assert code == 0, output


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("format: truceline-reliability/1\nmodalities: {acoustic: {launch: 1.5}}\n", "launch"),
        ("format: other/1\n", "format"),
        ("format: truceline-reliability/1\nconfidence_map: [[0.6, 0.5], [0.4, 0.6]]\n", ""),
    ],
)
def test_run_with_a_bad_reliability_profile_exits_2_and_writes_nothing(
    demo: Path, tmp_path: Path, text: str, field: str
) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo / "home", home)
    bad = tmp_path / "bad-profile.yaml"
    bad.write_text(text, encoding="utf-8")
    log = home / "log" / "entries.jsonl"
    before = log.read_bytes()
    code, output = invoke("run", "--home", str(home), "--reliabilities", str(bad))
    assert code == 2
    assert "bad-profile.yaml" in output and field in output
    assert log.read_bytes() == before
    code, output = invoke("run", "--home", str(home), "--reliabilities", str(tmp_path / "none"))
    assert code == 2 and "cannot read" in output


def test_log_verify_fails_loudly_on_tampering(demo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo / "home", home)
    entries = home / "log" / "entries.jsonl"
    data = bytearray(entries.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of the log
    entries.write_bytes(bytes(data))
    code, output = invoke("log", "verify", "--home", str(home))
    assert code == 1
    assert "FAIL" in output


def test_agreement_check(tmp_path: Path, demo: Path) -> None:
    good = demo / "scenario" / "agreement.yaml"
    code, output = invoke("agreement", "check", str(good))
    assert code == 0 and "OK" in output
    bad = tmp_path / "agreement.yaml"
    bad.write_text(good.read_text().replace("max_m: 15000", "max_m: -5"), encoding="utf-8")
    shutil.copy(demo / "scenario" / "contact-line.geojson", tmp_path / "contact-line.geojson")
    code, output = invoke("agreement", "check", str(bad))
    assert code == 1
    assert "max_m" in output


def test_ingest_unknown_format_lists_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    code, output = invoke("ingest", str(path), "--home", str(tmp_path / "home"))
    assert code == 1
    assert "firms" in output and "geojson" in output and "obs-csv" in output


def test_ingest_bad_record_names_file_line_field(tmp_path: Path) -> None:
    path = tmp_path / "fires.csv"
    path.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n48.1,37.2,2023-01-01\n48.1,east,2023-01-02\n")
    code, output = invoke("ingest", str(path), "--home", str(tmp_path / "home"))
    assert code == 1
    assert "fires.csv" in output and "line 3" in output and "LONGITUDE" in output
    code, output = invoke("status", "--home", str(tmp_path / "home"), "--json")
    assert json.loads(output)["observations"] == 0


def test_ingest_directory_skips_unrecognised_files(tmp_path: Path, demo: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(demo / "scenario" / "agreement.yaml", folder / "agreement.yaml")
    firms = sorted((demo / "scenario" / "firms").glob("*.csv"))[0]
    shutil.copy(firms, folder / firms.name)
    code, output = invoke("ingest", str(folder), "--home", str(tmp_path / "home"), "--json")
    assert code == 0, output
    assert "skipped" in output and "agreement.yaml" in output
    assert firms.name in output
