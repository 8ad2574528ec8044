"""The ``truceline`` command line.

Every command takes ``--home DIR`` (default ``$TRUCELINE_HOME``, else
``./.truceline``): the directory holding the evidence log and its store.
Commands that print records take ``--json`` for machine-readable output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from truceline import _cli_adjudication, _cli_reliability
from truceline._cli_common import HomeOption, JsonOption, console, fail, open_workspace, out
from truceline.model.errors import TrucelineError
from truceline.model.timeutil import parse_utc
from truceline.satellite.cli import satellite_app
from truceline.store.base import BBox, Query
from truceline.workspace import Workspace, resolve_home

if TYPE_CHECKING:
    from truceline.fusion.config import FusionConfig

__all__ = ["app", "main"]

app = typer.Typer(
    name="truceline",
    help="Ceasefire monitoring and verification with drones, ground sensors and satellites.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
agreement_app = typer.Typer(
    help="Validate and register ceasefire agreements.", no_args_is_help=True
)
log_app = typer.Typer(help="The tamper-evident evidence log.", no_args_is_help=True)
store_app = typer.Typer(help="The projection store.", no_args_is_help=True)
ground_app = typer.Typer(help="Ground sensor networks: array processing.", no_args_is_help=True)
app.add_typer(agreement_app, name="agreement")
app.add_typer(log_app, name="log")
app.add_typer(store_app, name="store")
app.add_typer(ground_app, name="ground")
app.add_typer(satellite_app, name="satellite")

_fail = fail

#: Seconds a command waits for the log's lock held by another process (e.g. run --follow).
LOCK_WAIT_S = 10.0


def _open(home: Path | None) -> Workspace:
    return open_workspace(home, wait_s=LOCK_WAIT_S)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def _query(since: str | None, until: str | None, bbox: str | None) -> Query:
    try:
        return Query(
            since=parse_utc(since) if since else None,
            until=parse_utc(until) if until else None,
            bbox=BBox.parse(bbox) if bbox else None,
        )
    except ValueError as exc:
        raise _fail(str(exc), 2) from None


# -- ingest --------------------------------------------------------------------------------
@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to ingest.")],
    home: HomeOption = None,
    format_name: Annotated[
        str | None, typer.Option("--format", help="Force an ingest format (see 'formats').")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest field data files; the format of each file is detected by probing.

    Each file is ingested atomically: a bad record refuses that file whole
    (earlier files stay ingested). Files found by walking a directory that no
    format recognises are skipped with a note; a named file must be readable.
    """
    from truceline.ingest.pipeline import ingest_file
    from truceline.ingest.registry import UnknownFormatError

    files = _expand(paths)
    explicit = {path for path in paths if not path.is_dir()}
    results = []
    skipped: list[Path] = []
    with _open(home) as workspace, _progress() as progress:
        task = progress.add_task("ingest", total=len(files))
        for path in files:
            try:
                result = ingest_file(workspace, path, format_name=format_name)
            except UnknownFormatError as exc:
                if path in explicit:
                    raise _fail(str(exc)) from None
                skipped.append(path)  # found while walking a directory: not field data
                progress.advance(task)
                continue
            except TrucelineError as exc:
                raise _fail(str(exc)) from None
            results.append(result)
            progress.advance(task)
    for path in skipped:
        console.print(f"[yellow]skipped[/] {path}: no ingest format recognises it")
    if as_json:
        out.print_json(
            data=[
                {
                    "path": str(r.path),
                    "format": r.format,
                    "artifact": r.artifact,
                    "records": r.records,
                    "new": r.new,
                    "duplicates": r.duplicates,
                    "log_size": r.log_size,
                    "root_hash": r.root_hash,
                }
                for r in results
            ]
        )
        return
    for r in results:
        out.print(f"{r.path}: {r.format}, {r.records} records, {r.new} new, {r.duplicates} known")


