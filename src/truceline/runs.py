"""Processing runs: fuse the log's observations, judge them, record the outcome.

A run reads a prefix of the evidence log (every entry before ``log_size``),
fuses its observations into events with a :class:`~truceline.fusion.FusionConfig`,
judges the events against every agreement version in that prefix, and appends
two entries to the log: ``run`` (configuration, agreement version ids, the
prefix size and its root hash) and ``run_result`` (digests of the events and
findings). Because fusion and adjudication are deterministic, anyone holding the
log can re-derive a run and compare digests (:func:`rederive`).

Events are judged in trajectory groups (:func:`judge_events`): launches and
impacts that may pair are judged together, everything else on its own, so a
live update (:mod:`truceline.live`) judges only the groups it changed and
still ends with what a batch run gives. ``truceline run --follow`` records
each live update as a run too (``"mode": "live"``), re-derivable the same way.
Digests (:func:`digest_records`) are taken over record ids grouped by UTC day,
so that a live update re-digests only the days it changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truceline.agreement import Agreement, adjudicate, load_agreement
from truceline.agreement.escalation import escalation_entries
from truceline.agreement.patterns import with_patterns
from truceline.agreement.schema import AgreementFile
from truceline.evidence.entries import make_entry
from truceline.fusion import FusionConfig, fuse
from truceline.fusion.attribute import annotate_roles, attribute_findings
from truceline.fusion.gates import trajectory_groups, trajectory_role
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.ids import content_id
from truceline.store.base import Query, Store
from truceline.store.sqlite import SQLiteStore
from truceline.workspace import Workspace

__all__ = [
    "AgreementAdded",
    "RunOutcome",
    "add_agreement",
    "agreement_from_body",
    "derive",
    "digest_days",
    "digest_ids",
    "digest_records",
    "escalation_ids",
    "event_order",
    "execute_run",
    "finding_order",
    "judge",
    "judge_events",
    "rebuild_store",
    "rederive",
    "top_levels",
]


@dataclass(frozen=True, slots=True)
class AgreementAdded:
    """Result of :func:`add_agreement`."""

    version_id: str
    agreement_id: str
    version: int
    new: bool


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run produced.

    Attributes
    ----------
    run_id
        Content id of the run entry.
    events, findings
        The derived records.
    unassociated
        Ids of observations no event used.
    events_digest, findings_digest
        Hex SHA-256 of the canonical event and finding records.
    log_size, root_hash
        The log prefix the run read.
    """

    run_id: str
    events: list[Event]
    findings: list[Finding]
    unassociated: list[str]
    events_digest: str
    findings_digest: str
    log_size: int
    root_hash: str
    config_digest: str


def digest_ids(ids: Sequence[str]) -> str:
    """Content id of a list of record ids (order matters; callers sort).

    Each id is the content id of its record's full content, so the digest of
    the ids binds every byte of the records. Equal to ``content_id(list(ids))``,
    computed directly for lists of hex ids (a live update digests 100,000 ids
    in a few milliseconds).
    """
    plain = "".join(ids)
    if not (plain.isascii() and plain.isprintable()) or '"' in plain or "\\" in plain:
        return content_id(list(ids))  # not plain ids: let the canonical encoder escape
    body = ('["' + '","'.join(ids) + '"]') if ids else "[]"
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def digest_records(records: Sequence[Mapping[str, Any]]) -> str:
    """Digest of a list of public records (each with its ``"id"`` and ``"time"``).

    The records are cut into runs of consecutive records of the same UTC day
    (their ``time``'s first ten characters; a run's records are sorted by time,
    so these are its days); each day's ids are digested with
    :func:`digest_ids`, and the digest is the content id of the list of
    ``[day, day digest]`` pairs (:func:`digest_days`). A live update re-digests
    only the days it changed.
    """
    days: list[tuple[str, list[str]]] = []
    for record in records:
        day = str(record["time"])[:10]
        if not days or days[-1][0] != day:
            days.append((day, []))
        days[-1][1].append(str(record["id"]))
    return digest_days([(day, digest_ids(ids)) for day, ids in days])


def digest_days(days: Sequence[tuple[str, str]]) -> str:
    """Content id of ``[[day, day digest], ...]`` (see :func:`digest_records`)."""
    return content_id([[day, digest] for day, digest in days])


def agreement_from_body(body: Mapping[str, Any]) -> Agreement:
    """Rebuild an agreement version from its canonical log body."""
    agreement = Agreement(AgreementFile.model_validate(dict(body)), source="evidence log")
    return agreement


