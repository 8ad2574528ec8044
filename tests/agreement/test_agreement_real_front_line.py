"""The demo agreement built on the real 2023 front line (ISW-derived, ~1,060 km)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, shape

from agreement.agreement_testkit import DAY, T0, event
from truceline.agreement import (
    Agreement,
    adjudicate,
    agreement_from_dict,
    check_agreement,
    demo_agreement_dict,
    load_agreement,
    write_demo_agreement,
)

pytestmark = pytest.mark.shared_data

# Known places (lon, lat) and who held them in early 2023.
ZAPORIZHZHIA = (35.14, 47.84)  # Ukrainian-held, decides the orientation
KHARKIV = (36.23, 49.99)  # Ukrainian-held
KRAMATORSK = (37.56, 48.72)  # Ukrainian-held
DONETSK = (37.80, 48.00)  # Russian-held
MELITOPOL = (35.37, 46.85)  # Russian-held


@pytest.fixture(scope="module")
def front_line(shared_data: Path) -> object:
    path = shared_data / "front-line" / "front-line-2023.geojson"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return shape(json.loads(path.read_text())["geometry"])


@pytest.fixture(scope="module")
def real(front_line: object, tmp_path_factory: pytest.TempPathFactory) -> Agreement:
    # Ukraine is "west", the Russian-controlled area "east"; which of them is on the
    # left walking the line in coordinate order is decided from a city we know.
    probe = agreement_from_dict(demo_agreement_dict(front_line))
    left, right = ("west", "east") if probe.side_of(*ZAPORIZHZHIA) == "west" else ("east", "west")
    folder = tmp_path_factory.mktemp("real")
    path = write_demo_agreement(folder, front_line, left_party=left, right_party=right)
    assert check_agreement(path) == []
    return load_agreement(path)


def test_real_front_line_is_valid_and_sides_are_right(real: Agreement) -> None:
    assert real.contact_line.geom_type == "MultiLineString"
    assert real.side_of(*KHARKIV) == "west"
    assert real.side_of(*KRAMATORSK) == "west"
    assert real.side_of(*DONETSK) == "east"
    assert real.side_of(*MELITOPOL) == "east"


def test_real_distances_are_plausible(real: Agreement) -> None:
    # Donetsk city lay a few km behind the line, Kharkiv far behind it
    assert 2_000 < real.distance_to_line_m(*DONETSK) < 25_000
    assert real.distance_to_line_m(*KHARKIV) > 60_000
    assert "deep-rear" in real.zones_at(*KHARKIV)
    assert "east-15km" in real.zones_at(*DONETSK)


def test_real_line_vectorised_queries_match_single_points(real: Agreement) -> None:
    rng = np.random.default_rng(2023)
    lons = rng.uniform(31.0, 40.0, 20_000)
    lats = rng.uniform(45.5, 51.0, 20_000)
    sides = real.side_of_many(lons, lats)
    distances = real.distance_to_line_many(lons, lats)
    assert set(sides.tolist()) <= {"west", "east", None}
    assert {"west", "east"} <= set(sides.tolist())
    for i in range(0, 20_000, 500):
        assert sides[i] == real.side_of(lons[i], lats[i])
        assert distances[i] == pytest.approx(real.distance_to_line_m(lons[i], lats[i]), abs=1e-6)


def test_real_deep_strike_on_kharkiv(real: Agreement) -> None:
    findings = adjudicate([event("impact", KHARKIV, time=T0 + DAY)], [real])
    strike = next(f for f in findings if f.rule_id == "deep-strike")
    assert strike.side == "west" and strike.escalation_level == "attack"


def test_real_zone_drawing(real: Agreement) -> None:
    east = real.zone_geometry("east-15km")
    west = real.zone_geometry("west-15km")
    assert east.is_valid and west.is_valid
    assert east.contains(Point(DONETSK)) and not west.contains(Point(DONETSK))
    # the two sides' bands meet along the line but do not overlap
    assert east.intersection(west).area < 1e-6 * east.area
