"""Read FIRMS files of any shape into columns of positions and dates (for the model).

The excess-activity model needs only where and on which UTC day each fire
pixel was detected, for millions of rows, so this reader is columnar (pandas)
rather than the per-record ingest adapter. It accepts every FIRMS shape the
adapter accepts — the country archive (``LATITUDE,LONGITUDE,ACQ_DATE``, any
case), the area/country API CSV and the archive ``.txt`` with all columns —
because all of them carry ``latitude``, ``longitude`` and ``acq_date``.

A file with shifted or missing columns is refused whole, naming the file, the
1-based line and the field of the first bad value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from truceline.model.errors import RecordError

__all__ = ["FirePoints", "read_fire_points"]

_REQUIRED = ("latitude", "longitude", "acq_date")


@dataclass(frozen=True)
class FirePoints:
    """Fire-pixel detections as columns.

    Attributes
    ----------
    lat, lon
        Pixel centre, degrees (WGS 84).
    day
        UTC acquisition day (``datetime64[D]``).
    """

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    day: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return int(self.lat.size)

    @classmethod
    def concat(cls, parts: Sequence[FirePoints]) -> FirePoints:
        """Join several tables into one (in the given order)."""
        if not parts:
            return cls(np.empty(0), np.empty(0), np.empty(0, dtype="datetime64[D]"))
        return cls(
            np.concatenate([p.lat for p in parts]),
            np.concatenate([p.lon for p in parts]),
            np.concatenate([p.day for p in parts]).astype("datetime64[D]"),
        )

    def between(self, first: np.datetime64, last: np.datetime64) -> FirePoints:
        """The detections of days ``first`` to ``last`` inclusive."""
        keep = (self.day >= first) & (self.day <= last)
        return FirePoints(self.lat[keep], self.lon[keep], self.day[keep])


def _bad(values: pd.Series, ok: npt.NDArray[np.bool_]) -> int | None:
    bad = np.flatnonzero(~ok)
    return int(bad[0]) if bad.size else None


def read_fire_points(paths: Iterable[Path]) -> FirePoints:
    """Read FIRMS CSV/TXT files (any of the published shapes) into columns.

    Parameters
    ----------
    paths
        Files to read; each must hold a header row naming ``latitude``,
        ``longitude`` and ``acq_date`` (case-insensitive).

    Raises
    ------
    RecordError
        Naming the file, line and field of the first value that is not a
        latitude in [-90, 90], a longitude in [-180, 180] or a ``YYYY-MM-DD``
        date — which is what shifted columns produce.
    """
    parts = []
    for path in paths:
        parts.append(_read_one(Path(path)))
    return FirePoints.concat(parts)


def _read_one(path: Path) -> FirePoints:
    name = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise RecordError("file is empty (no header row)", file=name, record=1) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RecordError(f"not a FIRMS CSV: {exc}", file=name) from None
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror or exc}", file=name) from None
    columns = {str(c).strip().lower(): c for c in frame.columns}
    for key in _REQUIRED:
        if key not in columns:
            raise RecordError(
                f"missing column {key!r}; a FIRMS file needs {', '.join(_REQUIRED)} "
                f"(found: {', '.join(map(str, frame.columns))})",
                file=name,
                record=1,
                field=key,
            )
    lat_text = frame[columns["latitude"]]
    lon_text = frame[columns["longitude"]]
    day_text = frame[columns["acq_date"]].str.strip()
    lat = pd.to_numeric(lat_text, errors="coerce").to_numpy(dtype=np.float64)
    lon = pd.to_numeric(lon_text, errors="coerce").to_numpy(dtype=np.float64)
    for key, values, limit, texts in (
        ("latitude", lat, 90.0, lat_text),
        ("longitude", lon, 180.0, lon_text),
    ):
        row = _bad(texts, np.isfinite(values) & (np.abs(values) <= limit))
        if row is not None:
            raise RecordError(
                f"{texts.iloc[row]!r} is not a {key} in degrees (±{limit:g}); "
                "are the columns shifted?",
                file=name,
                record=row + 2,
                field=key,
            )
    shape_ok = day_text.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
    parsed = pd.to_datetime(day_text.where(shape_ok), format="%Y-%m-%d", errors="coerce")
    ok = shape_ok & parsed.notna().to_numpy(dtype=bool)
    row = _bad(day_text, ok)
    if row is not None:
        raise RecordError(
            f"{day_text.iloc[row]!r} is not a date (YYYY-MM-DD); are the columns shifted?",
            file=name,
            record=row + 2,
            field="acq_date",
        )
    day = parsed.to_numpy().astype("datetime64[D]")
    return FirePoints(lat, lon, day)
