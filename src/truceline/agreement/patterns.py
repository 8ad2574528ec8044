"""Patterns of findings judged as findings of their own.

An agreement's ``patterns:`` section names patterns that are more serious than
their parts (``docs/agreement.md``):

``sustained_fire``
    At least ``min_events`` explosive events (findings under the pattern's rules,
    of its activity kinds) within a sector of the contact line ``sector_m``
    metres long and within ``window_h`` hours: a barrage, not a stray shell.
``repeated_withdrawal``
    At least ``min_events`` heavy-weapon withdrawal events whose findings bind
    the same party, within ``window_h`` hours (e.g. 168 h = 7 days).

Events are counted, not findings: one explosion breaking two rules counts
once. A *qualifying window* is a set of at least ``min_events`` events spanning
at most ``window_h`` hours (and, for sustained fire, at most ``sector_m`` metres
of chainage along the contact line). Every event in some qualifying window is a
member; members linked by being within both limits of each other form one
episode, and each episode is one pattern finding. A long barrage is therefore
one finding whose extent the finding states, not one finding per window.

A pattern is judged by one agreement version: its members are the findings
that version judged (an amendment starts new episodes). A pattern finding
lists its member findings and events, has the pattern's severity, the level
the escalation policy gives it (``when.rules`` names pattern ids like rule ids)
and a deterministic id: the same findings give the same pattern finding.

A pattern finding's ``evidence`` is the ids of its member **findings**, not a
copy of their observations: each member carries its own evidence, and the
observations behind a pattern are the union of its members' (an escalation
record lists them all, each with its audit path; see
:mod:`truceline.agreement.escalation`). A copy would make a week-long pattern
of a few hundred findings a record of tens of thousands of observation ids,
re-hashed and re-written whenever one member gains a sighting.

Its place is the mean of its members' positions and their spread, computed in
an azimuthal-equidistant frame centred on the whole degree nearest the
members' middle (:data:`PLACE_FRAME_STEP_DEG`): a frame per exact middle would
be a new map projection (about 10 ms to build) almost every time a pattern is
judged again in live mode, and within the fraction of a degree that separates
members from the frame's centre the projection's distortion is far below the
members' location uncertainty.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from truceline.agreement.adjudicate import policy_level
from truceline.agreement.model import Agreement
from truceline.agreement.schema import Pattern
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.geo import LocalFrame
from truceline.model.ids import content_id
from truceline.model.timeutil import format_utc, from_epoch, to_epoch

__all__ = [
    "PATTERN_KEY",
    "PLACE_FRAME_STEP_DEG",
    "at_least_probability",
    "counts_toward",
    "is_pattern_finding",
    "judge_patterns",
    "with_patterns",
]

#: Key of ``Finding.attributes`` that marks a pattern finding and describes it.
PATTERN_KEY: Final = "pattern"

UNDETERMINED: Final = "undetermined"

#: Pattern places are computed in frames centred on a grid of this step (degrees).
PLACE_FRAME_STEP_DEG: Final = 1.0

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def is_pattern_finding(finding: Finding) -> bool:
    """Whether ``finding`` is a pattern finding (not about one event)."""
    return PATTERN_KEY in finding.attributes


def at_least_probability(probabilities: Sequence[float], k: int) -> float:
    """Probability that at least ``k`` of independent events with these probabilities are real.

    The tail of the Poisson-binomial distribution, by dynamic programming.
    """
    if k <= 0:
        return 1.0
    # dist[j] = P(exactly j real so far), j capped at k (k means "k or more")
    dist = np.zeros(k + 1)
    dist[0] = 1.0
    for p in probabilities:
        p = min(max(float(p), 0.0), 1.0)
        top = dist[k] + dist[k - 1] * p
        dist[1:k] = dist[1:k] * (1.0 - p) + dist[: k - 1] * p
        dist[0] *= 1.0 - p
        dist[k] = top
    return float(min(max(dist[k], 0.0), 1.0))


@dataclasses.dataclass(frozen=True, slots=True)
class _Item:
    """One counted event: its findings and where it lies."""

    event_id: str
    findings: tuple[Finding, ...]
    ids: tuple[str, ...]  # the findings' ids (content hashes: computed once)
    t: float
    confidence: float

    @property
    def first(self) -> Finding:
        return self.findings[0]


class _Sources:
    """Independent sources of events by id, hashed only once a pattern needs them.

    Events given by id (a mapping) are not hashed at all.
    """

    def __init__(self, events: Sequence[Event] | Mapping[str, Event]) -> None:
        self._given: Mapping[str, Event] | None = events if isinstance(events, Mapping) else None
        self._events: Sequence[Event] = () if isinstance(events, Mapping) else events
        self._by_id: dict[str, int] | None = None

    def get(self, event_id: str) -> int:
        """The event's independent sources (1 when the event is not known)."""
        if self._given is not None:
            event = self._given.get(event_id)
            return 1 if event is None else event.independent_sources
        if self._by_id is None:
            self._by_id = {event.id: event.independent_sources for event in self._events}
        return self._by_id.get(event_id, 1)


