"""``truceline satellite fit`` and ``score``: the excess fire-activity model."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from truceline.fileio import write_atomic
from truceline.model.errors import TrucelineError
from truceline.satellite._cli_common import console, fail, out
from truceline.satellite.activity import EXCESS_SENSOR_ID, thermal_observations, zone_activity
from truceline.satellite.baseline import BaselineConfig, fit_baseline, load_model
from truceline.satellite.excess import score_excess
from truceline.satellite.exclusions import Exclusion, read_exclusions
from truceline.satellite.firms_table import FirePoints, read_fire_points

__all__ = ["register"]

_SUFFIXES = {".csv", ".txt"}

FilesArg = Annotated[
    list[Path],
    typer.Argument(help="FIRMS files (country archive, API CSV or archive TXT) or folders."),
]
ExcludeOption = Annotated[
    list[Path],
    typer.Option(
        "--exclude",
        help="Areas/periods (GeoJSON, or CSV boxes lng1,lng2,lat1,lat2,start_date,end_date).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``fit`` and ``score`` to the ``truceline satellite`` application."""
    app.command("fit")(fit_command)
    app.command("score")(score_command)


def _files(paths: list[Path]) -> list[Path]:
    result: list[Path] = []
    for path in paths:
        if path.is_dir():
            result.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in _SUFFIXES))
        elif path.exists():
            result.append(path)
        else:
            raise fail(f"{path}: no such file or folder", 2)
    if not result:
        raise fail("no FIRMS files given (.csv or .txt)", 2)
    return result


def _points(paths: list[Path]) -> FirePoints:
    try:
        return read_fire_points(_files(paths))
    except TrucelineError as exc:
        raise fail(str(exc)) from None


def _exclusions(paths: list[Path]) -> list[Exclusion]:
    result: list[Exclusion] = []
    for path in paths:
        try:
            result.extend(read_exclusions(path))
        except TrucelineError as exc:
            raise fail(str(exc)) from None
    return result


def _day(text: str | None, option: str) -> np.datetime64 | None:
    if text is None:
        return None
    try:
        return np.datetime64(text, "D")
    except ValueError:
        raise fail(f"{option} {text!r}: expected a date YYYY-MM-DD", 2) from None


def fit_command(
    files: FilesArg,
    out_path: Annotated[Path, typer.Option("--out", help="Model file to write (.npz).")],
    exclude: ExcludeOption = [],  # noqa: B006 - typer reads the default, never mutates it
    false_flag_rate: Annotated[
        float,
        typer.Option(help="Share of held-out peacetime fire cell-days the threshold flags."),
    ] = 0.01,
    cell_deg: Annotated[float, typer.Option(help="Grid cell size, degrees.")] = 0.1,
    era_boundary: Annotated[
        list[str],
        typer.Option(help="Start date of a new instrument era (repeatable).", show_default=False),
    ] = [],  # noqa: B006
    calibrate: Annotated[
        bool, typer.Option(help="Calibrate the threshold by leave-one-year-out.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit summary as JSON.")] = False,
) -> None:
    """Fit the baseline of expected fire-days per cell and day of year (peacetime years only)."""
    if not 0.0 < false_flag_rate < 1.0 or not 0.0 < cell_deg <= 10.0:
        raise fail("--false-flag-rate must lie in (0, 1) and --cell-deg in (0, 10]", 2)
    for text in era_boundary:
        _day(text, "--era-boundary")
    config = BaselineConfig(
        cell_deg=cell_deg,
        false_flag_rate=false_flag_rate,
        era_boundaries=tuple(era_boundary) if era_boundary else BaselineConfig().era_boundaries,
    )
    points = _points(files)
    exclusions = _exclusions(exclude)
    with console.status("fitting the baseline"):
        try:
            model = fit_baseline(points, config, exclusions=exclusions, calibrate=calibrate)
        except TrucelineError as exc:
            raise fail(str(exc)) from None
    model.summary["detections"] = len(points)
    model.save(out_path)
    summary = {
        "model": str(out_path),
        "years": model.years,
        "skipped": {str(k): v for k, v in model.skipped.items()},
        "alpha": model.alpha,
        "persistent_cells": [
            model.grid.cell_id(int(i), int(j))
            for i, j in zip(*np.nonzero(model.persistent), strict=True)
        ],
        **model.summary,
    }
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=1, sort_keys=True) + "\n")
        return
    out.print(f"fitted {out_path} on {len(model.years)} year(s): {model.years}")
    for year, why in sorted(model.skipped.items()):
        out.print(f"  skipped {year}: {why}")
    out.print(f"threshold p < {model.alpha:.3g} ({model.summary.get('alpha_source')})")
    out.print(f"persistent heat-source cells: {len(summary['persistent_cells'])}")


