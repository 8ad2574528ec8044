"""Generic GeoJSON adapter: conformance, location shapes, errors naming property paths."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely

from ingest.ingest_conformance import AdapterConformance, BadCase, head_of, read_all
from ingest.ingest_samples import geojson_bytes, geojson_features
from truceline.ingest.base import Record
from truceline.ingest.geojson import GeoJSONAdapter
from truceline.model import (
    BearingLocation,
    Coverage,
    FootprintLocation,
    Observation,
    PointLocation,
    Sensor,
    canonical_json,
    sha256_hex,
)

#: Index of each feature in ``geojson_features()``.
SENSOR, SENSOR_NO_GEOMETRY, POINT_COV, POINT_SIGMA, BEARING, FOOTPRINT, COVERAGE, MULTI = range(8)


def mutated(index: int, change: dict[str, Any], geometry: Any = "keep") -> bytes:
    """The good document with feature ``index``'s properties updated (None deletes)."""
    features = geojson_features()
    props = features[index]["properties"]
    for key, value in change.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    if geometry != "keep":
        features[index]["geometry"] = geometry
    return geojson_bytes(features)


def bowtie() -> dict[str, Any]:
    ring = [[37.0, 48.0], [37.1, 48.1], [37.1, 48.0], [37.0, 48.1], [37.0, 48.0]]
    return {"type": "Polygon", "coordinates": [ring]}


