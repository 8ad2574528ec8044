"""Writing a change run: the statistic GeoTIFF, the observations GeoJSON, atomic publication.

* :class:`StatisticWriter` — the target of :func:`dask.array.store`: each
  computed chunk is written into a tiled, compressed float32 GeoTIFF as it
  arrives (windowed writes under a lock) and counted into the scene histogram,
  so the statistic is never whole in memory; :func:`write_statistic` runs it
  for the statistic and the band changes in one pass.
* :func:`change_feature` / :func:`sensor_feature` — ``observations/1`` GeoJSON
  features (``docs/observation-formats.md``).
* :func:`staging` — every output is first written into a hidden temporary
  directory next to ``out_dir``; only when all are complete are they moved
  into place (one ``os.replace`` each, or one rename of the directory). On any
  error the temporary directory is removed and ``out_dir`` is untouched.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import rasterio
import shapely
from rasterio.windows import Window
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from truceline.satellite.raster._dask import compute_store, total
from truceline.satellite.raster.graph import Layers, StatisticSpec
from truceline.satellite.raster.io import ChangeConfigError, Grid
from truceline.satellite.raster.null import Histogram

__all__ = [
    "StatisticWriter",
    "change_feature",
    "feature_collection",
    "sensor_feature",
    "staging",
    "tile_size",
    "write_statistic",
]

#: Half-range of the histograms of band changes ((post - pre) / (post + pre) is in [-1, 1]).
BAND_CHANGE_LIMIT = 1.0

#: Severity classes of dNBR (USGS FIREMON; Key & Benson 2006), lower bounds.
DNBR_SEVERITY = (
    (0.66, "high"),
    (0.44, "moderate-high"),
    (0.27, "moderate-low"),
    (0.10, "low"),
)


def tile_size(chunk: int) -> int:
    """The GeoTIFF tile edge used with ``chunk``: the largest of 512..16 dividing it.

    Raises
    ------
    ChangeConfigError
        When ``chunk`` is not a positive multiple of 16 (GeoTIFF tiles are).
    """
    if chunk < 16 or chunk % 16:
        raise ChangeConfigError(f"chunk must be a positive multiple of 16 pixels, got {chunk}")
    return next(size for size in (512, 256, 128, 64, 32, 16) if chunk % size == 0)


class StatisticWriter:
    """A ``__setitem__`` target writing float32 chunks into one band of an open GeoTIFF.

    Several writers (one per band) share the dataset and its lock: GDAL
    datasets are not safe for concurrent writes.
    """

    def __init__(
        self,
        dataset: Any,
        histogram: Histogram,
        band: int = 1,
        lock: threading.Lock | None = None,
    ) -> None:
        self._dataset = dataset
        self._histogram = histogram
        self._band = band
        self._lock = lock or threading.Lock()

    @staticmethod
    def open(
        path: Path,
        grid: Grid,
        tile: int,
        descriptions: Sequence[str],
        tags: Mapping[str, str],
    ) -> Any:
        """Create the (tiled, DEFLATE with the floating-point predictor, float32, NaN
        nodata) GeoTIFF on ``grid``, one band per description (band 1: the statistic)."""
        dataset = rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=grid.width,
            height=grid.height,
            count=len(descriptions),
            dtype="float32",
            crs=grid.crs,
            transform=grid.transform,
            nodata=float("nan"),
            tiled=True,
            blockxsize=tile,
            blockysize=tile,
            compress="deflate",
            zlevel=1,  # a z-score field is mostly noise: level 1 packs it as well, 2x faster
            predictor=3,
            # one band after another: band 1 (the statistic) reads back as fast as alone
            interleave="band",
            BIGTIFF="IF_SAFER",
        )
        for band, description in enumerate(descriptions, start=1):
            dataset.set_band_description(band, description)
        dataset.update_tags(**tags)
        return dataset

    def __setitem__(self, key: tuple[slice, slice], block: npt.NDArray[np.float32]) -> None:
        rows, cols = key
        counts = self._histogram.block_counts(block)
        window = Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
        with self._lock:
            self._dataset.write(np.asarray(block, dtype=np.float32), self._band, window=window)
            self._histogram.add(counts)


def write_statistic(
    path: Path,
    layers: Layers,
    spec: StatisticSpec,
    grid: Grid,
    tile: int,
    tags: Mapping[str, str],
    *,
    masked: Sequence[da.Array],
    water: Sequence[da.Array],
    workers: int,
) -> tuple[float, list[Histogram], tuple[list[Any], list[Any]]]:
    """Compute and write the statistic (band 1) and band changes (2, ...) in one pass.

    Parameters
    ----------
    path
        The GeoTIFF to write.
    layers
        The lazy statistic and band changes.
    spec
        The statistic's name and histogram range.
    grid, tile, tags
        Its grid, tile edge (pixels) and metadata tags.
    masked, water
        Per-image cloud flags and water flags, counted in the same pass.
    workers
        Threads.

    Returns
    -------
    tuple
        The time it finished (``time.perf_counter``), the histogram of each
        band, and the masked counts (per image) and the water counts.
    """
    histograms = [Histogram(spec.histogram_limit)]
    histograms += [Histogram(BAND_CHANGE_LIMIT) for _ in layers.aux]
    descriptions = [spec.name, *(f"{band}_change" for band in layers.aux)]
    dataset = StatisticWriter.open(path, grid, tile, descriptions, tags)
    try:
        lock = threading.Lock()
        writers = [
            StatisticWriter(dataset, h, band=i, lock=lock)
            for i, h in enumerate(histograms, start=1)
        ]
        counts = compute_store(
            [layers.statistic, *layers.aux.values()],
            writers,
            [total(flags) for flags in (*masked, *water)],
            workers,
        )
    finally:
        dataset.close()
    return time.perf_counter(), histograms, (counts[: len(masked)], counts[len(masked) :])


def _exterior(polygon: Polygon) -> list[list[float]]:
    """The outer ring, counter-clockwise (RFC 7946), as ``[lon, lat]`` pairs."""
    # normalize: a canonical start vertex, so the output does not depend on how
    # the polygon was assembled (e.g. from fragments of several tiles).
    ring = orient(shapely.normalize(Polygon(polygon.exterior)), 1.0).exterior
    return [[float(x), float(y)] for x, y in ring.coords]


def dnbr_severity(mean_dnbr: float) -> str:
    """USGS burn-severity class of a mean dNBR (``unburned`` below 0.1)."""
    for bound, name in DNBR_SEVERITY:
        if mean_dnbr >= bound:
            return name
    return "unburned"


def change_feature(
    polygon: Polygon,
    *,
    sensor_id: str,
    kind: str,
    time: str,
    time_end: str,
    attributes: Mapping[str, Any],
) -> dict[str, Any]:
    """One ``satellite`` observation with a Polygon footprint over ``[time, time_end]``."""
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [_exterior(polygon)]},
        "properties": {
            "record": "observation",
            "sensor_id": sensor_id,
            "modality": "satellite",
            "kind": kind,
            "time": time,
            "time_end": time_end,
            "attributes": dict(attributes),
        },
    }


def sensor_feature(sensor_id: str, reliability: float) -> dict[str, Any]:
    """The ``sensor`` record of the change detector, so the file ingests on its own.

    Parameters
    ----------
    sensor_id
        Its id.
    reliability
        Prior probability that one of its change observations is real, in (0, 1).
    """
    return {
        "type": "Feature",
        "geometry": None,
        "properties": {
            "record": "sensor",
            "id": sensor_id,
            "modality": "satellite",
            "reliability": reliability,
        },
    }


def feature_collection(features: list[dict[str, Any]]) -> str:
    """``observations/1`` text: the marker before ``features`` so the ingest probe sees it."""
    document = {"type": "FeatureCollection", "truceline": "observations/1", "features": features}
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


@contextmanager
def staging(out_dir: Path) -> Iterator[Path]:
    """A temporary directory whose files are moved into ``out_dir`` when the block succeeds.

    Raises
    ------
    ChangeConfigError
        When ``out_dir`` exists and is not a directory.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ChangeConfigError(f"{out_dir}: exists and is not a directory")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    temp.chmod(0o755)  # mkdtemp makes it private; it may become out_dir itself
    try:
        yield temp
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    try:
        if not out_dir.exists():
            temp.replace(out_dir)
            return
        for item in sorted(temp.iterdir()):
            item.replace(out_dir / item.name)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