def add_agreement(workspace: Workspace, path: Path) -> AgreementAdded:
    """Validate an agreement file and append its resolved version to the log."""
    agreement = load_agreement(path)
    body = agreement.canonical()
    known = workspace.store.known_ids("agreements", [agreement.version_id])
    if known:
        return AgreementAdded(agreement.version_id, agreement.id, agreement.version, False)
    entry_id, entry = make_entry("agreement", body)
    if entry_id != agreement.version_id:
        raise RuntimeError("agreement version id is not the content id of its canonical form")
    head = workspace.log.append_batch(
        [entry], {"kind": "agreement", "agreement": agreement.id, "version": agreement.version}
    )
    workspace.store.add_batch(end_seq=head.tree_size, other_entries=[(head.first_index, entry)])
    return AgreementAdded(agreement.version_id, agreement.id, agreement.version, True)


def event_order(event: Event) -> tuple[Any, ...]:
    """Order of a run's events: time, then the id fusion gave them."""
    return (event.time, str(event.attributes.get("fusion_id", event.id)))


def finding_order(finding: Finding) -> tuple[Any, ...]:
    """Order of a run's findings: that of :func:`truceline.agreement.adjudicate`."""
    return (finding.time, finding.event_id, finding.rule_id, finding.agreement_id, finding.id)


def judge_events(
    events: Sequence[Event], agreements: Sequence[Agreement]
) -> tuple[list[Event], list[Finding]]:
    """Roles, adjudication and attribution of events forming whole trajectory groups.

    ``events`` must be a union of whole groups of
    :func:`truceline.fusion.gates.trajectory_groups` (launches and impacts that
    may pair are judged together; nothing else depends on other events), so
    judging every group alone gives what judging them together gives. Returns
    the annotated events and their findings (before patterns), each in run order.
    """
    annotated: list[Event] = []
    for group in trajectory_groups(events):
        members = [events[i] for i in group]
        if len(members) == 1 and trajectory_role(members[0]) is None:
            annotated.extend(members)  # nothing to pair, no role to give
        else:
            annotated.extend(annotate_roles(members, agreements))
    annotated.sort(key=event_order)
    findings = adjudicate(annotated, agreements) if agreements else []
    findings = attribute_findings(annotated, findings, agreements)
    return annotated, sorted(findings, key=finding_order)


def judge(
    events: Sequence[Event], agreements: Sequence[Agreement]
) -> tuple[list[Event], list[Finding]]:
    """Judge fused events: :func:`judge_events` over all of them."""
    return judge_events(events, agreements)


def derive(
    store: Store, config: FusionConfig, log_size: int
) -> tuple[list[Event], list[Finding], list[str], list[str]]:
    """Fuse and adjudicate the log prefix ``[0, log_size)`` held in ``store``.

    Returns events, findings, unassociated observation ids, and the version ids
    of the agreements used.
    """
    bodies = store.agreements(before_seq=log_size)
    agreements = [agreement_from_body(body) for body in bodies]
    observations = store.observations(Query(before_seq=log_size))
    result = fuse(observations, store.sensors(), config)
    events, findings = judge(result.events, agreements)
    findings = with_patterns(findings, agreements, events)  # H-adj: pattern findings
    return (
        events,
        list(findings),
        result.unassociated,
        sorted(a.version_id for a in agreements),
    )