class TestGeoJSONConformance(AdapterConformance):
    adapter = GeoJSONAdapter
    suffix = ".geojson"
    own_samples = ("geojson", "geojson-compact")

    def good_content(self) -> bytes:
        return geojson_bytes(geojson_features())

    def check_records(self, records: list[Record]) -> None:
        assert [type(r).__name__ for r in records] == [
            "Sensor",
            "Sensor",
            "Observation",
            "Observation",
            "Observation",
            "Observation",
            "Coverage",
            "Coverage",
        ]
        sensor, floating = records[SENSOR], records[SENSOR_NO_GEOMETRY]
        assert isinstance(sensor, Sensor) and isinstance(floating, Sensor)
        assert sensor == Sensor(
            id="infrasound:I1",
            modality="infrasound",
            owner="mission",
            lon=37.0,
            lat=48.0,
            timing_sigma_s=0.01,
            detection_range_m=150000.0,
            reliability=0.8,
        )
        assert (floating.lon, floating.lat, floating.reliability) == (None, None, 0.5)

        cov = records[POINT_COV]
        assert isinstance(cov, Observation)
        assert cov.location == PointLocation(37.5, 48.1, 40000.0, 1000.0, 90000.0)
        assert cov.time == datetime(2026, 11, 1, 12, tzinfo=UTC)
        assert cov.time_sigma_s == 0.5
        assert cov.attributes == {"weapon_class": "artillery_ge100", "count": 3, "confidence": 0.8}
        assert cov.raw_sha256 == sha256_hex(canonical_json(geojson_features()[POINT_COV]))

        sigma = records[POINT_SIGMA]
        assert isinstance(sigma, Observation)
        assert sigma.location == PointLocation(37.6, 48.2, 400.0, 0.0, 400.0)
        assert sigma.time == datetime(2026, 11, 1, 12, 5, tzinfo=UTC)  # +02:00 -> UTC
        assert sigma.time_sigma_s == 0.0

        bearing = records[BEARING]
        assert isinstance(bearing, Observation)
        assert bearing.location == BearingLocation(37.0, 48.0, 350.0, 3.0, 80000.0)

        footprint = records[FOOTPRINT]
        assert isinstance(footprint, Observation)
        assert isinstance(footprint.location, FootprintLocation)
        assert footprint.location.polygon.equals(
            shapely.Polygon(geojson_features()[5]["geometry"]["coordinates"][0])
        )
        assert footprint.time_end == datetime(2026, 11, 1, 11, tzinfo=UTC)

        area, multi = records[COVERAGE], records[MULTI]
        assert isinstance(area, Coverage) and isinstance(multi, Coverage)
        assert (area.sensor_id, area.detection_probability, area.target) == (
            "drone:D2",
            0.9,
            "crater",
        )
        assert area.area.area == pytest.approx(0.01)
        assert multi.target == "any"
        assert multi.area.geom_type == "MultiPolygon"
        assert multi.area.area == pytest.approx(0.02)
        assert area.area_wkt.startswith("POLYGON ((37.0 48.0, 37.1 48.0")

    def bad_cases(self) -> list[BadCase]:
        point = {"type": "Point", "coordinates": [37.5, 48.1]}
        f = "features[{}]".format
        return [
            BadCase(
                "missing-sensor_id",
                mutated(POINT_COV, {"sensor_id": None}),
                f(2),
                "properties.sensor_id",
            ),
            BadCase(
                "bad-modality",
                mutated(POINT_COV, {"modality": "sonar"}),
                f(2),
                "properties.modality",
            ),
            BadCase("bad-kind", mutated(POINT_SIGMA, {"kind": "boom"}), f(3), "properties.kind"),
            BadCase("missing-time", mutated(POINT_COV, {"time": None}), f(2), "properties.time"),
            BadCase(
                "naive-time",
                mutated(POINT_COV, {"time": "2026-11-01T12:00:00"}),
                f(2),
                "properties.time",
            ),
            BadCase(
                "numeric-time", mutated(POINT_COV, {"time": 1_700_000_000}), f(2), "properties.time"
            ),
            BadCase(
                "negative-sigma",
                mutated(POINT_COV, {"time_sigma_s": -1}),
                f(2),
                "properties.time_sigma_s",
            ),
            BadCase(
                "string-sigma",
                mutated(POINT_COV, {"time_sigma_s": "1"}),
                f(2),
                "properties.time_sigma_s",
            ),
            BadCase(
                "end-before-start",
                mutated(FOOTPRINT, {"time_end": "2026-11-01T07:00:00Z"}),
                f(5),
                "properties.time_end",
            ),
            BadCase(
                "cov-length", mutated(POINT_COV, {"cov_m2": [1, 2]}), f(2), "properties.cov_m2"
            ),
            BadCase(
                "cov-string",
                mutated(POINT_COV, {"cov_m2": [1, "2", 3]}),
                f(2),
                "properties.cov_m2[1]",
            ),
            BadCase(
                "cov-bool",
                mutated(POINT_COV, {"cov_m2": [1, 0, True]}),
                f(2),
                "properties.cov_m2[2]",
            ),
            BadCase(
                "cov-not-psd", mutated(POINT_COV, {"cov_m2": [1, 5, 1]}), f(2), "properties.cov_m2"
            ),
            BadCase(
                "cov-and-sigma", mutated(POINT_COV, {"sigma_m": 5}), f(2), "properties.sigma_m"
            ),
            BadCase(
                "no-uncertainty", mutated(POINT_COV, {"cov_m2": None}), f(2), "properties.cov_m2"
            ),
            BadCase(
                "negative-sigma_m",
                mutated(POINT_SIGMA, {"sigma_m": -3}),
                f(3),
                "properties.sigma_m",
            ),
            BadCase(
                "unknown-property",
                mutated(POINT_COV, {"time_sigma": 3}),
                f(2),
                "properties.time_sigma",
            ),
            BadCase(
                "attributes-list",
                mutated(POINT_COV, {"attributes": [1]}),
                f(2),
                "properties.attributes",
            ),
            BadCase(
                "latitude-range",
                mutated(POINT_COV, {}, {"type": "Point", "coordinates": [37.5, 98.1]}),
                f(2),
                "geometry.coordinates[1]",
            ),
            BadCase(
                "longitude-string",
                mutated(POINT_COV, {}, {"type": "Point", "coordinates": ["37.5", 48.1]}),
                f(2),
                "geometry.coordinates[0]",
            ),
            BadCase("no-geometry", mutated(POINT_COV, {}, None), f(2), "geometry"),
            BadCase(
                "linestring",
                mutated(POINT_COV, {}, {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}),
                f(2),
                "geometry.type",
            ),
            BadCase(
                "bearing-missing-sigma",
                mutated(BEARING, {"bearing": {"azimuth_deg": 10, "max_range_m": 5000}}),
                f(4),
                "properties.bearing.azimuth_sigma_deg",
            ),
            BadCase(
                "bearing-zero-range",
                mutated(
                    BEARING,
                    {"bearing": {"azimuth_deg": 10, "azimuth_sigma_deg": 2, "max_range_m": 0}},
                ),
                f(4),
                "properties.bearing.max_range_m",
            ),
            BadCase(
                "bearing-unknown-member",
                mutated(
                    BEARING,
                    {
                        "bearing": {
                            "azimuth_deg": 1,
                            "azimuth_sigma_deg": 2,
                            "max_range_m": 3,
                            "range": 4,
                        }
                    },
                ),
                f(4),
                "properties.bearing.range",
            ),
            BadCase(
                "ring-not-closed",
                mutated(
                    FOOTPRINT,
                    {},
                    {"type": "Polygon", "coordinates": [[[37, 48], [38, 48], [38, 49], [37, 49]]]},
                ),
                f(5),
                "geometry.coordinates[0]",
            ),
            BadCase(
                "self-intersecting-footprint",
                mutated(FOOTPRINT, {}, bowtie()),
                f(5),
                "geometry.coordinates",
            ),
            BadCase(
                "footprint-with-sigma",
                mutated(FOOTPRINT, {"sigma_m": 3}),
                f(5),
                "properties.sigma_m",
            ),
            BadCase(
                "sensor-reliability",
                mutated(SENSOR, {"reliability": 1.0}),
                f(0),
                "properties.reliability",
            ),
            BadCase("sensor-no-id", mutated(SENSOR, {"id": ""}), f(0), "properties.id"),
            BadCase("sensor-polygon", mutated(SENSOR, {}, bowtie()), f(0), "geometry"),
            BadCase(
                "sensor-range",
                mutated(SENSOR, {"detection_range_m": -1}),
                f(0),
                "properties.detection_range_m",
            ),
            BadCase(
                "coverage-end-before-start",
                mutated(COVERAGE, {"end": "2026-11-01T07:00:00Z"}),
                f(6),
                "properties.end",
            ),
            BadCase(
                "coverage-probability",
                mutated(COVERAGE, {"detection_probability": 1.5}),
                f(6),
                "properties.detection_probability",
            ),
            BadCase("coverage-point", mutated(COVERAGE, {}, point), f(6), "geometry"),
            BadCase("coverage-invalid-area", mutated(MULTI, {}, bowtie()), f(7), "geometry"),
            BadCase(
                "coverage-missing-start",
                mutated(COVERAGE, {"start": None}),
                f(6),
                "properties.start",
            ),
            BadCase(
                "unknown-record", mutated(SENSOR, {"record": "track"}), f(0), "properties.record"
            ),
            BadCase(
                "not-a-feature",
                geojson_bytes([*geojson_features()[:3], {"type": "Point", "coordinates": [1, 2]}]),
                f(3),
                "type",
            ),
            BadCase(
                "no-properties",
                geojson_bytes([{"type": "Feature", "geometry": point}]),
                f(0),
                "properties",
            ),
            BadCase("not-json", b'{"truceline": "observations/1",\n "features": [}', 2, None),
            BadCase("nan", b'{"truceline": "observations/1", "features": [NaN]}', None, None),
            BadCase(
                "wrong-marker",
                geojson_bytes(geojson_features(), marker="observations/2"),
                None,
                "truceline",
            ),
            BadCase(
                "features-object",
                b'{"type": "FeatureCollection", "truceline": "observations/1", "features": {}}',
                None,
                "features",
            ),
            BadCase(
                "not-a-collection",
                b'{"type": "Feature", "truceline": "observations/1"}',
                None,
                "type",
            ),
        ]