def _write_json(path: Path, body: Any, *, sort_keys: bool = True) -> None:
    text = json.dumps(body, indent=1, sort_keys=sort_keys) + "\n"
    write_atomic(path, text.encode("utf-8"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def score_command(
    files: FilesArg,
    model_path: Annotated[Path, typer.Option("--model", help="Model written by 'satellite fit'.")],
    first: Annotated[str | None, typer.Option("--from", help="First day scored (UTC).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day scored (UTC).")] = None,
    exclude: ExcludeOption = [],  # noqa: B006
    flagged_only: Annotated[bool, typer.Option(help="Print only flagged cell-days.")] = False,
    observations: Annotated[
        Path | None,
        typer.Option(help="Write flagged cell-days as ingestable observations GeoJSON here."),
    ] = None,
    agreement: Annotated[
        Path | None,
        typer.Option(help="Agreement YAML, for --zone-index and --exclude-zone."),
    ] = None,
    exclude_zone: Annotated[
        list[str],
        typer.Option(
            help="Never flag cells of this agreement zone (repeatable).", show_default=False
        ),
    ] = [],  # noqa: B006
    zone_index: Annotated[
        Path | None, typer.Option(help="File for the per-zone daily index (needs --agreement).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print records as JSON.")] = False,
) -> None:
    """Score fire cell-days against the baseline: probability, flag, conflict probability."""
    if agreement is None and (zone_index is not None or exclude_zone):
        raise fail("--zone-index and --exclude-zone need --agreement", 2)
    first_day, last_day = _day(first, "--from"), _day(last, "--to")
    if first_day is not None and last_day is not None and last_day < first_day:
        raise fail(f"--to {last} is before --from {first}", 2)
    try:
        model = load_model(model_path)
    except TrucelineError as exc:
        raise fail(str(exc)) from None
    loaded = None
    if agreement is not None:
        from truceline.agreement import load_agreement

        try:
            loaded = load_agreement(agreement)
        except TrucelineError as exc:
            raise fail(str(exc)) from None
    exclusions = _exclusions(exclude)
    if loaded is not None:
        for zone_id in exclude_zone:
            if zone_id not in loaded.zone_ids:
                known = ", ".join(loaded.zone_ids)
                raise fail(
                    f"--exclude-zone {zone_id!r}: no such zone in {agreement} (known: {known})", 2
                )
            exclusions.append(Exclusion(loaded.zone_geometry(zone_id), name=f"zone:{zone_id}"))
    points = _points(files)
    try:
        result = score_excess(model, points, first_day, last_day, exclusions)
    except (TrucelineError, ValueError) as exc:
        raise fail(str(exc)) from None
    if observations is not None:
        # the ingest probe looks for the 'truceline' marker near the top: keep key order
        body = thermal_observations(result, model, sensor_id=EXCESS_SENSOR_ID)
        _write_json(observations, body, sort_keys=False)
    if loaded is not None and zone_index is not None:
        _write_json(zone_index, zone_activity(result, model, loaded))
    records = result.flagged if flagged_only else result.records
    if result.outside_grid:
        console.print(f"{result.outside_grid} detection(s) outside the model's grid were ignored")
    if as_json:
        rows = [{k: _jsonable(v) for k, v in r.to_json().items()} for r in records]
        sys.stdout.write(json.dumps(rows, indent=1) + "\n")
        return
    table = Table(
        "date",
        "cell",
        "lat",
        "lon",
        "detections",
        "expected",
        "probability",
        "flagged",
        "conflict p",
    )
    for r in records[:200]:
        table.add_row(
            r.date,
            r.cell,
            f"{r.lat:.2f}",
            f"{r.lon:.2f}",
            str(r.detections),
            f"{r.expected:.3f}",
            f"{r.probability:.3g}",
            "yes" if r.flagged else "",
            f"{r.conflict_probability:.3f}",
        )
    out.print(table)
    shown = "" if len(records) <= 200 else " (first 200 shown; --json for all)"
    out.print(
        f"{len(result.records)} fire cell-day(s) {result.first}..{result.last}, "
        f"{len(result.flagged)} flagged (threshold p < {result.alpha:.3g}){shown}"
    )
