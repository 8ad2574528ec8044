"""Raster change detection on GeoTIFF stacks (``truceline satellite change``).

SAR backscatter: the log-ratio of a pair and the pixel-wise Welch t-test
(PWTT) of pre/post stacks, across polarisations and orbits. Optical: dNBR
(burn scars), NDVI loss and brightness change. Inputs are read lazily in
chunks (dask) and may be larger than memory; significant change becomes
``observations/1`` polygons with area, shape, kind, statistic and confidence. See
``docs/satellite-change.md``.

* :mod:`.io` — inspecting GeoTIFFs, grids, windowed and warped reads, times.
* :mod:`.images` — input images -> channels, masks, method choice.
* :mod:`.stats` — per-pixel statistics on numpy blocks.
* :mod:`.graph` — the lazy dask statistic.
* :mod:`.null` — scene histogram, null model, FDR threshold, q-values.
* :mod:`.vectorise` — thresholded regions -> polygons, merged across tiles.
* :mod:`.shape` — a region's length, width and core area from its moments.
* :mod:`.kinds` — a region's kind (sign, shape, burn signature), minimum sizes.
* :mod:`.regions` — regions -> observation features.
* :mod:`.outputs` — the GeoTIFF writer, GeoJSON features, atomic publication.
* :mod:`.change` — :func:`run_change`, the pipeline.
"""

from __future__ import annotations

from truceline.satellite.raster.change import DEFAULT_MIN_AREA_M2, ChangeRun, run_change
from truceline.satellite.raster.images import METHODS, ImageInput
from truceline.satellite.raster.io import ChangeConfigError, RasterInputError

__all__ = [
    "DEFAULT_MIN_AREA_M2",
    "METHODS",
    "ChangeConfigError",
    "ChangeRun",
    "ImageInput",
    "RasterInputError",
    "run_change",
]
