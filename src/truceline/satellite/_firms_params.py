"""FIRMS request parameters: sources, regions, dates and day-range paging (private).

Re-exported by :mod:`truceline.satellite.firms_api`, which documents the API.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import ClassVar, Final

from truceline.model.errors import TrucelineError

__all__ = [
    "MAX_DAY_RANGE",
    "SOURCES",
    "Area",
    "Country",
    "FirmsParameterError",
    "Region",
    "check_day_range",
    "check_source",
    "date_pages",
    "parse_date",
    "parse_region",
]

#: The largest ``DAY_RANGE`` the FIRMS API accepts.
MAX_DAY_RANGE: Final = 10
#: FIRMS data products served by the area/country APIs (NRT: near real time,
#: SP: standard processing, the archive).
SOURCES: Final = (
    "LANDSAT_NRT",
    "MODIS_NRT",
    "MODIS_SP",
    "VIIRS_NOAA20_NRT",
    "VIIRS_NOAA20_SP",
    "VIIRS_NOAA21_NRT",
    "VIIRS_SNPP_NRT",
    "VIIRS_SNPP_SP",
)
_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


class FirmsParameterError(TrucelineError, ValueError):
    """A request parameter is invalid (source, area, country, dates, day range)."""


def _coordinate(value: float) -> str:
    """Shortest decimal spelling of a coordinate, without exponent or trailing zeros."""
    if value == 0:
        return "0"
    return format(Decimal(repr(value)).normalize(), "f")


@dataclass(frozen=True, slots=True)
class Area:
    """A longitude/latitude box, degrees (WGS 84): west < east, south < north."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        values = (self.west, self.south, self.east, self.north)
        if not all(math.isfinite(v) for v in values):
            raise FirmsParameterError(f"area {self.text}: coordinates must be finite numbers")
        if not (-180.0 <= self.west < self.east <= 180.0):
            raise FirmsParameterError(
                f"area {self.text}: need -180 <= west < east <= 180 (degrees longitude)"
            )
        if not (-90.0 <= self.south < self.north <= 90.0):
            raise FirmsParameterError(
                f"area {self.text}: need -90 <= south < north <= 90 (degrees latitude)"
            )

    @classmethod
    def parse(cls, text: str) -> Area:
        """Parse ``"W,S,E,N"`` (degrees)."""
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 4:
            raise FirmsParameterError(f"area {text!r}: expected W,S,E,N (four numbers)")
        try:
            west, south, east, north = (float(part) for part in parts)
        except ValueError:
            raise FirmsParameterError(f"area {text!r}: all four values must be numbers") from None
        return cls(west, south, east, north)

    @property
    def text(self) -> str:
        """``W,S,E,N`` as the API path writes it."""
        return ",".join(_coordinate(v) for v in (self.west, self.south, self.east, self.north))

    endpoint: ClassVar[str] = "area"

    @property
    def segment(self) -> str:
        """The path segment naming the region."""
        return self.text

    @property
    def key(self) -> str:
        """Identity of the region in poll state: ``area:W,S,E,N``."""
        return f"area:{self.text}"

    @property
    def label(self) -> str:
        """The region in file names: ``W_S_E_N``."""
        return self.text.replace(",", "_")


@dataclass(frozen=True, slots=True)
class Country:
    """A country by its ISO 3166-1 alpha-3 code, as FIRMS names it."""

    iso3: str

    def __post_init__(self) -> None:
        if not (len(self.iso3) == 3 and self.iso3.isascii() and self.iso3.isalpha()):
            raise FirmsParameterError(
                f"country {self.iso3!r}: expected an ISO 3166-1 alpha-3 code such as UKR"
            )
        if self.iso3 != self.iso3.upper():
            object.__setattr__(self, "iso3", self.iso3.upper())

    endpoint: ClassVar[str] = "country"

    @property
    def segment(self) -> str:
        """The path segment naming the region."""
        return self.iso3

    @property
    def key(self) -> str:
        """Identity of the region in poll state: ``country:ISO3``."""
        return f"country:{self.iso3}"

    @property
    def label(self) -> str:
        """The region in file names."""
        return self.iso3


#: What an area/country request covers.
Region = Area | Country


def parse_region(key: str) -> Region:
    """Inverse of ``Region.key`` (``area:W,S,E,N`` or ``country:ISO3``)."""
    kind, _, value = key.partition(":")
    if kind == "area":
        return Area.parse(value)
    if kind == "country":
        return Country(value)
    raise FirmsParameterError(f"region {key!r}: expected area:W,S,E,N or country:ISO3")


def check_source(source: str) -> str:
    """``source`` if FIRMS serves it, else a :class:`FirmsParameterError` listing them."""
    if source not in SOURCES:
        raise FirmsParameterError(f"unknown FIRMS source {source!r}; known: {', '.join(SOURCES)}")
    return source


def check_day_range(days: int) -> int:
    """``days`` if it is a valid ``DAY_RANGE`` (1..10)."""
    if not 1 <= days <= MAX_DAY_RANGE:
        raise FirmsParameterError(f"day range {days}: FIRMS accepts 1..{MAX_DAY_RANGE} days")
    return days


def parse_date(text: str) -> date:
    """A strict ``YYYY-MM-DD`` date."""
    if not _DATE_RE.fullmatch(text):
        raise FirmsParameterError(f"date {text!r}: expected YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise FirmsParameterError(f"date {text!r}: {exc}") from None


def date_pages(start: date, end: date, day_range: int = MAX_DAY_RANGE) -> list[tuple[date, int]]:
    """Split the days ``start`` .. ``end`` (inclusive, UTC) into requests.

    Returns
    -------
    list of tuple
        ``(first_day, days)`` per request, in date order; every request but the
        last covers ``day_range`` days.
    """
    check_day_range(day_range)
    if end < start:
        raise FirmsParameterError(f"end {end} is before start {start}")
    pages = []
    first = start
    while first <= end:
        days = min(day_range, (end - first).days + 1)
        pages.append((first, days))
        first += timedelta(days=days)
    return pages
