"""The static map: valid PNG, deterministic, robust to hostile labels."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from shapely.geometry import LineString, MultiLineString, box

from reports.reports_testkit import T0, T1, FakeAgreement, default_findings, default_zones
from truceline.reports import ReportError, zone_coverage
from truceline.reports.geometry import frame_for
from truceline.reports.staticmap import render_map


def draw(agreement: FakeAgreement, title: str = "map") -> bytes:
    gaps = zone_coverage(agreement, [], T0, T1, frame_for([agreement.contact_line]))
    return render_map(agreement, default_findings(), [box(30.0, 47.9, 30.3, 48.1)], gaps, title)


def test_map_is_a_png_of_the_requested_width(agreement: FakeAgreement) -> None:
    png = draw(agreement)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert 600 < image.width <= 1100 and 300 < image.height < 1500


def test_map_is_deterministic(agreement: FakeAgreement) -> None:
    assert draw(agreement) == draw(agreement)


def test_hostile_labels_are_drawn_literally() -> None:
    zones = {
        **default_zones(),
        "$\\frac{a}{$": box(30.0, 48.2, 30.1, 48.3),
        "_hidden": box(30.1, 48.2, 30.2, 48.3),
    }
    agreement = FakeAgreement(zones=zones)
    assert draw(agreement, title="$\\notacommand{$ & <b>").startswith(b"\x89PNG")


def test_multiline_contact_line_and_no_zones() -> None:
    line = MultiLineString([[(30.0, 48.0), (30.2, 48.0)], [(30.3, 48.0), (30.5, 48.1)]])
    assert draw(FakeAgreement(zones={}, contact_line=line)).startswith(b"\x89PNG")


def test_nothing_to_map_is_an_error() -> None:
    empty = FakeAgreement(zones={}, contact_line=LineString())
    with pytest.raises(ReportError, match="nothing to map"):
        render_map(empty, [], [], [], "empty")
