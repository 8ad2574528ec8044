"""``truceline run --follow``: keep a run up to date as observations arrive.

The loop watches the home's evidence log without holding it: it polls the size
of the log's tree-head file (every append writes a head), and only when that
changes opens the home — taking the writer lock, waiting if an ingest holds
it — lets the :class:`~truceline.live.LiveEngine` read and record what was
appended, and closes it again so that ``truceline ingest`` in another process
can append in between. Each update is reported to a callback.

Stopping: ``once`` makes one pass; ``until_idle`` stops after ``idle_s``
seconds without new entries; otherwise the loop runs until interrupted. The
first Ctrl-C (SIGINT) or a SIGTERM lets the current pass finish (a recorded
update is written whole or not at all: the log appends batches atomically)
and stops; a second Ctrl-C interrupts at once.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from truceline.evidence.log import HEADS
from truceline.fusion.config import FusionConfig
from truceline.live import LiveEngine, Update
from truceline.workspace import Workspace

__all__ = ["FollowSummary", "follow"]


@dataclass
class FollowSummary:
    """What a follow session did.

    Attributes
    ----------
    passes
        Times the log was read.
    updates
        Updates that changed events or findings.
    observations
        Observations processed (those in the log at start included).
    log_size
        Log entries the final state reflects.
    events_digest, findings_digest
        Digests of the final state (equal to a batch run's on the same log).
    interrupted
        Whether a signal stopped it.
    """

    passes: int = 0
    updates: int = 0
    observations: int = 0
    log_size: int = 0
    events_digest: str = ""
    findings_digest: str = ""
    interrupted: bool = False


def _heads_size(home: Path) -> int:
    try:
        return (home / "log" / HEADS).stat().st_size
    except FileNotFoundError:
        return -1


@contextmanager
def _graceful(stop: threading.Event) -> Iterator[None]:
    """First SIGINT/SIGTERM sets ``stop``; a second SIGINT raises at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def follow(
    home: Path,
    config: FusionConfig | None = None,
    *,
    poll_s: float = 1.0,
    once: bool = False,
    until_idle: bool = False,
    idle_s: float | None = None,
    lock_wait_s: float = 30.0,
    on_update: Callable[[Update], None] | None = None,
    stop: threading.Event | None = None,
) -> FollowSummary:
    """Follow a home's evidence log, keeping its run up to date.

    Parameters
    ----------
    home
        The home directory.
    config
        Fusion parameters.
    poll_s
        Seconds between looks at the log.
    once
        Make one pass and return.
    until_idle
        Return after ``idle_s`` seconds (default ``2 * poll_s``) in which
        nothing new arrived.
    lock_wait_s
        How long to wait for the log's lock held by another process, seconds.
    on_update
        Called with every pass's :class:`~truceline.live.Update`.
    stop
        Set it (from another thread) to stop after the current pass.
    """
    stop = stop or threading.Event()
    idle_s = 2.0 * poll_s if idle_s is None else idle_s
    engine = LiveEngine(None, config)
    summary = FollowSummary()
    seen = -2
    last_news = time.monotonic()
    with _graceful(stop):
        while not stop.is_set():
            size = _heads_size(home)
            if size != seen:
                with Workspace(home, wait_s=lock_wait_s) as workspace:
                    engine.attach(workspace)
                    update = engine.start() if summary.passes == 0 else engine.poll()
                    engine.attach(None)
                seen = _heads_size(home)
                summary.passes += 1
                summary.observations += update.observations
                summary.updates += int(update.changed)
                summary.log_size = engine.log_size
                if update.observations or update.changed:
                    last_news = time.monotonic()
                if on_update is not None:
                    on_update(update)
            if once or (until_idle and time.monotonic() - last_news >= idle_s):
                break
            stop.wait(poll_s)
        summary.interrupted = stop.is_set()
    summary.events_digest = engine.events_digest
    summary.findings_digest = engine.findings_digest
    return summary
