"""The repository interface every store backend implements.

A store is a *projection* of the evidence log: it can always be dropped and
rebuilt from the log (``truceline store rebuild``). Backends: SQLite (embedded
default, :mod:`.sqlite`); PostgreSQL/PostGIS implements the same interface and
runs the same conformance suite.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from truceline.model.coverage import Coverage
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["ALL", "BBox", "ObservationRow", "Query", "Store"]


@dataclass(frozen=True, slots=True)
class BBox:
    """A longitude/latitude box in degrees."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def __post_init__(self) -> None:
        if self.min_lon > self.max_lon or self.min_lat > self.max_lat:
            raise ValueError(
                f"bbox min must not exceed max: {self.min_lon},{self.min_lat},"
                f"{self.max_lon},{self.max_lat}"
            )

    @classmethod
    def parse(cls, text: str) -> BBox:
        """Parse ``"min_lon,min_lat,max_lon,max_lat"``."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 4:
            raise ValueError(f"bbox {text!r}: expected min_lon,min_lat,max_lon,max_lat")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"bbox {text!r}: all four values must be numbers") from None
        return cls(*values)


@dataclass(frozen=True, slots=True)
class Query:
    """Time-window and spatial filter. ``None`` means unbounded.

    Attributes
    ----------
    since, until
        Keep records whose time window intersects ``[since, until]`` (UTC).
    bbox
        Keep records whose extent intersects the box.
    kinds
        Keep only these kinds.
    before_seq
        Keep only records projected from log entries with index below this
        (a log prefix, for re-deriving an earlier run).
    """

    since: datetime | None = None
    until: datetime | None = None
    bbox: BBox | None = None
    kinds: tuple[str, ...] | None = None
    before_seq: int | None = None


#: The query that matches everything.
ALL = Query()


@dataclass(frozen=True, slots=True)
class ObservationRow:
    """An observation as handed to the store on the ingest fast path."""

    seq: int
    id: str
    observation: Observation
    body: bytes
    artifact: str | None
    record: int | str | None


class Store(ABC):
    """Repository of the log's projection."""

    # -- projection ---------------------------------------------------------------
    @abstractmethod
    def apply_entries(self, entries: Iterable[tuple[int, bytes]]) -> int:
        """Project raw log entries ``(seq, bytes)``; returns how many were applied."""

    @abstractmethod
    def add_batch(
        self,
        *,
        end_seq: int,
        observations: Sequence[ObservationRow] = (),
        other_entries: Sequence[tuple[int, bytes]] = (),
    ) -> None:
        """Project one acknowledged log batch in a single transaction.

        ``end_seq`` is the log size after the batch; it is recorded so that a
        store lagging behind the log (after a crash) catches up at open.
        """

    @abstractmethod
    def log_size(self) -> int:
        """Number of log entries projected so far."""

    # -- lookups ------------------------------------------------------------------
    @abstractmethod
    def known_ids(self, table: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` exist in ``table`` (observations, sensors, coverage, artifacts...)."""

    @abstractmethod
    def artifact(self, sha256: str) -> Mapping[str, Any] | None:
        """The logged description of a raw file with this SHA-256, or ``None``."""

    @abstractmethod
    def observations(self, query: Query = ALL) -> list[tuple[str, Observation]]:
        """``(id, observation)`` pairs matching ``query``, in log order."""

    @abstractmethod
    def observation_time_range(self) -> tuple[datetime, datetime] | None:
        """Earliest start and latest end of all observations (UTC), or ``None``."""

    @abstractmethod
    def sensors(self) -> list[Sensor]:
        """Current description of every sensor, sorted by id."""

    @abstractmethod
    def coverage(self, query: Query = ALL) -> list[Coverage]:
        """Coverage records matching ``query``, in log order."""

    @abstractmethod
    def agreements(self, before_seq: int | None = None) -> list[Mapping[str, Any]]:
        """Agreement versions' canonical bodies in log order (optionally a log prefix)."""

    @abstractmethod
    def runs(self) -> list[Mapping[str, Any]]:
        """Every run entry (``{"id", "seq", "body", "result"}``), in log order."""

    @abstractmethod
    def observation_refs(self, ids: Iterable[str]) -> dict[str, tuple[int, Observation]]:
        """Log index (leaf index) and content of each of these observations that exists."""

    @abstractmethod
    def escalations(self, before_seq: int | None = None) -> list[Mapping[str, Any]]:
        """Escalation entries (``{"id", "seq", "body"}``) in log order (optionally a prefix)."""

    @abstractmethod
    def reviews(self, before_seq: int | None = None) -> list[Mapping[str, Any]]:
        """Review entries (``{"id", "seq", "body"}``) in log order (optionally a prefix)."""

    # -- derived results ----------------------------------------------------------
    @abstractmethod
    def replace_results(
        self, run_id: str, events: Sequence[Event], findings: Sequence[Finding]
    ) -> None:
        """Replace the current events and findings with a run's output."""

    def update_results(
        self,
        run_id: str,
        removed_events: Sequence[str],
        events: Sequence[Event],
        removed_findings: Sequence[str],
        findings: Sequence[Finding],
    ) -> None:
        """Change the current results in place: drop these ids, add these records.

        The live mode (:mod:`truceline.live`) changes a few records of a large
        result at a time. This default rewrites everything through
        :meth:`replace_results`; backends override it with a local update.
        """
        gone_events, gone_findings = set(removed_events), set(removed_findings)
        kept_events = [e for e in self.events() if e.id not in gone_events]
        kept_findings = [f for f in self.findings() if f.id not in gone_findings]
        self.replace_results(run_id, [*kept_events, *events], [*kept_findings, *findings])

    @abstractmethod
    def events(self, query: Query = ALL) -> list[Event]:
        """Current events matching ``query``, sorted by time then id."""

    @abstractmethod
    def findings(self, query: Query = ALL) -> list[Finding]:
        """Current findings matching ``query``, sorted by time then id."""

    # -- summaries ----------------------------------------------------------------
    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Row counts per table."""

    @abstractmethod
    def content_digest(self) -> str:
        """Hex SHA-256 over the full content of every table, in a fixed order."""

    @abstractmethod
    def close(self) -> None:
        """Release resources."""
