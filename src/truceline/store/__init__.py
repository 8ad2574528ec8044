"""Projection store: repository interface and backends."""

from truceline.store.base import BBox, ObservationRow, Query, Store
from truceline.store.sqlite import SQLiteStore

__all__ = ["BBox", "ObservationRow", "Query", "SQLiteStore", "Store"]
