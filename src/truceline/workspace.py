"""A truceline home directory: the evidence log plus its projection store.

Layout::

    HOME/log/            the evidence log (source of truth)
    HOME/store.sqlite    the SQLite projection (disposable: ``store rebuild``)

Opening a workspace takes the log's writer lock and brings the store up to date
with the log, so a crash between appending to the log and projecting into the
store loses nothing: the next open projects the missing entries.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType

from truceline.evidence.log import EvidenceLog, LogBusyError
from truceline.store.sqlite import SQLiteStore

__all__ = ["DEFAULT_HOME", "Workspace", "resolve_home"]

DEFAULT_HOME = Path(".truceline")


def resolve_home(home: Path | None) -> Path:
    """``home`` if given, else ``$TRUCELINE_HOME``, else ``./.truceline``."""
    if home is not None:
        return home
    env = os.environ.get("TRUCELINE_HOME")
    return Path(env) if env else DEFAULT_HOME


class Workspace:
    """The log and store of one home directory, opened together.

    Parameters
    ----------
    home
        The home directory (created if missing).
    wait_s
        How long to wait for the log's writer lock when another process (an
        ingest, ``run --follow``) holds it, seconds; 0 fails at once.
    """

    def __init__(self, home: Path, wait_s: float = 0.0) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.log = EvidenceLog(home / "log")
                break
            except LogBusyError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        try:
            self.store = SQLiteStore(self.store_path)
            self.catch_up()
        except BaseException:
            self.log.close()
            raise

    @property
    def store_path(self) -> Path:
        """Path of the SQLite projection."""
        return self.home / "store.sqlite"

    def catch_up(self) -> int:
        """Project log entries the store has not seen; returns how many."""
        start = self.store.log_size()
        if start > self.log.size:
            raise RuntimeError(
                f"{self.store_path} has projected {start} entries but the log holds "
                f"{self.log.size}: the store belongs to another log; run 'truceline store rebuild'"
            )
        if start == self.log.size:
            return 0
        return self.store.apply_entries(self.log.entries(start=start))

    def close(self) -> None:
        """Close store and log."""
        self.store.close()
        self.log.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
