"""End-to-end: write_report's four files, their content, escaping and determinism."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from shapely.geometry import shape

from reports.reports_testkit import HOSTILE, default_summary, make_finding, with_findings
from truceline.reports import CSV_COLUMNS, ReportError, ReportInput, write_report

EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_writes_all_four_files(tmp_path: Path, report_input: ReportInput) -> None:
    files = write_report(tmp_path / "out", report_input)
    assert [p.name for p in files.all()] == [
        "report.html",
        "findings.geojson",
        "findings.csv",
        "map.png",
    ]
    for path in files.all():
        assert path.is_file() and path.stat().st_size > 0
    assert files.map_png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in files.all()
    ), "no temporary files are left behind"


def test_geojson_has_a_point_and_an_ellipse_per_finding(
    tmp_path: Path, report_input: ReportInput
) -> None:
    files = write_report(tmp_path, report_input)
    collection = json.loads(files.geojson.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    findings = report_input.sorted_findings()
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    polygons = [f for f in features if f["geometry"]["type"] == "Polygon"]
    assert len(points) == len(polygons) == len(findings) == len(features) // 2
    assert [f["properties"]["id"] for f in points] == [f.id for f in findings]
    assert [f["properties"]["id"] for f in polygons] == [f.id for f in findings]
    for finding, point, polygon in zip(findings, points, polygons, strict=True):
        props = point["properties"]
        assert props["geometry_role"] == "location"
        assert polygon["properties"]["geometry_role"] == "ellipse_95"
        record = finding.to_record()
        for key, value in record.items():
            expected = json.loads(json.dumps(value))  # tuples become lists
            assert props[key] == expected, key
        assert props["evidence_count"] == len(finding.evidence)
        assert props["ellipse_95_semi_major_m"] == record["ellipse_95"]["semi_major_m"]
        assert props["escalated"] is (finding.escalation_level != "none")
        assert point["geometry"]["coordinates"] == [round(finding.lon, 6), round(finding.lat, 6)]
        ring = polygon["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]
        for lon, lat in ring:
            assert lon == round(lon, 6) and lat == round(lat, 6)
        geom = shape(polygon["geometry"])
        assert geom.is_valid and geom.exterior.is_ccw
        assert geom.contains(shape(point["geometry"]))
    assert collection["metadata"]["period_start"] == "2026-11-02T00:00:00Z"


def test_csv_has_header_and_one_row_per_finding(tmp_path: Path, report_input: ReportInput) -> None:
    files = write_report(tmp_path, report_input)
    text = files.csv.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    findings = report_input.sorted_findings()
    assert len(rows) == 1 + len(findings)
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    for finding, record in zip(findings, records, strict=True):
        assert record["id"] == finding.id
        assert record["evidence"] == ";".join(finding.evidence)
        assert record["evidence_count"] == str(len(finding.evidence))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["time"])
        assert float(record["distance_to_line_m"]) == finding.distance_to_line_m
        assert float(record["ellipse_95_semi_major_m"]) == finding.ellipse().semi_major_m
    assert [r["time"] for r in records] == sorted(r["time"] for r in records)


def test_csv_defuses_spreadsheet_formulas(tmp_path: Path, report_input: ReportInput) -> None:
    data = with_findings(report_input, [make_finding(explanation='=HYPERLINK("x")')])
    rows = list(csv.DictReader(io.StringIO(write_report(tmp_path, data).csv.read_text())))
    assert rows[0]["explanation"] == '\'=HYPERLINK("x")'


def test_html_lists_findings_and_embeds_the_map(tmp_path: Path, report_input: ReportInput) -> None:
    files = write_report(tmp_path, report_input)
    page = files.html.read_text(encoding="utf-8")
    for finding in report_input.findings:
        assert finding.id in page
        for evidence in finding.evidence:
            assert evidence in page
    match = re.search(r'<img class="map" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match is not None
    assert base64.b64decode(match.group(1)) == files.map_png.read_bytes()
    assert "<details>" in page
    for text in ("Escalations", "Coverage gaps", "not observed", "ab" * 32, "cd" * 32, "1234"):
        assert text in page
    assert "config_digest" in page, "unknown summary keys are listed verbatim"


def test_html_has_no_external_urls_or_scripts(tmp_path: Path, report_input: ReportInput) -> None:
    page = write_report(tmp_path, report_input).html.read_text(encoding="utf-8")
    assert EXTERNAL_URL.search(page) is None
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page


def test_html_escapes_hostile_text(tmp_path: Path, report_input: ReportInput) -> None:
    page = write_report(tmp_path, report_input).html.read_text(encoding="utf-8")
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    assert "Daily report 2026-11-02 &lt;b&gt;draft&lt;/b&gt;" in page
    assert "Test ceasefire &lt;agreement&gt;" in page


def test_hostile_zone_and_party_names_are_escaped(
    tmp_path: Path, report_input: ReportInput
) -> None:
    finding = make_finding(zone_id='"><script>z</script>', party="<b>P</b>", rule_id="<i>r</i>")
    page = write_report(tmp_path, with_findings(report_input, [finding])).html.read_text()
    assert "<script" not in page and "<b>P</b>" not in page and "<i>r</i>" not in page


def test_output_is_byte_identical_across_runs(tmp_path: Path, report_input: ReportInput) -> None:
    first = write_report(tmp_path / "one", report_input)
    shuffled = replace(
        report_input,
        findings=list(reversed(report_input.findings)),
        coverage=list(reversed(report_input.coverage)),
    )
    second = write_report(tmp_path / "two", shuffled)
    for a, b in zip(first.all(), second.all(), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_png_carries_no_timestamp_or_software_text(
    tmp_path: Path, report_input: ReportInput
) -> None:
    png = write_report(tmp_path, report_input).map_png.read_bytes()
    chunks = set()
    offset = 8
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        chunks.add(png[offset + 4 : offset + 8])
        offset += 12 + length
    assert not chunks & {b"tIME", b"tEXt", b"iTXt", b"zTXt"}


def test_no_findings_still_reports_coverage(tmp_path: Path, report_input: ReportInput) -> None:
    files = write_report(tmp_path, with_findings(report_input, []))
    page = files.html.read_text(encoding="utf-8")
    assert "No findings in this period." in page
    assert "No finding in this report reached an escalation level." in page
    assert json.loads(files.geojson.read_text())["features"] == []
    assert files.csv.read_text().splitlines() == [",".join(CSV_COLUMNS)]


def test_missing_period_is_refused_before_writing(
    tmp_path: Path, report_input: ReportInput
) -> None:
    summary = default_summary()
    del summary["period_end"]
    with pytest.raises(ReportError, match="period_end"):
        write_report(tmp_path / "out", replace(report_input, summary=summary))
    assert not (tmp_path / "out").exists()


def test_naive_period_is_refused(tmp_path: Path, report_input: ReportInput) -> None:
    summary = {**default_summary(), "period_start": "2026-11-02T00:00:00"}
    with pytest.raises(ReportError, match="period_start"):
        write_report(tmp_path, replace(report_input, summary=summary))


def test_gaps_are_stated_per_coverage_target_and_for_the_last_day(
    tmp_path: Path, report_input: ReportInput
) -> None:
    """A satellite swath sees fires, not tanks: each target's coverage is assessed apart."""
    windows = list(report_input.coverage)
    assert windows, "the fixture needs coverage"
    satellite = [replace(w, target="thermal_anomaly", sensor_id="firms:X") for w in windows]
    drones = [replace(w, target="heavy_weapon") for w in windows]
    data = replace(report_input, coverage=[*satellite, *drones])
    page = write_report(tmp_path, data).html.read_text(encoding="utf-8")
    assert "Observed for <code>heavy_weapon</code>" in page
    assert "Observed for <code>thermal_anomaly</code>" in page
    assert "(last 24 h)" in page


def test_a_pattern_finding_lists_its_member_findings(
    tmp_path: Path, report_input: ReportInput
) -> None:
    from truceline.agreement.patterns import PATTERN_KEY

    pattern = make_finding(
        rule_id="barrage",
        evidence=("f" * 64, "g" * 64),
        attributes={PATTERN_KEY: {"members": ["f" * 64, "g" * 64]}},
    )
    single = make_finding()
    data = with_findings(report_input, [pattern, single])
    page = write_report(tmp_path, data).html.read_text(encoding="utf-8")
    assert "Explanation and 2 member findings" in page
    assert "Explanation and 3 evidence records" in page
