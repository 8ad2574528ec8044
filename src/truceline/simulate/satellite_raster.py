"""Satellite image stacks: Sentinel-1-like SAR and Sentinel-2-like optical GeoTIFFs.

A 512 x 512 pixel square (10 m pixels, about 5 km across) on a north-up UTM
grid is placed across the contact line where the scenario's shelling landed
closest to it, so that the stacks show the disengagement zone and as many real
impact craters as the square can hold. Its land cover comes from
:mod:`truceline.simulate.satellite_landcover`. Written::

    satellite-stacks/sar/S1A_IW_GRDH_VV_<YYYYMMDDTHHMMSS>_R<orbit>.tif   2 x 10 acquisitions
    satellite-stacks/optical/S2B_MSIL2A_<YYYYMMDDTHHMMSS>.tif           before and after
    satellite-stacks/optical/S2B_MSIL2A_<...>_CLOUDMASK.tif             of the cloudy one

**SAR**: calibrated VV backscatter sigma0 as linear power (float32), one file
per acquisition, from two relative orbits of 12-day repeat (:data:`SAR_ORBITS`:
ascending about 15:39 UTC, descending about 03:43 UTC; GeoTIFF tags
``RELATIVE_ORBIT`` and ``PASS``), each with five acquisitions before the
scenario's start (the last one the day before) and five after. The other
viewing geometry shifts every field by 0.7 dB and every change's contrast by
0.5 dB. Each date varies every field by 0.35 dB (soil moisture; a pond by
2.5 dB, wind) and the whole scene by 0.15 dB (calibration), and multiplies
every pixel by independent unit-mean gamma speckle of :data:`SAR_LOOKS` looks
(the equivalent number of looks of Sentinel-1 IW GRD high resolution).

**Optical**: bottom-of-atmosphere reflectance (float32) in three bands (band
descriptions) ``B3`` (green), ``B8`` (NIR) and ``B12`` (SWIR2): NBR for burns,
NDWI for water. One scene 1–4 days before the start and one 0–3 days
after the end (about 08:45 UTC), each with a 1.5 % per-band gain error and
noise of 0.0015 reflectance plus 1 % of the signal. One of them has a
cumulus cloud with its shadow; its mask (1 = cloud, 2 = cloud shadow, 0 =
clear, dilated by two pixels) is written beside it.

Injected changes, visible in every acquisition after they happened:

* **craters** where the scenario's shells landed inside the square
  (:attr:`truceline.simulate.world.World.craters`), sized by the weapon
  (:data:`~truceline.simulate.satellite_scene.CRATER_DIAMETER_M`: 5–10 m
  across for 122–155 mm rounds, 2–7 m for mortar bombs, 2.5–4.5 m for guns
  under 100 mm), their ejecta apron 2–3 times that (the polygon; 4–30 m for
  shells: one to a few pixels), SAR +3 to +6 dB over the apron, fresh soil in
  the optical bands. Near the line most are mortar craters, about one pixel
  each;
* **earthworks**: a trench line 150–400 m long and 12–20 m wide (trench and
  spoil berm) dug at night inside the disengagement zone, parallel to the line,
  SAR +5 to +7 dB (new roughness and the berm's corner reflection against
  smooth fields), spoil in the optical bands. A truth event
  (``earthworks-1``) that breaks the demo agreement's ``no-fortification``
  rule;
* a **burn scar**: a stubble burn of 2–12 ha (a benign ``thermal_anomaly``
  truth event whose fire FIRMS sees too): char and ash multiply green by
  0.7–0.5, NIR by 0.6–0.4 and SWIR2 by 1.2–1.6 with the burn's severity
  (:data:`~truceline.simulate.satellite_scene.BURN_FACTORS`), which lowers NBR
  by about 0.3–0.6 (the truth's ``dnbr``, computed from the bands); SAR -1 dB;
* a **ploughed field** (benign): one stubble field ploughed, SAR +2.5 to
  +4 dB over the whole rectangle, optical dNBR about 0.2.

Where the square goes and what changes when is planned by
:func:`~truceline.simulate.satellite_scene.plan_stacks` (re-exported here);
every change, with its polygon, time, acquisition intervals and whether it
breaks a rule, goes to ``truth.json`` under ``satellite_stacks`` (see
:func:`write_stacks`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import rasterio
import shapely
from scipy import ndimage
from shapely.geometry import Point, Polygon
from shapely.geometry.polygon import orient

from truceline.model.timeutil import from_epoch
from truceline.simulate.satellite_landcover import StackGrid, coverage
from truceline.simulate.satellite_scene import (
    PIXEL_M,
    SAR_ORBITS,
    SIZE_PX,
    StackChange,
    StackPlan,
    plan_stacks,
)
from truceline.simulate.truth import judge
from truceline.simulate.world import World
from truceline.simulate.writers import iso_time

__all__ = [
    "OPTICAL_BANDS",
    "PIXEL_M",
    "SAR_LOOKS",
    "SAR_ORBITS",
    "SIZE_PX",
    "STACK_DIR",
    "StackChange",
    "StackOutput",
    "StackPlan",
    "plan_stacks",
    "write_stacks",
]

FloatArray = npt.NDArray[np.float64]

STACK_DIR: Final = "satellite-stacks"
#: Equivalent number of looks of the SAR speckle (Sentinel-1 IW GRDH).
SAR_LOOKS: Final = 4.4
#: Optical band names, in file band order.
OPTICAL_BANDS: Final = ("B3", "B8", "B12")
#: Reflectance of the top of a thick cumulus (spectrally flat in the visible and NIR).
_CLOUD: Final = (0.45, 0.45, 0.28)
#: Optical noise: a floor (noise-equivalent reflectance) and a share of the signal.
_NOISE_FLOOR: Final = 0.0015
_NOISE_SHARE: Final = 0.01
#: Sun azimuth and elevation at the optical overpass in November, degrees.
_SUN_AZIMUTH_DEG: Final = 165.0
_SUN_ELEVATION_DEG: Final = 22.0


@dataclass(frozen=True, slots=True)
class StackOutput:
    """What :func:`write_stacks` wrote: files, counts and the ``satellite_stacks`` truth."""

    files: list[Path]
    counts: dict[str, int]
    truth: dict[str, Any]


# -- rendering --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Footprint:
    change: StackChange
    rows: npt.NDArray[np.int32]
    cols: npt.NDArray[np.int32]
    fraction: FloatArray


def _footprints(plan: StackPlan) -> list[_Footprint]:
    return [_Footprint(c, *coverage(c.polygon, plan.grid)) for c in plan.changes]


def _sar_image(
    plan: StackPlan,
    marks: Sequence[_Footprint],
    look: tuple[FloatArray, FloatArray],
    time: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    """One acquisition; ``look`` is the orbit's (per-pixel offset dB, per-change gain dB)."""
    cover = plan.cover
    n_units = len(cover.unit_class)
    spread = np.where(np.asarray(cover.unit_class) == 0, 2.5, 0.35)
    mean_db = cover.sar_db + look[0] + (rng.normal(0.0, 1.0, n_units) * spread)[cover.unit]
    power = 10.0 ** ((mean_db + rng.normal(0.0, 0.15)) / 10.0)
    for mark, gain_db in zip(marks, look[1], strict=True):
        if mark.change.time_end < time:
            gain = 10.0 ** (gain_db / 10.0)
            power[mark.rows, mark.cols] *= 1.0 - mark.fraction + mark.fraction * gain
    speckle = rng.gamma(SAR_LOOKS, 1.0 / SAR_LOOKS, power.shape)
    return (power * speckle).astype(np.float32)


