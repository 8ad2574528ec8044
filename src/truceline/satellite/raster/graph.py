"""The lazy (dask) statistic of a change run, chunk by chunk.

Every input channel is a dask array with the same spatial chunks; the
statistic is one :func:`dask.array.map_blocks` over all of them (each task
sees the pre and post values of one chunk only), followed by one
:func:`dask.array.map_overlap` for the spatial window, whose halo is the
window's half-width. Nothing here computes: :mod:`.change` streams the result
to disk.

Optical runs give more than the statistic (:class:`Layers`), from the same
reads: for dNBR the change of each band (NIR and SWIR2, which tell a burn from
other losses of NBR), and, when a green band is given, the pixels that are
water by the NDWI (McFeeters 1996: ``(green - NIR) / (green + NIR) > 0`` in
the pre or the post composite), which are left out of the test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import dask.array as da
import numpy as np
import numpy.typing as npt

from truceline.satellite.raster import stats
from truceline.satellite.raster._dask import map_blocks, map_layers, map_overlap
from truceline.satellite.raster.images import Image
from truceline.satellite.raster.io import ChangeConfigError

__all__ = ["AUX_BANDS", "Layers", "StatisticSpec", "optical_statistic", "sar_statistic"]


@dataclass(frozen=True)
class StatisticSpec:
    """What a method's statistic is and how it is judged.

    Attributes
    ----------
    name
        Band description of the statistic GeoTIFF.
    unit
        Its unit: ``z`` (standard-normal score), ``dNBR``, ``NDVI`` or ``dB``.
    two_sided
        Whether decreases are changes too.
    histogram_limit
        Half-range of the histogram bins, in ``unit``.
    floor
        Smallest default threshold, in ``unit`` (USGS 0.1 for dNBR), or None.
    """

    name: str
    unit: str
    two_sided: bool
    histogram_limit: float
    floor: float | None = None


SPECS: Mapping[str, StatisticSpec] = {
    "log_ratio": StatisticSpec("log_ratio_z", "z", True, 40.0),
    "pwtt": StatisticSpec("pwtt_z", "z", True, 40.0),
    # USGS FIREMON: dNBR < 0.1 is unburned; 0.1-0.27 low severity.
    "dnbr": StatisticSpec("dnbr", "dNBR", False, 4.0, floor=0.1),
    "ndvi": StatisticSpec("ndvi_loss", "NDVI", False, 4.0),
    "brightness": StatisticSpec("brightness_change_db", "dB", True, 60.0),
}

#: Per method, the input bands whose change is written beside the statistic
#: (bands 2, 3, ... of the statistic GeoTIFF, named ``<band>_change``) as the
#: normalized difference ``(post - pre) / (post + pre)`` of the composites:
#: unit-free, and a calibration gain becomes a scene-wide offset.
AUX_BANDS: Mapping[str, tuple[str, ...]] = {"dnbr": ("nir", "swir2")}
#: NDWI above this is open water (McFeeters 1996).
NDWI_WATER = 0.0


@dataclass(frozen=True)
class Layers:
    """The lazy outputs of a run's statistic graph.

    Attributes
    ----------
    statistic
        The per-pixel statistic (float32, NaN = no test).
    aux
        Band name -> its change (normalized difference), for :data:`AUX_BANDS`.
    water
        1.0 where the NDWI marks water (excluded from the statistic), else 0.0;
        None without a green band.
    """

    statistic: da.Array
    aux: Mapping[str, da.Array]
    water: da.Array | None


def _sar_block(
    *blocks: npt.NDArray[np.float32],
    layout: tuple[tuple[str, str, str, str], ...],
    method: str,
    looks: float,
    how: str,
) -> npt.NDArray[np.float32]:
    """z of one chunk: ``layout[i] = (channel, orbit, period, units)`` of ``blocks[i]``."""
    groups: dict[tuple[str, str], dict[str, list[npt.NDArray[np.float32]]]] = {}
    for block, (channel, orbit, period, units) in zip(blocks, layout, strict=True):
        group = groups.setdefault((channel, orbit), {"pre": [], "post": []})
        group[period].append(stats.to_db(block, units))
    zs = []
    for key in sorted(groups):
        pre, post = np.stack(groups[key]["pre"]), np.stack(groups[key]["post"])
        if method == "pwtt":
            zs.append(stats.welch_z(pre, post))
        else:
            zs.append(stats.log_ratio_z(pre[0], post[0], looks))
    return stats.combine(zs, how).astype(np.float32)


def sar_statistic(
    pre: Sequence[Image],
    post: Sequence[Image],
    units: Sequence[Mapping[str, str]],
    *,
    method: str,
    looks: float,
    combine: str,
    window: int,
) -> da.Array:
    """The SAR z-score (``log_ratio`` or ``pwtt``), windowed, as a lazy float32 array.

    Parameters
    ----------
    pre, post
        The images; channels are polarisations; images are grouped by orbit
        and a test is made per (polarisation, orbit), then combined.
    units
        Per image (pre then post): channel -> ``"db"`` or ``"linear"``.
    method
        ``"log_ratio"`` (1 + 1 images) or ``"pwtt"`` (>= 2 + >= 2 per orbit).
    looks
        Equivalent number of looks (log-ratio only).
    combine
        ``"max"`` or ``"mean"`` over (polarisation, orbit) channels.
    window
        Odd side of the Stouffer window in pixels (1 = none).
    """
    need = 2 if method == "pwtt" else 1
    orbits: dict[str, dict[str, int]] = {}
    for period, images in (("pre", pre), ("post", post)):
        for image in images:
            counts = orbits.setdefault(image.orbit or "", {"pre": 0, "post": 0})
            counts[period] += 1
    for orbit, counts in sorted(orbits.items()):
        if counts["pre"] < need or counts["post"] < need:
            raise ChangeConfigError(
                f"orbit {orbit or '(untagged)'} has {counts['pre']} pre and {counts['post']} "
                f"post image(s); {method} needs at least {need} of each per orbit"
            )
    arrays: list[da.Array] = []
    layout: list[tuple[str, str, str, str]] = []
    for period, images, offset in (("pre", pre, 0), ("post", post, len(pre))):
        for index, image in enumerate(images):
            for channel in sorted(image.channels):
                arrays.append(image.channels[channel])
                unit = units[offset + index][channel]
                layout.append((channel, image.orbit or "", period, unit))
    z = map_blocks(
        _sar_block, *arrays, layout=tuple(layout), method=method, looks=looks, how=combine
    )
    return _windowed(z, window)


def _windowed(z: da.Array, window: int) -> da.Array:
    if window <= 1:
        return z
    return map_overlap(stats.stouffer_window, z, window // 2, size=window)


def _image_index(
    channels: Mapping[str, npt.NDArray[np.float32]], method: str
) -> npt.NDArray[np.float64]:
    if method == "dnbr":
        return stats.normalized_difference(channels["nir"], channels["swir2"])
    if method == "ndvi":
        return stats.normalized_difference(channels["nir"], channels["red"])
    stack = np.stack([np.asarray(v, dtype=np.float64) for v in channels.values()])
    # Brightness needs every band: a partly missing pixel is missing.
    return np.where(np.isfinite(stack).all(axis=0), stack.mean(axis=0), np.nan)


def _optical_block(
    *blocks: npt.NDArray[np.float32],
    names: tuple[str, ...],
    n_pre: int,
    method: str,
    aux: tuple[str, ...],
    ndwi: bool,
) -> npt.NDArray[np.float32]:
    """``(1 + len(aux) + 1, rows, cols)``: statistic, band changes, water flag (0/1).

    ``blocks`` are image by image, channels in ``names`` order.
    """
    per_image = len(names)
    images = [
        dict(zip(names, blocks[start : start + per_image], strict=True))
        for start in range(0, len(blocks), per_image)
    ]
    values = [_image_index(channels, method) for channels in images]
    pre = stats.mean_over(np.stack(values[:n_pre]))
    post = stats.mean_over(np.stack(values[n_pre:]))
    # dNBR and NDVI loss: pre minus post, positive where vegetation burned or was lost.
    statistic = stats.brightness_db(pre, post) if method == "brightness" else pre - post

    def composite(name: str, period: slice) -> npt.NDArray[np.float64]:
        return stats.mean_over(np.stack([image[name] for image in images[period]]))

    early, late = slice(0, n_pre), slice(n_pre, None)
    changes = [
        stats.normalized_difference(composite(band, late), composite(band, early)) for band in aux
    ]
    water = np.zeros(statistic.shape, dtype=bool)
    if ndwi:
        for period in (early, late):
            index = stats.normalized_difference(
                composite("green", period), composite("nir", period)
            )
            with np.errstate(invalid="ignore"):
                water |= index > NDWI_WATER
    layers = np.stack([statistic, *changes, water.astype(np.float64)])
    layers[:-1, water] = np.nan
    return layers.astype(np.float32)


def optical_statistic(
    pre: Sequence[Image], post: Sequence[Image], *, method: str, window: int
) -> Layers:
    """dNBR, NDVI loss or brightness change (dB), with band changes and NDWI water.

    Several images per period are averaged (NaN-aware) into a composite before
    differencing; ``window`` > 1 smooths the statistic with a NaN-aware focal
    mean. With a ``green`` channel, pixels the NDWI calls water in either
    period get no statistic (NaN).
    """
    names = tuple(sorted(pre[0].channels))
    aux = AUX_BANDS.get(method, ())
    ndwi = "green" in names and "nir" in names
    arrays = [image.channels[name] for image in (*pre, *post) for name in names]
    stack = map_layers(
        _optical_block,
        *arrays,
        layers=len(aux) + 2,
        names=names,
        n_pre=len(pre),
        method=method,
        aux=aux,
        ndwi=ndwi,
    )
    stat = stack[0]
    if window > 1:
        stat = map_overlap(stats.focal_mean, stat, window // 2, size=window)
    return Layers(
        statistic=stat,
        aux={band: stack[1 + i] for i, band in enumerate(aux)},
        water=stack[-1] if ndwi else None,
    )