def counts_toward(pattern: Pattern, finding: Finding) -> bool:
    """Whether ``finding`` is of the kind ``pattern`` counts (before its limits).

    Its activity, rule, weapon class and confidence qualify, and for
    repeated withdrawals it binds a party.
    """
    if finding.kind not in pattern.activities or finding.confidence < pattern.min_confidence:
        return False
    if pattern.rules is not None and finding.rule_id not in pattern.rules:
        return False
    weapon = finding.attributes.get("weapon_class")
    if pattern.weapon_classes and weapon not in pattern.weapon_classes:
        return False
    return pattern.kind != "repeated_withdrawal" or finding.party is not None


def _items(findings: Iterable[tuple[str, Finding]]) -> list[_Item]:
    by_event: dict[str, list[tuple[str, Finding]]] = {}
    for ident, finding in findings:
        by_event.setdefault(finding.event_id, []).append((ident, finding))
    items = []
    for event_id, pairs in by_event.items():
        unique = dict(pairs)  # a finding given twice counts once
        group = [f for _, f in pairs]
        keyed = sorted((f.rule_id, ident) for ident, f in unique.items())
        items.append(
            _Item(
                event_id=event_id,
                findings=tuple(unique[ident] for _, ident in keyed),
                ids=tuple(ident for _, ident in keyed),
                t=to_epoch(unique[keyed[0][1]].time),
                confidence=max(f.confidence for f in group),
            )
        )
    items.sort(key=lambda item: (item.t, item.event_id))
    return items


