"""InfraPy adapter: conformance on synthetic samples, and the real LANL detection sets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.ground_samples import INFRAPY_DETECTIONS, INFRAPY_JSON, INFRAPY_TABLE
from ingest.ingest_conformance import AdapterConformance, BadCase, head_of, read_all
from truceline.ingest.base import Record
from truceline.ingest.infrapy import InfraPyAdapter, azimuth_sigma_deg
from truceline.ingest.registry import adapters
from truceline.model import BearingLocation, Observation, Sensor, StationLocation


def changed(index: int, **values: object) -> bytes:
    detections = json.loads(INFRAPY_JSON)
    detections[index].update(values)
    return json.dumps(detections, indent=2).encode()


def table_line(line_no: int, text: str) -> bytes:
    lines = INFRAPY_TABLE.splitlines()
    lines[line_no - 1] = text
    return ("\n".join(lines) + "\n").encode()


class TestInfraPyJSONConformance(AdapterConformance):
    adapter = InfraPyAdapter
    suffix = ".dets.json"
    own_samples = ("infrapy-json", "infrapy-legacy-json", "infrapy-table")

    def good_content(self) -> bytes:
        return INFRAPY_JSON.encode()

    def check_records(self, records: list[Record]) -> None:
        assert [type(r).__name__ for r in records] == [
            "Sensor",
            "Observation",
            "Observation",
            "Sensor",
            "Observation",
        ]
        sensor, first, second, named, third = records
        assert sensor == Sensor(
            "infrasound:38.430,-118.304",
            "infrasound",
            lon=-118.304,
            lat=38.43,
            timing_sigma_s=0.01,
            detection_range_m=1_500_000.0,
        )
        assert isinstance(first, Observation)
        assert (first.modality, first.kind, first.time_sigma_s) == ("infrasound", "explosion", 5.0)
        assert first.time == datetime(2010, 1, 1, 12, 25, 58, tzinfo=UTC)
        sigma = azimuth_sigma_deg(12.5, 5)
        assert first.location == BearingLocation(-118.304, 38.43, 237.0, sigma, 1_500_000.0)
        assert first.attributes == {"f_stat": 12.5, "trace_velocity_mps": 345.0, "array_dim": 5}
        assert isinstance(second, Observation)
        assert second.time == datetime(2010, 1, 1, 12, 39, 16, 970_000, tzinfo=UTC)
        assert second.attributes == {
            "f_stat": 12.5,
            "trace_velocity_mps": 345.0,
            "array_dim": 5,
            "name": "det-7",
            "method": "bartlett",
            "signal_start_s": -4.5,
            "signal_end_s": 12.0,
            "frequency_range_hz": [0.5, 5.0],
        }
        assert isinstance(named, Sensor) and named.id == "infrasound:IM.I57US"
        assert isinstance(third, Observation)
        assert third.location == StationLocation(-106.315, 35.857, 1_500_000.0)

    def bad_cases(self) -> list[BadCase]:
        return [
            BadCase("lat-range", changed(0, Latitude=95.0), "detections[0]", "Latitude"),
            BadCase("lat-missing", changed(1, Latitude=None), "detections[1]", "Latitude"),
            BadCase(
                "azimuth-text", changed(2, **{"Back Azimuth": "N"}), "detections[2]", "Back Azimuth"
            ),
            BadCase(
                "time-garbage", changed(0, **{"Time (UTC)": "noon"}), "detections[0]", "Time (UTC)"
            ),
            BadCase(
                "time-number", changed(1, **{"Time (UTC)": 12.0}), "detections[1]", "Time (UTC)"
            ),
            BadCase("array-dim", changed(0, **{"Array Dim.": 1}), "detections[0]", "Array Dim."),
            BadCase(
                "array-dim-float", changed(0, **{"Array Dim.": 4.5}), "detections[0]", "Array Dim."
            ),
            BadCase("f-negative", changed(1, **{"F Stat.": -1.0}), "detections[1]", "F Stat."),
            BadCase("unknown-key", changed(2, Colour="red"), "detections[2]", "Colour"),
            BadCase(
                "freq-range", changed(0, **{"Freq Range": [1.0]}), "detections[0]", "Freq Range"
            ),
            BadCase(
                "not-object",
                b'[{"Back Azimuth": 1, "Time (UTC)": "x"}, 3]',
                "detections[0]",
                "Latitude",
            ),
            BadCase("bad-json", b'[{"Back Azimuth": 1, "Time (UTC)": \n', 2, None),
            BadCase(
                "table-lat",
                table_line(3, "north\t-109.5\t2004-06-02T17:42:14.0\t1\t2\t4"),
                3,
                "lat",
            ),
            BadCase(
                "table-short", table_line(4, "38.4\t-118.3\t2004-06-02T17:50:38.0"), 4, "back_az"
            ),
            BadCase(
                "table-dim",
                table_line(6, "42.7\t-109.5\t2004-06-02T18:34:09.0\t1\t2\tfour"),
                6,
                "array_dim",
            ),
            BadCase(
                "table-time",
                table_line(6, "42.7\t-109.5\t2004-13-02T18:34:09.0\t1\t2\t4"),
                6,
                "time",
            ),
        ]


@pytest.mark.parametrize(
    ("f_stat", "array_dim", "expected"),
    [(75.0, 4, 8.0), (None, 4, 16.0), (0.0, 4, 16.0), (0.05, 2, 16.0)],
)
def test_azimuth_sigma_follows_infrapy_beam_width(
    f_stat: float | None, array_dim: int, expected: float
) -> None:
    # half width at half maximum = sigma * sqrt(2 ln 2), degrees
    assert azimuth_sigma_deg(f_stat, array_dim) * 1.1774100225154747 == pytest.approx(expected)


def test_table_sample_reads_every_data_line(tmp_path: Path) -> None:
    path = tmp_path / "demo.dat"
    path.write_text(INFRAPY_TABLE)
    observations = [r for r in read_all(InfraPyAdapter, path) if isinstance(r, Observation)]
    assert len(observations) == 3
    assert observations[0].location == BearingLocation(
        -109.5939, 42.7668, 234.4, azimuth_sigma_deg(43.0, 4), 1_500_000.0
    )
    assert len(INFRAPY_DETECTIONS) == 3


# --- real data: LANL InfraPy example detection sets (../shared/data/infrasound) ---

UTTR = [
    (datetime(2004, 6, 2, 17, 42, 14, tzinfo=UTC), 234.4, -109.5939, 42.7668),
    (datetime(2004, 6, 2, 17, 50, 38, tzinfo=UTC), 56.6, -118.3036, 38.4296),
    (datetime(2004, 6, 2, 18, 9, 14, tzinfo=UTC), 157.5, -117.1257, 48.2641),
]


@pytest.mark.shared_data
def test_uttr_three_array_detections(shared_data: Path) -> None:
    path = shared_data / "infrasound" / "uttr-2004-06-02.dets.json"
    assert InfraPyAdapter.can_read(path, head_of(path))
    records = read_all(InfraPyAdapter, path)
    observations = [r for r in records if isinstance(r, Observation)]
    assert len([r for r in records if isinstance(r, Sensor)]) == 3
    assert len(observations) == 3
    for obs, (time, azimuth, lon, lat) in zip(observations, UTTR, strict=True):
        assert obs.time == time
        assert isinstance(obs.location, BearingLocation)
        assert obs.location.azimuth_deg == pytest.approx(azimuth)
        assert (obs.location.station_lon, obs.location.station_lat) == (lon, lat)
        assert obs.attributes == {"f_stat": 75.0, "array_dim": 4}


@pytest.mark.shared_data
def test_association_demo_table_reads_every_line(shared_data: Path) -> None:
    path = shared_data / "infrasound" / "association-demo-set1.dat"
    data_lines = [
        line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]
    records = read_all(InfraPyAdapter, path)
    assert len([r for r in records if isinstance(r, Observation)]) == len(data_lines) == 10
    assert len([r for r in records if isinstance(r, Sensor)]) == 4


@pytest.mark.shared_data
@pytest.mark.parametrize("array", ["DLIAR", "I57US", "NVIAR", "PDIAR"])
def test_blom2020_synthetic_sets_read(shared_data: Path, array: str) -> None:
    path = shared_data / "infrasound" / "blom2020-synthetic" / f"{array}.dets.json"
    assert InfraPyAdapter.can_read(path, head_of(path))
    records = read_all(InfraPyAdapter, path)
    assert isinstance(records[0], Sensor)
    assert {r.id for r in records if isinstance(r, Sensor)} == {records[0].id}
    assert len(records) == 1 + len(json.loads(path.read_text()))


@pytest.mark.shared_data
def test_brp_sac_files_are_not_claimed(shared_data: Path) -> None:
    from truceline.ingest.detections import DetectionsCSVAdapter
    from truceline.ingest.stations import StationCSVAdapter, StationXMLAdapter

    ours = (InfraPyAdapter, DetectionsCSVAdapter, StationCSVAdapter, StationXMLAdapter)
    files = sorted((shared_data / "infrasound" / "brp-array").glob("*.SAC"))
    assert files
    for path in files:
        assert not any(adapter.can_read(path, head_of(path)) for adapter in ours), path
    assert adapters()  # the registry still loads with these files around
