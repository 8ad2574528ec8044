"""Small synthetic files of every ingest format, for probes, conformance and fixtures.

The FIRMS samples copy the column layout of the real files (archive ``.txt`` from
the NRT service, API CSV, country export); the values are made up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest.ground_samples import GROUND_SAMPLES

FIRMS_ARCHIVE_VIIRS = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,"
    "version,bright_ti5,frp,daynight,instrument\n"
    "48.26382,37.21014,297.54,0.53,0.67,2025-08-11,00:45:00,N20,nominal,2.0NRT,281.83,0.36,N,VIIRS\n"
    "47.83244,38.47732,340.1,0.39,0.36,2025-08-11,10:32:00,N20,high,2.0NRT,295.5,12.5,D,VIIRS\n"
    "47.10000,35.90000,330.0,0.45,0.39,2025-08-11,10:34:00,N,low,2.0NRT,290.0,3.1,D,VIIRS\n"
)

FIRMS_ARCHIVE_MODIS = (
    "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,confidence,"
    "version,bright_t31,frp,daynight,instrument\n"
    "46.66952,31.9884,303.7,1.25,1.11,2025-08-11,01:34:00,A,56,6.1NRT,288.97,9.92,N,MODIS\n"
    "47.5,35.1,320.0,3.92,1.84,2025-08-11,07:41:00,T,100,6.1NRT,300.0,80.5,D,MODIS\n"
)

#: FIRMS API column order for VIIRS (instrument before confidence).
FIRMS_API_VIIRS = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_ti5,frp,daynight\n"
    "48.26382,37.21014,297.54,0.53,0.67,2025-08-11,45,1,VIIRS,n,2.0NRT,281.83,0.36,N\n"
    "47.83244,38.47732,340.1,0.39,0.36,2025-08-11,1032,N20,VIIRS,h,2.0NRT,295.5,12.5,D\n"
    "47.10000,35.90000,330.0,0.45,0.39,2025-08-11,0005,N,VIIRS,l,2.0NRT,290.0,3.1,D\n"
    "46.00000,34.00000,331.0,0.40,0.37,2025-08-11,2359,N21,VIIRS,n,2.0NRT,291.0,4.0,N\n"
)

FIRMS_API_MODIS = (
    "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_t31,frp,daynight\n"
    "46.66952,31.9884,303.7,1.25,1.11,2025-08-11,134,Aqua,MODIS,56,6.1NRT,288.97,9.92,N\n"
    "47.5,35.1,320.0,3.92,1.84,2025-08-11,0741,Terra,MODIS,100,6.1NRT,300.0,80.5,D\n"
)

FIRMS_COUNTRY = (
    "LATITUDE,LONGITUDE,ACQ_DATE\n"
    "48.97689,24.7094,2023-01-01\n"
    "47.86881,33.43182,2023-01-01\n"
    "47.87563,35.15672,2023-12-31\n"
)

OBS_CSV = (
    "sensor_id,modality,kind,time,time_sigma_s,lon,lat,sigma_m,cov_ee,cov_en,cov_nn,"
    "azimuth_deg,azimuth_sigma_deg,max_range_m,time_end,attr_weapon_class,attr_count,"
    "attr_confidence\n"
    "acoustic:A017,acoustic,explosion,2026-11-01T12:00:00Z,0.5,37.5,48.1,250,,,,,,,,"
    "artillery_ge100,3,0.8\n"
    "drone:D2,drone,equipment,2026-11-01T12:05:00+02:00,1,37.6,48.2,,400,50,900,,,,,tank,,\n"
    "infrasound:I1,infrasound,explosion,2026-11-01T12:00:30Z,2,37.0,48.0,,,,,-10,3,80000,,,,0.6\n"
    "drone:D2,drone,crater,2026-11-01T08:00:00Z,0,37.61,48.21,30,,,,,,,"
    "2026-11-01T11:00:00Z,,,\n"
)


def _feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


SQUARE = [[37.0, 48.0], [37.1, 48.0], [37.1, 48.1], [37.0, 48.1], [37.0, 48.0]]
SQUARE_2 = [[38.0, 48.0], [38.1, 48.0], [38.1, 48.1], [38.0, 48.1], [38.0, 48.0]]


def geojson_features() -> list[dict[str, Any]]:
    """One of each record and location shape of the GeoJSON contract."""
    return [
        _feature(
            _point(37.0, 48.0),
            record="sensor",
            id="infrasound:I1",
            modality="infrasound",
            owner="mission",
            timing_sigma_s=0.01,
            detection_range_m=150000,
            reliability=0.8,
        ),
        _feature(None, record="sensor", id="drone:D2", modality="drone"),
        _feature(
            _point(37.5, 48.1),
            sensor_id="acoustic:A017",
            modality="acoustic",
            kind="explosion",
            time="2026-11-01T12:00:00Z",
            time_sigma_s=0.5,
            cov_m2=[40000, 1000, 90000],
            attributes={"weapon_class": "artillery_ge100", "count": 3, "confidence": 0.8},
        ),
        _feature(
            _point(37.6, 48.2),
            record="observation",
            sensor_id="drone:D2",
            modality="drone",
            kind="equipment",
            time="2026-11-01T14:05:00+02:00",
            sigma_m=20,
        ),
        _feature(
            _point(37.0, 48.0),
            sensor_id="infrasound:I1",
            modality="infrasound",
            kind="explosion",
            time="2026-11-01T12:00:30Z",
            time_sigma_s=2,
            bearing={"azimuth_deg": -10, "azimuth_sigma_deg": 3, "max_range_m": 80000},
        ),
        _feature(
            {"type": "Polygon", "coordinates": [SQUARE]},
            sensor_id="drone:D2",
            modality="drone",
            kind="crater",
            time="2026-11-01T08:00:00Z",
            time_end="2026-11-01T11:00:00Z",
        ),
        _feature(
            {"type": "Polygon", "coordinates": [SQUARE]},
            record="coverage",
            sensor_id="drone:D2",
            start="2026-11-01T08:00:00Z",
            end="2026-11-01T11:00:00Z",
            detection_probability=0.9,
            target="crater",
        ),
        _feature(
            {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE_2]]},
            record="coverage",
            sensor_id="infrasound:I1",
            start="2026-11-01T00:00:00Z",
            end="2026-11-02T00:00:00Z",
            detection_probability=0.5,
        ),
    ]


def geojson_document(features: list[Any], marker: Any = "observations/1") -> dict[str, Any]:
    """A FeatureCollection with the marker first (as writers should put it)."""
    document: dict[str, Any] = {"type": "FeatureCollection"}
    if marker is not None:
        document["truceline"] = marker
    document["features"] = features
    return document


def geojson_bytes(features: list[Any], marker: Any = "observations/1", indent: int = 1) -> bytes:
    """Serialised :func:`geojson_document`."""
    return json.dumps(geojson_document(features, marker), indent=indent).encode()


PLAIN_GEOJSON = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[37, 48], [38, 48]]},
                "properties": {"name": "front line"},
            }
        ],
    }
)

#: Sample name -> (file suffix, content). Every adapter must accept its own samples
#: and reject all the others.
SAMPLES: dict[str, tuple[str, bytes]] = {
    "firms-archive-viirs": (".txt", FIRMS_ARCHIVE_VIIRS.encode()),
    "firms-archive-modis": (".txt", FIRMS_ARCHIVE_MODIS.encode()),
    "firms-api-viirs": (".csv", FIRMS_API_VIIRS.encode()),
    "firms-api-modis": (".csv", FIRMS_API_MODIS.encode()),
    "firms-country": (".csv", FIRMS_COUNTRY.encode()),
    "obs-csv": (".csv", OBS_CSV.encode()),
    "geojson": (".geojson", geojson_bytes(geojson_features())),
    "geojson-compact": (
        ".json",
        json.dumps(geojson_document(geojson_features()), separators=(",", ":")).encode(),
    ),
    "geojson-plain": (".geojson", PLAIN_GEOJSON.encode()),
    "geojson-other-marker": (".geojson", geojson_bytes([], marker="agreement/1")),
    "other-csv": (
        ".csv",
        b"lng1,lng2,lat1,lat2,start_date,end_date,note\n29.3,29.8,45.5,45,01/01/2022,,marsh\n",
    ),
    "empty": (".csv", b""),
    **GROUND_SAMPLES,
}


def write_sample(directory: Path, name: str) -> Path:
    """Write sample ``name`` into ``directory`` and return its path."""
    suffix, content = SAMPLES[name]
    path = directory / f"{name}{suffix}"
    path.write_bytes(content)
    return path
