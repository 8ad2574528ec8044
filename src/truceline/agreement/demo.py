"""A demonstration agreement in the style of the Minsk II package of measures.

:func:`demo_agreement_dict` builds the content of an agreement file around any
contact line: a no-fire rule, heavy-weapon withdrawal bands per party, a
disengagement zone (no military presence and no new fortifications in it) and
a deep-strike rule, with an escalation policy. The scenario simulator and the
tests build their agreements with it;
:func:`write_demo_agreement` writes it as YAML with the contact line in a GeoJSON
file beside it, exactly as an operator would keep it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeAlias

import yaml
from shapely.geometry import LineString, MultiLineString, Polygon, mapping
from shapely.geometry.polygon import orient

from truceline.model.timeutil import format_utc

__all__ = [
    "DEEP_STRIKE_MIN_M",
    "DEMO_EFFECTIVE_FROM",
    "DISENGAGEMENT_HALF_WIDTH_M",
    "WITHDRAWAL_BANDS_M",
    "demo_agreement_dict",
    "dump_yaml",
    "write_demo_agreement",
]

#: Default start of the demo ceasefire (UTC).
DEMO_EFFECTIVE_FROM: Final = datetime(2026, 11, 1, tzinfo=UTC)

#: Minsk II style withdrawal distances: band depth in metres -> weapon classes that
#: must stay at least that far from the party's reference line.
WITHDRAWAL_BANDS_M: Final[tuple[tuple[int, tuple[str, ...]], ...]] = (
    (15_000, ("tank", "artillery_lt100", "mortar")),
    (50_000, ("artillery_ge100",)),
    (70_000, ("mlrs",)),
    (140_000, ("heavy_mlrs_missile",)),
)

#: Half-width of the disengagement zone, metres either side of the contact line.
DISENGAGEMENT_HALF_WIDTH_M: Final = 1_000

#: Distance from the contact line beyond which an explosion is a deep strike, metres.
DEEP_STRIKE_MIN_M: Final = 20_000

_FIRE_KINDS: Final = ["explosion", "launch", "impact", "gunfire"]
_PRESENCE_KINDS: Final = [
    "military_presence",
    "equipment",
    "gunfire",
    "explosion",
    "launch",
    "impact",
]

#: Activities the ``no-fortification`` rule forbids in the disengagement zone: digging
#: trenches, berms and firing positions (seen as new earthworks between satellite images).
_FORTIFICATION_KINDS: Final = ["earthworks"]

#: A contact line geometry in lon/lat degrees.
ContactLine: TypeAlias = LineString | MultiLineString


class _Dumper(yaml.SafeDumper):
    """YAML dumper writing lists of scalars (coordinates, id lists) on one line."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, list | dict) for item in data)
    nested_coords = all(
        isinstance(item, list) and all(isinstance(v, int | float) for v in item) for item in data
    )
    return dumper.represent_sequence(
        "tag:yaml.org,2002:seq", data, flow_style=bool(data) and (flat or nested_coords)
    )


_Dumper.add_representer(list, _represent_list)


