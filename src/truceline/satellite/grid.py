"""The regular latitude/longitude grid of the excess-activity model.

Cells are ``cell_deg`` squares aligned on multiples of ``cell_deg`` (0.1° by
default, about 11 km north–south and 7.4 km east–west at 48° N, the grid of
the Economist's war-fire model). A cell's id, ``"{i}:{j}"``, is its row and
column on the *global* grid (``i = floor(lat / cell_deg)``), so ids are stable
across models fitted on different extents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Grid"]


@dataclass(frozen=True)
class Grid:
    """A grid of ``n_lat`` x ``n_lon`` cells of ``cell_deg`` degrees.

    Attributes
    ----------
    cell_deg
        Cell size, degrees.
    i0, j0
        Global row and column of the south-west cell.
    n_lat, n_lon
        Rows and columns.
    """

    cell_deg: float
    i0: int
    j0: int
    n_lat: int
    n_lon: int

    @classmethod
    def covering(
        cls,
        lat: npt.NDArray[np.float64],
        lon: npt.NDArray[np.float64],
        cell_deg: float = 0.1,
        margin: int = 2,
    ) -> Grid:
        """The grid covering the points, with ``margin`` cells around them."""
        if lat.size == 0:
            raise ValueError("no detections to build a grid from")
        i = np.floor(lat / cell_deg).astype(np.int64)
        j = np.floor(lon / cell_deg).astype(np.int64)
        i0, j0 = int(i.min()) - margin, int(j.min()) - margin
        return cls(
            cell_deg,
            i0,
            j0,
            int(i.max()) - i0 + 1 + margin,
            int(j.max()) - j0 + 1 + margin,
        )

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_lat, n_lon)``."""
        return (self.n_lat, self.n_lon)

    def index(
        self, lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Row, column (local to this grid) and an inside-the-grid mask of points."""
        i = np.floor(lat / self.cell_deg).astype(np.int64) - self.i0
        j = np.floor(lon / self.cell_deg).astype(np.int64) - self.j0
        inside = (i >= 0) & (i < self.n_lat) & (j >= 0) & (j < self.n_lon)
        return i, j, inside

    def centres(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Cell-centre latitudes and longitudes as ``(n_lat, n_lon)`` arrays, degrees."""
        lats = (np.arange(self.n_lat) + self.i0 + 0.5) * self.cell_deg
        lons = (np.arange(self.n_lon) + self.j0 + 0.5) * self.cell_deg
        lon_grid, lat_grid = np.meshgrid(lons, lats)
        return lat_grid, lon_grid

    def cell_id(self, i: int, j: int) -> str:
        """Global id ``"{row}:{col}"`` of local cell ``(i, j)``."""
        return f"{i + self.i0}:{j + self.j0}"

    def cell_bounds(self, i: int, j: int) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of local cell ``(i, j)``, degrees."""
        south = (i + self.i0) * self.cell_deg
        west = (j + self.j0) * self.cell_deg
        return (west, south, west + self.cell_deg, south + self.cell_deg)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "cell_deg": self.cell_deg,
            "i0": self.i0,
            "j0": self.j0,
            "n_lat": self.n_lat,
            "n_lon": self.n_lon,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Grid:
        """Inverse of :meth:`to_json`."""
        cell = float(body["cell_deg"])
        if not (math.isfinite(cell) and 0.0 < cell <= 10.0):
            raise ValueError(f"cell_deg {cell!r} out of range (0, 10]")
        return cls(cell, int(body["i0"]), int(body["j0"]), int(body["n_lat"]), int(body["n_lon"]))
