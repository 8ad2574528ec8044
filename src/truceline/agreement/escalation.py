"""Escalation records: a top-level finding, who is alerted, and its evidence list.

When a finding (about one event, or a pattern) reaches its agreement version's
highest escalation level (e.g. ``attack``), the run that produced it appends an
``escalation`` entry to the evidence log in the same batch as the run itself.
The record names the level, the recipients the policy's ``notify`` lists for
it, the agreement version, the finding (and a pattern's member findings), and
its **evidence list**: every observation behind it (a pattern finding's
evidence is its member findings, so its list is every observation behind any
member) with its sensor, modality, kind and time, its leaf index in the
evidence log, the leaf hash, and the RFC
9162 audit path proving inclusion in the tree the run read (``tree_size``,
``root_hash``, a size for which the log holds a signed tree head). A guarantor
holding only the record and that tree head can check every item with
:func:`truceline.evidence.merkle.verify_inclusion`.

A finding is escalated once: a later run that still finds it at the top level
adds no record (records are keyed by finding id and level). A finding changed by
new evidence has a new id, so it is escalated again with its new evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from truceline.agreement.patterns import PATTERN_KEY, is_pattern_finding
from truceline.evidence.entries import make_entry
from truceline.evidence.log import EvidenceLog
from truceline.evidence.proofs import TreeProofs
from truceline.model.errors import TrucelineError
from truceline.model.finding import Finding
from truceline.model.ids import content_id
from truceline.model.timeutil import format_utc, parse_utc
from truceline.store.base import Store

__all__ = [
    "EscalationError",
    "EscalationRecord",
    "EvidenceItem",
    "build_escalations",
    "escalation_entries",
    "escalation_key",
    "escalations",
    "observations",
    "top_level_findings",
]


class EscalationError(TrucelineError):
    """An escalation record cannot be built (evidence missing from the log)."""


def escalation_key(finding_id: str, level: str) -> str:
    """Identity of an escalation: one record per (finding, level)."""
    return content_id({"finding_id": finding_id, "level": level})


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One observation behind an escalated finding, and where the log holds it.

    Attributes
    ----------
    observation_id
        Content id of the observation (its log entry's ``id``).
    sensor_id, modality, kind
        Who observed what.
    time
        When (UTC); ``time_end`` the end of an interval observation, else ``None``.
    leaf_index
        Index of its entry in the evidence log (0-based leaf index).
    leaf_hash
        Hex RFC 9162 leaf hash of the entry's bytes.
    proof
        Hex audit path of the leaf in the tree of the record's ``tree_size``.
    """

    observation_id: str
    sensor_id: str
    modality: str
    kind: str
    time: datetime
    time_end: datetime | None
    leaf_index: int
    leaf_hash: str
    proof: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "observation_id": self.observation_id,
            "sensor_id": self.sensor_id,
            "modality": self.modality,
            "kind": self.kind,
            "time": format_utc(self.time),
            "time_end": None if self.time_end is None else format_utc(self.time_end),
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash,
            "proof": list(self.proof),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvidenceItem:
        """Rebuild from :meth:`to_dict` output."""
        end = data.get("time_end")
        return cls(
            observation_id=str(data["observation_id"]),
            sensor_id=str(data["sensor_id"]),
            modality=str(data["modality"]),
            kind=str(data["kind"]),
            time=parse_utc(str(data["time"])),
            time_end=None if end is None else parse_utc(str(end)),
            leaf_index=int(data["leaf_index"]),
            leaf_hash=str(data["leaf_hash"]),
            proof=tuple(str(p) for p in data["proof"]),
        )


def _summary(finding: Finding) -> dict[str, Any]:
    """What an escalation states about a finding."""
    attribution = finding.attributes.get("attribution")
    return {
        "id": finding.id,
        "event_id": finding.event_id,
        "rule_id": finding.rule_id,
        "kind": finding.kind,
        "severity": finding.severity,
        "time": format_utc(finding.time),
        "lon": finding.lon,
        "lat": finding.lat,
        "confidence": finding.confidence,
        "side": finding.side,
        "party": finding.party,
        "attributed_to": attribution.get("party") if isinstance(attribution, Mapping) else None,
        "distance_to_line_m": finding.distance_to_line_m,
        "explanation": finding.explanation,
    }


