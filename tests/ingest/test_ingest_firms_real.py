"""FIRMS adapter against the real files in ../shared/data/firms-ukraine (skipped when absent)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.ingest_conformance import head_of, read_all
from truceline.ingest.base import Record
from truceline.ingest.firms import FirmsAdapter
from truceline.ingest.registry import detect
from truceline.model import Observation, PointLocation, RecordError, Sensor, sha256_hex

pytestmark = pytest.mark.shared_data

VIIRS_FILE = "J1_VIIRS_C2_Global_VJ114IMGTDL_NRT_2025223.txt.csv"
MODIS_FILE = "MODIS_C6_1_Global_MCD14DL_NRT_2025223.txt.csv"

#: Column order of the FIRMS API CSV (instrument moves before confidence).
API_COLUMNS = {
    "bright_ti4": "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,"
    "instrument,confidence,version,bright_ti5,frp,daynight",
    "brightness": "latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,"
    "instrument,confidence,version,bright_t31,frp,daynight",
}
API_SATELLITE = {"N20": "1", "N": "N", "N21": "N21", "A": "Aqua", "T": "Terra"}
API_CONFIDENCE = {"low": "l", "nominal": "n", "high": "h"}


@pytest.fixture(scope="module")
def firms_dir(shared_data: Path) -> Path:
    folder = shared_data / "firms-ukraine"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


@pytest.fixture(scope="module")
def country_2023(firms_dir: Path) -> tuple[Path, list[Record]]:
    path = firms_dir / "ukr_fire_data_2023.csv"
    return path, read_all(FirmsAdapter, path)


def observations(records: list[Record]) -> list[Observation]:
    return [r for r in records if isinstance(r, Observation)]


def first_data_line(path: Path) -> bytes:
    return path.read_bytes().split(b"\n")[1].rstrip(b"\r")


def to_api_csv(archive: Path, target: Path) -> Path:
    """Rewrite an archive .txt file as the FIRMS API writes it.

    HH:MM:SS -> HHMM (alternately zero-padded and not), confidence words -> l/n/h,
    satellite codes -> the API's, columns in the API's order.
    """
    with archive.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    brightness = "bright_ti4" if "bright_ti4" in rows[0] else "brightness"
    columns = API_COLUMNS[brightness].split(",")
    out = io.StringIO()
    out.write(",".join(columns) + "\n")
    for index, row in enumerate(rows):
        hhmm = row["acq_time"][:2] + row["acq_time"][3:5]
        row["acq_time"] = hhmm if index % 2 else str(int(hhmm))
        row["confidence"] = API_CONFIDENCE.get(row["confidence"], row["confidence"])
        row["satellite"] = API_SATELLITE[row["satellite"]]
        out.write(",".join(row[c] for c in columns) + "\n")
    target.write_text(out.getvalue())
    return target


def comparable(record: Record) -> dict[str, Any]:
    """A record's content without what legitimately differs between the shapes."""
    if isinstance(record, Sensor):
        return record.to_dict()
    content = record.to_dict()
    for key in ("shape", "confidence_raw"):
        content["attributes"].pop(key)
    content.pop("raw_sha256")
    return content


class TestRealArchiveFiles:
    def test_viirs_noaa20_file(self, firms_dir: Path) -> None:
        path = firms_dir / "full-columns" / VIIRS_FILE
        assert detect(path) is FirmsAdapter
        records = read_all(FirmsAdapter, path)
        assert [r.id for r in records if isinstance(r, Sensor)] == ["firms:VIIRS:NOAA-20"]
        obs = observations(records)
        assert len(obs) == 307
        first = obs[0]
        # First row: 48.26382,37.21014,297.54,0.53,0.67,2025-08-11,00:45:00,N20,nominal,...
        assert first.time == datetime(2025, 8, 11, 0, 45, tzinfo=UTC)
        assert first.attributes["confidence_raw"] == "nominal"
        assert first.attributes["confidence"] == 0.55
        assert first.attributes["frp_mw"] == 0.36
        assert first.attributes["version"] == "2.0NRT"
        assert first.centre == (37.21014, 48.26382)
        assert first.raw_sha256 == sha256_hex(first_data_line(path))
        assert {o.attributes["shape"] for o in obs} == {"archive"}
        confidences = {o.attributes["confidence_raw"] for o in obs}
        assert confidences == {"low", "nominal", "high"}

    def test_modis_file(self, firms_dir: Path) -> None:
        path = firms_dir / "full-columns" / MODIS_FILE
        records = read_all(FirmsAdapter, path)
        sensors = [r.id for r in records if isinstance(r, Sensor)]
        assert sensors == ["firms:MODIS:Aqua", "firms:MODIS:Terra"]
        obs = observations(records)
        assert len(obs) == 64
        first = obs[0]
        # First row: 46.66952,31.9884,303.7,1.25,1.11,2025-08-11,01:34:00,A,56,6.1NRT,...
        assert first.sensor_id == "firms:MODIS:Aqua"
        assert first.time == datetime(2025, 8, 11, 1, 34, tzinfo=UTC)
        assert first.attributes["confidence_raw"] == "56"
        assert first.attributes["confidence"] == 0.56
        assert first.attributes["brightness_k"] == 303.7
        assert all(0.0 <= o.attributes["confidence"] <= 1.0 for o in obs)

    def test_pixel_covariance_grows_off_nadir(self, firms_dir: Path) -> None:
        obs = observations(read_all(FirmsAdapter, firms_dir / "full-columns" / MODIS_FILE))
        sizes = [(o.attributes["scan_km"], o.location) for o in obs]
        small = min(sizes, key=lambda s: s[0])
        large = max(sizes, key=lambda s: s[0])
        assert isinstance(small[1], PointLocation) and isinstance(large[1], PointLocation)
        assert large[1].cov_ee > 10 * small[1].cov_ee

    @pytest.mark.parametrize("name", [VIIRS_FILE, MODIS_FILE])
    def test_api_shape_gives_the_same_observations(
        self, name: str, firms_dir: Path, tmp_path: Path
    ) -> None:
        archive = firms_dir / "full-columns" / name
        api = to_api_csv(archive, tmp_path / "api.csv")
        assert FirmsAdapter.can_read(api, head_of(api))
        from_archive = read_all(FirmsAdapter, archive)
        from_api = read_all(FirmsAdapter, api)
        assert [comparable(r) for r in from_api] == [comparable(r) for r in from_archive]
        assert {r.attributes["shape"] for r in observations(from_api)} == {"api"}
        assert {r.attributes["confidence_raw"] for r in observations(from_api)} <= set("lnh") | {
            str(p) for p in range(101)
        }


