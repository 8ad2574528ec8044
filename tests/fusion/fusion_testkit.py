"""Observations placed in a local metric frame, for fusion tests."""

from __future__ import annotations

from datetime import datetime

from truceline.model import LocalFrame, Observation, PointLocation


def point_at(
    frame: LocalFrame,
    sensor: str,
    modality: str,
    kind: str,
    east_m: float,
    north_m: float,
    sigma_m: float,
    t: datetime,
    **attrs: object,
) -> Observation:
    """A point observation ``east_m``/``north_m`` metres from ``frame``'s origin.

    Its position has an isotropic standard deviation of ``sigma_m`` metres; its
    attributes are ``confidence`` 0.9 unless ``attrs`` say otherwise.
    """
    lon, lat = frame.point_to_geo(east_m, north_m)
    return Observation(
        sensor, modality, kind, t, PointLocation.isotropic(lon, lat, sigma_m),
        attributes={"confidence": 0.9, **attrs},
    )  # fmt: skip