def dump_yaml(content: Mapping[str, Any]) -> str:
    """YAML text of an agreement's content, keys in the given order.

    Lists of scalars and coordinate rings are written in flow style
    (``[30.1, 48.2]``) so that geometry stays readable.
    """
    return yaml.dump(dict(content), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _geojson(geometry: Any) -> dict[str, Any]:
    """GeoJSON mapping of a shapely geometry with lists instead of tuples."""
    result: dict[str, Any] = json.loads(json.dumps(mapping(geometry)))
    return result


def _polygon_geojson(polygon: Polygon) -> dict[str, Any]:
    """GeoJSON of a polygon with RFC 7946 winding (exterior counter-clockwise)."""
    return _geojson(orient(polygon, sign=1.0))


def _site_zone(zone_id: str, kind: str, party: str | None, polygon: Polygon) -> dict[str, Any]:
    zone: dict[str, Any] = {
        "id": zone_id,
        "name": f"Declared {'storage' if kind == 'storage_site' else 'blasting'} site {zone_id}",
        "kind": kind,
    }
    if party is not None:
        zone["party"] = party
    zone["polygon"] = _polygon_geojson(polygon)
    return zone


def _withdrawal(
    parties: Sequence[str], storage_by_party: Mapping[str, list[str]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Zones and rules of the heavy-weapon withdrawal bands, per party."""
    zones: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    for party in parties:
        for depth_m, classes in WITHDRAWAL_BANDS_M:
            km = depth_m // 1000
            zone_id = f"{party}-{km}km"
            zones.append(
                {
                    "id": zone_id,
                    "name": f"{party} withdrawal band, 0-{km} km from its reference line",
                    "band": {
                        "from": f"reference_line:{party}",
                        "side": party,
                        "min_m": 0,
                        "max_m": depth_m,
                    },
                }
            )
            rules.append(
                {
                    "id": f"{party}-withdrawal-{km}km",
                    "description": (
                        f"{', '.join(classes)} of {party} must be withdrawn at least "
                        f"{km} km from its reference line"
                    ),
                    "activities": ["equipment"],
                    "zone": zone_id,
                    "weapon_classes": list(classes),
                    "exempt_zones": list(storage_by_party.get(party, [])),
                    "min_confidence": 0.5,
                    "severity": "serious",
                }
            )
    return zones, rules


def demo_agreement_dict(
    contact_line: ContactLine,
    *,
    left_party: str = "west",
    right_party: str = "east",
    declared_sites: Sequence[tuple[str, str | None, Polygon]] = (),
    storage_sites: Sequence[tuple[str, str, Polygon]] = (),
    effective_from: datetime = DEMO_EFFECTIVE_FROM,
    agreement_id: str = "demo-ceasefire",
    version: int = 1,
) -> dict[str, Any]:
    """Content of a demo agreement file, geometry inline.

    Parameters
    ----------
    contact_line
        The contact line in lon/lat degrees (WGS 84).
    left_party, right_party
        Party ids on the left and right of the line walking in coordinate order.
    declared_sites
        ``(zone id, owning party or None, polygon)`` of declared industrial or
        quarry blasting sites; explosions there are exempt from the no-fire and
        deep-strike rules.
    storage_sites
        ``(zone id, party, polygon)`` of declared heavy-weapon storage sites; the
        party's equipment there is exempt from its withdrawal rules.
    effective_from
        Start of the ceasefire (aware datetime, UTC).
    agreement_id, version
        Stable agreement id and the version number of this text.

    Returns
    -------
    dict
        The agreement file's content, ready for :func:`yaml.safe_dump` and for
        :class:`truceline.agreement.schema.AgreementFile`.
    """
    if not isinstance(contact_line, LineString | MultiLineString):
        kind = getattr(contact_line, "geom_type", type(contact_line).__name__)
        raise TypeError(f"contact line must be a LineString or MultiLineString, not {kind}")
    parties = [left_party, right_party]
    declared_ids = [zone_id for zone_id, _, _ in declared_sites]
    storage_by_party: dict[str, list[str]] = {}
    for zone_id, party, _ in storage_sites:
        storage_by_party.setdefault(party, []).append(zone_id)
    band_zones, band_rules = _withdrawal(parties, storage_by_party)

    zones: list[dict[str, Any]] = [
        {
            "id": "disengagement",
            "name": "Disengagement zone, 1 km either side of the contact line",
            "band": {
                "from": "contact_line",
                "side": "both",
                "min_m": 0,
                "max_m": DISENGAGEMENT_HALF_WIDTH_M,
            },
        },
        *band_zones,
        {
            "id": "deep-rear",
            "name": "Rear areas more than 20 km from the contact line",
            "band": {
                "from": "contact_line",
                "side": "both",
                "min_m": DEEP_STRIKE_MIN_M,
                "max_m": None,
            },
        },
    ]
    zones += [_site_zone(z, "declared_site", p, poly) for z, p, poly in declared_sites]
    zones += [_site_zone(z, "storage_site", p, poly) for z, p, poly in storage_sites]

    rules: list[dict[str, Any]] = [
        {
            "id": "no-fire",
            "description": "No firing of any weapon anywhere along the line",
            "activities": list(_FIRE_KINDS),
            "zone": None,
            "exempt_zones": list(declared_ids),
            "min_confidence": 0.5,
            "severity": "serious",
        },
        {
            "id": "disengagement",
            "description": "No military presence in the disengagement zone",
            "activities": list(_PRESENCE_KINDS),
            "zone": "disengagement",
            "min_confidence": 0.5,
            "severity": "serious",
        },
        {
            "id": "no-fortification",
            "description": "No new fortifications or earthworks in the disengagement zone",
            "activities": list(_FORTIFICATION_KINDS),
            "zone": "disengagement",
            "min_confidence": 0.5,
            "severity": "serious",
        },
        *band_rules,
        {
            "id": "deep-strike",
            "description": "No explosion or impact more than 20 km behind the contact line",
            "activities": ["explosion", "impact"],
            "zone": "deep-rear",
            "exempt_zones": list(declared_ids),
            "min_confidence": 0.5,
            "severity": "critical",
        },
    ]
    return {
        "format": "truceline-agreement/1",
        "id": agreement_id,
        "version": version,
        "title": "Demo ceasefire",
        "effective_from": format_utc(effective_from),
        "effective_until": None,
        "parties": [
            {"id": left_party, "name": f"{left_party.capitalize()} Party"},
            {"id": right_party, "name": f"{right_party.capitalize()} Party"},
        ],
        "contact_line": {
            "geometry": _geojson(contact_line),
            "left_party": left_party,
            "right_party": right_party,
        },
        "zones": zones,
        "rules": rules,
        "escalation": {
            "levels": ["log", "notify", "urgent", "attack"],
            "default": "log",
            "policy": [
                {
                    "level": "attack",
                    "when": {
                        "rules": ["deep-strike"],
                        "min_severity": "critical",
                        "min_confidence": 0.9,
                        "min_sources": 2,
                    },
                },
                {"level": "urgent", "when": {"min_severity": "serious", "min_confidence": 0.8}},
                {"level": "notify", "when": {}},
            ],
            "notify": {
                "attack": ["guarantors", "monitoring-centre", left_party, right_party],
                "urgent": ["monitoring-centre", "duty-officer"],
                "notify": ["duty-officer"],
            },
        },
        # patterns use their kinds' defaults (docs/agreement.md); the policy above
        # makes them urgent, not attacks: only a deep strike alerts the guarantors
        "patterns": [
            {
                "id": "sustained-fire",
                "kind": "sustained_fire",
                "description": "Sustained fire across a sector of the line",
                "rules": ["no-fire"],
                "severity": "serious",
            },
            {
                "id": "repeated-withdrawal",
                "kind": "repeated_withdrawal",
                "description": "Repeated heavy-weapon withdrawal violations by one party",
                "rules": [rule["id"] for rule in band_rules],
                "severity": "serious",
            },
        ],
    }


def write_demo_agreement(
    out_dir: Path,
    contact_line: ContactLine,
    *,
    left_party: str = "west",
    right_party: str = "east",
    declared_sites: Sequence[tuple[str, str | None, Polygon]] = (),
    storage_sites: Sequence[tuple[str, str, Polygon]] = (),
    effective_from: datetime = DEMO_EFFECTIVE_FROM,
    agreement_id: str = "demo-ceasefire",
    version: int = 1,
) -> Path:
    """Write the demo agreement as ``out_dir/agreement.yaml``.

    The contact line goes to ``contact-line.geojson`` beside it (a GeoJSON
    Feature) and the YAML refers to it with ``file:``. Parameters are those of
    :func:`demo_agreement_dict`.

    Returns
    -------
    Path
        The YAML file written.
    """
    content = demo_agreement_dict(
        contact_line,
        left_party=left_party,
        right_party=right_party,
        declared_sites=declared_sites,
        storage_sites=storage_sites,
        effective_from=effective_from,
        agreement_id=agreement_id,
        version=version,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    line_file = "contact-line.geojson"
    feature = {
        "type": "Feature",
        "properties": {"name": "contact line", "agreement": agreement_id},
        "geometry": content["contact_line"].pop("geometry"),
    }
    (out_dir / line_file).write_text(json.dumps(feature, indent=1) + "\n", encoding="utf-8")
    content["contact_line"] = {"file": line_file, **content["contact_line"]}
    path = out_dir / "agreement.yaml"
    path.write_text(dump_yaml(content), encoding="utf-8")
    return path
