"""Machine-readable exports of findings: GeoJSON and CSV.

``findings.geojson`` holds, for every finding, a Point feature at the best
estimate and a Polygon feature of its 95 % location ellipse, both carrying the
finding's full public record, so GIS users see the uncertainty and can style
either layer by severity or status. ``findings.csv`` is one row per finding
with a fixed column order for spreadsheets and scripts.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from shapely.geometry import Point

from truceline.model.finding import Finding
from truceline.model.timeutil import format_utc
from truceline.reports.base import EscalationScale, MapAgreement, ReportError
from truceline.reports.geometry import ellipse_polygon, round_geometry

__all__ = [
    "CSV_COLUMNS",
    "finding_properties",
    "findings_csv",
    "findings_geojson",
    "geojson_bytes",
]

#: Column order of ``findings.csv``.
CSV_COLUMNS: Final = (
    "id",
    "time",
    "time_sigma_s",
    "rule_id",
    "kind",
    "severity",
    "status",
    "confidence",
    "escalation_level",
    "escalated",
    "zone_id",
    "side",
    "party",
    "distance_to_line_m",
    "lon",
    "lat",
    "cov_ee_m2",
    "cov_en_m2",
    "cov_nn_m2",
    "ellipse_95_semi_major_m",
    "ellipse_95_semi_minor_m",
    "ellipse_95_orientation_deg",
    "evidence_count",
    "evidence",
    "event_id",
    "agreement_id",
    "agreement_version",
    "explanation",
)

#: Characters that make a spreadsheet treat a cell as a formula.
_FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")


_UNKNOWN_SCALE: Final = EscalationScale()


def finding_properties(finding: Finding, scale: EscalationScale = _UNKNOWN_SCALE) -> dict[str, Any]:
    """GeoJSON properties of a finding: its public record plus flat helper fields.

    The record (:meth:`Finding.to_record`) is kept whole, nested values
    included; the flat ``ellipse_95_*``, ``evidence_count`` and ``escalated``
    fields are added because most GIS tools cannot style by nested values.
    """
    record = finding.to_record()
    ellipse = record["ellipse_95"]
    record["ellipse_95_semi_major_m"] = ellipse["semi_major_m"]
    record["ellipse_95_semi_minor_m"] = ellipse["semi_minor_m"]
    record["ellipse_95_orientation_deg"] = ellipse["orientation_deg"]
    record["evidence_count"] = len(finding.evidence)
    record["escalated"] = scale.escalated(finding.escalation_level)
    return record


def findings_geojson(
    findings: Sequence[Finding],
    agreement: MapAgreement,
    period: tuple[datetime, datetime],
    title: str,
    scale: EscalationScale = _UNKNOWN_SCALE,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (RFC 7946) of the findings.

    Parameters
    ----------
    findings
        In output order (the caller sorts them).
    agreement
        Named in the collection's ``metadata`` member.
    period
        Reporting period ``(start, end)``, UTC.
    title
        Report title, copied into ``metadata``.
    scale
        Decides the ``escalated`` property.

    Returns
    -------
    dict
        All Point features (``geometry_role: "location"``) in finding order,
        then all Polygon features (``geometry_role: "ellipse_95"``) in the same order.
    """
    points: list[dict[str, Any]] = []
    ellipses: list[dict[str, Any]] = []
    for finding in findings:
        properties = finding_properties(finding, scale)
        points.append(_feature(finding.id, "location", Point(finding.lon, finding.lat), properties))
        polygon = ellipse_polygon(finding.lon, finding.lat, finding.ellipse(0.95))
        ellipses.append(_feature(f"{finding.id}:ellipse_95", "ellipse_95", polygon, properties))
    return {
        "type": "FeatureCollection",
        "metadata": {
            "title": title,
            "agreement_id": agreement.id,
            "agreement_version": agreement.version,
            "agreement_version_id": agreement.version_id,
            "escalation_levels": None if scale.levels is None else list(scale.levels),
            "period_start": format_utc(period[0]),
            "period_end": format_utc(period[1]),
            "findings": len(points),
        },
        "features": points + ellipses,
    }


def geojson_bytes(collection: Mapping[str, Any]) -> bytes:
    """Serialise a FeatureCollection deterministically, one feature per line.

    Keys are sorted, separators compact, text UTF-8 with a final newline; one
    feature per line keeps the file small and makes two days' files diff well.

    Raises
    ------
    ReportError
        If a value has no JSON form (NaN, infinity, an unsupported type).
    """
    head = {key: value for key, value in collection.items() if key != "features"}
    try:
        lines = [_dumps(feature) for feature in collection.get("features", [])]
        opening = _dumps(head)[:-1]
    except (TypeError, ValueError) as exc:
        raise ReportError(f"findings.geojson: {exc}") from None
    separator = "," if head else ""
    text = opening + separator + '"features":[\n' + ",\n".join(lines) + "\n]}\n"
    return text.encode("utf-8")


def _dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def findings_csv(findings: Sequence[Finding], scale: EscalationScale = _UNKNOWN_SCALE) -> bytes:
    """One CSV row per finding, columns as :data:`CSV_COLUMNS`, UTF-8, ``\\n`` line ends.

    Numbers are written in Python's shortest round-trip form, times as ISO 8601
    UTC, evidence ids joined by ``;``, missing values as empty cells. Text cells
    that a spreadsheet would run as a formula get a leading ``'``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for finding in findings:
        row = _csv_row(finding, scale)
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def _csv_row(finding: Finding, scale: EscalationScale) -> dict[str, Any]:
    ellipse = finding.ellipse(0.95)
    return {
        "id": finding.id,
        "time": format_utc(finding.time),
        "time_sigma_s": finding.time_sigma_s,
        "rule_id": finding.rule_id,
        "kind": finding.kind,
        "severity": finding.severity,
        "status": finding.status,
        "confidence": finding.confidence,
        "escalation_level": finding.escalation_level,
        "escalated": scale.escalated(finding.escalation_level),
        "zone_id": finding.zone_id,
        "side": finding.side,
        "party": finding.party,
        "distance_to_line_m": finding.distance_to_line_m,
        "lon": finding.lon,
        "lat": finding.lat,
        "cov_ee_m2": finding.cov_ee,
        "cov_en_m2": finding.cov_en,
        "cov_nn_m2": finding.cov_nn,
        "ellipse_95_semi_major_m": ellipse.semi_major_m,
        "ellipse_95_semi_minor_m": ellipse.semi_minor_m,
        "ellipse_95_orientation_deg": ellipse.orientation_deg,
        "evidence_count": len(finding.evidence),
        "evidence": ";".join(finding.evidence),
        "event_id": finding.event_id,
        "agreement_id": finding.agreement_id,
        "agreement_version": finding.agreement_version,
        "explanation": finding.explanation,
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _feature(
    feature_id: str, role: str, geometry: Any, properties: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": feature_id,
        "geometry": round_geometry(geometry),
        "properties": {**properties, "geometry_role": role},
    }
