"""The ground channel end to end through the command line, on real and simulated data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from truceline.cli import app
from truceline.model.geo import WGS84_GEOD
from truceline.simulate import simulate_scenario
from truceline.workspace import Workspace

runner = CliRunner()

UTTR = (-112.896, 41.131)  # ground truth of the 2004-06-02 detonation (lon, lat)


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _mahalanobis2(event: dict[str, object], lon: float, lat: float) -> tuple[float, float]:
    azimuth, _, distance = WGS84_GEOD.inv(event["lon"], event["lat"], lon, lat)
    d = np.array(
        [distance * math.sin(math.radians(azimuth)), distance * math.cos(math.radians(azimuth))]
    )
    ee, en, nn = event["cov_m2"]  # type: ignore[misc]
    return float(d @ np.linalg.solve(np.array([[ee, en], [en, nn]]), d)), float(distance)


def test_uttr_detonation_is_located_from_three_arrays(shared_data: Path, tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    _cli("ingest", str(shared_data / "infrasound" / "uttr-2004-06-02.dets.json"), "--home", home)
    _cli("run", "--home", home)
    events = json.loads(_cli("events", "--home", home, "--json"))
    assert len(events) == 1
    event = events[0]
    m2, distance = _mahalanobis2(event, *UTTR)
    assert m2 < 5.991, f"truth outside the 95 % ellipse (error {distance / 1000:.1f} km)"
    assert distance < 80_000.0
    assert event["independent_sources"] == 3


def test_association_demo_set_is_grouped(shared_data: Path, tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    _cli("ingest", str(shared_data / "infrasound" / "association-demo-set1.dat"), "--home", home)
    _cli("run", "--home", home)
    events = json.loads(_cli("events", "--home", home, "--json"))
    assert len(events) == 2
    uttr = min(events, key=lambda e: _mahalanobis2(e, *UTTR)[1])
    assert _mahalanobis2(uttr, *UTTR)[0] < 5.991
    assert sum(len(e["members"]) for e in events) <= 10


def test_array_waveforms_are_beamformed_from_the_cli(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario"
    simulate_scenario(scenario, seed=0, days=1)
    truth = json.loads((scenario / "truth.json").read_text())["array"]
    home = str(tmp_path / "home")
    _cli("ingest", str(scenario / "ground-array" / "stations.xml"), "--home", home)
    output = _cli("ground", "beam", str(scenario / "ground-array"), "--home", home, "--json")
    (result,) = json.loads(output)
    assert result["array_id"] == "infrasound:TL.ARR"
    assert result["detections"] > 0
    again = json.loads(
        _cli("ground", "beam", str(scenario / "ground-array"), "--home", home, "--json")
    )
    assert again[0]["new"] == 0  # re-ingesting the same waveforms is a no-op
    assert again[0]["detections"] == result["detections"]
    status = json.loads(_cli("status", "--home", home, "--json"))
    assert status["observations"] == result["detections"]
    # one array alone gives directions, not positions: nothing is located from it
    run = json.loads(_cli("run", "--home", home, "--json"))
    assert run["events"] == 0
    assert run["unassociated_observations"] == result["detections"]
    # every true source the array heard has a beam within a few degrees
    with Workspace(Path(home)) as workspace:
        azimuths = [o.location.azimuth_deg for _, o in workspace.store.observations()]  # type: ignore[union-attr]
    for heard in truth["events"]:
        gap = min(abs((a - heard["back_azimuth_deg"] + 180) % 360 - 180) for a in azimuths)
        assert gap < 5.0, heard["id"]
