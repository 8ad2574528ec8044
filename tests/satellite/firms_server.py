"""A local stand-in for the NASA FIRMS area/country API, with scripted failures.

:class:`FirmsServer` runs a :class:`http.server.ThreadingHTTPServer` on
127.0.0.1 (a free port) in a thread. By default it answers like FIRMS:

* ``/api/area/csv/{KEY}/{SOURCE}/{W,S,E,N}/{DAY_RANGE}/{DATE}`` and
  ``/api/country/csv/{KEY}/{SOURCE}/{ISO3}/{DAY_RANGE}/{DATE}`` with a CSV in the
  real FIRMS API column layout (VIIRS 375 m or MODIS C6.1; the country API adds a
  leading ``country_id`` column), a few made-up but plausible detections per day,
  the same every time for the same day (seeded by source, region and date);
* a wrong key with HTTP 200 and ``Invalid MAP_KEY.``, as FIRMS does;
* ``/mapserver/mapkey_status/?MAP_KEY=`` with the key's transaction count as JSON.

Tests script departures from that: :meth:`FirmsServer.queue` lines up answers
for the next data requests (:class:`Reply` for any status, body and headers,
:class:`Drop` for a connection closed without an answer, :class:`Truncate` for
a body cut short, :data:`SERVE` for the normal answer), and
:meth:`FirmsServer.fail_after` makes every data request after the next ``n``
fail. :meth:`FirmsServer.revise` adds detections to a day, as FIRMS does while
near-real-time data is completed.
"""

from __future__ import annotations

import json
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

KEY = "0123456789abcdef0123456789abcdef"

VIIRS_COLUMNS = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_ti5,frp,daynight"
)
MODIS_COLUMNS = (
    "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_t31,frp,daynight"
)
#: Source -> (instrument, satellite codes as the API writes them, version).
SOURCE_TABLE: dict[str, tuple[str, tuple[str, ...], str]] = {
    "VIIRS_NOAA20_NRT": ("VIIRS", ("N20",), "2.0NRT"),
    "VIIRS_NOAA20_SP": ("VIIRS", ("N20",), "2"),
    "VIIRS_NOAA21_NRT": ("VIIRS", ("N21",), "2.0NRT"),
    "VIIRS_SNPP_NRT": ("VIIRS", ("N",), "2.0NRT"),
    "VIIRS_SNPP_SP": ("VIIRS", ("N",), "2"),
    "MODIS_NRT": ("MODIS", ("Aqua", "Terra"), "6.1NRT"),
    "MODIS_SP": ("MODIS", ("Aqua", "Terra"), "6.03"),
}
#: Boxes (W, S, E, N) of the countries the server knows.
COUNTRIES = {"UKR": (22.1, 44.4, 40.2, 52.4)}


@dataclass(frozen=True)
class Reply:
    """Answer with this status, body and headers."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering."""


@dataclass(frozen=True)
class Truncate:
    """Answer 200 with the normal body's length announced but only half of it sent."""


@dataclass(frozen=True)
class Serve:
    """Answer normally."""


SERVE = Serve()
Action = Reply | Drop | Truncate | Serve


@dataclass(frozen=True)
class Seen:
    """A request the server received."""

    path: str
    endpoint: str = ""
    key: str = ""
    source: str = ""
    region: str = ""
    days: int = 0
    first: date | None = None


@dataclass
class _State:
    key: str
    rows_per_day: int
    script: deque[Action] = field(default_factory=deque)
    fail_countdown: int | None = None
    fail_action: Action = SERVE
    extra: dict[tuple[str, str, date], int] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)


def _bbox(endpoint: str, region: str) -> tuple[float, float, float, float] | None:
    if endpoint == "country":
        return COUNTRIES.get(region)
    try:
        west, south, east, north = (float(part) for part in region.split(","))
    except ValueError:
        return None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return None
    return west, south, east, north


def detection_rows(source: str, endpoint: str, region: str, day: date, count: int) -> list[str]:
    """``count`` plausible detections of ``source`` on ``day`` in the region, by time."""
    instrument, satellites, version = SOURCE_TABLE[source]
    box = _bbox(endpoint, region)
    assert box is not None
    west, south, east, north = box
    rows = []
    for index in range(count):
        rng = random.Random(f"{source}|{endpoint}|{region}|{day}|{index}")
        lat = round(rng.uniform(south, north), 5)
        lon = round(rng.uniform(west, east), 5)
        night = rng.random() < 0.5
        hour = rng.choice((0, 1)) if night else rng.choice((9, 10, 11))
        minute = rng.randrange(60)
        satellite = rng.choice(satellites)
        if instrument == "VIIRS":
            brightness = (f"{rng.uniform(295, 367):.2f}", f"{rng.uniform(270, 300):.2f}")
            pixel = (f"{rng.uniform(0.32, 0.8):.2f}", f"{rng.uniform(0.36, 0.78):.2f}")
            confidence = rng.choice("lnh")
            frp = f"{rng.uniform(0.3, 60):.2f}"
        else:
            brightness = (f"{rng.uniform(300, 400):.2f}", f"{rng.uniform(270, 300):.2f}")
            pixel = (f"{rng.uniform(1.0, 4.5):.2f}", f"{rng.uniform(1.0, 2.0):.2f}")
            confidence = str(rng.randrange(101))
            frp = f"{rng.uniform(2, 200):.2f}"
        fields = [
            f"{lat}",
            f"{lon}",
            brightness[0],
            *pixel,
            day.isoformat(),
            f"{hour:02d}{minute:02d}",
            satellite,
            instrument,
            confidence,
            version,
            brightness[1],
            frp,
            "N" if night else "D",
        ]
        prefix = [region] if endpoint == "country" else []
        rows.append(",".join([*prefix, *fields]))
    time_column = 7 if endpoint == "country" else 6
    return sorted(rows, key=lambda row: row.split(",")[time_column])


