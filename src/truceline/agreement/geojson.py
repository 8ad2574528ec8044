"""Reading and checking the GeoJSON geometry of an agreement.

Every problem is reported as an :class:`~truceline.agreement.issues.AgreementIssue`
whose path points at the offending coordinate, e.g.
``contact_line.geometry.coordinates[1][17]``, so an operator can find it in the
file. The checks follow RFC 7946: positions are ``[longitude, latitude]`` in
degrees, polygon rings are closed, exterior rings run counter-clockwise and
holes clockwise.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from truceline.agreement.issues import AgreementIssue

__all__ = [
    "GeometryKind",
    "check_geometry",
    "line_crossings",
    "read_geojson_file",
    "to_shapely",
]

GeometryKind = Literal["line", "polygon"]

_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "line": ("LineString", "MultiLineString"),
    "polygon": ("Polygon", "MultiPolygon"),
}

#: At most this many crossings or bad coordinates are listed one by one.
_MAX_LISTED: Final = 5


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _position_problem(position: Any) -> str | None:
    """What is wrong with one ``[lon, lat]`` position, or ``None``."""
    if not isinstance(position, list) or not 2 <= len(position) <= 3:
        return "a position must be [longitude, latitude] (optionally with altitude)"
    if not all(_is_number(v) for v in position):
        return f"a position must hold numbers, got {position!r}"
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return "coordinates must be finite numbers"
    if -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0:
        return None
    if -90.0 <= lon <= 90.0 and -180.0 <= lat <= 180.0:
        return (
            f"latitude and longitude look swapped: [{position[0]}, {position[1]}] has a "
            "latitude beyond ±90°; GeoJSON positions are [longitude, latitude]"
        )
    return f"[{position[0]}, {position[1]}] is outside the world (lon ±180°, lat ±90°)"


class _Checker:
    """Collects issues for one geometry, summarising repeated coordinate problems."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.issues: list[AgreementIssue] = []
        self._bad_positions: list[tuple[str, str]] = []

    def add(self, subpath: str, message: str) -> None:
        self.issues.append(AgreementIssue(f"{self.path}{subpath}", message))

    def positions(self, value: Any, subpath: str) -> bool:
        """Check a list of positions; returns whether all are well formed."""
        if not isinstance(value, list):
            self.add(subpath, "expected a list of [longitude, latitude] positions")
            return False
        ok = True
        for index, position in enumerate(value):
            problem = _position_problem(position)
            if problem is not None:
                self._bad_positions.append((f"{subpath}[{index}]", problem))
                ok = False
        return ok

    def flush_positions(self) -> None:
        """Report bad positions: the first few one by one, then a count."""
        for subpath, problem in self._bad_positions[:_MAX_LISTED]:
            self.add(subpath, problem)
        extra = len(self._bad_positions) - _MAX_LISTED
        if extra > 0:
            self.add(".coordinates", f"and {extra} more positions with problems")


def _signed_area(ring: Sequence[Sequence[float]]) -> float:
    """Shoelace signed area in degrees² (positive: counter-clockwise)."""
    xs = np.array([float(p[0]) for p in ring])
    ys = np.array([float(p[1]) for p in ring])
    return 0.5 * float(np.dot(xs[:-1], ys[1:]) - np.dot(xs[1:], ys[:-1]))


def _check_ring(checker: _Checker, ring: Any, subpath: str, exterior: bool) -> bool:
    if not checker.positions(ring, subpath):
        return False
    if len(ring) < 4:
        checker.add(subpath, f"a polygon ring needs at least 4 positions, has {len(ring)}")
        return False
    if [float(v) for v in ring[0][:2]] != [float(v) for v in ring[-1][:2]]:
        checker.add(
            subpath,
            f"ring is not closed: the last position must repeat the first {ring[0]!r}",
        )
        return False
    area = _signed_area(ring)  # zero for a bow-tie: validity below names the crossing
    if exterior and area < 0.0:
        checker.add(
            subpath,
            "exterior ring is clockwise; RFC 7946 wants exterior rings counter-clockwise: "
            "reverse the order of its positions",
        )
    elif not exterior and area > 0.0:
        checker.add(
            subpath,
            "hole is counter-clockwise; RFC 7946 wants holes clockwise: "
            "reverse the order of its positions",
        )
    return True


def _check_polygon(checker: _Checker, rings: Any, subpath: str) -> bool:
    if not isinstance(rings, list) or not rings:
        checker.add(subpath, "a polygon is a non-empty list of rings")
        return False
    results = [
        _check_ring(checker, ring, f"{subpath}[{i}]", exterior=i == 0)
        for i, ring in enumerate(rings)
    ]
    return all(results)


