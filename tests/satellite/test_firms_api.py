"""The FIRMS area/country API client against a local stand-in server."""

from __future__ import annotations

import logging
import random
import socket
from datetime import date, timedelta
from email.utils import format_datetime

import pytest

from satellite.conftest import FakeClock
from satellite.firms_server import (
    KEY,
    MODIS_COLUMNS,
    SERVE,
    VIIRS_COLUMNS,
    Drop,
    FirmsServer,
    Reply,
    Truncate,
)
from truceline.satellite.firms_api import (
    Area,
    Country,
    FirmsApiError,
    FirmsClient,
    FirmsKeyError,
    FirmsParameterError,
    FirmsRateLimitError,
    FirmsResponseError,
    RetryPolicy,
    check_csv,
    date_pages,
    parse_date,
)

AREA = Area(30.0, 44.5, 40.0, 52.0)
D1 = date(2025, 8, 1)


def make_client(server: FirmsServer, clock: FakeClock, **options: object) -> FirmsClient:
    settings: dict[str, object] = {
        "base_url": server.base_url,
        "clock": clock,
        "rng": random.Random(1),
        "min_interval_s": 0.0,
        "timeout_s": 10.0,
    }
    settings.update(options)
    return FirmsClient(str(settings.pop("key", KEY)), **settings)  # type: ignore[arg-type]


# -- URLs, parameters, paging ---------------------------------------------------------------
def test_area_request_url_and_body(firms_server: FirmsServer, firms_client: FirmsClient) -> None:
    page = firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 10)
    [seen] = firms_server.requests
    assert seen.path == f"/api/area/csv/{KEY}/VIIRS_NOAA20_NRT/30,44.5,40,52/10/2025-08-01"
    assert page.body == firms_server.csv("area", "VIIRS_NOAA20_NRT", "30,44.5,40,52", D1, 10)
    assert page.body.decode().splitlines()[0] == VIIRS_COLUMNS
    assert page.rows == 3 * 10
    assert (page.first, page.last, page.attempts) == (D1, date(2025, 8, 10), 1)
    assert KEY not in page.url
    assert page.url.endswith("/api/area/csv/<MAP_KEY>/VIIRS_NOAA20_NRT/30,44.5,40,52/10/2025-08-01")


def test_country_request_url_and_body(firms_server: FirmsServer, firms_client: FirmsClient) -> None:
    page = firms_client.fetch("MODIS_NRT", Country("ukr"), date(2025, 8, 3), 1)
    [seen] = firms_server.requests
    assert seen.path == f"/api/country/csv/{KEY}/MODIS_NRT/UKR/1/2025-08-03"
    lines = page.body.decode().splitlines()
    assert lines[0] == "country_id," + MODIS_COLUMNS
    assert all(line.startswith("UKR,") for line in lines[1:])
    assert page.rows == 3


@pytest.mark.parametrize(
    ("area", "text"),
    [
        (Area(30.0, 44.5, 40.0, 52.0), "30,44.5,40,52"),
        (Area(-10.25, -0.00001, 10, 0.5), "-10.25,-0.00001,10,0.5"),
        (Area(-180, -90, 180, 90), "-180,-90,180,90"),
        (Area.parse(" 37.125 , 47.0,38.5,48 "), "37.125,47,38.5,48"),
    ],
)
def test_bbox_formatting(area: Area, text: str) -> None:
    assert area.text == text
    assert area.key == f"area:{text}"
    assert area.label == text.replace(",", "_")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("40,44,30,52", "west < east"),
        ("30,52,40,44", "south < north"),
        ("30,44,190,52", "west < east"),
        ("30,-91,40,52", "south < north"),
        ("a,44,40,52", "must be numbers"),
        ("30,44,40", "four numbers"),
        ("30,44,40,nan", "finite"),
    ],
)
def test_bad_area_is_refused(text: str, needle: str) -> None:
    with pytest.raises(FirmsParameterError, match=needle):
        Area.parse(text)


def test_bad_parameters_are_refused_before_any_request(
    firms_server: FirmsServer, firms_client: FirmsClient
) -> None:
    with pytest.raises(FirmsParameterError, match="unknown FIRMS source 'VIIRS'"):
        firms_client.fetch("VIIRS", AREA, D1, 1)
    with pytest.raises(FirmsParameterError, match=r"1\.\.10"):
        firms_client.fetch("MODIS_NRT", AREA, D1, 11)
    with pytest.raises(FirmsParameterError, match=r"1\.\.10"):
        firms_client.fetch("MODIS_NRT", AREA, D1, 0)
    with pytest.raises(FirmsParameterError, match="alpha-3"):
        Country("UK")
    with pytest.raises(FirmsParameterError, match="YYYY-MM-DD"):
        parse_date("2025-8-1")
    with pytest.raises(FirmsParameterError, match="month must be"):
        parse_date("2025-13-01")
    assert firms_server.requests == []