def execute_run(
    workspace: Workspace,
    config: FusionConfig | None = None,
    *,
    reliabilities: Mapping[str, str] | None = None,
) -> RunOutcome:
    """Run fusion and adjudication on the whole log and record the run.

    ``reliabilities`` is the record of the reliability profile merged into
    ``config`` (:func:`truceline.fusion.reliability_file.with_reliability_profile`:
    its file name and SHA-256); it is kept in the run's log entry as
    ``"reliabilities"``. The merged tables themselves are part of the recorded
    configuration, which is what a re-derivation uses.
    """
    config = config or FusionConfig()
    log = workspace.log
    log_size, root_hash = log.size, log.root_hash
    events, findings, unassociated, agreement_ids = derive(workspace.store, config, log_size)
    events_digest = digest_records([e.to_record() for e in events])
    findings_digest = digest_records([f.to_record() for f in findings])
    run_body = {
        "config": {"fusion": config.to_dict()},
        "config_digest": config.digest,
        "agreements": agreement_ids,
        "log_size": log_size,
        "root_hash": root_hash,
    }
    if reliabilities is not None:
        run_body["reliabilities"] = dict(reliabilities)
    run_id, run_entry = make_entry("run", run_body)
    result_body = {
        "run_id": run_id,
        "events": len(events),
        "findings": len(findings),
        "unassociated": len(unassociated),
        "events_digest": events_digest,
        "findings_digest": findings_digest,
        "escalations": escalation_ids(findings, workspace.store, log_size),
    }
    _, result_entry = make_entry("run_result", result_body)
    # H-adj: escalation records of new top-level findings go in the run's own batch
    alerts = escalation_entries(
        workspace.store, log, findings, run_id=run_id, log_size=log_size, root_hash=root_hash
    )
    batch = [run_entry, result_entry, *alerts]
    head = log.append_batch(batch, {"kind": "run", "run_id": run_id})
    workspace.store.add_batch(
        end_seq=head.tree_size,
        other_entries=[(head.first_index + i, entry) for i, entry in enumerate(batch)],
    )
    workspace.store.replace_results(run_id, events, findings)
    return RunOutcome(
        run_id,
        events,
        findings,
        unassociated,
        events_digest,
        findings_digest,
        log_size,
        root_hash,
        config.digest,
    )


def top_levels(store: Store, log_size: int | None = None) -> dict[str, str]:
    """The highest escalation level of each agreement version, by version id.

    A version id is the content id of the canonical body the log holds, so it
    is computed from the body directly (building the agreement would re-run
    every geometry check for nothing).
    """
    return {
        content_id(body): str(body["escalation"]["levels"][-1])
        for body in store.agreements(before_seq=log_size)
    }


def escalation_ids(findings: Sequence[Finding], store: Store, log_size: int) -> list[str]:
    """Ids of the findings at their agreement's highest escalation level."""
    top = top_levels(store, log_size)
    return sorted(f.id for f in findings if top.get(f.agreement_id) == f.escalation_level)


def rebuild_store(workspace: Workspace) -> tuple[str, str, list[str]]:
    """Recreate the store from the log alone and compare its content.

    The old database is moved aside, a new one is projected from every log
    entry, and the latest recorded run is re-derived into it (its digests are
    checked against the log).

    Returns
    -------
    tuple
        ``(old_digest, new_digest, problems)``.
    """
    old_digest = workspace.store.content_digest()
    workspace.store.close()
    path = workspace.store_path
    for suffix in ("", "-wal", "-shm"):
        old = path.with_name(path.name + suffix)
        if old.exists():
            old.replace(path.with_name(path.name + suffix + ".old"))
    store = SQLiteStore(path)
    workspace.store = store
    store.apply_entries(workspace.log.entries())
    problems: list[str] = []
    runs = [run for run in store.runs() if run.get("result")]
    if runs:
        _, run_problems, outcome = rederive(store, runs[-1])
        problems.extend(run_problems)
        store.replace_results(outcome.run_id, outcome.events, outcome.findings)
    new_digest = store.content_digest()
    if new_digest != old_digest:
        problems.append(f"store content differs: before {old_digest}, after {new_digest}")
    return old_digest, new_digest, problems


def rederive(store: Store, run: Mapping[str, Any]) -> tuple[bool, list[str], RunOutcome]:
    """Re-derive a recorded run from the store's projection of the log.

    Returns
    -------
    tuple
        ``(ok, problems, outcome)``: whether digests match the recorded result.
    """
    body = run["body"]
    config = FusionConfig.from_dict(dict(body["config"]["fusion"]))
    events, findings, unassociated, agreement_ids = derive(store, config, int(body["log_size"]))
    outcome = RunOutcome(
        run_id=str(run["id"]),
        events=events,
        findings=findings,
        unassociated=unassociated,
        events_digest=digest_records([e.to_record() for e in events]),
        findings_digest=digest_records([f.to_record() for f in findings]),
        log_size=int(body["log_size"]),
        root_hash=str(body["root_hash"]),
        config_digest=config.digest,
    )
    problems = []
    result = run.get("result") or {}
    if agreement_ids != body["agreements"]:
        problems.append("agreement versions differ from those the run recorded")
    for key in ("events_digest", "findings_digest"):
        if result.get(key) != getattr(outcome, key):
            problems.append(
                f"{key.replace('_', ' ')} differs: recorded {result.get(key)}, "
                f"re-derived {getattr(outcome, key)}"
            )
    return not problems, problems, outcome
