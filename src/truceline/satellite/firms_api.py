"""Client of the NASA FIRMS area and country APIs (CSV), with retries and paging.

FIRMS serves active-fire detections at::

    {BASE}/api/area/csv/{MAP_KEY}/{SOURCE}/{W,S,E,N}/{DAY_RANGE}/{YYYY-MM-DD}
    {BASE}/api/country/csv/{MAP_KEY}/{SOURCE}/{ISO3}/{DAY_RANGE}/{YYYY-MM-DD}

where a request returns the days ``DATE`` .. ``DATE + DAY_RANGE - 1`` (UTC) and
``DAY_RANGE`` is 1..10, so a longer period is paged into several requests
(:func:`date_pages`). The MAP_KEY goes in the path; it is read from
``$FIRMS_MAP_KEY`` and never shown: every URL in a message or log has it
replaced by ``<MAP_KEY>`` (:func:`redact`).

FIRMS answers some errors with HTTP 200 and a line of text ("Invalid MAP_KEY.",
"Invalid area coordinate", a transaction-limit notice), so a body counts as a
FIRMS CSV only if its header starts with ``latitude,longitude,`` (area) or
``country_id,latitude,longitude,`` (country) and every data line has the
header's number of fields. A header-only CSV is a valid answer: no detections.

Connection failures, HTTP 5xx, 429 and truncated CSV bodies are retried with
exponential backoff and jitter (``Retry-After`` honoured); other 4xx answers are
not. A minimum interval between requests keeps a poll inside the key's
transaction budget (5000 per 10 minutes). Time is read and spent through a
:class:`Clock`, so tests neither sleep nor depend on the wall clock.
"""

from __future__ import annotations

