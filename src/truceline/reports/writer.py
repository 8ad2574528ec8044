"""Write a report: page, map and exports, from one :class:`ReportInput`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from shapely.geometry import Point

from truceline.fileio import write_atomic
from truceline.model.coverage import Coverage
from truceline.reports.base import ReportFiles, ReportInput
from truceline.reports.exports import findings_csv, findings_geojson, geojson_bytes
from truceline.reports.gaps import coverage_in_period, zone_coverage
from truceline.reports.geometry import frame_for
from truceline.reports.page import render_page
from truceline.reports.staticmap import render_map

__all__ = ["write_report"]


#: The report also states what was observed in the last day of its period.
RECENT_WINDOW = timedelta(hours=24)
#: Coverage target whose gaps the map hatches (withdrawal is verified by seeing weapons).
MAP_GAP_TARGET = "heavy_weapon"


def write_report(out_dir: Path, data: ReportInput) -> ReportFiles:
    """Write ``report.html``, ``findings.geojson``, ``findings.csv`` and ``map.png``.

    Everything is computed before anything is written, so bad input leaves the
    directory untouched; each file is then replaced atomically. The same input
    gives byte-identical files.

    Parameters
    ----------
    out_dir
        Directory to write into; created if missing. Existing report files are replaced.
    data
        What to report.

    Returns
    -------
    ReportFiles
        Paths of the four files.

    Raises
    ------
    ReportError
        If the summary lacks the period, a zone is unknown or has no area, a
        coverage area is invalid, or there is nothing with a location to map.
    """
    period = data.period()
    findings = data.sorted_findings()
    agreement = data.agreement
    coverage = coverage_in_period(data.coverage, *period)
    frame = frame_for(
        [
            agreement.contact_line,
            *(agreement.zone_geometry(z) for z in agreement.zone_ids),
            *(Point(f.lon, f.lat) for f in findings),
        ]
    )
    recent_start = max(period[0], period[1] - RECENT_WINDOW)
    # "Observed" depends on what for: a satellite swath sees fires, not tanks. Gaps
    # are assessed per coverage target; the map hatches the gaps of the target
    # that verifies withdrawal (equipment) when there is one.
    by_target: dict[str, list[Coverage]] = {}
    for window in data.coverage:
        by_target.setdefault(window.target, []).append(window)
    sections = []
    for target in sorted(by_target):
        whole = zone_coverage(
            agreement, by_target[target], *period, frame=frame, zone_ids=data.gap_zone_ids
        )
        last = zone_coverage(
            agreement,
            by_target[target],
            recent_start,
            period[1],
            frame=frame,
            zone_ids=data.gap_zone_ids,
        )
        sections.append((target, whole, last))
    if sections:
        mapped = next((s for s in sections if s[0] == MAP_GAP_TARGET), sections[0])
        gaps = mapped[1]
    else:
        gaps = zone_coverage(
            agreement, data.coverage, *period, frame=frame, zone_ids=data.gap_zone_ids
        )
    scale = data.escalation()
    png = render_map(agreement, findings, [c.area for c in coverage], gaps, data.title, scale=scale)
    contents = {
        "map.png": png,
        "findings.geojson": geojson_bytes(
            findings_geojson(findings, agreement, period, data.title, scale)
        ),
        "findings.csv": findings_csv(findings, scale),
        "report.html": render_page(
            data, period, findings, gaps, coverage, png, sections=(recent_start, sections)
        ),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(contents):
        write_atomic(out_dir / name, contents[name])
    return ReportFiles(
        html=out_dir / "report.html",
        geojson=out_dir / "findings.geojson",
        csv=out_dir / "findings.csv",
        map_png=out_dir / "map.png",
    )
