"""Terrain heights for camera geometry: flat ground or a DEM GeoTIFF.

Heights are metres above mean sea level, the datum of ``CameraPose.alt_m``.

A DEM may be in any horizontal CRS that pyproj knows: geographic (EPSG:4326 and
friends) or projected (UTM, national grids). A projected DEM is never resampled:
each query point is transformed from WGS 84 longitude/latitude into the DEM's
CRS and the height is interpolated there, so no interpolation error is added.
A DEM without a CRS, or whose vertical axis is not in metres, is refused with a
message naming the file and the CRS. Heights are interpolated bilinearly between
cell centres; a point outside the raster, or next to a nodata cell (a missing
tile, a void), raises :class:`~truceline.model.errors.RecordError` naming the
point — never a made-up height.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from truceline.model.errors import RecordError

__all__ = ["Terrain"]

FloatArray = npt.NDArray[np.float64]


class Terrain:
    """Ground heights, metres above mean sea level.

    Build with :meth:`flat` or :meth:`from_geotiff`.
    """

    def __init__(
        self,
        *,
        flat_height_m: float | None = None,
        heights: FloatArray | None = None,
        affine: tuple[float, float, float, float, float, float] | None = None,
        crs: Any = None,
        source: str = "<terrain>",
    ) -> None:
        self.source = source
        self.flat_height_m = flat_height_m
        self._heights = heights
        self._transformer: Any = None
        if heights is None:
            if flat_height_m is None or not np.isfinite(flat_height_m):
                raise RecordError(f"flat terrain needs a finite height, got {flat_height_m}")
            self.reference_height_m = float(flat_height_m)
            return
        if affine is None:
            raise RecordError("a DEM needs its geotransform", file=source)
        a, b, c, d, e, f = affine
        det = a * e - b * d
        if det == 0.0:
            raise RecordError("the DEM's geotransform is singular", file=source)
        # pixel (col, row) = inverse affine of (x, y)
        self._inverse = (e / det, -b / det, (b * f - e * c) / det, -d / det, a / det,
                         (d * c - a * f) / det)  # fmt: skip
        valid = heights[np.isfinite(heights)]
        if valid.size == 0:
            raise RecordError("the DEM has no valid heights (all nodata)", file=source)
        self.reference_height_m = float(np.median(valid))
        self.min_height_m = float(valid.min())
        self.max_height_m = float(valid.max())
        if crs is not None:
            from pyproj import Transformer

            self._transformer = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    @classmethod
    def flat(cls, height_m: float) -> Terrain:
        """Flat ground at ``height_m`` metres above mean sea level."""
        return cls(flat_height_m=float(height_m), source=f"<flat {height_m} m>")

    @classmethod
    def from_geotiff(cls, path: str | Path) -> Terrain:
        """A DEM from band 1 of a GeoTIFF (or any raster rasterio reads).

        Raises
        ------
        RecordError
            The file cannot be read, has no georeferencing or CRS, or its CRS has
            a vertical axis not in metres.
        """
        import rasterio
        from pyproj import CRS

        source = str(path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", rasterio.errors.NotGeoreferencedWarning)
                with rasterio.open(path) as ds:
                    raw = ds.read(1, masked=True)
                    transform = ds.transform
                    ds_crs = ds.crs
        except rasterio.errors.NotGeoreferencedWarning as exc:
            raise RecordError("the DEM has no georeferencing", file=source) from exc
        except (rasterio.errors.RasterioError, OSError) as exc:
            raise RecordError(f"cannot read the DEM: {exc}", file=source) from exc
        if ds_crs is None:
            raise RecordError("the DEM has no CRS; give it one (e.g. EPSG:4326)", file=source)
        crs = CRS.from_wkt(ds_crs.to_wkt())
        name = crs.to_string()
        for axis in crs.axis_info:
            if axis.direction == "up" and axis.unit_name not in ("metre", "meter"):
                raise RecordError(
                    f"the DEM's CRS {name} has heights in {axis.unit_name}; metres are needed",
                    file=source,
                )
        if not (crs.is_geographic or crs.is_projected):
            raise RecordError(f"the DEM's CRS {name} is neither geographic nor projected",
                              file=source)  # fmt: skip
        heights = np.ma.filled(raw.astype(float), np.nan)
        wgs84 = crs.is_geographic and crs.equals(CRS.from_epsg(4326), ignore_axis_order=True)
        return cls(
            heights=heights,
            affine=(transform.a, transform.b, transform.c, transform.d, transform.e, transform.f),
            crs=None if wgs84 else crs,
            source=source,
        )

    @property
    def is_flat(self) -> bool:
        """True for flat terrain (no DEM)."""
        return self._heights is None

    def height_at(self, lon: Any, lat: Any) -> FloatArray:
        """Ground height (metres above MSL) at longitudes/latitudes in degrees.

        Vectorised: ``lon`` and ``lat`` broadcast together; the result has their
        shape.

        Raises
        ------
        RecordError
            A point is outside the DEM or next to a nodata cell; the message names
            the first such point.
        """
        lon_arr, lat_arr = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
        if self._heights is None:
            return np.full(lon_arr.shape, self.reference_height_m)
        x, y = lon_arr, lat_arr
        if self._transformer is not None:
            x, y = (np.asarray(a, float) for a in self._transformer.transform(lon_arr, lat_arr))
        ia, ib, ic, id_, ie, if_ = self._inverse
        col = ia * x + ib * y + ic
        row = id_ * x + ie * y + if_
        n_rows, n_cols = self._heights.shape
        outside = ~((col >= 0.0) & (col <= n_cols) & (row >= 0.0) & (row <= n_rows))
        if outside.any():
            i = int(np.flatnonzero(outside.ravel())[0])
            raise RecordError(
                f"point ({lon_arr.ravel()[i]:.6f}, {lat_arr.ravel()[i]:.6f}) is outside the DEM",
                file=self.source,
            )
        # cell centres sit at integer + 0.5; clamp within the outer half cell
        fc = np.clip(col - 0.5, 0.0, n_cols - 1.0)
        fr = np.clip(row - 0.5, 0.0, n_rows - 1.0)
        c0 = np.minimum(np.floor(fc).astype(np.intp), max(n_cols - 2, 0))
        r0 = np.minimum(np.floor(fr).astype(np.intp), max(n_rows - 2, 0))
        c1 = np.minimum(c0 + 1, n_cols - 1)
        r1 = np.minimum(r0 + 1, n_rows - 1)
        wc, wr = fc - c0, fr - r0
        z = self._heights
        top = z[r0, c0] * (1.0 - wc) + z[r0, c1] * wc
        bottom = z[r1, c0] * (1.0 - wc) + z[r1, c1] * wc
        height = top * (1.0 - wr) + bottom * wr
        missing = ~np.isfinite(height)
        if missing.any():
            i = int(np.flatnonzero(missing.ravel())[0])
            raise RecordError(
                f"no DEM height at ({lon_arr.ravel()[i]:.6f}, {lat_arr.ravel()[i]:.6f}): "
                "nodata (missing tile or void)",
                file=self.source,
            )
        result: FloatArray = np.asarray(height, dtype=float)
        return result
