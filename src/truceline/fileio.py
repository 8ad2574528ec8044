"""Crash-safe file writes shared by every module that publishes a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["sync_dir", "write_atomic"]


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` all or nothing.

    The bytes go to a synced temporary file in the same directory, which is renamed
    over ``path`` (readable by others: 0644); the directory is synced too, so the
    rename survives a crash. On any error the temporary file is removed and ``path``
    is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_dir(path.parent)


def sync_dir(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (POSIX)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
