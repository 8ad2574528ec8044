"""FIRMS adapter: conformance on synthetic files of each shape, parsing details."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.ingest_conformance import AdapterConformance, BadCase, read_all
from ingest.ingest_samples import (
    FIRMS_API_MODIS,
    FIRMS_API_VIIRS,
    FIRMS_ARCHIVE_MODIS,
    FIRMS_ARCHIVE_VIIRS,
    FIRMS_COUNTRY,
)
from truceline.ingest.base import Record
from truceline.ingest.firms import FirmsAdapter, _parse_clock, _parse_date
from truceline.model import Observation, PointLocation, RecordError, Sensor, sha256_hex

FIRMS_SAMPLES = (
    "firms-archive-viirs",
    "firms-archive-modis",
    "firms-api-viirs",
    "firms-api-modis",
    "firms-country",
)


def with_cell(text: str, line_no: int, column: str, value: str) -> bytes:
    """``text`` with the cell of ``column`` on 1-based ``line_no`` replaced."""
    lines = text.splitlines()
    position = [c.lower() for c in lines[0].split(",")].index(column.lower())
    cells = lines[line_no - 1].split(",")
    cells[position] = value
    lines[line_no - 1] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def without_column(text: str, column: str) -> bytes:
    lines = text.splitlines()
    position = [c.lower() for c in lines[0].split(",")].index(column.lower())
    kept = [",".join(c for i, c in enumerate(line.split(",")) if i != position) for line in lines]
    return ("\n".join(kept) + "\n").encode()


def truncated(text: str, line_no: int, n_fields: int) -> bytes:
    lines = text.splitlines()
    lines[line_no - 1] = ",".join(lines[line_no - 1].split(",")[:n_fields])
    return ("\n".join(lines) + "\n").encode()


def observations(records: list[Record]) -> list[Observation]:
    return [r for r in records if isinstance(r, Observation)]


def point(obs: Observation) -> PointLocation:
    assert isinstance(obs.location, PointLocation)
    return obs.location


class TestFirmsArchiveConformance(AdapterConformance):
    adapter = FirmsAdapter
    suffix = ".txt"
    own_samples = FIRMS_SAMPLES

    def good_content(self) -> bytes:
        return FIRMS_ARCHIVE_VIIRS.encode()

    def check_records(self, records: list[Record]) -> None:
        kinds = [type(r).__name__ for r in records]
        # A sensor precedes the first observation of each satellite.
        assert kinds == ["Sensor", "Observation", "Observation", "Sensor", "Observation"]
        sensors = [r for r in records if isinstance(r, Sensor)]
        assert [s.id for s in sensors] == ["firms:VIIRS:NOAA-20", "firms:VIIRS:Suomi-NPP"]
        assert all(s.modality == "satellite" and s.reliability == 0.9 for s in sensors)
        first, second, third = observations(records)
        assert first.sensor_id == "firms:VIIRS:NOAA-20"
        assert (first.modality, first.kind) == ("satellite", "thermal_anomaly")
        assert first.time == datetime(2025, 8, 11, 0, 45, tzinfo=UTC)
        assert first.time_sigma_s == 60.0
        assert first.time_end is None
        loc = point(first)
        assert (loc.lon, loc.lat) == (37.21014, 48.26382)
        # Uniform in a 530 m x 670 m pixel plus 75 m geolocation error.
        assert loc.cov_ee == pytest.approx(530.0**2 / 12 + 75.0**2)
        assert loc.cov_nn == pytest.approx(670.0**2 / 12 + 75.0**2)
        assert loc.cov_en == 0.0
        assert first.attributes == {
            "shape": "archive",
            "instrument": "VIIRS",
            "satellite": "NOAA-20",
            "confidence": 0.55,
            "confidence_raw": "nominal",
            "brightness_k": 297.54,
            "brightness_lw_k": 281.83,
            "frp_mw": 0.36,
            "daynight": "N",
            "version": "2.0NRT",
            "scan_km": 0.53,
            "track_km": 0.67,
        }
        line = FIRMS_ARCHIVE_VIIRS.splitlines()[1].encode()
        assert first.raw_sha256 == sha256_hex(line)
        assert second.attributes["confidence"] == 0.9
        assert third.attributes["confidence"] == 0.15
        assert third.time == datetime(2025, 8, 11, 10, 34, tzinfo=UTC)

    def bad_cases(self) -> list[BadCase]:
        text = FIRMS_ARCHIVE_VIIRS
        return [
            BadCase("bad-latitude", with_cell(text, 3, "latitude", "47.8x"), 3, "latitude"),
            BadCase("latitude-range", with_cell(text, 2, "latitude", "91.5"), 2, "latitude"),
            BadCase("longitude-range", with_cell(text, 4, "longitude", "-181"), 4, "longitude"),
            BadCase("nan-latitude", with_cell(text, 2, "latitude", "nan"), 2, "latitude"),
            BadCase("bad-frp", with_cell(text, 3, "frp", "1.2.3"), 3, "frp"),
            BadCase("infinite-frp", with_cell(text, 3, "frp", "inf"), 3, "frp"),
            BadCase("bad-scan", with_cell(text, 2, "scan", "wide"), 2, "scan"),
            BadCase("zero-track", with_cell(text, 2, "track", "0"), 2, "track"),
            BadCase("missing-acq_time", without_column(text, "acq_time"), 1, "acq_time"),
            BadCase("missing-latitude", without_column(text, "latitude"), 1, "latitude"),
            BadCase("missing-confidence", without_column(text, "confidence"), 1, "confidence"),
            BadCase("truncated-line", truncated(text, 3, 7), 3, "satellite"),
            BadCase("extra-field", with_cell(text, 4, "instrument", "VIIRS,x"), 4, None),
            BadCase("bad-date", with_cell(text, 2, "acq_date", "2025-13-11"), 2, "acq_date"),
            BadCase("slash-date", with_cell(text, 2, "acq_date", "11/08/2025"), 2, "acq_date"),
            BadCase("bad-time", with_cell(text, 3, "acq_time", "24:00:00"), 3, "acq_time"),
            BadCase("mixed-time-shapes", with_cell(text, 3, "acq_time", "1032"), 3, "acq_time"),
            BadCase("bad-confidence", with_cell(text, 2, "confidence", "sure"), 2, "confidence"),
            BadCase("unknown-satellite", with_cell(text, 4, "satellite", "X9"), 4, "satellite"),
            BadCase("wrong-instrument", with_cell(text, 2, "instrument", "MODIS"), 2, "instrument"),
            BadCase("unterminated-quote", with_cell(text, 2, "version", '"2.0'), 2, None),
            BadCase("not-utf8", text.encode().replace(b"nominal", b"nomin\xe9l"), 2, None),
        ]


class TestFirmsApiConformance(AdapterConformance):
    adapter = FirmsAdapter
    own_samples = FIRMS_SAMPLES

    def good_content(self) -> bytes:
        return FIRMS_API_VIIRS.encode()

    def check_records(self, records: list[Record]) -> None:
        sensors = [r.id for r in records if isinstance(r, Sensor)]
        assert sensors == ["firms:VIIRS:NOAA-20", "firms:VIIRS:Suomi-NPP", "firms:VIIRS:NOAA-21"]
        obs = observations(records)
        # "1" and "N20" are both NOAA-20; "N" is Suomi NPP; "N21" is NOAA-21.
        assert [o.sensor_id.split(":")[2] for o in obs] == [
            "NOAA-20",
            "NOAA-20",
            "Suomi-NPP",
            "NOAA-21",
        ]
        assert [o.time.strftime("%H:%M") for o in obs] == ["00:45", "10:32", "00:05", "23:59"]
        assert [o.attributes["confidence"] for o in obs] == [0.55, 0.9, 0.15, 0.55]
        assert [o.attributes["confidence_raw"] for o in obs] == ["n", "h", "l", "n"]
        assert {o.attributes["shape"] for o in obs} == {"api"}

    def bad_cases(self) -> list[BadCase]:
        text = FIRMS_API_VIIRS
        return [
            BadCase("minute-60", with_cell(text, 2, "acq_time", "1260"), 2, "acq_time"),
            BadCase("hour-24", with_cell(text, 3, "acq_time", "2400"), 3, "acq_time"),
            BadCase("five-digits", with_cell(text, 2, "acq_time", "10320"), 2, "acq_time"),
            BadCase("letters", with_cell(text, 2, "acq_time", "12a0"), 2, "acq_time"),
            BadCase("empty-time", with_cell(text, 5, "acq_time", ""), 5, "acq_time"),
            BadCase("mixed-time-shapes", with_cell(text, 4, "acq_time", "00:05:00"), 4, "acq_time"),
            BadCase("modis-confidence", with_cell(text, 2, "confidence", "80"), 2, "confidence"),
            BadCase("modis-satellite", with_cell(text, 3, "satellite", "A"), 3, "instrument"),
        ]


class TestFirmsModisApiConformance(AdapterConformance):
    adapter = FirmsAdapter
    own_samples = FIRMS_SAMPLES

    def good_content(self) -> bytes:
        return FIRMS_API_MODIS.encode()

    def check_records(self, records: list[Record]) -> None:
        sensors = [r for r in records if isinstance(r, Sensor)]
        assert [s.id for s in sensors] == ["firms:MODIS:Aqua", "firms:MODIS:Terra"]
        assert all(s.reliability == 0.85 for s in sensors)
        aqua, terra = observations(records)
        assert aqua.time == datetime(2025, 8, 11, 1, 34, tzinfo=UTC)
        assert aqua.attributes["confidence"] == 0.56
        assert terra.attributes["confidence"] == 1.0
        # Off-nadir MODIS pixel: 3.92 km along scan, 1.84 km along track, 50 m geolocation.
        assert point(terra).cov_ee == pytest.approx(3920.0**2 / 12 + 50.0**2)
        assert point(terra).cov_nn == pytest.approx(1840.0**2 / 12 + 50.0**2)

    def bad_cases(self) -> list[BadCase]:
        text = FIRMS_API_MODIS
        return [
            BadCase("confidence-101", with_cell(text, 2, "confidence", "101"), 2, "confidence"),
            BadCase("confidence-word", with_cell(text, 3, "confidence", "high"), 3, "confidence"),
            BadCase("viirs-satellite", with_cell(text, 2, "satellite", "N"), 2, "instrument"),
            BadCase("bad-brightness", with_cell(text, 3, "brightness", "hot"), 3, "brightness"),
        ]


class TestFirmsCountryConformance(AdapterConformance):
    adapter = FirmsAdapter
    own_samples = FIRMS_SAMPLES

    def good_content(self) -> bytes:
        return FIRMS_COUNTRY.encode()

    def check_records(self, records: list[Record]) -> None:
        sensor, *rest = records
        assert isinstance(sensor, Sensor)
        assert sensor.id == "firms:unknown:unknown"
        obs = observations(rest)
        assert len(obs) == 3 == len(rest)
        first, _, last = obs
        assert first.time == datetime(2023, 1, 1, tzinfo=UTC)
        assert first.time_end == datetime(2023, 1, 2, tzinfo=UTC)
        assert first.time_sigma_s == 0.0
        assert last.time_end == datetime(2024, 1, 1, tzinfo=UTC)
        assert point(first).cov_ee == point(first).cov_nn == pytest.approx(1000.0**2 / 12 + 75**2)
        assert first.attributes == {
            "shape": "country",
            "instrument": "unknown",
            "satellite": "unknown",
        }
        assert first.raw_sha256 == sha256_hex(b"48.97689,24.7094,2023-01-01")

    def bad_cases(self) -> list[BadCase]:
        text = FIRMS_COUNTRY
        return [
            BadCase("bad-latitude", with_cell(text, 3, "latitude", "x"), 3, "LATITUDE"),
            BadCase("bad-longitude", with_cell(text, 2, "longitude", ""), 2, "LONGITUDE"),
            BadCase("latitude-range", with_cell(text, 4, "latitude", "-90.5"), 4, "LATITUDE"),
            BadCase("longitude-range", with_cell(text, 2, "longitude", "200"), 2, "LONGITUDE"),
            BadCase("bad-date", with_cell(text, 3, "acq_date", "2023-02-30"), 3, "ACQ_DATE"),
            BadCase("short-date", with_cell(text, 3, "acq_date", "2023-2-3"), 3, "ACQ_DATE"),
            BadCase("truncated-line", truncated(text, 4, 2), 4, "ACQ_DATE"),
            BadCase("missing-date-column", without_column(text, "acq_date"), 1, "acq_date"),
            BadCase("duplicate-column", b"LATITUDE,LONGITUDE,latitude\n1,2,3\n", 1, "latitude"),
        ]


class TestFirmsModisArchive:
    def test_modis_archive_sample(self, tmp_path: Path) -> None:
        path = tmp_path / "modis.txt"
        path.write_text(FIRMS_ARCHIVE_MODIS)
        obs = observations(read_all(FirmsAdapter, path))
        assert [o.sensor_id for o in obs] == ["firms:MODIS:Aqua", "firms:MODIS:Terra"]
        assert [o.attributes["confidence_raw"] for o in obs] == ["56", "100"]
        assert obs[0].attributes["brightness_k"] == 303.7
        assert obs[0].attributes["brightness_lw_k"] == 288.97


class TestLineHandling:
    def test_crlf_bom_and_blank_lines_give_the_same_records(self, tmp_path: Path) -> None:
        plain = tmp_path / "plain.csv"
        plain.write_text(FIRMS_ARCHIVE_VIIRS)
        windows = tmp_path / "windows.csv"
        body = FIRMS_ARCHIVE_VIIRS.replace("\n", "\r\n") + "\r\n"
        windows.write_bytes(b"\xef\xbb\xbf" + body.encode())
        assert read_all(FirmsAdapter, plain) == read_all(FirmsAdapter, windows)

    def test_blank_lines_keep_line_numbers(self, tmp_path: Path) -> None:
        lines = FIRMS_COUNTRY.splitlines()
        lines.insert(2, "")
        lines[3] = lines[3].replace("47.86881", "bad")
        path = tmp_path / "gaps.csv"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(RecordError) as info:
            read_all(FirmsAdapter, path)
        assert (info.value.record, info.value.field) == (4, "LATITUDE")

    def test_quoted_fields_are_unquoted(self, tmp_path: Path) -> None:
        plain = tmp_path / "plain.csv"
        plain.write_text(FIRMS_COUNTRY)
        quoted = tmp_path / "quoted.csv"
        quoted.write_text(FIRMS_COUNTRY.replace("2023-01-01", '"2023-01-01"'))
        a, b = (
            observations(read_all(FirmsAdapter, plain)),
            observations(read_all(FirmsAdapter, quoted)),
        )
        assert [o.to_dict() | {"raw_sha256": None} for o in a] == [
            o.to_dict() | {"raw_sha256": None} for o in b
        ]
        assert a[0].raw_sha256 != b[0].raw_sha256  # the raw line differs

    def test_header_only_file_yields_nothing(self, tmp_path: Path) -> None:
        path = tmp_path / "none.csv"
        path.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n")
        assert read_all(FirmsAdapter, path) == []


@pytest.mark.parametrize(
    ("text", "seconds", "shape"),
    [
        ("00:45:00", 45 * 60, "archive"),
        ("23:59:59", 86399, "archive"),
        ("10:32", 10 * 3600 + 32 * 60, "archive"),
        ("45", 45 * 60, "api"),
        ("0045", 45 * 60, "api"),
        ("5", 5 * 60, "api"),
        ("1342", 13 * 3600 + 42 * 60, "api"),
        ("0", 0, "api"),
    ],
)
def test_parse_clock(text: str, seconds: int, shape: str) -> None:
    assert _parse_clock(text) == (seconds, shape)


@pytest.mark.parametrize(
    "text", ["", "60", "1360", "2400", "12345", "-130", "1:30:00", "12:60:00", "١٢٣٤", "ab"]
)
def test_parse_clock_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        _parse_clock(text)


@pytest.mark.parametrize(
    "text", ["2023-1-01", "20230101xx", "2023/01/01", "2023-02-29", "+023-01-01"]
)
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        _parse_date(text)


def test_parse_date() -> None:
    assert _parse_date("2024-02-29") == datetime(2024, 2, 29, tzinfo=UTC)
