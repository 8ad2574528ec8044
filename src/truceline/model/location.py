"""Where an observation places its subject.

Three shapes, as sensors report them:

* :class:`PointLocation` — a position with a 2x2 covariance in metres
  (east, north), e.g. a located explosion or a satellite pixel centre;
* :class:`FootprintLocation` — a polygon the subject lies somewhere inside, e.g.
  a camera footprint or a satellite change polygon;
* :class:`BearingLocation` — a direction from a station, e.g. an infrasound
  array's back azimuth;
* :class:`StationLocation` — heard at a station, direction unknown (a single
  sensor's arrival time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon

from truceline.model.errors import RecordError

__all__ = [
    "BearingLocation",
    "FootprintLocation",
    "Location",
    "PointLocation",
    "StationLocation",
    "location_from_dict",
]


def _finite(value: Any, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RecordError(f"expected a number, got {value!r}", field=field) from None
    if not math.isfinite(number):
        raise RecordError(f"expected a finite number, got {value!r}", field=field)
    return number


def _check_lonlat(lon: float, lat: float, field: str) -> None:
    if not -90.0 <= lat <= 90.0:
        hint = " (are longitude and latitude swapped?)" if -90 <= lon <= 90 else ""
        raise RecordError(f"latitude {lat} is outside [-90, 90]{hint}", field=f"{field}.lat")
    if not -180.0 <= lon <= 180.0:
        raise RecordError(f"longitude {lon} is outside [-180, 180]", field=f"{field}.lon")


@dataclass(frozen=True, slots=True)
class PointLocation:
    """A position with Gaussian uncertainty.

    Attributes
    ----------
    lon, lat
        Degrees on WGS 84.
    cov_ee, cov_en, cov_nn
        Covariance in m² of the (east, north) position error.
    """

    lon: float
    lat: float
    cov_ee: float
    cov_en: float
    cov_nn: float

    def __post_init__(self) -> None:
        _check_lonlat(self.lon, self.lat, "location")
        if self.cov_ee < 0 or self.cov_nn < 0:
            raise RecordError("variances must be non-negative", field="location.cov_m2")
        if self.cov_en * self.cov_en > self.cov_ee * self.cov_nn * (1 + 1e-9):
            raise RecordError(
                "covariance is not positive semi-definite (|cov_en| > sqrt(cov_ee*cov_nn))",
                field="location.cov_m2",
            )

    @classmethod
    def isotropic(cls, lon: float, lat: float, sigma_m: float) -> PointLocation:
        """A point with the same standard deviation ``sigma_m`` (metres) east and north."""
        var = float(sigma_m) ** 2
        return cls(float(lon), float(lat), var, 0.0, var)

    @property
    def centre(self) -> tuple[float, float]:
        """``(lon, lat)`` in degrees."""
        return self.lon, self.lat

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "type": "point",
            "lon": self.lon,
            "lat": self.lat,
            "cov_m2": [self.cov_ee, self.cov_en, self.cov_nn],
        }


@dataclass(frozen=True, slots=True)
class FootprintLocation:
    """A polygon the subject lies inside.

    Attributes
    ----------
    exterior
        The outer ring as ``(lon, lat)`` degree pairs, closed or open.
    """

    exterior: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if len(self.exterior) < 3:
            raise RecordError("a footprint needs at least 3 vertices", field="location.exterior")
        for index, (lon, lat) in enumerate(self.exterior):
            _check_lonlat(lon, lat, f"location.exterior[{index}]")
        if not self.polygon.is_valid:
            raise RecordError(
                "footprint polygon is invalid (self-intersecting?)", field="location.exterior"
            )

    @property
    def polygon(self) -> Polygon:
        """The footprint as a shapely polygon in degrees."""
        return Polygon(self.exterior)

    @property
    def centre(self) -> tuple[float, float]:
        """Centroid ``(lon, lat)`` in degrees."""
        point = self.polygon.centroid
        return float(point.x), float(point.y)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"type": "footprint", "exterior": [list(p) for p in self.exterior]}


@dataclass(frozen=True, slots=True)
class BearingLocation:
    """A direction of arrival at a station.

    Attributes
    ----------
    station_lon, station_lat
        Station position in degrees.
    azimuth_deg
        Back azimuth towards the source, degrees clockwise from north.
    azimuth_sigma_deg
        Standard deviation of the azimuth, degrees.
    max_range_m
        Largest plausible source range, metres.
    """

    station_lon: float
    station_lat: float
    azimuth_deg: float
    azimuth_sigma_deg: float
    max_range_m: float

    def __post_init__(self) -> None:
        _check_lonlat(self.station_lon, self.station_lat, "location.station")
        if not 0.0 <= self.azimuth_deg < 360.0:
            raise RecordError("azimuth must be in [0, 360) degrees", field="location.azimuth_deg")
        if self.azimuth_sigma_deg <= 0 or self.max_range_m <= 0:
            raise RecordError(
                "azimuth sigma and range must be positive", field="location.azimuth_sigma_deg"
            )

    @property
    def centre(self) -> tuple[float, float]:
        """The station ``(lon, lat)``; a bearing has no centre of its own."""
        return self.station_lon, self.station_lat

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "type": "bearing",
            "station_lon": self.station_lon,
            "station_lat": self.station_lat,
            "azimuth_deg": self.azimuth_deg,
            "azimuth_sigma_deg": self.azimuth_sigma_deg,
            "max_range_m": self.max_range_m,
        }


@dataclass(frozen=True, slots=True)
class StationLocation:
    """Heard at a station, direction unknown: the source is within range of it.

    A single acoustic or seismic sensor reports when it heard something, not
    where from; only several such arrivals together (time differences) place
    the source.

    Attributes
    ----------
    station_lon, station_lat
        Station position in degrees.
    max_range_m
        Largest plausible source range, metres.
    """

    station_lon: float
    station_lat: float
    max_range_m: float

    def __post_init__(self) -> None:
        _check_lonlat(self.station_lon, self.station_lat, "location.station")
        if not self.max_range_m > 0:
            raise RecordError("range must be positive", field="location.max_range_m")

    @property
    def centre(self) -> tuple[float, float]:
        """The station ``(lon, lat)``."""
        return self.station_lon, self.station_lat

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "type": "station",
            "station_lon": self.station_lon,
            "station_lat": self.station_lat,
            "max_range_m": self.max_range_m,
        }


Location = PointLocation | FootprintLocation | BearingLocation | StationLocation


def location_from_dict(data: Mapping[str, Any]) -> Location:
    """Rebuild a location from its :meth:`to_dict` form, naming bad fields."""
    kind = data.get("type")
    if kind == "point":
        cov = data.get("cov_m2")
        if not isinstance(cov, Sequence) or len(cov) != 3:
            raise RecordError(
                "cov_m2 must be [cov_ee, cov_en, cov_nn] in m²", field="location.cov_m2"
            )
        return PointLocation(
            _finite(data.get("lon"), "location.lon"),
            _finite(data.get("lat"), "location.lat"),
            _finite(cov[0], "location.cov_m2[0]"),
            _finite(cov[1], "location.cov_m2[1]"),
            _finite(cov[2], "location.cov_m2[2]"),
        )
    if kind == "footprint":
        ring = data.get("exterior")
        if not isinstance(ring, Sequence):
            raise RecordError("exterior must be a list of [lon, lat]", field="location.exterior")
        points = []
        for index, pair in enumerate(ring):
            if not isinstance(pair, Sequence) or len(pair) < 2:
                raise RecordError("expected [lon, lat]", field=f"location.exterior[{index}]")
            points.append(
                (
                    _finite(pair[0], f"location.exterior[{index}][0]"),
                    _finite(pair[1], f"location.exterior[{index}][1]"),
                )
            )
        return FootprintLocation(tuple(points))
    if kind == "bearing":
        return BearingLocation(
            _finite(data.get("station_lon"), "location.station_lon"),
            _finite(data.get("station_lat"), "location.station_lat"),
            _finite(data.get("azimuth_deg"), "location.azimuth_deg"),
            _finite(data.get("azimuth_sigma_deg", 5.0), "location.azimuth_sigma_deg"),
            _finite(data.get("max_range_m", 50_000.0), "location.max_range_m"),
        )
    if kind == "station":
        return StationLocation(
            _finite(data.get("station_lon"), "location.station_lon"),
            _finite(data.get("station_lat"), "location.station_lat"),
            _finite(data.get("max_range_m", 50_000.0), "location.max_range_m"),
        )
    raise RecordError(
        f"unknown location type {kind!r} (expected point, footprint, bearing or station)",
        field="location.type",
    )
