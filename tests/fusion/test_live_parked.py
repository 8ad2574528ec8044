"""Live mode with weapons parked for weeks: growing findings logged as patches, same as batch.

A weapon parked inside a withdrawal band is sighted on every drone pass; each
sighting extends one event, its withdrawal finding and the party's
repeated-withdrawal pattern. Every such change is a new finding version, but
the log carries it as a patch of the previous version (the evidence id added,
the fields that changed), and the full record of every version can be rebuilt
from the log and checked against its id.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from shapely.geometry import LineString

from truceline.agreement import agreement_from_dict, demo_agreement_dict
from truceline.agreement.demo import write_demo_agreement
from truceline.agreement.escalation import observations
from truceline.agreement.patterns import is_pattern_finding, judge_patterns, with_patterns
from truceline.fusion import FusionConfig, fuse
from truceline.ingest.pipeline import commit_records
from truceline.live import LiveEngine
from truceline.model import LocalFrame, Observation, PointLocation
from truceline.runs import add_agreement, digest_records, execute_run, judge
from truceline.verify_run import verify_run
from truceline.versions import (
    FindingVersion,
    apply_patch,
    rebuild_records,
    record_patch,
)
from truceline.workspace import Workspace

T0 = datetime(2026, 11, 5, 6, tzinfo=UTC)
LINE = LineString([(38.0, 47.0), (38.0, 49.5)])
AGREEMENT = agreement_from_dict(demo_agreement_dict(LINE))
FRAME = LocalFrame(38.0, 48.2)
#: East of the line, inside the east party's 50 km band: artillery of 100 mm and more.
WEAPONS = [(4_000.0, -3_000.0), (7_000.0, 2_000.0), (9_000.0, 8_000.0)]
DAYS = 12


def _sighting(k: int, day: int, jitter_m: float) -> Observation:
    x, y = WEAPONS[k]
    lon, lat = FRAME.point_to_geo(x + jitter_m, y - jitter_m)
    return Observation(
        "drone:UAV-2", "drone", "equipment", T0 + timedelta(days=day, seconds=5 * k),
        PointLocation.isotropic(lon, lat, 12.0),
        attributes={"confidence": 0.9, "weapon_class": "artillery_ge100", "count": 1},
    )  # fmt: skip


def _sightings() -> list[Observation]:
    return [_sighting(k, d, ((7 * d + 3 * k) % 11) - 5.0) for d in range(DAYS) for k in range(3)]


def _commit(workspace: Workspace, observations: list[Observation], name: str) -> None:
    artifact = {"sha256": f"{abs(hash(name)):064x}"[-64:], "size": 0, "name": name}
    commit_records(
        workspace,
        observations,
        artifacts=[{**artifact, "format": "test"}],
        batch={"kind": "test", "name": name},
    )


def _logged_versions(workspace: Workspace) -> list[FindingVersion]:
    out = []
    for _, raw in workspace.log.entries():
        entry = json.loads(raw)
        if entry["type"] == "run_result":
            out.extend(FindingVersion.from_dict(v) for v in entry["body"]["finding_versions"])
    return out


def test_parked_weapons_grow_as_patches_and_end_as_batch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    agreement = write_demo_agreement(tmp_path / "agreement", LINE)
    sightings = _sightings()
    history, arrivals = sightings[:9], sightings[9:]
    with Workspace(home) as workspace:
        add_agreement(workspace, agreement)
        _commit(workspace, history, "history")
        engine = LiveEngine(workspace, FusionConfig())
        engine.start()
        patterns = [f for f in engine.findings if is_pattern_finding(f)]
        assert [f.rule_id for f in patterns] == ["repeated-withdrawal"]
        for k, obs in enumerate(arrivals):
            _commit(workspace, [obs], f"sighting-{k}")
            update = engine.poll()
            assert update.run_id is not None
            changed = [v for v in update.versions if v.change == "changed"]
            # the weapon's withdrawal finding and the party's pattern, each one version more
            assert {v.record is None and v.patch is not None for v in changed} == {True}
            assert len(changed) == 2
            pattern_ids = {f.id for f in engine.findings if is_pattern_finding(f)}
            (member,) = [v for v in changed if v.finding_id not in pattern_ids]
            (pattern,) = [v for v in changed if v.finding_id in pattern_ids]
            assert member.evidence_added == (obs.id,) and member.evidence_removed == ()
            # the patch names the one new sighting, not the evidence gathered so far
            assert member.patch is not None
            assert member.patch["ids"]["evidence"] == {"added": [obs.id], "removed": []}
            # the pattern's evidence is its member findings: the old member is replaced
            assert pattern.evidence_added == (member.finding_id,)
            assert pattern.evidence_removed == (member.previous_id,)
            assert pattern.patch is not None
            assert pattern.patch["ids"]["evidence"] == {
                "added": [member.finding_id],
                "removed": [member.previous_id],
            }
        (grown,) = [f for f in engine.findings if is_pattern_finding(f)]
        by_id = {f.id: f for f in engine.findings}
        assert observations(grown, by_id) == {obs.id for obs in sightings}
        # every version's full record comes back from the log, each proven by its id
        rebuilt = rebuild_records(_logged_versions(workspace))
        for finding in workspace.store.findings():
            assert rebuilt[finding.id] == finding.to_record()
        report = verify_run(workspace)
        assert report.ok, report.problems
        outcome = execute_run(workspace)
    assert (outcome.events_digest, outcome.findings_digest) == (
        engine.events_digest,
        engine.findings_digest,
    )
    pairs = [(o.id, o) for o in sightings]
    events, findings = judge(fuse(pairs).events, [AGREEMENT])
    batch = with_patterns(findings, [AGREEMENT], events)
    assert engine.findings_digest == digest_records([f.to_record() for f in batch])


def test_a_tampered_patch_does_not_rebuild() -> None:
    pairs = [(o.id, o) for o in _sightings()]
    events, findings = judge(fuse(pairs).events, [AGREEMENT])
    (pattern,) = judge_patterns(findings, [AGREEMENT], events)
    extra = "0" * 64
    grown = dataclasses.replace(pattern, evidence=tuple(sorted([*pattern.evidence, extra])))
    old, new = pattern.to_record(), grown.to_record()
    patch = record_patch(old, new)
    assert patch["ids"]["evidence"] == {"added": [extra], "removed": []}
    assert apply_patch(old, patch) == new
    first = FindingVersion(pattern.id, 1, "new", pattern.id, None, record=old)
    second = FindingVersion(pattern.id, 2, "changed", grown.id, pattern.id, patch=patch)
    assert rebuild_records([first, second])[grown.id] == new
    forged = {**patch, "ids": {"evidence": {"added": [], "removed": [pattern.evidence[0]]}}}
    with pytest.raises(ValueError, match="does not hash to its finding id"):
        rebuild_records([first, dataclasses.replace(second, patch=forged)])
    with pytest.raises(ValueError, match="no record of its previous version"):
        rebuild_records([second])


def test_pattern_judging_with_known_ids_and_events_by_id_equals_hashing_them() -> None:
    pairs = [(o.id, o) for o in _sightings()]
    events, findings = judge(fuse(pairs).events, [AGREEMENT])
    plain = judge_patterns(findings, [AGREEMENT], events)
    given = judge_patterns(
        findings, [AGREEMENT], {e.id: e for e in events}, ids=[f.id for f in findings]
    )
    assert plain and [f.to_record() for f in given] == [f.to_record() for f in plain]
    with pytest.raises(ValueError, match="finding ids given"):
        judge_patterns(findings, [AGREEMENT], events, ids=[])


def test_record_patches_carry_id_lists_as_changes_and_other_values_in_full() -> None:
    old = {
        "evidence": ["a", "b", "c"],
        "order": ["z", "y"],
        "attributes": {"pattern": {"members": ["m1", "m2"], "count": 2}, "gone": 1},
        "lon": 38.1,
        "dropped": True,
    }
    new = {
        "evidence": ["a", "c", "d"],
        "order": ["z", "x"],  # not sorted: not an id set, given in full
        "attributes": {"pattern": {"members": ["m1", "m3"], "count": 2}},
        "lon": 38.2,
    }
    patch = record_patch(old, new)
    assert patch == {
        "unset": ["dropped"],
        "ids": {"evidence": {"added": ["d"], "removed": ["b"]}},
        "set": {"lon": 38.2, "order": ["z", "x"]},
        "nested": {
            "attributes": {
                "unset": ["gone"],
                "nested": {"pattern": {"ids": {"members": {"added": ["m3"], "removed": ["m2"]}}}},
            }
        },
    }
    assert apply_patch(old, patch) == new
    assert record_patch(new, new) == {}
