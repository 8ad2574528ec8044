"""Finding versions: when new evidence changes a finding, nothing is silently rewritten.

A finding's id is the content id of everything it says, so new evidence (a
late hot spot raising the confidence, a crater moving the location, a second
event merging into the first) gives a *new* finding. The live mode
(:mod:`truceline.live`) links the new finding to the one it replaces: both
belong to one **lineage**, and each change is a new **version** that names
the previous version's id and what changed. Version records go into the
evidence log with the live run that made them (``run_result`` entry,
``finding_versions``), so every version ever published stays in the log:
version 1 carries its full record; a later version carries a *patch* of the
previous version's record (:func:`record_patch`: the fields that changed, and
for sorted id lists — evidence, a pattern's members and events — the ids added
and removed). A pattern of thousands of evidence ids gaining one sighting is
thus logged as a few fields and one id, not again in full. Evidence growth is
a new version like any change (the finding's id, the hash of its whole record,
changes with it). :func:`rebuild_records` replays the patches and checks that
each rebuilt record hashes to its version's finding id, so the full record of
every version can be recovered from the log and proven.

Which new finding continues which old one is itself an assignment: among the
findings that disappeared and appeared in one update, those of the same rule
and agreement are paired so as to maximise the number of shared evidence
observations (:func:`scipy.optimize.linear_sum_assignment`); a pair must share
at least one observation. An unpaired new finding starts a lineage (version 1,
the lineage named by its own id); an unpaired old one is *withdrawn* (its
evidence now supports no finding under that rule, e.g. its event merged into
another finding's event or fell below the rule's confidence).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Final

import numpy as np
from scipy.optimize import linear_sum_assignment

from truceline.model.finding import Finding
from truceline.model.ids import content_id

__all__ = [
    "FindingVersion",
    "Lineages",
    "apply_patch",
    "rebuild_records",
    "record_patch",
    "version_changes",
]

#: Fields whose old and new values a version record lists when they change.
TRACKED_FIELDS: Final = (
    "event_id",
    "status",
    "severity",
    "kind",
    "time",
    "time_sigma_s",
    "lon",
    "lat",
    "cov_m2",
    "zone_id",
    "side",
    "party",
    "distance_to_line_m",
    "confidence",
    "escalation_level",
    "agreement_id",
    "agreement_version",
)


@dataclass(frozen=True, slots=True)
class FindingVersion:
    """One version of a finding.

    Attributes
    ----------
    lineage
        Id of the lineage (the id of its first version).
    version
        1 for a new finding, then 2, 3...
    change
        ``"new"``, ``"changed"`` or ``"withdrawn"``.
    finding_id
        Id of this version (``None`` when withdrawn).
    previous_id
        Id of the version it replaces (``None`` for version 1).
    changes
        ``{field: [old, new]}`` of the tracked fields that changed.
    evidence_added, evidence_removed
        Observation ids gained and lost.
    record
        The full public record of this version (version 1 only; ``None``
        otherwise).
    patch
        For a changed version, :func:`record_patch` of the previous version's
        record to this one's (``None`` otherwise).
    """

    lineage: str
    version: int
    change: str
    finding_id: str | None
    previous_id: str | None
    changes: Mapping[str, list[Any]] = field(default_factory=dict)
    evidence_added: tuple[str, ...] = ()
    evidence_removed: tuple[str, ...] = ()
    record: Mapping[str, Any] | None = None
    patch: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as logged in a live run's result)."""
        return {
            "lineage": self.lineage,
            "version": self.version,
            "change": self.change,
            "finding_id": self.finding_id,
            "previous_id": self.previous_id,
            "changes": {k: list(v) for k, v in sorted(self.changes.items())},
            "evidence_added": list(self.evidence_added),
            "evidence_removed": list(self.evidence_removed),
            "record": None if self.record is None else dict(self.record),
            "patch": None if self.patch is None else dict(self.patch),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FindingVersion:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            lineage=str(data["lineage"]),
            version=int(data["version"]),
            change=str(data["change"]),
            finding_id=data.get("finding_id"),
            previous_id=data.get("previous_id"),
            changes={k: list(v) for k, v in dict(data.get("changes") or {}).items()},
            evidence_added=tuple(data.get("evidence_added") or ()),
            evidence_removed=tuple(data.get("evidence_removed") or ()),
            record=data.get("record"),
            patch=data.get("patch"),
        )


