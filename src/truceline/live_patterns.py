"""Pattern findings kept up to date, locally, as single findings change.

:func:`truceline.agreement.patterns.judge_patterns` looks at every finding a
pattern counts: a pattern episode links findings that lie within the pattern's
window in time (and, for sustained fire, its sector along the contact line) of
each other, and a qualifying window is a set of such findings. So the findings
one pattern counts fall into independent clusters — the connected components of
"within the window and the sector" — and judging a cluster alone gives exactly
the pattern findings the whole set gives there.

When single findings change, :class:`LivePatterns` finds, for every pattern
that counts one of them (before or after the change), the cluster the change
touches: everything linked to a changed finding's place and time. It judges
that cluster again with ``judge_patterns`` and replaces the pattern findings
whose members lie in it. The result equals judging everything again (the
live tests check it), at the cost of the touched clusters only.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from truceline.agreement import Agreement
from truceline.agreement.patterns import PATTERN_KEY, counts_toward, judge_patterns
from truceline.agreement.schema import Pattern
from truceline.model.event import Event
from truceline.model.finding import Finding

__all__ = ["LivePatterns"]

FloatArray = npt.NDArray[np.float64]

#: Slack added to the pattern limits when finding clusters (metres, seconds).
_SECTOR_SLACK_M = 1.0
_WINDOW_SLACK_S = 1.0


@dataclass
class _Batch:
    """The findings one pattern counts, in one batch (one party for withdrawals)."""

    items: list[tuple[float, str]] = field(default_factory=list)  # (time, finding id)
    chainage: dict[str, float] = field(default_factory=dict)


@dataclass
class _Scope:
    """One pattern of one agreement version."""

    agreement: Agreement
    pattern: Pattern
    batches: dict[str | None, _Batch] = field(default_factory=dict)


class LivePatterns:
    """The pattern findings of a changing set of single findings.

    Parameters
    ----------
    agreements
        Every agreement version (their ``patterns``).
    """

    def __init__(self, agreements: Sequence[Agreement]) -> None:
        self.agreements = list(agreements)
        self._scopes = [
            _Scope(agreement, pattern)
            for agreement in sorted(self.agreements, key=lambda a: a.version_id)
            for pattern in agreement.patterns
        ]
        self._lines = {
            a.version_id: shapely.transform(a.contact_line, _to_local(a)) for a in self.agreements
        }
        #: current pattern findings: id -> (finding, scope index, batch key, member ids)
        self.findings: dict[str, tuple[Finding, int, str | None, frozenset[str]]] = {}

    # -- bookkeeping ----------------------------------------------------------------------------
    def _batch_key(self, scope: _Scope, finding: Finding) -> str | None:
        return str(finding.party) if scope.pattern.kind == "repeated_withdrawal" else None

    def _chainage(self, scope: _Scope, finding: Finding) -> float:
        if scope.pattern.sector_m is None:
            return 0.0
        x, y = scope.agreement.frame.to_local(finding.lon, finding.lat)
        line = self._lines[scope.agreement.version_id]
        return float(shapely.line_locate_point(line, shapely.points(float(x), float(y))))

    def _counted(self, finding: Finding) -> Iterable[tuple[int, _Scope]]:
        for index, scope in enumerate(self._scopes):
            if finding.agreement_id == scope.agreement.version_id and counts_toward(
                scope.pattern, finding
            ):
                yield index, scope

    # -- updates --------------------------------------------------------------------------------
    def update(
        self,
        removed: Sequence[tuple[str, Finding]],
        added: Sequence[tuple[str, Finding]],
        singles: Mapping[str, Finding],
        events: Mapping[str, Event],
    ) -> tuple[list[tuple[str, Finding]], list[tuple[str, Finding]]]:
        """Apply changes of single findings; return the pattern findings removed and added.

        Parameters
        ----------
        removed, added
            Single findings ``(id, finding)`` that disappeared and appeared.
        singles
            Every current single finding by id (after the change).
        events
            Events by id, for the members' independent sources.
        """
        seeds: dict[tuple[int, str | None], list[tuple[float, float]]] = {}
        for fid, finding in removed:
            for index, scope in self._counted(finding):
                key = self._batch_key(scope, finding)
                batch = scope.batches[key]
                t = finding.time.timestamp()
                position = bisect.bisect_left(batch.items, (t, fid))
                del batch.items[position]
                seeds.setdefault((index, key), []).append((t, batch.chainage.pop(fid)))
        for fid, finding in added:
            for index, scope in self._counted(finding):
                key = self._batch_key(scope, finding)
                batch = scope.batches.setdefault(key, _Batch())
                t = finding.time.timestamp()
                bisect.insort(batch.items, (t, fid))
                batch.chainage[fid] = self._chainage(scope, finding)
                seeds.setdefault((index, key), []).append((t, batch.chainage[fid]))
        gone: list[tuple[str, Finding]] = []
        came: list[tuple[str, Finding]] = []
        for (index, key), points in sorted(seeds.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
            scope = self._scopes[index]
            cluster = self._cluster(scope, scope.batches[key], points)
            removed_ids = {fid for fid, _ in removed}
            for pid, (finding, s_index, s_key, members) in list(self.findings.items()):
                if s_index == index and s_key == key and (members & (cluster | removed_ids)):
                    gone.append((pid, finding))
                    del self.findings[pid]
            fresh = self._judge(scope, sorted(cluster), singles, events)
            for pid, finding in fresh:
                if self._batch_key(scope, finding) != key:
                    continue
                self.findings[pid] = (finding, index, key, _members(finding))
                came.append((pid, finding))
        gone_ids = {pid for pid, _ in gone}
        came_ids = {pid for pid, _ in came}
        return (
            [(pid, f) for pid, f in gone if pid not in came_ids],
            [(pid, f) for pid, f in came if pid not in gone_ids],
        )

    def _cluster(
        self, scope: _Scope, batch: _Batch, points: Sequence[tuple[float, float]]
    ) -> set[str]:
        """Ids of the counted findings linked to any of ``points`` (time, chainage)."""
        window = scope.pattern.window_h * 3600.0 + _WINDOW_SLACK_S
        if scope.pattern.sector_m is None:
            return _time_runs(batch.items, [t for t, _ in points], window)
        sector = scope.pattern.sector_m + _SECTOR_SLACK_M
        cluster: set[str] = set()
        frontier = list(points)
        while frontier:
            t, s = frontier.pop()
            lo = bisect.bisect_left(batch.items, (t - window, ""))
            hi = bisect.bisect_right(batch.items, (t + window, "\uffff"))
            for other_t, fid in batch.items[lo:hi]:
                if fid not in cluster and abs(batch.chainage[fid] - s) <= sector:
                    cluster.add(fid)
                    frontier.append((other_t, batch.chainage[fid]))
        return cluster

    def _judge(
        self,
        scope: _Scope,
        ids: Sequence[str],
        singles: Mapping[str, Finding],
        events: Mapping[str, Event],
    ) -> list[tuple[str, Finding]]:
        """Pattern findings of one cluster (finding ids known: nothing is hashed twice)."""
        if not ids:
            return []
        findings = [singles[fid] for fid in ids]
        out = judge_patterns(findings, [scope.agreement], events, ids=ids)
        return [(f.id, f) for f in out if f.rule_id == scope.pattern.id]

    def reset(
        self, singles: Mapping[str, Finding], events: Mapping[str, Event]
    ) -> list[tuple[str, Finding]]:
        """Forget everything and judge every pattern over ``singles``; returns the findings."""
        for scope in self._scopes:
            scope.batches.clear()
        self.findings.clear()
        ordered = sorted(singles.items())
        for fid, finding in ordered:
            for _, scope in self._counted(finding):
                batch = scope.batches.setdefault(self._batch_key(scope, finding), _Batch())
                batch.items.append((finding.time.timestamp(), fid))
                batch.chainage[fid] = self._chainage(scope, finding)
        for scope in self._scopes:
            for batch in scope.batches.values():
                batch.items.sort()
        out = judge_patterns(
            [f for _, f in ordered], self.agreements, events, ids=[fid for fid, _ in ordered]
        )
        for finding in out:
            index = next(
                i
                for i, scope in enumerate(self._scopes)
                if scope.agreement.version_id == finding.agreement_id
                and scope.pattern.id == finding.rule_id
            )
            key = self._batch_key(self._scopes[index], finding)
            self.findings[finding.id] = (finding, index, key, _members(finding))
        return [(pid, entry[0]) for pid, entry in self.findings.items()]


def _time_runs(
    items: Sequence[tuple[float, str]], times: Sequence[float], window: float
) -> set[str]:
    """Ids of the runs of ``items`` (sorted by time) linked in time to any of ``times``.

    Without a sector the relation is an interval one: a cluster is a run of
    items whose consecutive gaps are within ``window``, found by walking out
    from each seed (linear in the runs' length).
    """
    found: set[str] = set()
    covered: list[tuple[int, int]] = []
    n = len(items)
    for t in sorted(times):
        lo = bisect.bisect_left(items, (t - window, ""))
        hi = bisect.bisect_right(items, (t + window, "\uffff")) - 1
        if lo > hi:
            continue  # nothing within reach of this seed
        if any(a <= lo and hi <= b for a, b in covered):
            continue
        while lo > 0 and items[lo][0] - items[lo - 1][0] <= window:
            lo -= 1
        while hi < n - 1 and items[hi + 1][0] - items[hi][0] <= window:
            hi += 1
        covered.append((lo, hi))
        found.update(fid for _, fid in items[lo : hi + 1])
    return found


def _members(finding: Finding) -> frozenset[str]:
    description = finding.attributes.get(PATTERN_KEY)
    members = description.get("members", ()) if isinstance(description, Mapping) else ()
    return frozenset(str(m) for m in members)


def _to_local(agreement: Agreement) -> Callable[[FloatArray], FloatArray]:
    """Coordinates of a shapely geometry into the agreement's metric frame."""
    frame = agreement.frame

    def transform(coords: FloatArray) -> FloatArray:
        x, y = frame.to_local(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return transform
