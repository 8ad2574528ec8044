"""Ground-sensor coverage: range circles per UTC day."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from truceline.coverage.ground import ground_coverage, range_circle, utc_days
from truceline.model import RecordError, Sensor
from truceline.model.geo import LocalFrame, geodesic_distance_m

SENSOR = Sensor("acoustic:A1", "acoustic", lon=37.5, lat=48.0, detection_range_m=20_000.0)


def test_circle_is_metric() -> None:
    circle = range_circle(37.5, 48.0, 20_000.0)
    lons, lats = np.asarray(circle.exterior.coords).T
    distances = [geodesic_distance_m(37.5, 48.0, lo, la) for lo, la in zip(lons, lats, strict=True)]
    assert distances == pytest.approx([20_000.0] * len(distances), rel=1e-9)
    assert circle.exterior.is_ccw
    frame = LocalFrame(37.5, 48.0)
    local = shapely.transform(
        circle, lambda xy: np.column_stack(frame.to_local(xy[:, 0], xy[:, 1]))
    )
    assert local.area == pytest.approx(math.pi * 20_000.0**2, rel=2e-3)
    with pytest.raises(ValueError, match="antimeridian"):
        range_circle(179.9, 0.0, 50_000.0)


def test_utc_days() -> None:
    start = datetime(2026, 11, 1, 18, tzinfo=UTC)
    end = datetime(2026, 11, 3, 6, tzinfo=UTC)
    assert utc_days(start, end) == [
        (start, datetime(2026, 11, 2, tzinfo=UTC)),
        (datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
        (datetime(2026, 11, 3, tzinfo=UTC), end),
    ]
    midnight = datetime(2026, 11, 2, tzinfo=UTC)
    assert utc_days(midnight, datetime(2026, 11, 3, tzinfo=UTC)) == [
        (midnight, datetime(2026, 11, 3, tzinfo=UTC))
    ]


def test_daily_records() -> None:
    start = datetime(2026, 11, 1, 12, tzinfo=UTC)
    end = datetime(2026, 11, 2, 12, tzinfo=UTC)
    records = ground_coverage(SENSOR, start, end, detection_probability=0.8)
    assert [(c.start, c.end) for c in records] == utc_days(start, end)
    assert {(c.sensor_id, c.detection_probability, c.target) for c in records} == {
        ("acoustic:A1", 0.8, "explosion")
    }
    assert records[0].area.contains(shapely.Point(37.5, 48.0))
    wider = ground_coverage(SENSOR, start, end, range_m=40_000.0, target="launch")
    assert wider[0].area.area > 3.9 * records[0].area.area


def test_sensor_without_position_or_range_is_refused() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(RecordError) as info:
        ground_coverage(Sensor("drone:D1", "drone"), start, start)
    assert info.value.field == "lon"
    with pytest.raises(RecordError) as info:
        ground_coverage(Sensor("acoustic:A2", "acoustic", lon=37.0, lat=48.0), start, start)
    assert info.value.field == "detection_range_m"
