"""Locating the 2004-06-02 Utah Test and Training Range detonation from three arrays.

The InfraPy detection file holds one detection per array (peak F-statistic time
and back azimuth); the arrays are 330–860 km from the source, so the travel time
is governed by the uncertain stratospheric/thermospheric celerity and the back
azimuths carry cross-wind deflection. Ground truth: 41.131 N, 112.896 W, origin
2004-06-02T17:23:04 UTC.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from truceline.ground.base import Arrival
from truceline.ground.locate import locate
from truceline.model.geo import LocalFrame, geodesic_distance_m

TRUTH_LON, TRUTH_LAT = -112.896, 41.131
TRUTH_ORIGIN_S = datetime(2004, 6, 2, 17, 23, 4, tzinfo=UTC).timestamp()
#: Back-azimuth sigma when the F statistic is not converted, degrees.
AZIMUTH_SIGMA_DEG = 3.0
#: The peak-F time is not an onset: a few seconds to tens of seconds off, seconds.
TIME_SIGMA_S = 10.0


def _arrivals(path: Path) -> list[Arrival]:
    records = json.loads(path.read_text(encoding="utf-8"))
    arrivals = []
    for index, rec in enumerate(records):
        time = datetime.fromisoformat(rec["Peak F-Stat Time (UTC)"]).replace(tzinfo=UTC)
        arrivals.append(
            Arrival(
                id=f"uttr-{index}",
                station=f"array-{index}",
                lon=float(rec["Longitude"]),
                lat=float(rec["Latitude"]),
                time_s=time.timestamp(),
                time_sigma_s=TIME_SIGMA_S,
                azimuth_deg=float(rec["Back Azimuth"]) % 360.0,
                azimuth_sigma_deg=AZIMUTH_SIGMA_DEG,
                max_range_m=2_000_000.0,
                kind="explosion",
                confidence=1.0,
            )
        )
    return arrivals


@pytest.mark.shared_data
def test_uttr_truth_inside_95_percent_ellipse(shared_data: Path) -> None:
    path = shared_data / "infrasound" / "uttr-2004-06-02.dets.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    estimate = locate(_arrivals(path))
    frame = LocalFrame(estimate.lon, estimate.lat)
    offset = np.array(frame.point_to_local(TRUTH_LON, TRUTH_LAT))
    mahalanobis2 = float(offset @ np.linalg.solve(estimate.covariance, offset))
    error_km = geodesic_distance_m(estimate.lon, estimate.lat, TRUTH_LON, TRUTH_LAT) / 1e3
    ellipse = estimate.ellipse(0.95)
    report = (
        f"UTTR: error {error_km:.1f} km; 95% ellipse {ellipse.semi_major_m / 1e3:.1f} x "
        f"{ellipse.semi_minor_m / 1e3:.1f} km at {ellipse.orientation_deg:.0f} deg; "
        f"Mahalanobis^2 {mahalanobis2:.2f} (95% limit {-2 * math.log(0.05):.2f}); origin "
        f"{estimate.origin_time_s - TRUTH_ORIGIN_S:+.0f} s ± {estimate.origin_sigma_s:.0f} s; "
        f"chi2 {estimate.chi2:.2f} / {estimate.dof}"
    )
    print(report)
    assert estimate.converged, report
    assert mahalanobis2 <= -2.0 * math.log(0.05), report
    assert error_km < 60.0, report
    assert abs(estimate.origin_time_s - TRUTH_ORIGIN_S) < 3 * estimate.origin_sigma_s, report
