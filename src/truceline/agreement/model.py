"""The loaded agreement: geometry in a metric frame, zones, rules, escalation.

An :class:`Agreement` is built from a *resolved* :class:`AgreementFile` (all
``file:`` references inlined, see :mod:`truceline.agreement.load`). Its
:attr:`~Agreement.version_id` is the content id of the resolved file, so any
change to the terms, including to a GeoJSON file beside the YAML, gives a new id.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from truceline.agreement.checks import check_references
from truceline.agreement.geojson import to_shapely
from truceline.agreement.issues import AgreementError, AgreementIssue
from truceline.agreement.polyline import LEFT, RIGHT, Polyline
from truceline.agreement.resolve import resolve_geometry
from truceline.agreement.schema import (
    BOTH_SIDES,
    AgreementFile,
    Escalation,
    Pattern,
    Rule,
    Zone,
)
from truceline.agreement.zones import UNBOUNDED_DRAW_M, band_geometry, side_regions
from truceline.model.geo import WGS84_GEOD, LocalFrame
from truceline.model.ids import content_id

__all__ = ["CONTACT_LINE", "JOIN_GAP_M", "Agreement"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

#: Name of the contact line in ``band.from``.
CONTACT_LINE = "contact_line"

#: Points this close to the contact line (metres) lie on it and on neither side.
ON_LINE_M = 0.001

#: Consecutive parts of a MultiLineString closer than this (metres) are joined
#: when deciding sides, so a line broken by missing data keeps continuous sides.
JOIN_GAP_M = 10_000.0


def _parts(geometry: BaseGeometry) -> list[FloatArray]:
    lines = geometry.geoms if geometry.geom_type.startswith("Multi") else [geometry]
    return [np.asarray(line.coords, dtype=float)[:, :2] for line in lines]


def _arrays(lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon = np.atleast_1d(np.asarray(lons, dtype=float)).ravel()
    lat = np.atleast_1d(np.asarray(lats, dtype=float)).ravel()
    if lon.shape != lat.shape:
        raise ValueError(f"{lon.size} longitudes but {lat.size} latitudes")
    return lon, lat


class _Line:
    """A line in lon/lat and in the agreement's metric frame."""

    def __init__(self, geometry: BaseGeometry, frame: LocalFrame) -> None:
        self.geometry = geometry
        self.frame = frame
        self.parts_m = [np.column_stack(frame.to_local(p[:, 0], p[:, 1])) for p in _parts(geometry)]
        self.polyline = Polyline(self.parts_m)
        self.side_polyline = Polyline(self.parts_m, join_gap_m=JOIN_GAP_M)

    def metric(self) -> BaseGeometry:
        return shapely.transform(self.geometry, self._to_local)

    def _to_local(self, coords: FloatArray) -> FloatArray:
        x, y = self.frame.to_local(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def distance_m(self, lon: FloatArray, lat: FloatArray) -> FloatArray:
        """Geodesic distance to the nearest point found in the metric frame, metres."""
        x, y = self.frame.to_local(lon, lat)
        fx, fy = self.polyline.foot(x, y)
        flon, flat = self.frame.to_geo(fx, fy)
        _, _, dist = WGS84_GEOD.inv(lon, lat, flon, flat)
        return np.asarray(dist, dtype=float)


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """``geometry`` made valid, keeping only its polygons (dropping stray lines/points)."""
    if geometry.is_valid:
        return geometry
    repaired = shapely.make_valid(geometry)
    parts = [
        part
        for part in shapely.get_parts(repaired)
        if part.geom_type in {"Polygon", "MultiPolygon"}
    ]
    return shapely.union_all(parts) if parts else shapely.Polygon()


class Agreement:
    """A version of a ceasefire agreement, ready to judge events.

    Parameters
    ----------
    spec
        The validated, resolved agreement file (geometry inline).
    source
        Where it came from (a path, for messages).

    Raises
    ------
    AgreementError
        If the references between ids or the geometry are inconsistent (the
        whole-file checks of :func:`~truceline.agreement.load.check_agreement`
        are repeated, so an agreement read back from the log is checked too).
    """

    def __init__(self, spec: AgreementFile, *, source: str = "<memory>") -> None:
        self.spec = spec
        self.source = source
        self._canonical: dict[str, Any] = spec.model_dump(mode="json", by_alias=True)
        issues = check_references(self._canonical)
        if not issues:
            issues = resolve_geometry(self._canonical, None)[1]
        if issues:
            raise AgreementError(source, issues)
        self.version_id: str = content_id(self._canonical)
        geometry = spec.contact_line.geometry
        if geometry is None:
            raise AgreementError(source, [AgreementIssue("contact_line", "no geometry")])
        contact = to_shapely(geometry.model_dump())
        coords = np.concatenate(_parts(contact))
        self.frame = LocalFrame.around(coords[:, 0], coords[:, 1])
        self._lines: dict[str, _Line] = {CONTACT_LINE: _Line(contact, self.frame)}
        for party, source_line in sorted(spec.reference_lines.items()):
            if source_line.geometry is None:
                raise AgreementError(
                    source, [AgreementIssue(f"reference_lines.{party}", "no geometry")]
                )
            line = to_shapely(source_line.geometry.model_dump())
            self._lines[f"reference_line:{party}"] = _Line(line, self.frame)
        self._zones = {zone.id: zone for zone in spec.zones}
        self._zone_polygons = {
            zone.id: to_shapely(zone.polygon.model_dump())
            for zone in spec.zones
            if zone.polygon is not None
        }
        for polygon in self._zone_polygons.values():
            shapely.prepare(polygon)
        self._drawn: dict[str, BaseGeometry] = {}
        self._regions: dict[int, BaseGeometry] | None = None

    # -- identity and time -------------------------------------------------------------------

    @property
    def id(self) -> str:
        """Stable agreement id shared by all versions."""
        return self.spec.id

    @property
    def version(self) -> int:
        """Declared version number."""
        return self.spec.version

    @property
    def title(self) -> str:
        """Title (the agreement id when the file gives none)."""
        return self.spec.title or self.spec.id

    @property
    def effective_from(self) -> datetime:
        """Entry into force (UTC)."""
        return self.spec.effective_from

    @property
    def effective_until(self) -> datetime | None:
        """End of validity (UTC, exclusive), or ``None``."""
        return self.spec.effective_until

    @property
    def parties(self) -> tuple[str, ...]:
        """Party ids in file order."""
        return tuple(party.id for party in self.spec.parties)

    @property
    def left_party(self) -> str:
        """Party on the left of the contact line (walking in coordinate order)."""
        return self.spec.contact_line.left_party

    @property
    def right_party(self) -> str:
        """Party on the right of the contact line."""
        return self.spec.contact_line.right_party

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Rules in file order."""
        return tuple(self.spec.rules)

    @property
    def zones(self) -> tuple[Zone, ...]:
        """Zones in file order."""
        return tuple(self.spec.zones)

    @property
    def zone_ids(self) -> tuple[str, ...]:
        """Zone ids in file order."""
        return tuple(zone.id for zone in self.spec.zones)

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        """Patterns judged as findings of their own, in file order."""
        return tuple(self.spec.patterns)

    @property
    def escalation(self) -> Escalation:
        """The escalation policy."""
        return self.spec.escalation

    def zone(self, zone_id: str) -> Zone:
        """The zone with this id (``KeyError`` if none)."""
        try:
            return self._zones[zone_id]
        except KeyError:
            raise KeyError(f"agreement {self.id} v{self.version} has no zone {zone_id!r}") from None

    @classmethod
    def from_canonical(cls, body: dict[str, Any], *, source: str = "<canonical>") -> Agreement:
        """Rebuild an agreement from :meth:`canonical` output (e.g. read back from the log)."""
        return cls(AgreementFile.model_validate(body), source=source)

    def canonical(self) -> dict[str, Any]:
        """The resolved agreement as JSON-ready data; :attr:`version_id` is its content id."""
        return copy.deepcopy(self._canonical)

    def in_force(self, t: datetime) -> bool:
        """Whether the agreement is in force at ``t``: ``effective_from <= t < effective_until``."""
        if t.tzinfo is None:
            raise ValueError(f"naive datetime {t!r}: truceline times must be timezone-aware UTC")
        until = self.effective_until
        return self.effective_from <= t and (until is None or t < until)

    def __repr__(self) -> str:
        return (
            f"Agreement(id={self.id!r}, version={self.version}, version_id={self.version_id[:12]}…)"
        )

    # -- lines, sides and distances ------------------------------------------------------------

    @property
    def contact_line(self) -> BaseGeometry:
        """The contact line (LineString or MultiLineString, lon/lat degrees)."""
        return self._lines[CONTACT_LINE].geometry

    def reference_line(self, party: str) -> BaseGeometry:
        """The line the party's withdrawal distances are measured from (lon/lat degrees)."""
        if party not in self.parties:
            raise KeyError(f"unknown party {party!r}; parties are {', '.join(self.parties)}")
        return self._line(f"reference_line:{party}").geometry

    def _line(self, name: str) -> _Line:
        """A line by its ``band.from`` name (no reference line: the contact line)."""
        return self._lines.get(name, self._lines[CONTACT_LINE])

    def side_of_many(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> ObjectArray:
        """Party whose side of the contact line each point lies on.

        ``None`` for points within :data:`ON_LINE_M` (1 mm) of the line.
        """
        lon, lat = _arrays(lons, lats)
        line = self._lines[CONTACT_LINE]
        x, y = self.frame.to_local(lon, lat)
        codes = line.side_polyline.side(x, y, on_line_m=ON_LINE_M)
        result = np.full(codes.shape, None, dtype=object)
        result[codes == LEFT] = self.left_party
        result[codes == RIGHT] = self.right_party
        return result

    def side_of(self, lon: float, lat: float) -> str | None:
        """Party whose side of the contact line ``(lon, lat)`` lies on; ``None`` on the line."""
        side = self.side_of_many([lon], [lat])[0]
        return None if side is None else str(side)

    def distance_to_line_many(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> FloatArray:
        """Distance of each point from the contact line, metres."""
        return self.distance_from_many(CONTACT_LINE, lons, lats)

    def distance_to_line_m(self, lon: float, lat: float) -> float:
        """Distance of ``(lon, lat)`` from the contact line, metres."""
        return float(self.distance_to_line_many([lon], [lat])[0])

    def distance_from_many(self, line: str, lons: npt.ArrayLike, lats: npt.ArrayLike) -> FloatArray:
        """Distance from ``line`` (``contact_line`` or ``reference_line:<party>``), metres."""
        lon, lat = _arrays(lons, lats)
        return self._line(line).distance_m(lon, lat)

    # -- zones -------------------------------------------------------------------------------

    def zone_masks(
        self, lons: npt.ArrayLike, lats: npt.ArrayLike, zone_ids: list[str] | None = None
    ) -> dict[str, BoolArray]:
        """Membership of each point in each zone (all zones when ``zone_ids`` is ``None``).

        Bands use the exact side rule and distances, polygons include their boundary.
        """
        lon, lat = _arrays(lons, lats)
        wanted = sorted(self._zones) if zone_ids is None else sorted(set(zone_ids))
        sides: ObjectArray | None = None
        distances: dict[str, FloatArray] = {}
        masks: dict[str, BoolArray] = {}
        for zone_id in wanted:
            zone = self.zone(zone_id)
            if zone.band is None:
                masks[zone_id] = np.asarray(
                    shapely.intersects_xy(self._zone_polygons[zone_id], lon, lat), dtype=bool
                )
                continue
            band = zone.band
            if band.from_ not in distances:
                distances[band.from_] = self.distance_from_many(band.from_, lon, lat)
            dist = distances[band.from_]
            inside = dist >= band.min_m
            if band.max_m is not None:
                inside &= dist < band.max_m
            if band.side != BOTH_SIDES:
                if sides is None:
                    sides = self.side_of_many(lon, lat)
                inside &= sides == band.side
            masks[zone_id] = inside
        return masks

    def zone_mask(self, zone_id: str, lons: npt.ArrayLike, lats: npt.ArrayLike) -> BoolArray:
        """Membership of each point in one zone."""
        return self.zone_masks(lons, lats, [zone_id])[zone_id]

    def zones_at(self, lon: float, lat: float) -> list[str]:
        """Ids of the zones containing ``(lon, lat)``, sorted."""
        masks = self.zone_masks([lon], [lat])
        return sorted(zone_id for zone_id, mask in masks.items() if bool(mask[0]))

    def zone_geometry(self, zone_id: str) -> BaseGeometry:
        """The zone's area in lon/lat degrees, for maps.

        Bands are drawn as buffers of their line clipped to the side, to within
        ~25 m; unbounded bands are drawn out to ``min_m`` plus
        :data:`~truceline.agreement.zones.UNBOUNDED_DRAW_M`. Built once and cached.
        """
        zone = self.zone(zone_id)
        if zone.band is None:
            return self._zone_polygons[zone_id]
        if zone_id not in self._drawn:
            band = zone.band
            line = self._line(band.from_)
            region = None
            if band.side != BOTH_SIDES:
                code = LEFT if band.side == self.left_party else RIGHT
                region = self._side_regions()[code]
            drawn = band_geometry(line.metric(), band.min_m, band.max_m, region)
            # buffering a winding line, clipping it, and reprojecting to degrees can
            # leave slivers that touch themselves: repair to a valid (multi)polygon
            self._drawn[zone_id] = _polygonal(shapely.transform(drawn, self._to_geo))
        return self._drawn[zone_id]

    def _to_geo(self, coords: FloatArray) -> FloatArray:
        lon, lat = self.frame.to_geo(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    def _side_regions(self) -> dict[int, BaseGeometry]:
        if self._regions is None:
            reach = 0.0
            for zone in self.spec.zones:
                if zone.band is not None:
                    outer = zone.band.max_m
                    reach = max(
                        reach, outer if outer is not None else zone.band.min_m + UNBOUNDED_DRAW_M
                    )
            extent = shapely.union_all([line.metric() for line in self._lines.values()])
            extent = extent.buffer(reach + 10_000.0, quad_segs=1)
            contact = self._lines[CONTACT_LINE]

            def side(x: FloatArray, y: FloatArray) -> npt.NDArray[np.int8]:
                return contact.side_polyline.side(x, y)

            self._regions = side_regions(contact.parts_m, extent, side)
        return self._regions
