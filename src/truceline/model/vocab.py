"""Controlled vocabularies shared by adapters, fusion, agreements and reports."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACTIVITY_KINDS",
    "FINDING_STATUSES",
    "MODALITIES",
    "SEVERITIES",
    "WEAPON_CLASSES",
    "severity_rank",
]

#: How an observation was made.
MODALITIES: Final = frozenset(
    {"satellite", "acoustic", "infrasound", "seismic", "drone", "report", "other"}
)

#: What was observed or inferred. ``thermal_anomaly`` is a satellite hot spot;
#: ``explosion``/``launch``/``impact``/``gunfire`` come from ground sensors or
#: reports; ``equipment`` is a sighting of a weapon (see ``weapon_class``);
#: ``military_presence`` covers troops and positions; ``burn_scar`` and
#: ``surface_change`` are changes between satellite images (``earthworks`` and
#: ``crater`` are too when the change's shape says so).
ACTIVITY_KINDS: Final = frozenset(
    {
        "thermal_anomaly",
        "explosion",
        "launch",
        "impact",
        "gunfire",
        "equipment",
        "military_presence",
        "crater",
        "smoke",
        "earthworks",
        "burn_scar",
        "surface_change",
        "flight",
        "other",
    }
)

#: Weapon classes in the style of the Minsk II withdrawal annex.
WEAPON_CLASSES: Final = frozenset(
    {
        "tank",
        "artillery_lt100",  # artillery under 100 mm calibre
        "artillery_ge100",  # artillery of 100 mm calibre and above
        "mortar",  # up to 120 mm
        "mlrs",  # multiple rocket launchers
        "heavy_mlrs_missile",  # heavy rocket systems and tactical missiles
        "armoured_vehicle",
    }
)

#: Severities from least to most serious.
SEVERITIES: Final = ("minor", "moderate", "serious", "critical")

FINDING_STATUSES: Final = frozenset(
    {"candidate", "under_review", "verified", "dismissed", "inconclusive"}
)


def severity_rank(severity: str) -> int:
    """Position of ``severity`` in :data:`SEVERITIES` (0 = least serious)."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"unknown severity {severity!r}; expected one of {SEVERITIES}") from None