@dataclass(frozen=True, slots=True)
class EscalationRecord:
    """An escalation to the agreement's top level.

    Attributes
    ----------
    level
        The escalation level (the agreement version's highest).
    notify
        Recipients the policy's ``notify`` names for that level.
    agreement_id, agreement_version, agreement_version_id
        The agreement version that judged the finding.
    finding
        Summary of the escalated finding (id, rule, kind, severity, time, place,
        confidence, side, party, attribution, explanation).
    members
        For a pattern finding, summaries of its member findings; else empty.
    evidence
        Every observation behind the finding (a pattern's: behind its members),
        sorted by time, then observation id.
    tree_size, root_hash
        The log prefix the run read; the audit paths prove inclusion in it.
    run_id
        The run that raised the escalation.
    """

    level: str
    notify: tuple[str, ...]
    agreement_id: str
    agreement_version: int
    agreement_version_id: str
    finding: Mapping[str, Any]
    members: tuple[Mapping[str, Any], ...]
    evidence: tuple[EvidenceItem, ...]
    tree_size: int
    root_hash: str
    run_id: str

    @property
    def key(self) -> str:
        """One record per (finding, level): see :func:`escalation_key`."""
        return escalation_key(str(self.finding["id"]), self.level)

    @property
    def finding_id(self) -> str:
        """Id of the escalated finding."""
        return str(self.finding["id"])

    def to_dict(self) -> dict[str, Any]:
        """The log entry body."""
        return {
            "key": self.key,
            "level": self.level,
            "notify": list(self.notify),
            "agreement": {
                "id": self.agreement_id,
                "version": self.agreement_version,
                "version_id": self.agreement_version_id,
            },
            "finding": dict(self.finding),
            "members": [dict(m) for m in self.members],
            "evidence": [item.to_dict() for item in self.evidence],
            "checkpoint": {"tree_size": self.tree_size, "root_hash": self.root_hash},
            "run_id": self.run_id,
        }

    @property
    def id(self) -> str:
        """Content id of the record (its log entry's ``id``)."""
        return content_id(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscalationRecord:
        """Rebuild from :meth:`to_dict` output (a log entry body)."""
        agreement = data["agreement"]
        checkpoint = data["checkpoint"]
        return cls(
            level=str(data["level"]),
            notify=tuple(str(n) for n in data["notify"]),
            agreement_id=str(agreement["id"]),
            agreement_version=int(agreement["version"]),
            agreement_version_id=str(agreement["version_id"]),
            finding=dict(data["finding"]),
            members=tuple(dict(m) for m in data["members"]),
            evidence=tuple(EvidenceItem.from_dict(e) for e in data["evidence"]),
            tree_size=int(checkpoint["tree_size"]),
            root_hash=str(checkpoint["root_hash"]),
            run_id=str(data["run_id"]),
        )


def _policies(bodies: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Canonical agreement bodies by version id (the content id of the body)."""
    return {content_id(body): body for body in bodies}


def top_level_findings(
    findings: Sequence[Finding], bodies: Iterable[Mapping[str, Any]]
) -> list[Finding]:
    """Findings at the highest escalation level of the agreement version that judged them.

    Parameters
    ----------
    findings
        Findings of a run (event and pattern findings).
    bodies
        Canonical bodies of the agreement versions (as the log holds them).
    """
    policies = _policies(bodies)
    top = []
    for finding in findings:
        body = policies.get(finding.agreement_id)
        if body is not None and finding.escalation_level == body["escalation"]["levels"][-1]:
            top.append(finding)
    return top


def _members(finding: Finding, by_id: Mapping[str, Finding]) -> list[Finding]:
    """A pattern finding's member findings (none for a finding about one event).

    Raises
    ------
    EscalationError
        If a member is not among the run's findings (its evidence is unknown).
    """
    if not is_pattern_finding(finding):
        return []
    members = []
    for member_id in finding.attributes[PATTERN_KEY]["members"]:
        member = by_id.get(str(member_id))
        if member is None:
            raise EscalationError(
                f"pattern finding {finding.id[:12]}…: member finding {str(member_id)[:12]}… "
                "is not among the run's findings"
            )
        members.append(member)
    return members


def observations(finding: Finding, by_id: Mapping[str, Finding]) -> frozenset[str]:
    """Ids of every observation behind ``finding``.

    A finding about one event lists its observations in ``evidence``; a pattern
    finding's ``evidence`` is its member findings, and its observations are the
    union of theirs (looked up in ``by_id``, the run's findings by id).

    Raises
    ------
    EscalationError
        If a pattern's member is not in ``by_id``.
    """
    if not is_pattern_finding(finding):
        return frozenset(finding.evidence)
    behind: set[str] = set()
    for member in _members(finding, by_id):
        behind.update(member.evidence)
    return frozenset(behind)


def _evidence(
    finding: Finding,
    wanted: Iterable[str],
    refs: Mapping[str, tuple[int, Any]],
    proofs: TreeProofs,
) -> tuple[EvidenceItem, ...]:
    items = []
    for observation_id in sorted(set(wanted)):
        ref = refs.get(observation_id)
        if ref is None or ref[0] >= proofs.size:
            raise EscalationError(
                f"finding {finding.id[:12]}…: evidence {observation_id[:12]}… is not in the "
                f"first {proofs.size} entries of the evidence log"
            )
        index, observation = ref
        items.append(
            EvidenceItem(
                observation_id=observation_id,
                sensor_id=observation.sensor_id,
                modality=observation.modality,
                kind=observation.kind,
                time=observation.time,
                time_end=observation.time_end,
                leaf_index=index,
                leaf_hash=proofs.leaf(index).hex(),
                proof=tuple(p.hex() for p in proofs.proof(index)),
            )
        )
    return tuple(sorted(items, key=lambda item: (item.time, item.observation_id)))


def build_escalations(
    findings: Sequence[Finding],
    escalated: Sequence[Finding],
    store: Store,
    proofs: TreeProofs,
    *,
    run_id: str,
    root_hash: str,
) -> list[EscalationRecord]:
    """Escalation records for ``escalated`` (a subset of ``findings``).

    Parameters
    ----------
    findings
        All findings of the run (a pattern's members are looked up here).
    escalated
        The findings to escalate (see :func:`top_level_findings`).
    store
        The projection store (agreement bodies, observations and their log indices).
    proofs
        The Merkle tree of the log prefix the run read.
    run_id
        The run raising the escalations.
    root_hash
        Hex root of that prefix (recorded as the checkpoint).

    Raises
    ------
    EscalationError
        If an evidence observation is not in the log prefix.
    """
    policies = _policies(store.agreements(before_seq=proofs.size))
    by_id = {finding.id: finding for finding in findings}
    behind = {finding.id: observations(finding, by_id) for finding in escalated}
    wanted: set[str] = set()
    for ids in behind.values():
        wanted.update(ids)
    refs = store.observation_refs(wanted)
    records = []
    for finding in sorted(escalated, key=lambda f: (f.time, f.id)):
        body = policies[finding.agreement_id]
        members = tuple(_summary(member) for member in _members(finding, by_id))
        records.append(
            EscalationRecord(
                level=finding.escalation_level,
                notify=tuple(body["escalation"]["notify"].get(finding.escalation_level, [])),
                agreement_id=str(body["id"]),
                agreement_version=int(body["version"]),
                agreement_version_id=finding.agreement_id,
                finding=_summary(finding),
                members=members,
                evidence=_evidence(finding, behind[finding.id], refs, proofs),
                tree_size=proofs.size,
                root_hash=root_hash,
                run_id=run_id,
            )
        )
    return records


def escalation_entries(
    store: Store,
    log: EvidenceLog,
    findings: Sequence[Finding],
    *,
    run_id: str,
    log_size: int,
    root_hash: str,
) -> list[bytes]:
    """Log entries escalating this run's new top-level findings (none: ``[]``).

    Findings already escalated at the same level (by an earlier run) are
    skipped. The log prefix ``[0, log_size)`` is read only when there is
    something to escalate.
    """
    escalated = top_level_findings(findings, store.agreements(before_seq=log_size))
    known = {str(entry["body"]["key"]) for entry in store.escalations()}
    fresh = [f for f in escalated if escalation_key(f.id, f.escalation_level) not in known]
    if not fresh:
        return []
    proofs = TreeProofs.from_entries(line for _, line in log.entries(0, log_size))
    if proofs.size != log_size or proofs.root().hex() != root_hash:
        raise EscalationError(
            f"the evidence log's first {log_size} entries do not hash to the run's root "
            f"{root_hash[:16]}…: run 'truceline log verify'"
        )
    records = build_escalations(findings, fresh, store, proofs, run_id=run_id, root_hash=root_hash)
    return [make_entry("escalation", record.to_dict())[1] for record in records]


def escalations(store: Store, before_seq: int | None = None) -> list[EscalationRecord]:
    """Every escalation record in the log (optionally a prefix), in log order."""
    return [EscalationRecord.from_dict(entry["body"]) for entry in store.escalations(before_seq)]
