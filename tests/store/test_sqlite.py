"""SQLite backend: the conformance suite plus SQLite specifics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.conformance import StoreConformance, load, make_observations
from truceline.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "store.sqlite")
    yield db
    db.close()


class TestSQLiteConformance(StoreConformance):
    pass


def test_wal_mode_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    db = SQLiteStore(path)
    ids = load(db, make_observations())
    mode = db._db.execute("PRAGMA journal_mode").fetchone()[0]
    digest = db.content_digest()
    db.close()
    assert mode == "wal"
    reopened = SQLiteStore(path)
    assert [i for i, _ in reopened.observations()] == ids
    assert reopened.content_digest() == digest
    reopened.close()
