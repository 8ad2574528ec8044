"""Association of real and published infrasound detections (../shared/data/infrasound)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from truceline.ground.associate import AssociationConfig, AssociationResult, associate
from truceline.ground.base import Arrival
from truceline.model.geo import WGS84_GEOD

pytestmark = pytest.mark.shared_data

#: Assumed pick uncertainties of these catalogues (they state none): arrival
#: time 10 s, back azimuth 3 degrees; detections beyond 3000 km are not expected.
TIME_SIGMA_S, AZ_SIGMA_DEG, MAX_RANGE_M = 10.0, 3.0, 3_000_000.0


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _arrival(aid: str, station: str, lat: float, lon: float, time: str, baz: float) -> Arrival:
    return Arrival(
        aid, station, lon, lat, _epoch(time), TIME_SIGMA_S, baz % 360.0, AZ_SIGMA_DEG,
        MAX_RANGE_M, "explosion", 1.0,
    )  # fmt: skip


def _bearings_cross_at_event(result: AssociationResult, arrivals: list[Arrival]) -> None:
    by_id = {a.id: a for a in arrivals}
    for event in result.events:
        for member in event.members:
            a = by_id[member]
            az, _, dist = WGS84_GEOD.inv(a.lon, a.lat, event.lon, event.lat)
            miss_deg = abs((float(az) - a.azimuth_deg + 180.0) % 360.0 - 180.0)  # type: ignore[operator]
            assert miss_deg <= 3.0 * AZ_SIGMA_DEG + math.degrees(30_000.0 / float(dist))
            travel = a.time_s - event.origin_s
            assert travel > 0.0 and 200.0 < float(dist) / travel < 400.0  # a celerity


def test_association_demo_set1(shared_data: Path) -> None:
    path = shared_data / "infrasound" / "association-demo-set1.dat"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    rows = [
        line.split()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    arrivals = [
        _arrival(f"row{k:02d}", f"{lat}/{lon}", float(lat), float(lon), t, float(baz))
        for k, (lat, lon, t, baz, _f, _dim) in enumerate(rows, start=1)
    ]
    result = associate(arrivals, config=AssociationConfig.regional())
    # Two events: the UTTR detonation of 2004-06-02 (rows 1-4: the uttr dets
    # plus the I57US row) and a second source heard by three arrays (rows 5-7);
    # rows 8-10 do not point at a common source within a celerity window.
    assert [e.members for e in result.events] == [
        ("row01", "row02", "row03", "row04"),
        ("row05", "row06", "row07"),
    ]
    assert result.unassociated == ("row08", "row09", "row10")
    uttr = result.events[0]
    _, _, miss = WGS84_GEOD.inv(uttr.lon, uttr.lat, -113.1317, 41.1315)  # UTTR, Utah
    assert float(miss) < 50_000.0
    _bearings_cross_at_event(result, arrivals)


def test_blom2020_synthetic_three_events(shared_data: Path) -> None:
    folder = shared_data / "infrasound" / "blom2020-synthetic"
    files = sorted(folder.glob("*.dets.json"))
    if len(files) != 4:
        pytest.skip(f"{folder}: the four .dets.json files are not there")
    arrivals = []
    for path in files:
        array = path.name.split(".")[0]
        for k, det in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            lat, lon, time = det["Latitude"], det["Longitude"], det["Time (UTC)"]
            arrivals.append(_arrival(f"{array}-{k}", array, lat, lon, time, det["Back Azimuth"]))
    result = associate(arrivals, config=AssociationConfig.regional())
    big = [e for e in result.events if e.n_stations >= 3]
    assert len(big) == 3
    # each of the three events is heard by the arrays whose bearings cluster
    members = [set(e.members) for e in big]
    assert {"DLIAR-1", "I57US-1", "NVIAR-0", "PDIAR-1"} <= members[0]
    assert {"I57US-3", "NVIAR-2"} <= members[1]
    assert {"DLIAR-3", "I57US-2", "NVIAR-1", "PDIAR-4"} <= members[2]
    # later ducted phases of the same events join them instead of making ghosts
    assert {"DLIAR-0", "DLIAR-2", "PDIAR-0", "PDIAR-2"} <= set(big[0].later_phases)
    _bearings_cross_at_event(result, arrivals)
