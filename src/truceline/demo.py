"""``truceline demo``: simulate -> ingest -> run -> report -> score, in one go.

Layout of the output directory::

    DIR/scenario/    the simulated field data, agreement.yaml and truth.json
    DIR/satellite-change/sar|optical/   change detection on the scenario's image
                     stacks (statistic.tif, observations.geojson, summary.json)
    DIR/home/        the evidence log and store (unless --home is given)
    DIR/report.html, findings.geojson, findings.csv, map.png
    DIR/score.json   findings scored against the truth

The run uses the packaged reliability profile :data:`DEMO_RELIABILITIES`
(reliabilities and confidence map fitted on other simulated scenarios, see
``truceline/fusion/data``) unless another file is given; the summary and
``score.json`` name it with its SHA-256.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truceline.evaluation.scorecard import score_run
from truceline.fileio import write_atomic
from truceline.fusion.config import FusionConfig
from truceline.fusion.reliability_file import packaged_reliability_file, with_reliability_profile
from truceline.ingest.array import ingest_array
from truceline.ingest.pipeline import IngestResult, ingest_file
from truceline.reporting import write_run_report
from truceline.runs import RunOutcome, add_agreement, execute_run, top_levels
from truceline.satellite.raster import ChangeRun, run_change
from truceline.satellite.raster.io import acquisition_time, inspect_raster
from truceline.simulate import simulate_scenario
from truceline.simulate.families import DEFAULT_FAMILY, get_family
from truceline.simulate.satellite_raster import OPTICAL_BANDS, STACK_DIR
from truceline.simulate.scenario import DEFAULT_START
from truceline.workspace import Workspace

__all__ = ["DEMO_RELIABILITIES", "DemoResult", "detect_changes", "run_demo"]

#: The packaged reliability profile the demo's run uses by default.
DEMO_RELIABILITIES = "reliability-sim-v1"

#: Scenario sub-directories holding field data, in ingest order. The ground
#: channel comes as the edge sensors' detections CSV with their station CSV, and
#: an infrasound array's raw miniSEED with its StationXML (beamformed below); the
#: drone channel as MAVLink/KLV telemetry with sidecars and detector output.
FIELD_DATA_DIRS = ("firms", "satellite", "ground-edge", "drone-raw")
ARRAY_DIR = "ground-array"
TELEMETRY_SIDECARS = (".tlog.json", ".klv.json", ".bin.json")
#: The satellite channel's image stacks are run through change detection into
#: ``DIR/CHANGE_DIR/<run>/observations.geojson``, which is then ingested: one
#: PWTT run per SAR relative orbit (``sar-R<orbit>``, sensor
#: ``sentinel-1a:pwtt:R<orbit>``: independent looks) and one dNBR run of the
#: optical pair (``optical``, sensor ``sentinel-2b:dnbr``).
CHANGE_DIR = "satellite-change"
#: Suffix of an optical image's cloud mask (``<image stem>_CLOUDMASK.tif``).
CLOUD_MASK_SUFFIX = "_CLOUDMASK.tif"


@dataclass
class DemoResult:
    """What the demo did and how well it scored.

    ``reliabilities`` is the record of the reliability profile the run used
    (file name and SHA-256), ``fusion_config`` the configuration it ran with.
    """

    out_dir: Path
    home: Path
    ingested: list[IngestResult]
    outcome: RunOutcome
    report_files: list[Path]
    score: dict[str, Any]
    timings_s: dict[str, float] = field(default_factory=dict)
    array_detections: int = 0
    satellite_changes: dict[str, int] = field(default_factory=dict)
    reliabilities: dict[str, str] = field(default_factory=dict)
    fusion_config: FusionConfig = field(default_factory=FusionConfig)

    def summary_table(self) -> Table:
        """A table for the terminal."""
        table = Table(title="truceline demo", show_header=False)
        table.add_column("what")
        table.add_column("value")
        violations = self.score["violations"]
        table.add_row("files ingested", str(len(self.ingested)))
        table.add_row("observations", str(sum(r.new for r in self.ingested)))
        table.add_row("array detections (beamformed)", str(self.array_detections))
        table.add_row(
            "satellite changes (" + " / ".join(self.satellite_changes) + ")",
            " / ".join(str(n) for n in self.satellite_changes.values()),
        )
        table.add_row("events", str(len(self.outcome.events)))
        table.add_row("findings", str(len(self.outcome.findings)))
        table.add_row(
            "violations (true / found / matched)",
            f"{violations['true']} / {violations['found']} / {violations['matched']}",
        )
        table.add_row("precision / recall", f"{violations['precision']} / {violations['recall']}")
        events = self.score.get("events")
        if events is not None:
            table.add_row(
                "events matched / found / locatable true",
                f"{events['matched']} / {events['found']} / {events['locatable']}",
            )
            table.add_row(
                "event precision / recall / F1",
                f"{events['precision']} / {events['recall']} / {events['f1']}",
            )
        gospa = self.score.get("gospa")
        if gospa is not None:
            table.add_row(
                f"GOSPA (c {gospa['c_m']:.0f} m): missed / false / mean error m",
                f"{gospa['missed_count']} / {gospa['false_count']} / "
                f"{gospa['mean_localisation_m']}",
            )
        errors = self.score["location_error_m"]
        table.add_row("location error median / p90 (m)", f"{errors['median']} / {errors['p90']}")
        escalations = self.score["escalations"]
        table.add_row(
            "escalations (true / raised / matched)",
            f"{escalations['true']} / {escalations['raised']} / {escalations['matched']}",
        )
        attribution = self.score["attribution"]
        table.add_row(
            "attribution correct / attributed (undetermined)",
            f"{attribution['correct']} / {attribution['attributed']} "
            f"({attribution['undetermined']})",
        )
        if self.reliabilities:
            table.add_row(
                "reliability profile",
                f"{self.reliabilities['file']} (sha256 {self.reliabilities['sha256'][:16]}…)",
            )
        table.add_row("findings digest", self.outcome.findings_digest)
        table.add_row("log root", f"{self.outcome.log_size} entries, {self.outcome.root_hash}")
        table.add_row("report", str(self.out_dir / "report.html"))
        table.add_row("score", str(self.out_dir / "score.json"))
        table.add_row("inspect with", f"truceline status --home {self.home}")
        table.add_row("time (s)", ", ".join(f"{k} {v:.1f}" for k, v in self.timings_s.items()))
        return table


def _field_files(scenario: Path) -> list[Path]:
    """Per-file field data in ingest order (station metadata before waveforms).

    Telemetry sidecars (``NAME.tlog.json``...) are read with their telemetry,
    not ingested on their own.
    """
    files: list[Path] = []
    for name in FIELD_DATA_DIRS:
        folder = scenario / name
        if folder.is_dir():
            files.extend(
                sorted(
                    p
                    for p in folder.rglob("*")
                    if p.is_file() and not p.name.endswith(TELEMETRY_SIDECARS)
                )
            )
    files.extend(sorted((scenario / ARRAY_DIR).glob("*.xml")))
    return files


def _array_files(scenario: Path) -> list[Path]:
    return sorted((scenario / ARRAY_DIR).glob("*.mseed"))


def _split_at(images: Sequence[Path], start: datetime) -> tuple[list[Path], list[Path]]:
    """Images acquired before ``start`` (the baseline) and at or after it, by their tags."""
    before: list[Path] = []
    after: list[Path] = []
    for path in images:
        when, _ = acquisition_time(inspect_raster(path))
        if when is None:
            raise ValueError(f"{path}: no acquisition time tag; cannot place it before or after")
        (before if when < start else after).append(path)
    return before, after


def _by_orbit(images: Sequence[Path]) -> dict[str, list[Path]]:
    """SAR images grouped by their ``RELATIVE_ORBIT`` tag (one stack per viewing geometry)."""
    groups: dict[str, list[Path]] = {}
    for path in images:
        orbit = inspect_raster(path).tags.get("RELATIVE_ORBIT", "").strip()
        if not orbit:
            raise ValueError(f"{path}: no RELATIVE_ORBIT tag; cannot tell its stack")
        groups.setdefault(orbit, []).append(path)
    return dict(sorted(groups.items()))


def _cloud_masks(images: Sequence[Path]) -> list[Path]:
    """The cloud masks of ``images``: one per image, or none when no image has one."""
    masks = [p.with_name(p.stem + CLOUD_MASK_SUFFIX) for p in images]
    present = [m for m in masks if m.is_file()]
    if present and len(present) != len(masks):
        missing = [str(m) for m in masks if not m.is_file()]
        raise ValueError(f"cloud masks missing for some images: {', '.join(missing)}")
    return present


def detect_changes(scenario: Path, out_dir: Path, start: datetime) -> dict[str, ChangeRun]:
    """Change detection on the scenario's image stacks: SAR by PWTT, optical by dNBR.

    Images acquired before ``start`` (the start of the monitored period) are
    the baseline; later ones are compared with it. Each SAR relative orbit is
    its own stack and run (another viewing geometry, independent speckle), so
    a change both orbits see has two independent sources. Optical images are
    read with their cloud masks (``<stem>_CLOUDMASK.tif``, non-zero excluded)
    and their green band, which turns on the detector's NDWI water test (NBR
    of dark water is noise).

    Returns
    -------
    dict
        Per run (``sar-R<orbit>``, ``optical``) with images on both sides of
        ``start``, its result; the observations are in ``out_dir/<run>``.
    """
    folder = scenario / STACK_DIR
    sar = sorted((folder / "sar").glob("*.tif"))
    optical = sorted(
        p for p in (folder / "optical").glob("*.tif") if not p.name.endswith(CLOUD_MASK_SUFFIX)
    )
    runs: dict[str, ChangeRun] = {}
    for orbit, images in _by_orbit(sar).items():
        pre, post = _split_at(images, start)
        if pre and post:
            runs[f"sar-R{orbit}"] = run_change(
                pre,
                post,
                out_dir / f"sar-R{orbit}",
                method="pwtt",
                sensor_id=f"sentinel-1a:pwtt:R{orbit}",
            )
    pre, post = _split_at(optical, start)
    if pre and post:
        runs["optical"] = run_change(
            pre,
            post,
            out_dir / "optical",
            method="dnbr",
            sensor_id="sentinel-2b:dnbr",
            bands=dict(zip(("green", "nir", "swir2"), OPTICAL_BANDS, strict=True)),
            masks_pre=_cloud_masks(pre),
            masks_post=_cloud_masks(post),
        )
    return runs


def _change_files(out_dir: Path) -> list[Path]:
    """Observation files of the change runs under ``out_dir``, in ingest order."""
    return sorted((out_dir / CHANGE_DIR).glob("*/observations.geojson"))


def run_demo(
    out_dir: Path,
    home: Path,
    *,
    seed: int = 0,
    days: int | None = None,
    family: str = DEFAULT_FAMILY,
    console: Console | None = None,
    reliabilities: Path | None = None,
    use_profile: bool = True,
) -> DemoResult:
    """Run the whole pipeline on a simulated scenario and score it.

    ``family`` names the scenario family
    (:data:`truceline.simulate.families.FAMILIES`); ``days`` defaults to the
    family's own length. ``reliabilities`` is the reliability profile of the
    run (default: the packaged :data:`DEMO_RELIABILITIES`); with
    ``use_profile=False`` the run uses the configured reliabilities only (what a
    calibration study fitting a new profile needs). The score
    (:func:`truceline.evaluation.score_run`) is written to ``out_dir/score.json``.

    Raises
    ------
    truceline.model.RecordError
        If the reliability profile is not valid (before anything is written).
    """
    days = get_family(family).days if days is None else days
    if use_profile:
        profile_path = reliabilities or packaged_reliability_file(DEMO_RELIABILITIES)
        fusion_config, profile = with_reliability_profile(FusionConfig(), profile_path)
    elif reliabilities is not None:
        raise ValueError("reliabilities given with use_profile=False")
    else:
        fusion_config, profile = FusionConfig(), {}
    console = console or Console(stderr=True)
    timings: dict[str, float] = {}
    scenario = out_dir / "scenario"
    progress = Progress(
        TextColumn("{task.description:10s}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("simulate", total=1)
        start = time.perf_counter()
        simulate_scenario(scenario, seed=seed, days=days, start=DEFAULT_START, family=family)
        progress.advance(task)
        timings["simulate"] = time.perf_counter() - start

        task = progress.add_task("change", total=1)
        start = time.perf_counter()
        changes = detect_changes(scenario, out_dir / CHANGE_DIR, DEFAULT_START)
        progress.advance(task)
        timings["change"] = time.perf_counter() - start

        files = _field_files(scenario) + [changes[k].observations_path for k in sorted(changes)]
        with Workspace(home) as workspace:
            start = time.perf_counter()
            add_agreement(workspace, scenario / "agreement.yaml")
            task = progress.add_task("ingest", total=len(files))
            ingested = []
            for path in files:
                ingested.append(ingest_file(workspace, path))
                progress.advance(task)
            timings["ingest"] = time.perf_counter() - start
            array_files = _array_files(scenario)
            beams = None
            if array_files:
                task = progress.add_task("beamform", total=1)
                start = time.perf_counter()
                beams = ingest_array(workspace, array_files)
                progress.advance(task)
                timings["beamform"] = time.perf_counter() - start

            task = progress.add_task("run", total=1)
            start = time.perf_counter()
            outcome = execute_run(workspace, fusion_config, reliabilities=profile or None)
            progress.advance(task)
            timings["run"] = time.perf_counter() - start

            task = progress.add_task("report", total=1)
            start = time.perf_counter()
            report_files = write_run_report(workspace, out_dir)
            levels = top_levels(workspace.store)
            progress.advance(task)
            timings["report"] = time.perf_counter() - start

    truth = json.loads((scenario / "truth.json").read_text(encoding="utf-8"))
    top = sorted(set(levels.values()))
    start = time.perf_counter()
    score = score_run(
        truth, outcome.events, outcome.findings, escalation_level=top[-1] if top else "attack"
    )
    timings["score"] = time.perf_counter() - start
    score["scenario"] = {"seed": seed, "days": days, "family": family}
    score["run"] = {
        "run_id": outcome.run_id,
        "events": len(outcome.events),
        "findings": len(outcome.findings),
        "findings_digest": outcome.findings_digest,
        "events_digest": outcome.events_digest,
        "log_size": outcome.log_size,
        "root_hash": outcome.root_hash,
        "reliabilities": profile,
    }
    write_atomic(
        out_dir / "score.json", (json.dumps(score, indent=2, sort_keys=True) + "\n").encode()
    )
    return DemoResult(
        out_dir,
        home,
        ingested,
        outcome,
        report_files,
        score,
        timings,
        array_detections=beams.detections if beams is not None else 0,
        satellite_changes={stack: run.n_changes for stack, run in changes.items()},
        reliabilities=profile,
        fusion_config=fusion_config,
    )
