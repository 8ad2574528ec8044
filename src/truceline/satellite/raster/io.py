"""GeoTIFF inputs: inspection, grids, lazily chunked reads and acquisition times.

Every input file is inspected first (cheap: header only) and refused with a
message naming it when it cannot be used: unreadable, no CRS, georeferenced by
ground control points only (e.g. an unterrain-corrected Sentinel-1 GRD), or a
band that does not exist. Pixels are then read lazily, one window per dask
chunk, so a stack larger than memory is never loaded whole:

* a file already on the target grid is read window by window;
* a file on another grid (CRS, pixel size or extent) is read through a GDAL
  warped VRT (:class:`rasterio.vrt.WarpedVRT`) onto the target grid, again one
  window at a time (bilinear for values, nearest for masks); with
  ``reproject=False`` such a file is refused instead.

Values become float32 with NaN for the file's nodata and for target pixels
outside the file's footprint.
"""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform
from rasterio.windows import Window

from truceline.model.errors import RecordError, TrucelineError
from truceline.satellite.raster._dask import from_reader

__all__ = [
    "ChangeConfigError",
    "Grid",
    "RasterInfo",
    "RasterInputError",
    "acquisition_time",
    "band_array",
    "check_grid",
    "inspect_raster",
    "mask_array",
    "orbit_tag",
    "resolve_band",
    "target_grid",
]

FloatArray = npt.NDArray[np.float32]

#: GeoTIFF metadata tags read for the acquisition time, most trusted first.
#: ``ACQUISITION_TIME`` is ISO 8601 (an offset, or UTC when none is given);
#: ``TIFFTAG_DATETIME`` is the TIFF "date and time of image creation",
#: ``YYYY:MM:DD HH:MM:SS`` in UTC — many processors write their processing time
#: there, so it is used only when nothing better is given (the summary says so).
TIME_TAGS = ("ACQUISITION_TIME", "TIFFTAG_DATETIME")
#: Metadata tags naming the satellite orbit (e.g. Sentinel-1 relative orbit).
ORBIT_TAGS = ("RELATIVE_ORBIT", "ORBIT")


class RasterInputError(RecordError):
    """An input raster cannot be used; the message names the file and what is wrong."""


class ChangeConfigError(TrucelineError, ValueError):
    """The arguments of a change run contradict each other or name unknown options."""


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS, affine transform (pixel corner -> CRS units) and size in pixels."""

    crs: CRS
    transform: Affine
    width: int
    height: int

    def same_as(self, other: Grid) -> bool:
        """Whether ``other`` has the same CRS, size and (to 1e-6 pixel) transform."""
        if self.crs != other.crs or (self.width, self.height) != (other.width, other.height):
            return False
        tolerance = 1e-6 * max(abs(self.transform.a), abs(self.transform.e))
        return all(
            math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance)
            for a, b in zip(self.transform[:6], other.transform[:6], strict=True)
        )

    def difference(self, other: Grid) -> str:
        """Words for how ``other`` differs from this grid (for error messages)."""
        if self.crs != other.crs:
            return f"CRS {other.crs.to_string()} instead of {self.crs.to_string()}"
        if (self.width, self.height) != (other.width, other.height):
            return f"{other.width}x{other.height} pixels instead of {self.width}x{self.height}"
        return f"transform {tuple(other.transform)[:6]} instead of {tuple(self.transform)[:6]}"

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary: CRS, transform coefficients, size."""
        return {
            "crs": self.crs.to_string(),
            "transform": [float(v) for v in tuple(self.transform)[:6]],
            "width": self.width,
            "height": self.height,
        }


@dataclass(frozen=True)
class RasterInfo:
    """What the header of one GeoTIFF says.

    Attributes
    ----------
    path
        The file.
    grid
        Its native grid.
    count
        Number of bands.
    descriptions
        Band descriptions (``""`` where unset), band 1 first.
    units
        Band units as stored (``""`` where unset), band 1 first.
    tags
        Dataset metadata tags (default domain).
    """

    path: Path
    grid: Grid
    count: int
    descriptions: tuple[str, ...]
    units: tuple[str, ...]
    tags: Mapping[str, str]


