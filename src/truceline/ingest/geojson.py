"""Generic observations as GeoJSON (``"truceline": "observations/1"``).

The contract is ``docs/observation-formats.md``: a ``FeatureCollection`` whose
top-level member ``"truceline"`` is ``"observations/1"``, one observation, sensor
or coverage record per feature. A plain GeoJSON file without the marker is not
ours (it could be anything: a front line, a zone, an export). Writers should put
the marker before ``features`` so that the probe, which sees only the first
:data:`~truceline.ingest.base.PROBE_BYTES` bytes, finds it.

Errors name the file, ``features[i]`` and the property path. An observation's
``raw_sha256`` is the SHA-256 of the canonical JSON of its whole feature, so it
does not depend on the writer's whitespace or key order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from truceline.ingest._geojson_records import feature_record
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError

__all__ = ["FORMAT_MARKER", "GeoJSONAdapter"]

#: Value of the top-level ``"truceline"`` member this adapter reads.
FORMAT_MARKER = "observations/1"

_MARKER_PATTERN = re.compile(rb'"truceline"\s*:\s*"observations/1"')
_LEADING = b"\xef\xbb\xbf \t\r\n"


def _reject_constant(name: str) -> Any:
    """``json`` hook: NaN and Infinity are not JSON and have no canonical form."""
    raise ValueError(f"{name} is not a JSON number")


class GeoJSONAdapter(IngestAdapter):
    """Reader of truceline's generic GeoJSON observation files."""

    name: ClassVar[str] = "geojson"
    description: ClassVar[str] = (
        'GeoJSON FeatureCollection with "truceline": "observations/1" '
        "(observations, sensors, coverage)"
    )

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether ``head`` is a JSON object carrying the ``observations/1`` marker."""
        return head.lstrip(_LEADING).startswith(b"{") and bool(_MARKER_PATTERN.search(head))

    def read(self, path: Path) -> Iterator[Record]:
        """Yield the record of every feature, in order.

        Raises
        ------
        truceline.model.RecordError
            For text that is not JSON (naming the line), a missing or wrong marker,
            or a bad feature (naming ``features[i]`` and the property path).
        """
        file = str(path)
        features = self._features(path, file)
        for index, feature in enumerate(features):
            try:
                record = feature_record(feature)
            except RecordError as exc:
                raise exc.located(file=file, record=f"features[{index}]") from None
            yield record

    @staticmethod
    def _features(path: Path, file: str) -> list[Any]:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RecordError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file
            ) from None
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise RecordError(
                f"not valid JSON: {exc.msg} (column {exc.colno})", file=file, record=exc.lineno
            ) from None
        except ValueError as exc:
            raise RecordError(f"not valid JSON: {exc}", file=file) from None
        if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
            raise RecordError('expected a GeoJSON "FeatureCollection"', file=file, field="type")
        marker = data.get("truceline")
        if marker != FORMAT_MARKER:
            raise RecordError(
                f'expected "truceline": "{FORMAT_MARKER}", got {marker!r}',
                file=file,
                field="truceline",
            )
        features = data.get("features")
        if not isinstance(features, list):
            raise RecordError("expected a list of features", file=file, field="features")
        return features
