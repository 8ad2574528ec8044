"""Ground-sensor coverage: a fixed sensor's detection-range circle, per UTC day.

A fixed acoustic, seismic or infrasound sensor observes the disc of its
detection range (``Sensor.detection_range_m``, or a range given for a target
class) for as long as it runs. Coverage is cut into UTC days so that a daily
report, and a sensor that stops one day, are both stated per day.

The circle is laid out in metres in the sensor's own azimuthal-equidistant
frame (where distances from the centre are exact geodesic distances) and
converted to lon/lat, so a 20 km range is 20 km on the ground at any latitude.
A circle crossing the antimeridian or reaching a pole is refused: lon/lat
polygons cannot represent it without being split.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Final

import numpy as np
import shapely
from shapely.geometry import Polygon

from truceline.model.coverage import Coverage
from truceline.model.errors import RecordError
from truceline.model.geo import LocalFrame
from truceline.model.sensor import Sensor

__all__ = ["CIRCLE_VERTICES", "ground_coverage", "range_circle", "utc_days"]

#: Vertices of a range circle (a 72-gon's area is 0.13 % under the circle's).
CIRCLE_VERTICES: Final = 72
_DAY: Final = timedelta(days=1)


def range_circle(
    lon: float, lat: float, radius_m: float, vertices: int = CIRCLE_VERTICES
) -> Polygon:
    """The disc of ``radius_m`` metres around ``(lon, lat)`` as a lon/lat polygon.

    Raises
    ------
    ValueError
        A non-positive radius, fewer than 8 vertices, or a disc that crosses the
        antimeridian or a pole.
    """
    if not radius_m > 0.0:
        raise ValueError(f"detection range must be positive, got {radius_m} m")
    if vertices < 8:
        raise ValueError(f"a circle needs at least 8 vertices, got {vertices}")
    angle = np.linspace(0.0, 2.0 * math.pi, vertices, endpoint=False)
    frame = LocalFrame(lon, lat)
    lons, lats = frame.to_geo(radius_m * np.sin(angle), radius_m * np.cos(angle))
    if np.ptp(lons) > 180.0 or np.any(np.abs(lats) >= 90.0) or not np.all(np.isfinite(lons)):
        raise ValueError(
            f"the {radius_m:.0f} m range around ({lon}, {lat}) crosses the antimeridian or a pole"
        )
    # counter-clockwise ring (RFC 7946): angle runs clockwise from north, so reverse it
    return shapely.Polygon(np.column_stack([lons, lats])[::-1])


def utc_days(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` cut at UTC midnights into consecutive windows (at least one)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("times must be timezone-aware UTC")
    if end < start:
        raise ValueError("the period ends before it starts")
    windows: list[tuple[datetime, datetime]] = []
    cursor = start
    while True:
        midnight = cursor.replace(hour=0, minute=0, second=0, microsecond=0) + _DAY
        if midnight >= end:
            windows.append((cursor, end))
            return windows
        windows.append((cursor, midnight))
        cursor = midnight


def ground_coverage(
    sensor: Sensor,
    start: datetime,
    end: datetime,
    *,
    detection_probability: float = 0.9,
    target: str = "explosion",
    range_m: float | None = None,
    vertices: int = CIRCLE_VERTICES,
) -> list[Coverage]:
    """Daily coverage of a fixed sensor that ran from ``start`` to ``end``.

    Parameters
    ----------
    sensor
        A sensor with a fixed position.
    start, end
        When it ran (UTC).
    detection_probability
        Probability of detecting ``target`` inside the range, in [0, 1].
    target
        What the probability refers to (e.g. ``explosion``).
    range_m
        Detection range for ``target``, metres; ``sensor.detection_range_m`` by default.
    vertices
        Vertices of the circle polygon.

    Returns
    -------
    list of Coverage
        One per UTC day touched by ``[start, end]``, in time order.

    Raises
    ------
    truceline.model.RecordError
        The sensor has no fixed position or no range (field named).
    """
    if sensor.lon is None or sensor.lat is None:
        raise RecordError(f"sensor {sensor.id} has no fixed position", field="lon")
    radius = sensor.detection_range_m if range_m is None else range_m
    if radius is None:
        raise RecordError(f"sensor {sensor.id} has no detection range", field="detection_range_m")
    circle = range_circle(sensor.lon, sensor.lat, radius, vertices)
    area = shapely.to_wkt(shapely.set_precision(circle, 1e-7), rounding_precision=7, trim=True)
    return [
        Coverage(sensor.id, day_start, day_end, area, detection_probability, target)
        for day_start, day_end in utc_days(start, end)
    ]
