"""``run_change``: raster change detection from GeoTIFF stacks to observations.

The run, in two passes over bounded memory:

1. **Statistic.** Inputs are inspected (CRS, georeferencing, bands), put on
   one grid (the first pre image's, or ``crs``/``resolution``; reprojected
   window by window, or refused with ``reproject=False``), masked, and turned
   into the method's per-pixel statistic by dask, chunk by chunk. Each chunk is
   written to ``statistic.tif`` as soon as it is computed and counted into the
   scene histogram.
2. **Vectorise.** The histogram gives the null model and the default
   Benjamini–Hochberg threshold; ``statistic.tif`` is read back tile by tile,
   thresholded, and its connected regions become polygons (merged across tile
   edges) with area, statistic, confidence and a kind.

Outputs (``out_dir``): ``statistic.tif``, ``observations.geojson``
(``observations/1``: a ``sensor`` record, then one ``satellite`` Polygon
observation per change over ``[last pre acquisition, first post
acquisition]``) and ``summary.json``. They appear together or not at all.
See ``docs/satellite-change.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time as timer
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from truceline.model.timeutil import format_utc
from truceline.model.vocab import ACTIVITY_KINDS
from truceline.satellite.raster import graph, images, kinds, vectorise
from truceline.satellite.raster.images import Image, ImageInput
from truceline.satellite.raster.io import ChangeConfigError, RasterInputError, target_grid
from truceline.satellite.raster.null import FdrTable, fit_null, reliability_prior
from truceline.satellite.raster.outputs import (
    feature_collection,
    sensor_feature,
    staging,
    tile_size,
    write_statistic,
)
from truceline.satellite.raster.regions import RegionRules, region_features
from truceline.satellite.raster.stats import log_ratio_sigma

__all__ = ["DEFAULT_MIN_AREA_M2", "ChangeRun", "run_change"]

#: Smallest polygon kept by default, m²: one 10 m pixel (Sentinel-1/-2).
DEFAULT_MIN_AREA_M2 = 100.0
#: Equivalent number of looks of Sentinel-1 IW GRDH products (ESA product definition).
DEFAULT_LOOKS = 4.4
STATISTIC_FILE = "statistic.tif"
OBSERVATIONS_FILE = "observations.geojson"
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ChangeRun:
    """What a change run wrote.

    Attributes
    ----------
    out_dir
        The output directory.
    statistic_path
        GeoTIFF of the per-pixel statistic (float32, NaN = no data) on the run's grid.
    observations_path
        ``observations/1`` GeoJSON: the sensor record and one Polygon observation per change.
    n_changes
        Number of change observations.
    method
        ``log_ratio``, ``pwtt``, ``dnbr``, ``ndvi`` or ``brightness``.
    summary
        Pixels processed, valid and masked fractions, threshold, null model,
        grid, acquisition times, timings (also in ``summary.json``).
    """

    out_dir: Path
    statistic_path: Path
    observations_path: Path
    n_changes: int
    method: str
    summary: dict[str, Any]


def _times(
    images_: Sequence[Image], explicit: Sequence[datetime] | None, period: str
) -> list[datetime]:
    if explicit is not None:
        if len(explicit) != len(images_):
            raise ChangeConfigError(
                f"{len(explicit)} {period} time(s) given for {len(images_)} {period} image(s)"
            )
        for value in explicit:
            if value.tzinfo is None:
                raise ChangeConfigError(f"{period} time {value.isoformat()} has no UTC offset")
        return list(explicit)
    found = []
    for image in images_:
        if image.time is None:
            raise RasterInputError(
                "has no acquisition time (tag ACQUISITION_TIME or TIFFTAG_DATETIME); "
                f"give the {period} times explicitly",
                file=image.label,
            )
        found.append(image.time)
    return found


def _check_options(
    method: str, kind: str, window: int, combine: str, null: str, fdr: float
) -> None:
    if kind != "auto" and kind not in ACTIVITY_KINDS:
        raise ChangeConfigError(
            f"unknown kind {kind!r}; expected auto or one of {', '.join(sorted(ACTIVITY_KINDS))}"
        )
    if window < 1 or window % 2 == 0:
        raise ChangeConfigError(f"window must be an odd number of pixels >= 1, got {window}")
    if combine not in ("max", "mean"):
        raise ChangeConfigError(f"unknown combination {combine!r}; expected max or mean")
    if null not in ("empirical", "theoretical"):
        raise ChangeConfigError(f"unknown null {null!r}; expected empirical or theoretical")
    if null == "theoretical" and method not in ("log_ratio", "pwtt"):
        raise ChangeConfigError(f"{method} has no theoretical null; use the empirical one")
    if not 0.0 < fdr < 1.0:
        raise ChangeConfigError(f"fdr must be in (0, 1), got {fdr}")


def _check_values(
    units: str,
    threshold: float | None,
    sensor_id: str,
    workers: int | None,
    reliability: float | None,
) -> None:
    if reliability is not None and not 0.0 < reliability < 1.0:
        raise ChangeConfigError(f"reliability must be in (0, 1), got {reliability}")
    if units not in ("auto", "db", "linear"):
        raise ChangeConfigError(f"unknown units {units!r}; expected auto, db or linear")
    if threshold is not None and not (math.isfinite(threshold) and threshold > 0):
        raise ChangeConfigError(f"threshold must be a positive number, got {threshold}")
    if not sensor_id.strip():
        raise ChangeConfigError("sensor id is empty")
    if workers is not None and workers < 1:
        raise ChangeConfigError(f"workers must be at least 1, got {workers}")


def _threshold(
    table: FdrTable, spec: graph.StatisticSpec, given: float | None, fdr: float
) -> tuple[float | None, str]:
    if given is not None:
        return given, "given"
    found = table.threshold(fdr)
    if found is None:
        return None, f"no pixel passes the Benjamini-Hochberg test at FDR {fdr}"
    if spec.floor is not None and found < spec.floor:
        return spec.floor, f"floor {spec.floor} {spec.unit} (Benjamini-Hochberg gave {found:.4g})"
    return found, f"Benjamini-Hochberg at FDR {fdr}"


def _statistic(
    method: str,
    pre: Sequence[Image],
    post: Sequence[Image],
    *,
    units: str,
    looks: float,
    combine: str,
    window: int,
) -> tuple[graph.Layers, dict[str, Any]]:
    if method in ("log_ratio", "pwtt"):
        if not looks > 0:
            raise ChangeConfigError(f"looks must be positive, got {looks}")
        per_image = [
            {name: _channel_units(image, name, units) for name in image.channels}
            for image in (*pre, *post)
        ]
        stat = graph.sar_statistic(
            pre, post, per_image, method=method, looks=looks, combine=combine, window=window
        )
        used = sorted({unit for image in per_image for unit in image.values()})
        facts: dict[str, Any] = {"input_units": used, "combine": combine}
        if method == "log_ratio":
            facts.update(looks=looks, log_ratio_sigma_db=log_ratio_sigma(looks) * 10 / math.log(10))
        return graph.Layers(stat, {}, None), facts
    return graph.optical_statistic(pre, post, method=method, window=window), {}


def _channel_units(image: Image, channel: str, units: str) -> str:
    """dB or linear for one SAR channel (auto: from the band's unit or its values)."""
    info, band = image.sources[channel]
    return images.sar_units(info, band, units)


def run_change(
    pre: Sequence[ImageInput],
    post: Sequence[ImageInput],
    out_dir: Path,
    *,
    method: str = "auto",
    sensor_id: str = "satellite-change",
    kind: str = "auto",
    threshold: float | None = None,
    bands: Mapping[str, int | str] | None = None,
    masks_pre: Sequence[Path] = (),
    masks_post: Sequence[Path] = (),
    water_mask: Path | None = None,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    chunk: int = 1024,
    pre_times: Sequence[datetime] | None = None,
    post_times: Sequence[datetime] | None = None,
    window: int | None = None,
    combine: str = "max",
    looks: float = DEFAULT_LOOKS,
    units: str = "auto",
    fdr: float = 0.05,
    null: str = "empirical",
    reliability: float | None = None,
    reproject: bool = True,
    crs: str | None = None,
    resolution: float | None = None,
    workers: int | None = None,
) -> ChangeRun:
    """Detect change between pre- and post-event GeoTIFF stacks and write observations.

    Parameters
    ----------
    pre, post
        Images before and after: a GeoTIFF path each, or a mapping of band
        role to single-band GeoTIFF (``{"nir": ..., "swir2": ...}``).
    out_dir
        Output directory (created; files of an earlier run are replaced).
    method
        ``auto``, ``log_ratio``, ``pwtt``, ``dnbr``, ``ndvi`` or ``brightness``.
    sensor_id
        Sensor id of the observations (a sensor record is written too).
    kind
        Observation kind, or ``auto`` (by the sign, shape and, for dNBR, the
        burn signature of each change; see :mod:`.kinds`).
    threshold
        Detection threshold in the statistic's unit (absolute value for
        two-sided statistics); default: Benjamini–Hochberg at ``fdr``.
    bands
        Channel or role -> 1-based band index or band description (optical:
        an optional ``green`` band turns on the NDWI water test).
    masks_pre, masks_post
        One mask raster per image (non-zero = cloud/shadow/bad: excluded).
    water_mask
        A raster whose non-zero pixels are water, excluded from every image
        (its nodata and the area outside it are not water).
    min_area_m2
        Smallest polygon kept, m² (geodesic).
    chunk
        Chunk edge in pixels (a multiple of 16; memory grows with its square).
    pre_times, post_times
        Acquisition times (UTC-aware), overriding the files' tags.
    window
        Odd side in pixels of the spatial window (SAR: Stouffer's Z,
        default 3; optical: focal mean, default 1 = none).
    combine
        SAR channels (polarisations x orbits): ``max`` (Šidák) or ``mean`` (Stouffer).
    looks
        Equivalent number of looks for the log-ratio's speckle variance.
    units
        SAR input units: ``auto``, ``db`` or ``linear``.
    fdr
        False-discovery rate of the default threshold (and level of the
        object test for small regions).
    null
        ``empirical`` (scene-scaled) or ``theoretical`` (N(0, 1), SAR only).
    reliability
        Prior probability that one of the run's observations is real, in
        (0, 1), written on the sensor record; default ``1 - fdr`` with the
        Benjamini–Hochberg threshold, ``1 - q(threshold)`` with a given one.
    reproject
        Warp inputs on another grid onto the target grid; False refuses them.
    crs, resolution
        Target grid CRS and pixel size (its units); default the first pre image's grid.
    workers
        Threads for the computation (default: all cores).

    Raises
    ------
    ChangeConfigError
        For contradictory or unknown options (a usage error).
    RasterInputError
        For an unusable input file (named), e.g. no CRS or off-grid without reprojection.
    """
    started = timer.perf_counter()
    pre, post = list(pre), list(post)
    if not pre or not post:
        raise ChangeConfigError(
            f"need pre and post images, got {len(pre)} pre and {len(post)} post"
        )
    for name, masks, entries in (("pre", masks_pre, pre), ("post", masks_post, post)):
        if masks and len(masks) != len(entries):
            raise ChangeConfigError(
                f"{len(masks)} {name} mask(s) for {len(entries)} {name} image(s); "
                "give one mask per image or none"
            )
    tile = tile_size(chunk)
    _check_values(units, threshold, sensor_id, workers, reliability)
    extra_masks = [Path(water_mask)] if water_mask is not None else []
    infos = images.inspect_all([*pre, *post], [*masks_pre, *masks_post, *extra_masks])
    chosen = images.choose_method(method, pre, post, infos, bands)
    spec = graph.SPECS[chosen]
    size = window if window is not None else (3 if chosen in ("log_ratio", "pwtt") else 1)
    _check_options(chosen, kind, size, combine, null, fdr)
    grid = target_grid(infos[images.first_path(pre[0])], crs, resolution)
    pre_images, post_images = (
        images.load_images(
            entries,
            list(masks),
            period=period,
            method=chosen,
            bands=bands,
            infos=infos,
            grid=grid,
            reproject=reproject,
            chunk=chunk,
        )
        for entries, masks, period in ((pre, masks_pre, "pre"), (post, masks_post, "post"))
    )
    water = None
    if water_mask is not None:
        water = images.water_flags(water_mask, infos, grid, reproject=reproject, chunk=chunk)
        pre_images = [_without(image, water) for image in pre_images]
        post_images = [_without(image, water) for image in post_images]
    t_pre = _times(pre_images, pre_times, "pre")
    t_post = _times(post_images, post_times, "post")
    if min(t_post) < max(t_pre):
        raise ChangeConfigError(
            f"the first post acquisition ({format_utc(min(t_post))}) precedes the last pre "
            f"acquisition ({format_utc(max(t_pre))})"
        )
    layers, facts = _statistic(
        chosen, pre_images, post_images, units=units, looks=looks, combine=combine, window=size
    )
    with staging(Path(out_dir)) as temp:
        stat_path = temp / STATISTIC_FILE
        computed_at, histograms, reductions = write_statistic(
            stat_path,
            layers,
            spec,
            grid,
            tile,
            {"METHOD": chosen, "UNIT": spec.unit, "WINDOW_PX": str(size)},
            masked=[i.flagged for i in (*pre_images, *post_images) if i.flagged is not None],
            water=[w for w in (water, layers.water) if w is not None],
            workers=workers or os.cpu_count() or 1,
        )
        histogram = histograms[0]
        masked_counts, water_counts = reductions
        null_model = fit_null(histogram, two_sided=spec.two_sided, empirical=null == "empirical")
        band_nulls = {
            band: fit_null(h, two_sided=False, empirical=True)
            for band, h in zip(layers.aux, histograms[1:], strict=True)
        }
        table = FdrTable(histogram, null_model)
        used, source = _threshold(table, spec, threshold, fdr)
        rules = RegionRules(
            method=chosen,
            spec=spec,
            kind=kind,
            window=size,
            min_area_m2=min_area_m2,
            # only z-scores have a null calibrated far enough out for the object test
            object_threshold=(
                kinds.object_threshold(null_model, fdr, histogram.total, size)
                if spec.unit == "z"
                else math.inf
            ),
            band_nulls=band_nulls,
        )
        components = (
            []
            if used is None
            else vectorise.find_components(
                stat_path, used, two_sided=spec.two_sided, tile=chunk, aux_bands=len(layers.aux)
            )
        )
        interval = (format_utc(max(t_pre)), format_utc(min(t_post)))
        features, tally = region_features(
            components,
            rules,
            grid=grid,
            table=table,
            null_model=null_model,
            threshold=used,
            sensor_id=sensor_id,
            interval=interval,
            counts=(len(pre_images), len(post_images)),
        )
        prior, prior_source = reliability_prior(reliability, table, used, source, fdr)
        (temp / OBSERVATIONS_FILE).write_text(
            feature_collection([sensor_feature(sensor_id, prior), *features]), encoding="utf-8"
        )
        finished = timer.perf_counter()
        pixels = grid.width * grid.height
        n_images = len(pre_images) + len(post_images)
        summary: dict[str, Any] = {
            "method": chosen,
            "statistic": {"name": spec.name, "unit": spec.unit, "two_sided": spec.two_sided},
            "window_px": size,
            "n_changes": len(features),
            "n_regions_below_min_area": tally.below_min_area,
            "n_regions_below_min_pixels": tally.below_min_pixels,
            "min_area_m2": min_area_m2,
            "min_pixels": {k: kinds.min_pixels(k, size) for k in sorted(kinds.MIN_PIXELS)},
            "object_threshold": (
                rules.object_threshold if math.isfinite(rules.object_threshold) else None
            ),
            "threshold": used,
            "threshold_source": source,
            "fdr": fdr,
            "reliability": prior,
            "reliability_source": prior_source,
            "null": null_model.describe(),
            "band_change_null": {band: n.describe() for band, n in band_nulls.items()},
            "grid": grid.describe(),
            "pixels": pixels,
            "valid_pixels": histogram.total,
            "valid_fraction": histogram.total / pixels if pixels else 0.0,
            "masked_fraction": (sum(int(c) for c in masked_counts) / (pixels * n_images)),
            "masked_fraction_per_image": [int(c) / pixels for c in masked_counts],
            "water_fraction": sum(int(c) for c in water_counts) / pixels if pixels else 0.0,
            "water_from": [
                name
                for name, on in (("mask", water is not None), ("ndwi", layers.water is not None))
                if on
            ],
            "time": interval[0],
            "time_end": interval[1],
            "pre": [_describe(img, t) for img, t in zip(pre_images, t_pre, strict=True)],
            "post": [_describe(img, t) for img, t in zip(post_images, t_post, strict=True)],
            "times_from": "arguments" if pre_times is not None else "tags",
            "chunk": chunk,
            "workers": workers or os.cpu_count() or 1,
            "timings_s": {
                "statistic": round(computed_at - started, 3),
                "vectorise": round(finished - computed_at, 3),
                "total": round(finished - started, 3),
            },
            **facts,
        }
        (temp / SUMMARY_FILE).write_text(
            json.dumps(summary, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8"
        )
    out = Path(out_dir)
    return ChangeRun(
        out_dir=out,
        statistic_path=out / STATISTIC_FILE,
        observations_path=out / OBSERVATIONS_FILE,
        n_changes=len(features),
        method=chosen,
        summary=summary,
    )


def _without(image: Image, water: da.Array) -> Image:
    """``image`` with the water pixels left out (NaN) of every channel."""
    channels = {
        name: da.where(water, np.float32(np.nan), array) for name, array in image.channels.items()
    }
    return dataclasses.replace(image, channels=channels)


def _describe(image: Image, time: datetime) -> dict[str, Any]:
    return {
        "image": image.label,
        "time": format_utc(time),
        "time_tag": image.time_source,
        "orbit": image.orbit,
        "files": [str(p) for p in image.files],
        "reprojected": [str(p) for p in image.warped],
    }
