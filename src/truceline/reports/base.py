"""What a report is made from, and what writing one produces.

A report is a pure function of a :class:`ReportInput`: the agreement that judged
the findings, the findings, events and coverage of the period, and a summary of
the run (period, evidence-log size, Merkle root, run digest). The same input
always gives byte-identical files, so a party holding the evidence log can
re-run the pipeline and compare report files by hash.

The agreement is described by the :class:`MapAgreement` protocol rather than by
the concrete agreement class, so the report only depends on what it draws:
the contact line and the zone geometries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Protocol

from shapely.geometry.base import BaseGeometry

from truceline.model.coverage import Coverage
from truceline.model.errors import TrucelineError
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.timeutil import parse_utc

__all__ = [
    "NOT_ESCALATED_LEVELS",
    "SUMMARY_KEYS",
    "EscalationScale",
    "MapAgreement",
    "ReportError",
    "ReportFiles",
    "ReportInput",
    "is_escalated",
]

#: Levels that alert no one when the agreement's level order is not given
#: (compared case-insensitively); ``log`` is the agreement format's default lowest level.
NOT_ESCALATED_LEVELS: Final = frozenset({"", "none", "log"})

#: Summary keys the report knows; any other key is listed verbatim under "Run details".
#:
#: ``period_start``, ``period_end``
#:     Required. The reporting period (aware datetime or ISO 8601 UTC text).
#: ``observations``
#:     Number of observations in the period (int).
#: ``log_size``
#:     Number of records in the evidence log the run read (the Merkle tree size).
#: ``root_hash``
#:     Hex Merkle root of that log prefix (RFC 9162).
#: ``run_digest``
#:     Digest of the run's derived output (events + findings) and configuration.
SUMMARY_KEYS: Final = (
    "period_start",
    "period_end",
    "observations",
    "log_size",
    "root_hash",
    "run_digest",
)


class ReportError(TrucelineError, ValueError):
    """The report input is incomplete or inconsistent."""


class MapAgreement(Protocol):
    """The part of a ceasefire agreement a report needs to draw a map.

    Attributes are read-only properties so that frozen dataclasses and
    pydantic models both satisfy the protocol.
    """

    @property
    def id(self) -> str:
        """Stable agreement id, shared by all its versions."""

    @property
    def version(self) -> int:
        """Declared version number."""

    @property
    def version_id(self) -> str:
        """Content id (hex SHA-256) of this version's canonical text."""

    @property
    def title(self) -> str:
        """Title of the agreement."""

    @property
    def parties(self) -> Sequence[str]:
        """Parties to the ceasefire."""

    @property
    def contact_line(self) -> BaseGeometry:
        """The contact line, a (Multi)LineString in lon/lat degrees."""

    @property
    def zone_ids(self) -> Sequence[str]:
        """Ids of all zones the agreement defines, in the agreement's order."""

    def zone_geometry(self, zone_id: str) -> BaseGeometry:
        """The zone's area in lon/lat degrees, distance bands materialised as polygons.

        Raises
        ------
        KeyError
            If the agreement has no zone ``zone_id``.
        """


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is made from.

    Attributes
    ----------
    agreement
        The agreement version that judged the findings.
    findings
        Findings to report (any order; the report sorts them by time, then id).
    events
        Events of the period (counted by kind).
    coverage
        Coverage windows; those overlapping the period count towards observed area.
    summary
        Run summary; see :data:`SUMMARY_KEYS`. ``period_start`` and ``period_end``
        are required.
    title
        Report title (e.g. ``Daily report 2026-11-02``).
    gap_zone_ids
        Zones whose coverage gaps are reported and hatched on the map; ``None``
        means every zone with an area, in the agreement's order.
    escalation_levels
        The agreement's escalation levels, lowest first (``agreement.escalation.levels``
        for :class:`truceline.agreement.Agreement`). Findings above the lowest
        level count as escalated. ``None`` falls back to
        :data:`NOT_ESCALATED_LEVELS`.
    """

    agreement: MapAgreement
    findings: Sequence[Finding]
    events: Sequence[Event]
    coverage: Sequence[Coverage]
    summary: Mapping[str, Any]
    title: str
    gap_zone_ids: Sequence[str] | None = field(default=None)
    escalation_levels: Sequence[str] | None = field(default=None)

    def period(self) -> tuple[datetime, datetime]:
        """The reporting period ``(start, end)`` in UTC, from the summary.

        Raises
        ------
        ReportError
            If either bound is missing or unparsable, or the period ends before it starts.
        """
        start = _summary_time(self.summary, "period_start")
        end = _summary_time(self.summary, "period_end")
        if end < start:
            raise ReportError(f"summary: period ends ({end}) before it starts ({start})")
        return start, end

    def escalation(self) -> EscalationScale:
        """The escalation scale findings are judged escalated by."""
        levels = None if self.escalation_levels is None else tuple(self.escalation_levels)
        return EscalationScale(levels)

    def sorted_findings(self) -> list[Finding]:
        """Findings sorted by time, then id (the order of every output)."""
        return sorted(self.findings, key=lambda f: (f.time, f.id))


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the files :func:`truceline.reports.write_report` wrote.

    Attributes
    ----------
    html
        Self-contained report page (``report.html``).
    geojson
        Findings as points and 95 % ellipses (``findings.geojson``).
    csv
        One row per finding (``findings.csv``).
    map_png
        The static map (``map.png``), also embedded in the page.
    """

    html: Path
    geojson: Path
    csv: Path
    map_png: Path

    def all(self) -> tuple[Path, ...]:
        """All paths, in a fixed order."""
        return (self.html, self.geojson, self.csv, self.map_png)


