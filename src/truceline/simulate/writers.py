"""Deterministic writers shared by the simulator's channels.

Every file the simulator writes is a pure function of the seed: features are
emitted in a fixed order, numbers are rounded to the precision the field
formats carry, and JSON is written with a fixed layout (one feature per line).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from truceline.model.geo import LocalFrame
from truceline.model.timeutil import format_utc, from_epoch

__all__ = [
    "GEOJSON_MARKER",
    "dump_json",
    "iso_time",
    "local_polygon_geojson",
    "point_geojson",
    "write_feature_collection",
]

#: Value of the top-level ``truceline`` member of generic observation GeoJSON.
GEOJSON_MARKER: Final = "observations/1"


def iso_time(epoch_s: float) -> str:
    """ISO 8601 UTC text of an epoch time, rounded to the millisecond."""
    millis = round(epoch_s * 1000.0)
    return format_utc(from_epoch(millis // 1000).replace(microsecond=(millis % 1000) * 1000))


def _clean(value: Any) -> Any:
    """Reject non-finite numbers and turn tuples into lists for JSON."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {value!r} in simulator output")
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def dump_json(value: Any) -> str:
    """Compact JSON of ``value`` with keys in insertion order."""
    return json.dumps(_clean(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def point_geojson(lon: float, lat: float) -> dict[str, Any]:
    """GeoJSON Point with coordinates rounded to 1e-6 degrees (~0.1 m)."""
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


def local_polygon_geojson(frame: LocalFrame, polygon: Polygon) -> dict[str, Any]:
    """GeoJSON Polygon (lon/lat, RFC 7946 winding) of a polygon in local metres.

    Only the exterior ring is kept; the simulator's areas have no holes.
    """
    xs, ys = zip(*polygon.exterior.coords, strict=True)
    lons, lats = frame.to_geo(xs, ys)
    ring = [(round(float(a), 6), round(float(b), 6)) for a, b in zip(lons, lats, strict=True)]
    ring[-1] = ring[0]
    geo = orient(Polygon(ring), sign=1.0)
    return {"type": "Polygon", "coordinates": [[list(p) for p in geo.exterior.coords]]}


def write_feature_collection(
    path: Path, features: Iterable[Mapping[str, Any]], extra: Sequence[tuple[str, Any]] = ()
) -> int:
    """Write a generic-observation FeatureCollection, one feature per line.

    Parameters
    ----------
    path
        Output file; parent directories are created.
    features
        GeoJSON Feature mappings, written in the given order.
    extra
        Further top-level members ``(name, value)`` written after the marker.

    Returns
    -------
    int
        The number of features written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    head = {"type": "FeatureCollection", "truceline": GEOJSON_MARKER, **dict(extra)}
    lines = [dump_json(feature) for feature in features]
    body = dump_json(head)[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(body, encoding="utf-8")
    return len(lines)