import csv
import http.client
import json
import logging
import os
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from truceline.model.errors import TrucelineError
from truceline.satellite._firms_http import (
    Clock,
    HttpResponse,
    RetryEvent,
    RetryPolicy,
    SystemClock,
    Transport,
    parse_retry_after,
    urllib_transport,
)
from truceline.satellite._firms_params import (
    MAX_DAY_RANGE,
    SOURCES,
    Area,
    Country,
    FirmsParameterError,
    Region,
    check_day_range,
    check_source,
    date_pages,
    parse_date,
    parse_region,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_DAY_RANGE",
    "SOURCES",
    "Area",
    "Clock",
    "Country",
    "FirmsApiError",
    "FirmsClient",
    "FirmsKeyError",
    "FirmsPage",
    "FirmsParameterError",
    "FirmsRateLimitError",
    "FirmsResponseError",
    "FirmsTruncatedError",
    "HttpResponse",
    "KeyStatus",
    "Region",
    "RetryEvent",
    "RetryPolicy",
    "SystemClock",
    "Transport",
    "check_csv",
    "check_day_range",
    "check_source",
    "date_pages",
    "parse_date",
    "parse_region",
    "redact",
    "urllib_transport",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://firms.modaps.eosdis.nasa.gov"
#: Environment variables read by :meth:`FirmsClient.from_env`.
KEY_ENV: Final = "FIRMS_MAP_KEY"
BASE_URL_ENV: Final = "FIRMS_BASE_URL"
_REDACTED: Final = "<MAP_KEY>"
_CSV_HEADS: Final = (b"latitude,longitude,", b"country_id,latitude,longitude,")


# -- errors ---------------------------------------------------------------------------------
class FirmsApiError(TrucelineError):
    """A FIRMS request failed.

    Parameters
    ----------
    message
        What went wrong; must not contain the MAP_KEY.
    url
        The request URL with the key redacted.
    status
        The HTTP status, when there was an answer.
    """

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        self.message = message
        self.url = url
        self.status = status
        super().__init__(f"{url}: {message}" if url else message)


class FirmsKeyError(FirmsApiError):
    """The MAP_KEY is missing, malformed or refused by FIRMS."""


class FirmsRateLimitError(FirmsApiError):
    """FIRMS refused the request for the key's transaction limit."""


class FirmsResponseError(FirmsApiError):
    """FIRMS answered with something that is not a FIRMS CSV."""


class FirmsTruncatedError(FirmsResponseError):
    """A CSV line has another field count than the header: a cut transfer (retried)."""


def redact(text: str, key: str) -> str:
    """``text`` with every occurrence of ``key`` replaced by ``<MAP_KEY>``."""
    return text.replace(key, _REDACTED) if key else text


class _RetryableError(Exception):
    """A failure worth another attempt (internal)."""

    def __init__(self, error: FirmsApiError, retry_after_s: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after_s = retry_after_s


# -- the body check -------------------------------------------------------------------------
def _excerpt(body: bytes, limit: int = 160) -> str:
    text = body[:limit].decode("utf-8", errors="replace").strip()
    text = " ".join(text.split())
    return text + ("..." if len(body) > limit else "")


def _text_error(body: bytes, url: str, status: int, key: str) -> FirmsApiError:
    """The error for a FIRMS answer that is a text message, not a CSV."""
    excerpt = redact(_excerpt(body), key)
    lowered = excerpt.lower()
    if "map_key" in lowered or "map key" in lowered:
        return FirmsKeyError(f"FIRMS refused the MAP_KEY: {excerpt!r}", url=url, status=status)
    if "transaction" in lowered:
        return FirmsRateLimitError(
            f"FIRMS transaction limit reached: {excerpt!r}; wait 10 minutes and poll again",
            url=url,
            status=status,
        )
    return FirmsResponseError(
        f"FIRMS answered HTTP {status} with text, not a FIRMS CSV: {excerpt!r}"
        if excerpt
        else f"FIRMS answered HTTP {status} with an empty body, not a FIRMS CSV",
        url=url,
        status=status,
    )


def check_csv(body: bytes, *, url: str = "", key: str = "") -> int:
    """Check that ``body`` is a FIRMS area/country CSV; return its number of rows.

    Raises
    ------
    FirmsKeyError, FirmsRateLimitError, FirmsResponseError
        The body is a FIRMS text message (bad key, transaction limit, bad
        parameter), empty, or not CSV.
    FirmsTruncatedError
        A data line has another field count than the header (a cut transfer).
    """
    lines = body.split(b"\n")
    header = lines[0].rstrip(b"\r")
    if not header.startswith(_CSV_HEADS):
        raise _text_error(body, url, 200, key)
    width = header.count(b",") + 1
    rows = 0
    for line_no, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip(b"\r")
        if not line.strip():
            continue
        rows += 1
        if b'"' in line:
            cells = next(csv.reader([line.decode("utf-8", errors="replace")]), [])
            count = len(cells)
        else:
            count = line.count(b",") + 1
        if count != width:
            raise FirmsTruncatedError(
                f"line {line_no} has {count} fields but the header has {width} "
                "(truncated or malformed CSV)",
                url=url,
                status=200,
            )
    return rows


# -- the client -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FirmsPage:
    """One area/country answer: the days ``first`` .. ``last`` of one source.

    Attributes
    ----------
    source, region
        What was asked.
    first
        First day (UTC).
    days
        Days covered (the request's ``DAY_RANGE``).
    url
        The request URL, MAP_KEY redacted.
    body
        The CSV exactly as served.
    rows
        Detections in it (data lines).
    attempts
        Requests made to get it.
    """

    source: str
    region: Region
    first: date
    days: int
    url: str
    body: bytes
    rows: int
    attempts: int

    @property
    def last(self) -> date:
        """Last day covered (UTC)."""
        return self.first + timedelta(days=self.days - 1)


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """Transaction use of a MAP_KEY, from ``/mapserver/mapkey_status/``."""

    transaction_limit: int
    current_transactions: int
    transaction_interval: str


class FirmsClient:
    """Client of the FIRMS area and country CSV APIs.

    Parameters
    ----------
    map_key
        The FIRMS MAP_KEY (letters and digits); never shown in messages.
    base_url
        Service root, ``http`` or ``https`` (default :data:`DEFAULT_BASE_URL`).
    timeout_s
        Socket timeout per request, seconds.
    retry
        The retry schedule.
    min_interval_s
        Least time between the starts of two requests, seconds. FIRMS allows
        5000 transactions per 10 minutes per key (0.12 s apart on average); the
        default of 1 s leaves room for other users of the same key.
    transport
        How a GET is made (default :func:`urllib_transport`).
    clock
        Where time is read and spent (default :class:`SystemClock`).
    rng
        Source of backoff jitter.
    on_retry
        Called before each retry wait.
    """

    def __init__(
        self,
        map_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        min_interval_s: float = 1.0,
        transport: Transport = urllib_transport,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        if not (map_key and map_key.isascii() and map_key.isalnum()):
            raise FirmsKeyError(
                "the FIRMS MAP_KEY must be letters and digits only "
                "(as issued at https://firms.modaps.eosdis.nasa.gov/api/map_key/)"
            )
        scheme = base_url.split("://", 1)[0].lower() if "://" in base_url else ""
        if scheme not in ("http", "https"):
            raise FirmsParameterError(f"base URL {base_url!r}: expected http:// or https://")
        if min_interval_s < 0 or timeout_s <= 0:
            raise FirmsParameterError("min_interval_s must be >= 0 and timeout_s > 0")
        self._key = map_key
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.min_interval_s = min_interval_s
        self._transport = transport
        self._clock: Clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._on_retry = on_retry
        self._last_start: float | None = None

    @classmethod
    def from_env(
        cls,
        *,
        base_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> FirmsClient:
        """A client with the key from ``$FIRMS_MAP_KEY``.

        The base URL is ``base_url``, else ``$FIRMS_BASE_URL``, else the NASA
        service. Other keyword arguments go to the constructor.

        Raises
        ------
        FirmsKeyError
            ``$FIRMS_MAP_KEY`` is unset or empty.
        """
        env = os.environ if environ is None else environ
        key = env.get(KEY_ENV, "").strip()
        if not key:
            raise FirmsKeyError(
                f"set {KEY_ENV} to your FIRMS MAP_KEY "
                "(free at https://firms.modaps.eosdis.nasa.gov/api/map_key/)"
            )
        url = base_url or env.get(BASE_URL_ENV, "").strip() or DEFAULT_BASE_URL
        return cls(key, base_url=url, **options)

    def __repr__(self) -> str:
        return f"FirmsClient(base_url={self.base_url!r}, map_key={_REDACTED!r})"

    def redact(self, text: str) -> str:
        """``text`` with this client's key hidden."""
        return redact(text, self._key)

    def url(self, source: str, region: Region, first: date, days: int) -> str:
        """The request URL (with the key: never print it, see :meth:`redact`)."""
        check_source(source)
        check_day_range(days)
        return (
            f"{self.base_url}/api/{region.endpoint}/csv/{self._key}/{source}/"
            f"{region.segment}/{days}/{first.isoformat()}"
        )

    def fetch(self, source: str, region: Region, first: date, days: int) -> FirmsPage:
        """Detections of ``source`` in ``region`` on the days ``first`` .. ``first + days - 1``.

        Raises
        ------
        FirmsParameterError
            Unknown source or a day range outside 1..10.
        FirmsKeyError, FirmsRateLimitError, FirmsResponseError, FirmsApiError
            The request failed (after the retries it deserved).
        """
        url = self.url(source, region, first, days)
        shown = self.redact(url)
        body, rows, attempts = self._get(url, shown, is_csv=True)
        return FirmsPage(source, region, first, days, shown, body, rows, attempts)

    def fetch_range(
        self,
        source: str,
        region: Region,
        start: date,
        end: date,
        day_range: int = MAX_DAY_RANGE,
    ) -> Iterator[FirmsPage]:
        """Pages of ``day_range`` days covering ``start`` .. ``end`` (inclusive), in order."""
        check_source(source)
        for first, days in date_pages(start, end, day_range):
            yield self.fetch(source, region, first, days)

    def key_status(self) -> KeyStatus:
        """Transactions used and allowed in the current interval for this key."""
        url = f"{self.base_url}/mapserver/mapkey_status/?MAP_KEY={self._key}"
        shown = self.redact(url)
        body, _, _ = self._get(url, shown, is_csv=False)
        try:
            data = json.loads(body)
            return KeyStatus(
                int(data["transaction_limit"]),
                int(data["current_transactions"]),
                str(data.get("transaction_interval", "")),
            )
        except (ValueError, KeyError, TypeError):
            raise _text_error(body, shown, 200, self._key) from None

    # -- internals ------------------------------------------------------------------------
    def _pace(self) -> None:
        """Wait until ``min_interval_s`` has passed since the last request began."""
        if self._last_start is not None and self.min_interval_s > 0:
            wait = self._last_start + self.min_interval_s - self._clock.monotonic()
            if wait > 0:
                self._clock.sleep(wait)
        self._last_start = self._clock.monotonic()

    def _attempt(self, url: str, shown: str, is_csv: bool) -> tuple[bytes, int]:
        """One request: the body and its row count (-1 unless ``is_csv``).

        Raises :class:`_RetryableError` for failures worth repeating.
        """
        try:
            answer = self._transport(url, self.timeout_s)
        except (OSError, http.client.HTTPException) as exc:
            reason = self.redact(str(exc) or type(exc).__name__)
            failed = FirmsApiError(f"connection failed: {reason}", url=shown)
            raise _RetryableError(failed) from None
        status = answer.status
        if status == 200:
            if not is_csv:
                return answer.body, -1
            try:
                return answer.body, check_csv(answer.body, url=shown, key=self._key)
            except FirmsTruncatedError as exc:
                raise _RetryableError(exc) from None
        headers = {name.lower(): value for name, value in answer.headers.items()}
        retry_after = parse_retry_after(headers.get("retry-after"), self._clock.now())
        excerpt = self.redact(_excerpt(answer.body))
        detail = f": {excerpt!r}" if excerpt else ""
        if status == 429:
            limited = FirmsRateLimitError(
                f"HTTP 429 Too Many Requests{detail}", url=shown, status=status
            )
            raise _RetryableError(limited, retry_after)
        if 500 <= status <= 599:
            failed = FirmsApiError(f"HTTP {status}{detail}", url=shown, status=status)
            raise _RetryableError(failed, retry_after)
        if b"map_key" in answer.body.lower():
            raise _text_error(answer.body, shown, status, self._key)
        raise FirmsApiError(f"HTTP {status}{detail}", url=shown, status=status)

    def _get(self, url: str, shown: str, is_csv: bool) -> tuple[bytes, int, int]:
        """GET with pacing and retries: ``(body, rows, attempts)``."""
        attempt = 0
        while True:
            attempt += 1
            self._pace()
            try:
                body, rows = self._attempt(url, shown, is_csv)
                return body, rows, attempt
            except _RetryableError as retry:
                self._wait_or_raise(retry, attempt, shown)

    def _wait_or_raise(self, retry: _RetryableError, attempt: int, shown: str) -> None:
        """Sleep before the next attempt, or raise when the policy says stop."""
        policy = self.retry
        error = retry.error
        if attempt >= policy.max_attempts:
            raise type(error)(
                f"{error.message} (gave up after {attempt} attempt(s))",
                url=shown,
                status=error.status,
            ) from None
        if retry.retry_after_s is not None:
            if retry.retry_after_s > policy.max_retry_after_s:
                raise type(error)(
                    f"{error.message}; the server asks to wait {retry.retry_after_s:.0f} s "
                    f"(more than {policy.max_retry_after_s:.0f} s): poll again later",
                    url=shown,
                    status=error.status,
                ) from None
            delay = retry.retry_after_s
        else:
            delay = policy.backoff_s(attempt, self._rng)
        logger.warning("%s: %s; retry %d in %.1f s", shown, error.message, attempt, delay)
        if self._on_retry is not None:
            self._on_retry(RetryEvent(shown, attempt, delay, error.message))
        self._clock.sleep(delay)
