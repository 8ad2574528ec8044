"""The live engine's side of the evidence log: reading what arrived, recording updates.

* :func:`read_entries` — the entries appended since a batch boundary, read
  from the byte offset the tree head of that boundary records (a live engine
  never rereads the whole log);
* :class:`DayDigests` — a run's record ids grouped by UTC day with each day's
  digest cached, so that :func:`truceline.runs.digest_records` of 100,000
  events is updated in the time it takes to digest the days that changed;
* :func:`record_update` — one live update as a ``run`` (``"mode": "live"``,
  naming the previous live run) and ``run_result`` (digests, counts, the
  escalated finding ids and the finding versions), with the escalation
  records of findings newly at the top level, in one atomic log batch; then
  the changed rows of the store.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from truceline.agreement.escalation import escalation_entries
from truceline.evidence.entries import make_entry
from truceline.evidence.log import ENTRIES
from truceline.fusion.config import FusionConfig
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.runs import digest_days, digest_ids
from truceline.versions import FindingVersion
from truceline.workspace import Workspace

__all__ = ["DayDigests", "LiveRecord", "latest_run", "read_entries", "record_update"]


class DayDigests:
    """Ids of ordered records grouped by UTC day, with each day's digest cached."""

    def __init__(self) -> None:
        self._days: dict[str, list[tuple[Any, str]]] = {}
        self._digests: dict[str, str] = {}

    def add(self, day: str, key: Any, record_id: str) -> None:
        """Add a record of ``day`` at its place by ``key`` (the run's sort key)."""
        bisect.insort(self._days.setdefault(day, []), (key, record_id))
        self._digests.pop(day, None)

    def remove(self, day: str, key: Any, record_id: str) -> None:
        """Remove a record added with the same ``day`` and ``key``."""
        entries = self._days[day]
        index = bisect.bisect_left(entries, (key, record_id))
        if index == len(entries) or entries[index] != (key, record_id):
            raise KeyError(record_id)
        del entries[index]
        self._digests.pop(day, None)
        if not entries:
            del self._days[day]

    def digest(self) -> str:
        """:func:`truceline.runs.digest_records` of the records, in order."""
        days = sorted(self._days)
        for day in days:
            if day not in self._digests:
                self._digests[day] = digest_ids([rid for _, rid in self._days[day]])
        return digest_days([(day, self._digests[day]) for day in days])

    def ids(self) -> list[str]:
        """Record ids in order."""
        return [rid for day in sorted(self._days) for _, rid in self._days[day]]


def read_entries(workspace: Workspace, start: int) -> Iterable[tuple[int, bytes]]:
    """Log entries from index ``start`` on, read from the batch boundary's byte offset.

    The tree heads record where each batch ends in the entries file; a live
    engine always stops at a batch boundary, so it seeks there instead of
    reading the whole log again. Falls back to a full scan otherwise.
    """
    log = workspace.log
    heads = log.heads
    sizes = [h.tree_size for h in heads]
    k = bisect.bisect_left(sizes, start)
    if start == 0:
        offset = 0
    elif k < len(heads) and sizes[k] == start:
        offset = heads[k].end_offset
    else:
        yield from log.entries(start=start)
        return
    end = heads[-1].end_offset if heads else 0
    with (log.directory / ENTRIES).open("rb") as handle:
        handle.seek(offset)
        data = handle.read(end - offset)
    yield from enumerate(data.split(b"\n")[:-1], start=start)


def latest_run(workspace: Workspace) -> tuple[str, str, str] | None:
    """``(id, events digest, findings digest)`` of the latest recorded run, if any."""
    for run in reversed(workspace.store.runs()):
        result = run.get("result") or {}
        if "events_digest" in result:
            return str(run["id"]), str(result["events_digest"]), str(result["findings_digest"])
    return None


@dataclass(frozen=True)
class LiveRecord:
    """What a live run records.

    Attributes
    ----------
    config
        The fusion configuration.
    agreement_ids
        Version ids of the agreements judging (sorted).
    previous_run
        The live run this one follows, if any.
    events, findings, unassociated
        Counts of the state.
    events_digest, findings_digest
        Digests of the state.
    observations
        Observations the update processed.
    versions
        Finding versions the update made.
    top_levels
        The highest escalation level of each agreement version, by version id
        (:func:`truceline.runs.top_levels`).
    escalated
        Ids of the current findings at their agreement version's top level, sorted.
    """

    config: FusionConfig
    agreement_ids: Sequence[str]
    previous_run: str | None
    events: int
    findings: int
    unassociated: int
    events_digest: str
    findings_digest: str
    observations: int
    versions: Sequence[FindingVersion]
    top_levels: Mapping[str, str]
    escalated: Sequence[str]


def record_update(
    workspace: Workspace,
    record: LiveRecord,
    findings: Callable[[], Sequence[Finding]],
    changes: tuple[Sequence[str], Sequence[Event], Sequence[str], Sequence[Finding]] | None,
    all_events: Sequence[Event] = (),
) -> tuple[str, int, list[str]]:
    """Append a live run for the current state and bring the store's results to it.

    Parameters
    ----------
    workspace
        The home (its log must end where the engine stopped reading).
    record
        The run's content.
    findings
        Gives every current finding, in run order (called only when a finding
        reaches the top level or the store's results are replaced: a live
        update does not walk every finding).
    changes
        ``(events removed, events added, findings removed, findings added)``
        to apply to the store; ``None`` replaces the store's results by
        ``all_events`` and ``findings``.
    all_events
        Every current event, in run order (only with ``changes=None``).

    Returns
    -------
    tuple
        ``(run id, log size after the run's batch, escalated finding ids)``.
    """
    store, log = workspace.store, workspace.log
    log_size, root_hash = log.size, log.root_hash
    run_body = {
        "config": {"fusion": record.config.to_dict()},
        "config_digest": record.config.digest,
        "agreements": list(record.agreement_ids),
        "log_size": log_size,
        "root_hash": root_hash,
        "mode": "live",
        "previous_run": record.previous_run,
    }
    run_id, run_entry = make_entry("run", run_body)
    top = record.top_levels
    escalated = list(record.escalated)
    result_body = {
        "run_id": run_id,
        "events": record.events,
        "findings": record.findings,
        "unassociated": record.unassociated,
        "events_digest": record.events_digest,
        "findings_digest": record.findings_digest,
        "escalations": escalated,
        "observations": record.observations,
        "finding_versions": [v.to_dict() for v in record.versions],
    }
    _, result_entry = make_entry("run_result", result_body)
    # only a finding new in this update can be newly at the top level
    fresh_top = changes is None or any(
        top.get(f.agreement_id) == f.escalation_level for f in changes[3]
    )
    everything = findings() if fresh_top or changes is None else ()
    alerts = (
        escalation_entries(
            store, log, everything, run_id=run_id, log_size=log_size, root_hash=root_hash
        )
        if fresh_top
        else []
    )
    batch = [run_entry, result_entry, *alerts]
    head = log.append_batch(batch, {"kind": "run", "run_id": run_id, "mode": "live"})
    store.add_batch(
        end_seq=head.tree_size,
        other_entries=[(head.first_index + i, entry) for i, entry in enumerate(batch)],
    )
    if changes is None:
        store.replace_results(run_id, all_events, everything)
    else:
        events_removed, events_added, findings_removed, findings_added = changes
        store.update_results(run_id, events_removed, events_added, findings_removed, findings_added)
    return run_id, head.tree_size, escalated
