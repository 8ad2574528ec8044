"""The append-only log: acknowledgement, crash recovery and tamper detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from truceline.evidence.log import EvidenceLog, LogError
from truceline.evidence.merkle import MerkleAccumulator
from truceline.evidence.verify import verify_log
from truceline.model.ids import canonical_json


def _entries(start: int, count: int) -> list[bytes]:
    return [
        canonical_json({"type": "artifact", "n": i, "text": f"e{i}"})
        for i in range(start, start + count)
    ]


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "log"
    with EvidenceLog(directory) as log:
        log.append_batch(_entries(0, 5), {"kind": "test"})
        log.append_batch(_entries(5, 3), {"kind": "test"})
        log.append_batch(_entries(8, 4), {"kind": "test"})
    return directory


def test_root_matches_independent_computation(log_dir: Path) -> None:
    accumulator = MerkleAccumulator()
    accumulator.extend(_entries(0, 12))
    with EvidenceLog(log_dir) as log:
        assert log.size == 12
        assert log.root_hash == accumulator.root().hex()
        assert [h.tree_size for h in log.heads] == [5, 8, 12]
        assert [e for _, e in log.entries(3, 6)] == _entries(3, 3)


def test_clean_log_verifies(log_dir: Path) -> None:
    report = verify_log(log_dir)
    assert report.ok, report.problems
    assert report.entries == 12
    assert report.heads == 3


def test_flipped_byte_is_caught(log_dir: Path) -> None:
    path = log_dir / "entries.jsonl"
    data = bytearray(path.read_bytes())
    position = data.index(b"e6")
    data[position + 1] = ord("7")  # "e6" -> "e7": still valid JSON
    path.write_bytes(bytes(data))
    report = verify_log(log_dir)
    assert not report.ok
    assert any("root hash mismatch" in p for p in report.problems)
    assert any("size 8" in p for p in report.problems)  # the batch holding entry 6


def test_dropped_record_is_caught(log_dir: Path) -> None:
    path = log_dir / "entries.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[2]
    path.write_bytes(b"".join(lines))
    report = verify_log(log_dir)
    assert not report.ok
    assert any("mismatch" in p or "removed" in p for p in report.problems)


def test_reordering_is_caught(log_dir: Path) -> None:
    path = log_dir / "entries.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[9], lines[10] = lines[10], lines[9]
    path.write_bytes(b"".join(lines))
    report = verify_log(log_dir)
    assert not report.ok
    assert any("root hash mismatch" in p for p in report.problems)


def test_truncation_of_whole_batches_needs_a_checkpoint(log_dir: Path) -> None:
    with EvidenceLog(log_dir) as log:
        checkpoint = (log.size, log.root_hash)
    # cut the last batch and its head consistently: self-consistent, but shorter
    entries = log_dir / "entries.jsonl"
    entries.write_bytes(b"".join(entries.read_bytes().splitlines(keepends=True)[:8]))
    heads = log_dir / "heads.jsonl"
    heads.write_bytes(b"".join(heads.read_bytes().splitlines(keepends=True)[:2]))
    assert verify_log(log_dir).ok
    report = verify_log(log_dir, expect_size=checkpoint[0], expect_root=checkpoint[1])
    assert not report.ok
    assert any("truncated" in p for p in report.problems)


def test_truncated_entries_without_heads_change_is_caught(log_dir: Path) -> None:
    entries = log_dir / "entries.jsonl"
    entries.write_bytes(entries.read_bytes()[:-10])
    report = verify_log(log_dir)
    assert not report.ok
    with pytest.raises(LogError, match="truncated"):
        EvidenceLog(log_dir)


def test_forged_head_signature_is_caught(log_dir: Path) -> None:
    heads = log_dir / "heads.jsonl"
    lines = heads.read_bytes().splitlines()
    head = json.loads(lines[0])
    head["timestamp"] = "2020-01-01T00:00:00Z"
    lines[0] = canonical_json(head)
    heads.write_bytes(b"\n".join(lines) + b"\n")
    report = verify_log(log_dir)
    assert any("signature" in p for p in report.problems)


def test_unacknowledged_tail_is_cut_at_open(log_dir: Path) -> None:
    entries = log_dir / "entries.jsonl"
    with entries.open("ab") as handle:  # a crash after writing entries, before the head
        handle.write(b'{"type":"artifact","n":99}\n{"type":"arti')
    assert not verify_log(log_dir).ok
    with EvidenceLog(log_dir) as log:
        assert log.size == 12
        log.append_batch(_entries(12, 2), {"kind": "test"})
    report = verify_log(log_dir)
    assert report.ok, report.problems
    assert report.entries == 14


def test_torn_head_line_is_ignored(log_dir: Path) -> None:
    with EvidenceLog(log_dir) as log:
        before = log.root_hash
    with (log_dir / "entries.jsonl").open("ab") as handle:
        handle.write(_entries(12, 1)[0] + b"\n")
    with (log_dir / "heads.jsonl").open("ab") as handle:
        handle.write(b'{"tree_size":13,"root')
    with EvidenceLog(log_dir) as log:
        assert log.size == 12
        assert log.root_hash == before


def test_single_writer(log_dir: Path) -> None:
    with EvidenceLog(log_dir), pytest.raises(LogError, match="in use"):
        EvidenceLog(log_dir)


def test_entries_with_newlines_and_empty_batches_are_refused(tmp_path: Path) -> None:
    with EvidenceLog(tmp_path / "log") as log:
        with pytest.raises(LogError, match="newline"):
            log.append_batch([b'{"a":\n1}'], {})
        with pytest.raises(LogError, match="at least one"):
            log.append_batch([], {})
        assert log.size == 0
