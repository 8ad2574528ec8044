"""Areas and periods where fire activity is not evidence of fighting (or not peacetime).

Used two ways: left out of training (e.g. the 2014–2022 Donbas conflict zone
in otherwise peaceful years) and never flagged when scoring (a known marsh
that burns every summer, a declared industrial site). Read from a GeoJSON
file (Polygon/MultiPolygon features; optional ``start``/``end`` dates in
``properties``, inclusive), from a CSV of boxes in the Economist's format
(``lng1,lng2,lat1,lat2,start_date,end_date[,note]``, dates ``DD/MM/YYYY``),
or from an agreement's zones.

A cell is in an exclusion when its centre lies inside the area.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from truceline.model.errors import RecordError
from truceline.satellite.grid import Grid

__all__ = ["Exclusion", "exclusion_mask", "read_exclusions"]


@dataclass(frozen=True)
class Exclusion:
    """An area (WGS 84 lon/lat) and an optional inclusive day range.

    Attributes
    ----------
    geometry
        Polygon or MultiPolygon, degrees.
    start, end
        First and last UTC day it applies (``None``: open).
    name
        A label for reports.
    """

    geometry: BaseGeometry
    start: np.datetime64 | None = None
    end: np.datetime64 | None = None
    name: str = ""

    def cells(self, grid: Grid) -> npt.NDArray[np.bool_]:
        """Cells of ``grid`` whose centre lies inside the area."""
        lat, lon = grid.centres()
        inside: npt.NDArray[np.bool_] = shapely.contains_xy(self.geometry, lon, lat)
        return inside

    def days(self, days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.bool_]:
        """Which of ``days`` the exclusion covers."""
        hit = np.ones(days.shape, dtype=bool)
        if self.start is not None:
            hit &= days >= self.start
        if self.end is not None:
            hit &= days <= self.end
        return hit


def exclusion_mask(
    exclusions: Sequence[Exclusion], grid: Grid, days: npt.NDArray[np.datetime64]
) -> npt.NDArray[np.bool_]:
    """``(len(days), n_lat, n_lon)`` mask of excluded cell-days."""
    mask = np.zeros((days.size, *grid.shape), dtype=bool)
    for ex in exclusions:
        on = ex.days(days.astype("datetime64[D]"))
        if on.any():
            mask[on] |= ex.cells(grid)[None]
    return mask


def _day(text: object, fmt: str, file: str, record: str, key: str) -> np.datetime64 | None:
    if text in (None, ""):
        return None
    try:
        parsed = datetime.strptime(str(text).strip(), fmt).replace(tzinfo=UTC)
        return np.datetime64(parsed.date(), "D")
    except ValueError:
        raise RecordError(
            f"{text!r} is not a date ({fmt})", file=file, record=record, field=key
        ) from None


def read_exclusions(path: Path) -> list[Exclusion]:
    """Read exclusions from a GeoJSON file or an Economist-style CSV of boxes."""
    path = Path(path)
    name = str(path)
    if path.suffix.lower() == ".csv":
        return _read_boxes(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"not a GeoJSON file: {exc}", file=name) from None
    features = body.get("features") if body.get("type") == "FeatureCollection" else [body]
    result = []
    for k, feature in enumerate(features or []):
        where = f"features[{k}]"
        try:
            geometry = shape(feature["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RecordError(
                f"bad geometry: {exc}", file=name, record=where, field="geometry"
            ) from None
        if geometry.geom_type not in {"Polygon", "MultiPolygon"}:
            raise RecordError(
                f"{geometry.geom_type} is not an area", file=name, record=where, field="geometry"
            )
        props = feature.get("properties") or {}
        result.append(
            Exclusion(
                geometry,
                _day(props.get("start"), "%Y-%m-%d", name, where, "properties.start"),
                _day(props.get("end"), "%Y-%m-%d", name, where, "properties.end"),
                str(props.get("name", "")),
            )
        )
    return result


def _read_boxes(path: Path) -> list[Exclusion]:
    name = str(path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    result = []
    for line, row in enumerate(rows, start=2):
        values = {}
        for key in ("lng1", "lng2", "lat1", "lat2"):
            try:
                values[key] = float(row[key])
            except (KeyError, TypeError, ValueError):
                raise RecordError(
                    f"{row.get(key)!r} is not a number", file=name, record=line, field=key
                ) from None
        result.append(
            Exclusion(
                box(
                    min(values["lng1"], values["lng2"]),
                    min(values["lat1"], values["lat2"]),
                    max(values["lng1"], values["lng2"]),
                    max(values["lat1"], values["lat2"]),
                ),
                _day(row.get("start_date"), "%d/%m/%Y", name, str(line), "start_date"),
                _day(row.get("end_date"), "%d/%m/%Y", name, str(line), "end_date"),
                str(row.get("note") or ""),
            )
        )
    return result
