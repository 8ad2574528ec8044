"""Synthetic SAR stacks with gamma speckle and known changes, and target-level ROC.

For tests, benchmarks and demos: :func:`write_sar_stack` writes pre and post
GeoTIFFs of backscatter (linear power) on a UTM grid, strip by strip (memory
bounded by one strip, so 10,000 x 10,000 stacks are fine). Each pixel has its
own mean backscatter (a "land cover" texture, log-normal: -12 dB ± 2 dB,
constant in time); each image multiplies it by independent L-look gamma
speckle (mean 1, variance 1/L). Square targets change by ``change_db`` in every
post image.

:func:`target_scores` and :func:`roc` score a statistic GeoTIFF at target
level: one score per injected square (the statistic at its centre) against
background squares of the same size that do not touch any target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.windows import Window

from truceline.model.timeutil import format_utc

__all__ = [
    "SyntheticStack",
    "Target",
    "background_squares",
    "roc",
    "target_scores",
    "write_sar_stack",
]


@dataclass(frozen=True)
class Target:
    """An injected change: a ``size`` x ``size`` square with top-left pixel (row, col)."""

    row: int
    col: int
    size: int

    @property
    def centre(self) -> tuple[int, int]:
        """Centre pixel (row, col)."""
        return self.row + self.size // 2, self.col + self.size // 2


@dataclass(frozen=True)
class SyntheticStack:
    """Files and truth of a synthetic stack.

    Attributes
    ----------
    pre, post
        The GeoTIFFs (one per acquisition; bands = polarisations).
    targets
        The changed squares.
    pre_times, post_times
        Acquisition times (also in each file's ``ACQUISITION_TIME`` tag), UTC.
    shape
        (rows, cols).
    """

    pre: tuple[Path, ...]
    post: tuple[Path, ...]
    targets: tuple[Target, ...]
    pre_times: tuple[datetime, ...]
    post_times: tuple[datetime, ...]
    shape: tuple[int, int]


def _targets(shape: tuple[int, int], size: int, spacing: int) -> tuple[Target, ...]:
    rows, cols = shape
    margin = spacing // 2
    return tuple(
        Target(r, c, size)
        for r in range(margin, rows - size - margin + 1, spacing)
        for c in range(margin, cols - size - margin + 1, spacing)
    )


def write_sar_stack(
    directory: Path,
    *,
    n_pre: int = 6,
    n_post: int = 6,
    shape: tuple[int, int] = (200, 200),
    looks: float = 4.4,
    change_db: float = 3.0,
    target_size: int = 3,
    spacing: int = 20,
    polarisations: Sequence[str] = ("VV",),
    seed: int = 0,
    crs: str = "EPSG:32636",
    origin: tuple[float, float] = (500_000.0, 5_300_000.0),
    pixel_m: float = 10.0,
    strip: int = 512,
    tile: int = 256,
    orbit: str | None = None,
    start: datetime = datetime(2026, 3, 1, 4, 0, tzinfo=UTC),
    revisit_s: float = 6 * 86400.0,
    name: str = "s1",
) -> SyntheticStack:
    """Write a synthetic SAR stack (linear power, float32, tiled GeoTIFFs).

    Parameters
    ----------
    directory
        Where the files go (``{name}_pre_00.tif`` ...).
    n_pre, n_post
        Acquisitions before and after the change.
    shape
        (rows, cols) in pixels.
    looks
        Equivalent number of looks L of the speckle (Sentinel-1 IW GRDH: 4.4).
    change_db
        Backscatter change of the targets in the post images, dB.
    target_size, spacing
        Target square side and the grid spacing of targets, pixels
        (``spacing=0``: no targets).
    polarisations
        Band descriptions, one band each (independent speckle per band).
    seed
        Random seed; the same arguments give the same files.
    crs, origin, pixel_m
        Grid: CRS, upper-left corner (CRS units) and pixel size (metres).
    strip, tile
        Rows written at a time (memory), GeoTIFF tile edge.
    orbit
        Written as the ``RELATIVE_ORBIT`` tag when given.
    start, revisit_s
        First acquisition (UTC) and the time between acquisitions, seconds.
    name
        File name prefix.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rows, cols = shape
    targets = _targets(shape, target_size, spacing) if spacing else ()
    times = [start + timedelta(seconds=revisit_s * i) for i in range(n_pre + n_post)]
    transform = Affine(pixel_m, 0.0, origin[0], 0.0, -pixel_m, origin[1])
    paths: list[Path] = []
    for index, when in enumerate(times):
        post = index >= n_pre
        period, number = ("post", index - n_pre) if post else ("pre", index)
        path = directory / f"{name}_{period}_{number:02d}.tif"
        profile = {
            "driver": "GTiff",
            "width": cols,
            "height": rows,
            "count": len(polarisations),
            "dtype": "float32",
            "crs": crs,
            "transform": transform,
            "tiled": True,
            "blockxsize": tile,
            "blockysize": tile,
        }
        with rasterio.open(path, "w", **profile) as dst:
            tags = {"ACQUISITION_TIME": format_utc(when)}
            if orbit is not None:
                tags["RELATIVE_ORBIT"] = orbit
            dst.update_tags(**tags)
            for band, pol in enumerate(polarisations, start=1):
                dst.set_band_description(band, pol)
                dst.set_band_unit(band, "linear")
            for row0 in range(0, rows, strip):
                height = min(strip, rows - row0)
                for band in range(1, len(polarisations) + 1):
                    mean = _texture(seed, band, row0, (height, cols))
                    rng = np.random.default_rng([seed, 1 + index, band, row0])
                    speckle = rng.gamma(looks, 1.0 / looks, size=(height, cols))
                    values = mean * speckle
                    if post:
                        _apply_targets(values, targets, row0, 10.0 ** (change_db / 10.0))
                    dst.write(values.astype(np.float32), band, window=Window(0, row0, cols, height))
        paths.append(path)
    return SyntheticStack(
        pre=tuple(paths[:n_pre]),
        post=tuple(paths[n_pre:]),
        targets=targets,
        pre_times=tuple(times[:n_pre]),
        post_times=tuple(times[n_pre:]),
        shape=shape,
    )


def _texture(seed: int, band: int, row0: int, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
    """Per-pixel mean backscatter (linear): 10^((-12 ± 2 dB)/10), fixed in time."""
    rng = np.random.default_rng([seed, 0, band, row0])
    return 10.0 ** ((-12.0 + 2.0 * rng.standard_normal(shape)) / 10.0)


def _apply_targets(
    values: npt.NDArray[np.float64], targets: Sequence[Target], row0: int, factor: float
) -> None:
    for target in targets:
        r0, r1 = target.row - row0, target.row + target.size - row0
        if r1 <= 0 or r0 >= values.shape[0]:
            continue
        rows = slice(max(r0, 0), min(r1, values.shape[0]))
        values[rows, target.col : target.col + target.size] *= factor


def background_squares(
    shape: tuple[int, int], targets: Sequence[Target], size: int, guard: int
) -> list[Target]:
    """Non-overlapping squares of ``size`` at least ``guard`` pixels from every target."""
    taken = np.zeros(shape, dtype=bool)
    for t in targets:
        taken[
            max(t.row - guard, 0) : t.row + t.size + guard,
            max(t.col - guard, 0) : t.col + t.size + guard,
        ] = True
    squares = []
    for r in range(guard, shape[0] - size - guard + 1, size):
        for c in range(guard, shape[1] - size - guard + 1, size):
            if not taken[r : r + size, c : c + size].any():
                squares.append(Target(r, c, size))
    return squares


def target_scores(
    statistic: Path, squares: Sequence[Target], *, absolute: bool = True
) -> npt.NDArray[np.float64]:
    """The statistic at each square's centre (``|x|`` for a two-sided detector)."""
    with rasterio.open(statistic) as src:
        data = src.read(1).astype(np.float64)
    rows = np.array([s.centre[0] for s in squares], dtype=np.int64)
    cols = np.array([s.centre[1] for s in squares], dtype=np.int64)
    scores = data[rows, cols]
    scores = np.where(np.isfinite(scores), scores, -np.inf)
    return np.abs(scores) if absolute else scores


def roc(
    positives: npt.ArrayLike, negatives: npt.ArrayLike
) -> tuple[float, list[tuple[float, float, float]]]:
    """Area under the ROC curve and its points ``(threshold, FPR, TPR)``.

    The AUC is the Mann–Whitney probability that a positive outscores a
    negative (ties count one half); the points are at every distinct score,
    from the strictest threshold down (the curve starts at (0, 0)).
    """
    pos = np.sort(np.asarray(positives, dtype=np.float64))
    neg = np.sort(np.asarray(negatives, dtype=np.float64))
    if pos.size == 0 or neg.size == 0:
        raise ValueError("ROC needs at least one positive and one negative score")
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    auc = float((below + 0.5 * ties).sum() / (pos.size * neg.size))
    thresholds = np.unique(np.concatenate([pos, neg]))[::-1]
    points = []
    for t in thresholds:
        tpr = float((pos >= t).mean())
        fpr = float((neg >= t).mean())
        points.append((float(t), fpr, tpr))
    return auc, points
