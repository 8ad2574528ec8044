"""Canonical serialisation and content-addressed identifiers.

Every record truceline stores is identified by the SHA-256 of its canonical JSON
form: keys sorted, no insignificant whitespace, UTF-8, floats in Python's shortest
round-trip representation. Two records with the same content therefore have the
same id on every machine, which is what makes re-ingestion a no-op and lets a
sceptical party re-derive every id from the evidence log.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

__all__ = ["canonical_json", "content_id", "sha256_hex"]


def _check_finite(value: Any, path: str) -> None:
    """Reject NaN and infinity, which have no canonical JSON form."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path or 'value'}: non-finite number {value!r} cannot be canonicalised")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]")


#: One reusable encoder: ``json.dumps`` with non-default options builds a new
#: encoder per call, which dominates the cost for small records.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: Any) -> bytes:
    """Serialise a JSON-compatible value to its canonical bytes.

    Parameters
    ----------
    value
        Nested dicts, lists, strings, ints, finite floats, booleans and ``None``.

    Returns
    -------
    bytes
        UTF-8 JSON with sorted keys and no whitespace.

    Raises
    ------
    ValueError
        If the value holds NaN or infinity.
    """
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except ValueError:
        _check_finite(value, "")
        raise


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hexadecimal SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def content_id(value: Any) -> str:
    """Return the content id (hex SHA-256 of the canonical JSON) of ``value``."""
    return sha256_hex(canonical_json(value))