def inspect_raster(path: Path) -> RasterInfo:
    """Read the header of ``path`` and refuse files that cannot be placed on the Earth.

    Raises
    ------
    RasterInputError
        When the file is missing or unreadable, has no CRS, or has no geotransform.
    """
    file = str(path)
    if not path.is_file():
        raise RasterInputError("no such file", file=file)
    try:
        with warnings.catch_warnings():
            # Checked below with a message naming the file, instead of a warning.
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                crs, transform, gcps = src.crs, src.transform, src.gcps[0]
                info = RasterInfo(
                    path=path,
                    grid=Grid(crs, transform, src.width, src.height),
                    count=src.count,
                    descriptions=tuple(d or "" for d in src.descriptions),
                    units=tuple(u or "" for u in src.units),
                    tags=dict(src.tags()),
                )
    except RasterioIOError as exc:
        raise RasterInputError(f"not a readable raster ({exc})", file=file) from None
    if transform.is_identity and gcps:
        raise RasterInputError(
            "has no geotransform, only ground control points (e.g. an unprojected "
            "Sentinel-1 GRD); terrain-correct or warp it first, e.g. 'gdalwarp -t_srs EPSG:...'",
            file=file,
        )
    if crs is None:
        raise RasterInputError(
            "has no CRS (coordinate reference system); assign one, e.g. "
            "'gdal_edit.py -a_srs EPSG:32636 FILE', before change detection",
            file=file,
        )
    if transform.is_identity:
        raise RasterInputError("has no geotransform (pixel -> map coordinates)", file=file)
    if transform.b != 0 or transform.d != 0:
        raise RasterInputError(
            "has a rotated geotransform; warp it to a north-up grid first", file=file
        )
    return info


def target_grid(first: RasterInfo, crs: str | None = None, resolution: float | None = None) -> Grid:
    """The grid every input is put on: ``first``'s own, or ``first``'s extent in ``crs``.

    Parameters
    ----------
    first
        The first pre-event image.
    crs
        Target CRS (anything :meth:`rasterio.crs.CRS.from_user_input` reads);
        ``None`` keeps the first image's CRS.
    resolution
        Target pixel size in the target CRS's units (metres for UTM); ``None``
        keeps GDAL's default estimate (about the source pixel size).
    """
    if crs is None and resolution is None:
        return first.grid
    try:
        dst_crs = first.grid.crs if crs is None else CRS.from_user_input(crs)
    except rasterio.errors.CRSError as exc:
        raise ChangeConfigError(f"unknown target CRS {crs!r}: {exc}") from None
    if resolution is not None and not resolution > 0:
        raise ChangeConfigError(f"resolution must be positive, got {resolution}")
    src = first.grid
    left, top = src.transform @ (0, 0)
    right, bottom = src.transform @ (src.width, src.height)
    kwargs: dict[str, Any] = {} if resolution is None else {"resolution": resolution}
    with warnings.catch_warnings():
        # rasterio 1.4 multiplies Affine matrices with '*', which affine 3 flags as
        # pending deprecation; the result is the same.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        transform, width, height = calculate_default_transform(
            src.crs, dst_crs, src.width, src.height, left, bottom, right, top, **kwargs
        )
    return Grid(dst_crs, transform, int(width), int(height))


def check_grid(info: RasterInfo, grid: Grid, *, reproject: bool) -> bool:
    """Whether ``info`` needs warping onto ``grid``; refuse it when warping is off.

    Raises
    ------
    RasterInputError
        When the grids differ and ``reproject`` is false.
    """
    if info.grid.same_as(grid):
        return False
    if not reproject:
        raise RasterInputError(
            f"is not on the grid of the first image: {grid.difference(info.grid)}; "
            "allow reprojection or resample the stack onto one grid first",
            file=str(info.path),
        )
    return True


def resolve_band(info: RasterInfo, ref: int | str, role: str) -> int:
    """The 1-based band index that ``ref`` (an index or a band description) names.

    Raises
    ------
    RasterInputError
        When the index is out of range or no band has that description.
    """
    if isinstance(ref, int):
        if not 1 <= ref <= info.count:
            raise RasterInputError(
                f"has {info.count} band(s); band {ref} for {role!r} does not exist",
                file=str(info.path),
                field=role,
            )
        return ref
    wanted = ref.strip().lower()
    for index, text in enumerate(info.descriptions, start=1):
        if text.strip().lower() == wanted:
            return index
    known = ", ".join(repr(d) for d in info.descriptions if d) or "none"
    raise RasterInputError(
        f"no band described {ref!r} for {role!r} (descriptions: {known})",
        file=str(info.path),
        field=role,
    )


