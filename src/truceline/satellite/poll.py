"""Resumable incremental polling of the FIRMS area/country API into CSV files.

A *stream* is one (source, region) pair. Its days are cut into pages of
``day_range`` days on a grid anchored at the stream's first day (its
*origin*), so that a page is always the same request and the same file::

    OUT/{SOURCE}_{W}_{S}_{E}_{N}_{first}_{last}.csv     (area)
    OUT/{SOURCE}_{ISO3}_{first}_{last}.csv              (country)

Each file holds the CSV bytes exactly as FIRMS served them: evidence, and input
the FIRMS ingest adapter reads as they are.

FIRMS near-real-time data of the last day or two is incomplete and revised, so
a day counts as *final* only when it is at least ``overlap_days`` old at the
time it is fetched. The state file ``OUT/.firms-poll-state.json`` records per
stream the last day through which everything was fetched final
(``complete_through``); the next poll starts again at the page holding the day
after it. Re-fetching a page replaces its file (a page fetched through the 25th
and later through the 27th leaves one file, ``..._21_27``), so the directory
always holds one file per page and no two files overlap in time.

Crash safety: each page is written to a temporary file, synced and renamed
(a poll first removes temporaries a killed poll left behind);
then superseded versions of the same page are removed; then (optionally) it is
ingested; then the state is written the same atomic way. A failure or a crash
at any point leaves every finished page and a state that points at the first
unfinished one, so the next poll resumes where this one stopped, and the files
and state it ends with are those of an uninterrupted run.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from truceline.model.errors import RecordError, TrucelineError
from truceline.satellite._poll_state import (
    STATE_FILE,
    StreamState,
    load_state,
    save_state,
    sync_dir,
    write_atomic,
)
from truceline.satellite.firms_api import (
    MAX_DAY_RANGE,
    FirmsApiError,
    FirmsClient,
    Region,
    check_day_range,
    check_source,
)

if TYPE_CHECKING:
    from truceline.ingest.pipeline import IngestResult
    from truceline.workspace import Workspace

__all__ = [
    "DEFAULT_OVERLAP_DAYS",
    "STATE_FILE",
    "PageResult",
    "PollConfigError",
    "PollError",
    "PollResult",
    "StreamState",
    "load_state",
    "page_path",
    "poll",
    "save_state",
]

LOCK_FILE: Final = ".firms-poll.lock"
#: Days of near-real-time data re-fetched on the next poll because FIRMS may still revise them.
DEFAULT_OVERLAP_DAYS: Final = 2
#: Sources whose rows the FIRMS ingest adapter does not read (Landsat satellite codes).
_NOT_INGESTIBLE: Final = frozenset({"LANDSAT_NRT"})
_ONE_DAY: Final = timedelta(days=1)


class PollConfigError(TrucelineError, ValueError):
    """The poll options contradict each other or the recorded state."""


class PollError(TrucelineError):
    """A poll stopped on a failure; the pages before it are written and recorded.

    Attributes
    ----------
    pages
        Pages finished before the failure.
    cause
        The underlying error.
    """

    def __init__(self, message: str, pages: Sequence[PageResult], cause: Exception) -> None:
        super().__init__(message)
        self.pages = tuple(pages)
        self.cause = cause


@dataclass(frozen=True, slots=True)
class PageResult:
    """One page written by a poll.

    Attributes
    ----------
    source, region
        Its stream.
    first, last
        The days it covers (UTC, inclusive).
    path
        The file written.
    rows
        Detections in it.
    final
        Whether every day in it was final when fetched.
    replaced
        Earlier versions of the same page that it replaced (removed).
    ingest
        What ingesting it did, when asked to.
    """

    source: str
    region: Region
    first: date
    last: date
    path: Path
    rows: int
    final: bool
    replaced: tuple[Path, ...]
    ingest: IngestResult | None


@dataclass(frozen=True, slots=True)
class PollResult:
    """What a poll did: the pages written and the streams' state after it."""

    pages: tuple[PageResult, ...]
    streams: tuple[StreamState, ...]
    state_path: Path