@dataclass(frozen=True)
class EscalationScale:
    """Which escalation levels alert someone, and how they rank.

    Attributes
    ----------
    levels
        The agreement's levels, lowest first; ``None`` when unknown, in which
        case only :data:`NOT_ESCALATED_LEVELS` count as not escalated.
    """

    levels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.levels is not None and not self.levels:
            raise ReportError("an escalation scale needs at least one level")

    def escalated(self, level: str) -> bool:
        """Whether ``level`` alerts anyone.

        With known levels, everything above the lowest counts, and so does a
        level the agreement does not list: an unknown level is shown, not hidden.
        """
        if self.levels is None:
            return level.strip().lower() not in NOT_ESCALATED_LEVELS
        return level != self.levels[0]

    def top(self, level: str) -> bool:
        """Whether ``level`` is the highest the agreement lists (e.g. "attack").

        This is what the map marks with a star: the alerts that go to the
        guarantors, not every level above "log". With unknown levels it falls
        back to :meth:`escalated`.
        """
        if self.levels is None:
            return self.escalated(level)
        return level == self.levels[-1] or level not in self.levels

    def rank(self, level: str) -> int:
        """Position of ``level``, lowest 0; unlisted levels rank above every listed one."""
        if self.levels is None:
            return 1 if self.escalated(level) else 0
        return self.levels.index(level) if level in self.levels else len(self.levels)

    def order(self, levels: Iterable[str]) -> list[str]:
        """Distinct ``levels`` sorted lowest first (ties by name)."""
        return sorted(set(levels), key=lambda level: (self.rank(level), level))


def is_escalated(level: str) -> bool:
    """Whether a level alerts anyone when the agreement's level order is unknown."""
    return EscalationScale().escalated(level)


def _summary_time(summary: Mapping[str, Any], key: str) -> datetime:
    if key not in summary:
        raise ReportError(f"summary: missing required key {key!r}")
    value = summary[key]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ReportError(f"summary: {key} is a naive datetime; use timezone-aware UTC")
        return parse_utc(value.isoformat())
    try:
        return parse_utc(str(value))
    except ValueError as exc:
        raise ReportError(f"summary: {key}: {exc}") from None
