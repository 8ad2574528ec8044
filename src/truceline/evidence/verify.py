"""Independent verification of an evidence log directory.

:func:`verify_log` recomputes every leaf hash and every tree head's root from
the bytes on disk, checks that heads are contiguous, that each head's byte
offset matches, that every head's signature is valid under the published key,
and that every observation entry's id is the hash of its content. It opens the
files read-only and needs no database: a party can run it on a copy of the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from truceline.evidence.log import ENTRIES, HEADS, TreeHead
from truceline.evidence.merkle import MerkleAccumulator
from truceline.evidence.signing import Verifier
from truceline.model.ids import canonical_json, sha256_hex

__all__ = ["VerifyReport", "verify_log"]


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_log`.

    Attributes
    ----------
    entries
        Entries read.
    heads
        Tree heads checked.
    root_hash
        Root over all acknowledged entries, hex.
    problems
        Everything found wrong; empty when the log verifies.
    """

    entries: int = 0
    heads: int = 0
    root_hash: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def _check_entry(index: int, line: bytes, report: VerifyReport) -> None:
    try:
        entry = json.loads(line)
    except ValueError:
        report.problems.append(f"entry {index}: not valid JSON (bytes changed?)")
        return
    if canonical_json(entry) != line:
        report.problems.append(f"entry {index}: not in canonical form (bytes changed?)")
    if isinstance(entry, dict) and entry.get("type") == "observation":
        body = entry.get("body")
        if sha256_hex(canonical_json(body)) != entry.get("id"):
            report.problems.append(f"entry {index}: observation id does not match its content")


def verify_log(
    directory: Path,
    *,
    expect_size: int | None = None,
    expect_root: str | None = None,
    check_content: bool = True,
) -> VerifyReport:
    """Verify the log in ``directory``.

    Parameters
    ----------
    directory
        An evidence log directory.
    expect_size, expect_root
        A checkpoint obtained earlier from a trusted channel (e.g. a published
        daily report): the log must contain a tree of that size with that root.
        This is what catches a log cut back to an earlier, consistent state.
    check_content
        Also parse every entry and check canonical form and observation ids.
    """
    report = VerifyReport()
    heads_path = directory / HEADS
    entries_path = directory / ENTRIES
    public_key = directory / "keys" / "log-signing.pub"
    if not entries_path.exists() or not heads_path.exists():
        report.problems.append(f"{directory}: not an evidence log (missing {ENTRIES}/{HEADS})")
        return report
    verifier = Verifier.load(public_key) if public_key.exists() else None
    if verifier is None:
        report.problems.append(f"{public_key}: missing; head signatures cannot be checked")

    heads: list[TreeHead] = []
    for number, line in enumerate(heads_path.read_bytes().splitlines(), start=1):
        try:
            heads.append(TreeHead.from_dict(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"{HEADS} line {number}: unreadable tree head ({exc})")
    report.heads = len(heads)

    accumulator = MerkleAccumulator()
    roots_at: dict[int, str] = {0: accumulator.root().hex()}
    offset = 0
    head_iter = iter(heads)
    next_head = next(head_iter, None)
    previous_size = 0
    with entries_path.open("rb") as handle:
        for index, raw in enumerate(handle):
            if not raw.endswith(b"\n"):
                report.problems.append(f"entry {index}: truncated (no end of line)")
            line = raw.rstrip(b"\n")
            accumulator.append(line)
            offset += len(raw)
            if check_content:
                _check_entry(index, line, report)
            while next_head is not None and next_head.tree_size == accumulator.size:
                _check_head(next_head, accumulator, offset, previous_size, verifier, report)
                previous_size = next_head.tree_size
                next_head = next(head_iter, None)
            roots_at[accumulator.size] = accumulator.root().hex()
    report.entries = accumulator.size
    report.root_hash = accumulator.root().hex()
    if next_head is not None:
        report.problems.append(
            f"tree head for size {next_head.tree_size} but only {accumulator.size} entries: "
            "entries were removed or the log was truncated"
        )
    acknowledged = heads[-1].tree_size if heads else 0
    if accumulator.size > acknowledged:
        report.problems.append(
            f"{accumulator.size - acknowledged} entries after the last tree head were never "
            "acknowledged (crash during append, or entries added outside truceline)"
        )
    if expect_size is not None:
        root = roots_at.get(expect_size)
        if root is None:
            report.problems.append(
                f"checkpoint size {expect_size} exceeds the log's {accumulator.size} entries: "
                "the log was truncated"
            )
        elif expect_root is not None and root != expect_root:
            report.problems.append(
                f"root at size {expect_size} is {root}, checkpoint says {expect_root}"
            )
    return report


def _check_head(
    head: TreeHead,
    accumulator: MerkleAccumulator,
    offset: int,
    previous_size: int,
    verifier: Verifier | None,
    report: VerifyReport,
) -> None:
    label = f"tree head of size {head.tree_size}"
    if head.first_index != previous_size or head.first_index + head.count != head.tree_size:
        report.problems.append(f"{label}: batch bounds are not contiguous with the previous head")
    if accumulator.root().hex() != head.root_hash:
        report.problems.append(
            f"{label}: root hash mismatch (recomputed {accumulator.root().hex()[:16]}…, "
            f"head says {head.root_hash[:16]}…): entries {head.first_index}-"
            f"{head.tree_size - 1} or earlier were changed, removed or reordered"
        )
    if head.end_offset != offset:
        report.problems.append(
            f"{label}: entries end at byte {offset}, head says {head.end_offset}"
        )
    if verifier is not None and not verifier.verify(head.signed_bytes(), head.signature):
        report.problems.append(f"{label}: signature does not verify with the published key")
