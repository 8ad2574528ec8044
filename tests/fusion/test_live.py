"""Live mode: the same final answer as batch, whatever the arrival order; versioned findings."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString

from fusion.fusion_testkit import point_at
from truceline.agreement import Agreement, agreement_from_dict, demo_agreement_dict
from truceline.agreement.demo import write_demo_agreement
from truceline.agreement.patterns import with_patterns
from truceline.follow import FollowSummary, follow
from truceline.fusion import FusionConfig, fuse
from truceline.ingest.pipeline import commit_records
from truceline.live import LiveEngine, Update
from truceline.model import (
    BearingLocation,
    FootprintLocation,
    LocalFrame,
    Observation,
    Sensor,
)
from truceline.model.finding import Finding
from truceline.model.timeutil import from_epoch
from truceline.runs import (
    add_agreement,
    agreement_from_body,
    digest_records,
    execute_run,
    judge,
    rederive,
)
from truceline.workspace import Workspace

T0 = datetime(2026, 11, 5, 10, tzinfo=UTC)
LINE = LineString([(38.0, 47.0), (38.0, 49.5)])  # west party left of it walking north
AGREEMENT = agreement_from_dict(demo_agreement_dict(LINE))
FRAME = LocalFrame(38.0, 48.2)
C = FusionConfig().sound_speed_mps


#: A point observation in this module's frame (``fusion_testkit.point_at``).
_point = partial(point_at, FRAME)


def _bearings(east_m: float, north_m: float, t: datetime, kind: str) -> list[Observation]:
    stations = [(-9e3, -7e3), (10e3, -6e3), (1e3, 11e3), (-10e3, 8e3)]
    out = []
    for k, (x, y) in enumerate(stations):
        r = math.hypot(east_m - x, north_m - y)
        lon, lat = FRAME.point_to_geo(x, y)
        out.append(
            Observation(
                f"acoustic:S{k}", "acoustic", kind, from_epoch(t.timestamp() + r / C),
                BearingLocation(lon, lat, math.degrees(math.atan2(east_m - x, north_m - y)) % 360,
                                2.0, 25_000.0),
                time_sigma_s=0.1, attributes={"confidence": 0.85},
            )
        )  # fmt: skip
    return out


def _footprint(east_m: float, north_m: float, half_m: float) -> FootprintLocation:
    ring = [(-half_m, -half_m), (half_m, -half_m), (half_m, half_m), (-half_m, half_m)]
    return FootprintLocation(
        tuple(FRAME.point_to_geo(east_m + dx, north_m + dy) for dx, dy in [*ring, ring[0]])
    )


def _scenario() -> list[Observation]:
    """A shelling with its launch, fires and craters; sounds; a fire; weapons; a position."""
    net = ("acoustic:net", "acoustic")
    viirs = ("firms:VIIRS:NOAA-20", "satellite")
    obs = [
        _point(*net, "launch", -5_000.0, 0.0, 200.0, T0),  # west of the line
        *(_point(*net, "impact", 6_000.0 + 80 * k, 50.0 * k, 150.0,
                 T0 + timedelta(seconds=40 + 25 * k)) for k in range(3)),
        _point(*viirs, "thermal_anomaly", 6_150.0, 100.0, 180.0, T0 + timedelta(hours=2)),
        _point(*viirs, "thermal_anomaly", 5_900.0, -80.0, 180.0, T0 + timedelta(hours=2)),
        Observation("sentinel-1a:pwtt:R043", "satellite", "crater", T0 - timedelta(days=4),
                    _footprint(6_060.0, 40.0, 6.0), time_end=T0 + timedelta(days=8),
                    attributes={"confidence": 0.95}),
        _point("drone:UAV-1", "drone", "crater", 6_170.0, 110.0, 10.0, T0 + timedelta(days=1)),
        *_bearings(3_000.0, 9_000.0, T0 + timedelta(hours=3), "explosion"),
        *(_point(*viirs, "thermal_anomaly", 20_000.0, 10_000.0, 180.0, T0 + timedelta(hours=12 * k))
          for k in range(3)),
        *(_point("drone:UAV-2", "drone", "equipment", 4_000.0 + 3 * k, -3_000.0, 12.0,
                 T0 + timedelta(days=k), weapon_class="artillery_ge100") for k in range(2)),
        _point("drone:UAV-2", "drone", "equipment", -60_000.0, 0.0, 12.0, T0, weapon_class="tank"),
        # a barrage along 6 km of the line over two hours: sustained fire
        *(_point(*net, "impact", 3_000.0, -4_000.0 + 1_000.0 * k, 150.0,
                 T0 + timedelta(minutes=30 + 20 * k)) for k in range(7)),
        # a strike 30 km behind the line, heard, filmed and reported: an attack
        _point(*net, "explosion", 30_000.0, 5_000.0, 150.0, T0 + timedelta(hours=4)),
        _point("report:monitor", "report", "explosion", 30_050.0, 5_000.0, 100.0,
               T0 + timedelta(hours=4, seconds=20), confidence=0.95),
        _point("drone:UAV-3", "drone", "explosion", 29_980.0, 5_020.0, 20.0,
               T0 + timedelta(hours=4, seconds=5)),
        # two more heavy weapons inside the east party's band: repeated withdrawal violations
        _point("drone:UAV-2", "drone", "equipment", 5_000.0, 3_000.0, 12.0,
               T0 + timedelta(hours=5), weapon_class="mlrs"),
        _point("drone:UAV-2", "drone", "equipment", 7_000.0, -6_000.0, 12.0,
               T0 + timedelta(hours=9), weapon_class="artillery_ge100"),
        _point("report:monitor", "report", "military_presence", 300.0, 2_000.0, 40.0, T0),
    ]  # fmt: skip
    return obs


def _batch(
    pairs: list[tuple[str, Observation]],
    agreements: list[Agreement],
    sensors: list[Sensor] | None = None,
) -> tuple[list, list[Finding], list[str]]:
    """What a batch run derives (:func:`truceline.runs.derive` without a store)."""
    result = fuse(pairs, sensors or [])
    events, findings = judge(result.events, agreements)
    return events, with_patterns(findings, agreements, events), result.unassociated


def _records(items: list) -> list[dict[str, object]]:
    return [x.to_record() for x in items]


SCENARIO = [(o.id, o) for o in _scenario()]
BATCH = _batch(SCENARIO, [AGREEMENT])


def test_the_scenario_has_findings_and_several_components() -> None:
    events, findings, _ = BATCH
    kinds = {e.kind for e in events}
    assert {"launch", "impact", "explosion", "thermal_anomaly", "equipment"} <= kinds
    assert {f.rule_id for f in findings} >= {"no-fire"}
    impact = next(e for e in events if "drone" in e.modalities and e.kind == "impact")
    assert "satellite" in impact.modalities  # fires and craters joined the shelling
    patterns = {f.rule_id for f in findings if "pattern" in f.attributes}
    assert patterns == {"sustained-fire", "repeated-withdrawal"}


@given(
    order=st.permutations(list(range(len(SCENARIO)))),
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=30),
    repeat=st.booleans(),
)
@settings(max_examples=12, deadline=None)
def test_live_equals_batch_for_any_arrival_order(
    order: list[int], sizes: list[int], repeat: bool
) -> None:
    engine = LiveEngine(config=FusionConfig(), agreements=[AGREEMENT])
    arrivals = [SCENARIO[i] for i in order]
    position, k = 0, 0
    while position < len(arrivals):
        size = sizes[k % len(sizes)]
        engine.on_observations(arrivals[position : position + size])
        if repeat:  # the same observation delivered twice changes nothing
            assert not engine.on_observations(arrivals[position : position + 1]).changed
        position, k = position + size, k + 1
    events, findings, unassociated = BATCH
    assert _records(engine.events) == _records(events)
    assert _records(engine.findings) == _records(findings)
    assert engine.unassociated == unassociated
    assert engine.events_digest == digest_records(_records(events))
    assert engine.findings_digest == digest_records(_records(findings))


def test_sensor_descriptions_arriving_late_refuse_what_they_saw() -> None:
    sensors = [
        Sensor(f"acoustic:S{k}", "acoustic", reliability=0.95, timing_sigma_s=0.3) for k in range(4)
    ]
    sensors.append(Sensor("acoustic:net", "acoustic", reliability=0.55))
    engine = LiveEngine(config=FusionConfig(), agreements=[AGREEMENT])
    engine.on_observations(SCENARIO)
    before = engine.events_digest
    update = engine.add_sensors(sensors)
    assert update.changed and engine.events_digest != before
    events, findings, _ = _batch(SCENARIO, [AGREEMENT], sensors)
    assert _records(engine.events) == _records(events)
    assert _records(engine.findings) == _records(findings)


def test_an_agreement_arriving_later_judges_everything() -> None:
    engine = LiveEngine(config=FusionConfig())
    engine.on_observations(SCENARIO)
    assert engine.findings == []
    update = engine.add_agreements([AGREEMENT])
    assert update.findings_added
    assert _records(engine.findings) == _records(BATCH[1])


# -- with a home: versions, records, the follow loop ---------------------------------------------


def _commit(workspace: Workspace, observations: list[Observation], name: str) -> None:
    artifact = {
        "sha256": f"{abs(hash(name)):064x}"[-64:],
        "size": 0,
        "name": name,
        "format": "test",
    }
    commit_records(
        workspace, observations, artifacts=[artifact], batch={"kind": "test", "name": name}
    )


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    agreement = write_demo_agreement(tmp_path / "agreement", LINE)
    with Workspace(home) as workspace:
        add_agreement(workspace, agreement)
    return home


def test_a_late_hot_spot_makes_version_2_of_the_finding(tmp_path: Path) -> None:
    home = _home(tmp_path)
    net = ("acoustic:net", "acoustic")
    rounds = [
        _point(*net, "impact", 6_000.0 + 60 * k, 0.0, 150.0, T0 + timedelta(seconds=30 * k))
        for k in range(2)
    ]
    hot_spot = _point(
        "firms:VIIRS:NOAA-20",
        "satellite",
        "thermal_anomaly",
        6_100.0,
        50.0,
        180.0,
        T0 + timedelta(hours=3),
    )
    with Workspace(home) as workspace:
        _commit(workspace, rounds, "rounds")
        engine = LiveEngine(workspace, FusionConfig())
        engine.start()
        (first,) = [f for f in engine.findings if f.rule_id == "no-fire"]
        assert hot_spot.id not in first.evidence
        _commit(workspace, [hot_spot], "late hot spot")
        update = engine.poll()
        assert update.run_id is not None
        (second,) = [f for f in engine.findings if f.rule_id == "no-fire"]
        (version,) = [v for v in update.versions if v.previous_id == first.id]
        assert (version.version, version.change, version.finding_id) == (2, "changed", second.id)
        assert version.lineage == first.id  # version 1 named the lineage
        assert version.evidence_added == (hot_spot.id,)
        assert version.changes["confidence"] == [first.confidence, second.confidence]
        assert second.confidence > first.confidence
        # nothing silently rewritten: version 1's record is in the log with the first live run
        logged = [json.loads(raw) for _, raw in workspace.log.entries()]
        results = [e["body"] for e in logged if e["type"] == "run_result"]
        published = {v["finding_id"]: v for r in results for v in r.get("finding_versions", [])}
        assert published[first.id]["version"] == 1
        assert published[first.id]["record"]["id"] == first.id
        assert published[second.id]["previous_id"] == first.id
        # the store holds the current version; every live run re-derives from the log
        assert [f.id for f in workspace.store.findings()] == [f.id for f in engine.findings]
        for run in workspace.store.runs():
            ok, problems, _ = rederive(workspace.store, run)
            assert ok, problems
        outcome = execute_run(workspace)
    assert (outcome.events_digest, outcome.findings_digest) == (
        engine.events_digest,
        engine.findings_digest,
    )


def test_a_restarted_engine_continues_the_lineages(tmp_path: Path) -> None:
    home = _home(tmp_path)
    net = ("acoustic:net", "acoustic")
    first_round = _point(*net, "impact", 6_000.0, 0.0, 150.0, T0)
    second_round = _point(*net, "impact", 6_100.0, 0.0, 150.0, T0 + timedelta(seconds=30))
    with Workspace(home) as workspace:
        _commit(workspace, [first_round], "first")
        engine = LiveEngine(workspace)
        engine.start()
        (v1,) = engine.findings
    with Workspace(home) as workspace:
        _commit(workspace, [second_round], "second")
        restarted = LiveEngine(workspace)
        update = restarted.start()  # picks up where the log's last run left off
        (v2,) = restarted.findings
    (version,) = update.versions
    assert (version.lineage, version.version, version.previous_id) == (v1.id, 2, v1.id)
    assert version.finding_id == v2.id


def test_follow_picks_up_what_another_writer_ingests(tmp_path: Path) -> None:
    """The follow loop and an ingesting writer take turns on the log; the end equals batch."""
    home = _home(tmp_path)
    observations = _scenario()
    random.Random(5).shuffle(observations)
    chunks = [observations[i : i + 7] for i in range(0, len(observations), 7)]
    stop = threading.Event()
    updates: list[Update] = []
    result: dict[str, FollowSummary] = {}

    def run() -> None:
        result["summary"] = follow(
            home, poll_s=0.05, until_idle=True, idle_s=3.0, on_update=updates.append, stop=stop
        )

    thread = threading.Thread(target=run)
    thread.start()
    try:
        committed = 0
        for k, chunk in enumerate(chunks):
            with Workspace(home, wait_s=30.0) as workspace:
                _commit(workspace, chunk, f"chunk-{k}")
            committed += len(chunk)
            # let the follower read it before the next arrives: each chunk is an update
            deadline = time.monotonic() + 120.0
            while sum(u.observations for u in updates) < committed and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        thread.join(timeout=300)
        stop.set()
    summary = result["summary"]
    assert sum(1 for u in updates if u.observations) >= len(chunks)
    with Workspace(home) as workspace:
        outcome = execute_run(workspace)
    assert summary.observations == len(observations)
    assert (summary.events_digest, summary.findings_digest) == (
        outcome.events_digest,
        outcome.findings_digest,
    )


def test_cli_run_follow_until_idle(tmp_path: Path) -> None:
    home = _home(tmp_path)
    with Workspace(home) as workspace:
        _commit(workspace, _scenario()[:10], "first")
    env = {**os.environ, "TRUCELINE_HOME": str(home)}
    follower = subprocess.Popen(
        [sys.executable, "-m", "truceline.cli", "run", "--follow", "--until-idle",
         "--poll-interval", "0.1", "--idle-timeout", "4", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())  # its first pass read the first batch
        assert first["observations"] == 10
        with Workspace(home, wait_s=60.0) as workspace:
            _commit(workspace, _scenario()[10:], "second")
        out, err = follower.communicate(timeout=300)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    summary = lines[-1]["summary"]
    # the deep strike arrived with the second batch: escalated at once, with its record
    assert any(line.get("escalations") for line in lines[:-1])
    with Workspace(home) as workspace:
        records = workspace.store.escalations()
    assert len(records) == 1 and records[0]["body"]["level"] == "attack"
    assert summary["observations"] == len(_scenario())
    assert sum(line.get("observations", 0) for line in lines[:-1]) == len(_scenario()) - 10
    batch = subprocess.run(
        [sys.executable, "-m", "truceline.cli", "run", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    digests = json.loads(batch.stdout)
    assert (summary["events_digest"], summary["findings_digest"]) == (
        digests["events_digest"],
        digests["findings_digest"],
    )


def test_cli_once_needs_follow(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from truceline.cli import app

    result = CliRunner().invoke(app, ["run", "--once", "--home", str(tmp_path / "h")])
    assert result.exit_code == 2


@pytest.mark.slow
def test_demo_scenario_live_equals_batch_under_shuffled_arrival(tmp_path: Path) -> None:
    from rich.console import Console

    from truceline.demo import run_demo

    demo = run_demo(
        tmp_path / "d", tmp_path / "d" / "home", seed=2, days=1, console=Console(quiet=True)
    )
    with Workspace(demo.home) as workspace:
        observations = workspace.store.observations()
        sensors = workspace.store.sensors()
        versions = [agreement_from_body(b) for b in workspace.store.agreements()]
    rng = random.Random(11)
    rng.shuffle(observations)
    engine = LiveEngine(config=demo.fusion_config, sensors=sensors, agreements=versions)
    position = 0
    while position < len(observations):
        size = rng.choice([1, 1, 2, 10, 60])
        engine.on_observations(observations[position : position + size])
        position += size
    assert (engine.events_digest, engine.findings_digest) == (
        demo.outcome.events_digest,
        demo.outcome.findings_digest,
    )


def test_lineages_pair_changed_findings_by_shared_evidence() -> None:
    import dataclasses

    from truceline.versions import Lineages

    _, findings, _ = BATCH
    no_fire = sorted((f for f in findings if f.rule_id == "no-fire"), key=lambda f: f.id)
    a, b = no_fire[0], no_fire[1]
    lineages = Lineages()
    grown = dataclasses.replace(a, evidence=(*a.evidence, "new-observation"), confidence=0.999)
    other_rule = dataclasses.replace(b, rule_id="deep-strike")
    versions = lineages.update(
        [(a.id, a), (b.id, b)], [(grown.id, grown), (other_rule.id, other_rule)]
    )
    by_change = {v.change: v for v in versions}
    assert set(by_change) == {"changed", "new", "withdrawn"}
    changed = by_change["changed"]
    assert (changed.lineage, changed.version, changed.previous_id) == (a.id, 2, a.id)
    assert changed.evidence_added == ("new-observation",)
    assert changed.changes["confidence"] == [a.confidence, 0.999]
    assert by_change["withdrawn"].previous_id == b.id  # a finding under another rule is new
    assert by_change["new"].finding_id == other_rule.id and by_change["new"].version == 1
    assert lineages.of(grown.id) == (a.id, 2)
    # a third version continues the lineage
    again = dataclasses.replace(grown, confidence=0.5)
    (third,) = lineages.update([(grown.id, grown)], [(again.id, again)])
    assert (third.lineage, third.version, third.previous_id) == (a.id, 3, grown.id)


def test_local_pattern_updates_equal_judging_everything_again() -> None:
    """Add and withdraw single findings in random batches: the same patterns as from scratch."""
    from truceline.agreement.patterns import judge_patterns
    from truceline.live_patterns import LivePatterns
    from truceline.testing.fusion import CONTACT_LINE, fusion_load

    agreement = agreement_from_dict(demo_agreement_dict(CONTACT_LINE))
    events, findings = judge(fuse(_pairs(fusion_load(4_000, sectors=6))).events, [agreement])
    singles = {f.id: f for f in findings}
    by_event = {e.id: e for e in events}
    expected_all = judge_patterns(findings, [agreement], events)
    assert {f.rule_id for f in expected_all} == {"sustained-fire", "repeated-withdrawal"}
    rng = random.Random(3)
    ids = sorted(singles)
    present = set(rng.sample(ids, len(ids) // 2))
    live = LivePatterns([agreement])
    current = {p: f for p, f in live.reset({i: singles[i] for i in present}, by_event)}
    for _ in range(25):
        leaving = rng.sample(sorted(present), k=min(len(present), rng.randint(0, 6)))
        coming = rng.sample(
            sorted(set(ids) - present), k=min(len(ids) - len(present), rng.randint(0, 12))
        )
        present = (present - set(leaving)) | set(coming)
        gone, came = live.update(
            [(i, singles[i]) for i in leaving],
            [(i, singles[i]) for i in coming],
            {i: singles[i] for i in present},
            by_event,
        )
        for pid, _ in gone:
            del current[pid]
        current.update(came)
        judged = [singles[i] for i in sorted(present)]
        expected = {f.id for f in judge_patterns(judged, [agreement], events)}
        assert set(current) == expected == set(live.findings)


def _pairs(observations: list[Observation]) -> list[tuple[str, Observation]]:
    return [(o.id, o) for o in observations]


def test_cli_follow_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    import signal

    home = _home(tmp_path)
    with Workspace(home) as workspace:
        _commit(workspace, _scenario()[:5], "first")
    env = {**os.environ, "TRUCELINE_HOME": str(home)}
    follower = subprocess.Popen(
        [sys.executable, "-m", "truceline.cli", "run", "--follow",
         "--poll-interval", "0.1", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert follower.stdout is not None
        assert json.loads(follower.stdout.readline())["observations"] == 5  # it is following
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=120)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert summary["interrupted"] is True
    with Workspace(home) as workspace:  # the log is released and whole
        assert workspace.log.size == workspace.store.log_size()
