"""SQLite backend: WAL journal, R*Tree index over (longitude, latitude, time).

The R*Tree stores 32-bit floats rounded outwards, so it is used as a coarse
prefilter and every query refines on the exact columns.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from truceline.model.coverage import Coverage
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.location import (
    BearingLocation,
    FootprintLocation,
    Location,
    StationLocation,
)
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.model.timeutil import from_epoch, to_epoch
from truceline.store.base import ALL, ObservationRow, Query, Store

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS artifacts(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT, format TEXT, size INTEGER,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sensors(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, modality TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS observations(
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL,
    sensor_id TEXT NOT NULL, modality TEXT NOT NULL, kind TEXT NOT NULL,
    t REAL NOT NULL, t_end REAL NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
    body TEXT NOT NULL, artifact TEXT, record TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS observations_rtree USING rtree(
    rid, min_lon, max_lon, min_lat, max_lat, min_t, max_t);
CREATE TABLE IF NOT EXISTS coverage(
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL,
    sensor_id TEXT NOT NULL, t REAL NOT NULL, t_end REAL NOT NULL, body TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS coverage_rtree USING rtree(
    rid, min_lon, max_lon, min_lat, max_lat, min_t, max_t);
CREATE TABLE IF NOT EXISTS agreements(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, agreement_id TEXT, version INTEGER,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL, result TEXT);
CREATE TABLE IF NOT EXISTS events(
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL, kind TEXT NOT NULL,
    t REAL NOT NULL, t_start REAL NOT NULL, t_end REAL NOT NULL, lon REAL NOT NULL,
    lat REAL NOT NULL, confidence REAL NOT NULL, body TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS events_rtree USING rtree(
    rid, min_lon, max_lon, min_lat, max_lat, min_t, max_t);
CREATE TABLE IF NOT EXISTS findings(
    rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, run_id TEXT NOT NULL,
    event_id TEXT NOT NULL, rule_id TEXT NOT NULL, severity TEXT NOT NULL,
    status TEXT NOT NULL, escalation_level TEXT NOT NULL, t REAL NOT NULL, lon REAL NOT NULL,
    lat REAL NOT NULL, body TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS findings_rtree USING rtree(
    rid, min_lon, max_lon, min_lat, max_lat, min_t, max_t);
CREATE TABLE IF NOT EXISTS escalations(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, key TEXT NOT NULL, finding_id TEXT NOT NULL,
    level TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews(
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, finding_id TEXT NOT NULL, status TEXT NOT NULL,
    body TEXT NOT NULL);
"""

#: Tables and the column order used for the content digest.
_DIGEST_TABLES: tuple[tuple[str, str], ...] = (
    ("artifacts", "id"),
    ("sensors", "id"),
    ("observations", "id"),
    ("coverage", "id"),
    ("agreements", "id"),
    ("runs", "id"),
    ("events", "id"),
    ("findings", "id"),
    ("escalations", "id"),
    ("reviews", "id"),
)

_LOOKUP_TABLES = frozenset({"artifacts", "sensors", "observations", "coverage", "agreements"})

_DEG_PER_M = 1.0 / 111_320.0


def _bounds(location: Location) -> tuple[float, float, float, float]:
    """(min_lon, max_lon, min_lat, max_lat) of a location's extent, degrees."""
    if isinstance(location, FootprintLocation):
        min_lon, min_lat, max_lon, max_lat = location.polygon.bounds
        return min_lon, max_lon, min_lat, max_lat
    if isinstance(location, BearingLocation | StationLocation):
        dlat = location.max_range_m * _DEG_PER_M
        dlon = dlat / max(math.cos(math.radians(location.station_lat)), 1e-6)
        return (
            location.station_lon - dlon,
            location.station_lon + dlon,
            location.station_lat - dlat,
            location.station_lat + dlat,
        )
    return location.lon, location.lon, location.lat, location.lat


