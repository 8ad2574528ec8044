"""Ellipse polygons match the covariance, measured with geodesic distances."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box

from reports.reports_testkit import make_finding, with_findings
from truceline.model import LocalFrame, covariance_ellipse, geodesic_distance_m
from truceline.model.geo import WGS84_GEOD
from truceline.reports import ReportError, ReportInput, ellipse_polygon, write_report
from truceline.reports.geometry import frame_for, from_frame, round_geometry, to_frame

CHI2_95_SCALE = math.sqrt(-2.0 * math.log(0.05))  # 2.4477...


def ring_distances(lon: float, lat: float, ring: list[list[float]]) -> np.ndarray:
    return np.array([geodesic_distance_m(lon, lat, x, y) for x, y in ring])


def test_isotropic_1km_sigma_gives_2448m_radius_in_the_geojson(
    tmp_path: Path, report_input: ReportInput
) -> None:
    finding = make_finding(cov_ee=1.0e6, cov_en=0.0, cov_nn=1.0e6, lon=30.3, lat=48.01)
    files = write_report(tmp_path, with_findings(report_input, [finding]))
    features = json.loads(files.geojson.read_text())["features"]
    (ellipse,) = [f for f in features if f["properties"]["geometry_role"] == "ellipse_95"]
    distances = ring_distances(30.3, 48.01, ellipse["geometry"]["coordinates"][0])
    assert pytest.approx(2447.7, abs=0.05) == CHI2_95_SCALE * 1000.0
    # 1e-6 degree rounding moves a vertex by at most ~0.1 m.
    assert distances == pytest.approx(np.full(distances.size, 2447.7), abs=0.3)


@pytest.mark.parametrize(("lon", "lat"), [(30.45, 47.95), (-112.9, 41.13), (140.0, -60.0)])
def test_anisotropic_ellipse_axes_and_orientation(lon: float, lat: float) -> None:
    ellipse = covariance_ellipse(4.0e6, 1.0e6, 1.0e6)
    polygon = ellipse_polygon(lon, lat, ellipse, vertices=360)
    ring = list(polygon.exterior.coords)[:-1]
    distances = ring_distances(lon, lat, ring)
    assert distances.max() == pytest.approx(ellipse.semi_major_m, rel=1e-6)
    assert distances.min() == pytest.approx(ellipse.semi_minor_m, rel=1e-3)
    far = ring[int(distances.argmax())]
    azimuth, _, _ = WGS84_GEOD.inv(lon, lat, far[0], far[1])
    assert azimuth % 180.0 == pytest.approx(ellipse.orientation_deg, abs=0.6)
    assert polygon.exterior.is_ccw and polygon.is_valid


def test_ellipse_matches_the_local_frame_of_the_finding() -> None:
    ellipse = covariance_ellipse(9.0e4, -2.0e4, 2.5e4)
    polygon = ellipse_polygon(30.3, 48.01, ellipse, vertices=16)
    frame = LocalFrame(30.3, 48.01)
    east, north = frame.to_local(*np.asarray(polygon.exterior.coords).T)
    # In the finding's own frame the vertices lie on the ellipse x^T C^-1 x = chi2.
    cov = np.array([[9.0e4, -2.0e4], [-2.0e4, 2.5e4]])
    xy = np.vstack([east, north])
    mahalanobis2 = np.einsum("in,ij,jn->n", xy, np.linalg.inv(cov), xy)
    assert mahalanobis2 == pytest.approx(np.full(mahalanobis2.size, CHI2_95_SCALE**2), rel=1e-7)


def test_degenerate_covariance_gives_a_zero_area_ring() -> None:
    polygon = ellipse_polygon(30.0, 48.0, covariance_ellipse(0.0, 0.0, 0.0))
    assert polygon.area == 0.0
    assert Point(30.0, 48.0).distance(polygon) == pytest.approx(0.0, abs=1e-9)


def test_too_few_vertices_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        ellipse_polygon(30.0, 48.0, covariance_ellipse(1.0, 0.0, 1.0), vertices=4)


def test_frame_round_trip_and_metric_area() -> None:
    zone = box(30.0, 48.0, 30.1, 48.1)
    frame = frame_for([zone])
    metric = to_frame(zone, frame)
    # 0.1 deg x 0.1 deg at 48.05 N: about 7.45 km x 11.12 km.
    assert metric.area == pytest.approx(7451.0 * 11119.0, rel=5e-3)
    back = from_frame(metric, frame)
    assert back.symmetric_difference(zone).area < 1e-12


def test_frame_for_nothing_is_an_error() -> None:
    with pytest.raises(ReportError, match="nothing to map"):
        frame_for([Polygon()])


def test_rounding_keeps_rings_closed_and_has_no_negative_zero() -> None:
    geo = round_geometry(Polygon([(-1e-9, 0.1234567), (1.0, 0.0), (1.0, 1.0)]))
    ring = geo["coordinates"][0]
    assert ring[0] == ring[-1] == [0.0, 0.123457]
    assert math.copysign(1.0, ring[0][0]) == 1.0