def _expand(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise _fail(f"{path}: no such file or directory", 2)
    return files


@app.command()
def formats(home: HomeOption = None) -> None:
    """List the ingest formats known (built-in and plugins)."""
    from truceline.ingest.registry import adapters

    for adapter in adapters():
        out.print(f"{adapter.name:12s} {adapter.description}")


# -- agreement -----------------------------------------------------------------------------
@agreement_app.command("check")
def agreement_check(
    file: Annotated[Path, typer.Argument(help="Agreement YAML file.")],
    home: HomeOption = None,
) -> None:
    """Validate an agreement file; every problem is printed with its field path."""
    from truceline.agreement import check_agreement, format_issues

    issues = check_agreement(file)
    if issues:
        for line in format_issues(file, issues):
            out.print(line, highlight=False, markup=False)
        raise _fail(f"{file}: {len(issues)} problem(s)")
    out.print(f"{file}: OK")


@agreement_app.command("add")
def agreement_add(
    file: Annotated[Path, typer.Argument(help="Agreement YAML file.")],
    home: HomeOption = None,
) -> None:
    """Validate an agreement version and append it to the evidence log."""
    from truceline.agreement import AgreementError
    from truceline.runs import add_agreement

    with _open(home) as workspace:
        try:
            added = add_agreement(workspace, file)
        except AgreementError as exc:
            raise _fail(str(exc)) from None
    state = "added" if added.new else "already in the log"
    out.print(f"{added.agreement_id} v{added.version} ({added.version_id[:16]}…): {state}")


# -- log and store ---------------------------------------------------------------------------
@log_app.command("verify")
def log_verify(
    home: HomeOption = None,
    expect_size: Annotated[
        int | None, typer.Option(help="Checkpoint size obtained from a trusted channel.")
    ] = None,
    expect_root: Annotated[
        str | None, typer.Option(help="Checkpoint root hash (hex) for --expect-size.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash of the log; fail on any change, truncation or reordering."""
    from truceline.evidence.verify import verify_log

    report = verify_log(
        resolve_home(home) / "log", expect_size=expect_size, expect_root=expect_root
    )
    if as_json:
        out.print_json(
            data={
                "ok": report.ok,
                "entries": report.entries,
                "heads": report.heads,
                "root_hash": report.root_hash,
                "problems": report.problems,
            }
        )
    else:
        for problem in report.problems:
            out.print(f"[red]FAIL[/] {problem}", highlight=False)
        if report.ok:
            out.print(
                f"log OK: {report.entries} entries, {report.heads} signed tree heads, "
                f"root {report.root_hash}"
            )
    if not report.ok:
        raise _fail(f"evidence log verification failed ({len(report.problems)} problem(s))")


@store_app.command("rebuild")
def store_rebuild(home: HomeOption = None) -> None:
    """Recreate the store from the log and check it equals the previous content."""
    from truceline.runs import rebuild_store

    with _open(home) as workspace, console.status("rebuilding the store from the log"):
        old, new, problems = rebuild_store(workspace)
    out.print(f"store digest before: {old}\nstore digest after:  {new}")
    if problems:
        for problem in problems:
            out.print(f"[red]DIFF[/] {problem}", highlight=False)
        raise _fail("rebuilt store differs from the previous one")
    out.print("rebuilt store is identical")


@ground_app.command("beam")
def ground_beam(
    paths: Annotated[list[Path], typer.Argument(help="Waveform files of array elements.")],
    home: HomeOption = None,
    array_id: Annotated[
        str | None, typer.Option(help="Sensor id of the array (all files form one array).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Beamform array waveforms into bearing detections and log them.

    Without --array-id the files are grouped into arrays by sensor position
    (elements within about 1 km); coordinates come from SAC headers, sidecars or
    station metadata ingested before (StationXML, station CSV).
    """
    from truceline.ingest.array import group_array_files, ingest_array

    files = _expand(paths)
    results = []
    with _open(home) as workspace, console.status("beamforming"):
        try:
            groups = [files] if array_id else group_array_files(workspace, files)
            for group in groups:
                results.append(ingest_array(workspace, group, array_id=array_id))
        except TrucelineError as exc:
            raise _fail(str(exc)) from None
    records = [
        {
            "array_id": r.array_id,
            "files": [str(f) for f in r.files],
            "detections": r.detections,
            "new": r.new,
            "log_size": r.log_size,
            "root_hash": r.root_hash,
        }
        for r in results
    ]
    if as_json:
        out.print_json(data=records)
        return
    if not records:
        console.print("[yellow]no array found[/]: fewer than 3 co-located sensors")
    for result in results:
        out.print(
            f"{result.array_id}: {len(result.files)} files, "
            f"{result.detections} detections, {result.new} new records"
        )


# -- run, status, queries --------------------------------------------------------------------
@app.command()
def run(
    home: HomeOption = None,
    agreement: Annotated[
        Path | None, typer.Option(help="Register this agreement file first.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="JSON file of fusion parameters (see FusionConfig).")
    ] = None,
    reliabilities: Annotated[
        Path | None,
        typer.Option(
            help="Reliability profile (YAML, format truceline-reliability/1) merged into the "
            "fusion parameters; the run records its file name and SHA-256.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep running: update events, findings and escalations as observations "
            "are ingested (by another process), recording each change as a live run.",
        ),
    ] = False,
    poll_interval: Annotated[
        float, typer.Option(help="With --follow: seconds between looks at the log.", min=0.01)
    ] = 1.0,
    once: Annotated[
        bool, typer.Option("--once", help="With --follow: one pass, then exit.")
    ] = False,
    until_idle: Annotated[
        bool,
        typer.Option(
            "--until-idle",
            help="With --follow: exit once nothing new arrived for --idle-timeout seconds.",
        ),
    ] = False,
    idle_timeout: Annotated[
        float | None,
        typer.Option(help="With --until-idle: idle seconds [default: 2 x poll interval]."),
    ] = None,
) -> None:
    """Fuse all observations into events and judge them against the agreement."""
    from truceline.fusion import FusionConfig
    from truceline.runs import add_agreement, execute_run

    fusion_config = FusionConfig()
    if config is not None:
        try:
            fusion_config = FusionConfig.from_dict(json.loads(config.read_text())["fusion"])
        except (OSError, ValueError, KeyError) as exc:
            raise _fail(f"{config}: {exc}") from None
    fusion_config, profile = _with_profile(fusion_config, reliabilities)
    if follow:
        _run_follow(
            home, agreement, fusion_config, poll_interval, once, until_idle, idle_timeout, as_json
        )
        return
    if once or until_idle:
        raise _fail("--once and --until-idle go with --follow", 2)
    with _open(home) as workspace, console.status("fusing and judging"):
        if agreement is not None:
            add_agreement(workspace, agreement)
        if not workspace.store.agreements():
            console.print(
                "[yellow]warning:[/] no agreement in the log ('truceline agreement add FILE'): "
                "events are fused but nothing is judged"
            )
        outcome = execute_run(workspace, fusion_config, reliabilities=profile)
    summary: dict[str, Any] = {
        "run_id": outcome.run_id,
        "events": len(outcome.events),
        "findings": len(outcome.findings),
        "unassociated_observations": len(outcome.unassociated),
        "events_digest": outcome.events_digest,
        "findings_digest": outcome.findings_digest,
        "config_digest": outcome.config_digest,
        "log_size": outcome.log_size,
        "root_hash": outcome.root_hash,
    }
    if profile is not None:
        summary["reliabilities"] = profile
    if as_json:
        out.print_json(data=summary)
    else:
        for key, value in summary.items():
            out.print(f"{key:26s} {value}")


def _with_profile(
    config: FusionConfig, path: Path | None
) -> tuple[FusionConfig, dict[str, str] | None]:
    """``run --reliabilities``: the profile merged into ``config``, and its record.

    A bad file is a usage error (exit 2) naming the file and field, raised
    before the workspace is opened, so nothing is written.
    """
    from truceline.fusion.reliability_file import with_reliability_profile

    if path is None:
        return config, None
    try:
        return with_reliability_profile(config, path)
    except TrucelineError as exc:
        raise _fail(str(exc), 2) from None


def _run_follow(
    home: Path | None,
    agreement: Path | None,
    config: Any,
    poll_s: float,
    once: bool,
    until_idle: bool,
    idle_s: float | None,
    as_json: bool,
) -> None:
    """``run --follow``: the live loop of :mod:`truceline.follow`, one line per change."""
    from truceline.follow import follow
    from truceline.live import Update
    from truceline.runs import add_agreement

    home_dir = resolve_home(home)
    if agreement is not None:
        with _open(home) as workspace:
            add_agreement(workspace, agreement)

    def report(update: Update) -> None:
        if not (update.changed or update.observations):
            return
        record = {
            "log_size": update.log_size,
            "observations": update.observations,
            "events_added": len(update.events_added),
            "events_removed": len(update.events_removed),
            "findings_added": [f.id for f in update.findings_added],
            "findings_removed": update.findings_removed,
            "versions": [
                {k: v for k, v in version.to_dict().items() if k != "record"}
                for version in update.versions
            ],
            "escalations": update.escalations,
            "run_id": update.run_id,
            "elapsed_ms": round(update.elapsed_s * 1e3, 1),
        }
        if as_json:
            sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
            sys.stdout.flush()
            return
        versions = ", ".join(f"{v.change} {v.lineage[:12]}… v{v.version}" for v in update.versions)
        out.print(
            f"log {update.log_size}: +{update.observations} observations, events "
            f"+{len(update.events_added)}/-{len(update.events_removed)}, findings "
            f"+{len(update.findings_added)}/-{len(update.findings_removed)}"
            + (f" [{versions}]" if versions else "")
            + (
                f" escalations: {', '.join(e[:12] for e in update.escalations)}"
                if update.escalations
                else ""
            ),
            highlight=False,
        )

    try:
        summary = follow(
            home_dir,
            config,
            poll_s=poll_s,
            once=once,
            until_idle=until_idle,
            idle_s=idle_s,
            lock_wait_s=LOCK_WAIT_S,
            on_update=report,
        )
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        raise typer.Exit(130) from None
    except TrucelineError as exc:
        raise _fail(str(exc)) from None
    final = {
        "passes": summary.passes,
        "updates": summary.updates,
        "observations": summary.observations,
        "log_size": summary.log_size,
        "events_digest": summary.events_digest,
        "findings_digest": summary.findings_digest,
        "interrupted": summary.interrupted,
    }
    if as_json:
        sys.stdout.write(json.dumps({"summary": final}, sort_keys=True) + "\n")
    else:
        for key, value in final.items():
            out.print(f"{key:26s} {value}")


@app.command()
def status(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Counts of observations, events and findings; log size and root hash."""
    with _open(home) as workspace:
        counts = workspace.store.counts()
        runs = workspace.store.runs()
        data = {
            "home": str(workspace.home),
            "observations": counts["observations"],
            "sensors": counts["sensors"],
            "coverage": counts["coverage"],
            "artifacts": counts["artifacts"],
            "agreements": counts["agreements"],
            "events": counts["events"],
            "findings": counts["findings"],
            "runs": counts["runs"],
            "log": {
                "size": workspace.log.size,
                "root_hash": workspace.log.root_hash,
                "tree_heads": len(workspace.log.heads),
            },
            "last_run": runs[-1]["id"] if runs else None,
            "findings_digest": (runs[-1].get("result") or {}).get("findings_digest")
            if runs
            else None,
        }
    if as_json:
        out.print_json(data=data)
        return
    for key, value in data.items():
        out.print(f"{key:16s} {value}")


SinceOption = Annotated[str | None, typer.Option(help="Only records at or after (ISO UTC).")]
UntilOption = Annotated[str | None, typer.Option(help="Only records at or before (ISO UTC).")]
BBoxOption = Annotated[
    str | None, typer.Option(help="Only records inside min_lon,min_lat,max_lon,max_lat.")
]


@app.command()
def events(
    home: HomeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    bbox: BBoxOption = None,
    as_json: JsonOption = False,
) -> None:
    """The current run's events."""
    query = _query(since, until, bbox)
    with _open(home) as workspace:
        records = [e.to_record() for e in workspace.store.events(query)]
    _print_records(records, as_json, ("time", "kind", "lon", "lat", "confidence", "id"))


@app.command()
def findings(
    home: HomeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    bbox: BBoxOption = None,
    as_json: JsonOption = False,
) -> None:
    """The current run's findings (suspected violations), with their latest review."""
    from truceline.review import reviews

    query = _query(since, until, bbox)
    with _open(home) as workspace:
        records = [f.to_record() for f in workspace.store.findings(query)]
        ruled = reviews(workspace.store)
    for record in records:
        record["review_status"] = ruled.get(record["id"])
    _print_records(
        records,
        as_json,
        (
            "time",
            "rule_id",
            "severity",
            "confidence",
            "side",
            "escalation_level",
            "review_status",
            "id",
        ),
    )


def _print_records(records: list[dict[str, Any]], as_json: bool, columns: Sequence[str]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(records, indent=1, sort_keys=True) + "\n")
        return
    table = Table(*columns)
    for record in records:
        table.add_row(*(_cell(record[c]) for c in columns))
    out.print(table)
    out.print(f"{len(records)} record(s)")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, str) and len(value) == 64:
        return value[:12] + "…"
    return str(value)


# -- report, simulate, demo ------------------------------------------------------------------
@app.command()
def report(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the report to.")],
    home: HomeOption = None,
) -> None:
    """Write report.html, findings.geojson and findings.csv for the current run."""
    from truceline.reporting import write_run_report

    with _open(home) as workspace, console.status("writing the report"):
        try:
            files = write_run_report(workspace, out_dir)
        except TrucelineError as exc:
            raise _fail(str(exc)) from None
    for path in files:
        out.print(str(path))


def _check_family(name: str) -> str:
    """Option callback: a known scenario family, else a usage error (exit 2) naming them."""
    from truceline.simulate.families import UnknownFamilyError, get_family

    try:
        return get_family(name).name
    except UnknownFamilyError as exc:
        raise typer.BadParameter(str(exc)) from None


def _family_help() -> str:
    from truceline.simulate.families import family_help

    return f"Scenario family ({family_help()})."


ScenarioOption = Annotated[
    str, typer.Option("--scenario", help=_family_help(), callback=_check_family)
]
DaysOption = Annotated[
    int | None,
    typer.Option(help="Days of activity [default: the scenario family's own length]."),
]


@app.command()
def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the scenario to.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    days: DaysOption = None,
    scenario: ScenarioOption = "default",
    home: HomeOption = None,
) -> None:
    """Write a simulated ceasefire scenario in field formats, with truth.json."""
    from truceline.simulate import simulate_scenario

    try:
        summary = simulate_scenario(out_dir, seed=seed, days=days, family=scenario)
    except ValueError as exc:
        raise _fail(str(exc), code=2) from None
    out.print(f"scenario written to {out_dir}: {summary}")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("demo-out"),
    seed: Annotated[int, typer.Option(help="Scenario seed.")] = 0,
    days: DaysOption = None,
    scenario: ScenarioOption = "default",
    home: HomeOption = None,
    reliabilities: Annotated[
        Path | None,
        typer.Option(
            help="Reliability profile of the run (default: the packaged reliability-sim-v1).",
            show_default=False,
        ),
    ] = None,
    configured_only: Annotated[
        bool,
        typer.Option(
            "--configured-reliabilities",
            help="Run with the configured reliabilities only, no profile (no calibration map).",
        ),
    ] = False,
) -> None:
    """Simulate, ingest, run and report in one go, then score against the truth."""
    from truceline.demo import run_demo

    if configured_only and reliabilities is not None:
        raise _fail("--reliabilities and --configured-reliabilities exclude each other", 2)
    home_dir = home if home is not None else out_dir / "home"
    try:
        result = run_demo(
            out_dir,
            home_dir,
            seed=seed,
            days=days,
            family=scenario,
            console=console,
            reliabilities=reliabilities,
            use_profile=not configured_only,
        )
    except TrucelineError as exc:
        raise _fail(str(exc)) from None
    out.print(result.summary_table())


# review, escalations and verify-run live in their own module
_cli_adjudication.register(app)
_cli_reliability.register(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