class _WindowReader:
    """Array-like for :func:`dask.array.from_array`: each chunk is one windowed read."""

    def __init__(
        self, info: RasterInfo, band: int, grid: Grid, resampling: Resampling, warp: bool
    ) -> None:
        self.info = info
        self.band = band
        self.grid = grid
        self.resampling = resampling
        self.warp = warp
        self.shape = (grid.height, grid.width)
        self.ndim = 2
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, key: tuple[slice, slice]) -> FloatArray:
        rows, cols = key
        r0, r1, _ = rows.indices(self.grid.height)
        c0, c1, _ = cols.indices(self.grid.width)
        window = Window(c0, r0, c1 - c0, r1 - r0)
        try:
            with rasterio.open(self.info.path) as src:
                if not self.warp:
                    data = src.read(self.band, window=window, masked=True)
                else:
                    with WarpedVRT(
                        src,
                        crs=self.grid.crs,
                        transform=self.grid.transform,
                        width=self.grid.width,
                        height=self.grid.height,
                        resampling=self.resampling,
                        dtype="float32",
                        nodata=np.nan,
                    ) as vrt:
                        data = vrt.read(self.band, window=window, masked=True)
        except RasterioIOError as exc:
            raise RasterInputError(
                f"read failed in rows {r0}-{r1}, columns {c0}-{c1}: {exc}",
                file=str(self.info.path),
            ) from None
        out: FloatArray = np.ma.filled(data.astype(np.float32), np.nan)
        return out


def _token(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def band_array(info: RasterInfo, band: int, grid: Grid, *, warp: bool, chunk: int) -> da.Array:
    """A lazily read band on ``grid``: float32, NaN where nodata or outside the file.

    Parameters
    ----------
    info, band
        The file and its 1-based band.
    grid
        The target grid.
    warp
        Read through a warped VRT (bilinear) because the file is on another grid.
    chunk
        Chunk edge in pixels.
    """
    reader = _WindowReader(info, band, grid, Resampling.bilinear, warp)
    stat = info.path.stat()
    name = "read-" + _token(str(info.path), stat.st_mtime_ns, stat.st_size, band, grid, warp)
    return from_reader(reader, chunk, name)


def mask_array(info: RasterInfo, grid: Grid, *, warp: bool, chunk: int) -> da.Array:
    """A lazily read cloud/quality mask on ``grid`` (band 1, float32, NaN = nodata/outside).

    Non-zero marks an excluded pixel (cloud, shadow, bad quality); NaN — the
    mask's nodata or outside its footprint — is excluded too (nothing is known
    to be clear there). Warping uses nearest-neighbour resampling so mask
    values are never blended.
    """
    reader = _WindowReader(info, 1, grid, Resampling.nearest, warp)
    stat = info.path.stat()
    name = "mask-" + _token(str(info.path), stat.st_mtime_ns, stat.st_size, grid, warp)
    return from_reader(reader, chunk, name)


_TIFF_DATETIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$")


def acquisition_time(info: RasterInfo) -> tuple[datetime | None, str | None]:
    """The acquisition time (UTC) from the file's tags and the tag it came from.

    ``ACQUISITION_TIME`` (ISO 8601; UTC when it carries no offset) is preferred
    over ``TIFFTAG_DATETIME`` (``YYYY:MM:DD HH:MM:SS``, taken as UTC).

    Raises
    ------
    RasterInputError
        When a time tag is present but unreadable.
    """
    for tag in TIME_TAGS:
        text = info.tags.get(tag)
        if not text:
            continue
        try:
            match = _TIFF_DATETIME.match(text.strip())
            if match:
                year, month, day, hour, minute, second = (int(p) for p in match.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC), tag
            value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise RasterInputError(
                f"unreadable time {text!r}", file=str(info.path), field=tag
            ) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC), tag
    return None, None


def orbit_tag(info: RasterInfo) -> str | None:
    """The orbit named by the file's ``RELATIVE_ORBIT`` or ``ORBIT`` tag, if any."""
    for tag in ORBIT_TAGS:
        value = info.tags.get(tag)
        if value:
            return value.strip()
    return None
