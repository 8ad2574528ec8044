"""``truceline satellite change``: raster change detection between GeoTIFF stacks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from truceline.model.errors import TrucelineError
from truceline.model.timeutil import parse_utc
from truceline.satellite._cli_common import console, fail, out

__all__ = ["register"]

_METHODS = ("auto", "log_ratio", "pwtt", "dnbr", "ndvi", "brightness")


def register(app: typer.Typer) -> None:
    """Add ``change`` to the ``truceline satellite`` application."""
    app.command("change")(change_command)


def _image(text: str, option: str) -> Path | dict[str, Path]:
    """``FILE`` or ``ROLE=FILE,ROLE=FILE`` (one single-band file per band role)."""
    if "=" not in text or Path(text).exists():
        return Path(text)
    roles: dict[str, Path] = {}
    for part in text.split(","):
        role, sep, path = part.partition("=")
        if not sep or not role.strip() or not path.strip():
            raise fail(f"{option} {text!r}: expected FILE or ROLE=FILE,ROLE=FILE", 2)
        roles[role.strip().lower()] = Path(path.strip())
    return roles


def _bands(values: list[str]) -> dict[str, int | str] | None:
    bands: dict[str, int | str] = {}
    for text in values:
        name, sep, ref = text.partition("=")
        if not sep or not name.strip() or not ref.strip():
            raise fail(f"--band {text!r}: expected NAME=INDEX or NAME=DESCRIPTION", 2)
        ref = ref.strip()
        bands[name.strip().lower()] = int(ref) if ref.isdigit() else ref
    return bands or None


def _times(values: list[str], option: str) -> list[datetime] | None:
    if not values:
        return None
    try:
        return [parse_utc(v) for v in values]
    except ValueError as exc:
        raise fail(f"{option}: {exc}", 2) from None


def _missing(images: list[Path | dict[str, Path]], masks: list[Path]) -> None:
    for image in images:
        for path in [image] if isinstance(image, Path) else list(image.values()):
            if not path.exists():
                raise fail(f"{path}: no such file", 2)
    for path in masks:
        if not path.exists():
            raise fail(f"{path}: no such file", 2)


def change_command(
    pre: Annotated[
        list[str],
        typer.Option(
            "--pre",
            help="Pre-event image: a GeoTIFF, or ROLE=FILE,ROLE=FILE band files "
            "(e.g. nir=B5.tif,swir2=B7.tif). Repeat for a stack.",
            show_default=False,
        ),
    ],
    post: Annotated[
        list[str],
        typer.Option("--post", help="Post-event image (as --pre). Repeat for a stack."),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="auto, log_ratio (SAR pair), pwtt (SAR stacks), dnbr, ndvi or brightness.",
        ),
    ] = "auto",
    kind: Annotated[
        str, typer.Option("--kind", help="Observation kind (auto: burn_scar or by shape).")
    ] = "auto",
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="Threshold in the statistic's unit (default: Benjamini-Hochberg at --fdr).",
            show_default=False,
        ),
    ] = None,
    fdr: Annotated[float, typer.Option("--fdr", help="False-discovery rate.")] = 0.05,
    mask_pre: Annotated[
        list[str] | None,
        typer.Option("--mask-pre", help="Mask raster per pre image (non-zero = excluded)."),
    ] = None,
    mask_post: Annotated[
        list[str] | None,
        typer.Option("--mask-post", help="Mask raster per post image (non-zero = excluded)."),
    ] = None,
    water_mask: Annotated[
        Path | None,
        typer.Option(
            "--water-mask",
            help="Raster of water (non-zero), left out of every image. Optical runs with "
            "a green band (--band green=... or green=FILE) also drop NDWI water.",
            show_default=False,
        ),
    ] = None,
    band: Annotated[
        list[str] | None,
        typer.Option("--band", help="NAME=INDEX or NAME=DESCRIPTION, e.g. nir=4, vv=VV."),
    ] = None,
    pre_time: Annotated[
        list[str] | None,
        typer.Option("--pre-time", help="Acquisition time per pre image (ISO 8601, UTC)."),
    ] = None,
    post_time: Annotated[
        list[str] | None,
        typer.Option("--post-time", help="Acquisition time per post image (ISO 8601, UTC)."),
    ] = None,
    min_area: Annotated[
        float, typer.Option("--min-area", help="Smallest change kept, m².")
    ] = 100.0,
    window: Annotated[
        int | None,
        typer.Option(
            "--window",
            help="Odd spatial window in pixels (default: 3 for SAR, 1 for optical).",
            show_default=False,
        ),
    ] = None,
    combine: Annotated[
        str, typer.Option("--combine", help="SAR channels: max (Šidák) or mean (Stouffer).")
    ] = "max",
    looks: Annotated[
        float, typer.Option("--looks", help="Equivalent number of looks (log-ratio).")
    ] = 4.4,
    units: Annotated[
        str, typer.Option("--units", help="SAR input units: auto, db or linear.")
    ] = "auto",
    null: Annotated[
        str, typer.Option("--null", help="empirical or theoretical (SAR) null model.")
    ] = "empirical",
    reliability: Annotated[
        float | None,
        typer.Option(
            "--reliability",
            help="Prior probability that an observation is real, on the sensor record "
            "(default: 1 - FDR with the Benjamini-Hochberg threshold, 1 - q with --threshold).",
            show_default=False,
        ),
    ] = None,
    reproject: Annotated[
        bool,
        typer.Option(
            "--reproject/--no-reproject",
            help="Warp inputs on another grid onto the first image's (or refuse them).",
        ),
    ] = True,
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="Target CRS, e.g. EPSG:32636.", show_default=False),
    ] = None,
    resolution: Annotated[
        float | None,
        typer.Option("--resolution", help="Target pixel size in CRS units.", show_default=False),
    ] = None,
    chunk: Annotated[int, typer.Option("--chunk", help="Chunk edge in pixels.")] = 1024,
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="Threads (default: all cores).", show_default=False),
    ] = None,
    sensor_id: Annotated[
        str, typer.Option("--sensor-id", help="Sensor id of the observations.")
    ] = "satellite-change",
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Detect change between pre- and post-event GeoTIFF stacks.

    Writes statistic.tif (per-pixel statistic), observations.geojson (one
    satellite observation per changed area, ready for 'truceline ingest') and
    summary.json into --out; all three appear together or not at all.
    """
    from truceline.satellite.raster import ChangeConfigError, run_change

    if method not in _METHODS:
        raise fail(f"--method {method!r}: expected one of {', '.join(_METHODS)}", 2)
    if units not in ("auto", "db", "linear"):
        raise fail(f"--units {units!r}: expected auto, db or linear", 2)
    pre_images = [_image(text, "--pre") for text in pre]
    post_images = [_image(text, "--post") for text in post]
    masks_pre = [Path(p) for p in mask_pre or []]
    masks_post = [Path(p) for p in mask_post or []]
    extra = [water_mask] if water_mask is not None else []
    _missing([*pre_images, *post_images], [*masks_pre, *masks_post, *extra])
    try:
        run = run_change(
            pre_images,
            post_images,
            out_dir,
            method=method,
            sensor_id=sensor_id,
            kind=kind,
            threshold=threshold,
            bands=_bands(band or []),
            masks_pre=masks_pre,
            masks_post=masks_post,
            water_mask=water_mask,
            min_area_m2=min_area,
            chunk=chunk,
            pre_times=_times(pre_time or [], "--pre-time"),
            post_times=_times(post_time or [], "--post-time"),
            window=window,
            combine=combine,
            looks=looks,
            units=units,
            fdr=fdr,
            null=null,
            reliability=reliability,
            reproject=reproject,
            crs=crs,
            resolution=resolution,
            workers=workers,
        )
    except ChangeConfigError as exc:
        raise fail(str(exc), 2) from None
    except TrucelineError as exc:
        raise fail(str(exc), 1) from None
    except OSError as exc:
        raise fail(f"{exc.filename or out_dir}: {exc.strerror or exc}", 1) from None
    if as_json:
        out.print_json(data=run.summary)
        return
    threshold_text = (
        "none" if run.summary["threshold"] is None else f"{run.summary['threshold']:.4g}"
    )
    out.print(
        f"{run.method}: {run.n_changes} change(s) above {threshold_text} "
        f"{run.summary['statistic']['unit']} ({run.summary['threshold_source']}); "
        f"{run.summary['valid_fraction']:.1%} of {run.summary['pixels']} pixels valid, "
        f"{run.summary['masked_fraction']:.1%} masked, "
        f"{run.summary['water_fraction']:.1%} water; reliability {run.summary['reliability']:.3g}",
        highlight=False,
    )
    console.print(f"wrote {run.observations_path} and {run.statistic_path}", highlight=False)
