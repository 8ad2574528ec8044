"""FIRMS ingest throughput: truceline vs a plain ``csv`` + ``sqlite3`` loop.

Both load the real 2023 FIRMS country file (98,287 rows) into a fresh store with
the same schema (observation rows + R*Tree entries, the same columns and the
same JSON body per row). truceline additionally validates every record, builds
its canonical form and content id, hashes it into the RFC 9162 Merkle tree,
writes and fsyncs the evidence log and a signed tree head. The two are run
alternately, three times each, on the same machine; the best time of each is
reported, and their ratio.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from truceline.ingest.pipeline import ingest_file
from truceline.store.sqlite import SQLiteStore
from truceline.workspace import Workspace

DATA = Path(
    os.environ.get(
        "TRUCELINE_SHARED_DATA", str(Path(__file__).resolve().parents[2] / "shared" / "data")
    )
)
FILE = DATA / "firms-ukraine" / "ukr_fire_data_2023.csv"
REPEATS = 3


def _truceline(directory: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with Workspace(directory) as workspace:
        result = ingest_file(workspace, FILE)
    return time.perf_counter() - start, result.records - 1  # minus the sensor record


def _plain(directory: Path) -> tuple[float, int]:
    """The same inserts with nothing else: no validation, canonical form or log."""
    start = time.perf_counter()
    store = SQLiteStore(directory / "plain.sqlite")
    db = store._db
    rows, tree = [], []
    sigma2 = 1000.0**2 / 12.0
    with FILE.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for rid, (lat_text, lon_text, date_text) in enumerate(reader, start=1):
            lat, lon = float(lat_text), float(lon_text)
            day = datetime.strptime(date_text, "%Y-%m-%d").replace(tzinfo=UTC)
            t, t_end = day.timestamp(), (day + timedelta(days=1)).timestamp()
            body = json.dumps(
                {"lat": lat, "lon": lon, "date": date_text, "cov_m2": [sigma2, 0.0, sigma2]},
                sort_keys=True,
            )
            row_id = hashlib.sha256(body.encode()).hexdigest()
            rows.append(
                (rid, row_id, rid, "firms:unknown:unknown", "satellite", "thermal_anomaly", t,
                 t_end, lon, lat, body, None, str(rid + 1))
            )  # fmt: skip
            tree.append((rid, lon, lon, lat, lat, t, t_end))
    db.execute("BEGIN")
    db.executemany("INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO observations_rtree VALUES (?,?,?,?,?,?,?)", tree)
    db.execute("COMMIT")
    store.close()
    return time.perf_counter() - start, len(rows)


def _rtree_only(directory: Path) -> tuple[float, int]:
    """Only the R*Tree inserts of the same rows: the floor any per-row index costs."""
    with FILE.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        tree = [
            (rid, float(lon), float(lon), float(lat), float(lat), 0.0, 0.0)
            for rid, (lat, lon, _) in enumerate(reader, start=1)
        ]
    store = SQLiteStore(directory / "rtree.sqlite")
    start = time.perf_counter()
    store._db.execute("BEGIN")
    store._db.executemany("INSERT INTO observations_rtree VALUES (?,?,?,?,?,?,?)", tree)
    store._db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    store.close()
    return elapsed, len(tree)


def run() -> dict[str, object]:
    if not FILE.exists():
        return {"firms_ingest_skipped": f"{FILE} not found"}
    ours: list[float] = []
    plain: list[float] = []
    rows = 0
    for _ in range(REPEATS):
        for kind, runs in (("truceline", ours), ("plain", plain)):
            directory = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
            try:
                elapsed, rows = (_truceline if kind == "truceline" else _plain)(directory)
            finally:
                shutil.rmtree(directory)
            runs.append(elapsed)
    best_ours, best_plain = min(ours), min(plain)
    directory = Path(tempfile.mkdtemp(prefix="bench-rtree-"))
    try:
        rtree_s, rtree_rows = _rtree_only(directory)
    finally:
        shutil.rmtree(directory)
    return {
        "firms_ingest_rows": rows,
        "firms_ingest_rows_per_s": round(rows / best_ours),
        "firms_ingest_plain_loop_rows_per_s": round(rows / best_plain),
        "firms_ingest_speed_ratio_vs_plain": round(best_plain / best_ours, 3),
        "firms_ingest_seconds": [round(x, 3) for x in ours],
        "firms_ingest_plain_seconds": [round(x, 3) for x in plain],
        "sqlite_rtree_insert_only_rows_per_s": round(rtree_rows / rtree_s),
    }
