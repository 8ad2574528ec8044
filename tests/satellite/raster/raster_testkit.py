"""Small GeoTIFF builders for the raster change-detection tests."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning

T_PRE = datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
T_POST = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)
UTM36 = "EPSG:32636"
ORIGIN = (600_000.0, 5_400_000.0)


def write_tif(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = UTM36,
    transform: Any = None,
    pixel_m: float = 10.0,
    nodata: float | None = None,
    tags: Mapping[str, str] | None = None,
    descriptions: Sequence[str] | None = None,
) -> Path:
    """Write ``data`` ((rows, cols) or (bands, rows, cols)) as a GeoTIFF."""
    array = data[None] if data.ndim == 2 else data
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": array.shape[2],
        "height": array.shape[1],
        "count": array.shape[0],
        "dtype": array.dtype.name,
        "nodata": nodata,
    }
    if crs is not None:
        profile["crs"] = crs
        profile["transform"] = transform if transform is not None else grid_transform(pixel_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(array)
            if tags:
                dst.update_tags(**tags)
            for index, text in enumerate(descriptions or (), start=1):
                dst.set_band_description(index, text)
    return path


def optical_scene(
    rng: np.random.Generator, shape: tuple[int, int] = (120, 150)
) -> tuple[np.ndarray, np.ndarray]:
    """Vegetated surface reflectance (NIR, SWIR2), scaled like Landsat (x 10,000)."""
    nir = 3000.0 + 400.0 * rng.standard_normal(shape)
    swir2 = 1200.0 + 150.0 * rng.standard_normal(shape)
    return nir, swir2


def noisy(rng: np.random.Generator, values: np.ndarray, relative: float = 0.01) -> np.ndarray:
    """``values`` with multiplicative sensor noise of ``relative`` standard deviation."""
    return values * (1.0 + relative * rng.standard_normal(values.shape))


def burn(nir: np.ndarray, swir2: np.ndarray, rows: slice, cols: slice) -> None:
    """A burn scar: NIR falls (charred canopy) and SWIR2 rises (dry, exposed soil)."""
    nir[rows, cols] *= 0.5
    swir2[rows, cols] *= 1.8


def grid_transform(pixel_m: float = 10.0, origin: tuple[float, float] = ORIGIN) -> Affine:
    """North-up transform with ``pixel_m`` pixels and upper-left corner ``origin``."""
    return Affine(pixel_m, 0.0, origin[0], 0.0, -pixel_m, origin[1])
