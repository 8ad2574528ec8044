"""Number formatting shared by the report page, the map and the gap statements.

Formatting is done here once so the page, the map legend and the sentences a
reader quotes all print the same number the same way.
"""

from __future__ import annotations

import math

__all__ = ["fmt_area_km2", "fmt_km", "fmt_m", "fmt_percent"]


def fmt_percent(fraction: float) -> str:
    """A fraction in [0, 1] as a percentage with one decimal.

    Exactly 0 and 1 print as ``0%`` and ``100%``; values that would round to
    those but are not print as ``<0.1%`` and ``>99.9%``, so "nothing was missed"
    is never claimed for a gap that exists.
    """
    if not math.isfinite(fraction):
        raise ValueError(f"fraction must be finite, got {fraction!r}")
    if fraction <= 0.0:
        return "0%"
    if fraction >= 1.0:
        return "100%"
    if fraction < 0.0005:
        return "<0.1%"
    if fraction > 0.9995:
        return ">99.9%"
    return f"{100.0 * fraction:.1f}%"


def fmt_km(metres: float) -> str:
    """A distance given in metres, printed in kilometres with two decimals."""
    return f"{metres / 1000.0:.2f} km"


def fmt_m(metres: float) -> str:
    """A length in metres, rounded to the metre."""
    return f"{metres:.0f} m"


def fmt_area_km2(square_metres: float) -> str:
    """An area given in m², printed in km² with one decimal."""
    return f"{square_metres / 1e6:.1f} km²"
