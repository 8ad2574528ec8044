"""How much of an agreement zone was observed in a period, and where it was not.

"x % of the 15 km withdrawal band was observed in the last 24 h; these areas
were not." There is one implementation of the overlay: this module selects the
coverage that counts (optionally only for one target class and above a
detection probability) and calls :func:`truceline.reports.gaps.zone_coverage`,
which the report uses for its gap table and map, in a metric frame centred on
the zone. So the report and this function always agree.

The measure is generous in the same way as the report's: a point counts as
observed if any coverage window overlapping the period covered it at all.
Filter with ``min_detection_probability`` to count only coverage that could have
seen the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry.base import BaseGeometry

from truceline.model.coverage import Coverage
from truceline.model.geo import LocalFrame
from truceline.reports.base import MapAgreement
from truceline.reports.gaps import coverage_in_period, zone_coverage

__all__ = ["ZoneCoverageReport", "zone_coverage_fraction"]


@dataclass(frozen=True)
class ZoneCoverageReport:
    """Observed share of one zone over one period.

    Attributes
    ----------
    zone_id
        The zone.
    since, until
        The period (UTC).
    area_m2
        Zone area, m².
    observed_m2
        Area of the zone inside some counted coverage window, m².
    unobserved
        The part of the zone nothing observed, lon/lat degrees (empty if none).
    sensors
        Sensors whose counted coverage touched the zone, sorted.
    windows
        Number of counted coverage windows that touched the zone.
    """

    zone_id: str
    since: datetime
    until: datetime
    area_m2: float
    observed_m2: float
    unobserved: BaseGeometry
    sensors: tuple[str, ...]
    windows: int

    @property
    def fraction_observed(self) -> float:
        """Observed share of the zone's area, in [0, 1]."""
        return min(1.0, max(0.0, self.observed_m2 / self.area_m2))

    @property
    def fraction_unobserved(self) -> float:
        """Unobserved share of the zone's area, in [0, 1]."""
        return 1.0 - self.fraction_observed


def zone_coverage_fraction(
    agreement: MapAgreement,
    zone_id: str,
    coverage: Sequence[Coverage],
    since: datetime,
    until: datetime,
    *,
    target: str | None = None,
    min_detection_probability: float = 0.0,
) -> ZoneCoverageReport:
    """Fraction of zone ``zone_id`` observed between ``since`` and ``until``.

    Parameters
    ----------
    agreement
        Supplies the zone's geometry (lon/lat degrees).
    zone_id
        The zone.
    coverage
        Coverage windows of any sensors; those overlapping the period count.
    since, until
        The period (UTC).
    target
        Count only coverage for this target class (``None``: any).
    min_detection_probability
        Count only coverage at least this likely to detect its target.

    Raises
    ------
    truceline.reports.base.ReportError
        Unknown zone, a zone without area, or an unreadable coverage area.
    """
    if until < since:
        raise ValueError("the period ends before it starts")
    counted = [
        c
        for c in coverage_in_period(coverage, since, until)
        if (target is None or c.target == target)
        and c.detection_probability >= min_detection_probability
    ]
    zone = agreement.zone_geometry(zone_id) if zone_id in agreement.zone_ids else None
    frame = _frame(zone)
    (result,) = zone_coverage(agreement, counted, since, until, frame, [zone_id])
    touching = sorted(
        {c.sensor_id for c in counted if zone is not None and c.area.intersects(zone)}
    )
    return ZoneCoverageReport(
        zone_id=zone_id,
        since=since,
        until=until,
        area_m2=result.area_m2,
        observed_m2=result.observed_m2,
        unobserved=result.unobserved,
        sensors=tuple(touching),
        windows=result.windows,
    )


def _frame(zone: BaseGeometry | None) -> LocalFrame:
    """A metric frame centred on the zone (any frame when there is none: gaps will refuse)."""
    if zone is None or zone.is_empty:
        return LocalFrame(0.0, 0.0)
    lon_min, lat_min, lon_max, lat_max = zone.bounds
    return LocalFrame.around([lon_min, lon_max], [lat_min, lat_max])
