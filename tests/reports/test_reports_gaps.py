"""Coverage gaps: observed share of zones, computed in metres."""

from __future__ import annotations

from datetime import timedelta

import pytest
from shapely.geometry import Polygon, box

from reports.reports_testkit import DZ, T0, T1, FakeAgreement, default_zones, make_coverage
from truceline.model import Coverage
from truceline.reports import ReportError, ZoneCoverage, coverage_in_period, zone_coverage
from truceline.reports.geometry import frame_for
from truceline.reports.text import fmt_percent


def gaps_for(
    agreement: FakeAgreement, coverage: list[Coverage], **kw: object
) -> dict[str, ZoneCoverage]:
    frame = frame_for([agreement.contact_line])
    results = zone_coverage(agreement, coverage, T0, T1, frame=frame, **kw)  # type: ignore[arg-type]
    return {r.zone_id: r for r in results}


def test_half_covered_zone_is_half_observed(agreement: FakeAgreement) -> None:
    west_half = make_coverage(box(30.0, 47.9, 30.3, 48.1))
    gap = gaps_for(agreement, [west_half])["disengagement"]
    assert gap.fraction_observed == pytest.approx(0.5, abs=0.01)
    assert gap.fraction_unobserved == pytest.approx(0.5, abs=0.01)
    assert gap.area_m2 == pytest.approx(29_800.0 * 4_448.0, rel=0.01)
    assert gap.windows == 1
    # The unobserved part is the east half, in lon/lat.
    east_half = box(30.3, 47.98, 30.5, 48.02)
    assert gap.unobserved.symmetric_difference(east_half).area < 1e-6 * east_half.area
    statement = gap.statement(T0, T1)
    assert statement.startswith(fmt_percent(gap.fraction_unobserved) + " of zone disengagement")
    assert "was not observed by any sensor between 2026-11-02T00:00:00Z and" in statement


def test_overlapping_windows_count_once(agreement: FakeAgreement) -> None:
    west_half = box(30.0, 47.9, 30.3, 48.1)
    again = make_coverage(west_half, sensor="sat:S1")
    gap = gaps_for(agreement, [make_coverage(west_half), again])["disengagement"]
    assert gap.fraction_observed == pytest.approx(0.5, abs=0.01)
    assert gap.windows == 2


def test_windows_outside_the_period_do_not_count(agreement: FakeAgreement) -> None:
    before = make_coverage(DZ, start=T0 - timedelta(days=2), end=T0 - timedelta(seconds=1))
    after = make_coverage(DZ, start=T1 + timedelta(seconds=1), end=T1 + timedelta(days=1))
    touching = make_coverage(box(30.0, 47.9, 30.2, 48.1), start=T1, end=T1 + timedelta(hours=1))
    assert coverage_in_period([before, after, touching], T0, T1) == [touching]
    gap = gaps_for(agreement, [before, after, touching])["disengagement"]
    assert gap.fraction_observed == pytest.approx(0.25, abs=0.01)


def test_fully_covered_zone_has_no_gap(agreement: FakeAgreement) -> None:
    gap = gaps_for(agreement, [make_coverage(DZ.buffer(0.01))])["disengagement"]
    assert gap.fraction_unobserved == 0.0
    assert gap.unobserved.is_empty
    assert gap.statement(T0, T1).startswith("All of zone disengagement")


def test_exactly_covered_zone_has_no_gap(agreement: FakeAgreement) -> None:
    gap = gaps_for(agreement, [make_coverage(DZ)])["disengagement"]
    assert gap.fraction_unobserved == 0.0


def test_no_coverage_means_nothing_observed(agreement: FakeAgreement) -> None:
    gaps = gaps_for(agreement, [])
    assert sorted(gaps) == ["band_A_15km", "band_B_15km", "disengagement"]
    assert all(g.fraction_unobserved == 1.0 for g in gaps.values())
    assert gaps["disengagement"].statement(T0, T1).startswith("100% of zone disengagement")


def test_default_skips_zones_without_area_but_naming_one_is_an_error(
    agreement: FakeAgreement,
) -> None:
    assert "site_depot_B" not in gaps_for(agreement, [])
    with pytest.raises(ReportError, match=r"site_depot_B.*no area"):
        gaps_for(agreement, [], zone_ids=["site_depot_B"])
    with pytest.raises(ReportError, match="unknown zone 'nowhere'"):
        gaps_for(agreement, [], zone_ids=["nowhere"])


def test_named_zones_keep_their_order(agreement: FakeAgreement) -> None:
    frame = frame_for([agreement.contact_line])
    results = zone_coverage(agreement, [], T0, T1, frame, zone_ids=["disengagement", "band_A_15km"])
    assert [r.zone_id for r in results] == ["disengagement", "band_A_15km"]


def test_invalid_coverage_area_is_refused(agreement: FakeAgreement) -> None:
    bowtie = Polygon([(30.0, 47.9), (30.3, 48.1), (30.3, 47.9), (30.0, 48.1)])
    with pytest.raises(ReportError, match=r"coverage of drone:D1 .*invalid area"):
        gaps_for(agreement, [make_coverage(bowtie)])
    broken = Coverage("drone:D1", T0, T1, "POLYGON ((30 48, 31", 0.9)
    with pytest.raises(ReportError, match="unreadable area_wkt"):
        gaps_for(agreement, [broken])


def test_invalid_zone_is_refused() -> None:
    zones = {**default_zones(), "bad": Polygon([(30, 48), (30.2, 48.1), (30.2, 48), (30, 48.1)])}
    with pytest.raises(ReportError, match="zone 'bad': invalid geometry"):
        gaps_for(FakeAgreement(zones=zones), [])


@pytest.mark.parametrize(
    ("fraction", "text"),
    [
        (0.0, "0%"),
        (1e-6, "<0.1%"),
        (0.5, "50.0%"),
        (0.12345, "12.3%"),
        (0.99999, ">99.9%"),
        (1.0, "100%"),
    ],
)
def test_percent_never_rounds_a_gap_away(fraction: float, text: str) -> None:
    assert fmt_percent(fraction) == text
