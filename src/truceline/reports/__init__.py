"""Reports: the daily/spot report page, its static map, and GeoJSON/CSV exports.

>>> from truceline.reports import ReportInput, write_report   # doctest: +SKIP
>>> files = write_report(Path("out"), ReportInput(...))      # doctest: +SKIP

The page is self-contained (inline CSS, embedded map, no scripts or network),
and the same input always gives byte-identical files.
"""

from truceline.reports.base import (
    NOT_ESCALATED_LEVELS,
    SUMMARY_KEYS,
    EscalationScale,
    MapAgreement,
    ReportError,
    ReportFiles,
    ReportInput,
    is_escalated,
)
from truceline.reports.exports import CSV_COLUMNS, findings_csv, findings_geojson
from truceline.reports.gaps import ZoneCoverage, coverage_in_period, zone_coverage
from truceline.reports.geometry import ellipse_polygon
from truceline.reports.writer import write_report

__all__ = [
    "CSV_COLUMNS",
    "NOT_ESCALATED_LEVELS",
    "SUMMARY_KEYS",
    "EscalationScale",
    "MapAgreement",
    "ReportError",
    "ReportFiles",
    "ReportInput",
    "ZoneCoverage",
    "coverage_in_period",
    "ellipse_polygon",
    "findings_csv",
    "findings_geojson",
    "is_escalated",
    "write_report",
    "zone_coverage",
]
