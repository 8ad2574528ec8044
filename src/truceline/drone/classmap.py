"""Detector labels to the agreement's weapon classes and activity kinds.

A detector names what it sees in its own words (``t72``, ``BM-21``, ``howitzer``);
the agreement speaks of weapon classes (:data:`truceline.model.vocab.WEAPON_CLASSES`)
and activity kinds. A :class:`ClassMap` translates one into the other.

Labels are compared after :func:`normalise_label`: lower case, with everything
but letters and digits removed, so ``T-72``, ``t_72`` and ``t72`` are one label.

Targets a label can map to:

* a weapon class (``tank``, ``artillery_lt100``, ``artillery_ge100``, ``mortar``,
  ``mlrs``, ``heavy_mlrs_missile``, ``armoured_vehicle``): observation kind
  ``equipment`` with that ``weapon_class``;
* an activity: ``fire`` (kind ``thermal_anomaly``), ``smoke``, ``crater``,
  ``earthworks``, ``troops`` (kind ``military_presence``); the kind names
  themselves are accepted too;
* ``ignore``: the detection is dropped (e.g. ``car`` or ``person`` from a generic
  detector: a person in the zone is not evidence of military presence, so the
  default map does not guess, and an unmapped label is refused by name).

The default map (:data:`DEFAULT_CLASS_MAP`) covers common generic and
vehicle-type labels; a detections file's ``class_map`` overrides or extends it.
Calibre boundaries follow the vocabulary: 122 mm and 152 mm guns and howitzers are
``artillery_ge100``, 100 mm anti-tank guns (MT-12) too; 23 mm to 85 mm guns are
``artillery_lt100``; a bare ``artillery`` or ``howitzer`` is taken as
``artillery_ge100`` (field artillery mostly is); 122 mm rocket launchers (BM-21 Grad) are ``mlrs``;
220 mm and larger (Uragan, Smerch, Tornado) and tactical missiles are
``heavy_mlrs_missile``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from truceline.model.errors import RecordError
from truceline.model.vocab import WEAPON_CLASSES

__all__ = [
    "ACTIVITY_TARGETS",
    "DEFAULT_CLASS_MAP",
    "IGNORE",
    "ClassMap",
    "ClassTarget",
    "normalise_label",
]

#: The target that drops a detection.
IGNORE: Final = "ignore"

#: Activity targets and the observation kind each becomes.
ACTIVITY_TARGETS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "fire": "thermal_anomaly",
        "thermal_anomaly": "thermal_anomaly",
        "smoke": "smoke",
        "crater": "crater",
        "earthworks": "earthworks",
        "troops": "military_presence",
        "military_presence": "military_presence",
    }
)

_WEAPON_LABELS: Final = {
    "tank": ("tank", "mbt", "t55", "t62", "t64", "t72", "t80", "t84", "t90", "leopard", "abrams"),
    "armoured_vehicle": (
        "armouredvehicle", "armoredvehicle", "apc", "ifv", "afv", "bmp", "bmp1", "bmp2",
        "bmp3", "btr", "btr70", "btr80", "btr82", "mtlb", "bmd", "brdm",
    ),
    "artillery_ge100": (
        "howitzer", "artillery", "sph", "selfpropelledhowitzer", "2s1", "gvozdika", "2s3",
        "akatsiya", "2s5", "2s7", "2s19", "msta", "d20", "d30", "2a36", "2a65", "mt12",
        "rapira", "m777",
    ),
    "artillery_lt100": ("zu23", "d44", "zis3", "antiaircraftgun", "aagun"),
    "mortar": ("mortar", "2b9", "2b11", "2s12", "2b14", "pm38"),
    "mlrs": ("mlrs", "rocketlauncher", "bm21", "grad", "9p138"),
    "heavy_mlrs_missile": (
        "heavymlrs", "bm27", "uragan", "bm30", "smerch", "tornado", "9k79", "tochka",
        "tochkau", "iskander", "tel", "missilelauncher",
    ),
}  # fmt: skip
_ACTIVITY_LABELS: Final = {
    "fire": ("fire", "flame", "flames", "burning", "hotspot"),
    "smoke": ("smoke", "smokeplume"),
    "crater": ("crater", "shellcrater", "impactcrater"),
    "earthworks": ("earthworks", "trench", "trenches", "fortification", "dugout", "berm"),
    "troops": ("troops", "soldier", "soldiers", "infantry"),
}

#: Normalised detector label -> target.
DEFAULT_CLASS_MAP: Final[Mapping[str, str]] = MappingProxyType(
    {
        label: target
        for table in (_WEAPON_LABELS, _ACTIVITY_LABELS)
        for target, labels in table.items()
        for label in labels
    }
)

_NOT_ALNUM: Final = re.compile(r"[^0-9a-z]+")


def normalise_label(label: str) -> str:
    """Lower-case ``label`` and drop everything but ASCII letters and digits."""
    return _NOT_ALNUM.sub("", label.strip().lower())


@dataclass(frozen=True, slots=True)
class ClassTarget:
    """What one detector label means.

    Attributes
    ----------
    kind
        Observation kind (:data:`truceline.model.vocab.ACTIVITY_KINDS`).
    weapon_class
        Weapon class for ``equipment``, else ``None``.
    """

    kind: str
    weapon_class: str | None = None

    @property
    def family(self) -> str:
        """Which targets may be the same object seen differently (see :mod:`.passes`).

        A detector confuses a tank with an armoured vehicle, or a howitzer with a
        mortar, far more often than it confuses a tank with a howitzer; frames of
        one object labelled within one family are merged into one sighting.
        """
        if self.weapon_class is None:
            return self.kind
        for family, members in _FAMILIES.items():
            if self.weapon_class in members:
                return family
        return self.weapon_class


_FAMILIES: Final = {
    "armour": frozenset({"tank", "armoured_vehicle"}),
    "tube_artillery": frozenset({"artillery_lt100", "artillery_ge100", "mortar"}),
    "rocket_artillery": frozenset({"mlrs", "heavy_mlrs_missile"}),
}


def _target(name: str) -> ClassTarget | None:
    if name in WEAPON_CLASSES:
        return ClassTarget("equipment", name)
    if name in ACTIVITY_TARGETS:
        return ClassTarget(ACTIVITY_TARGETS[name])
    if name == IGNORE:
        return None
    raise KeyError(name)


class ClassMap:
    """Detector label -> :class:`ClassTarget` (or ``None`` for ignored labels).

    Parameters
    ----------
    overrides
        Label -> target, e.g. a detections file's ``class_map``; overrides the
        defaults for the same (normalised) label.
    defaults
        The base map; :data:`DEFAULT_CLASS_MAP` unless given.
    field
        Name of the overrides in error messages (``class_map``).

    Raises
    ------
    truceline.model.RecordError
        An override that is not a string, or names an unknown target
        (the field is ``class_map.<label>``).
    """

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        defaults: Mapping[str, str] = DEFAULT_CLASS_MAP,
        field: str = "class_map",
    ) -> None:
        table: dict[str, str] = {normalise_label(k): v for k, v in defaults.items()}
        for label, target in (overrides or {}).items():
            if not isinstance(target, str):
                raise RecordError(
                    f"expected a target name, got {target!r}", field=f"{field}.{label}"
                )
            if not normalise_label(str(label)):
                raise RecordError("empty label", field=f"{field}.{label}")
            table[normalise_label(str(label))] = target.strip()
        self._targets: dict[str, ClassTarget | None] = {}
        for label in sorted(table):
            try:
                self._targets[label] = _target(table[label])
            except KeyError:
                known = sorted(WEAPON_CLASSES | set(ACTIVITY_TARGETS) | {IGNORE})
                raise RecordError(
                    f"unknown target {table[label]!r} for label {label!r}; expected one of "
                    f"{', '.join(known)}",
                    field=f"{field}.{label}",
                ) from None

    def __contains__(self, label: object) -> bool:
        return isinstance(label, str) and normalise_label(label) in self._targets

    def lookup(self, label: str, *, field: str = "label") -> ClassTarget | None:
        """The target of ``label``; ``None`` when the map says ``ignore``.

        Raises
        ------
        truceline.model.RecordError
            For a label the map does not know, naming it (field ``field``).
        """
        key = normalise_label(label)
        if key not in self._targets:
            raise RecordError(
                f"detector label {label!r} is not in the class map; add it to the file's "
                "class_map (a weapon class, an activity, or 'ignore')",
                field=field,
            )
        return self._targets[key]
