"""Re-derive a recorded run from the evidence log alone and check its published digests.

``truceline verify-run [RUN_ID] [--digest HEX] [--agreement FILE]`` is what a
sceptical party runs on its copy of the log:

1. the run entry and its result are read from the **log**, not the store, and
   the run entry's id must be the content id of its body;
2. the log prefix the run read is projected into a fresh in-memory store, and
   its RFC 9162 root must equal the root the run recorded;
3. the agreement versions in that prefix must be those the run recorded (and a
   guarantor's own copy given with ``--agreement`` must be one of them);
4. fusion, adjudication and pattern judging are re-run with the recorded
   configuration; the events and findings digests must equal the recorded ones,
   and the findings digest must equal ``--digest`` when given;
5. the escalations must match: the recorded top-level finding ids, and every
   escalation record the run appended rebuilt byte for byte;
6. when the run is the latest, the store's current findings must be the
   re-derived ones (a tampered store shows as added, removed or changed ids).

Together with ``truceline log verify`` (signatures and hashes of the whole log),
this shows that the published findings follow from the logged evidence, the
agreement text and the configuration, and from nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truceline.agreement import load_agreement
from truceline.agreement.escalation import (
    EscalationRecord,
    build_escalations,
    escalation_key,
    top_level_findings,
)
from truceline.evidence.merkle import leaf_hash
from truceline.evidence.proofs import TreeProofs
from truceline.fusion import FusionConfig
from truceline.model.errors import TrucelineError
from truceline.model.finding import Finding
from truceline.model.ids import content_id
from truceline.runs import derive, digest_records
from truceline.store.sqlite import SQLiteStore
from truceline.workspace import Workspace

__all__ = ["FindingsDiff", "RunVerification", "VerifyRunError", "diff_findings", "verify_run"]


class VerifyRunError(TrucelineError):
    """The run to verify cannot be found in the log."""


@dataclass(frozen=True, slots=True)
class FindingsDiff:
    """How one list of findings differs from another, by finding id.

    Attributes
    ----------
    added
        Ids only in the re-derived findings.
    removed
        Ids only in the findings compared against.
    changed
        ``(old_id, new_id)`` pairs about the same event, rule and agreement
        version whose content differs.
    """

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing differs."""
        return not (self.added or self.removed or self.changed)


def _key(finding: Finding) -> tuple[str, str, str]:
    return (finding.event_id, finding.rule_id, finding.agreement_id)


def diff_findings(expected: Sequence[Finding], actual: Sequence[Finding]) -> FindingsDiff:
    """Differences of ``actual`` against ``expected`` (the re-derived findings)."""
    new = {f.id: f for f in expected}
    old = {f.id: f for f in actual}
    added = {k: f for k, f in new.items() if k not in old}
    removed = {k: f for k, f in old.items() if k not in new}
    removed_by_key = {_key(f): k for k, f in removed.items()}
    changed = []
    for new_id, finding in sorted(added.items()):
        old_id = removed_by_key.get(_key(finding))
        if old_id is not None:
            changed.append((old_id, new_id))
    paired_old = {o for o, _ in changed}
    paired_new = {n for _, n in changed}
    return FindingsDiff(
        added=tuple(sorted(k for k in added if k not in paired_new)),
        removed=tuple(sorted(k for k in removed if k not in paired_old)),
        changed=tuple(changed),
    )


@dataclass
class RunVerification:
    """Outcome of :func:`verify_run`.

    Attributes
    ----------
    run_id
        The verified run.
    log_size, root_hash
        The log prefix it read, as recorded.
    recorded
        The run's result as the log records it (digests, counts, escalations).
    events_digest, findings_digest
        Digests of the re-derived events and findings.
    findings
        Number of re-derived findings.
    store_diff
        Store findings against the re-derived ones (``None``: not compared,
        because the store holds a later run's results).
    escalations_checked
        Escalation records of the run rebuilt and compared.
    problems
        Everything that does not match; empty when the run verifies.
    """

    run_id: str
    log_size: int
    root_hash: str
    recorded: Mapping[str, Any]
    events_digest: str = ""
    findings_digest: str = ""
    findings: int = 0
    store_diff: FindingsDiff | None = None
    escalations_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems


