"""UTC time handling: parsing, formatting and epoch conversion.

truceline keeps every instant as a timezone-aware :class:`datetime.datetime` in UTC.
Naive times are refused rather than guessed, because a silently assumed time zone
moves an event by hours and can change which agreement version judges it.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_utc", "from_epoch", "parse_utc", "to_epoch"]


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 timestamp that states its offset, returning UTC.

    Parameters
    ----------
    text
        For example ``2026-11-01T12:00:00Z`` or ``2026-11-01T14:00:00+02:00``.
        A bare date ``2026-11-01`` means midnight UTC of that day.

    Raises
    ------
    ValueError
        If the text is not ISO 8601 or has no UTC offset.
    """
    stripped = text.strip()
    if len(stripped) == 10:
        day = datetime.strptime(stripped, "%Y-%m-%d")  # noqa: DTZ007 - made aware below
        return day.replace(tzinfo=UTC)
    value = datetime.fromisoformat(stripped.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time {text!r} has no UTC offset (append 'Z' for UTC)")
    return value.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with a ``Z`` suffix.

    Microseconds are written only when non-zero, so whole-second times read
    naturally (``2026-11-01T12:00:00Z``).
    """
    if value.tzinfo is UTC:  # fast path: isoformat already omits zero microseconds
        return value.isoformat()[:-6] + "Z"
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: truceline times must be timezone-aware UTC")
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_epoch(value: datetime) -> float:
    """Seconds since 1970-01-01T00:00:00Z (UTC) of an aware datetime."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: truceline times must be timezone-aware UTC")
    return value.timestamp()


def from_epoch(seconds: float) -> datetime:
    """Aware UTC datetime for ``seconds`` since the Unix epoch."""
    return datetime.fromtimestamp(seconds, tz=UTC)