def _check_linestring(checker: _Checker, line: Any, subpath: str) -> bool:
    if not checker.positions(line, subpath):
        return False
    distinct = {(float(p[0]), float(p[1])) for p in line}
    if len(line) < 2 or len(distinct) < 2:
        checker.add(subpath, f"a line needs at least 2 distinct positions, has {len(distinct)}")
        return False
    return True


def line_crossings(
    parts: Sequence[np.ndarray],
) -> list[tuple[tuple[int, int], tuple[int, int], tuple[float, float]]]:
    """Places where a (multi)line crosses or overlaps itself.

    Parameters
    ----------
    parts
        One ``(n, 2)`` array of ``(lon, lat)`` per part.

    Returns
    -------
    list
        ``((part, index), (part, index), (lon, lat))`` per offending pair of
        segments: the segments start at the given vertex indices. Adjacent
        segments meeting at their shared vertex, and parts whose ends touch, are
        not crossings.
    """
    starts: list[np.ndarray] = []
    owners: list[tuple[int, int]] = []
    for p, coords in enumerate(parts):
        for i in range(len(coords) - 1):
            starts.append(coords[i : i + 2])
            owners.append((p, i))
    if not starts:
        return []
    segments = shapely.linestrings(np.stack(starts))
    tree = shapely.STRtree(segments)
    left, right = tree.query(segments, predicate="intersects")
    found = []
    for a, b in sorted(zip(left.tolist(), right.tolist(), strict=True)):
        if b <= a:
            continue
        (pa, ia), (pb, ib) = owners[a], owners[b]
        meet = shapely.intersection(segments[a], segments[b])
        if meet.geom_type == "Point" and _allowed_touch(parts, (pa, ia), (pb, ib), meet):
            continue
        point = meet.representative_point() if meet.geom_type != "Point" else meet
        found.append(((pa, ia), (pb, ib), (round(point.x, 6), round(point.y, 6))))
    return found


def _allowed_touch(
    parts: Sequence[np.ndarray], a: tuple[int, int], b: tuple[int, int], meet: Any
) -> bool:
    """Whether two segments meet only where a line legitimately touches itself."""
    (pa, ia), (pb, ib) = a, b
    if pa == pb:
        n_segments = len(parts[pa]) - 1
        if ib == ia + 1:
            return True  # consecutive segments share a vertex
        closed = bool(np.array_equal(parts[pa][0], parts[pa][-1]))
        return closed and ia == 0 and ib == n_segments - 1
    ends_a = {tuple(parts[pa][0]), tuple(parts[pa][-1])}
    ends_b = {tuple(parts[pb][0]), tuple(parts[pb][-1])}
    return (meet.x, meet.y) in ends_a & ends_b


def _report_crossings(
    checker: _Checker, parts: list[np.ndarray], part_paths: Sequence[str]
) -> None:
    crossings = line_crossings(parts)
    for (pa, ia), (pb, ib), (lon, lat) in crossings[:_MAX_LISTED]:
        first = f"{part_paths[pa]}[{ia}]"
        second = f"{part_paths[pb]}[{ib}]"
        checker.add(
            first,
            f"the line crosses itself at lon {lon}, lat {lat}: the segment starting at "
            f"{first.lstrip('.')} meets the segment starting at {second.lstrip('.')}",
        )
    if len(crossings) > _MAX_LISTED:
        checker.add(".coordinates", f"and {len(crossings) - _MAX_LISTED} more self-crossings")


def check_geometry(
    geometry: Any, path: str, kind: GeometryKind, part_paths: Sequence[str] | None = None
) -> list[AgreementIssue]:
    """Check one GeoJSON geometry object.

    Parameters
    ----------
    geometry
        The parsed GeoJSON geometry (a mapping with ``type`` and ``coordinates``).
    path
        Field path of the geometry, prefixed to every issue.
    kind
        ``"line"`` for contact and reference lines, ``"polygon"`` for zones.
    part_paths
        Paths (relative to ``path``) naming each line part in messages, for a
        geometry merged from several features; by default ``.coordinates`` or
        ``.coordinates[i]``.

    Returns
    -------
    list of AgreementIssue
        Empty when the geometry is usable.
    """
    checker = _Checker(path)
    if not isinstance(geometry, Mapping):
        checker.add("", "expected a GeoJSON geometry object with 'type' and 'coordinates'")
        return checker.issues
    allowed = _TYPES[kind]
    gtype = geometry.get("type")
    if gtype not in allowed:
        checker.add(".type", f"expected {' or '.join(allowed)}, got {gtype!r}")
        return checker.issues
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        checker.add(".coordinates", "expected a non-empty list")
        return checker.issues
    multi = gtype.startswith("Multi")
    members = coords if multi else [coords]
    ok = True
    for index, member in enumerate(members):
        subpath = f".coordinates[{index}]" if multi else ".coordinates"
        if kind == "line":
            ok = _check_linestring(checker, member, subpath) and ok
        else:
            ok = _check_polygon(checker, member, subpath) and ok
    checker.flush_positions()
    if not ok:
        return checker.issues
    if kind == "line":
        parts = [np.array([[float(p[0]), float(p[1])] for p in m]) for m in members]
        if part_paths is None:
            part_paths = [
                f".coordinates[{i}]" if multi else ".coordinates" for i in range(len(parts))
            ]
        _report_crossings(checker, parts, part_paths)
    else:
        polygon = to_shapely(geometry)
        reason = shapely.is_valid_reason(polygon)
        if reason != "Valid Geometry":
            checker.add("", f"invalid polygon: {_describe_invalid(reason)}")
    return checker.issues


