"""The kinds of entry the evidence log holds, and their canonical bytes.

Every entry is a JSON object ``{"type": ..., "id": ..., "body": ..., ...}`` in
canonical form. ``id`` is the content id of ``body``, so the same observation or
sensor description always yields the same id and re-ingesting it is a no-op.

Types:

``artifact``
    A raw input file: its SHA-256, size, name and detected format.
``sensor`` / ``observation`` / ``coverage``
    Normalised records; ``source`` names the artifact and record they came from.
``agreement``
    A full, resolved agreement version.
``run``
    A processing run: configuration, agreement version ids and the log prefix it read.
``run_result``
    Digests of the events and findings a run produced, for re-derivation checks.
``escalation``
    A finding at its agreement's top escalation level, with who is alerted and
    its evidence list (:mod:`truceline.agreement.escalation`).
``review``
    A monitor's ruling on a finding (:mod:`truceline.review`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truceline.model.coverage import Coverage
from truceline.model.ids import canonical_json, sha256_hex
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["ENTRY_TYPES", "make_entry", "observation_entry", "record_entry"]

ENTRY_TYPES = frozenset(
    {
        "artifact",
        "sensor",
        "observation",
        "coverage",
        "agreement",
        "run",
        "run_result",
        "escalation",
        "review",
    }
)


def make_entry(entry_type: str, body: Mapping[str, Any], **extra: Any) -> tuple[str, bytes]:
    """Canonical entry bytes and the body's content id."""
    if entry_type not in ENTRY_TYPES:
        raise ValueError(f"unknown log entry type {entry_type!r}")
    body_bytes = canonical_json(body)
    entry_id = sha256_hex(body_bytes)
    return entry_id, canonical_json({"type": entry_type, "id": entry_id, "body": body, **extra})


def _source_bytes(source: Mapping[str, Any]) -> bytes:
    """Canonical bytes of a ``{"artifact": hex, "record": int}`` source (fast path)."""
    artifact = source.get("artifact")
    record = source.get("record")
    if (
        len(source) == 2
        and isinstance(artifact, str)
        and len(artifact) == 64
        and artifact.isalnum()
        and type(record) is int
    ):
        return b'{"artifact":"%s","record":%d}' % (artifact.encode("ascii"), record)
    return canonical_json(source)


def observation_entry(
    observation: Observation, source: Mapping[str, Any]
) -> tuple[str, bytes, bytes]:
    """Entry for one observation, composed without re-serialising the body.

    The keys of an entry sort as ``body, id, source, type``, so concatenating the
    canonical pieces in that order is itself canonical (checked by the tests and
    by ``log verify``). This keeps ingest near the speed of a plain insert loop.

    Returns
    -------
    tuple
        ``(id, entry_bytes, body_bytes)``.
    """
    body = observation.canonical()
    entry_id = sha256_hex(body)
    entry = b"".join(
        (
            b'{"body":',
            body,
            b',"id":"',
            entry_id.encode("ascii"),
            b'","source":',
            _source_bytes(source),
            b',"type":"observation"}',
        )
    )
    return entry_id, entry, body


def record_entry(
    record: Observation | Sensor | Coverage, source: Mapping[str, Any]
) -> tuple[str, bytes]:
    """Entry for any normalised record an adapter yields."""
    if isinstance(record, Observation):
        entry_id, entry, _ = observation_entry(record, source)
        return entry_id, entry
    if isinstance(record, Sensor):
        return make_entry("sensor", record.to_dict(), source=dict(source))
    return make_entry("coverage", record.to_dict(), source=dict(source))
