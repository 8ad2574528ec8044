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
from rasterio.features import rasterize

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


def write_sar_gain_stack(
    directory: Path,
    gain_db: np.ndarray,
    *,
    n_pre: int = 6,
    n_post: int = 6,
    looks: float = 4.4,
    seed: int = 0,
) -> tuple[list[Path], list[Path]]:
    """A SAR stack (linear power, one band) whose post images change by ``gain_db``.

    Each pixel has a fixed mean backscatter (-12 dB ± 2 dB) times independent
    ``looks``-look gamma speckle per image; ``gain_db`` (rows, cols) is applied
    to every post image. Returns the pre and post files.
    """
    rng = np.random.default_rng(seed)
    mean = 10.0 ** ((-12.0 + 2.0 * rng.standard_normal(gain_db.shape)) / 10.0)
    factor = 10.0 ** (gain_db / 10.0)
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {"pre": [], "post": []}
    for index in range(n_pre + n_post):
        period = "pre" if index < n_pre else "post"
        values = mean * rng.gamma(looks, 1.0 / looks, gain_db.shape)
        if period == "post":
            values = values * factor
        when = T_PRE + (T_POST - T_PRE) * (index / (n_pre + n_post - 1))
        path = directory / f"s1_{index:02d}.tif"
        tags = {"ACQUISITION_TIME": when.isoformat()}
        files[period].append(write_tif(path, values.astype(np.float32), tags=tags))
    return files["pre"], files["post"]


def coverage(geometry: Any, shape: tuple[int, int], supersample: int = 5) -> np.ndarray:
    """Fraction of each 10 m pixel (grid from ORIGIN) covered by ``geometry`` (UTM metres)."""
    rows, cols = shape
    fine = rasterize(
        [geometry],
        out_shape=(rows * supersample, cols * supersample),
        transform=grid_transform(10.0 / supersample),
    )
    return fine.reshape(rows, supersample, cols, supersample).mean(axis=(1, 3))


def change_db(fraction: np.ndarray, gain_db: float) -> np.ndarray:
    """Backscatter change (dB) of pixels of which ``fraction`` changes by ``gain_db``."""
    factor = 1.0 - fraction + fraction * 10.0 ** (gain_db / 10.0)
    return np.asarray(10.0 * np.log10(factor))
