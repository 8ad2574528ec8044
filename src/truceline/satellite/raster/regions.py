"""Detected regions -> ``satellite`` observation features (size, shape, kind, confidence).

Each region (:class:`~truceline.satellite.raster.vectorise.Component`) is
mapped to WGS 84, measured (geodesic area; blur-corrected length, width and
core area from its second moments, :mod:`.shape`), given a kind and a size
check (:mod:`.kinds`), and written as one observation with its statistic,
p-value, q-value and confidence. Regions smaller than the minimum area, or too
small for any kind without a peak that stands alone, are counted and dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyproj import Transformer

from truceline.satellite.raster import kinds, vectorise
from truceline.satellite.raster.graph import StatisticSpec
from truceline.satellite.raster.io import Grid
from truceline.satellite.raster.null import FdrTable, NullModel
from truceline.satellite.raster.outputs import change_feature, dnbr_severity
from truceline.satellite.raster.shape import region_shape

__all__ = ["RegionRules", "RegionTally", "region_features"]


@dataclass(frozen=True)
class RegionRules:
    """How a run turns regions into observations.

    Attributes
    ----------
    method
        The run's method.
    spec
        Its statistic.
    kind
        ``auto`` (by :mod:`.kinds`) or the kind every observation gets.
    window
        Side of the spatial window, pixels.
    min_area_m2
        Smallest region kept, m² (geodesic).
    object_threshold
        Peak (absolute value for a two-sided statistic) at which a region
        stands alone whatever its size (:func:`.kinds.object_threshold`);
        infinite when the statistic has no calibrated null far out (optical).
    band_nulls
        Extra band name (``nir``, ``swir2``: band 2, 3, ... of the statistic
        file) -> the scene's distribution of its change.
    """

    method: str
    spec: StatisticSpec
    kind: str
    window: int
    min_area_m2: float
    object_threshold: float
    band_nulls: Mapping[str, NullModel] = field(default_factory=dict)


@dataclass
class RegionTally:
    """Regions dropped: below the minimum area, or too small for any kind."""

    below_min_area: int = 0
    below_min_pixels: int = 0


@dataclass(frozen=True)
class _Scene:
    grid: Grid
    table: FdrTable
    null: NullModel
    threshold: float | None
    sensor_id: str
    interval: tuple[str, str]
    counts: tuple[int, int]


def region_features(
    components: Sequence[vectorise.Component],
    rules: RegionRules,
    *,
    grid: Grid,
    table: FdrTable,
    null_model: NullModel,
    threshold: float | None,
    sensor_id: str,
    interval: tuple[str, str],
    counts: tuple[int, int],
) -> tuple[list[dict[str, Any]], RegionTally]:
    """Observation features of the regions that pass the size checks, in input order.

    Parameters
    ----------
    components
        The detected regions.
    rules
        Kind, window, size limits and band nulls of the run.
    grid
        The statistic's grid.
    table, null_model, threshold
        The scene's FDR table, null model and the threshold used.
    sensor_id
        Sensor id of the observations.
    interval
        ``(time, time_end)``: last pre and first post acquisition (UTC, ISO 8601).
    counts
        Number of pre and post images.
    """
    transformer = Transformer.from_crs(grid.crs.to_wkt(), "EPSG:4326", always_xy=True)
    scene = _Scene(grid, table, null_model, threshold, sensor_id, interval, counts)
    tally = RegionTally()
    features = []
    for component in components:
        feature = _feature(component, rules, scene, transformer, tally)
        if feature is not None:
            features.append(feature)
    return features, tally


def _feature(
    component: vectorise.Component,
    rules: RegionRules,
    scene: _Scene,
    transformer: Transformer,
    tally: RegionTally,
) -> dict[str, Any] | None:
    polygon = vectorise.to_lonlat(component, scene.grid, transformer)
    area_m2 = vectorise.shape_facts(polygon).area_m2
    if area_m2 < rules.min_area_m2:
        tally.below_min_area += 1
        return None
    shape = region_shape(component.geometry, rules.window // 2, scene.grid, transformer, area_m2)
    facts = vectorise.ShapeFacts(shape.core_area_m2, shape.length_m, shape.width_m)
    peak = component.sign * component.peak
    mean = component.sign * component.total / component.n_pixels
    # band_nulls is in the order of the extra bands (2, 3, ...) of the statistic file
    bands = {
        name: kinds.BandChange(component.aux_mean(i), null)
        for i, (name, null) in enumerate(rules.band_nulls.items())
    }
    burn_like = (
        "nir" in bands and "swir2" in bands and kinds.burn_signature(bands["nir"], bands["swir2"])
    )
    stands_alone = component.peak >= rules.object_threshold
    candidates = (
        [rules.kind]
        if rules.kind != "auto"
        else kinds.candidate_kinds(
            rules.method, component.sign, facts, burn_like=burn_like, mean_dnbr=mean
        )
    )
    kind = kinds.choose_kind(candidates, component.n_pixels, rules.window, stands_alone)
    if kind is None:
        tally.below_min_pixels += 1
        return None
    q = scene.table.q_value(peak)
    attributes: dict[str, Any] = {
        "method": rules.method,
        "area_m2": round(area_m2, 1),
        "core_area_m2": round(shape.core_area_m2, 1),
        "length_m": round(shape.length_m, 1),
        "width_m": round(shape.width_m, 1),
        "azimuth_deg": round(shape.azimuth_deg, 1),
        "n_pixels": component.n_pixels,
        "statistic": {
            "name": rules.spec.name,
            "unit": rules.spec.unit,
            "peak": round(peak, 6),
            "mean": round(mean, 6),
        },
        "direction": "increase" if component.sign > 0 else "decrease",
        "threshold": None if scene.threshold is None else round(scene.threshold, 6),
        "peak_stands_alone": bool(stands_alone),
        "p_value": float(f"{float(scene.null.p_value(peak)):.6g}"),
        "q_value": float(f"{q:.6g}"),
        "confidence": round(1.0 - q, 6),
        "images": {"pre": scene.counts[0], "post": scene.counts[1]},
    }
    if rules.method == "dnbr":
        attributes["severity"] = dnbr_severity(mean)
    if bands:
        attributes["band_change"] = {
            name: round(change.mean, 6) if math.isfinite(change.mean) else None
            for name, change in bands.items()
        }
        attributes["burn_signature"] = bool(burn_like)
    return change_feature(
        polygon,
        sensor_id=scene.sensor_id,
        kind=kind,
        time=scene.interval[0],
        time_end=scene.interval[1],
        attributes=attributes,
    )