def test_date_paging_splits_25_days_into_10_10_5(
    firms_server: FirmsServer, firms_client: FirmsClient
) -> None:
    end = D1 + timedelta(days=24)
    assert date_pages(D1, end) == [(D1, 10), (date(2025, 8, 11), 10), (date(2025, 8, 21), 5)]
    pages = list(firms_client.fetch_range("VIIRS_SNPP_NRT", AREA, D1, end))
    assert [(p.first, p.last) for p in pages] == [
        (D1, date(2025, 8, 10)),
        (date(2025, 8, 11), date(2025, 8, 20)),
        (date(2025, 8, 21), end),
    ]
    assert [(s.first, s.days) for s in firms_server.requests] == [
        (D1, 10),
        (date(2025, 8, 11), 10),
        (date(2025, 8, 21), 5),
    ]
    # every day of the range is served exactly once
    days = [line.split(",")[5] for p in pages for line in p.body.decode().splitlines()[1:]]
    assert sorted(set(days)) == [(D1 + timedelta(days=i)).isoformat() for i in range(25)]
    assert len(days) == 3 * 25


def test_date_paging_other_sizes() -> None:
    assert date_pages(D1, D1, 10) == [(D1, 1)]
    assert date_pages(D1, D1 + timedelta(days=6), 3) == [
        (D1, 3),
        (D1 + timedelta(days=3), 3),
        (D1 + timedelta(days=6), 1),
    ]
    with pytest.raises(FirmsParameterError, match="before start"):
        date_pages(D1, D1 - timedelta(days=1))
    with pytest.raises(FirmsParameterError):
        date_pages(D1, D1, 11)


# -- retries --------------------------------------------------------------------------------
def test_5xx_is_retried_with_exponential_backoff(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Reply(500, b"Internal Server Error"), Reply(503), Reply(502))
    page = firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 2)
    assert page.attempts == 4
    assert page.rows == 6
    assert fake_clock.sleeps == [2.0, 4.0, 8.0]
    assert len(firms_server.requests) == 4


def test_backoff_jitter_stays_in_bounds_is_capped_and_seeded(
    firms_server: FirmsServer, fake_clock: FakeClock
) -> None:
    policy = RetryPolicy(max_attempts=6, base_delay_s=10.0, max_delay_s=15.0, jitter=0.25)
    firms_server.queue(*[Reply(500)] * 5)
    make_client(firms_server, fake_clock, retry=policy, rng=random.Random(7)).fetch(
        "MODIS_NRT", AREA, D1, 1
    )
    nominal = [10.0, 15.0, 15.0, 15.0, 15.0]
    assert len(fake_clock.sleeps) == 5
    for slept, expected in zip(fake_clock.sleeps, nominal, strict=True):
        assert expected * 0.75 <= slept <= expected * 1.25
    assert len(set(fake_clock.sleeps)) == 5  # jittered, not constant
    # the same seed gives the same schedule; another seed another one
    again, other = FakeClock(), FakeClock()
    firms_server.queue(*[Reply(500)] * 5)
    make_client(firms_server, again, retry=policy, rng=random.Random(7)).fetch(
        "MODIS_NRT", AREA, D1, 1
    )
    firms_server.queue(*[Reply(500)] * 5)
    make_client(firms_server, other, retry=policy, rng=random.Random(8)).fetch(
        "MODIS_NRT", AREA, D1, 1
    )
    assert again.sleeps == fake_clock.sleeps
    assert other.sleeps != fake_clock.sleeps


def test_429_honours_retry_after_seconds(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Reply(429, b"Too Many Requests", (("Retry-After", "7"),)))
    page = firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert (page.attempts, fake_clock.sleeps) == (2, [7.0])


