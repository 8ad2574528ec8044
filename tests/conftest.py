"""Fixtures shared by the whole test-suite."""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="session")
def built_run_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one run (``agreement.run_testkit.build_home``); never write to it."""
    from agreement.run_testkit import build_home

    home, _ = build_home(tmp_path_factory.mktemp("run-home"))
    return home


@pytest.fixture()
def run_home(built_run_home: Path, tmp_path: Path) -> Path:
    """A private copy of :func:`built_run_home` for a test that writes to it."""
    copy = tmp_path / "home"
    shutil.copytree(built_run_home, copy)
    return copy
