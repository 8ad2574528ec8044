"""Station metadata adapters (StationXML, station CSV): conformance and rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.ground_samples import STATIONS_CSV, STATIONXML, stationxml
from ingest.ingest_conformance import AdapterConformance, BadCase, read_all
from ingest.ingest_samples import write_sample
from truceline.ingest._ground_stationxml import channel_modality
from truceline.ingest.base import Record
from truceline.ingest.stations import StationCSVAdapter, StationXMLAdapter
from truceline.model import Sensor


def with_cell(line_no: int, column: str, value: str) -> bytes:
    lines = STATIONS_CSV.splitlines()
    position = lines[0].split(",").index(column)
    cells = lines[line_no - 1].split(",")
    cells[position] = value
    lines[line_no - 1] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


class _SensorOnly:
    """Station files hold sensors only: the own-sample check looks for sensors."""

    adapter: type[StationCSVAdapter] | type[StationXMLAdapter]
    own_samples: tuple[str, ...]

    def test_own_samples_read_cleanly(self, tmp_path: Path) -> None:
        for name in self.own_samples:
            records = read_all(self.adapter, write_sample(tmp_path, name))
            assert records and all(isinstance(r, Sensor) for r in records), name


class TestStationCSVConformance(_SensorOnly, AdapterConformance):
    adapter = StationCSVAdapter
    own_samples = ("stations-csv",)

    def good_content(self) -> bytes:
        return STATIONS_CSV.encode()

    def check_records(self, records: list[Record]) -> None:
        assert records == [
            Sensor(
                "infrasound:I1H1",
                "infrasound",
                lon=37.0,
                lat=48.0,
                timing_sigma_s=0.001,
                detection_range_m=1_000_000.0,
                reliability=0.9,
                elevation_m=210.0,
                array="infrasound:I1",
            ),
            Sensor(
                "infrasound:I1H2",
                "infrasound",
                lon=37.01,
                lat=48.0,
                timing_sigma_s=0.01,
                elevation_m=212.0,
                array="infrasound:I1",
            ),
            Sensor(
                "acoustic:A017",
                "acoustic",
                lon=37.5,
                lat=48.1,
                timing_sigma_s=0.2,
                detection_range_m=20_000.0,
                reliability=0.7,
            ),
            Sensor(
                "seismic:S1", "seismic", lon=37.2, lat=48.3, timing_sigma_s=0.01, elevation_m=180.5
            ),
        ]

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("lat-range", with_cell(2, "lat", "-91"), 2, "lat"),
            BadCase("lon-text", with_cell(3, "lon", "east"), 3, "lon"),
            BadCase("sensor-type", with_cell(4, "sensor_type", "radar"), 4, "sensor_type"),
            BadCase("empty-station", with_cell(5, "station", ""), 5, "station"),
            BadCase("duplicate", with_cell(3, "station", "infrasound:I1H1"), 3, "station"),
            BadCase("reliability", with_cell(2, "reliability", "1"), 2, "reliability"),
            BadCase("timing", with_cell(4, "timing_sigma_s", "-0.1"), 4, "timing_sigma_s"),
            BadCase("range", with_cell(4, "detection_range_m", "0"), 4, "detection_range_m"),
            BadCase("elevation", with_cell(5, "elevation_m", "high"), 5, "elevation_m"),
            BadCase(
                "unknown-column",
                b"station,lon,lat,sensor_type,colour\nA,1,2,acoustic,red\n",
                1,
                "colour",
            ),
            BadCase("truncated", b"station,lon,lat,sensor_type\nA,1,2\n", 2, "sensor_type"),
        ]


class TestStationXMLConformance(_SensorOnly, AdapterConformance):
    adapter = StationXMLAdapter
    suffix = ".xml"
    own_samples = ("stationxml",)

    def good_content(self) -> bytes:
        return STATIONXML.encode()

    def check_records(self, records: list[Record]) -> None:
        assert all(isinstance(r, Sensor) for r in records)
        by_id = {r.id: r for r in records if isinstance(r, Sensor)}
        assert sorted(by_id) == [
            "acoustic:YJ.MIC1",
            "acoustic:YJ.MIC2",
            "infrasound:YJ.BRP1",
            "infrasound:YJ.BRP2",
            "infrasound:YJ.BRP3",
            "infrasound:YJ.BRP4",
            "seismic:YJ.SEIS.00",
        ]
        brp2 = by_id["infrasound:YJ.BRP2"]
        assert (brp2.lon, brp2.lat, brp2.elevation_m) == (-111.0, 40.002, 1502.0)
        assert brp2.array == "infrasound:YJ.BRP"
        assert brp2.timing_sigma_s == 0.01
        assert brp2.owner == "network:YJ"
        seis = by_id["seismic:YJ.SEIS.00"]
        assert (seis.elevation_m, seis.array) == (1390.0, None)
        # MIC1 and MIC2 are numbered alike but 111 km apart: not an array.
        assert by_id["acoustic:YJ.MIC1"].array is None

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("not-xml", b"<FDSNStationXML garbage", None, None),
            BadCase(
                "lat-range",
                STATIONXML.replace(
                    "<Latitude>40.5</Latitude>", "<Latitude>95</Latitude>", 1
                ).encode(),
                None,
                None,
            ),
            BadCase("channels-disagree", _disagreeing_channels(), "YJ.BRP1", "Latitude"),
        ]


def _disagreeing_channels() -> bytes:
    channels = (
        '<Channel code="BDF" locationCode=""><Latitude>40.0</Latitude><Longitude>-111.0</Longitude>'
        "<Elevation>1500</Elevation><Depth>0</Depth></Channel>"
        '<Channel code="HDF" locationCode=""><Latitude>40.2</Latitude><Longitude>-111.0</Longitude>'
        "<Elevation>1500</Elevation><Depth>0</Depth></Channel>"
    )
    station = (
        '<Station code="BRP1"><Latitude>40.0</Latitude><Longitude>-111.0</Longitude>'
        f"<Elevation>1500</Elevation><Site><Name>x</Name></Site>{channels}</Station>"
    )
    return stationxml(station).encode()


@pytest.mark.parametrize(
    ("code", "description", "modality"),
    [
        ("BDF", "", "infrasound"),
        ("EDF", "", "infrasound"),
        ("GDF", "", "acoustic"),
        ("HHZ", "", "seismic"),
        ("ENZ", "", "seismic"),
        ("LKO", "", None),
        ("XYZ", "MEMS microphone", "acoustic"),
        ("X1", "Chaparral infrasound sensor", "infrasound"),
    ],
)
def test_channel_modality(code: str, description: str, modality: str | None) -> None:
    assert channel_modality(code, description) == modality


def test_latest_epoch_describes_a_station(tmp_path: Path) -> None:
    def epoch(start: str, lat: float) -> str:
        return (
            f'<Station code="A1" startDate="{start}"><Latitude>{lat}</Latitude>'
            "<Longitude>10</Longitude><Elevation>5</Elevation><Site><Name>a</Name></Site></Station>"
        )

    path = tmp_path / "epochs.xml"
    path.write_text(
        stationxml(epoch("2022-01-01T00:00:00", 50.5) + epoch("2020-01-01T00:00:00", 50.0))
    )
    (sensor,) = read_all(StationXMLAdapter, path)
    assert sensor == Sensor(
        "acoustic:YJ.A1",
        "acoustic",
        owner="network:YJ",
        lon=10.0,
        lat=50.5,
        timing_sigma_s=0.01,
        elevation_m=5.0,
    )


def test_geojson_sensor_carries_elevation_and_array(tmp_path: Path) -> None:
    from ingest.ingest_samples import geojson_bytes
    from truceline.ingest.geojson import GeoJSONAdapter

    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [37.0, 48.0]},
        "properties": {
            "record": "sensor",
            "id": "infrasound:I1H1",
            "modality": "infrasound",
            "elevation_m": 210.5,
            "array": "infrasound:I1",
        },
    }
    path = tmp_path / "s.geojson"
    path.write_bytes(geojson_bytes([feature]))
    (sensor,) = read_all(GeoJSONAdapter, path)
    assert isinstance(sensor, Sensor)
    assert (sensor.elevation_m, sensor.array) == (210.5, "infrasound:I1")
