"""The command line end to end: demo, queries, verification, rebuild, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app

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


def test_run_is_deterministic_and_rebuild_is_identical(demo: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo / "home", home)
    code, first = invoke("run", "--home", str(home), "--json")
    assert code == 0, first
    code, second = invoke("run", "--home", str(home), "--json")
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
