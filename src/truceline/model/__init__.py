"""Core types: sensors, observations, events, findings, coverage; ids, time, geometry."""

from truceline.model.coverage import Coverage
from truceline.model.errors import RecordError, TrucelineError
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.geo import Ellipse, LocalFrame, covariance_ellipse, geodesic_distance_m
from truceline.model.ids import canonical_json, content_id, sha256_hex
from truceline.model.location import (
    BearingLocation,
    FootprintLocation,
    Location,
    PointLocation,
    StationLocation,
    location_from_dict,
)
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.model.timeutil import format_utc, from_epoch, parse_utc, to_epoch

__all__ = [
    "BearingLocation",
    "Coverage",
    "Ellipse",
    "Event",
    "Finding",
    "FootprintLocation",
    "LocalFrame",
    "Location",
    "Observation",
    "PointLocation",
    "RecordError",
    "Sensor",
    "StationLocation",
    "TrucelineError",
    "canonical_json",
    "content_id",
    "covariance_ellipse",
    "format_utc",
    "from_epoch",
    "geodesic_distance_m",
    "location_from_dict",
    "parse_utc",
    "sha256_hex",
    "to_epoch",
]
