"""Coverage gaps: how much of each zone no sensor observed during the period.

"Nothing observed" and "not observed" are different answers, so every report
states, for the agreement's zones, the share of the zone's area that lay inside
at least one sensor's coverage area at some time in the period, and the share
that did not. Areas are computed in a metric local frame, not in degrees.

The measure is spatial and deliberately generous: a point counts as observed if
any coverage window that overlaps the period covered it, whatever the detection
probability and however briefly. The unobserved share is therefore a lower
bound on what the monitors could have missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import shapely
from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import GeometryCollection
from shapely.geometry.base import BaseGeometry

from truceline.model.coverage import Coverage
from truceline.model.geo import LocalFrame
from truceline.model.timeutil import format_utc
from truceline.reports.base import MapAgreement, ReportError
from truceline.reports.geometry import from_frame, to_frame
from truceline.reports.text import fmt_area_km2, fmt_percent

__all__ = ["ZoneCoverage", "coverage_in_period", "zone_coverage"]

#: Relative area below which a remainder is numerical noise of the overlay, not a gap.
_AREA_RTOL = 1e-9


@dataclass(frozen=True)
class ZoneCoverage:
    """Observed and unobserved area of one zone over the period.

    Attributes
    ----------
    zone_id
        The zone.
    area_m2
        Zone area, m² (in the report's local frame).
    observed_m2
        Area inside the union of the period's coverage areas, m².
    windows
        Number of coverage windows that touched the zone.
    unobserved
        The part of the zone no coverage area reached, lon/lat degrees
        (empty when the whole zone was observed).
    """

    zone_id: str
    area_m2: float
    observed_m2: float
    windows: int
    unobserved: BaseGeometry

    @property
    def fraction_observed(self) -> float:
        """Observed share of the zone area, in [0, 1]."""
        return min(1.0, max(0.0, self.observed_m2 / self.area_m2))

    @property
    def fraction_unobserved(self) -> float:
        """Unobserved share of the zone area, in [0, 1]."""
        return 1.0 - self.fraction_observed

    def statement(self, start: datetime, end: datetime) -> str:
        """One sentence a reader can quote, e.g. ``"12.5% of zone dz ... not observed"``."""
        period = f"between {format_utc(start)} and {format_utc(end)}"
        size = fmt_area_km2(self.area_m2)
        if self.fraction_unobserved <= 0.0:
            return (
                f"All of zone {self.zone_id} ({size}) was within some sensor's "
                f"coverage at some time {period}."
            )
        return (
            f"{fmt_percent(self.fraction_unobserved)} of zone {self.zone_id} ({size}) "
            f"was not observed by any sensor {period}."
        )


def coverage_in_period(
    coverage: Sequence[Coverage], start: datetime, end: datetime
) -> list[Coverage]:
    """Coverage windows that overlap ``[start, end]``, sorted by sensor, start, id."""
    inside = [c for c in coverage if c.start <= end and c.end >= start]
    return sorted(inside, key=lambda c: (c.sensor_id, c.start, c.end, c.id))


def zone_coverage(
    agreement: MapAgreement,
    coverage: Sequence[Coverage],
    start: datetime,
    end: datetime,
    frame: LocalFrame,
    zone_ids: Sequence[str] | None = None,
) -> list[ZoneCoverage]:
    """Observed share of each zone during ``[start, end]``.

    Parameters
    ----------
    agreement
        Supplies the zone geometries (lon/lat degrees).
    coverage
        Coverage windows; only those overlapping the period count.
    start, end
        The period (UTC).
    frame
        Metric frame the areas are computed in; centre it on the map area.
    zone_ids
        Zones to assess; ``None`` means every zone whose geometry has an area
        (declared sites given as points are skipped).

    Returns
    -------
    list of ZoneCoverage
        In the order of ``zone_ids`` (or of the agreement's zones).

    Raises
    ------
    ReportError
        If a named zone is unknown or has no area, or a coverage area is not a
        valid geometry.
    """
    areas = [(c, _coverage_area(c)) for c in coverage_in_period(coverage, start, end)]
    metric_areas = [(c, to_frame(area, frame)) for c, area in areas]
    union = (
        shapely.union_all([m for _, m in metric_areas]) if metric_areas else GeometryCollection()
    )
    wanted = list(agreement.zone_ids if zone_ids is None else zone_ids)
    results: list[ZoneCoverage] = []
    for zone_id in wanted:
        geometry = _zone_area(agreement, zone_id, required=zone_ids is not None)
        if geometry is None:
            continue
        zone = to_frame(geometry, frame)
        observed = zone.intersection(union)
        missing = zone.difference(union)
        observed_m2 = min(float(observed.area), float(zone.area))
        if missing.area <= _AREA_RTOL * zone.area:
            missing = GeometryCollection()
            observed_m2 = float(zone.area)
        windows = sum(1 for _, m in metric_areas if m.intersects(zone))
        results.append(
            ZoneCoverage(
                zone_id=zone_id,
                area_m2=float(zone.area),
                observed_m2=observed_m2,
                windows=windows,
                unobserved=from_frame(missing, frame),
            )
        )
    return results


def _zone_area(agreement: MapAgreement, zone_id: str, *, required: bool) -> BaseGeometry | None:
    try:
        geometry = agreement.zone_geometry(zone_id)
    except KeyError:
        raise ReportError(f"agreement {agreement.id}: unknown zone {zone_id!r}") from None
    if not geometry.is_empty and not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise ReportError(f"zone {zone_id!r}: invalid geometry ({reason})")
    if geometry.is_empty or geometry.area <= 0.0:
        if required:
            raise ReportError(f"zone {zone_id!r} has no area, so it has no coverage share")
        return None
    return geometry


def _coverage_area(coverage: Coverage) -> BaseGeometry:
    where = f"coverage of {coverage.sensor_id} from {format_utc(coverage.start)}"
    try:
        area = wkt.loads(coverage.area_wkt)
    except (ShapelyError, ValueError) as exc:
        raise ReportError(f"{where}: unreadable area_wkt ({exc})") from None
    if not area.is_valid:
        raise ReportError(f"{where}: invalid area ({shapely.is_valid_reason(area)})")
    return area
