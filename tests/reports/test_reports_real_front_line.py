"""A report on the real 2023 front line (~1,060 km), for scale and plausibility.

Needs ``../shared/data/front-line`` (the ``shared_data`` fixture skips when absent).
Zones are built here
the way an agreement materialises bands: a 5 km disengagement zone either side
of the line and a 15 km band on each side, split by the ISW control polygons.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from reports.reports_testkit import T0, T1, FakeAgreement, make_coverage, make_finding
from truceline.model import LocalFrame
from truceline.reports import ReportInput, write_report
from truceline.reports.geometry import frame_for, from_frame, to_frame

pytestmark = pytest.mark.shared_data


def real_agreement(data: Path) -> FakeAgreement:
    line = shape(json.loads((data / "front-line-2023.geojson").read_text())["geometry"])
    isw = json.loads((data / "isw-russian-controlled-2023.geojson").read_text())
    controlled = shapely.union_all([shape(f["geometry"]) for f in isw["features"]])
    frame = frame_for([line])
    metric_line = to_frame(line, frame)

    def band(width_m: float) -> BaseGeometry:
        return metric_line.buffer(width_m, quad_segs=4).simplify(50.0)

    held = shapely.make_valid(to_frame(shapely.make_valid(controlled), frame))
    zones = {
        "disengagement": from_frame(band(5_000.0), frame),
        "band_15km_east": from_frame(band(15_000.0).intersection(held), frame),
        "band_15km_west": from_frame(band(15_000.0).difference(held), frame),
    }
    return FakeAgreement(zones=zones, contact_line=line, parties=("east", "west"))


def test_report_on_the_real_front_line(tmp_path: Path, shared_data: Path) -> None:
    agreement = real_agreement(shared_data / "front-line")
    vertices = shapely.get_coordinates(agreement.contact_line)
    findings = [
        make_finding(lon=float(lon), lat=float(lat), evidence=(f"obs-{i}",))
        for i, (lon, lat) in enumerate(vertices[:: max(1, len(vertices) // 40)])
    ]
    # One satellite swath over the southern part of the line.
    coverage = [make_coverage(box(33.0, 46.5, 36.0, 47.8), sensor="sat:S2")]
    data = ReportInput(
        agreement, findings, [], coverage, {"period_start": T0, "period_end": T1}, "Front line 2023"
    )
    files = write_report(tmp_path, data)
    page = files.html.read_text(encoding="utf-8")
    for zone in ("disengagement", "band_15km_east", "band_15km_west"):
        assert f"of zone {zone}" in page
    # The disengagement zone of a ~1,060 km line, 10 km wide: roughly 10,000 km².
    dz = to_frame(agreement.zone_geometry("disengagement"), LocalFrame(36.0, 48.0))
    assert 8.0e9 < dz.area < 1.3e10
