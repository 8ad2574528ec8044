"""Local metric frames and uncertainty ellipses.

Geographic coordinates are longitude/latitude in degrees on WGS 84 (EPSG:4326),
in that order, as in GeoJSON. Distances, covariances and areas are computed in a
local azimuthal-equidistant frame (metres east, metres north) centred near the
data, through pyproj, so that a covariance in m² means the same thing everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import Geod, Transformer

__all__ = ["WGS84_GEOD", "Ellipse", "LocalFrame", "covariance_ellipse", "geodesic_distance_m"]

WGS84_GEOD = Geod(ellps="WGS84")

FloatArray = npt.NDArray[np.float64]


@lru_cache(maxsize=64)
def _transformers(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    proj = f"+proj=aeqd +lat_0={lat0!r} +lon_0={lon0!r} +datum=WGS84 +units=m +no_defs"
    forward = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    inverse = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    return forward, inverse


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """An azimuthal-equidistant metric frame centred at ``(lon0, lat0)``.

    Within a few hundred kilometres of the centre, distances from the centre are
    exact and other distances are within a fraction of a percent, which is far
    below the location uncertainty of any sensor truceline fuses.

    Parameters
    ----------
    lon0, lat0
        Centre of the frame in degrees (WGS 84).
    """

    lon0: float
    lat0: float

    def __post_init__(self) -> None:
        if not (-180.0 <= self.lon0 <= 180.0 and -90.0 <= self.lat0 <= 90.0):
            raise ValueError(f"frame centre ({self.lon0}, {self.lat0}) is outside the world")

    @classmethod
    def around(cls, lons: Any, lats: Any) -> LocalFrame:
        """A frame centred on the mid-point of the bounding box of the points."""
        lon_arr = np.asarray(lons, dtype=float)
        lat_arr = np.asarray(lats, dtype=float)
        if lon_arr.size == 0:
            raise ValueError("cannot centre a local frame on no points")
        lon0 = round(float((lon_arr.min() + lon_arr.max()) / 2.0), 6)
        lat0 = round(float((lat_arr.min() + lat_arr.max()) / 2.0), 6)
        return cls(lon0, lat0)

    def to_local(self, lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
        """Project degrees to metres (east, north) in this frame."""
        forward, _ = _transformers(self.lon0, self.lat0)
        x, y = forward.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_geo(self, x: Any, y: Any) -> tuple[FloatArray, FloatArray]:
        """Project metres (east, north) in this frame back to degrees (lon, lat)."""
        _, inverse = _transformers(self.lon0, self.lat0)
        lon, lat = inverse.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def point_to_local(self, lon: float, lat: float) -> tuple[float, float]:
        """Project one point; returns ``(east_m, north_m)``."""
        x, y = self.to_local(lon, lat)
        return float(x), float(y)

    def point_to_geo(self, x: float, y: float) -> tuple[float, float]:
        """Inverse of :meth:`point_to_local`; returns ``(lon, lat)`` in degrees."""
        lon, lat = self.to_geo(x, y)
        return float(lon), float(lat)


def geodesic_distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the WGS 84 ellipsoid, in metres."""
    _, _, dist = WGS84_GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


@dataclass(frozen=True, slots=True)
class Ellipse:
    """A confidence ellipse.

    Attributes
    ----------
    semi_major_m, semi_minor_m
        Semi-axes in metres at the stated confidence level.
    orientation_deg
        Azimuth of the major axis, degrees clockwise from north, in [0, 180).
    confidence
        Probability mass inside the ellipse (e.g. 0.95).
    """

    semi_major_m: float
    semi_minor_m: float
    orientation_deg: float
    confidence: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return {
            "semi_major_m": self.semi_major_m,
            "semi_minor_m": self.semi_minor_m,
            "orientation_deg": self.orientation_deg,
            "confidence": self.confidence,
        }


def covariance_ellipse(
    cov_ee: float, cov_en: float, cov_nn: float, confidence: float = 0.95
) -> Ellipse:
    """Confidence ellipse of a 2-D Gaussian with covariance in m² (east, north).

    Parameters
    ----------
    cov_ee, cov_en, cov_nn
        Covariance entries in m²: var(east), cov(east, north), var(north).
    confidence
        Probability inside the ellipse; the scale is the chi-square quantile with
        two degrees of freedom, ``-2 ln(1 - confidence)``.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    matrix = np.array([[cov_ee, cov_en], [cov_en, cov_nn]], dtype=float)
    values, vectors = np.linalg.eigh(matrix)
    values = np.clip(values, 0.0, None)
    scale = -2.0 * math.log(1.0 - confidence)
    major_vec = vectors[:, 1]
    # azimuth clockwise from north of (east, north) vector
    azimuth = math.degrees(math.atan2(major_vec[0], major_vec[1])) % 180.0
    return Ellipse(
        semi_major_m=float(math.sqrt(scale * values[1])),
        semi_minor_m=float(math.sqrt(scale * values[0])),
        orientation_deg=round(azimuth, 6) % 180.0,
        confidence=confidence,
    )