@dataclass
class _LogRuns:
    """Run-related entries found by one pass over the log."""

    runs: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    results: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    escalations: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _scan(entries: Iterator[tuple[int, bytes]]) -> _LogRuns:
    found = _LogRuns()
    for seq, line in entries:
        # a cheap byte search first: observations (nearly every entry) are not parsed
        if b'"type":"run' not in line and b'"type":"escalation"' not in line:
            continue
        entry = json.loads(line)
        kind = entry.get("type")
        if kind == "run":
            found.runs.append((seq, str(entry["id"]), entry["body"]))
        elif kind == "run_result":
            body = entry["body"]
            found.results.setdefault(str(body["run_id"]), (seq, body))
        elif kind == "escalation":
            found.escalations.append((seq, entry))
    return found


def _pick(found: _LogRuns, run_id: str | None) -> tuple[int, str, dict[str, Any]]:
    recorded = [run for run in found.runs if run[1] in found.results]
    if not recorded:
        raise VerifyRunError("no recorded run in the evidence log ('truceline run' first)")
    if run_id is None:
        return recorded[-1]
    text = run_id.strip().lower().rstrip("…")
    matches = [run for run in recorded if run[1].startswith(text)]
    if len(matches) != 1 or (len(text) < 8 and matches[0][1] != text):
        what = "no" if not matches else "more than one"
        raise VerifyRunError(f"{what} recorded run matches {run_id!r} (give 8 or more characters)")
    return matches[0]


def _project(workspace: Workspace, log_size: int) -> tuple[SQLiteStore, list[bytes]]:
    """A fresh store of the log prefix, and its leaf hashes."""
    leaves: list[bytes] = []

    def hashed() -> Iterator[tuple[int, bytes]]:
        for seq, line in workspace.log.entries(0, log_size):
            leaves.append(leaf_hash(line))
            yield seq, line

    store = SQLiteStore(":memory:")
    store.apply_entries(hashed())
    return store, leaves


def _check_agreements(
    store: SQLiteStore,
    body: Mapping[str, Any],
    copies: Sequence[Path],
    problems: list[str],
) -> None:
    recorded = sorted(body["agreements"])
    bodies = store.agreements()
    logged = sorted(content_id(b) for b in bodies)
    if logged != recorded:
        problems.append(
            "agreement versions in the log prefix differ from those the run recorded: "
            f"recorded {[v[:12] for v in recorded]}, log has {[v[:12] for v in logged]} "
            "(an agreement text was changed or removed)"
        )
    versions = {(str(b["id"]), int(b["version"])): content_id(b) for b in bodies}
    for path in copies:
        copy = load_agreement(path)
        if copy.version_id in recorded:
            continue
        used = versions.get((copy.id, copy.version))
        detail = (
            f"the run used a different text of {copy.id} v{copy.version} ({used[:12]}…)"
            if used is not None
            else f"the run used no version {copy.version} of {copy.id!r}"
        )
        problems.append(
            f"{path}: your copy of the agreement ({copy.version_id[:12]}…) is not one the run "
            f"used: {detail}"
        )


def _compare(label: str, recorded: Any, derived: Any, problems: list[str]) -> None:
    if recorded != derived:
        problems.append(f"{label} differs: recorded {recorded}, re-derived {derived}")