class TestGeoJSONDetails:
    def test_probe_accepts_whitespace_variants(self, tmp_path: Path) -> None:
        for index, text in enumerate(
            [
                '{"truceline":"observations/1","type":"FeatureCollection","features":[]}',
                '\ufeff\n  {\n\t"type": "FeatureCollection",\n\t"truceline" :\n  '
                '"observations/1",\n "features": []}',
            ]
        ):
            path = tmp_path / f"{index}.json"
            path.write_text(text, encoding="utf-8")
            assert GeoJSONAdapter.can_read(path, head_of(path))
            assert list(GeoJSONAdapter().read(path)) == []

    def test_probe_rejects_marker_outside_an_object(self, tmp_path: Path) -> None:
        path = tmp_path / "list.json"
        path.write_text('[{"truceline": "observations/1"}]')
        assert not GeoJSONAdapter.can_read(path, head_of(path))

    def test_raw_hash_ignores_formatting(self, tmp_path: Path) -> None:
        pretty, compact = tmp_path / "pretty.geojson", tmp_path / "compact.geojson"
        pretty.write_bytes(geojson_bytes(geojson_features(), indent=4))
        features = [dict(reversed(list(f.items()))) for f in geojson_features()]
        compact.write_text(
            json.dumps(
                {"truceline": "observations/1", "type": "FeatureCollection", "features": features}
            )
        )
        assert read_all(GeoJSONAdapter, pretty) == read_all(GeoJSONAdapter, compact)

    def test_raw_hash_changes_with_any_property(self, tmp_path: Path) -> None:
        features = geojson_features()
        changed = copy.deepcopy(features)
        changed[POINT_COV]["properties"]["attributes"]["count"] = 4
        a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
        a.write_bytes(geojson_bytes(features))
        b.write_bytes(geojson_bytes(changed))
        first, second = (
            read_all(GeoJSONAdapter, a)[POINT_COV],
            read_all(GeoJSONAdapter, b)[POINT_COV],
        )
        assert isinstance(first, Observation) and isinstance(second, Observation)
        assert first.raw_sha256 != second.raw_sha256

    def test_polygon_holes_are_dropped_conservatively(self, tmp_path: Path) -> None:
        hole = [[37.02, 48.02], [37.02, 48.04], [37.04, 48.04], [37.04, 48.02], [37.02, 48.02]]
        features = geojson_features()
        features[FOOTPRINT]["geometry"]["coordinates"].append(hole)
        path = tmp_path / "holes.geojson"
        path.write_bytes(geojson_bytes(features))
        footprint = read_all(GeoJSONAdapter, path)[FOOTPRINT]
        assert isinstance(footprint, Observation) and isinstance(
            footprint.location, FootprintLocation
        )
        assert footprint.location.polygon.area == pytest.approx(0.01)

    def test_altitude_is_ignored(self, tmp_path: Path) -> None:
        features = geojson_features()
        features[POINT_SIGMA]["geometry"]["coordinates"] = [37.6, 48.2, 350.0]
        path = tmp_path / "alt.geojson"
        path.write_bytes(geojson_bytes(features))
        record = read_all(GeoJSONAdapter, path)[POINT_SIGMA]
        assert isinstance(record, Observation)
        assert record.centre == (37.6, 48.2)
