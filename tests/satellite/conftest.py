"""Fixtures shared by the satellite tests."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from satellite.firms_server import KEY, FirmsServer
from truceline.satellite.firms_api import FirmsClient, RetryPolicy


# -- FIRMS API (tests/satellite/test_firms_api.py, test_firms_poll.py) ----------------------
class FakeClock:
    """A clock for the FIRMS client: sleeping only advances it, and is recorded.

    Parameters
    ----------
    start
        Wall-clock time at monotonic 0 (UTC).
    """

    def __init__(self, start: datetime = datetime(2025, 8, 27, 12, tzinfo=UTC)) -> None:
        self.start = start
        self.elapsed_s = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.elapsed_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed_s += seconds

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed_s)


@pytest.fixture
def firms_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FirmsServer]:
    """A running FIRMS stand-in on 127.0.0.1 (proxies bypassed for it)."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with FirmsServer() as server:
        yield server


@pytest.fixture
def fake_clock() -> FakeClock:
    """A fresh :class:`FakeClock`."""
    return FakeClock()


@pytest.fixture
def firms_client(firms_server: FirmsServer, fake_clock: FakeClock) -> FirmsClient:
    """A client of ``firms_server`` with the fake clock, seeded jitter and no pacing."""
    return FirmsClient(
        KEY,
        base_url=firms_server.base_url,
        clock=fake_clock,
        rng=random.Random(1),
        min_interval_s=0.0,
        retry=RetryPolicy(max_attempts=5, base_delay_s=2.0, jitter=0.0),
        timeout_s=10.0,
    )
