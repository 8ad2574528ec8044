"""Observed share of an agreement zone, and where it was not observed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import shapely
from shapely.geometry import LineString, box
from shapely.geometry.base import BaseGeometry

from truceline.coverage.zones import zone_coverage_fraction
from truceline.model import Coverage
from truceline.reports.base import ReportError

DAY = datetime(2026, 11, 2, tzinfo=UTC)
NEXT = datetime(2026, 11, 3, tzinfo=UTC)
#: about 14.9 km x 2.2 km at 48° N
BAND = box(37.5, 48.0, 37.7, 48.02)


@dataclass(frozen=True)
class ZoneMap:
    """A minimal agreement for the map protocol: one band and one declared point site."""

    zones: dict[str, BaseGeometry] = field(
        default_factory=lambda: {"band": BAND, "site": shapely.Point(37.6, 48.01)}
    )
    id: str = "test-agreement"
    version: int = 1
    version_id: str = "0" * 64
    title: str = "test"
    parties: Sequence[str] = ("A", "B")
    contact_line: BaseGeometry = field(
        default_factory=lambda: LineString([(37.4, 48.0), (37.8, 48.0)])
    )

    @property
    def zone_ids(self) -> Sequence[str]:
        return tuple(self.zones)

    def zone_geometry(self, zone_id: str) -> BaseGeometry:
        return self.zones[zone_id]


def cover(
    area: BaseGeometry,
    start: datetime = DAY,
    end: datetime = NEXT,
    p: float = 0.9,
    target: str = "heavy_weapon",
    sensor: str = "drone:D1",
) -> Coverage:
    return Coverage(sensor, start, end, area.wkt, p, target)


def test_half_the_band_observed() -> None:
    west = box(37.4, 47.9, 37.6, 48.1)
    report = zone_coverage_fraction(ZoneMap(), "band", [cover(west)], DAY, NEXT)
    assert report.fraction_observed == pytest.approx(0.5, abs=0.002)
    assert report.area_m2 == pytest.approx(14_900 * 2_224, rel=0.01)
    assert report.sensors == ("drone:D1",) and report.windows == 1
    # the unobserved part is the eastern half, in lon/lat
    east = box(37.6, 48.0, 37.7, 48.02)
    assert report.unobserved.symmetric_difference(east).area < 1e-4 * east.area


def test_windows_outside_the_period_or_target_do_not_count() -> None:
    whole = box(37.4, 47.9, 37.8, 48.1)
    earlier = cover(whole, DAY.replace(day=1), DAY.replace(day=1, hour=6))
    other = cover(whole, target="explosion", sensor="acoustic:A1")
    weak = cover(whole, p=0.2, sensor="drone:D2")
    coverage = [earlier, other, weak]
    assert zone_coverage_fraction(ZoneMap(), "band", [earlier], DAY, NEXT).fraction_observed == 0
    assert zone_coverage_fraction(ZoneMap(), "band", coverage, DAY, NEXT).fraction_observed == 1
    only_heavy = zone_coverage_fraction(
        ZoneMap(), "band", coverage, DAY, NEXT, target="heavy_weapon"
    )
    assert only_heavy.sensors == ("drone:D2",)
    likely = zone_coverage_fraction(
        ZoneMap(), "band", coverage, DAY, NEXT, target="heavy_weapon", min_detection_probability=0.5
    )
    assert likely.fraction_observed == 0.0 and likely.unobserved.area == pytest.approx(BAND.area)


def test_several_passes_overlap() -> None:
    passes = [cover(box(37.5 + 0.02 * i, 47.9, 37.55 + 0.02 * i, 48.1)) for i in range(3)]
    report = zone_coverage_fraction(ZoneMap(), "band", passes, DAY, NEXT)
    assert report.fraction_observed == pytest.approx(0.45, abs=0.003)
    assert report.windows == 3


def test_bad_zones_are_refused() -> None:
    with pytest.raises(ReportError, match="unknown zone"):
        zone_coverage_fraction(ZoneMap(), "nowhere", [], DAY, NEXT)
    with pytest.raises(ReportError, match="no area"):
        zone_coverage_fraction(ZoneMap(), "site", [], DAY, NEXT)
    with pytest.raises(ValueError, match="ends before"):
        zone_coverage_fraction(ZoneMap(), "band", [], NEXT, DAY)
