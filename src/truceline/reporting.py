"""Write the report of a workspace's current run (``truceline report``)."""

from __future__ import annotations

from pathlib import Path

from truceline.model.errors import TrucelineError
from truceline.reports import ReportInput, write_report
from truceline.runs import agreement_from_body
from truceline.workspace import Workspace

__all__ = ["write_run_report"]


def write_run_report(workspace: Workspace, out_dir: Path, title: str | None = None) -> list[Path]:
    """Write ``report.html``, ``findings.geojson``, ``findings.csv`` and ``map.png``.

    The map shows the latest agreement version in the log; the period spans every
    observation; the summary names the log prefix and digests of the last run so
    a reader can check the report against the evidence log.
    """
    store = workspace.store
    bodies = store.agreements()
    if not bodies:
        raise TrucelineError("no agreement in the log: run 'truceline agreement add FILE' first")
    runs = [run for run in store.runs() if run.get("result")]
    if not runs:
        raise TrucelineError("no run in the log yet: run 'truceline run' first")
    run = runs[-1]
    agreements = sorted(
        (agreement_from_body(body) for body in bodies), key=lambda a: (a.version, a.version_id)
    )
    agreement = agreements[-1]
    period = store.observation_time_range()
    if period is None:
        raise TrucelineError("no observations in the log: nothing to report")
    counts = store.counts()
    result = run["result"]
    summary = {
        "period_start": period[0],
        "period_end": period[1],
        "observations": counts["observations"],
        "log_size": run["body"]["log_size"],
        "root_hash": run["body"]["root_hash"],
        "run_digest": result["findings_digest"],
        "run_id": run["id"],
        "events_digest": result["events_digest"],
        "config_digest": run["body"]["config_digest"],
        "agreement_version_id": agreement.version_id,
        "unassociated_observations": result["unassociated"],
    }
    data = ReportInput(
        agreement=agreement,
        findings=store.findings(),
        events=store.events(),
        coverage=store.coverage(),
        summary=summary,
        title=title or f"{agreement.title or agreement.id}: ceasefire monitoring report",
        escalation_levels=agreement.escalation.levels,
    )
    return list(write_report(out_dir, data).all())
