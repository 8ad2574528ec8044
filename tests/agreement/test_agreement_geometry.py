"""Sides of and distances to the contact line, including near bends and across parts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString

from agreement.agreement_testkit import FRONT, GEOD, offset
from truceline.agreement import Agreement, agreement_from_dict, demo_agreement_dict
from truceline.agreement.polyline import LEFT, ON_LINE, RIGHT, Polyline


def on(line: Any) -> Agreement:
    return agreement_from_dict(demo_agreement_dict(line))


# -- Polyline in metres ----------------------------------------------------------------------


def test_straight_segment_sides_and_distances() -> None:
    line = Polyline([[(0.0, 0.0), (100.0, 0.0)]])
    x = np.array([50.0, 50.0, 50.0, -30.0, 140.0])
    y = np.array([10.0, -10.0, 0.0, 40.0, -30.0])
    assert line.side(x, y).tolist() == [LEFT, RIGHT, ON_LINE, LEFT, RIGHT]
    np.testing.assert_allclose(line.distance(x, y), [10.0, 10.0, 0.0, 50.0, 50.0])


def test_sharp_bend_is_decided_by_the_bend_not_by_one_segment() -> None:
    # east 100 m, then back west-north-west: a hairpin turning left
    line = Polyline([[(0.0, 0.0), (100.0, 0.0), (0.0, 10.0)]])
    # just beyond the tip: the outside of a left turn is the right side,
    # although the point is left of the first segment's line
    assert line.side([105.0], [2.0]).tolist() == [RIGHT]
    # inside the hairpin: left of both segments
    assert line.side([50.0], [4.0]).tolist() == [LEFT]
    # mirrored: a right-turning hairpin puts the tip's outside on the left
    mirror = Polyline([[(0.0, 0.0), (100.0, 0.0), (0.0, -10.0)]])
    assert mirror.side([105.0], [-2.0]).tolist() == [LEFT]
    assert mirror.side([50.0], [-4.0]).tolist() == [RIGHT]


def test_right_angle_bend_every_quadrant() -> None:
    # east along y=0 to the origin, then north along x=0: a left turn
    line = Polyline([[(-100.0, 0.0), (0.0, 0.0), (0.0, 100.0)]])
    xs = np.array([-10.0, 10.0, 10.0, -10.0, 30.0])
    ys = np.array([10.0, 10.0, -10.0, -10.0, -1.0])
    assert line.side(xs, ys).tolist() == [LEFT, RIGHT, RIGHT, RIGHT, RIGHT]


def test_nearest_part_decides_and_small_gaps_can_be_joined() -> None:
    parts = [[(0.0, 0.0), (100.0, 0.0)], [(100.0, 1.0), (100.0, 100.0)]]
    # the point lies in the wedge beyond the end of part 0: as separate parts
    # the end segment's extension puts it on the left, joined the bend rule says right
    assert Polyline(parts).side([103.0], [-0.5]).tolist() == [RIGHT]
    assert Polyline(parts).side([110.0], [-8.0]).tolist() == [RIGHT]
    separate = Polyline([[(0.0, 0.0), (100.0, 0.0)], [(0.0, 50.0), (100.0, 50.0)]])
    assert separate.side([50.0, 50.0, 50.0], [-5.0, 45.0, 60.0]).tolist() == [RIGHT, RIGHT, LEFT]


def test_chunked_search_matches_shapely() -> None:
    rng = np.random.default_rng(7)
    coords = np.cumsum(rng.normal(0.0, 100.0, size=(400, 2)), axis=0)
    line = Polyline([coords])
    # 30,000 points x 399 segments spans several chunks
    x = rng.uniform(coords[:, 0].min(), coords[:, 0].max(), 30_000)
    y = rng.uniform(coords[:, 1].min(), coords[:, 1].max(), 30_000)
    expected = shapely.distance(shapely.points(x, y), LineString(coords))
    np.testing.assert_allclose(line.distance(x, y), expected, rtol=1e-9, atol=1e-6)


def test_polyline_rejects_degenerate_parts() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        Polyline([[(1.0, 1.0), (1.0, 1.0)]])
    with pytest.raises(ValueError, match="at least one part"):
        Polyline([])


# -- Agreement in lon/lat ----------------------------------------------------------------------


def test_sides_of_a_meridian_front() -> None:
    agreement = on(FRONT)
    assert agreement.side_of(*offset(-5_000)) == "west"
    assert agreement.side_of(*offset(5_000)) == "east"
    assert agreement.side_of(30.0, 48.0) is None
    # beyond the ends the end segments extend the line
    assert agreement.side_of(29.9, 50.0) == "west"
    assert agreement.side_of(30.1, 46.0) == "east"


def test_distance_is_geodesic() -> None:
    agreement = on(FRONT)
    for metres in (10.0, 1_000.0, 15_000.0, 140_000.0):
        assert agreement.distance_to_line_m(*offset(metres)) == pytest.approx(metres, rel=1e-4)
        assert agreement.distance_to_line_m(*offset(-metres)) == pytest.approx(metres, rel=1e-4)
    # beyond the northern end: distance to the end point
    _, _, expected = GEOD.inv(30.0, 49.0, 30.3, 49.2)
    assert agreement.distance_to_line_m(30.3, 49.2) == pytest.approx(expected, rel=1e-3)


def test_vectorised_helpers_match_scalar_ones() -> None:
    agreement = on(LineString([(30.0, 47.0), (30.4, 47.6), (30.1, 48.2), (30.6, 48.9)]))
    rng = np.random.default_rng(3)
    lons = rng.uniform(29.0, 31.5, 200)
    lats = rng.uniform(46.5, 49.5, 200)
    sides = agreement.side_of_many(lons, lats)
    distances = agreement.distance_to_line_many(lons, lats)
    for i in range(0, 200, 17):
        assert sides[i] == agreement.side_of(lons[i], lats[i])
        assert distances[i] == agreement.distance_to_line_m(lons[i], lats[i])
    with pytest.raises(ValueError, match="longitudes"):
        agreement.side_of_many([1.0, 2.0], [1.0])


def test_bend_in_lon_lat() -> None:
    # north, then a hairpin back south-south-west: the tip's outside is east (right)
    agreement = on(LineString([(30.0, 47.0), (30.0, 48.0), (29.95, 47.0)]))
    assert agreement.side_of(30.001, 48.01) == "east"
    assert agreement.side_of(29.99, 47.5) == "west"  # inside the hairpin
    assert agreement.side_of(30.02, 47.5) == "east"


def test_multilinestring_nearest_part() -> None:
    line = MultiLineString(
        [[(30.0, 47.0), (30.0, 48.0)], [(31.0, 48.5), (31.0, 49.5)]]  # 75 km apart
    )
    agreement = on(line)
    assert agreement.side_of(29.9, 47.5) == "west"
    assert agreement.side_of(30.9, 49.0) == "west"
    assert agreement.side_of(31.1, 49.0) == "east"
    # closer to the second part's western side than to the first's eastern side
    assert agreement.side_of(30.8, 48.6) == "west"
    assert agreement.distance_to_line_m(30.8, 49.0) == pytest.approx(
        GEOD.inv(30.8, 49.0, 31.0, 49.0)[2], rel=1e-3
    )


def test_reference_lines_default_to_the_contact_line() -> None:
    agreement = on(FRONT)
    assert agreement.reference_line("west").equals(agreement.contact_line)
    with pytest.raises(KeyError, match="unknown party"):
        agreement.reference_line("north")