class TestRealCountryFile:
    def test_2023_row_count_and_first_row(self, country_2023: tuple[Path, list[Record]]) -> None:
        path, records = country_2023
        assert detect(path) is FirmsAdapter
        sensors = [r for r in records if isinstance(r, Sensor)]
        assert [s.id for s in sensors] == ["firms:unknown:unknown"]
        obs = observations(records)
        assert len(obs) == 98_287
        first = obs[0]
        assert first.centre == (24.7094, 48.97689)
        assert first.time == datetime(2023, 1, 1, tzinfo=UTC)
        assert first.time_end == datetime(2023, 1, 2, tzinfo=UTC)
        assert first.raw_sha256 == sha256_hex(first_data_line(path))
        assert obs[-1].time == datetime(2023, 12, 31, tzinfo=UTC)

    def test_2023_ids_are_stable(self, country_2023: tuple[Path, list[Record]]) -> None:
        path, records = country_2023
        again = read_all(FirmsAdapter, path)
        sample = slice(0, None, 997)
        ids = [r.id for r in observations(records)[sample]]
        assert ids == [r.id for r in observations(again)[sample]]


class TestCorruptedRealFiles:
    """Real files with one defect injected: the error names the line and column."""

    @staticmethod
    def corrupt(source: Path, target: Path, line_no: int, column: str, value: str) -> Path:
        lines = source.read_text().splitlines()
        header = lines[0].split(",")
        position = [c.lower() for c in header].index(column.lower())
        cells = lines[line_no - 1].split(",")
        cells[position] = value
        lines[line_no - 1] = ",".join(cells)
        target.write_text("\n".join(lines) + "\n")
        return target

    @pytest.mark.parametrize(
        ("line_no", "column", "value"),
        [
            (10, "frp", "0.3.6"),
            (57, "latitude", "148.2"),
            (120, "acq_time", "10:61:00"),
            (300, "acq_date", "2025-08-32"),
            (200, "confidence", "maybe"),
        ],
    )
    def test_viirs_file(
        self, firms_dir: Path, tmp_path: Path, line_no: int, column: str, value: str
    ) -> None:
        path = self.corrupt(
            firms_dir / "full-columns" / VIIRS_FILE, tmp_path / "bad.txt", line_no, column, value
        )
        with pytest.raises(RecordError) as info:
            read_all(FirmsAdapter, path)
        assert (info.value.file, info.value.record, info.value.field) == (
            str(path),
            line_no,
            column,
        )

    def test_truncated_line(self, firms_dir: Path, tmp_path: Path) -> None:
        lines = (firms_dir / "full-columns" / MODIS_FILE).read_text().splitlines()
        lines[40] = lines[40][: lines[40].index(",6.1NRT")]  # cut inside line 41
        path = tmp_path / "cut.txt"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(RecordError) as info:
            read_all(FirmsAdapter, path)
        assert (info.value.record, info.value.field) == (41, "version")
        assert "truncated" in str(info.value)

    def test_missing_column(self, firms_dir: Path, tmp_path: Path) -> None:
        lines = (firms_dir / "full-columns" / VIIRS_FILE).read_text().splitlines()
        lines[0] = lines[0].replace("satellite", "satelite")
        path = tmp_path / "renamed.txt"
        path.write_text("\n".join(lines) + "\n")
        with pytest.raises(RecordError) as info:
            read_all(FirmsAdapter, path)
        assert (info.value.record, info.value.field) == (1, "satellite")

    def test_country_file_deep_line(self, firms_dir: Path, tmp_path: Path) -> None:
        path = self.corrupt(
            firms_dir / "ukr_fire_data_2023.csv", tmp_path / "bad.csv", 54_321, "LONGITUDE", "3O.5"
        )
        with pytest.raises(RecordError) as info:
            read_all(FirmsAdapter, path)
        assert (info.value.record, info.value.field) == (54_321, "LONGITUDE")
        assert "'3O.5'" in str(info.value)
