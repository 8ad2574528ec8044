"""The append-only evidence log.

Layout of a log directory::

    entries.jsonl   one entry per line: the canonical JSON bytes that are hashed
    heads.jsonl     one signed tree head per append batch
    keys/           the log's Ed25519 signing key pair
    LOCK            advisory lock held by the writer

Every entry is a leaf of an RFC 9162 Merkle tree (see :mod:`.merkle`). An append
writes the batch's entries, flushes them to disk, then writes and flushes a tree
head naming the new size, root hash and the byte offset where the batch ends.
A batch is *acknowledged* once its head is on disk. If the process dies before
that, the next open cuts the unacknowledged tail off, so a crash never leaves a
half-written batch and never loses an acknowledged one.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from truceline.evidence.merkle import MerkleAccumulator, leaf_hash
from truceline.evidence.signing import Signer, Verifier
from truceline.model.errors import TrucelineError
from truceline.model.ids import canonical_json
from truceline.model.timeutil import format_utc

__all__ = ["EvidenceLog", "LogBusyError", "LogError", "TreeHead"]

ENTRIES = "entries.jsonl"
HEADS = "heads.jsonl"


class LogError(TrucelineError):
    """The evidence log cannot be opened or appended to."""


class LogBusyError(LogError):
    """Another process holds the evidence log's writer lock (try again later)."""


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed statement of the log's size and root after one append batch.

    Attributes
    ----------
    tree_size
        Number of entries in the log after the batch.
    root_hash
        Hex RFC 9162 root over those entries.
    end_offset
        Byte length of ``entries.jsonl`` after the batch.
    first_index, count
        Index of the batch's first entry and its number of entries.
    batch
        What the batch was (e.g. ``{"kind": "ingest", "artifact": ...}``).
    timestamp
        When the head was issued (UTC, ISO 8601). Metadata only: nothing
        derived from the log depends on it.
    frontier
        Hex roots of the perfect subtrees (for O(1) reopening).
    key_id, signature
        Signing key id and hex Ed25519 signature over :meth:`signed_bytes`.
    """

    tree_size: int
    root_hash: str
    end_offset: int
    first_index: int
    count: int
    batch: Mapping[str, Any]
    timestamp: str
    frontier: tuple[tuple[int, str], ...]
    key_id: str
    signature: str

    def unsigned(self) -> dict[str, Any]:
        """The head's content without the signature."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "end_offset": self.end_offset,
            "first_index": self.first_index,
            "count": self.count,
            "batch": dict(self.batch),
            "timestamp": self.timestamp,
            "frontier": [list(item) for item in self.frontier],
            "key_id": self.key_id,
        }

    def signed_bytes(self) -> bytes:
        """The canonical bytes the signature covers."""
        return canonical_json(self.unsigned())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form including the signature."""
        return {**self.unsigned(), "signature": self.signature}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TreeHead:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            tree_size=int(data["tree_size"]),
            root_hash=str(data["root_hash"]),
            end_offset=int(data["end_offset"]),
            first_index=int(data["first_index"]),
            count=int(data["count"]),
            batch=dict(data["batch"]),
            timestamp=str(data["timestamp"]),
            frontier=tuple((int(h), str(x)) for h, x in data["frontier"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


def _read_heads(path: Path) -> list[TreeHead]:
    if not path.exists():
        return []
    heads = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break  # a head not fully written was never acknowledged
            try:
                heads.append(TreeHead.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise LogError(f"{path}: line {number}: unreadable tree head ({exc})") from None
    return heads


class EvidenceLog:
    """An append-only, Merkle-hashed, signed log of canonical JSON entries.

    Open it as a context manager; only one writer may hold a log at a time.

    Parameters
    ----------
    directory
        The log directory (created if missing).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_handle = (directory / "LOCK").open("a")
        try:
            fcntl.flock(self._lock_handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_handle.close()
            raise LogBusyError(
                f"{directory}: the evidence log is in use by another process"
            ) from None
        self._entries_path = directory / ENTRIES
        self._heads_path = directory / HEADS
        try:
            self.signer = Signer.load_or_create(directory / "keys")
            self._heads = _read_heads(self._heads_path)
            self._recover()
            self._accumulator = self._restore_accumulator()
        except BaseException:
            self.close()
            raise

    # -- lifecycle -----------------------------------------------------------------
    def close(self) -> None:
        """Release the writer lock."""
        if not self._lock_handle.closed:
            fcntl.flock(self._lock_handle, fcntl.LOCK_UN)
            self._lock_handle.close()

    def __enter__(self) -> EvidenceLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _recover(self) -> None:
        """Cut off an unacknowledged tail left by a crash."""
        acknowledged = self._heads[-1].end_offset if self._heads else 0
        self._entries_path.touch(exist_ok=True)
        actual = self._entries_path.stat().st_size
        if actual > acknowledged:
            with self._entries_path.open("r+b") as handle:
                handle.truncate(acknowledged)
                os.fsync(handle.fileno())
        elif actual < acknowledged:
            raise LogError(
                f"{self._entries_path}: {actual} bytes on disk but the last tree head "
                f"acknowledges {acknowledged}: the log was truncated; run 'truceline log verify'"
            )
        # rewrite the heads file if its last line was torn
        raw = self._heads_path.read_bytes() if self._heads_path.exists() else b""
        if raw and not raw.endswith(b"\n"):
            cut = raw.rfind(b"\n") + 1
            with self._heads_path.open("r+b") as handle:
                handle.truncate(cut)
                os.fsync(handle.fileno())

    def _restore_accumulator(self) -> MerkleAccumulator:
        accumulator = MerkleAccumulator()
        if self._heads:
            head = self._heads[-1]
            accumulator._stack = [(h, bytes.fromhex(x)) for h, x in head.frontier]
            accumulator._size = head.tree_size
            if accumulator.root().hex() != head.root_hash:
                raise LogError(
                    f"{self._heads_path}: last tree head is inconsistent; "
                    "run 'truceline log verify'"
                )
        return accumulator

    # -- reading -------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Number of acknowledged entries."""
        return self._accumulator.size

    @property
    def root_hash(self) -> str:
        """Hex root hash over all acknowledged entries."""
        return self._accumulator.root().hex()

    @property
    def heads(self) -> tuple[TreeHead, ...]:
        """All tree heads, oldest first."""
        return tuple(self._heads)

    @property
    def verifier(self) -> Verifier:
        """Verifier of this log's head signatures."""
        return self.signer.verifier

    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index, entry_bytes)`` for acknowledged entries in ``[start, stop)``."""
        stop = self.size if stop is None else min(stop, self.size)
        with self._entries_path.open("rb") as handle:
            for index, line in enumerate(handle):
                if index >= stop:
                    break
                if index >= start:
                    yield index, line[:-1]

    # -- writing -------------------------------------------------------------------
    def append_batch(self, entries: Sequence[bytes], batch: Mapping[str, Any]) -> TreeHead:
        """Append entries atomically and issue a signed tree head.

        Parameters
        ----------
        entries
            Canonical JSON bytes, one per entry (no newline characters).
        batch
            JSON-compatible description of the batch, recorded in the head.

        Returns
        -------
        TreeHead
            The acknowledged head. Once this returns, the entries survive a crash.
        """
        if self._lock_handle.closed:
            raise LogError("the evidence log is closed")
        if not entries:
            raise LogError("an append batch must hold at least one entry")
        for position, entry in enumerate(entries):
            if b"\n" in entry:
                raise LogError(f"entry {position} of the batch contains a newline")
        first = self.size
        payload = b"".join(entry + b"\n" for entry in entries)
        accumulator = self._accumulator
        append = accumulator.append_leaf_hash
        for entry in entries:
            append(leaf_hash(entry))
        try:
            with self._entries_path.open("ab") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
                end_offset = handle.tell()
            verifier = self.signer.verifier
            head = TreeHead(
                tree_size=accumulator.size,
                root_hash=accumulator.root().hex(),
                end_offset=end_offset,
                first_index=first,
                count=len(entries),
                batch=dict(batch),
                timestamp=format_utc(datetime.now(UTC).replace(microsecond=0)),
                frontier=tuple((h, x.hex()) for h, x in accumulator._stack),
                key_id=verifier.key_id,
                signature="",
            )
            signed = replace(head, signature=self.signer.sign(head.signed_bytes()))
            with self._heads_path.open("ab") as handle:
                handle.write(canonical_json(signed.to_dict()) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            # Undo: cut any partly written tail and restore the in-memory tree.
            self._recover()
            self._accumulator = self._restore_accumulator()
            raise
        self._heads.append(signed)
        return signed