def _where(query: Query, table: str, t_lo: str, t_hi: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.since is not None:
        clauses.append(f"{table}.{t_hi} >= ?")
        params.append(to_epoch(query.since))
    if query.until is not None:
        clauses.append(f"{table}.{t_lo} <= ?")
        params.append(to_epoch(query.until))
    if query.kinds is not None:
        clauses.append(f"{table}.kind IN ({','.join('?' * len(query.kinds))})")
        params.extend(query.kinds)
    if query.before_seq is not None and table in {"observations", "coverage"}:
        clauses.append(f"{table}.seq < ?")
        params.append(query.before_seq)
    if query.bbox is not None:
        box = query.bbox
        clauses.append(
            f"{table}.rid IN (SELECT rid FROM {table}_rtree WHERE max_lon >= ? AND min_lon <= ? "
            "AND max_lat >= ? AND min_lat <= ?)"
        )
        params.extend([box.min_lon, box.max_lon, box.min_lat, box.max_lat])
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


class SQLiteStore(Store):
    """The embedded store.

    Parameters
    ----------
    path
        Database file (created if missing). ``":memory:"`` for tests.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        # 64 MiB page cache: bulk inserts into the id index and the R*Tree touch
        # pages all over both trees; the default 2 MiB cache thrashes.
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta(key, value) "
            "VALUES ('schema_version', ?), ('log_size', '0')",
            (SCHEMA_VERSION,),
        )

    # -- projection ---------------------------------------------------------------
    def log_size(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key='log_size'").fetchone()
        return int(row[0])

    def add_batch(
        self,
        *,
        end_seq: int,
        observations: Sequence[ObservationRow] = (),
        other_entries: Sequence[tuple[int, bytes]] = (),
    ) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            self._insert_observations(observations)
            for seq, raw in other_entries:
                self._apply_one(seq, json.loads(raw))
            db.execute("UPDATE meta SET value=? WHERE key='log_size'", (str(end_seq),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def apply_entries(self, entries: Iterable[tuple[int, bytes]]) -> int:
        applied = 0
        pending: list[ObservationRow] = []
        others: list[tuple[int, bytes]] = []
        last = self.log_size()
        for seq, raw in entries:
            entry = json.loads(raw)
            if entry["type"] == "observation":
                source = entry.get("source") or {}
                body = json.dumps(
                    entry["body"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ).encode("utf-8")
                pending.append(
                    ObservationRow(
                        seq=seq,
                        id=entry["id"],
                        observation=Observation.from_dict(entry["body"]),
                        body=body,
                        artifact=source.get("artifact"),
                        record=source.get("record"),
                    )
                )
            else:
                others.append((seq, raw))
            applied += 1
            last = seq + 1
            if len(pending) + len(others) >= 20_000:
                self.add_batch(end_seq=last, observations=pending, other_entries=others)
                pending, others = [], []
        self.add_batch(end_seq=last, observations=pending, other_entries=others)
        return applied

    def _insert_observations(self, rows: Sequence[ObservationRow]) -> None:
        if not rows:
            return
        db = self._db
        cursor = db.execute("SELECT COALESCE(MAX(rid), 0) FROM observations")
        next_rid = int(cursor.fetchone()[0]) + 1
        table_rows = []
        tree_rows = []
        for offset, row in enumerate(rows):
            obs = row.observation
            rid = next_rid + offset
            t = obs.time.timestamp()
            t_end = t if obs.time_end is None else obs.time_end.timestamp()
            lon, lat = obs.location.centre
            table_rows.append(
                (
                    rid,
                    row.id,
                    row.seq,
                    obs.sensor_id,
                    obs.modality,
                    obs.kind,
                    t,
                    t_end,
                    lon,
                    lat,
                    row.body.decode("utf-8"),
                    row.artifact,
                    None if row.record is None else str(row.record),
                )
            )
            min_lon, max_lon, min_lat, max_lat = _bounds(obs.location)
            tree_rows.append((rid, min_lon, max_lon, min_lat, max_lat, t, t_end))
        db.executemany("INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", table_rows)
        db.executemany("INSERT INTO observations_rtree VALUES (?,?,?,?,?,?,?)", tree_rows)

    def _apply_one(self, seq: int, entry: Mapping[str, Any]) -> None:
        kind = entry["type"]
        body = entry["body"]
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        db = self._db
        if kind == "artifact":
            db.execute(
                "INSERT OR IGNORE INTO artifacts VALUES (?,?,?,?,?,?)",
                (body["sha256"], seq, body.get("name"), body.get("format"), body.get("size"), text),
            )
        elif kind == "sensor":
            db.execute(
                "INSERT INTO sensors VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
                "seq=excluded.seq, modality=excluded.modality, body=excluded.body",
                (body["id"], seq, body["modality"], text),
            )
        elif kind == "coverage":
            cov = Coverage.from_dict(body)
            cursor = db.execute(
                "INSERT OR IGNORE INTO coverage(id, seq, sensor_id, t, t_end, body) "
                "VALUES (?,?,?,?,?,?)",
                (entry["id"], seq, cov.sensor_id, to_epoch(cov.start), to_epoch(cov.end), text),
            )
            if cursor.rowcount:
                min_lon, min_lat, max_lon, max_lat = cov.area.bounds
                db.execute(
                    "INSERT INTO coverage_rtree VALUES (?,?,?,?,?,?,?)",
                    (
                        cursor.lastrowid,
                        min_lon,
                        max_lon,
                        min_lat,
                        max_lat,
                        to_epoch(cov.start),
                        to_epoch(cov.end),
                    ),
                )
        elif kind == "agreement":
            db.execute(
                "INSERT OR IGNORE INTO agreements VALUES (?,?,?,?,?)",
                (entry["id"], seq, body.get("id"), body.get("version"), text),
            )
        elif kind == "run":
            db.execute(
                "INSERT OR IGNORE INTO runs(id, seq, body) VALUES (?,?,?)", (entry["id"], seq, text)
            )
        elif kind == "run_result":
            db.execute("UPDATE runs SET result=? WHERE id=?", (text, body["run_id"]))
        elif kind == "escalation":
            db.execute(
                "INSERT OR IGNORE INTO escalations VALUES (?,?,?,?,?,?)",
                (entry["id"], seq, body["key"], body["finding"]["id"], body["level"], text),
            )
        elif kind == "review":
            db.execute(
                "INSERT OR IGNORE INTO reviews VALUES (?,?,?,?,?)",
                (entry["id"], seq, body["finding_id"], body["status"], text),
            )
        elif kind == "observation":
            raise ValueError("observations are projected through _insert_observations")
        else:
            raise ValueError(f"log entry {seq}: unknown type {kind!r}")

    # -- lookups ------------------------------------------------------------------
    def known_ids(self, table: str, ids: Iterable[str]) -> set[str]:
        if table not in _LOOKUP_TABLES:
            raise ValueError(f"unknown table {table!r}")
        found: set[str] = set()
        batch = list(ids)
        for start in range(0, len(batch), 5000):
            chunk = batch[start : start + 5000]
            rows = self._db.execute(
                f"SELECT id FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update(row[0] for row in rows)
        return found

    def artifact(self, sha256: str) -> Mapping[str, Any] | None:
        row = self._db.execute("SELECT body FROM artifacts WHERE id=?", (sha256,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def observations(self, query: Query = ALL) -> list[tuple[str, Observation]]:
        where, params = _where(query, "observations", "t", "t_end")
        rows = self._db.execute(
            f"SELECT id, body FROM observations{where} ORDER BY seq", params
        ).fetchall()
        return [(row[0], Observation.from_dict(json.loads(row[1]))) for row in rows]

    def observation_time_range(self) -> tuple[datetime, datetime] | None:
        row = self._db.execute("SELECT MIN(t), MAX(t_end) FROM observations").fetchone()
        if row is None or row[0] is None:
            return None
        return from_epoch(float(row[0])), from_epoch(float(row[1]))

    def sensors(self) -> list[Sensor]:
        rows = self._db.execute("SELECT body FROM sensors ORDER BY id").fetchall()
        return [Sensor.from_dict(json.loads(row[0])) for row in rows]

    def coverage(self, query: Query = ALL) -> list[Coverage]:
        plain = Query(
            since=query.since, until=query.until, bbox=query.bbox, before_seq=query.before_seq
        )
        where, params = _where(plain, "coverage", "t", "t_end")
        rows = self._db.execute(f"SELECT body FROM coverage{where} ORDER BY seq", params)
        return [Coverage.from_dict(json.loads(row[0])) for row in rows]

    def agreements(self, before_seq: int | None = None) -> list[Mapping[str, Any]]:
        limit = before_seq if before_seq is not None else 2**62
        rows = self._db.execute(
            "SELECT body FROM agreements WHERE seq < ? ORDER BY seq", (limit,)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def runs(self) -> list[Mapping[str, Any]]:
        rows = self._db.execute("SELECT id, seq, body, result FROM runs ORDER BY seq").fetchall()
        return [
            {
                "id": row[0],
                "seq": row[1],
                "body": json.loads(row[2]),
                "result": None if row[3] is None else json.loads(row[3]),
            }
            for row in rows
        ]

    def observation_refs(self, ids: Iterable[str]) -> dict[str, tuple[int, Observation]]:
        found: dict[str, tuple[int, Observation]] = {}
        batch = sorted(set(ids))
        for start in range(0, len(batch), 5000):
            chunk = batch[start : start + 5000]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, seq, body FROM observations WHERE id IN ({marks})", chunk
            )
            for row in rows:
                found[row[0]] = (int(row[1]), Observation.from_dict(json.loads(row[2])))
        return found

    def _entries(self, table: str, before_seq: int | None) -> list[Mapping[str, Any]]:
        limit = before_seq if before_seq is not None else 2**62
        rows = self._db.execute(
            f"SELECT id, seq, body FROM {table} WHERE seq < ? ORDER BY seq", (limit,)
        ).fetchall()
        return [{"id": row[0], "seq": row[1], "body": json.loads(row[2])} for row in rows]

    def escalations(self, before_seq: int | None = None) -> list[Mapping[str, Any]]:
        return self._entries("escalations", before_seq)

    def reviews(self, before_seq: int | None = None) -> list[Mapping[str, Any]]:
        return self._entries("reviews", before_seq)

    # -- derived results ----------------------------------------------------------
    def replace_results(
        self, run_id: str, events: Sequence[Event], findings: Sequence[Finding]
    ) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("events", "events_rtree", "findings", "findings_rtree"):
                db.execute(f"DELETE FROM {table}")
            self._insert_results(run_id, events, findings)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def update_results(
        self,
        run_id: str,
        removed_events: Sequence[str],
        events: Sequence[Event],
        removed_findings: Sequence[str],
        findings: Sequence[Finding],
    ) -> None:
        # H-fuse: the live mode changes a few rows of a large result, in one transaction
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for table, ids in (("events", removed_events), ("findings", removed_findings)):
                for start in range(0, len(ids), 5000):
                    chunk = list(ids[start : start + 5000])
                    marks = ",".join("?" * len(chunk))
                    rids = [
                        (row[0],)
                        for row in db.execute(
                            f"SELECT rid FROM {table} WHERE id IN ({marks})", chunk
                        )
                    ]
                    db.executemany(f"DELETE FROM {table} WHERE rid=?", rids)
                    db.executemany(f"DELETE FROM {table}_rtree WHERE rid=?", rids)
            self._insert_results(run_id, events, findings)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _insert_results(
        self, run_id: str, events: Sequence[Event], findings: Sequence[Finding]
    ) -> None:
        db = self._db
        first = int(db.execute("SELECT COALESCE(MAX(rid), 0) FROM events").fetchone()[0]) + 1
        for rid, event in enumerate(events, start=first):
            record = event.to_record()
            t = to_epoch(event.time)
            db.execute(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rid,
                    record["id"],
                    run_id,
                    event.kind,
                    t,
                    to_epoch(event.time_start),
                    to_epoch(event.time_end),
                    event.lon,
                    event.lat,
                    event.confidence,
                    json.dumps(record, sort_keys=True, separators=(",", ":")),
                ),
            )
            db.execute(
                "INSERT INTO events_rtree VALUES (?,?,?,?,?,?,?)",
                (
                    rid,
                    event.lon,
                    event.lon,
                    event.lat,
                    event.lat,
                    to_epoch(event.time_start),
                    to_epoch(event.time_end),
                ),
            )
        first = int(db.execute("SELECT COALESCE(MAX(rid), 0) FROM findings").fetchone()[0]) + 1
        for rid, finding in enumerate(findings, start=first):
            record = finding.to_record()
            t = to_epoch(finding.time)
            db.execute(
                "INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rid,
                    record["id"],
                    run_id,
                    finding.event_id,
                    finding.rule_id,
                    finding.severity,
                    finding.status,
                    finding.escalation_level,
                    t,
                    finding.lon,
                    finding.lat,
                    json.dumps(record, sort_keys=True, separators=(",", ":")),
                ),
            )
            db.execute(
                "INSERT INTO findings_rtree VALUES (?,?,?,?,?,?,?)",
                (rid, finding.lon, finding.lon, finding.lat, finding.lat, t, t),
            )

    def events(self, query: Query = ALL) -> list[Event]:
        where, params = _where(query, "events", "t_start", "t_end")
        rows = self._db.execute(f"SELECT body FROM events{where} ORDER BY t, id", params)
        return [Event.from_dict(json.loads(row[0])) for row in rows]

    def findings(self, query: Query = ALL) -> list[Finding]:
        where, params = _where(query, "findings", "t", "t")
        rows = self._db.execute(f"SELECT body FROM findings{where} ORDER BY t, id", params)
        return [Finding.from_dict(json.loads(row[0])) for row in rows]

    def current_run_id(self) -> str | None:
        """Id of the run whose results are in the events/findings tables."""
        row = self._db.execute(
            "SELECT run_id FROM events UNION SELECT run_id FROM findings LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    # -- summaries ----------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {
            table: int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            for table, _ in _DIGEST_TABLES
        }

    def content_digest(self) -> str:
        digest = hashlib.sha256()
        for table, key in _DIGEST_TABLES:
            columns = [
                row[1] for row in self._db.execute(f"PRAGMA table_info({table})") if row[1] != "rid"
            ]
            digest.update(f"\x1e{table}\x1f{','.join(columns)}".encode())
            for row in self._db.execute(f"SELECT {','.join(columns)} FROM {table} ORDER BY {key}"):
                digest.update(json.dumps(row, separators=(",", ":")).encode("utf-8"))
        return digest.hexdigest()

    def close(self) -> None:
        self._db.close()
