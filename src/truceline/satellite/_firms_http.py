"""Time, transport and retry-schedule seams of the FIRMS client (private).

Re-exported by :mod:`truceline.satellite.firms_api`.
"""

from __future__ import annotations

import email.utils
import http.client
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from truceline._version import __version__
from truceline.satellite._firms_params import FirmsParameterError

__all__ = [
    "Clock",
    "HttpResponse",
    "RetryEvent",
    "RetryPolicy",
    "SystemClock",
    "Transport",
    "parse_retry_after",
    "urllib_transport",
]


class Clock(Protocol):
    """Where the client reads and spends time."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...

    def now(self) -> datetime:
        """The current UTC time (to read an HTTP-date ``Retry-After``)."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """:func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """:func:`time.sleep`."""
        time.sleep(seconds)

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """An HTTP answer of any status."""

    status: int
    headers: Mapping[str, str]
    body: bytes


#: ``transport(url, timeout_s) -> HttpResponse``; raises :class:`OSError` or
#: :class:`http.client.HTTPException` when no complete answer arrived.
Transport = Callable[[str, float], HttpResponse]


def urllib_transport(url: str, timeout_s: float) -> HttpResponse:
    """GET ``url`` with :mod:`urllib` (honours the ``*_proxy`` environment variables)."""
    request = urllib.request.Request(  # noqa: S310 (the client checks the scheme)
        url, headers={"User-Agent": f"truceline/{__version__}", "Accept": "text/csv, */*"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # noqa: S310
            return HttpResponse(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            try:
                body = exc.read()
            except (OSError, http.client.HTTPException):
                body = b""
            return HttpResponse(exc.code, dict(exc.headers.items()), body)


# -- retries --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When and how long to wait before repeating a failed request.

    Attributes
    ----------
    max_attempts
        Requests made at most, the first included (1 = no retry).
    base_delay_s
        Wait before the first retry, seconds.
    factor
        Growth of the wait per retry.
    max_delay_s
        Cap of the backoff wait, seconds.
    jitter
        Relative spread of the backoff wait: each wait is multiplied by a
        uniform factor in ``[1 - jitter, 1 + jitter]``, so that clients that
        failed together do not retry together.
    max_retry_after_s
        Longest ``Retry-After`` obeyed, seconds; a longer one fails at once
        (FIRMS counts transactions over 10 minutes).
    """

    max_attempts: int = 5
    base_delay_s: float = 2.0
    factor: float = 2.0
    max_delay_s: float = 60.0
    jitter: float = 0.25
    max_retry_after_s: float = 600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise FirmsParameterError(f"max_attempts {self.max_attempts} must be at least 1")
        if not 0.0 <= self.jitter < 1.0:
            raise FirmsParameterError(f"jitter {self.jitter} must be in [0, 1)")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.factor < 1.0:
            raise FirmsParameterError("delays must be >= 0 s and the factor >= 1")

    def backoff_s(self, retry: int, rng: random.Random) -> float:
        """Wait before retry number ``retry`` (1-based), seconds."""
        nominal = min(self.max_delay_s, self.base_delay_s * self.factor ** (retry - 1))
        return nominal * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry about to happen: after ``attempt`` failed, wait ``delay_s`` seconds."""

    url: str
    attempt: int
    delay_s: float
    reason: str


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
