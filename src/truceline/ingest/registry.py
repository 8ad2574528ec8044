"""Discovery of ingest adapters through the ``truceline.ingest`` entry points.

Built-in adapters are registered exactly like third-party ones (see
``pyproject.toml``), so a sensor integrator's package adds a format just by
declaring an entry point. A plugin that fails to import is reported with a
warning and skipped instead of breaking every ingest.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from truceline.ingest.base import PROBE_BYTES, IngestAdapter
from truceline.model.errors import TrucelineError

__all__ = ["ENTRY_POINT_GROUP", "UnknownFormatError", "adapters", "detect", "get_adapter"]

ENTRY_POINT_GROUP = "truceline.ingest"


class UnknownFormatError(TrucelineError):
    """No adapter recognises a file."""


@lru_cache(maxsize=1)
def adapters() -> tuple[type[IngestAdapter], ...]:
    """All adapters registered in the ``truceline.ingest`` group, sorted by name."""
    found: dict[str, type[IngestAdapter]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            adapter = entry.load()
        except Exception as exc:
            warnings.warn(
                f"ingest plugin {entry.name!r} ({entry.value}) failed to load: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        if not (isinstance(adapter, type) and issubclass(adapter, IngestAdapter)):
            warnings.warn(
                f"ingest plugin {entry.name!r} is not an IngestAdapter subclass; skipped",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        found[adapter.name] = adapter
    return tuple(found[name] for name in sorted(found))


def get_adapter(name: str) -> type[IngestAdapter]:
    """The adapter called ``name``."""
    for adapter in adapters():
        if adapter.name == name:
            return adapter
    known = ", ".join(a.name for a in adapters())
    raise UnknownFormatError(f"no ingest format called {name!r}; known formats: {known}")


def detect(path: Path) -> type[IngestAdapter]:
    """Find the adapter for ``path`` by probing every registered adapter.

    Raises
    ------
    UnknownFormatError
        When none matches (the message lists the known formats) or more than one
        does (the message names them; pass ``--format`` to choose).
    """
    with path.open("rb") as handle:
        head = handle.read(PROBE_BYTES)
    matches = [adapter for adapter in adapters() if adapter.can_read(path, head)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = "\n".join(f"  {a.name:12s} {a.description}" for a in adapters())
        raise UnknownFormatError(
            f"{path}: no ingest adapter recognises this file. Known formats:\n{known}"
        )
    names = ", ".join(a.name for a in matches)
    raise UnknownFormatError(f"{path}: several formats match ({names}); choose one with --format")
