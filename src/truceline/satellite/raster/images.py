"""Input images -> named channels on one grid, with masks, times and orbits.

An *image* is one acquisition, given either as one (multi-band) GeoTIFF or as a
mapping of band roles to single-band GeoTIFFs (Landsat and Sentinel-2 ship one
file per band: ``{"nir": B5.tif, "swir2": B7.tif}``; on the command line
``nir=B5.tif,swir2=B7.tif``). Its *channels* are what the method compares:

* SAR (``log_ratio``, ``pwtt``): each selected band is a polarisation
  (``bands={"vv": 1, "vh": 2}``; by default every band, named by its
  description or ``band<i>``);
* ``dnbr``: roles ``nir`` and ``swir2``; ``ndvi``: ``nir`` and ``red``;
  ``brightness``: the selected bands (default: all), averaged. ``dnbr`` and
  ``ndvi`` also take an optional ``green`` band (for the NDWI water test).

A role is found through ``bands`` (a 1-based index or a band description) or
else by a band described exactly like the role (case-insensitive). Every image
must give the same channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dask.array as da
import numpy as np
import rasterio

from truceline.satellite.raster.io import (
    ChangeConfigError,
    Grid,
    RasterInfo,
    RasterInputError,
    acquisition_time,
    band_array,
    check_grid,
    inspect_raster,
    mask_array,
    orbit_tag,
    resolve_band,
)

__all__ = [
    "METHODS",
    "OPTICAL_ROLES",
    "OPTIONAL_ROLES",
    "Image",
    "ImageInput",
    "choose_method",
    "load_images",
    "water_flags",
]

#: One acquisition: a GeoTIFF, or band role -> single-band GeoTIFF.
ImageInput = Path | Mapping[str, Path]
#: Channel name of a single undescribed band; it matches any single channel.
_UNNAMED = "band1"
METHODS = ("log_ratio", "pwtt", "dnbr", "ndvi", "brightness")
#: Bands each optical index needs.
OPTICAL_ROLES: Mapping[str, tuple[str, ...]] = {
    "dnbr": ("nir", "swir2"),
    "ndvi": ("nir", "red"),
}
#: Bands an optical index uses when they are given (``green``: NDWI water test).
OPTIONAL_ROLES: Mapping[str, tuple[str, ...]] = {
    "dnbr": ("green",),
    "ndvi": ("green",),
}


@dataclass(frozen=True)
class Image:
    """One acquisition on the target grid.

    Attributes
    ----------
    label
        How messages name it (its file, or its first band file).
    channels
        Channel name -> lazily read float32 array (rows, cols), NaN = no data.
        Masked pixels are already NaN.
    mask
        True where the image's mask excludes the pixel: flagged non-zero, or
        the mask's nodata / outside it (None: no mask given).
    flagged
        True where the mask flags the pixel (non-zero), for the masked fraction.
    time
        Acquisition time (UTC), if known from the file's tags.
    time_source
        The tag the time came from.
    orbit
        Orbit name from the file's tags, if any.
    sources
        Channel name -> (file, 1-based band) it is read from.
    files
        The files read (band files, then the mask).
    warped
        Files that were reprojected onto the target grid.
    """

    label: str
    channels: Mapping[str, da.Array]
    mask: da.Array | None
    flagged: da.Array | None
    time: datetime | None
    time_source: str | None
    orbit: str | None
    sources: Mapping[str, tuple[RasterInfo, int]]
    files: tuple[Path, ...]
    warped: tuple[Path, ...]


def _entry_paths(entry: ImageInput) -> list[Path]:
    return [Path(entry)] if isinstance(entry, str | Path) else [Path(p) for p in entry.values()]


def _role_band(info: RasterInfo, role: str, bands: Mapping[str, int | str] | None) -> int:
    ref: int | str = bands[role] if bands and role in bands else role
    return resolve_band(info, ref, role)


def _channel_bands(
    entry: ImageInput,
    infos: Mapping[Path, RasterInfo],
    method: str,
    bands: Mapping[str, int | str] | None,
) -> dict[str, tuple[RasterInfo, int]]:
    """Channel name -> (file, 1-based band) for one image under ``method``."""
    needed = OPTICAL_ROLES.get(method)
    optional = OPTIONAL_ROLES.get(method, ())
    if not isinstance(entry, str | Path):
        files = {role.lower(): infos[Path(path)] for role, path in entry.items()}
        if needed:
            missing = [r for r in needed if r not in files]
            if missing:
                raise ChangeConfigError(
                    f"{method} needs band files for {', '.join(needed)}; "
                    f"{', '.join(missing)} not given in {dict(entry)}"
                )
            chosen = [*needed, *(r for r in optional if r in files)]
            return {role: (files[role], 1) for role in chosen}
        return {role: (info, 1) for role, info in files.items()}
    info = infos[Path(entry)]
    if needed:
        found = {role: (info, _role_band(info, role, bands)) for role in needed}
        described = {d.strip().lower() for d in info.descriptions}
        for role in optional:
            if (bands and role in bands) or role in described:
                found[role] = (info, _role_band(info, role, bands))
        return found
    if bands:
        return {name.lower(): (info, resolve_band(info, ref, name)) for name, ref in bands.items()}
    return {
        (info.descriptions[i - 1].strip().lower() or f"band{i}"): (info, i)
        for i in range(1, info.count + 1)
    }


def _match_single(
    layout: dict[str, tuple[RasterInfo, int]], first: list[str], label: str
) -> dict[str, tuple[RasterInfo, int]]:
    """Single-channel images match when either band is undescribed (``band1``)."""
    (name,) = layout if len(layout) == 1 else (None,)
    if name is not None and len(first) == 1 and _UNNAMED in (name, first[0]):
        return {first[0]: layout[name]}
    raise RasterInputError(
        f"gives channels {sorted(layout)}, the first image gives {first}", file=label
    )


def _has_roles(
    entry: ImageInput, infos: Mapping[Path, RasterInfo], roles: Sequence[str], bands: object
) -> bool:
    if not isinstance(entry, str | Path):
        return all(r in {k.lower() for k in entry} for r in roles)
    info = infos[Path(entry)]
    described = {d.strip().lower() for d in info.descriptions}
    given = {k.lower() for k in bands} if isinstance(bands, Mapping) else set()
    return all(r in given or r in described for r in roles)


def choose_method(
    method: str,
    pre: Sequence[ImageInput],
    post: Sequence[ImageInput],
    infos: Mapping[Path, RasterInfo],
    bands: Mapping[str, int | str] | None,
) -> str:
    """Resolve ``"auto"``: optical with NIR+SWIR2 -> dnbr (NIR+red -> ndvi); SAR 1+1 ->
    log_ratio, >= 2 + >= 2 -> pwtt."""
    if method != "auto":
        if method not in METHODS:
            raise ChangeConfigError(
                f"unknown method {method!r}; expected auto or one of {', '.join(METHODS)}"
            )
        chosen = method
    elif _has_roles(pre[0], infos, OPTICAL_ROLES["dnbr"], bands):
        chosen = "dnbr"
    elif _has_roles(pre[0], infos, OPTICAL_ROLES["ndvi"], bands):
        chosen = "ndvi"
    elif len(pre) == 1 and len(post) == 1:
        chosen = "log_ratio"
    elif len(pre) >= 2 and len(post) >= 2:
        chosen = "pwtt"
    else:
        raise ChangeConfigError(
            f"cannot choose a method for {len(pre)} pre and {len(post)} post image(s): "
            "log_ratio needs exactly 1 + 1, pwtt at least 2 + 2; give --method"
        )
    if chosen == "log_ratio" and (len(pre), len(post)) != (1, 1):
        raise ChangeConfigError(
            f"log_ratio compares one pre with one post image, got {len(pre)} and {len(post)}"
        )
    if chosen == "pwtt" and (len(pre) < 2 or len(post) < 2):
        raise ChangeConfigError(
            f"pwtt needs at least 2 pre and 2 post images (a variance per period), "
            f"got {len(pre)} and {len(post)}"
        )
    return chosen


def sar_units(info: RasterInfo, band: int, units: str) -> str:
    """``"db"`` or ``"linear"`` for one SAR band.

    ``units="auto"``: the band's unit string if it says dB or linear, else a
    decimated read of the band: any negative value means dB (linear power is
    never negative; dB backscatter of land is mostly below 0).
    """
    if units in ("db", "linear"):
        return units
    text = info.units[band - 1].strip().lower() if band <= len(info.units) else ""
    if text in ("db", "decibel", "decibels"):
        return "db"
    if text in ("linear", "power", "intensity"):
        return "linear"
    with rasterio.open(info.path) as src:
        shape = (min(src.height, 256), min(src.width, 256))
        sample = np.ma.filled(src.read(band, out_shape=shape, masked=True).astype(float), np.nan)
    return "db" if bool(np.any(sample[np.isfinite(sample)] < 0)) else "linear"


def load_images(
    entries: Sequence[ImageInput],
    masks: Sequence[Path],
    *,
    period: str,
    method: str,
    bands: Mapping[str, int | str] | None,
    infos: Mapping[Path, RasterInfo],
    grid: Grid,
    reproject: bool,
    chunk: int,
) -> list[Image]:
    """Lazily read images (and their masks) onto ``grid``, one dask array per channel.

    Raises
    ------
    RasterInputError
        For a file off the grid with ``reproject=False``, or an image whose
        channels differ from the first image's.
    """
    images: list[Image] = []
    first: list[str] | None = None
    for index, entry in enumerate(entries):
        layout = _channel_bands(entry, infos, method, bands)
        label = str(_entry_paths(entry)[0])
        if first is None:
            first = sorted(layout)
        elif sorted(layout) != first:
            layout = _match_single(layout, first, label)
        channels: dict[str, da.Array] = {}
        warped: list[Path] = []
        for name, (info, band) in layout.items():
            warp = check_grid(info, grid, reproject=reproject)
            if warp:
                warped.append(info.path)
            channels[name] = band_array(info, band, grid, warp=warp, chunk=chunk)
        mask = flagged = None
        files = [info.path for info, _ in layout.values()]
        if masks:
            mask_info = infos[Path(masks[index])]
            warp = check_grid(mask_info, grid, reproject=reproject)
            if warp:
                warped.append(mask_info.path)
            values = mask_array(mask_info, grid, warp=warp, chunk=chunk)
            mask = (values != 0) | da.isnan(values)
            flagged = (values != 0) & ~da.isnan(values)
            channels = {
                name: da.where(mask, np.float32(np.nan), arr) for name, arr in channels.items()
            }
            files.append(mask_info.path)
        head = next(iter(layout.values()))[0]
        time, source = acquisition_time(head)
        images.append(
            Image(
                label=f"{period}[{index}] {label}",
                channels=channels,
                mask=mask,
                flagged=flagged,
                time=time,
                time_source=source,
                orbit=orbit_tag(head),
                sources=layout,
                files=tuple(files),
                warped=tuple(dict.fromkeys(warped)),
            )
        )
    return images


def inspect_all(entries: Sequence[ImageInput], masks: Sequence[Path]) -> dict[Path, RasterInfo]:
    """Headers of every file of ``entries`` and ``masks`` (refusing unusable ones)."""
    infos: dict[Path, RasterInfo] = {}
    for entry in entries:
        for path in _entry_paths(entry):
            if path not in infos:
                infos[path] = inspect_raster(path)
    for path in masks:
        path = Path(path)
        if path not in infos:
            infos[path] = inspect_raster(path)
    return infos


def first_path(entry: ImageInput) -> Path:
    """The first file of an image (its grid is the default target grid)."""
    return _entry_paths(entry)[0]


def water_flags(
    path: Path, infos: Mapping[Path, RasterInfo], grid: Grid, *, reproject: bool, chunk: int
) -> da.Array:
    """A water mask raster read onto ``grid``: True where band 1 is non-zero.

    The mask's nodata and the area outside it are *not* water (unknown there:
    those pixels stay in the test). Warping is nearest-neighbour.

    Raises
    ------
    RasterInputError
        When the mask is off the grid and ``reproject`` is false.
    """
    info = infos[Path(path)]
    warp = check_grid(info, grid, reproject=reproject)
    values = mask_array(info, grid, warp=warp, chunk=chunk)
    flags: da.Array = (values != 0) & ~da.isnan(values)
    return flags