def _describe_invalid(reason: str) -> str:
    """Turn GEOS' ``Self-intersection[x y]`` into words with the location."""
    if "[" in reason and reason.endswith("]"):
        what, _, where = reason[:-1].partition("[")
        lon, _, lat = where.partition(" ")
        return f"{what.lower()} at lon {round(float(lon), 6)}, lat {round(float(lat), 6)}"
    return reason


def _strip_altitude(value: Any) -> Any:
    if isinstance(value, list) and value and _is_number(value[0]):
        return [float(value[0]), float(value[1])]
    if isinstance(value, list):
        return [_strip_altitude(v) for v in value]
    return value


def to_shapely(geometry: Mapping[str, Any]) -> BaseGeometry:
    """Shapely geometry (lon/lat degrees, 2-D) of a checked GeoJSON geometry."""
    return shape(
        {"type": geometry["type"], "coordinates": _strip_altitude(geometry["coordinates"])}
    )


def _merge(geometries: list[Mapping[str, Any]]) -> dict[str, Any]:
    """One (multi) geometry from the geometries of a FeatureCollection."""
    if len(geometries) == 1:
        return dict(geometries[0])
    lines: list[Any] = []
    polygons: list[Any] = []
    for g in geometries:
        target = lines if "LineString" in str(g.get("type")) else polygons
        multi = str(g.get("type")).startswith("Multi")
        target.extend(g["coordinates"] if multi else [g["coordinates"]])
    if lines and not polygons:
        return {"type": "MultiLineString", "coordinates": lines}
    if polygons and not lines:
        return {"type": "MultiPolygon", "coordinates": polygons}
    return {"type": "GeometryCollection", "coordinates": []}


def read_geojson_file(
    base_dir: Path, name: str, path: str, kind: GeometryKind
) -> tuple[dict[str, Any] | None, list[AgreementIssue]]:
    """Read and check the geometry of a GeoJSON file referred to by ``file:``.

    Parameters
    ----------
    base_dir
        Folder of the YAML file; ``name`` is relative to it.
    name
        The ``file:`` value.
    path
        Field path of the ``file:`` key (issues inside the file are reported as
        ``<path>(<name>).<path inside the file>``).
    kind
        Expected geometry: ``"line"`` or ``"polygon"``.

    Returns
    -------
    tuple
        The geometry as a GeoJSON mapping (``None`` when unusable) and the issues.
    """
    file_path = base_dir / name
    if not file_path.is_file():
        message = f"file {name!r} not found (looked for {file_path.resolve()})"
        return None, [AgreementIssue(path, message)]
    try:
        data = json.loads(file_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [AgreementIssue(path, f"cannot read {name!r}: {exc}")]
    except json.JSONDecodeError as exc:
        message = f"{name!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        return None, [AgreementIssue(path, message)]
    inner = f"{path}({name})"
    if not isinstance(data, Mapping):
        return None, [AgreementIssue(inner, "expected a GeoJSON object")]
    pieces: list[tuple[str, Any]]
    if data.get("type") == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            return None, [AgreementIssue(f"{inner}.features", "expected a non-empty list")]
        pieces = [
            (f"{inner}.features[{i}].geometry", f.get("geometry") if isinstance(f, Mapping) else f)
            for i, f in enumerate(features)
        ]
    elif data.get("type") == "Feature":
        pieces = [(f"{inner}.geometry", data.get("geometry"))]
    else:
        pieces = [(inner, data)]
    issues: list[AgreementIssue] = []
    for piece_path, geometry in pieces:
        issues += check_geometry(geometry, piece_path, kind)
    if issues:
        return None, issues
    merged = _merge([g for _, g in pieces])
    if len(pieces) > 1:
        part_paths = []
        for piece_path, geometry in pieces:
            relative = piece_path.removeprefix(inner)
            if str(geometry["type"]).startswith("Multi"):
                count = len(geometry["coordinates"])
                part_paths += [f"{relative}.coordinates[{j}]" for j in range(count)]
            else:
                part_paths.append(f"{relative}.coordinates")
        issues += check_geometry(merged, inner, kind, part_paths)
    return (None if issues else merged), issues