def _chainage_m(agreement: Agreement, items: Sequence[_Item]) -> FloatArray:
    """Distance along the contact line of each item's nearest point, metres."""
    frame = agreement.frame

    def to_local(coords: FloatArray) -> FloatArray:
        x, y = frame.to_local(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    line = shapely.transform(agreement.contact_line, to_local)
    x, y = frame.to_local([i.first.lon for i in items], [i.first.lat for i in items])
    return np.asarray(shapely.line_locate_point(line, shapely.points(x, y)), dtype=float)


def _core(t: FloatArray, s: FloatArray, window_s: float, sector: float, n_min: int) -> BoolArray:
    """Which items lie in at least one qualifying window (``t`` sorted ascending)."""
    n = len(t)
    core = np.zeros(n, dtype=bool)
    ends = np.searchsorted(t, t + window_s, side="right")
    for i in range(n):
        j = int(ends[i])
        # a window no longer than the previous anchor's is a subset of it
        if j - i < n_min or (i > 0 and int(ends[i - 1]) >= j):
            continue
        order = np.argsort(s[i:j], kind="stable")
        ordered = s[i:j][order]
        stop = np.searchsorted(ordered, ordered + sector, side="right")
        start = np.arange(len(ordered))
        qualifies = stop - start >= n_min
        if not qualifies.any():
            continue
        diff = np.zeros(len(ordered) + 1, dtype=np.int64)
        np.add.at(diff, start[qualifies], 1)
        np.add.at(diff, stop[qualifies], -1)
        core[i + order[np.cumsum(diff[:-1]) > 0]] = True
    return core


def _episodes(t: FloatArray, s: FloatArray, window_s: float, sector: float) -> list[list[int]]:
    """Groups of items linked by lying within both limits of each other (sorted)."""
    n = len(t)
    if n == 0:
        return []
    scaled = np.column_stack([t / window_s, s / sector])
    pairs = cKDTree(scaled).query_pairs(1.0 + 1e-12, p=np.inf, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, labels = connected_components(graph, directed=False)
    groups: list[list[int]] = [[] for _ in range(count)]
    for index, label in enumerate(labels):
        groups[int(label)].append(index)
    return sorted(groups, key=lambda group: group[0])


def _place(
    items: Sequence[_Item],
) -> tuple[float, float, float, float, float]:
    """Mean position and spread (lon, lat, cov_ee, cov_en, cov_nn; m²) of the members."""
    lons = np.array([i.first.lon for i in items])
    lats = np.array([i.first.lat for i in items])
    frame = _place_frame(lons, lats)
    x, y = frame.to_local(lons, lats)
    lon, lat = frame.point_to_geo(float(x.mean()), float(y.mean()))
    spread = np.cov(np.vstack([x, y]), ddof=0)
    mean_ee = float(np.mean([i.first.cov_ee for i in items]))
    mean_en = float(np.mean([i.first.cov_en for i in items]))
    mean_nn = float(np.mean([i.first.cov_nn for i in items]))
    return (
        round(lon, 7),
        round(lat, 7),
        round(float(spread[0, 0]) + mean_ee, 3),
        round(float(spread[0, 1]) + mean_en, 3),
        round(float(spread[1, 1]) + mean_nn, 3),
    )


def _place_frame(lons: FloatArray, lats: FloatArray) -> LocalFrame:
    """The frame centred on the grid node nearest the middle of the points' bounding box."""
    step = PLACE_FRAME_STEP_DEG
    lon0 = round(round(float(lons.min() + lons.max()) / 2.0 / step) * step, 6)
    lat0 = round(round(float(lats.min() + lats.max()) / 2.0 / step) * step, 6)
    return LocalFrame(max(-180.0, min(180.0, lon0)), max(-90.0, min(90.0, lat0)))


def _attribution(findings: Sequence[Finding]) -> dict[str, Any]:
    """Who the members are attributed to; a party only when every attributed member agrees."""
    counts: Counter[str] = Counter()
    for finding in findings:
        record = finding.attributes.get("attribution")
        party = record.get("party") if isinstance(record, Mapping) else None
        counts[str(party) if party else UNDETERMINED] += 1
    decided = [party for party in counts if party != UNDETERMINED]
    party = decided[0] if len(decided) == 1 else UNDETERMINED
    basis = "members' attributions"
    if len(decided) > 1:
        basis += ": members are attributed to different parties"
    return {"party": party, "basis": basis, "members": dict(sorted(counts.items()))}


def _explain(
    agreement: Agreement,
    pattern: Pattern,
    count: int,
    start: float,
    end: float,
    sector: tuple[float, float] | None,
    party: str | None,
    confidence: float,
) -> str:
    hours = (end - start) / 3600.0
    what = (
        "sustained fire" if pattern.kind == "sustained_fire" else "repeated withdrawal violations"
    )
    text = f"{what.capitalize()}: {count} events"
    if party is not None and pattern.kind == "repeated_withdrawal":
        text += f" binding {party}"
    if sector is not None:
        text += (
            f" in a {(sector[1] - sector[0]) / 1000.0:.1f} km sector of the contact line "
            f"(km {sector[0] / 1000.0:.1f}–{sector[1] / 1000.0:.1f} along it)"
        )
    start_text = format_utc(from_epoch(start))
    end_text = format_utc(from_epoch(end))
    text += f" from {start_text} to {end_text} ({hours:.1f} h)"
    limit = f"at least {pattern.min_events} within {pattern.window_h:g} h"
    if pattern.sector_m is not None:
        limit += f" and {pattern.sector_m / 1000.0:g} km"
    text += f": pattern {pattern.id!r}"
    if pattern.description:
        text += f" ({pattern.description})"
    return (
        f"{text} of {agreement.id} v{agreement.version} ({limit}); severity "
        f"{pattern.severity}, confidence {confidence:.2f} that at least "
        f"{pattern.min_events} of them are real."
    )


def _finding(
    agreement: Agreement,
    pattern: Pattern,
    items: Sequence[_Item],
    chainage: FloatArray | None,
    sources: _Sources,
) -> Finding:
    by_id = {i: f for item in items for i, f in zip(item.ids, item.findings, strict=True)}
    member_ids = sorted(by_id)
    members = [by_id[i] for i in member_ids]
    event_ids = sorted(item.event_id for item in items)
    first = min(items, key=lambda item: (item.t, item.event_id))
    start, end = min(i.t for i in items), max(i.t for i in items)
    confidence = round(at_least_probability([i.confidence for i in items], pattern.min_events), 6)
    n_sources = max(sources.get(item.event_id) for item in items)
    lon, lat, cov_ee, cov_en, cov_nn = _place(items)
    sides = {item.first.side for item in items}
    attribution = _attribution(members)
    if pattern.kind == "repeated_withdrawal":
        party = members[0].party  # the party the members' rules bind (one per episode)
    else:
        # who fired, from the members' attributions, never from where the fire landed
        party = None if attribution["party"] == UNDETERMINED else str(attribution["party"])
    sector = None
    if chainage is not None:
        sector = (round(float(chainage.min()), 1), round(float(chainage.max()), 1))
    description: dict[str, Any] = {
        "id": pattern.id,
        "kind": pattern.kind,
        "events": event_ids,
        "members": member_ids,
        "count": len(items),
        "time_start": format_utc(from_epoch(start)),
        "time_end": format_utc(from_epoch(end)),
        "parameters": {
            "min_events": pattern.min_events,
            "window_h": pattern.window_h,
            "sector_m": pattern.sector_m,
        },
        "max_independent_sources": n_sources,
    }
    if sector is not None:
        description["chainage_m"] = list(sector)
    return Finding(
        event_id=content_id(
            {"pattern": pattern.id, "agreement": agreement.version_id, "events": event_ids}
        ),
        rule_id=pattern.id,
        agreement_id=agreement.version_id,
        agreement_version=agreement.version,
        status="candidate",
        severity=pattern.severity,
        kind=pattern.kind,
        time=first.first.time,
        time_sigma_s=first.first.time_sigma_s,
        lon=lon,
        lat=lat,
        cov_ee=cov_ee,
        cov_en=cov_en,
        cov_nn=cov_nn,
        zone_id=None,
        side=sides.pop() if len(sides) == 1 else None,
        party=party,
        distance_to_line_m=round(float(np.mean([i.first.distance_to_line_m for i in items])), 3),
        confidence=confidence,
        escalation_level=policy_level(
            agreement, pattern.id, pattern.severity, confidence, n_sources
        ),
        evidence=tuple(member_ids),  # each member finding carries its own observations
        explanation=_explain(agreement, pattern, len(items), start, end, sector, party, confidence),
        attributes={
            "agreement": agreement.id,
            PATTERN_KEY: description,
            "attribution": attribution,
        },
    )


def _judge(
    agreement: Agreement,
    pattern: Pattern,
    findings: Sequence[tuple[str | None, Finding]],
    sources: _Sources,
) -> list[Finding]:
    # ids are hashed (when not given) only for the findings the pattern counts
    eligible = [(f.id if i is None else i, f) for i, f in findings if counts_toward(pattern, f)]
    if pattern.kind == "repeated_withdrawal":
        groups: dict[str, list[tuple[str, Finding]]] = {}
        for pair in eligible:
            groups.setdefault(str(pair[1].party), []).append(pair)
        batches = [groups[party] for party in sorted(groups)]
    else:
        batches = [eligible]
    window_s = pattern.window_h * 3600.0
    out = []
    for batch in batches:
        items = _items(batch)
        if len(items) < pattern.min_events:
            continue
        t = np.array([item.t for item in items])
        chainage = None if pattern.sector_m is None else _chainage_m(agreement, items)
        s = np.zeros(len(items)) if chainage is None else chainage
        sector = 1.0 if pattern.sector_m is None else pattern.sector_m
        core = np.nonzero(_core(t, s, window_s, sector, pattern.min_events))[0]
        for group in _episodes(t[core], s[core], window_s, sector):
            members = core[group]
            out.append(
                _finding(
                    agreement,
                    pattern,
                    [items[int(k)] for k in members],
                    None if chainage is None else chainage[members],
                    sources,
                )
            )
    return out


def _order(finding: Finding) -> tuple[Any, ...]:
    """The order of :func:`~truceline.agreement.adjudicate.adjudicate`'s output."""
    return (finding.time, finding.event_id, finding.rule_id, finding.agreement_id)


def judge_patterns(
    findings: Sequence[Finding],
    agreements: Sequence[Agreement],
    events: Sequence[Event] | Mapping[str, Event] = (),
    *,
    ids: Sequence[str] | None = None,
) -> list[Finding]:
    """Pattern findings of the agreements' ``patterns`` over the given findings.

    Parameters
    ----------
    findings
        Findings about single events (pattern findings among them are ignored).
    agreements
        The agreement versions that judged them; each version's patterns count
        only the findings it judged.
    events
        The events judged, for their number of independent sources (a pattern's
        ``sources`` for the escalation policy is the most any member event has;
        without events each member counts as one source); or these events by id.
    ids
        The findings' ids, in the same order, when the caller knows them (a
        finding's id is the hash of its whole record: a live engine judging a
        pattern of thousands of evidence ids again should not hash them again).

    Returns
    -------
    list of Finding
        Pattern findings, in the order of :func:`adjudicate`'s output.
    """
    sources = _Sources(events)
    if ids is not None and len(ids) != len(findings):
        raise ValueError(f"{len(ids)} finding ids given for {len(findings)} findings")
    by_version: dict[str, list[tuple[str | None, Finding]]] = {}
    for k, finding in enumerate(findings):
        if not is_pattern_finding(finding):
            ident = None if ids is None else ids[k]
            by_version.setdefault(finding.agreement_id, []).append((ident, finding))
    out: list[Finding] = []
    for agreement in sorted(agreements, key=lambda a: a.version_id):
        judged = by_version.get(agreement.version_id, [])
        for pattern in agreement.patterns:
            out.extend(_judge(agreement, pattern, judged, sources))
    return sorted(out, key=_order)


def with_patterns(
    findings: Sequence[Finding], agreements: Sequence[Agreement], events: Sequence[Event] = ()
) -> list[Finding]:
    """The event findings plus their pattern findings, in :func:`adjudicate`'s order.

    Pattern findings already in ``findings`` are replaced by freshly judged ones.
    """
    single = [f for f in findings if not is_pattern_finding(f)]
    return sorted([*single, *judge_patterns(single, agreements, events)], key=_order)
