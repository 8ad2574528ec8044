"""``truceline review``, ``truceline escalations`` and ``truceline verify-run``.

:func:`register` adds the commands to the main application (:mod:`truceline.cli`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from truceline._cli_common import HomeOption, JsonOption, console, fail, open_workspace, out
from truceline.model.errors import TrucelineError

__all__ = ["register"]


def review(
    finding: Annotated[str, typer.Argument(help="Finding id (or a unique prefix of 8+ chars).")],
    status: Annotated[
        str, typer.Option(help="verified | dismissed | inconclusive | under_review.")
    ],
    by: Annotated[str, typer.Option(help="Reviewer's name (recorded as given).")],
    note: Annotated[str | None, typer.Option(help="Reasoning, recorded with the ruling.")] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a monitor's ruling on a finding in the evidence log.

    The finding itself is never edited: the ruling is a new log entry, covered
    by the next signed tree head. There is no role system yet: --by is not
    authenticated, and keeping parties read-only is up to the deployment.
    """
    from truceline.review import ReviewError, add_review

    with open_workspace(home) as workspace:
        try:
            done = add_review(workspace, finding, status, by, note)
        except ReviewError as exc:
            raise fail(str(exc), 2) from None
    record = {**done.body(), "id": done.id, "seq": done.seq}
    if as_json:
        out.print_json(data=record)
        return
    out.print(
        f"finding {done.finding_id[:12]}… {done.status} by {done.by} "
        f"(log entry {done.seq}, {done.id[:12]}…)",
        highlight=False,
    )


def escalations(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Escalation records: top-level findings, who is alerted, and their evidence."""
    from truceline.agreement.escalation import escalations as logged

    with open_workspace(home) as workspace:
        records = logged(workspace.store)
    if as_json:
        sys.stdout.write(
            json.dumps([{"id": r.id, **r.to_dict()} for r in records], indent=1) + "\n"
        )
        return
    table = Table("level", "time", "rule", "kind", "notify", "evidence", "finding", "id")
    for record in records:
        finding = record.finding
        table.add_row(
            record.level,
            str(finding["time"]),
            str(finding["rule_id"]),
            str(finding["kind"]),
            ", ".join(record.notify),
            str(len(record.evidence)),
            str(finding["id"])[:12] + "…",
            record.id[:12] + "…",
        )
    out.print(table)
    out.print(f"{len(records)} escalation record(s)")


def _print_verification(report: Any) -> None:
    recorded = report.recorded
    out.print(f"run               {report.run_id}")
    out.print(f"log prefix        {report.log_size} entries, root {report.root_hash}")
    out.print(f"findings digest   recorded {recorded.get('findings_digest')}")
    out.print(f"                  re-derived {report.findings_digest}")
    out.print(f"findings          {report.findings} re-derived")
    out.print(f"escalations       {report.escalations_checked} record(s) rebuilt and compared")
    diff = report.store_diff
    if diff is None:
        out.print("store             not compared (it holds a later run's results)")
    else:
        for new_id in diff.added:
            out.print(f"[red]MISSING[/] from the store: finding {new_id}", highlight=False)
        for old_id in diff.removed:
            out.print(f"[red]EXTRA[/] in the store: finding {old_id}", highlight=False)
        for old_id, new_id in diff.changed:
            out.print(f"[red]CHANGED[/] store {old_id} ≠ re-derived {new_id}", highlight=False)
    for problem in report.problems:
        out.print(f"[red]FAIL[/] {escape(problem)}", highlight=False)


def verify_run_command(
    run_id: Annotated[
        str | None, typer.Argument(help="Run id or prefix [default: the latest run].")
    ] = None,
    digest: Annotated[
        str | None, typer.Option(help="Findings digest published elsewhere, to compare.")
    ] = None,
    agreement: Annotated[
        list[Path] | None,
        typer.Option(help="Your own copy of an agreement version the run must have used."),
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Re-derive a run's findings from the evidence log and check its published digests.

    Exits non-zero on any difference: recorded or given digest, agreement
    versions, escalation records, or the store's findings.
    """
    from truceline.verify_run import verify_run

    with open_workspace(home) as workspace, console.status("re-deriving the run from the log"):
        try:
            report = verify_run(workspace, run_id, digest=digest, agreements=tuple(agreement or ()))
        except TrucelineError as exc:  # VerifyRunError, AgreementError of a copy
            raise fail(str(exc)) from None
    if as_json:
        diff = report.store_diff
        out.print_json(
            data={
                "ok": report.ok,
                "run_id": report.run_id,
                "log_size": report.log_size,
                "root_hash": report.root_hash,
                "recorded_findings_digest": report.recorded.get("findings_digest"),
                "findings_digest": report.findings_digest,
                "events_digest": report.events_digest,
                "findings": report.findings,
                "escalations_checked": report.escalations_checked,
                "store": None
                if diff is None
                else {
                    "added": list(diff.added),
                    "removed": list(diff.removed),
                    "changed": [list(pair) for pair in diff.changed],
                },
                "problems": report.problems,
            }
        )
    else:
        _print_verification(report)
        if report.ok:
            out.print("run verified: every finding follows from the log and the agreement")
    if not report.ok:
        raise fail(f"run verification failed ({len(report.problems)} problem(s))")


def register(app: typer.Typer) -> None:
    """Add the commands to ``app``."""
    app.command()(review)
    app.command()(escalations)
    app.command("verify-run")(verify_run_command)