class FirmsServer:
    """The FIRMS stand-in; use as a context manager or call start/stop.

    Parameters
    ----------
    key
        The MAP_KEY it accepts.
    rows_per_day
        Detections per source, region and day before any :meth:`revise`.
    """

    def __init__(self, key: str = KEY, rows_per_day: int = 3) -> None:
        self._state = _State(key, rows_per_day)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> FirmsServer:
        """Start serving on a free port of 127.0.0.1."""
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.firms = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FirmsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- scripting --------------------------------------------------------------------------
    def queue(self, *actions: Action) -> None:
        """Answer the next data requests with ``actions``, in order, then normally."""
        with self._lock:
            self._state.script.extend(actions)

    def fail_after(self, count: int, action: Action) -> None:
        """Answer the next ``count`` data requests normally, then every one with ``action``."""
        with self._lock:
            self._state.fail_countdown = count
            self._state.fail_action = action

    def heal(self) -> None:
        """Undo :meth:`fail_after` and drop queued answers."""
        with self._lock:
            self._state.fail_countdown = None
            self._state.script.clear()

    def revise(self, source: str, region: str, day: date, added: int = 1) -> None:
        """Add ``added`` detections to a day (region as in the URL: ``W,S,E,N`` or ``ISO3``)."""
        with self._lock:
            key = (source, region, day)
            self._state.extra[key] = self._state.extra.get(key, 0) + added

    def set_rows_per_day(self, count: int) -> None:
        """Serve ``count`` detections per day (before revisions) from now on."""
        with self._lock:
            self._state.rows_per_day = count

    @property
    def requests(self) -> list[Seen]:
        """Requests received so far."""
        with self._lock:
            return list(self._state.seen)

    @property
    def data_requests(self) -> list[Seen]:
        """Area and country requests received so far."""
        return [seen for seen in self.requests if seen.endpoint in ("area", "country")]

    # -- answers ----------------------------------------------------------------------------
    def csv(self, endpoint: str, source: str, region: str, first: date, days: int) -> bytes:
        """The normal answer to a data request."""
        instrument = SOURCE_TABLE[source][0]
        header = VIIRS_COLUMNS if instrument == "VIIRS" else MODIS_COLUMNS
        if endpoint == "country":
            header = "country_id," + header
        lines = [header]
        with self._lock:
            extra = dict(self._state.extra)
            per_day = self._state.rows_per_day
        for offset in range(days):
            day = first + timedelta(days=offset)
            count = per_day + extra.get((source, region, day), 0)
            lines.extend(detection_rows(source, endpoint, region, day, count))
        return ("\n".join(lines) + "\n").encode("ascii")

    def _action(self) -> Action:
        with self._lock:
            state = self._state
            if state.script:
                return state.script.popleft()
            if state.fail_countdown is not None:
                if state.fail_countdown == 0:
                    return state.fail_action
                state.fail_countdown -= 1
            return SERVE

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self._state.seen.append(seen)

    def _key_status(self, raw_path: str) -> Reply:
        key = parse_qs(urlsplit(raw_path).query).get("MAP_KEY", [""])[0]
        self._record(Seen(raw_path, "mapkey_status", key))
        if key != self._state.key:
            return Reply(200, b"Invalid MAP_KEY.")
        status = {
            "transaction_limit": 5000,
            "current_transactions": len(self.data_requests),
            "transaction_interval": "10 minutes",
        }
        return Reply(200, json.dumps(status).encode(), (("Content-Type", "application/json"),))

    def answer(self, raw_path: str) -> tuple[Action, bytes]:
        """What to do with a request, and the normal body (sent in part by :class:`Truncate`)."""
        parts = urlsplit(raw_path).path.strip("/").split("/")
        if parts[:2] == ["mapserver", "mapkey_status"]:
            return self._key_status(raw_path), b""
        if len(parts) != 8 or parts[0] != "api" or parts[2] != "csv":
            self._record(Seen(raw_path))
            return Reply(404, b"Not Found"), b""
        _, endpoint, _, key, source, region, days_text, date_text = parts
        try:
            days = int(days_text)
            first: date | None = date.fromisoformat(date_text)
        except ValueError:
            days, first = 0, None
        self._record(Seen(raw_path, endpoint, key, source, region, days, first))
        action = self._action()
        if isinstance(action, Reply | Drop):
            return action, b""
        if key != self._state.key:
            return Reply(200, b"Invalid MAP_KEY."), b""
        if source not in SOURCE_TABLE:
            return Reply(400, b"Invalid source."), b""
        if first is None or not 1 <= days <= 10:
            return Reply(200, b"Invalid day range. Expects [1..10]."), b""
        if endpoint not in ("area", "country") or _bbox(endpoint, region) is None:
            return Reply(200, b"Invalid area coordinate"), b""
        return action, self.csv(endpoint, source, region, first, days)


class _Handler(BaseHTTPRequestHandler):
    """Serves one request of :class:`FirmsServer`."""

    def do_GET(self) -> None:
        firms: FirmsServer = self.server.firms  # type: ignore[attr-defined]
        action, body = firms.answer(self.path)
        if isinstance(action, Drop):
            self.close_connection = True
            return
        if isinstance(action, Truncate):
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if isinstance(action, Serve):
            action = Reply(200, body, (("Content-Type", "text/csv"),))
        self.send_response(action.status)
        for name, value in action.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(action.body)))
        self.end_headers()
        self.wfile.write(action.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""
