"""Ingest into a workspace: atomic, idempotent, crash-safe, rebuildable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ingest.ingest_samples import FIRMS_API_VIIRS, FIRMS_ARCHIVE_VIIRS, FIRMS_COUNTRY
from truceline.evidence.entries import observation_entry
from truceline.evidence.verify import verify_log
from truceline.ingest.pipeline import ingest_file
from truceline.ingest.registry import UnknownFormatError
from truceline.model import RecordError
from truceline.runs import rebuild_store
from truceline.store.base import Query
from truceline.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "home")


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _state(ws: Workspace) -> tuple[int, str, str]:
    return ws.log.size, ws.log.root_hash, ws.store.content_digest()


def test_ingest_is_idempotent(tmp_path: Path, workspace: Workspace) -> None:
    path = _write(tmp_path, "viirs.csv", FIRMS_ARCHIVE_VIIRS)
    with workspace as ws:
        first = ingest_file(ws, path)
        state = _state(ws)
        again = ingest_file(ws, path)
        assert first.format == "firms"
        assert first.records == 3 + 2  # three detections, two satellites described
        assert first.new == first.records
        assert again.new == 0 and again.duplicates == again.records
        assert _state(ws) == state
        # the same detections in the API shape are different records (other raw bytes)
        api = ingest_file(ws, _write(tmp_path, "api.csv", FIRMS_API_VIIRS))
        assert api.new > 0
        assert ws.store.counts()["observations"] == 3 + 4
    assert verify_log(tmp_path / "home" / "log").ok


@pytest.mark.parametrize(
    ("corruption", "line", "field"),
    [
        (lambda t: t.replace("47.83244", "47.8x244"), 3, "latitude"),
        (lambda t: t.replace(",confidence,", ",confidance,"), 1, "confidence"),
        (lambda t: t.rsplit(",", 6)[0] + "\n", 4, None),
    ],
    ids=["bad-number", "missing-column", "truncated-line"],
)
def test_bad_file_is_refused_whole(
    tmp_path: Path, workspace: Workspace, corruption: object, line: int, field: str | None
) -> None:
    with workspace as ws:
        ingest_file(ws, _write(tmp_path, "good.csv", FIRMS_COUNTRY))
        before = _state(ws)
        bad = _write(tmp_path, "bad.csv", corruption(FIRMS_ARCHIVE_VIIRS))  # type: ignore[operator]
        with pytest.raises(RecordError) as info:
            ingest_file(ws, bad)
        assert info.value.file == str(bad)
        assert info.value.record == line
        if field is not None:
            assert info.value.field == field
        assert str(bad) in str(info.value) and f"line {line}" in str(info.value)
        assert _state(ws) == before
    assert verify_log(tmp_path / "home" / "log").ok


def test_unknown_format_lists_known_formats(tmp_path: Path, workspace: Workspace) -> None:
    with workspace as ws, pytest.raises(UnknownFormatError) as info:
        ingest_file(ws, _write(tmp_path, "notes.txt", "nothing to see\n"))
    message = str(info.value)
    for name in ("firms", "geojson", "obs-csv"):
        assert name in message


def test_identical_rows_in_one_file_are_kept_apart(tmp_path: Path, workspace: Workspace) -> None:
    lines = FIRMS_COUNTRY.splitlines()
    text = "\n".join([*lines, lines[1]]) + "\n"  # the first detection twice
    with workspace as ws:
        result = ingest_file(ws, _write(tmp_path, "dup.csv", text))
        observations = [o for _, o in ws.store.observations()]
    assert result.new == result.records
    assert len(observations) == 4
    assert sorted(o.attributes.get("occurrence", 1) for o in observations) == [1, 1, 1, 2]


def test_store_catches_up_after_a_crash_between_log_and_store(
    tmp_path: Path, workspace: Workspace
) -> None:
    path = _write(tmp_path, "country.csv", FIRMS_COUNTRY)
    with workspace as ws:
        ingest_file(ws, path)
        _, observation = ws.store.observations()[0]
        # acknowledged in the log, then the process dies before the store commit
        moved = dataclasses.replace(observation, sensor_id="firms:late")
        entry_id, entry, _ = observation_entry(moved, {"artifact": None, "record": 1})
        ws.log.append_batch([entry], {"kind": "test"})
        assert ws.store.log_size() == ws.log.size - 1
    with Workspace(tmp_path / "home") as reopened:
        assert reopened.store.log_size() == reopened.log.size
        assert entry_id in reopened.store.known_ids("observations", [entry_id])


def test_store_rebuild_gives_identical_content(tmp_path: Path, workspace: Workspace) -> None:
    with workspace as ws:
        ingest_file(ws, _write(tmp_path, "a.csv", FIRMS_ARCHIVE_VIIRS))
        ingest_file(ws, _write(tmp_path, "b.csv", FIRMS_COUNTRY))
        old, new, problems = rebuild_store(ws)
        assert problems == []
        assert old == new
        assert len(ws.store.observations(Query(kinds=("thermal_anomaly",)))) == 6


@pytest.mark.shared_data
def test_whole_2023_country_file_twice(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "firms-ukraine" / "ukr_fire_data_2023.csv"
    with Workspace(tmp_path / "home") as ws:
        first = ingest_file(ws, path)
        counts = ws.store.counts()
        second = ingest_file(ws, path)
        assert first.new == 98_287 + 1  # every detection, plus the one sensor description
        assert second.new == 0
        assert ws.store.counts() == counts
        assert counts["observations"] == 98_287
        assert counts["artifacts"] == 1
