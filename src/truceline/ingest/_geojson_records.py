"""Features of the ``observations/1`` GeoJSON contract -> records (private).

See ``docs/observation-formats.md``. Errors name the property path inside the
feature (``properties.cov_m2[2]``, ``geometry.coordinates[0][3][1]``); the
adapter adds the file and ``features[i]``. Property names outside the contract
are refused, so a misspelt ``time_sigma`` cannot silently become a zero sigma;
free-form facts belong in ``attributes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely

from truceline.ingest._values import (
    check_covariance,
    check_lon_lat,
    json_number,
    remap_field,
    utc_time,
)
from truceline.model.coverage import Coverage
from truceline.model.errors import RecordError
from truceline.model.ids import canonical_json, sha256_hex
from truceline.model.location import BearingLocation, FootprintLocation, Location, PointLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["feature_record"]

_OBSERVATION_KEYS = frozenset(
    {
        "record",
        "sensor_id",
        "modality",
        "kind",
        "time",
        "time_sigma_s",
        "time_end",
        "cov_m2",
        "sigma_m",
        "bearing",
        "attributes",
    }
)
_SENSOR_KEYS = frozenset(
    {
        "record",
        "id",
        "modality",
        "owner",
        "timing_sigma_s",
        "detection_range_m",
        "reliability",
        "public_key",
        "elevation_m",
        "array",
    }
)
_COVERAGE_KEYS = frozenset(
    {"record", "sensor_id", "start", "end", "detection_probability", "target"}
)
_BEARING_KEYS = ("azimuth_deg", "azimuth_sigma_deg", "max_range_m")
_COORDS = "geometry.coordinates"
#: Model error fields -> property paths of this format.
_MODEL_FIELDS = {
    "sensor_id": "properties.sensor_id",
    "modality": "properties.modality",
    "kind": "properties.kind",
    "time": "properties.time",
    "time_sigma_s": "properties.time_sigma_s",
    "time_end": "properties.time_end",
    "id": "properties.id",
    "reliability": "properties.reliability",
    "location.cov_m2": "properties.cov_m2",
    "location.exterior": _COORDS,
    "location.azimuth_deg": "properties.bearing.azimuth_deg",
    "location.azimuth_sigma_deg": "properties.bearing",
}


def feature_record(feature: Any) -> Observation | Sensor | Coverage:
    """The record one feature describes.

    Raises
    ------
    RecordError
        Naming the property path at fault (without file or feature index).
    """
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise RecordError('expected a GeoJSON object with "type": "Feature"', field="type")
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise RecordError("expected an object", field="properties")
    kind = props.get("record", "observation")
    try:
        if kind == "observation":
            return _observation(feature, props)
        if kind == "sensor":
            return _sensor(feature.get("geometry"), props)
        if kind == "coverage":
            return _coverage(feature.get("geometry"), props)
    except RecordError as exc:
        if exc.field is None or not exc.field.startswith(("properties", "geometry")):
            raise remap_field(exc, _MODEL_FIELDS, "geometry") from None
        raise
    raise RecordError(
        f"unknown record {kind!r}; expected observation, sensor or coverage",
        field="properties.record",
    )


def _check_keys(props: Mapping[str, Any], allowed: frozenset[str], record: str) -> None:
    for key in sorted(props):
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise RecordError(
                f"unknown {record} property {key!r} (known: {known}; put free-form facts "
                "in attributes)",
                field=f"properties.{key}",
            )


def _text(props: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = props.get(key, default)
    if not isinstance(value, str) or not value:
        what = "missing" if key not in props else f"expected a non-empty string, got {value!r}"
        raise RecordError(what, field=f"properties.{key}")
    return value


def _optional_number(props: Mapping[str, Any], key: str) -> float | None:
    value = props.get(key)
    return None if value is None else json_number(value, f"properties.{key}")


def _non_negative(props: Mapping[str, Any], key: str, default: float) -> float:
    value = props.get(key)
    number = default if value is None else json_number(value, f"properties.{key}")
    if number < 0:
        raise RecordError(f"must be non-negative, got {number}", field=f"properties.{key}")
    return number


def _position(value: Any, field: str) -> tuple[float, float]:
    """``(lon, lat)`` of a GeoJSON position (an altitude, if given, is ignored)."""
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise RecordError(f"expected [lon, lat], got {value!r}", field=field)
    lon = json_number(value[0], f"{field}[0]")
    lat = json_number(value[1], f"{field}[1]")
    check_lon_lat(lon, lat, f"{field}[0]", f"{field}[1]")
    return lon, lat


def _ring(value: Any, field: str) -> tuple[tuple[float, float], ...]:
    """A closed linear ring (RFC 7946: at least 4 positions, first = last)."""
    if not isinstance(value, list) or len(value) < 4:
        raise RecordError("a linear ring needs at least 4 positions", field=field)
    ring = tuple(_position(item, f"{field}[{i}]") for i, item in enumerate(value))
    if ring[0] != ring[-1]:
        raise RecordError("a linear ring must be closed (first position = last)", field=field)
    return ring


def _polygon_rings(value: Any, field: str) -> list[tuple[tuple[float, float], ...]]:
    if not isinstance(value, list) or not value:
        raise RecordError("expected a list of linear rings", field=field)
    return [_ring(ring, f"{field}[{i}]") for i, ring in enumerate(value)]


def _geometry(value: Any) -> tuple[str | None, Mapping[str, Any]]:
    """``(type, geometry)`` of a GeoJSON geometry; ``(None, {})`` for ``null``."""
    if value is None:
        return None, {}
    if not isinstance(value, Mapping):
        raise RecordError("expected a GeoJSON geometry object or null", field="geometry")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise RecordError("missing geometry type", field="geometry.type")
    return kind, value


def _observation(feature: Mapping[str, Any], props: Mapping[str, Any]) -> Observation:
    _check_keys(props, _OBSERVATION_KEYS, "observation")
    sensor_id = _text(props, "sensor_id")
    modality = _text(props, "modality")
    kind = _text(props, "kind")
    if "time" not in props:
        raise RecordError("missing", field="properties.time")
    time = utc_time(props["time"], "properties.time")
    time_sigma_s = _non_negative(props, "time_sigma_s", 0.0)
    end = props.get("time_end")
    time_end = None if end is None else utc_time(end, "properties.time_end")
    if time_end is not None and time_end < time:
        raise RecordError("interval ends before it starts", field="properties.time_end")
    attributes = props.get("attributes", {})
    if not isinstance(attributes, Mapping):
        raise RecordError("expected an object", field="properties.attributes")
    return Observation(
        sensor_id=sensor_id,
        modality=modality,
        kind=kind,
        time=time,
        location=_location(feature.get("geometry"), props),
        time_sigma_s=time_sigma_s,
        time_end=time_end,
        attributes=dict(attributes),
        raw_sha256=sha256_hex(canonical_json(feature)),
    )


def _location(value: Any, props: Mapping[str, Any]) -> Location:
    kind, geometry = _geometry(value)
    given = [key for key in ("cov_m2", "sigma_m", "bearing") if props.get(key) is not None]
    if kind == "Polygon":
        if given:
            raise RecordError(
                f"{given[0]} applies to Point geometry only", field=f"properties.{given[0]}"
            )
        rings = _polygon_rings(geometry.get("coordinates"), _COORDS)
        # Holes are dropped: the subject lies inside the exterior ring either way.
        return FootprintLocation(rings[0])
    if kind != "Point":
        raise RecordError(
            f"an observation needs Point or Polygon geometry, got {kind!r}",
            field="geometry" if kind is None else "geometry.type",
        )
    lon, lat = _position(geometry.get("coordinates"), _COORDS)
    if len(given) != 1:
        raise RecordError(
            "a Point observation needs exactly one of cov_m2, sigma_m or bearing"
            + (f" (got {', '.join(given)})" if given else ""),
            field=f"properties.{given[1] if given else 'cov_m2'}",
        )
    if given[0] == "bearing":
        return _bearing(lon, lat, props["bearing"])
    if given[0] == "sigma_m":
        sigma = _non_negative(props, "sigma_m", 0.0)
        return PointLocation(lon, lat, sigma * sigma, 0.0, sigma * sigma)
    cov = props["cov_m2"]
    if not isinstance(cov, list) or len(cov) != 3:
        raise RecordError(
            "expected [cov_ee, cov_en, cov_nn] in m² (east/north)", field="properties.cov_m2"
        )
    ee, en, nn = (json_number(v, f"properties.cov_m2[{i}]") for i, v in enumerate(cov))
    check_covariance(ee, en, nn, "properties.cov_m2")
    return PointLocation(lon, lat, ee, en, nn)


def _bearing(lon: float, lat: float, bearing: Any) -> BearingLocation:
    if not isinstance(bearing, Mapping):
        raise RecordError("expected an object", field="properties.bearing")
    for key in sorted(bearing):
        if key not in _BEARING_KEYS:
            raise RecordError(f"unknown bearing member {key!r}", field=f"properties.bearing.{key}")
    values = []
    for key in _BEARING_KEYS:
        if key not in bearing:
            raise RecordError("missing", field=f"properties.bearing.{key}")
        values.append(json_number(bearing[key], f"properties.bearing.{key}"))
    azimuth, sigma, max_range = values
    if sigma <= 0:
        raise RecordError("must be positive", field="properties.bearing.azimuth_sigma_deg")
    if max_range <= 0:
        raise RecordError("must be positive", field="properties.bearing.max_range_m")
    # Angles wrap: -10° and 350° are the same direction.
    return BearingLocation(lon, lat, azimuth % 360.0, sigma, max_range)


def _sensor(value: Any, props: Mapping[str, Any]) -> Sensor:
    _check_keys(props, _SENSOR_KEYS, "sensor")
    kind, geometry = _geometry(value)
    lon: float | None = None
    lat: float | None = None
    if kind == "Point":
        lon, lat = _position(geometry.get("coordinates"), _COORDS)
    elif kind is not None:
        raise RecordError(f"a sensor needs Point or null geometry, got {kind!r}", field="geometry")
    reliability = _optional_number(props, "reliability")
    detection_range = _optional_number(props, "detection_range_m")
    if detection_range is not None and detection_range <= 0:
        raise RecordError("must be positive", field="properties.detection_range_m")
    public_key = props.get("public_key")
    if public_key is not None and not isinstance(public_key, str):
        raise RecordError("expected a hex string", field="properties.public_key")
    array = props.get("array")
    if array is not None and (not isinstance(array, str) or not array):
        raise RecordError("expected a non-empty array id", field="properties.array")
    return Sensor(
        id=_text(props, "id"),
        modality=_text(props, "modality"),
        owner=_text(props, "owner", "unknown"),
        lon=lon,
        lat=lat,
        timing_sigma_s=_non_negative(props, "timing_sigma_s", 0.0),
        detection_range_m=detection_range,
        reliability=0.5 if reliability is None else reliability,
        public_key=public_key,
        elevation_m=_optional_number(props, "elevation_m"),
        array=array,
    )


def _coverage(geometry: Any, props: Mapping[str, Any]) -> Coverage:
    _check_keys(props, _COVERAGE_KEYS, "coverage")
    sensor_id = _text(props, "sensor_id")
    for key in ("start", "end", "detection_probability"):
        if key not in props:
            raise RecordError("missing", field=f"properties.{key}")
    start = utc_time(props["start"], "properties.start")
    end = utc_time(props["end"], "properties.end")
    if end < start:
        raise RecordError("coverage window ends before it starts", field="properties.end")
    probability = json_number(props["detection_probability"], "properties.detection_probability")
    if not 0.0 <= probability <= 1.0:
        raise RecordError("must be in [0, 1]", field="properties.detection_probability")
    return Coverage(
        sensor_id=sensor_id,
        start=start,
        end=end,
        area_wkt=_area_wkt(geometry),
        detection_probability=probability,
        target=_text(props, "target", "any"),
    )


def _area_wkt(value: Any) -> str:
    """WKT of a Polygon/MultiPolygon, floats written in shortest round-trip form."""
    kind, geometry = _geometry(value)
    if kind == "Polygon":
        text = "POLYGON " + _rings_wkt(_polygon_rings(geometry.get("coordinates"), _COORDS))
    elif kind == "MultiPolygon":
        parts = geometry.get("coordinates")
        if not isinstance(parts, list) or not parts:
            raise RecordError("expected a list of polygons", field=_COORDS)
        polygons = [_polygon_rings(p, f"{_COORDS}[{i}]") for i, p in enumerate(parts)]
        text = "MULTIPOLYGON (" + ", ".join(_rings_wkt(p) for p in polygons) + ")"
    else:
        raise RecordError(
            f"coverage needs Polygon or MultiPolygon geometry, got {kind!r}", field="geometry"
        )
    shape = shapely.from_wkt(text)
    if not shape.is_valid:
        raise RecordError(f"invalid area: {shapely.is_valid_reason(shape)}", field="geometry")
    return text


def _rings_wkt(rings: list[tuple[tuple[float, float], ...]]) -> str:
    return "(" + ", ".join("(" + ", ".join(f"{x!r} {y!r}" for x, y in r) + ")" for r in rings) + ")"
