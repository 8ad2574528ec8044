"""Value checks shared by the generic adapters, raising errors that name the field (private)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from truceline.model.errors import RecordError
from truceline.model.timeutil import parse_utc

__all__ = [
    "check_covariance",
    "check_lon_lat",
    "json_number",
    "remap_field",
    "text_number",
    "utc_time",
]


def json_number(value: Any, field: str) -> float:
    """A finite JSON number (booleans and numeric strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"expected a number, got {value!r}", field=field)
    number = float(value)
    if not math.isfinite(number):
        raise RecordError(f"expected a finite number, got {value!r}", field=field)
    return number


def text_number(text: str, field: str) -> float:
    """A finite number written as text (a CSV cell)."""
    try:
        number = float(text)
    except ValueError:
        raise RecordError(f"expected a number, got {text!r}", field=field) from None
    if not math.isfinite(number):
        raise RecordError(f"expected a finite number, got {text!r}", field=field)
    return number


def utc_time(value: Any, field: str) -> datetime:
    """An ISO 8601 timestamp with a UTC offset, as an aware UTC datetime."""
    if not isinstance(value, str):
        raise RecordError(f"expected an ISO 8601 time string, got {value!r}", field=field)
    try:
        return parse_utc(value)
    except ValueError as exc:
        raise RecordError(str(exc), field=field) from None


def check_lon_lat(lon: float, lat: float, lon_field: str, lat_field: str) -> None:
    """Refuse positions off the globe, naming the coordinate at fault."""
    if not -90.0 <= lat <= 90.0:
        hint = " (are longitude and latitude swapped?)" if -90.0 <= lon <= 90.0 else ""
        raise RecordError(f"latitude {lat} is outside [-90, 90]{hint}", field=lat_field)
    if not -180.0 <= lon <= 180.0:
        raise RecordError(f"longitude {lon} is outside [-180, 180]", field=lon_field)


def check_covariance(cov_ee: float, cov_en: float, cov_nn: float, field: str) -> None:
    """Refuse a 2x2 covariance (m²) that is not positive semi-definite."""
    if cov_ee < 0 or cov_nn < 0:
        raise RecordError("variances cov_ee and cov_nn must be non-negative (m²)", field=field)
    if cov_en * cov_en > cov_ee * cov_nn * (1 + 1e-9):
        raise RecordError(
            "covariance is not positive semi-definite (|cov_en| > sqrt(cov_ee*cov_nn))",
            field=field,
        )


def remap_field(exc: RecordError, names: Mapping[str, str], default: str | None) -> RecordError:
    """Re-express a model error's field in the names of the input format.

    Parameters
    ----------
    exc
        Error raised by a model constructor (fields like ``location.lat``).
    names
        Model field -> field as the input format names it.
    default
        Used for model fields not in ``names`` (``None`` keeps the model's).
    """
    model_field = exc.field or ""
    field = names.get(model_field, default if default is not None else exc.field)
    return RecordError(exc.message, file=exc.file, record=exc.record, field=field)