def _cloud(plan: StackPlan, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Opacity (0–1) of a cumulus cloud and of its shadow per pixel, away from the changes.

    The shadow falls ``height / tan(sun elevation)`` from the cloud, away from the sun.
    """
    grid = plan.grid
    west, south, east_edge, north_edge = grid.bounds
    away = math.radians(_SUN_AZIMUTH_DEG + 180.0)
    keep_clear = [c.polygon.buffer(150.0) for c in plan.changes if c.kind != "crater"]
    for _ in range(200):
        centre = (
            rng.uniform(west + 600.0, east_edge - 600.0),
            rng.uniform(south + 600.0, north_edge - 600.0),
        )
        axes = (rng.uniform(250.0, 500.0), rng.uniform(200.0, 400.0))
        reach = rng.uniform(600.0, 1000.0) / math.tan(math.radians(_SUN_ELEVATION_DEG))
        shade = (centre[0] + reach * math.sin(away), centre[1] + reach * math.cos(away))
        shapes = [
            shapely.affinity.scale(Point(*where).buffer(1.0), *axes) for where in (centre, shade)
        ]
        if not any(shape.intersects(other) for shape in shapes for other in keep_clear):
            break
    east, north = grid.centres()

    def opacity(where: tuple[float, float]) -> FloatArray:
        radius2 = ((east - where[0]) / axes[0]) ** 2 + ((north - where[1]) / axes[1]) ** 2
        return np.clip((1.0 - radius2) * 2.0, 0.0, 1.0)

    return opacity(centre), opacity(shade)


def _optical_image(
    plan: StackPlan, marks: Sequence[_Footprint], time: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    reflectance = plan.cover.optical.copy()
    for mark in marks:
        if mark.change.time_end >= time:
            continue
        before = reflectance[:, mark.rows, mark.cols]
        if mark.change.burn_factors is not None:
            after = before * np.asarray(mark.change.burn_factors, dtype=float)[:, None]
        else:
            after = np.asarray(mark.change.optical, dtype=float)[:, None] * np.ones_like(before)
        reflectance[:, mark.rows, mark.cols] = before + mark.fraction * (after - before)
    gain = 1.0 + rng.normal(0.0, 0.015, len(OPTICAL_BANDS))
    sigma = np.hypot(_NOISE_FLOOR, _NOISE_SHARE * reflectance)
    return reflectance * gain[:, None, None] + rng.normal(0.0, 1.0, reflectance.shape) * sigma


def _clouded(image: FloatArray, cloud: FloatArray, shadow: FloatArray) -> FloatArray:
    shaded = image * (1.0 - 0.6 * shadow)
    top = np.asarray(_CLOUD, dtype=float)[:, None, None]
    result: FloatArray = shaded + cloud * (top - shaded)
    return result


def _mask(cloud: FloatArray, shadow: FloatArray) -> npt.NDArray[np.uint8]:
    """1 = cloud, 2 = cloud shadow, 0 = clear; both grown by two pixels."""
    grow = np.ones((5, 5), dtype=bool)
    mask = np.zeros(cloud.shape, dtype=np.uint8)
    mask[ndimage.binary_dilation(shadow > 0.02, grow)] = 2
    mask[ndimage.binary_dilation(cloud > 0.02, grow)] = 1
    return mask


# -- files ------------------------------------------------------------------------------


def _stamp(time: float) -> str:
    return f"{from_epoch(time):%Y%m%dT%H%M%S}"


def _time_tags(time: float) -> dict[str, str]:
    """``ACQUISITION_TIME`` (ISO 8601 UTC) and ``TIFFTAG_DATETIME`` (TIFF's own layout)."""
    return {
        "ACQUISITION_TIME": iso_time(time),
        "TIFFTAG_DATETIME": f"{from_epoch(time):%Y:%m:%d %H:%M:%S}",
    }


def _write_geotiff(
    path: Path,
    data: npt.NDArray[Any],
    grid: StackGrid,
    tags: dict[str, str],
    descriptions: Sequence[str],
    units: Sequence[str],
) -> Path:
    """Write ``data`` (bands, rows, cols) as a tiled, deflated GeoTIFF via a temporary file."""
    floating = np.issubdtype(data.dtype, np.floating)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": grid.size_px,
        "height": grid.size_px,
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": grid.crs,
        "transform": grid.transform,
        "compress": "deflate",
        "predictor": 3 if floating else 2,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with rasterio.open(partial, "w", **profile) as dst:
        dst.write(data)
        dst.update_tags(**tags)
        for band, (text, unit) in enumerate(zip(descriptions, units, strict=True), start=1):
            dst.set_band_description(band, text)
            dst.set_band_unit(band, unit)
    partial.replace(path)
    return path


def _geojson_polygon(grid: StackGrid, polygon: Polygon) -> dict[str, Any]:
    east, north = polygon.exterior.xy
    lon, lat = grid.to_lonlat(np.asarray(east), np.asarray(north))
    ring = orient(Polygon(np.column_stack([lon, lat])), sign=1.0).exterior.coords
    return {"type": "Polygon", "coordinates": [[[round(a, 7), round(b, 7)] for a, b in ring]]}


def _interval(times: Sequence[float], change: StackChange) -> list[str] | None:
    """Last acquisition before the change and first after it (ISO), if both exist."""
    before = [t for t in times if t <= change.time]
    after = [t for t in times if t > change.time_end]
    if not before or not after:
        return None
    return [iso_time(max(before)), iso_time(min(after))]


def _change_record(world: World, plan: StackPlan, change: StackChange) -> dict[str, Any]:
    centroid = change.polygon.centroid
    lon, lat = (float(v) for v in plan.grid.to_lonlat(centroid.x, centroid.y))
    x, y = world.geo.frame.point_to_local(lon, lat)
    verdict = judge(world.geo, change.kind, x, y)
    record: dict[str, Any] = {
        "id": change.id,
        "kind": change.kind,
        "time": iso_time(change.time),
        "time_end": iso_time(change.time_end),
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "area_m2": round(change.polygon.area, 1),
        "polygon": _geojson_polygon(plan.grid, change.polygon),
        "sar_intervals": {o: _interval(t, change) for o, t in plan.sar_times.items()},
        "optical_interval": _interval(plan.optical_times, change),
        "sar_gain_db": round(change.sar_gain_db, 2),
        "party": change.party,
        "side": verdict.side,
        "distance_m": round(verdict.distance_m, 1),
        "truth_event": change.truth_event,
        "violation": bool(verdict.rules),
        "rules": list(verdict.rules),
    }
    if change.dnbr is not None:
        record["dnbr"] = round(change.dnbr, 3)
    if change.burn_factors is not None:
        record["band_factors"] = {
            band: round(factor, 3)
            for band, factor in zip(OPTICAL_BANDS, change.burn_factors, strict=True)
        }
    if change.benign_reason is not None:
        record["benign_reason"] = change.benign_reason
    if change.detail is not None:
        record["detail"] = change.detail
    return record


def _write_sar(
    out_dir: Path, plan: StackPlan, marks: Sequence[_Footprint], rng: np.random.Generator
) -> tuple[list[Path], list[dict[str, Any]]]:
    """Each orbit's acquisitions; returns the files and per-orbit truth records."""
    files: list[Path] = []
    orbits = []
    for orbit, pass_, _ in SAR_ORBITS:
        # another viewing geometry: fields look a little different, changes too
        offset = rng.normal(0.0, 0.7, len(plan.cover.unit_class))[plan.cover.unit]
        gains = np.array([m.change.sar_gain_db for m in marks]) + rng.normal(0.0, 0.5, len(marks))
        written = []
        for time in plan.sar_times[orbit]:
            image = _sar_image(plan, marks, (offset, gains), time, rng)
            tags = _time_tags(time) | {
                "MISSION": "SENTINEL-1A",
                "PRODUCT": "IW GRDH sigma0, terrain-corrected (simulated)",
                "POLARISATION": "VV",
                "RELATIVE_ORBIT": orbit,
                "PASS": pass_,
                "ENL": f"{SAR_LOOKS}",
                "UNITS": "linear",
            }
            name = f"S1A_IW_GRDH_VV_{_stamp(time)}_R{orbit}.tif"
            path = out_dir / STACK_DIR / "sar" / name
            written.append(_write_geotiff(path, image[None], plan.grid, tags, ["VV"], ["linear"]))
        pre = sum(1 for t in plan.sar_times[orbit] if t < plan.start)
        orbits.append(
            {
                "relative_orbit": orbit,
                "pass": pass_,
                "files": [str(p.relative_to(out_dir)) for p in written],
                "times": [iso_time(t) for t in plan.sar_times[orbit]],
                "pre": pre,
                "post": len(written) - pre,
            }
        )
        files += written
    return files, orbits


def _write_optical(
    out_dir: Path, plan: StackPlan, marks: Sequence[_Footprint], rng: np.random.Generator
) -> tuple[list[Path], dict[str, Any]]:
    cloudy = int(rng.integers(0, 2))
    cloud, shadow = _cloud(plan, rng)
    files: list[Path] = []
    folder = out_dir / STACK_DIR / "optical"
    mask_path = None
    for index, time in enumerate(plan.optical_times):
        image = _optical_image(plan, marks, time, rng)
        if index == cloudy:
            image = _clouded(image, cloud, shadow)
        tags = _time_tags(time) | {
            "MISSION": "SENTINEL-2B",
            "PRODUCT": "MSI L2A bottom-of-atmosphere reflectance (simulated)",
            "BANDS": ",".join(OPTICAL_BANDS),
            "UNITS": "reflectance",
        }
        data = np.clip(image, 0.0, 1.0).astype(np.float32)
        stem = f"S2B_MSIL2A_{_stamp(time)}"
        files.append(
            _write_geotiff(
                folder / f"{stem}.tif",
                data,
                plan.grid,
                tags,
                OPTICAL_BANDS,
                ["reflectance"] * len(OPTICAL_BANDS),
            )
        )
        if index == cloudy:
            mask_tags = _time_tags(time) | {"VALUES": "0 clear, 1 cloud, 2 cloud shadow"}
            mask_path = _write_geotiff(
                folder / f"{stem}_CLOUDMASK.tif",
                _mask(cloud, shadow)[None],
                plan.grid,
                mask_tags,
                ["cloud mask"],
                [""],
            )
            files.append(mask_path)
    mask = _mask(cloud, shadow)
    truth = {
        "files": [f"{STACK_DIR}/optical/S2B_MSIL2A_{_stamp(t)}.tif" for t in plan.optical_times],
        "times": [iso_time(t) for t in plan.optical_times],
        "bands": list(OPTICAL_BANDS),
        "units": "reflectance",
        "cloudy": "before" if cloudy == 0 else "after",
        "cloud_mask": None if mask_path is None else str(mask_path.relative_to(out_dir)),
        "masked_fraction": round(float(np.count_nonzero(mask)) / mask.size, 4),
    }
    return files, truth


def write_stacks(
    out_dir: Path, world: World, plan: StackPlan, rng: np.random.Generator
) -> StackOutput:
    """Write the SAR and optical stacks of ``plan`` and describe them for ``truth.json``.

    The truth member ``satellite_stacks`` holds ``crs``, ``transform`` (GDAL
    order), ``width_px``, ``height_px``, ``pixel_m``, the grid's ``footprint``
    (GeoJSON, lon/lat), ``sar`` (``polarisation``, ``units``, ``looks`` and
    ``orbits``: per relative orbit its ``pass``, ``files``, ``times``, and
    ``pre`` and ``post`` counts, acquisitions before and after the scenario's
    start), ``optical`` (``files``,
    ``times``, ``bands``, ``cloudy``, ``cloud_mask``, ``masked_fraction``) and
    ``changes``: per injected change its ``id``, ``kind``, ``time``,
    ``time_end``, centroid ``lon``/``lat``, ``area_m2``, ``polygon``,
    ``sar_intervals`` (per orbit) and ``optical_interval`` (the acquisitions
    bracketing it, or ``null`` when it falls outside them), ``sar_gain_db``, ``dnbr`` and
    ``band_factors`` (burns: the drop of NBR and what the burn multiplied each band by),
    ``party``, ``side``, ``distance_m`` to the contact line, ``truth_event``
    (for a crater, the impact that made it), ``violation`` and ``rules`` (the
    demo agreement's rules the change itself breaks), ``benign_reason`` and
    ``detail``.

    Returns
    -------
    StackOutput
        Files written, counts (``stack_sar_images``, ``stack_optical_images``,
        ``stack_changes``, ``stack_craters``) and the truth member.
    """
    marks = _footprints(plan)
    sar_files, orbits = _write_sar(out_dir, plan, marks, rng)
    optical_files, optical_truth = _write_optical(out_dir, plan, marks, rng)
    grid = plan.grid
    truth: dict[str, Any] = {
        "crs": grid.crs,
        "transform": [float(v) for v in tuple(grid.transform)[:6]],
        "width_px": grid.size_px,
        "height_px": grid.size_px,
        "pixel_m": grid.pixel_m,
        "footprint": _geojson_polygon(grid, grid.footprint),
        "sar": {
            "orbits": orbits,
            "polarisation": "VV",
            "units": "linear",
            "looks": SAR_LOOKS,
        },
        "optical": optical_truth,
        "changes": [_change_record(world, plan, c) for c in plan.changes],
    }
    counts = {
        "stack_sar_images": len(sar_files),
        "stack_optical_images": len(plan.optical_times),
        "stack_changes": len(plan.changes),
        "stack_craters": sum(1 for c in plan.changes if c.kind == "crater"),
    }
    return StackOutput(sar_files + optical_files, counts, truth)
