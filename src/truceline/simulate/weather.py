"""The scenario's near-ground weather: one air temperature and one wind per UTC day.

Sound travels at the effective speed of
:meth:`truceline.ground.base.Atmosphere.effective_speed_mps`: the adiabatic speed
``331.3 + 0.606 T`` m/s plus the wind component along the propagation
direction. The simulator holds the weather constant over a UTC day, which is
enough to make arrival times depend on the direction of propagation by a few
tenths of a second over ten kilometres, as they do in the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from truceline.ground.base import Atmosphere

__all__ = ["Weather", "draw_weather"]

#: Range of the daily mean wind speed, m/s.
_WIND_MPS: Final = (1.0, 6.0)


@dataclass(frozen=True, slots=True)
class Weather:
    """Daily atmospheres of a scenario.

    Attributes
    ----------
    start
        Epoch seconds (UTC) of the start of day 0.
    days
        One :class:`~truceline.ground.base.Atmosphere` per UTC day.
    """

    start: float
    days: tuple[Atmosphere, ...]

    def day_index(self, time: float) -> int:
        """Scenario day of an epoch time, clipped to the days there are."""
        return min(max(int((time - self.start) // 86_400.0), 0), len(self.days) - 1)

    def at(self, time: float) -> Atmosphere:
        """The atmosphere at epoch ``time`` (seconds, UTC)."""
        return self.days[self.day_index(time)]

    def to_dict(self) -> list[dict[str, float]]:
        """Per-day record for ``truth.json``: temperature (°C) and wind (m/s east, north)."""
        return [
            {
                "temperature_c": round(a.temperature_c, 2),
                "wind_east_mps": round(a.wind_east_mps, 2),
                "wind_north_mps": round(a.wind_north_mps, 2),
            }
            for a in self.days
        ]


def draw_weather(
    rng: np.random.Generator, start: float, temperatures_c: Sequence[float]
) -> Weather:
    """Add a seeded wind (1–6 m/s, any direction) to each day's temperature.

    Parameters
    ----------
    rng
        Generator of the wind draws (two per day).
    start
        Epoch seconds (UTC) of the start of day 0.
    temperatures_c
        Air temperature of each day, degrees Celsius.

    Raises
    ------
    ValueError
        If no day is given.
    """
    if not temperatures_c:
        raise ValueError("weather needs at least one day")
    days = []
    for temperature in temperatures_c:
        speed = float(rng.uniform(*_WIND_MPS))
        towards = float(rng.uniform(0.0, 2.0 * math.pi))
        days.append(
            Atmosphere(
                temperature_c=float(temperature),
                wind_east_mps=speed * math.sin(towards),
                wind_north_mps=speed * math.cos(towards),
            )
        )
    return Weather(start, tuple(days))