# -- files ----------------------------------------------------------------------------------
def page_path(out_dir: Path, source: str, region: Region, first: date, last: date) -> Path:
    """The file of the page ``first`` .. ``last`` of a stream."""
    return out_dir / f"{source}_{region.label}_{first.isoformat()}_{last.isoformat()}.csv"


def _versions(out_dir: Path, source: str, region: Region, first: date) -> Iterator[Path]:
    """Files of any version of the page starting on ``first``."""
    prefix = re.escape(f"{source}_{region.label}_{first.isoformat()}_")
    pattern = re.compile(prefix + r"\d{4}-\d{2}-\d{2}\.csv")
    for path in out_dir.iterdir():
        if pattern.fullmatch(path.name):
            yield path


#: Temporary files :func:`write_atomic` leaves behind when the process is killed.
_TEMPORARY = re.compile(
    r"\.(?:[A-Z0-9_]+_[^/]+_\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv|"
    + re.escape(STATE_FILE)
    + r")\.[A-Za-z0-9_]+\.tmp"
)


def _remove_temporaries(out_dir: Path) -> list[Path]:
    """Remove half-written files of a killed poll (call with the lock held)."""
    stale = sorted(path for path in out_dir.iterdir() if _TEMPORARY.fullmatch(path.name))
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold the poll lock of ``out_dir``: one poll at a time per directory."""
    with (out_dir / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PollConfigError(f"{out_dir}: another poll is running on this directory") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- planning -------------------------------------------------------------------------------
def _stream(
    known: StreamState | None,
    source: str,
    region: Region,
    start: date | None,
    day_range: int | None,
    today: date,
) -> StreamState:
    """The stream to poll: the recorded one, or a new one starting at ``start``."""
    if known is None:
        span = check_day_range(day_range or MAX_DAY_RANGE)
        origin = start if start is not None else today - timedelta(days=span - 1)
        if origin > today:
            raise PollConfigError(f"start {origin} is after today ({today}, UTC)")
        return StreamState(source, region, origin, span)
    if start is not None and start != known.origin:
        raise PollConfigError(
            f"{known.key}: the state in this directory starts on {known.origin}, not {start}; "
            "poll into another --out directory to fetch another period"
        )
    if day_range is not None and day_range != known.day_range:
        raise PollConfigError(
            f"{known.key}: the state in this directory pages by {known.day_range} days, "
            f"not {day_range}; poll into another --out directory to change it"
        )
    return known


class _StreamPoll:
    """Fetch, write, ingest and record the pages of one stream."""

    def __init__(
        self,
        client: FirmsClient,
        out_dir: Path,
        streams: dict[str, StreamState],
        stream: StreamState,
        final_through: date,
        workspace: Workspace | None,
    ) -> None:
        self.client = client
        self.out_dir = out_dir
        self.streams = streams
        self.stream = stream
        self.final_through = final_through
        self.workspace = workspace

    def run(self, stop: date) -> Iterator[PageResult]:
        """Pages from the one holding the resume day through ``stop``."""
        if self.stream.resume > stop:
            return
        first = self.stream.page_start(self.stream.resume)
        while first <= stop:
            last = min(first + timedelta(days=self.stream.day_range - 1), stop)
            yield self.page(first, last)
            first += timedelta(days=self.stream.day_range)

    def page(self, first: date, last: date) -> PageResult:
        """Fetch and write one page, replace its older versions, ingest it, record it."""
        stream = self.stream
        fetched = self.client.fetch(stream.source, stream.region, first, (last - first).days + 1)
        path = page_path(self.out_dir, stream.source, stream.region, first, last)
        write_atomic(path, fetched.body)
        replaced = tuple(
            sorted(
                old
                for old in _versions(self.out_dir, stream.source, stream.region, first)
                if old != path
            )
        )
        for old in replaced:
            old.unlink(missing_ok=True)
        if replaced:
            sync_dir(self.out_dir)
        ingested = None
        if self.workspace is not None:
            from truceline.ingest.pipeline import ingest_file

            ingested = ingest_file(self.workspace, path, format_name="firms")
        final = min(last, self.final_through)
        before = stream.complete_through or stream.origin - _ONE_DAY
        self.stream = replace(
            stream,
            complete_through=max(before, final) if max(before, final) >= stream.origin else None,
            fetched_through=last,
        )
        self.streams[self.stream.key] = self.stream
        save_state(self.out_dir / STATE_FILE, self.streams)
        return PageResult(
            stream.source,
            stream.region,
            first,
            last,
            path,
            fetched.rows,
            last <= self.final_through,
            replaced,
            ingested,
        )


def _today() -> date:
    return datetime.now(UTC).date()


# -- the poll -------------------------------------------------------------------------------
def poll(
    client: FirmsClient,
    *,
    out_dir: Path,
    region: Region,
    sources: Sequence[str] = ("VIIRS_NOAA20_NRT",),
    start: date | None = None,
    end: date | None = None,
    overlap_days: int = DEFAULT_OVERLAP_DAYS,
    day_range: int | None = None,
    today: Callable[[], date] = _today,
    workspace: Workspace | None = None,
    on_page: Callable[[PageResult], None] | None = None,
) -> PollResult:
    """Fetch what is new of each source in ``region`` since the last poll into ``out_dir``.

    Parameters
    ----------
    client
        The FIRMS client.
    out_dir
        Directory of the page files and the state file (created if missing).
    region
        The area or country.
    sources
        FIRMS sources, one stream each.
    start
        First day of a new stream (UTC); default: the last ``day_range`` days.
        For a recorded stream it must be the recorded first day, or ``None``.
    end
        Last day to fetch (UTC); default and upper bound: today.
    overlap_days
        Days before today (UTC) that are not yet final: they are fetched now
        and again on the next poll, because FIRMS revises near-real-time data.
    day_range
        Days per request and page (1..10) of a new stream; default 10. For a
        recorded stream, the recorded value or ``None``.
    today
        Today's date, UTC (a seam for tests).
    workspace
        When given, each page file is ingested into it as soon as it is written.
    on_page
        Called after each page is written, ingested and recorded.

    Raises
    ------
    PollConfigError, FirmsParameterError
        Contradictory options; nothing was fetched.
    truceline.model.RecordError
        The state file is corrupt; nothing was fetched.
    PollError
        A request, a write or an ingest failed; the pages before it are
        written and recorded, and the next poll resumes from the failed page.
    """
    if overlap_days < 0:
        raise PollConfigError(f"overlap of {overlap_days} days must be >= 0")
    wanted = list(dict.fromkeys(check_source(source) for source in sources))
    if not wanted:
        raise PollConfigError("no FIRMS source to poll")
    if workspace is not None and _NOT_INGESTIBLE.intersection(wanted):
        raise PollConfigError(
            "the FIRMS ingest adapter does not read Landsat rows: poll LANDSAT_NRT without ingest"
        )
    day = today()
    if start is not None and end is not None and end < start:
        raise PollConfigError(f"end {end} is before start {start}")
    stop = min(end, day) if end is not None else day
    out_dir.mkdir(parents=True, exist_ok=True)
    state_path = out_dir / STATE_FILE
    with _locked(out_dir):
        _remove_temporaries(out_dir)
        streams = load_state(state_path)
        planned = []
        for source in wanted:
            stream = _stream(
                streams.get(f"{source} {region.key}"), source, region, start, day_range, day
            )
            if end is not None and end < stream.origin:
                raise PollConfigError(f"end {end} is before the stream's start {stream.origin}")
            planned.append(stream)
        pages: list[PageResult] = []
        for stream in planned:
            worker = _StreamPoll(
                client, out_dir, streams, stream, day - timedelta(days=overlap_days), workspace
            )
            try:
                for page in worker.run(stop):
                    pages.append(page)
                    if on_page is not None:
                        on_page(page)
            except (FirmsApiError, RecordError, OSError) as exc:
                resume = worker.stream.page_start(worker.stream.resume)
                raise PollError(
                    f"{stream.key}: {exc}; {len(pages)} page(s) written before the failure; "
                    f"the next poll resumes with the page starting {resume}",
                    pages,
                    exc,
                ) from exc
        final = tuple(streams.get(stream.key, stream) for stream in planned)
    return PollResult(tuple(pages), final, state_path)
