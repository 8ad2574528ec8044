"""Fixtures shared by the whole test-suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Real public reference data (../shared/data next to the project; see its README).
#: Override with the environment variable TRUCELINE_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get(
        "TRUCELINE_SHARED_DATA",
        str(Path(__file__).resolve().parents[1].parent / "shared" / "data"),
    )
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared reference-data folder; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED_DATA} (set TRUCELINE_SHARED_DATA)")
    return SHARED_DATA
