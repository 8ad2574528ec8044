"""The agreement file format ``truceline-agreement/1`` as pydantic models.

These models are the single declaration of the format: they validate a parsed
file (unknown keys are errors), carry the field documentation that
:func:`agreement_json_schema` publishes, and dump the resolved agreement that
:attr:`truceline.agreement.model.Agreement.version_id` hashes. Checks that need
the whole file (references between ids, geometry) live in
:mod:`truceline.agreement.checks`.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from truceline.model.timeutil import format_utc, parse_utc
from truceline.model.vocab import ACTIVITY_KINDS, SEVERITIES, WEAPON_CLASSES

__all__ = [
    "BOTH_SIDES",
    "FORMAT",
    "PATTERN_DEFAULTS",
    "PATTERN_KINDS",
    "AgreementFile",
    "Band",
    "ContactLineSpec",
    "Escalation",
    "GeoJSONGeometry",
    "LineSource",
    "Party",
    "Pattern",
    "PolicyEntry",
    "Rule",
    "TimeWindow",
    "When",
    "Zone",
    "agreement_json_schema",
    "coerce_utc",
    "suggest",
]

#: The format tag every agreement file starts with.
FORMAT: Final = "truceline-agreement/1"

#: Value of ``band.side`` meaning "either side of the contact line".
BOTH_SIDES: Final = "both"


def suggest(value: str, choices: Iterable[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix when ``value`` resembles one of ``choices``."""
    close = difflib.get_close_matches(value, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _vocabulary(name: str, allowed: Iterable[str]) -> AfterValidator:
    ordered = list(allowed)

    def check(value: str) -> str:
        if value not in ordered:
            raise ValueError(
                f"unknown {name} {value!r}{suggest(value, ordered)} "
                f"(known: {', '.join(sorted(ordered))})"
            )
        return value

    return AfterValidator(check)


def coerce_utc(value: Any) -> Any:
    """Accept ISO 8601 text, YAML timestamps and bare dates; refuse naive times."""
    if isinstance(value, str):
        return parse_utc(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"time {value.isoformat()} has no UTC offset (append 'Z' for UTC)")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


#: An aware UTC instant, written as ISO 8601 with ``Z``.
UtcTime = Annotated[
    datetime, BeforeValidator(coerce_utc), PlainSerializer(format_utc, return_type=str)
]
#: An identifier: letters, digits, ``_``, ``.`` and ``-``, starting with a letter or digit.
Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
ActivityKind = Annotated[str, _vocabulary("activity kind", sorted(ACTIVITY_KINDS))]
WeaponClass = Annotated[str, _vocabulary("weapon class", sorted(WEAPON_CLASSES))]
Severity = Annotated[str, _vocabulary("severity", SEVERITIES)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    """Base: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class GeoJSONGeometry(_Strict):
    """A GeoJSON geometry object (RFC 7946), coordinates ``[lon, lat]`` in degrees."""

    type: Literal["LineString", "MultiLineString", "Polygon", "MultiPolygon"] = Field(
        description="Geometry type; lines for contact and reference lines, polygons for zones."
    )
    coordinates: list[Any] = Field(description="GeoJSON coordinates, [longitude, latitude].")
    bbox: list[float] | None = Field(default=None, description="Optional GeoJSON bbox.")


class _GeometrySource(_Strict):
    geometry: GeoJSONGeometry | None = Field(
        default=None, description="Geometry inline (GeoJSON geometry object)."
    )
    file: str | None = Field(
        default=None,
        description="GeoJSON file (geometry, Feature or FeatureCollection), relative to the YAML.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> _GeometrySource:
        if (self.geometry is None) == (self.file is None):
            raise ValueError("give exactly one of 'geometry' and 'file'")
        return self


class LineSource(_GeometrySource):
    """A line given inline (``geometry:``) or in a GeoJSON file (``file:``)."""


class ContactLineSpec(_GeometrySource):
    """The contact line and which party holds each side of it."""

    left_party: Ident = Field(
        description="Party on the left walking along the line in coordinate order."
    )
    right_party: Ident = Field(description="Party on the right.")


class Party(_Strict):
    """A party to the ceasefire."""

    id: Ident = Field(description="Short id used everywhere else in the file.")
    name: str | None = Field(default=None, description="Full name.")


class Band(_Strict):
    """Distance band from a line, on one side of the contact line (or both)."""

    from_: str = Field(
        alias="from",
        description="'contact_line' or 'reference_line:<party>': the line distances are from.",
    )
    side: str = Field(description="Party id whose side of the contact line, or 'both'.")
    min_m: float = Field(default=0.0, ge=0.0, description="Inner distance, metres (inclusive).")
    max_m: float | None = Field(
        default=None, gt=0.0, description="Outer distance, metres (exclusive); null: no limit."
    )


class Zone(_Strict):
    """An area of the agreement: a distance band or a polygon."""

    id: Ident = Field(description="Zone id, unique in the file.")
    name: str | None = Field(default=None, description="Human-readable name.")
    description: str | None = Field(default=None, description="Longer text.")
    kind: str | None = Field(
        default=None, description="Optional tag: declared_site, storage_site, buffer, ..."
    )
    party: Ident | None = Field(default=None, description="Optional owning party.")
    band: Band | None = Field(default=None, description="Distance band.")
    polygon: GeoJSONGeometry | None = Field(
        default=None, description="Polygon or MultiPolygon inline."
    )
    file: str | None = Field(default=None, description="Polygon in a GeoJSON file beside the YAML.")

    @model_validator(mode="after")
    def _one_shape(self) -> Zone:
        given = [self.band is not None, self.polygon is not None, self.file is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'band', 'polygon' and 'file'")
        return self


class TimeWindow(_Strict):
    """A half-open time window ``[from, until)``; null ends are open."""

    from_: UtcTime | None = Field(default=None, alias="from", description="Start, UTC.")
    until: UtcTime | None = Field(default=None, description="End (exclusive), UTC.")


class Rule(_Strict):
    """What is forbidden, where, and how serious breaking it is."""

    id: Ident = Field(description="Rule id, unique in the file.")
    description: str | None = Field(default=None, description="The rule in words.")
    activities: list[ActivityKind] = Field(
        min_length=1, description="Event kinds the rule applies to."
    )
    zone: Ident | None = Field(default=None, description="Zone id; null: everywhere.")
    sides: list[Ident] | None = Field(
        default=None, description="Party sides of the contact line the event may lie on."
    )
    weapon_classes: list[WeaponClass] = Field(
        default_factory=list,
        description="If given, only events whose attributes.weapon_class is listed.",
    )
    exempt_zones: list[Ident] = Field(
        default_factory=list, description="Events inside these zones do not break the rule."
    )
    min_confidence: Probability = Field(
        default=0.0, description="Events below this confidence are not judged."
    )
    severity: Severity = Field(description="minor | moderate | serious | critical.")
    active: TimeWindow | None = Field(
        default=None, description="Optional window within the agreement's validity."
    )


class When(_Strict):
    """Conditions of an escalation policy entry; all given conditions must hold."""

    rules: list[Ident] | None = Field(default=None, description="Finding's rule is one of these.")
    min_severity: Severity | None = Field(default=None, description="Severity at least this.")
    min_confidence: Probability | None = Field(default=None, description="Confidence ≥ this.")
    min_sources: int | None = Field(
        default=None, ge=1, description="Event's independent sources ≥ this."
    )


class PolicyEntry(_Strict):
    """One line of the escalation policy."""

    level: str = Field(description="Escalation level given when 'when' matches.")
    when: When = Field(default_factory=When, description="Conditions; empty matches all.")


class Escalation(_Strict):
    """Which findings alert whom."""

    levels: list[str] = Field(min_length=1, description="Escalation levels, lowest first.")
    default: str = Field(description="Level of findings no policy entry matches.")
    policy: list[PolicyEntry] = Field(
        default_factory=list, description="First match wins, top to bottom."
    )
    notify: dict[str, list[str]] = Field(default_factory=dict, description="Recipients per level.")


#: Kinds of pattern an agreement can ask for (see :mod:`truceline.agreement.patterns`).
PATTERN_KINDS: Final = ("sustained_fire", "repeated_withdrawal")

#: Heavy weapons of the withdrawal annex (armoured vehicles are not among them).
_HEAVY_WEAPONS: Final = [
    "artillery_ge100",
    "artillery_lt100",
    "heavy_mlrs_missile",
    "mlrs",
    "mortar",
    "tank",
]

#: Defaults of each pattern kind, written into the resolved agreement (so the
#: version id, not the code, fixes them).
PATTERN_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "sustained_fire": {
        "activities": ["explosion", "impact", "launch"],
        "weapon_classes": [],
        "min_events": 6,
        "window_h": 6.0,
        "sector_m": 10_000.0,
    },
    "repeated_withdrawal": {
        "activities": ["equipment"],
        "weapon_classes": _HEAVY_WEAPONS,
        "min_events": 3,
        "window_h": 168.0,
        "sector_m": None,
    },
}


def _kind_defaults_optional(schema: dict[str, Any]) -> None:
    """In the published JSON Schema, keys the pattern's kind fills in are optional."""
    defaulted = set(PATTERN_DEFAULTS["sustained_fire"])
    schema["required"] = [key for key in schema.get("required", []) if key not in defaulted]


class Pattern(_Strict):
    """A pattern of findings that is a finding of its own (see ``docs/agreement.md``)."""

    model_config = ConfigDict(json_schema_extra=_kind_defaults_optional)

    id: Ident = Field(description="Pattern id, unique among rule and pattern ids.")
    description: str | None = Field(default=None, description="The pattern in words.")
    kind: Literal["sustained_fire", "repeated_withdrawal"] = Field(
        description="sustained_fire: many explosive findings in a sector of the line within "
        "hours; repeated_withdrawal: many heavy-weapon findings binding one party within days."
    )
    rules: list[Ident] | None = Field(
        default=None, description="Only findings under these rules count; null: any rule."
    )
    activities: list[ActivityKind] = Field(
        min_length=1,
        description="Event kinds that count (default: explosion, impact, launch for "
        "sustained_fire; equipment for repeated_withdrawal).",
    )
    weapon_classes: list[WeaponClass] = Field(
        description="If non-empty, only findings with one of these weapon classes count "
        "(default: none for sustained_fire; the heavy weapons for repeated_withdrawal)."
    )
    min_events: int = Field(
        ge=2,
        description="Distinct events needed (default 6 sustained_fire, 3 repeated_withdrawal).",
    )
    window_h: float = Field(
        gt=0.0,
        description="Hours within which they must fall (default 6 sustained_fire, "
        "168 = 7 days repeated_withdrawal).",
    )
    sector_m: float | None = Field(
        gt=0.0,
        description="sustained_fire: length of the sector along the contact line, metres "
        "(default 10000); must be null for repeated_withdrawal.",
    )
    min_confidence: Probability = Field(
        default=0.0, description="Findings below this confidence do not count."
    )
    severity: Severity = Field(description="Severity of the pattern finding.")

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        """Fill the defaults of the pattern's kind, so the resolved text states them."""
        if isinstance(data, dict) and data.get("kind") in PATTERN_DEFAULTS:
            defaults = PATTERN_DEFAULTS[str(data["kind"])]
            return {**{k: copy.deepcopy(v) for k, v in defaults.items()}, **data}
        return data

    @model_validator(mode="after")
    def _sector_for_fire_only(self) -> Pattern:
        if self.kind == "sustained_fire" and self.sector_m is None:
            raise ValueError("sustained_fire needs 'sector_m' (metres along the contact line)")
        if self.kind == "repeated_withdrawal" and self.sector_m is not None:
            raise ValueError("'sector_m' applies to sustained_fire only; remove it")
        return self


def _default_escalation() -> Escalation:
    return Escalation(levels=["log"], default="log")


class AgreementFile(_Strict):
    """A whole agreement file, format ``truceline-agreement/1``."""

    format: Literal["truceline-agreement/1"] = Field(description="Format tag.")
    id: Ident = Field(description="Stable agreement id shared by all versions.")
    version: int = Field(ge=1, description="Version number; increases with each amendment.")
    title: str | None = Field(default=None, description="Title.")
    description: str | None = Field(default=None, description="Longer text.")
    effective_from: UtcTime = Field(description="Entry into force, UTC.")
    effective_until: UtcTime | None = Field(
        default=None, description="End of validity (exclusive), UTC; null: open."
    )
    parties: list[Party] = Field(min_length=2, description="Parties to the ceasefire.")
    contact_line: ContactLineSpec = Field(description="The line of contact.")
    reference_lines: dict[str, LineSource] = Field(
        default_factory=dict,
        description="Per-party lines withdrawal distances are measured from.",
    )
    zones: list[Zone] = Field(default_factory=list, description="Zones.")
    rules: list[Rule] = Field(min_length=1, description="Rules.")
    escalation: Escalation = Field(
        default_factory=_default_escalation, description="Escalation policy."
    )
    patterns: list[Pattern] = Field(
        default_factory=list, description="Patterns of findings judged as findings of their own."
    )

    @model_serializer(mode="wrap")
    def _without_empty_patterns(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Leave ``patterns`` out of the resolved text when there are none.

        Agreements written before patterns existed thus keep their version ids.
        """
        data = handler(self)
        if isinstance(data, dict) and not self.patterns:
            data.pop("patterns", None)
        return data


def agreement_json_schema() -> dict[str, Any]:
    """JSON Schema of the agreement file, generated from the models."""
    return AgreementFile.model_json_schema(by_alias=True)