def _check_escalations(
    found: _LogRuns,
    run_id: str,
    run_seq: int,
    findings: Sequence[Finding],
    store: SQLiteStore,
    leaves: Sequence[bytes],
    root_hash: str,
    report: RunVerification,
) -> None:
    top = top_level_findings(findings, store.agreements())
    _compare(
        "escalated finding ids",
        sorted(report.recorded.get("escalations", [])),
        sorted(f.id for f in top),
        report.problems,
    )
    earlier = {str(e["body"]["key"]) for seq, e in found.escalations if seq < run_seq}
    own = [e for _, e in found.escalations if e["body"].get("run_id") == run_id]
    own_keys = {str(e["body"]["key"]) for e in own}
    for finding in top:
        key = escalation_key(finding.id, finding.escalation_level)
        if key not in own_keys and key not in earlier:
            report.problems.append(
                f"finding {finding.id[:12]}… is at the top level ({finding.escalation_level}) "
                "but no escalation record in the log raises it"
            )
    if not own:
        return
    by_key = {escalation_key(f.id, f.escalation_level): f for f in top}
    proofs = TreeProofs(leaves)
    for entry in own:
        body = entry["body"]
        target = by_key.get(str(body["key"]))
        if target is None:
            report.problems.append(
                f"escalation record {str(entry['id'])[:12]}… raises finding "
                f"{str(body['finding']['id'])[:12]}…, which re-derivation does not put at the "
                "top level"
            )
            continue
        (rebuilt,) = build_escalations(
            findings, [target], store, proofs, run_id=run_id, root_hash=root_hash
        )
        report.escalations_checked += 1
        if rebuilt.id != entry["id"] or EscalationRecord.from_dict(body).id != entry["id"]:
            report.problems.append(
                f"escalation record {str(entry['id'])[:12]}… differs from the one rebuilt "
                f"from the log ({rebuilt.id[:12]}…)"
            )


def verify_run(
    workspace: Workspace,
    run_id: str | None = None,
    *,
    digest: str | None = None,
    agreements: Sequence[Path] = (),
) -> RunVerification:
    """Re-derive a recorded run from the evidence log and compare everything it published.

    Parameters
    ----------
    workspace
        The home directory holding the log (its store is only compared, never trusted).
    run_id
        The run (full id or a unique prefix of at least 8 characters); default
        the latest recorded run.
    digest
        A findings digest obtained elsewhere (e.g. a published report, a
        guarantor's copy) that must equal the re-derived one.
    agreements
        Agreement files (a guarantor's own copies) that must be versions the run used.

    Raises
    ------
    VerifyRunError
        If there is no such recorded run.
    """
    found = _scan(workspace.log.entries())
    run_seq, the_id, body = _pick(found, run_id)
    result = found.results[the_id][1]
    log_size, root_hash = int(body["log_size"]), str(body["root_hash"])
    report = RunVerification(the_id, log_size, root_hash, result)
    if content_id(body) != the_id:
        report.problems.append(f"run entry {the_id[:12]}…: its id is not the hash of its body")
    store, leaves = _project(workspace, log_size)
    try:
        prefix_root = TreeProofs(leaves).root().hex()
        if len(leaves) != log_size or prefix_root != root_hash:
            report.problems.append(
                f"the log's first {log_size} entries hash to {prefix_root}, the run recorded "
                f"{root_hash}: entries the run read were changed or removed"
            )
        _check_agreements(store, body, agreements, report.problems)
        config = FusionConfig.from_dict(dict(body["config"]["fusion"]))
        if config.digest != body.get("config_digest"):
            report.problems.append("the recorded configuration does not hash to its digest")
        events, findings, _, _ = derive(store, config, log_size)
        report.events_digest = digest_records([e.to_record() for e in events])
        report.findings_digest = digest_records([f.to_record() for f in findings])
        report.findings = len(findings)
        _compare(
            "events digest", result.get("events_digest"), report.events_digest, report.problems
        )
        _compare(
            "findings digest",
            result.get("findings_digest"),
            report.findings_digest,
            report.problems,
        )
        if digest is not None and digest.strip().lower() != report.findings_digest:
            report.problems.append(
                f"findings digest differs from the one given: given {digest.strip().lower()}, "
                f"re-derived {report.findings_digest}"
            )
        _check_escalations(found, the_id, run_seq, findings, store, leaves, root_hash, report)
    finally:
        store.close()
    latest = [run for run in found.runs if run[1] in found.results][-1][1]
    if latest == the_id:
        report.store_diff = diff_findings(findings, workspace.store.findings())
        if not report.store_diff.empty:
            diff = report.store_diff
            report.problems.append(
                f"the store's findings differ from the re-derived ones: {len(diff.added)} "
                f"missing, {len(diff.removed)} extra, {len(diff.changed)} changed "
                "(the store was altered; 'truceline store rebuild' recreates it from the log)"
            )
    return report
