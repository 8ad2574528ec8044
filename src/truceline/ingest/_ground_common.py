"""Defaults and checks shared by the ground-sensor adapters (private).

The ground formats often leave uncertainties and ranges to the reader. These
are the values truceline assumes when a file is silent, one table for every
adapter so the same detection means the same thing whichever way it arrived
(see ``docs/ground-formats.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from truceline.model.errors import RecordError

__all__ = [
    "DEFAULT_CLOCK_SIGMA_S",
    "GROUND_DEFAULTS",
    "GroundDefaults",
    "defaults_for",
    "naive_utc",
    "normalise_azimuth",
]

#: Clock accuracy assumed for a station whose metadata does not state it,
#: seconds: GPS-disciplined digitisers keep time to well under 10 ms.
DEFAULT_CLOCK_SIGMA_S: Final = 0.01


@dataclass(frozen=True, slots=True)
class GroundDefaults:
    """What a ground detection of one modality means when the file is silent.

    Attributes
    ----------
    max_range_m
        Largest plausible source range, metres: audible sound from guns and
        impacts carries tens of km, infrasound from large explosions is
        ducted for ~1000 km, local seismic phases of surface blasts ~100 km.
    azimuth_sigma_deg
        Back-azimuth standard deviation, degrees: a small-aperture infrasound
        array resolves ~2°, an acoustic direction-finding sensor ~5°, a
        three-component seismometer's polarisation ~10°.
    time_sigma_s
        Arrival-time standard deviation, seconds: an impulsive onset picked at
        an acoustic or seismic sensor (~0.1 s); an infrasound arrival, long and
        emergent (~1 s).
    """

    max_range_m: float
    azimuth_sigma_deg: float
    time_sigma_s: float


#: Defaults per ground modality.
GROUND_DEFAULTS: Final = {
    "acoustic": GroundDefaults(max_range_m=30_000.0, azimuth_sigma_deg=5.0, time_sigma_s=0.1),
    "infrasound": GroundDefaults(max_range_m=1_000_000.0, azimuth_sigma_deg=2.0, time_sigma_s=1.0),
    "seismic": GroundDefaults(max_range_m=100_000.0, azimuth_sigma_deg=10.0, time_sigma_s=0.1),
}


def defaults_for(modality: str, field: str) -> GroundDefaults:
    """The defaults of a ground modality, naming ``field`` for any other modality."""
    try:
        return GROUND_DEFAULTS[modality]
    except KeyError:
        raise RecordError(
            f"unknown ground modality {modality!r}; expected one of {sorted(GROUND_DEFAULTS)}",
            field=field,
        ) from None


def normalise_azimuth(degrees: float) -> float:
    """An azimuth in [0, 360) degrees (``-125.6`` -> ``234.4``); angles wrap."""
    wrapped = math.fmod(degrees, 360.0)
    if wrapped < 0.0:
        wrapped += 360.0
    # fmod of a tiny negative number plus 360 can round to exactly 360.
    return 0.0 if wrapped >= 360.0 else wrapped


def naive_utc(text: str, field: str) -> datetime:
    """An ISO 8601 time that a format defines as UTC when it states no offset.

    Only for formats whose specification says their times are UTC (InfraPy
    writes ``"Time (UTC)"`` without an offset); a stated offset is honoured.

    Raises
    ------
    RecordError
        Naming ``field`` when the text is not an ISO 8601 date and time.
    """
    stripped = text.strip()
    if "T" not in stripped and " " not in stripped:
        raise RecordError(f"expected an ISO 8601 date and time, got {text!r}", field=field)
    try:
        value = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(
            f"expected an ISO 8601 date and time, got {text!r}", field=field
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
