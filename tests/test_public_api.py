"""The deliberate public API: every listed name exists and is documented."""

from __future__ import annotations

import importlib
import subprocess
import sys

import truceline


def test_all_names_resolve_and_have_docstrings() -> None:
    assert sorted(truceline.__all__) == truceline.__all__
    for name in truceline.__all__:
        value = getattr(truceline, name)
        if name != "__version__":
            assert (value.__doc__ or "").strip(), name


def test_every_subpackage_imports_cleanly() -> None:
    for package in (
        "model", "agreement", "evidence", "store", "ingest", "fusion",
        "reports", "simulate", "evaluation", "testing", "ground",
    ):  # fmt: skip
        module = importlib.import_module(f"truceline.{package}")
        assert module.__doc__, package


def test_cli_entry_point_runs() -> None:
    command = [sys.executable, "-m", "truceline.cli", "--help"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("ingest", "agreement", "log", "store", "run", "status", "events", "findings",
                    "report", "simulate", "demo"):  # fmt: skip
        assert command in result.stdout
