"""Detections CSV adapter: conformance, defaults by modality, station consistency."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ingest.ground_samples import DETECTIONS_CSV
from ingest.ingest_conformance import AdapterConformance, BadCase, read_all
from truceline.ingest.base import Record
from truceline.ingest.detections import DetectionsCSVAdapter
from truceline.model import BearingLocation, Observation, Sensor, StationLocation, sha256_hex

HEADER_MIN = "station,time,lon,lat,back_azimuth_deg,modality"


def with_cell(line_no: int, column: str, value: str) -> bytes:
    lines = DETECTIONS_CSV.splitlines()
    position = lines[0].split(",").index(column)
    cells = lines[line_no - 1].split(",")
    cells[position] = value
    lines[line_no - 1] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def rows(*lines: str, header: str = HEADER_MIN) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


class TestDetectionsCSVConformance(AdapterConformance):
    adapter = DetectionsCSVAdapter
    own_samples = ("detections-csv",)

    def good_content(self) -> bytes:
        return DETECTIONS_CSV.encode()

    def check_records(self, records: list[Record]) -> None:
        kinds = [type(r).__name__ for r in records]
        assert kinds == ["Sensor", "Observation"] * 3 + ["Observation"]
        s17, launch, s1, infra, s18, impact, other = records
        assert isinstance(s18, Sensor) and s18.id == "acoustic:A018"
        assert s17 == Sensor(
            "acoustic:A017",
            "acoustic",
            lon=37.5,
            lat=48.1,
            timing_sigma_s=0.01,
            detection_range_m=30_000.0,
            elevation_m=150.0,
        )
        assert isinstance(launch, Observation)
        assert (launch.modality, launch.kind) == ("acoustic", "launch")
        assert launch.time == datetime(2026, 11, 1, 12, 0, 5, 250_000, tzinfo=UTC)
        assert launch.time_sigma_s == 0.2
        assert launch.location == BearingLocation(37.5, 48.1, 350.0, 5.0, 30_000.0)
        assert launch.attributes == {
            "confidence": 0.8,
            "amplitude_pa": 2.5,
            "snr": 12.0,
            "dominant_frequency_hz": 40.0,
        }
        assert launch.raw_sha256 == sha256_hex(DETECTIONS_CSV.splitlines()[1].encode())
        assert isinstance(s1, Sensor) and s1.modality == "infrasound"
        assert s1.detection_range_m == 1_000_000.0
        assert isinstance(infra, Observation)
        assert infra.time_sigma_s == 1.0  # infrasound default
        assert infra.location == BearingLocation(37.0, 48.0, 95.5, 1.5, 1_000_000.0)
        assert infra.attributes == {
            "confidence": 0.9,
            "trace_velocity_mps": 340.0,
            "dominant_frequency_hz": 2.0,
            "f_stat": 8.5,
        }
        assert isinstance(impact, Observation)
        assert impact.time == datetime(2026, 11, 1, 12, 0, 6, tzinfo=UTC)
        assert impact.time_sigma_s == 0.1  # acoustic default
        assert impact.location == StationLocation(37.6, 48.2, 20_000.0)
        assert impact.attributes == {"label": "thunder"}
        assert isinstance(other, Observation)
        assert other.kind == "other"
        assert other.location == BearingLocation(37.5, 48.1, 10.0, 4.0, 30_000.0)

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("lat-text", with_cell(2, "lat", "north"), 2, "lat"),
            BadCase("lat-range", with_cell(3, "lat", "91"), 3, "lat"),
            BadCase("lon-empty", with_cell(4, "lon", ""), 4, "lon"),
            BadCase("naive-time", with_cell(2, "time", "2026-11-01T12:00:00"), 2, "time"),
            BadCase("empty-station", with_cell(3, "station", ""), 3, "station"),
            BadCase("bad-kind", with_cell(2, "kind", "boom"), 2, "kind"),
            BadCase("bad-modality", with_cell(3, "modality", "drone"), 3, "modality"),
            BadCase(
                "sigma-zero",
                with_cell(3, "back_azimuth_sigma_deg", "0"),
                3,
                "back_azimuth_sigma_deg",
            ),
            BadCase(
                "sigma-without-azimuth",
                with_cell(4, "back_azimuth_sigma_deg", "3"),
                4,
                "back_azimuth_sigma_deg",
            ),
            BadCase("azimuth-nan", with_cell(2, "back_azimuth_deg", "nan"), 2, "back_azimuth_deg"),
            BadCase("confidence-range", with_cell(2, "confidence", "1.5"), 2, "confidence"),
            BadCase("negative-snr", with_cell(2, "snr", "-1"), 2, "snr"),
            BadCase(
                "zero-velocity", with_cell(3, "trace_velocity_mps", "0"), 3, "trace_velocity_mps"
            ),
            BadCase("negative-time-sigma", with_cell(2, "time_sigma_s", "-1"), 2, "time_sigma_s"),
            BadCase("zero-range", with_cell(4, "max_range_m", "0"), 4, "max_range_m"),
            BadCase("station-moved", with_cell(5, "lat", "48.2"), 5, "lat"),
            BadCase("station-elevation", with_cell(5, "elevation_m", "151"), 5, "elevation_m"),
            BadCase("station-modality", with_cell(5, "modality", "seismic"), 5, "modality"),
            BadCase(
                "unknown-column",
                rows("a,2026-01-01T00:00:00Z,1,2,3,acoustic,red", header=HEADER_MIN + ",colour"),
                1,
                "colour",
            ),
            BadCase(
                "missing-lat", rows("a,2026-01-01T00:00:00Z,1", header="station,time,lon"), 1, "lat"
            ),
            BadCase("truncated", rows("a,2026-01-01T00:00:00Z,1"), 2, "lat"),
        ]


class TestDetectionsCSVDetails:
    def test_minimal_columns_and_case(self, tmp_path: Path) -> None:
        path = tmp_path / "min.csv"
        path.write_text("STATION,Time,LON,LAT\nS9,2026-11-01T12:00:00Z,30.5,50.25\n")
        sensor, obs = read_all(DetectionsCSVAdapter, path)
        assert isinstance(sensor, Sensor) and sensor.id == "S9"
        assert isinstance(obs, Observation)
        assert (obs.modality, obs.kind, obs.time_sigma_s) == ("acoustic", "other", 0.1)
        assert obs.location == StationLocation(30.5, 50.25, 30_000.0)

    def test_seismic_defaults(self, tmp_path: Path) -> None:
        path = tmp_path / "seis.csv"
        path.write_bytes(rows("S1,2026-11-01T12:00:00Z,30,50,-90,seismic"))
        _, obs = read_all(DetectionsCSVAdapter, path)
        assert isinstance(obs, Observation)
        assert obs.location == BearingLocation(30.0, 50.0, 270.0, 10.0, 100_000.0)

    def test_probe_ignores_station_metadata_csv(self, tmp_path: Path) -> None:
        head = b"station,lon,lat,elevation_m,sensor_type\nA,1,2,3,acoustic\n"
        assert not DetectionsCSVAdapter.can_read(tmp_path / "s.csv", head)
