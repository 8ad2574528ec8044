"""The poll state file and atomic writes of :mod:`truceline.satellite.poll` (private).

``OUT/.firms-poll-state.json`` records, per (source, region) stream, its first
day, its page size and how far it was fetched. It is rewritten whole after each
page, atomically, with sorted keys: equal states are equal bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from truceline.fileio import sync_dir, write_atomic
from truceline.model.errors import RecordError
from truceline.satellite.firms_api import (
    MAX_DAY_RANGE,
    FirmsParameterError,
    Region,
    check_source,
    parse_date,
    parse_region,
)

__all__ = ["STATE_FILE", "StreamState", "load_state", "save_state", "sync_dir", "write_atomic"]

STATE_FILE: Final = ".firms-poll-state.json"
STATE_FORMAT: Final = "truceline-firms-poll-state"
STATE_VERSION: Final = 1
_ONE_DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class StreamState:
    """What was fetched of one (source, region) stream.

    Attributes
    ----------
    source, region
        The stream.
    origin
        Its first day (UTC); pages are ``origin + k * day_range`` onwards.
    day_range
        Days per page (1..10).
    complete_through
        Every day from ``origin`` to this one was fetched when already final
        (at least the overlap old); ``None`` before that is true of any day.
    fetched_through
        The last day fetched at all.
    """

    source: str
    region: Region
    origin: date
    day_range: int
    complete_through: date | None = None
    fetched_through: date | None = None

    @property
    def key(self) -> str:
        """Identity of the stream in the state file."""
        return f"{self.source} {self.region.key}"

    @property
    def resume(self) -> date:
        """The first day not yet fetched final."""
        return self.complete_through + _ONE_DAY if self.complete_through else self.origin

    def page_start(self, day: date) -> date:
        """First day of the page holding ``day``."""
        return self.origin + timedelta(
            days=(day - self.origin).days // self.day_range * self.day_range
        )

    def to_json(self) -> dict[str, Any]:
        """The state-file record."""
        return {
            "source": self.source,
            "region": self.region.key,
            "origin": self.origin.isoformat(),
            "day_range": self.day_range,
            "complete_through": _iso(self.complete_through),
            "fetched_through": _iso(self.fetched_through),
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _stream_from_json(data: Any, file: str, record: str) -> StreamState:
    if not isinstance(data, dict):
        raise RecordError("expected an object", file=file, record=record)
    fields: dict[str, Any] = {}
    for name in ("source", "region", "origin", "day_range"):
        if name not in data:
            raise RecordError("missing", file=file, record=record, field=name)
    try:
        fields["source"] = check_source(str(data["source"]))
    except FirmsParameterError as exc:
        raise RecordError(str(exc), file=file, record=record, field="source") from None
    for name, parse in (
        ("region", parse_region),
        ("origin", parse_date),
        ("complete_through", parse_date),
        ("fetched_through", parse_date),
    ):
        value = data.get(name)
        if value is None and name in ("complete_through", "fetched_through"):
            fields[name] = None
            continue
        try:
            fields[name] = parse(str(value))
        except FirmsParameterError as exc:
            raise RecordError(str(exc), file=file, record=record, field=name) from None
    day_range = data["day_range"]
    if not isinstance(day_range, int) or not 1 <= day_range <= MAX_DAY_RANGE:
        raise RecordError(
            f"expected an integer 1..{MAX_DAY_RANGE}", file=file, record=record, field="day_range"
        )
    return StreamState(day_range=day_range, **fields)


def load_state(path: Path) -> dict[str, StreamState]:
    """Streams recorded in a state file, by key; empty when the file does not exist.

    Raises
    ------
    truceline.model.RecordError
        The file is not a poll state file, naming the stream and field at fault.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    file = str(path)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"not JSON: {exc}", file=file) from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise RecordError(f"not a {STATE_FORMAT} file", file=file, field="format")
    if data.get("version") != STATE_VERSION:
        raise RecordError(
            f"unsupported version {data.get('version')!r} (expected {STATE_VERSION})",
            file=file,
            field="version",
        )
    records = data.get("streams")
    if not isinstance(records, list):
        raise RecordError("expected a list", file=file, field="streams")
    streams: dict[str, StreamState] = {}
    for position, record in enumerate(records):
        stream = _stream_from_json(record, file, f"streams[{position}]")
        streams[stream.key] = stream
    return streams


def save_state(path: Path, streams: dict[str, StreamState]) -> None:
    """Write the state file atomically (streams sorted, so equal states give equal bytes)."""
    body = {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "streams": [streams[key].to_json() for key in sorted(streams)],
    }
    write_atomic(path, (json.dumps(body, indent=2, sort_keys=True) + "\n").encode("utf-8"))
