"""Generic observation CSV adapter: conformance, location groups, attribute columns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.ingest_conformance import AdapterConformance, BadCase, read_all
from ingest.ingest_samples import OBS_CSV
from truceline.ingest.base import Record
from truceline.ingest.obscsv import ObservationCSVAdapter, attribute_value
from truceline.model import BearingLocation, Observation, PointLocation, sha256_hex

HEADER = OBS_CSV.splitlines()[0]


def with_cell(line_no: int, column: str, value: str, text: str = OBS_CSV) -> bytes:
    lines = text.splitlines()
    position = lines[0].split(",").index(column)
    cells = lines[line_no - 1].split(",")
    cells[position] = value
    lines[line_no - 1] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def truncated(line_no: int, n_fields: int) -> bytes:
    lines = OBS_CSV.splitlines()
    lines[line_no - 1] = ",".join(lines[line_no - 1].split(",")[:n_fields])
    return ("\n".join(lines) + "\n").encode()


def with_header(header: str, *rows: str) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


class TestObservationCSVConformance(AdapterConformance):
    adapter = ObservationCSVAdapter
    own_samples = ("obs-csv",)

    def good_content(self) -> bytes:
        return OBS_CSV.encode()

    def check_records(self, records: list[Record]) -> None:
        assert all(isinstance(r, Observation) for r in records)
        sigma, cov, bearing, interval = (r for r in records if isinstance(r, Observation))
        assert sigma.sensor_id == "acoustic:A017"
        assert (sigma.modality, sigma.kind) == ("acoustic", "explosion")
        assert sigma.time == datetime(2026, 11, 1, 12, tzinfo=UTC)
        assert sigma.time_sigma_s == 0.5
        assert sigma.location == PointLocation(37.5, 48.1, 62500.0, 0.0, 62500.0)
        assert sigma.attributes == {
            "weapon_class": "artillery_ge100",
            "count": 3,
            "confidence": 0.8,
        }
        assert sigma.raw_sha256 == sha256_hex(OBS_CSV.splitlines()[1].encode())
        assert cov.time == datetime(2026, 11, 1, 10, 5, tzinfo=UTC)
        assert cov.location == PointLocation(37.6, 48.2, 400.0, 50.0, 900.0)
        assert cov.attributes == {"weapon_class": "tank"}
        assert bearing.location == BearingLocation(37.0, 48.0, 350.0, 3.0, 80000.0)
        assert bearing.attributes == {"confidence": 0.6}
        assert interval.time_end == datetime(2026, 11, 1, 11, tzinfo=UTC)
        assert interval.time_sigma_s == 0.0
        assert interval.attributes == {}

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("bad-lat", with_cell(2, "lat", "48,1"), 2, None),  # becomes an extra field
            BadCase("lat-text", with_cell(2, "lat", "north"), 2, "lat"),
            BadCase("lat-range", with_cell(3, "lat", "-91"), 3, "lat"),
            BadCase("lon-range", with_cell(4, "lon", "181"), 4, "lon"),
            BadCase("bad-cov", with_cell(3, "cov_en", "fifty"), 3, "cov_en"),
            BadCase("cov-missing-part", with_cell(3, "cov_nn", ""), 3, "cov_nn"),
            BadCase("cov-not-psd", with_cell(3, "cov_en", "5000"), 3, "cov_ee"),
            BadCase("sigma-and-cov", with_cell(3, "sigma_m", "10"), 3, "cov_ee"),
            BadCase("no-location", with_cell(2, "sigma_m", ""), 2, "sigma_m"),
            BadCase("negative-sigma", with_cell(2, "sigma_m", "-1"), 2, "sigma_m"),
            BadCase(
                "azimuth-sigma-zero", with_cell(4, "azimuth_sigma_deg", "0"), 4, "azimuth_sigma_deg"
            ),
            BadCase("naive-time", with_cell(2, "time", "2026-11-01T12:00:00"), 2, "time"),
            BadCase("garbage-time", with_cell(5, "time", "yesterday"), 5, "time"),
            BadCase(
                "end-before-time", with_cell(5, "time_end", "2026-11-01T07:00:00Z"), 5, "time_end"
            ),
            BadCase("negative-time-sigma", with_cell(3, "time_sigma_s", "-2"), 3, "time_sigma_s"),
            BadCase("bad-modality", with_cell(4, "modality", "sonar"), 4, "modality"),
            BadCase("bad-kind", with_cell(2, "kind", "boom"), 2, "kind"),
            BadCase("empty-sensor", with_cell(2, "sensor_id", ""), 2, "sensor_id"),
            BadCase("truncated-line", truncated(2, 6), 2, "lat"),
            BadCase("unterminated-quote", with_cell(3, "attr_weapon_class", '"tank'), 3, None),
            BadCase(
                "unknown-column",
                with_header(HEADER + ",colour", *OBS_CSV.splitlines()[1:]),
                1,
                "colour",
            ),
            BadCase(
                "missing-column",
                with_header(
                    "sensor_id,modality,kind,time,lon,lat,sigma_m",
                    "a,drone,crater,2026-01-01Z,1,2,3",
                ),
                1,
                "time_sigma_s",
            ),
            BadCase(
                "partial-cov-group",
                with_header(
                    "sensor_id,modality,kind,time,time_sigma_s,lon,lat,cov_ee,cov_nn", "a,b"
                ),
                1,
                "cov_en",
            ),
            BadCase(
                "no-location-group",
                with_header("sensor_id,modality,kind,time,time_sigma_s,lon,lat", "a,b"),
                1,
                "sigma_m",
            ),
            BadCase(
                "nameless-attribute",
                with_header("sensor_id,modality,kind,time,time_sigma_s,lon,lat,sigma_m,attr_", "a"),
                1,
                None,
            ),
            BadCase(
                "duplicate-column",
                with_header("sensor_id,modality,kind,time,time_sigma_s,lon,lat,sigma_m,LAT", "a"),
                1,
                "LAT",
            ),
        ]


class TestObservationCSVDetails:
    def test_case_insensitive_columns_and_quoted_cells(self, tmp_path: Path) -> None:
        path = tmp_path / "upper.csv"
        path.write_text(
            "SENSOR_ID,Modality,KIND,Time,TIME_SIGMA_S,LON,LAT,SIGMA_M,attr_Note\n"
            '"report:R1",report,gunfire,2026-11-01T12:00:00Z,,37.5,48.1,500,"heard, north"\n'
        )
        (obs,) = read_all(ObservationCSVAdapter, path)
        assert isinstance(obs, Observation)
        assert obs.sensor_id == "report:R1"
        assert obs.time_sigma_s == 0.0
        assert obs.attributes == {"Note": "heard, north"}

    def test_column_order_does_not_matter(self, tmp_path: Path) -> None:
        rows = [line.split(",") for line in OBS_CSV.splitlines()]
        reordered = tmp_path / "reordered.csv"
        reordered.write_text("\n".join(",".join(reversed(r)) for r in rows) + "\n")
        original = tmp_path / "original.csv"
        original.write_text(OBS_CSV)
        a = read_all(ObservationCSVAdapter, original)
        b = read_all(ObservationCSVAdapter, reordered)
        assert [o.to_dict() | {"raw_sha256": None} for o in a if isinstance(o, Observation)] == [
            o.to_dict() | {"raw_sha256": None} for o in b if isinstance(o, Observation)
        ]

    def test_sigma_only_file(self, tmp_path: Path) -> None:
        path = tmp_path / "sigma.csv"
        path.write_text(
            "sensor_id,modality,kind,time,time_sigma_s,lon,lat,sigma_m\n"
            "seismic:S1,seismic,explosion,2026-11-01T12:00:00.250Z,0.1,37.5,48.1,1200\n"
        )
        (obs,) = read_all(ObservationCSVAdapter, path)
        assert isinstance(obs, Observation)
        assert obs.time == datetime(2026, 11, 1, 12, 0, 0, 250_000, tzinfo=UTC)
        assert obs.location == PointLocation(37.5, 48.1, 1_440_000.0, 0.0, 1_440_000.0)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-12", -12),
        ("0.8", 0.8),
        ("1e3", 1000.0),
        ("tank", "tank"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("1_000", "1_000"),
        ("١٢", "١٢"),
        ("0x10", "0x10"),
    ],
)
def test_attribute_value(text: str, value: object) -> None:
    parsed = attribute_value(text)
    assert parsed == value
    assert type(parsed) is type(value)
