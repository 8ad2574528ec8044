"""Small synthetic files of the ground-sensor formats (docs/ground-formats.md).

The InfraPy samples copy the key layout of InfraPy's ``.dets.json`` (current and
legacy spellings) and of its association demo table; the values are made up.
"""

from __future__ import annotations

import json
from typing import Any

DETECTIONS_CSV = (
    "station,time,time_sigma_s,lon,lat,elevation_m,back_azimuth_deg,back_azimuth_sigma_deg,"
    "trace_velocity_mps,kind,confidence,amplitude_pa,snr,dominant_frequency_hz,f_stat,"
    "modality,max_range_m,label\n"
    "acoustic:A017,2026-11-01T12:00:05.250Z,0.2,37.5,48.1,150,-10,,,launch,0.8,2.5,12,40,,,,\n"
    "infrasound:I1,2026-11-01T12:01:00Z,,37.0,48.0,,95.5,1.5,340,explosion,0.9,,,2,8.5,"
    "infrasound,,\n"
    "acoustic:A018,2026-11-01T14:00:06+02:00,,37.6,48.2,,,,,impact,,,,,,,20000,thunder\n"
    "acoustic:A017,2026-11-01T12:03:00Z,0.2,37.5,48.1,150,370,4,,,,,,,,,,\n"
)

STATIONS_CSV = (
    "station,lon,lat,elevation_m,sensor_type,array,timing_sigma_s,detection_range_m,reliability\n"
    "infrasound:I1H1,37.0,48.0,210,infrasound,infrasound:I1,0.001,1000000,0.9\n"
    "infrasound:I1H2,37.01,48.0,212,microbarometer,infrasound:I1,,,\n"
    "acoustic:A017,37.5,48.1,,acoustic,,0.2,20000,0.7\n"
    "seismic:S1,37.2,48.3,180.5,seismometer,,,,\n"
)


def _channel(code: str, lat: float, lon: float, elevation: float, location: str = "") -> str:
    return (
        f'<Channel code="{code}" locationCode="{location}">'
        f"<Latitude>{lat}</Latitude><Longitude>{lon}</Longitude>"
        f"<Elevation>{elevation}</Elevation><Depth>0</Depth><SampleRate>100</SampleRate>"
        "</Channel>"
    )


def _station(code: str, lat: float, lon: float, elevation: float, channels: str) -> str:
    return (
        f'<Station code="{code}"><Latitude>{lat}</Latitude><Longitude>{lon}</Longitude>'
        f"<Elevation>{elevation}</Elevation><Site><Name>{code}</Name></Site>{channels}</Station>"
    )


def stationxml(stations: str, network: str = "YJ") -> str:
    """A minimal FDSN StationXML 1.1 document with one network."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<FDSNStationXML xmlns="http://www.fdsn.org/xml/station/1" schemaVersion="1.1">\n'
        "<Source>truceline tests</Source><Created>2024-01-01T00:00:00Z</Created>\n"
        f'<Network code="{network}">{stations}</Network>\n'
        "</FDSNStationXML>\n"
    )


#: Four infrasound elements ~100 m apart (an array), a seismometer with a
#: location code and a state-of-health channel, and a far-away numbered element.
STATIONXML_STATIONS = "".join(
    [
        _station(
            f"BRP{i}",
            40.0 + i * 0.001,
            -111.0,
            1500 + i,
            _channel("EDF", 40.0 + i * 0.001, -111.0, 1500 + i),
        )
        for i in range(1, 5)
    ]
    + [
        _station(
            "SEIS",
            40.5,
            -111.5,
            1400,
            _channel("HHZ", 40.5, -111.5, 1390, "00") + _channel("LKO", 40.5, -111.5, 1390, "00"),
        ),
        _station("MIC1", 41.0, -112.0, 1300, _channel("GDF", 41.0, -112.0, 1300)),
        _station("MIC2", 42.0, -112.0, 1300, _channel("GDF", 42.0, -112.0, 1300)),
    ]
)
STATIONXML = stationxml(STATIONXML_STATIONS)


def _infrapy(
    time: str, back_azimuth: float | None, lat: float, lon: float, **extra: Any
) -> dict[str, Any]:
    detection: dict[str, Any] = {
        "Name": "",
        "Time (UTC)": time,
        "F Stat.": 12.5,
        "Trace Vel. (m/s)": 345.0,
        "Back Azimuth": back_azimuth,
        "Latitude": lat,
        "Longitude": lon,
        "Elevation (m)": None,
        "Start": None,
        "End": None,
        "Freq Range": None,
        "Array Dim.": 5,
        "Method": "",
        "Event": "",
        "Note": "",
    }
    detection.update(extra)
    return detection


INFRAPY_DETECTIONS = [
    _infrapy("2010-01-01T12:25:58", -123.0, 38.43, -118.304),
    _infrapy(
        "2010-01-01T12:39:16.970000",
        66.8,
        38.43,
        -118.304,
        Name="det-7",
        Start=-4.5,
        End=12.0,
        **{"Freq Range": [0.5, 5.0], "Method": "bartlett", "Elevation (m)": 1200.0},
    ),
    _infrapy(
        "2010-01-01T13:01:54",
        None,
        35.857,
        -106.315,
        Network="IM",
        Station="I57US",
        **{"Trace Vel. (m/s)": None},
    ),
]
INFRAPY_JSON = json.dumps(INFRAPY_DETECTIONS, indent=4)

#: The legacy key spellings of older InfraPy files.
INFRAPY_LEGACY_JSON = json.dumps(
    [
        {
            "Name": "",
            "Peak F-Stat Time (UTC)": "2004-06-02T17:42:14",
            "F Statistic": 75.0,
            "Trace Velocity (m/s)": None,
            "Back Azimuth": -125.6,
            "Latitude": 42.7668,
            "Longitude": -109.5939,
            "Elevation": None,
            "Start": None,
            "End": None,
            "Array Dimension": 4,
            "Method": "",
            "Event": "",
            "Note": "",
        }
    ],
    indent=4,
)

INFRAPY_TABLE = (
    "# Detections to demo association methods\n"
    "# Lat \tLon\t\t\tTime\t\t\t\t\tBack Az\tF-stat\tArray Dim\n"
    "42.7668\t-109.5939\t2004-06-02T17:42:14.0\t-125.6\t43.0\t4\n"
    "38.4296\t-118.3036\t2004-06-02T17:50:38.0\t56.6\t80.6\t4\n"
    "\n"
    "42.7668\t-109.5939\t2004-06-02T18:34:09.0\t-88.6\t23.0\t4\n"
)

#: Sample name -> (file suffix, content), merged into ``ingest_samples.SAMPLES``.
GROUND_SAMPLES: dict[str, tuple[str, bytes]] = {
    "detections-csv": (".csv", DETECTIONS_CSV.encode()),
    "stations-csv": (".csv", STATIONS_CSV.encode()),
    "stationxml": (".xml", STATIONXML.encode()),
    "infrapy-json": (".json", INFRAPY_JSON.encode()),
    "infrapy-legacy-json": (".json", INFRAPY_LEGACY_JSON.encode()),
    "infrapy-table": (".dat", INFRAPY_TABLE.encode()),
    "other-xml": (".xml", b'<?xml version="1.0"?>\n<quakeml><eventParameters/></quakeml>\n'),
    "other-json-list": (".json", b'[{"name": "a", "time": "2024-01-01T00:00:00Z"}]\n'),
}
