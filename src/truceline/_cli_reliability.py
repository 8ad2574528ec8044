"""``truceline reliabilities``: re-estimate source reliabilities from monitors' reviews.

:func:`register` adds the command group to the main application (:mod:`truceline.cli`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from truceline._cli_common import HomeOption, JsonOption, fail, open_workspace, out
from truceline.fusion.config import FusionConfig
from truceline.fusion.from_reviews import NoReviewsError, estimate_from_reviews
from truceline.fusion.reliability import DEFAULT_PRIOR_STRENGTH
from truceline.fusion.reliability_file import with_reliability_file, write_reliability_file
from truceline.model.errors import TrucelineError

__all__ = ["register"]

reliabilities_app = typer.Typer(
    help="Source reliabilities: re-estimate them from monitors' reviews.",
    no_args_is_help=True,
)


@reliabilities_app.command("estimate")
def estimate(
    out_file: Annotated[
        Path, typer.Option("--out", help="Reliability file (YAML) to write.", show_default=False)
    ],
    home: HomeOption = None,
    prior: Annotated[
        Path | None,
        typer.Option(
            help="Reliability file to start from (default: the reviewed run's own configuration).",
            show_default=False,
        ),
    ] = None,
    prior_strength: Annotated[
        float,
        typer.Option(min=1e-6, help="How many reviews the prior is worth."),
    ] = DEFAULT_PRIOR_STRENGTH,
    as_json: JsonOption = False,
) -> None:
    """Re-estimate reliabilities from the reviews of the current run's findings.

    Every event with a ``verified`` finding counts as real for the sources that
    reported it, every event whose reviewed findings were all ``dismissed`` as
    not real (Beta-Binomial, partially pooled per sensor class). The result is a
    reliability file for ``truceline run --reliabilities FILE``; the log is not
    changed.
    """
    with open_workspace(home) as workspace:
        store = workspace.store
        runs = store.runs()
        if not runs:
            raise fail("no run yet: run `truceline run`, review findings, then estimate")
        run = runs[-1]
        config = FusionConfig.from_dict(dict(run["body"]["config"]["fusion"]))
        try:
            if prior is not None:
                config = with_reliability_file(config, prior)
            result = estimate_from_reviews(store, config, prior_strength)
        except (NoReviewsError, TrucelineError) as exc:
            raise fail(str(exc), 2) from None
        provenance = {
            "source": "reviews",
            "run_id": result.run_id,
            "log_size": workspace.log.size,
            "root_hash": workspace.log.root_hash,
            "prior": str(prior) if prior is not None else "run configuration",
            "prior_strength": prior_strength,
            "reviews_used": result.reviews_used,
            "reviews_ignored": result.reviews_ignored,
            "events": result.tally.events,
        }
    try:
        write_reliability_file(
            out_file, result.config, provenance=provenance, estimates=result.estimates
        )
    except OSError as exc:
        raise fail(f"{out_file}: cannot write: {exc.strerror}", 2) from None
    if as_json:
        body = {**provenance, "out": str(out_file)}
        body["estimates"] = [e.to_dict() for e in result.estimates]
        out.print_json(json.dumps(body, sort_keys=True))
        return
    table = Table(title=f"reliabilities from {result.tally.events} reviewed event(s)")
    for column in ("level", "source", "kind", "prior", "reviews", "real", "posterior", "90 %"):
        table.add_column(column)
    for e in result.estimates:
        table.add_row(
            e.level,
            e.key,
            e.kind,
            f"{e.prior_mean:.3f}",
            str(e.trials),
            str(e.successes),
            f"{e.posterior_mean:.3f}",
            f"{e.interval[0]:.2f}–{e.interval[1]:.2f}",
        )
    out.print(table)
    out.print(f"written {out_file}; use it with `truceline run --reliabilities {out_file}`")


def register(app: typer.Typer) -> None:
    """Add the ``reliabilities`` command group to ``app``."""
    app.add_typer(reliabilities_app, name="reliabilities")
