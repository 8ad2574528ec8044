"""Resolve and check the geometry of an agreement file.

Resolution replaces every ``file:`` reference by the geometry it names and
normalises coordinates to ``[lon, lat]`` floats, so that the resolved agreement
(and its content id) is the same whether geometry was written inline or kept
in files beside the YAML.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from truceline.agreement.geojson import GeometryKind, check_geometry, read_geojson_file
from truceline.agreement.issues import AgreementIssue

__all__ = ["normalise_coordinates", "resolve_geometry"]

#: A geometry whose centre is this far (degrees) from the contact line's centre
#: but would be beside it with latitude and longitude exchanged is reported as swapped.
_SWAP_FAR_DEG = 10.0


def normalise_coordinates(value: Any) -> Any:
    """GeoJSON coordinates as nested lists with 2-D float positions (altitude dropped)."""
    if isinstance(value, list) and value and isinstance(value[0], int | float):
        return [float(value[0]), float(value[1])]
    if isinstance(value, list):
        return [normalise_coordinates(item) for item in value]
    return value


def _positions(coords: Any) -> list[tuple[float, float]]:
    """Every well-formed position in (possibly malformed) coordinates."""
    if isinstance(coords, list) and len(coords) >= 2 and isinstance(coords[0], int | float):
        if isinstance(coords[1], int | float) and not isinstance(coords[1], bool):
            return [(float(coords[0]), float(coords[1]))]
        return []
    out: list[tuple[float, float]] = []
    if isinstance(coords, list):
        for item in coords:
            out += _positions(item)
    return out


def _centre(geometry: Mapping[str, Any]) -> tuple[float, float, float] | None:
    """Bounding-box centre ``(lon, lat)`` and half-diagonal, degrees (``None``: no positions)."""
    points = _positions(geometry.get("coordinates"))
    if not points:
        return None
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    half = math.hypot(max(lons) - min(lons), max(lats) - min(lats)) / 2.0
    return (max(lons) + min(lons)) / 2.0, (max(lats) + min(lats)) / 2.0, half


class _Resolver:
    def __init__(self, base_dir: Path | None) -> None:
        self.base_dir = base_dir
        self.issues: list[AgreementIssue] = []
        self.placed: list[tuple[str, dict[str, Any]]] = []

    def source(
        self, holder: dict[str, Any], path: str, kind: GeometryKind, geometry_key: str
    ) -> dict[str, Any] | None:
        """Resolve ``holder[geometry_key]`` or ``holder['file']`` in place."""
        geometry: Any = None
        if isinstance(holder.get("file"), str):
            name = holder["file"]
            if self.base_dir is None:
                message = f"file {name!r} cannot be resolved: the agreement has no folder"
                self.issues.append(AgreementIssue(f"{path}.file", message))
                return None
            geometry, found = read_geojson_file(self.base_dir, name, f"{path}.file", kind)
            self.issues += found
            if geometry is None:
                return None
            del holder["file"]
            self.placed.append((f"{path}.file", geometry))
        elif holder.get(geometry_key) is not None:
            geometry = holder[geometry_key]
            found = check_geometry(geometry, f"{path}.{geometry_key}", kind)
            self.issues += found
            if isinstance(geometry, Mapping):
                # even a faulty geometry shows whether latitude and longitude were swapped
                self.placed.append((f"{path}.{geometry_key}", dict(geometry)))
            if found:
                return None
            return self._normalised(holder, geometry_key, geometry)
        else:
            return None
        return self._normalised(holder, geometry_key, geometry)

    @staticmethod
    def _normalised(
        holder: dict[str, Any], geometry_key: str, geometry: Mapping[str, Any]
    ) -> dict[str, Any]:
        # bbox is dropped: it is derived data and would only make ids differ
        resolved = {
            "type": geometry["type"],
            "coordinates": normalise_coordinates(geometry["coordinates"]),
        }
        holder[geometry_key] = resolved
        return resolved


def _check_swapped(
    contact: Mapping[str, Any], placed: list[tuple[str, dict[str, Any]]]
) -> list[AgreementIssue]:
    """Find geometries far from the contact line that would fit with lon/lat exchanged."""
    centre = _centre(contact)
    if centre is None:
        return []
    cx, cy, half = centre
    near = max(2.0, 2.0 * half)
    issues = []
    for path, geometry in placed:
        found = _centre(geometry)
        if found is None or abs(found[1]) > 90.0:
            continue  # already reported position by position
        gx, gy, _ = found
        here = math.hypot(gx - cx, gy - cy)
        swapped = math.hypot(gy - cx, gx - cy)
        if here > max(_SWAP_FAR_DEG, 2.0 * near) and swapped <= near:
            issues.append(
                AgreementIssue(
                    path,
                    f"latitude and longitude look swapped: this geometry is centred at "
                    f"lon {gx:.3f}, lat {gy:.3f}, {here:.0f}° from the contact line; "
                    "as [longitude, latitude] it would lie beside it",
                )
            )
    return issues


def resolve_geometry(
    data: Mapping[str, Any], base_dir: Path | None
) -> tuple[dict[str, Any], list[AgreementIssue]]:
    """Inline and check every geometry of a parsed agreement file.

    Parameters
    ----------
    data
        The parsed YAML (left unchanged).
    base_dir
        Folder ``file:`` references are relative to; ``None`` for an agreement
        built in memory (a ``file:`` is then an issue).

    Returns
    -------
    tuple
        A deep copy of ``data`` with geometry inlined and normalised, and the
        geometry issues found.
    """
    resolved: dict[str, Any] = copy.deepcopy(dict(data))
    resolver = _Resolver(base_dir)
    contact: dict[str, Any] | None = None
    line = resolved.get("contact_line")
    if isinstance(line, dict):
        contact = resolver.source(line, "contact_line", "line", "geometry")
        resolver.placed.clear()  # the contact line is the reference, not a suspect
    references = resolved.get("reference_lines")
    if isinstance(references, dict):
        for party, source in references.items():
            if isinstance(source, dict):
                path = f"reference_lines.{party}"
                resolver.source(source, path, "line", "geometry")
    zones = resolved.get("zones")
    if isinstance(zones, list):
        for index, zone in enumerate(zones):
            if isinstance(zone, dict) and (
                zone.get("polygon") is not None or zone.get("file") is not None
            ):
                path = f"zones[{index}]"
                resolver.source(zone, path, "polygon", "polygon")
    if contact is not None:
        resolver.issues += _check_swapped(contact, resolver.placed)
    return resolved, resolver.issues