def version_changes(old: Finding, new: Finding) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` of the tracked fields that differ."""
    a, b = old.to_dict(), new.to_dict()
    changes = {name: [a[name], b[name]] for name in TRACKED_FIELDS if a[name] != b[name]}
    attrs = sorted(
        key
        for key in set(a["attributes"]) | set(b["attributes"])
        if a["attributes"].get(key) != b["attributes"].get(key)
    )
    if attrs:
        changes["attributes"] = [attrs, attrs]
    return changes


def _id_change(before: Any, after: Any) -> dict[str, list[str]] | None:
    """Ids added and removed when both values are lists of ids, ``after`` sorted without repeats.

    ``None`` when they are not: the value is then patched in full. The order of
    ``before`` does not matter (:func:`apply_patch` rebuilds the sorted list).
    """
    if not (isinstance(before, list) and isinstance(after, list)):
        return None
    # map() and set() run in C: evidence lists are thousands of ids long
    if not set(map(type, before)) | set(map(type, after)) <= {str}:
        return None
    if not all(map(operator.lt, after, islice(after, 1, None))):
        return None
    a, b = set(before), set(after)
    return {"added": sorted(b - a), "removed": sorted(a - b)}


def record_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What turns the JSON record ``old`` into ``new``.

    Returns ``{"set": {key: value}, "unset": [key], "ids": {key: {"added": [...],
    "removed": [...]}}, "nested": {key: patch}}`` with empty parts left out:
    changed values in full, except sorted id lists (as ids added and removed)
    and mappings (patched recursively).
    """
    patch: dict[str, Any] = {}
    unset = sorted(k for k in old if k not in new)
    if unset:
        patch["unset"] = unset
    for key in sorted(new):
        before, after = old.get(key), new[key]
        if key in old and before == after:
            continue
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            patch.setdefault("nested", {})[key] = record_patch(before, after)
            continue
        ids = _id_change(before, after)
        if ids is not None:
            patch.setdefault("ids", {})[key] = ids
        else:
            patch.setdefault("set", {})[key] = after
    return patch


def apply_patch(record: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The record ``new`` that :func:`record_patch` ``(record, new)`` describes."""
    unset = set(patch.get("unset") or ())
    out = {k: v for k, v in record.items() if k not in unset}
    for key, change in dict(patch.get("ids") or {}).items():
        ids = (set(out.get(key) or ()) - set(change["removed"])) | set(change["added"])
        out[key] = sorted(ids)
    for key, inner in dict(patch.get("nested") or {}).items():
        out[key] = apply_patch(dict(out.get(key) or {}), inner)
    out.update(dict(patch.get("set") or {}))
    return out


def rebuild_records(
    versions: Sequence[FindingVersion], known: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Full records of every version, by finding id, from logged versions (oldest first).

    Parameters
    ----------
    versions
        Version records in the order they were logged.
    known
        Full records of earlier versions (by finding id) the patches start from.

    Raises
    ------
    ValueError
        If a patch names a previous version with no record, or a rebuilt
        record does not hash to its version's finding id (the logged versions
        were altered).
    """
    records: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (known or {}).items()}
    for version in versions:
        if version.finding_id is None:
            continue
        previous = records.get(str(version.previous_id))
        if version.record is not None:
            record = dict(version.record)
        elif version.patch is not None and previous is not None:
            record = apply_patch(previous, version.patch)
        else:
            raise ValueError(
                f"version {version.version} of lineage {version.lineage[:12]}…: no record, "
                f"or no record of its previous version {str(version.previous_id)[:12]}…"
            )
        content = {k: v for k, v in record.items() if k not in ("id", "ellipse_95")}
        if record.get("id") != version.finding_id or content_id(content) != version.finding_id:
            raise ValueError(
                f"version {version.version} of lineage {version.lineage[:12]}…: the record "
                f"rebuilt from the log does not hash to its finding id {version.finding_id[:12]}…"
            )
        records[version.finding_id] = record
    return records


def _public_record(finding_id: str, finding: Finding) -> dict[str, Any]:
    """:meth:`Finding.to_record` with the id already known (not hashed again)."""
    record = finding.to_dict()
    record["id"] = finding_id
    record["ellipse_95"] = finding.ellipse().to_dict()
    return record


def _rule_key(finding: Finding) -> tuple[str, str]:
    """Findings that may continue each other: same rule of the same agreement."""
    return finding.rule_id, str(finding.attributes.get("agreement", finding.agreement_id))


class Lineages:
    """The lineage and version of every current finding."""

    def __init__(self) -> None:
        self._of: dict[str, tuple[str, int]] = {}

    def of(self, finding_id: str) -> tuple[str, int]:
        """``(lineage, version)`` of a current finding (unknown ones: their own, 1)."""
        return self._of.get(finding_id, (finding_id, 1))

    def restore(self, versions: Sequence[FindingVersion]) -> None:
        """Replay logged versions (oldest first), e.g. when a live engine restarts."""
        for version in versions:
            if version.previous_id is not None:
                self._of.pop(version.previous_id, None)
            if version.finding_id is not None:
                self._of[version.finding_id] = (version.lineage, version.version)

    def update(
        self, removed: Sequence[tuple[str, Finding]], added: Sequence[tuple[str, Finding]]
    ) -> list[FindingVersion]:
        """Versions for one update's disappeared and appeared findings ``(id, finding)``.

        Returns the version records in a deterministic order (by lineage, version).
        """
        versions: list[FindingVersion] = []
        groups: dict[tuple[str, str], tuple[list[tuple[str, Finding]], list[tuple[str, Finding]]]]
        groups = {}
        for pair in removed:
            groups.setdefault(_rule_key(pair[1]), ([], []))[0].append(pair)
        for pair in added:
            groups.setdefault(_rule_key(pair[1]), ([], []))[1].append(pair)
        for key in sorted(groups):
            old, new = groups[key]
            old.sort(key=lambda p: p[0])
            new.sort(key=lambda p: p[0])
            pairs = _pair_by_evidence([f for _, f in old], [f for _, f in new])
            records = {fid: _public_record(fid, f) for fid, f in new}
            paired_old = {i for i, _ in pairs}
            paired_new = {j for _, j in pairs}
            for i, j in pairs:
                (old_id, before), (new_id, after) = old[i], new[j]
                lineage, version = self.of(old_id)
                before_evidence, after_evidence = set(before.evidence), set(after.evidence)
                versions.append(
                    FindingVersion(
                        lineage=lineage,
                        version=version + 1,
                        change="changed",
                        finding_id=new_id,
                        previous_id=old_id,
                        changes=version_changes(before, after),
                        evidence_added=tuple(sorted(after_evidence - before_evidence)),
                        evidence_removed=tuple(sorted(before_evidence - after_evidence)),
                        patch=record_patch(_public_record(old_id, before), records[new_id]),
                    )
                )
            for j, (new_id, after) in enumerate(new):
                if j not in paired_new:
                    versions.append(
                        FindingVersion(
                            lineage=new_id,
                            version=1,
                            change="new",
                            finding_id=new_id,
                            previous_id=None,
                            evidence_added=tuple(after.evidence),
                            record=records[new_id],
                        )
                    )
            for i, (old_id, before) in enumerate(old):
                if i not in paired_old:
                    lineage, version = self.of(old_id)
                    versions.append(
                        FindingVersion(
                            lineage=lineage,
                            version=version + 1,
                            change="withdrawn",
                            finding_id=None,
                            previous_id=old_id,
                            evidence_removed=tuple(before.evidence),
                        )
                    )
        versions.sort(key=lambda v: (v.lineage, v.version))
        self.restore(versions)
        return versions


def _pair_by_evidence(old: Sequence[Finding], new: Sequence[Finding]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` sharing evidence, maximising the total shared (optimal assignment)."""
    if not old or not new:
        return []
    if len(old) == 1 and len(new) == 1:  # the common case: one finding grew (no counts needed)
        return [] if frozenset(old[0].evidence).isdisjoint(new[0].evidence) else [(0, 0)]
    old_sets = [frozenset(a.evidence) for a in old]
    shared = np.array(
        [[len(a.intersection(b.evidence)) for b in new] for a in old_sets], dtype=float
    )
    if not shared.any():
        return []
    rows, cols = linear_sum_assignment(-shared)
    return sorted((int(i), int(j)) for i, j in zip(rows, cols, strict=True) if shared[i, j] > 0.0)