def test_429_honours_retry_after_http_date(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    when = format_datetime(fake_clock.now() + timedelta(seconds=30), usegmt=True)
    firms_server.queue(Reply(429, b"", (("Retry-After", when),)))
    firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert fake_clock.sleeps == [30.0]


def test_429_without_retry_after_backs_off(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Reply(429), Reply(429))
    firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert fake_clock.sleeps == [2.0, 4.0]


def test_retry_after_beyond_the_limit_fails_at_once(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Reply(429, b"slow down", (("Retry-After", "3600"),)))
    with pytest.raises(FirmsRateLimitError, match="3600 s") as caught:
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert caught.value.status == 429
    assert (len(firms_server.requests), fake_clock.sleeps) == (1, [])


def test_gives_up_after_max_attempts(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.fail_after(0, Reply(500, b"down for maintenance"))
    with pytest.raises(FirmsApiError, match=r"HTTP 500.*gave up after 5 attempt") as caught:
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert caught.value.status == 500
    assert len(firms_server.requests) == 5
    assert fake_clock.sleeps == [2.0, 4.0, 8.0, 16.0]


def test_400_is_not_retried(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Reply(400, b"Bad Request: invalid date"))
    with pytest.raises(FirmsApiError, match=r"HTTP 400.*invalid date") as caught:
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert type(caught.value) is FirmsApiError
    assert (len(firms_server.requests), fake_clock.sleeps) == (1, [])


def test_dropped_connections_and_cut_bodies_are_retried(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Drop(), Truncate())
    page = firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 3)
    assert page.attempts == 3
    assert page.body == firms_server.csv("area", "VIIRS_NOAA20_NRT", AREA.text, D1, 3)
    assert fake_clock.sleeps == [2.0, 4.0]


def test_a_csv_line_cut_short_is_retried(
    firms_server: FirmsServer, firms_client: FirmsClient, fake_clock: FakeClock
) -> None:
    firms_server.queue(Reply(200, (VIIRS_COLUMNS + "\n48.1,37.2,300.1,0.4\n").encode()))
    page = firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert (page.attempts, page.rows) == (2, 3)


def test_connection_refused_fails_after_retries(fake_clock: FakeClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = FirmsClient(
        KEY,
        base_url=f"http://127.0.0.1:{port}",
        clock=fake_clock,
        min_interval_s=0.0,
        retry=RetryPolicy(max_attempts=3, jitter=0.0),
        timeout_s=5.0,
    )
    with pytest.raises(FirmsApiError, match=r"connection failed.*gave up after 3") as caught:
        client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert KEY not in str(caught.value)
    assert fake_clock.sleeps == [2.0, 4.0]


# -- FIRMS errors in 200 bodies -------------------------------------------------------------
def test_invalid_key_in_a_200_body_is_a_key_error_not_retried(
    firms_server: FirmsServer, fake_clock: FakeClock
) -> None:
    wrong = "ffffffffffffffffffffffffffffffff"
    client = make_client(firms_server, fake_clock, key=wrong)
    with pytest.raises(FirmsKeyError, match="Invalid MAP_KEY") as caught:
        client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert firms_server.requests[0].key == wrong
    assert wrong not in str(caught.value)
    assert "<MAP_KEY>" in str(caught.value)
    assert (len(firms_server.requests), fake_clock.sleeps) == (1, [])


def test_invalid_key_with_http_400_is_a_key_error(
    firms_server: FirmsServer, firms_client: FirmsClient
) -> None:
    firms_server.queue(Reply(400, b"Invalid MAP_KEY."))
    with pytest.raises(FirmsKeyError) as caught:
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert caught.value.status == 400
    assert len(firms_server.requests) == 1


@pytest.mark.parametrize(
    ("body", "error", "needle"),
    [
        (b"Invalid area coordinate", FirmsResponseError, "Invalid area coordinate"),
        (
            b"Exceeding allowed transaction limit. Please wait.",
            FirmsRateLimitError,
            "transaction limit",
        ),
        (b"<html><body>Service unavailable</body></html>", FirmsResponseError, "<html>"),
        (b"", FirmsResponseError, "empty body"),
        (b"LATITUDE,LONGITUDE,ACQ_DATE\n48.1,37.2,2025-08-01\n", FirmsResponseError, "LATITUDE"),
    ],
)
def test_text_in_a_200_body_is_refused(
    firms_server: FirmsServer,
    firms_client: FirmsClient,
    fake_clock: FakeClock,
    body: bytes,
    error: type[Exception],
    needle: str,
) -> None:
    firms_server.queue(Reply(200, body))
    with pytest.raises(error, match=needle):
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert (len(firms_server.requests), fake_clock.sleeps) == (1, [])


def test_header_only_csv_means_no_detections(
    firms_server: FirmsServer, firms_client: FirmsClient
) -> None:
    firms_server.queue(Reply(200, (VIIRS_COLUMNS + "\n").encode()))
    page = firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert (page.rows, page.attempts) == (0, 1)
    assert page.body == (VIIRS_COLUMNS + "\n").encode()


def test_check_csv_counts_rows_and_accepts_both_headers() -> None:
    assert check_csv((VIIRS_COLUMNS + "\r\n").encode()) == 0
    row = "48.1,37.2,300.1,0.4,0.4,2025-08-01,0045,N,VIIRS,n,2.0NRT,280.1,1.5,N"
    assert check_csv(f"{VIIRS_COLUMNS}\n{row}\n\n{row}".encode()) == 2
    assert check_csv(f"country_id,{VIIRS_COLUMNS}\nUKR,{row}\n".encode()) == 1
    with pytest.raises(FirmsResponseError):
        check_csv(f"{VIIRS_COLUMNS}\nUKR,{row}\n".encode())


# -- the key --------------------------------------------------------------------------------
def test_key_comes_from_the_environment() -> None:
    with pytest.raises(FirmsKeyError, match="FIRMS_MAP_KEY"):
        FirmsClient.from_env(environ={})
    with pytest.raises(FirmsKeyError, match="FIRMS_MAP_KEY"):
        FirmsClient.from_env(environ={"FIRMS_MAP_KEY": "  "})
    client = FirmsClient.from_env(environ={"FIRMS_MAP_KEY": KEY})
    assert client.base_url == "https://firms.modaps.eosdis.nasa.gov"
    env = {"FIRMS_MAP_KEY": KEY, "FIRMS_BASE_URL": "http://127.0.0.1:9/"}
    assert FirmsClient.from_env(environ=env).base_url == "http://127.0.0.1:9"
    assert FirmsClient.from_env(environ=env, base_url="https://x.test").base_url == "https://x.test"
    assert KEY not in repr(client)


def test_malformed_key_and_base_url_are_refused_without_echoing_the_key() -> None:
    bad = "abc/def?x=1"
    with pytest.raises(FirmsKeyError) as caught:
        FirmsClient(bad)
    assert bad not in str(caught.value)
    with pytest.raises(FirmsParameterError, match="http"):
        FirmsClient(KEY, base_url="ftp://example.org")
    with pytest.raises(FirmsParameterError, match="http"):
        FirmsClient(KEY, base_url="file:///etc/passwd")


def test_the_key_never_shows_in_errors_or_logs(
    firms_server: FirmsServer, firms_client: FirmsClient, caplog: pytest.LogCaptureFixture
) -> None:
    firms_server.fail_after(0, Reply(503, f"cannot serve /api/area/csv/{KEY}/x".encode()))
    with (
        caplog.at_level(logging.WARNING, logger="truceline.satellite.firms_api"),
        pytest.raises(FirmsApiError) as caught,
    ):
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert len(caplog.records) == 4
    shown = [str(caught.value), caught.value.url or "", *(r.getMessage() for r in caplog.records)]
    assert all(KEY not in text for text in shown)
    assert all("<MAP_KEY>" in text for text in shown)


def test_min_interval_paces_requests(firms_server: FirmsServer, fake_clock: FakeClock) -> None:
    client = make_client(firms_server, fake_clock, min_interval_s=1.5)
    for _ in range(3):
        client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert fake_clock.sleeps == [1.5, 1.5]
    fake_clock.sleep(10.0)  # time passing outside the client needs no pacing
    client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    assert fake_clock.sleeps == [1.5, 1.5, 10.0]


def test_key_status(firms_server: FirmsServer, firms_client: FirmsClient) -> None:
    firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
    status = firms_client.key_status()
    assert (status.transaction_limit, status.current_transactions) == (5000, 1)
    assert status.transaction_interval == "10 minutes"
    assert firms_server.requests[-1].path == f"/mapserver/mapkey_status/?MAP_KEY={KEY}"


def test_key_status_with_a_refused_key(firms_server: FirmsServer, fake_clock: FakeClock) -> None:
    with pytest.raises(FirmsKeyError, match="Invalid MAP_KEY") as caught:
        make_client(firms_server, fake_clock, key="abc123").key_status()
    assert "abc123" not in str(caught.value)


def test_serve_sentinel_passes_through(
    firms_server: FirmsServer, firms_client: FirmsClient
) -> None:
    firms_server.queue(SERVE, Reply(400))
    assert firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1).rows == 3
    with pytest.raises(FirmsApiError, match="HTTP 400"):
        firms_client.fetch("VIIRS_NOAA20_NRT", AREA, D1, 1)
