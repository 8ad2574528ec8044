"""``truceline satellite poll``: fetch new FIRMS detections through the area/country API."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer

from truceline.model.errors import TrucelineError
from truceline.satellite._cli_common import console, fail, out
from truceline.satellite.firms_api import (
    SOURCES,
    Area,
    Country,
    FirmsClient,
    FirmsKeyError,
    FirmsParameterError,
    Region,
    RetryEvent,
    RetryPolicy,
    parse_date,
)
from truceline.satellite.poll import (
    DEFAULT_OVERLAP_DAYS,
    PageResult,
    PollConfigError,
    PollError,
    PollResult,
    poll,
)

__all__ = ["register"]

_HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Home directory of the log and store (default: $TRUCELINE_HOME or ./.truceline)",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``poll`` to the ``truceline satellite`` application."""
    app.command("poll")(poll_command)


def _region(area: str | None, country: str | None) -> Region:
    if (area is None) == (country is None):
        raise fail("give exactly one of --area W,S,E,N or --country ISO3", 2)
    try:
        return Area.parse(area) if area is not None else Country(str(country))
    except FirmsParameterError as exc:
        raise fail(str(exc), 2) from None


def _page_json(page: PageResult) -> dict[str, Any]:
    record: dict[str, Any] = {
        "source": page.source,
        "region": page.region.key,
        "first": page.first.isoformat(),
        "last": page.last.isoformat(),
        "path": str(page.path),
        "rows": page.rows,
        "final": page.final,
        "replaced": [str(path) for path in page.replaced],
    }
    if page.ingest is not None:
        record["ingest"] = {
            "records": page.ingest.records,
            "new": page.ingest.new,
            "duplicates": page.ingest.duplicates,
            "log_size": page.ingest.log_size,
            "root_hash": page.ingest.root_hash,
        }
    return record


def _page_line(page: PageResult) -> str:
    line = (
        f"{page.source} {page.region.key} {page.first}..{page.last}: "
        f"{page.rows} detection(s) -> {page.path}"
    )
    if not page.final:
        line += " (includes days FIRMS may still revise: fetched again next poll)"
    if page.replaced:
        line += f"; replaces {', '.join(path.name for path in page.replaced)}"
    if page.ingest is not None:
        line += f"; ingested {page.ingest.new} new of {page.ingest.records} record(s)"
    return line


def _print_page(page: PageResult) -> None:
    out.print(_page_line(page), highlight=False, markup=False)


def _summary(result: PollResult) -> dict[str, Any]:
    return {
        "state": str(result.state_path),
        "pages": [_page_json(page) for page in result.pages],
        "streams": [stream.to_json() for stream in result.streams],
    }


def _on_retry(event: RetryEvent) -> None:
    console.print(
        f"retry {event.attempt} in {event.delay_s:.1f} s: {event.reason} ({event.url})",
        highlight=False,
        markup=False,
    )


def poll_command(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Directory of the CSV pages and the poll state.", file_okay=False
        ),
    ],
    sources: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="FIRMS source (repeatable) (default: VIIRS_NOAA20_NRT); one of "
            + ", ".join(SOURCES),
            show_default=False,
        ),
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="Bounding box W,S,E,N in degrees (WGS 84).")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Country by ISO 3166-1 alpha-3 code.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First day YYYY-MM-DD (UTC) of a new poll (default: the last --day-range days); "
            "a recorded poll resumes where it stopped.",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end", help="Last day YYYY-MM-DD (UTC) (default: today).", show_default=False
        ),
    ] = None,
    overlap_days: Annotated[
        int,
        typer.Option(
            "--overlap-days",
            min=0,
            help="Recent days fetched again next poll, since FIRMS still revises them.",
        ),
    ] = DEFAULT_OVERLAP_DAYS,
    day_range: Annotated[
        int | None,
        typer.Option(
            "--day-range",
            min=1,
            max=10,
            help="Days per request and file (1-10) of a new poll (default: 10).",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="FIRMS service root (default: $FIRMS_BASE_URL or the NASA service).",
            show_default=False,
        ),
    ] = None,
    min_interval_s: Annotated[
        float,
        typer.Option("--min-interval", min=0.0, help="Least seconds between two requests."),
    ] = 1.0,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Attempts per request, retries included.")
    ] = 5,
    ingest: Annotated[
        bool,
        typer.Option("--ingest/--no-ingest", help="Ingest each file into --home once written."),
    ] = False,
    home: _HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Fetch new FIRMS detections of an area or country into CSV files, resumably.

    The MAP_KEY is read from $FIRMS_MAP_KEY. Each run fetches from where the last
    one stopped (recorded in OUT/.firms-poll-state.json) up to today (UTC), one
    file per page of --day-range days, each the CSV exactly as served; the last
    --overlap-days days are fetched again on the next run because FIRMS revises
    them. See docs/satellite-firms-api.md.
    """
    region = _region(area, country)
    try:
        first = parse_date(start) if start is not None else None
        last = parse_date(end) if end is not None else None
        client = FirmsClient.from_env(
            base_url=base_url,
            min_interval_s=min_interval_s,
            retry=RetryPolicy(max_attempts=max_attempts),
            on_retry=_on_retry,
        )
    except (FirmsParameterError, FirmsKeyError) as exc:
        raise fail(str(exc), 2) from None
    with contextlib.ExitStack() as stack:
        workspace = None
        if ingest:
            from truceline.workspace import Workspace, resolve_home

            try:
                workspace = stack.enter_context(Workspace(resolve_home(home)))
            except (TrucelineError, RuntimeError, OSError) as exc:
                raise fail(str(exc)) from None
        try:
            result = poll(
                client,
                out_dir=out_dir,
                region=region,
                sources=sources or ["VIIRS_NOAA20_NRT"],
                start=first,
                end=last,
                overlap_days=overlap_days,
                day_range=day_range,
                workspace=workspace,
                on_page=None if as_json else _print_page,
            )
        except (PollConfigError, FirmsParameterError) as exc:
            raise fail(str(exc), 2) from None
        except PollError as exc:
            if as_json:
                pages = [_page_json(page) for page in exc.pages]
                out.print_json(data={"pages": pages, "error": str(exc)})
            raise fail(str(exc)) from None
        except (TrucelineError, OSError) as exc:
            raise fail(str(exc)) from None
    if as_json:
        out.print_json(data=_summary(result))
        return
    for stream in result.streams:
        through = stream.complete_through.isoformat() if stream.complete_through else "nothing yet"
        out.print(
            f"{stream.source} {stream.region.key}: final through {through}, "
            f"fetched through {stream.fetched_through or 'nothing yet'}",
            highlight=False,
            markup=False,
        )
