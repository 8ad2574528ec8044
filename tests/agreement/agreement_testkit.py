"""Shared builders for the agreement tests: a simple front, points and events.

The test front is the meridian 30°E from 47°N to 49°N, walked northwards, so the
``west`` party holds the left (west) side and ``east`` the right (east) side.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pyproj import Geod
from shapely.geometry import LineString, Polygon

from truceline.agreement import Agreement, agreement_from_dict, demo_agreement_dict
from truceline.model.event import Event

GEOD = Geod(ellps="WGS84")
LINE_LON = 30.0
FRONT = LineString([(LINE_LON, 47.0), (LINE_LON, 49.0)])
T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def offset(distance_m: float, lat: float = 48.0, lon: float = LINE_LON) -> tuple[float, float]:
    """``(lon, lat)`` of the point ``distance_m`` metres east (negative: west) of ``lon``."""
    azimuth = 90.0 if distance_m >= 0 else 270.0
    out_lon, out_lat, _ = GEOD.fwd(lon, lat, azimuth, abs(distance_m))
    return float(out_lon), float(out_lat)


def square(centre: tuple[float, float], half_m: float) -> Polygon:
    """An axis-aligned square around ``centre`` (lon, lat), ``half_m`` metres half-width."""
    lon, lat = centre
    west, _, _ = GEOD.fwd(lon, lat, 270.0, half_m)
    east, _, _ = GEOD.fwd(lon, lat, 90.0, half_m)
    _, north, _ = GEOD.fwd(lon, lat, 0.0, half_m)
    _, south, _ = GEOD.fwd(lon, lat, 180.0, half_m)
    return Polygon([(west, south), (east, south), (east, north), (west, north)])


#: A declared quarry 30 km west of the line and a west storage site 5 km west of it.
QUARRY_CENTRE = offset(-30_000, lat=48.3)
STORAGE_CENTRE = offset(-5_000, lat=47.7)
EAST_STORAGE_CENTRE = offset(8_000, lat=47.7)


def demo_sites() -> dict[str, Any]:
    """Keyword arguments of the demo builders: a quarry and two storage sites."""
    return {
        "declared_sites": [("quarry-a", "west", square(QUARRY_CENTRE, 1_000))],
        "storage_sites": [
            ("store-w1", "west", square(STORAGE_CENTRE, 1_000)),
            ("store-e1", "east", square(EAST_STORAGE_CENTRE, 1_000)),
        ],
    }


def demo_content(**overrides: Any) -> dict[str, Any]:
    """The demo agreement on the test front, with a quarry and two storage sites."""
    kwargs = demo_sites()
    kwargs.update(overrides)
    content: dict[str, Any] = demo_agreement_dict(FRONT, **kwargs)
    return content


_CACHE: dict[str, Agreement] = {}


def demo() -> Agreement:
    """The demo agreement (built once per session)."""
    if "demo" not in _CACHE:
        _CACHE["demo"] = agreement_from_dict(demo_content())
    return _CACHE["demo"]


def event(
    kind: str,
    where: tuple[float, float],
    *,
    time: datetime = T0 + DAY,
    confidence: float = 0.95,
    sources: int = 2,
    weapon_class: str | None = None,
    members: tuple[str, ...] = ("obs-b", "obs-a"),
) -> Event:
    """A hand-made fused event at ``where`` (lon, lat)."""
    attributes = {} if weapon_class is None else {"weapon_class": weapon_class}
    return Event(
        kind=kind,
        time=time,
        time_sigma_s=1.0,
        time_start=time,
        time_end=time,
        lon=where[0],
        lat=where[1],
        cov_ee=100.0**2,
        cov_en=0.0,
        cov_nn=100.0**2,
        members=members,
        sensors=("s1", "s2"),
        modalities=("acoustic", "satellite"),
        independent_sources=sources,
        confidence=confidence,
        attributes=attributes,
    )


def write_yaml(folder: Path, content: dict[str, Any], name: str = "agreement.yaml") -> Path:
    """Write agreement content as YAML and return the path."""
    path = folder / name
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def small_content() -> dict[str, Any]:
    """A small valid agreement (no generated bands) to break in validation tests."""
    return copy.deepcopy(
        {
            "format": "truceline-agreement/1",
            "id": "small",
            "version": 1,
            "effective_from": "2026-11-01T00:00:00Z",
            "parties": [{"id": "west"}, {"id": "east"}],
            "contact_line": {
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[30.0, 47.0], [30.0, 48.0], [30.1, 49.0]],
                },
                "left_party": "west",
                "right_party": "east",
            },
            "zones": [
                {"id": "buffer", "band": {"from": "contact_line", "side": "both", "max_m": 1000}},
                {
                    "id": "west-10km",
                    "band": {"from": "reference_line:west", "side": "west", "max_m": 10000},
                },
                {
                    "id": "site",
                    "kind": "declared_site",
                    "polygon": {
                        "type": "Polygon",
                        "coordinates": [
                            [[29.5, 48.0], [29.6, 48.0], [29.6, 48.1], [29.5, 48.1], [29.5, 48.0]]
                        ],
                    },
                },
            ],
            "rules": [
                {
                    "id": "no-fire",
                    "activities": ["explosion", "gunfire"],
                    "exempt_zones": ["site"],
                    "severity": "serious",
                },
                {
                    "id": "no-tanks",
                    "activities": ["equipment"],
                    "zone": "west-10km",
                    "weapon_classes": ["tank"],
                    "severity": "moderate",
                },
            ],
            "escalation": {
                "levels": ["log", "urgent"],
                "default": "log",
                "policy": [{"level": "urgent", "when": {"min_severity": "serious"}}],
                "notify": {"urgent": ["monitors"]},
            },
        }
    )
