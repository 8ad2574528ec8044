"""Scenario families: what kind of week the simulator writes.

A family is a parameter of the scenario model: the same geography, sensors,
physics and field formats, with a different script of what happens. Pick one
with ``truceline simulate --scenario NAME`` / ``truceline demo --scenario NAME``
(:func:`truceline.simulate.simulate_scenario` ``family=NAME``); ``truth.json``
records it under ``family``.

``default``
    Three days of a fragile ceasefire: a shelling episode a day (sometimes
    answered), a live-fire exercise and positions in the disengagement zone,
    heavy weapons inside their withdrawal bands, a trench dug in the
    disengagement zone and a heavy rocket strike on a town 40–80 km behind the
    line (the one escalation); the benign background of
    :mod:`truceline.simulate.background`. Its output for a seed is the
    simulator's historical output (:mod:`truceline.simulate.hostile`).
``dense-shelling``
    Two days of a sustained artillery duel along one 24 km sector, with
    concurrent missions from both sides and counter-battery fire at firing
    positions (:mod:`truceline.simulate.barrage`), a trench, the rocket strike
    and the same benign background: association must separate shelling
    events that overlap in space and time.
``quiet-week``
    Seven days with no violation and no attack: only benign activity
    (agricultural burns at a late-autumn rate of 200 a day, industrial flares,
    quarry blasts, thunderstorms, lawful heavy weapons at their garrisons and
    storage sites, vehicles, a ploughed field) and the sensors' own false
    alarms. On a calm front the mission flies three routine drone patrols a
    day instead of seven. A monitor's output should be empty of violations.

Families draw from the same per-channel random generators as the default
scenario, so a family's output for a seed is as reproducible as the default's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np

from truceline.model.errors import TrucelineError
from truceline.simulate.background import DEFAULT_BACKGROUND, BackgroundPlan
from truceline.simulate.barrage import add_barrage
from truceline.simulate.drone import DEFAULT_PATROLS, PatrolPlan
from truceline.simulate.hostile import add_hostilities
from truceline.simulate.world import World

__all__ = [
    "DEFAULT_FAMILY",
    "FAMILIES",
    "ScenarioFamily",
    "UnknownFamilyError",
    "family_help",
    "get_family",
]

Script = Callable[[World, np.random.Generator], None]


@dataclass(frozen=True, slots=True)
class ScenarioFamily:
    """One scenario family (see the module docstring for the built-in ones).

    Attributes
    ----------
    name
        The name given to ``--scenario``.
    summary
        One line for ``--help``.
    days
        Length of the scenario when none is asked for, days.
    background
        How much benign activity there is.
    hostilities
        The script of violations, or ``None`` for none at all.
    trench
        Whether a trench is dug in the disengagement zone inside the satellite
        image stacks (a ``no-fortification`` violation).
    patrols
        The routine drone patrols flown every day.
    """

    name: str
    summary: str
    days: int
    background: BackgroundPlan = DEFAULT_BACKGROUND
    hostilities: Script | None = None
    trench: bool = True
    patrols: PatrolPlan = DEFAULT_PATROLS


class UnknownFamilyError(TrucelineError, ValueError):
    """A scenario family name that is not in :data:`FAMILIES`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.known = tuple(FAMILIES)
        super().__init__(
            f"unknown scenario family {name!r}; known families: {', '.join(self.known)}"
        )


#: A calm front: one line patrol and one depth patrol over each side a day.
_QUIET_PATROLS: Final = PatrolPlan(
    line=(((6.0, 8.0), "UAV-02"),),
    depth=(("west", (7.0, 8.5), "UAV-03", "DW1"), ("east", (8.0, 9.5), "UAV-04", "DE1")),
)

#: Name of the family used when none is given.
DEFAULT_FAMILY: Final = "default"

#: The built-in families by name, in the order ``--help`` lists them.
FAMILIES: Final[Mapping[str, ScenarioFamily]] = MappingProxyType(
    {
        family.name: family
        for family in (
            ScenarioFamily(
                "default",
                "3 days: daily shelling, withdrawal and disengagement violations, "
                "a trench, one deep rocket strike",
                days=3,
                hostilities=add_hostilities,
            ),
            ScenarioFamily(
                "dense-shelling",
                "2 days: a sustained artillery duel along one sector with "
                "counter-battery fire, a trench, one deep rocket strike",
                days=2,
                hostilities=add_barrage,
            ),
            ScenarioFamily(
                "quiet-week",
                "7 days of benign activity and sensor false alarms only: no violation, no attack",
                days=7,
                background=BackgroundPlan(burns_per_day=200.0),
                hostilities=None,
                trench=False,
                patrols=_QUIET_PATROLS,
            ),
        )
    }
)


def get_family(name: str) -> ScenarioFamily:
    """The family called ``name``.

    Raises
    ------
    UnknownFamilyError
        If there is none; the message lists the known families.
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownFamilyError(name) from None


def family_help() -> str:
    """One line per family (``name: summary``) for command-line help."""
    return "; ".join(f"{f.name}: {f.summary}" for f in FAMILIES.values())
