"""Automatic grouping of co-located sensors into arrays.

When no metadata names the arrays, sensors whose elements lie within
``max_separation_m`` (about a kilometre: an infrasound array's aperture) of
another element of the group form one array: single-link clustering on
geodesic distance, which does not depend on the order of the input. Each array
gets a deterministic id and its centroid, so that beamforming can run per array
and association can treat an array as one station (:func:`assign_arrays`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from truceline.ground.base import Arrival
from truceline.model.geo import WGS84_GEOD, LocalFrame

__all__ = ["SensorArray", "assign_arrays", "group_arrays"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SensorArray:
    """A group of co-located sensors.

    Attributes
    ----------
    id
        The elements' longest common id prefix (e.g. ``BRP`` for ``BRP1..BRP4``)
        when it is non-empty and unique among the arrays, else ``array-<first element>``;
        a lone sensor keeps its own id.
    elements
        Sensor ids, sorted.
    lon, lat
        Centroid of the elements, degrees.
    aperture_m
        Largest distance between two elements, metres.
    """

    id: str
    elements: tuple[str, ...]
    lon: float
    lat: float
    aperture_m: float


def _common_prefix(names: list[str]) -> str:
    """Longest string every name starts with (character-wise: ids are not paths)."""
    first, last = min(names), max(names)
    size = next((k for k, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), None)
    return first[: min(len(first), len(last)) if size is None else size]


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def group_arrays(
    sensors: Sequence[tuple[str, float, float]], max_separation_m: float = 1_000.0
) -> tuple[SensorArray, ...]:
    """Group sensors ``(id, lon, lat)`` into arrays by single-link clustering.

    Parameters
    ----------
    sensors
        Sensor id with its longitude and latitude in degrees; ids must be unique.
    max_separation_m
        Two sensors closer than this, metres, belong to the same array.

    Returns
    -------
    tuple of SensorArray
        Arrays ordered by id.

    Raises
    ------
    ValueError
        On duplicate ids, non-finite coordinates or a non-positive separation.
    """
    if not max_separation_m > 0.0:
        raise ValueError(f"max_separation_m must be positive, got {max_separation_m}")
    ordered = sorted(sensors)
    ids = [s[0] for s in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("sensor ids must be unique")
    lon = np.array([s[1] for s in ordered], dtype=float)
    lat = np.array([s[2] for s in ordered], dtype=float)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise ValueError("sensor coordinates must be finite")
    n = len(ordered)
    parent = list(range(n))
    dist = np.zeros((n, n))
    for i in range(n):
        _, _, d = WGS84_GEOD.inv(np.full(n, lon[i]), np.full(n, lat[i]), lon, lat)
        dist[i] = d
    for i, j in zip(*np.nonzero(np.triu(dist <= max_separation_m, k=1)), strict=True):
        if dist[i, j] == 0.0:
            logger.warning("sensors %s and %s are at the same position", ids[i], ids[j])
        parent[_find(parent, int(i))] = _find(parent, int(j))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(_find(parent, i), []).append(i)
    members = sorted(groups.values())
    prefixes = [_common_prefix([ids[i] for i in g]).rstrip("._-") for g in members]
    arrays = []
    for group, prefix in zip(members, prefixes, strict=True):
        names = tuple(ids[i] for i in group)
        if len(group) == 1:
            array_id = names[0]
        elif prefix and prefixes.count(prefix) == 1 and prefix not in ids:
            array_id = prefix
        else:
            array_id = f"array-{names[0]}"
        frame = LocalFrame.around(lon[group], lat[group])
        x, y = frame.to_local(lon[group], lat[group])
        c_lon, c_lat = frame.point_to_geo(float(np.mean(x)), float(np.mean(y)))
        aperture = float(dist[np.ix_(group, group)].max())
        arrays.append(SensorArray(array_id, names, c_lon, c_lat, aperture))
    return tuple(sorted(arrays, key=lambda a: a.id))


def assign_arrays(arrivals: Sequence[Arrival], arrays: Sequence[SensorArray]) -> list[Arrival]:
    """The arrivals with each element's station replaced by its array (id and centroid).

    Raises
    ------
    KeyError
        When an arrival's station belongs to no array.
    """
    owner = {element: array for array in arrays for element in array.elements}
    result = []
    for arrival in arrivals:
        if arrival.station not in owner:
            raise KeyError(f"arrival {arrival.id!r}: station {arrival.station!r} is in no array")
        array = owner[arrival.station]
        result.append(replace(arrival, station=array.id, lon=array.lon, lat=array.lat))
    return result
