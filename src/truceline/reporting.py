"""Write the report of a workspace's current run (``truceline report``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from truceline.coverage.ground import ground_coverage
from truceline.ground.base import GROUND_MODALITIES
from truceline.model.coverage import Coverage
from truceline.model.errors import TrucelineError
from truceline.reports import ReportInput, write_report
from truceline.runs import agreement_from_body
from truceline.workspace import Workspace

__all__ = ["write_run_report"]


#: Ground sensors whose reach is local (regional infrasound arrays are left out).
LOCAL_GROUND_RANGE_M = 100_000.0


def _ground_coverage(workspace: Workspace) -> list[Coverage]:
    """Range circles of fixed ground sensors on the UTC days they reported anything.

    The log holds no heartbeat, so a sensor counts as running on a day when it
    sent at least one detection that day (a sensor that was up but heard
    nothing is then under-counted: the gaps stated are upper bounds for it).
    """
    store = workspace.store
    days: dict[str, set[datetime]] = {}
    for _, obs in store.observations():
        if obs.modality in GROUND_MODALITIES:
            day = obs.time.replace(hour=0, minute=0, second=0, microsecond=0)
            days.setdefault(obs.sensor_id, set()).add(day)
    windows: list[Coverage] = []
    for sensor in store.sensors():
        reach = sensor.detection_range_m
        if (
            sensor.id not in days
            or sensor.lon is None
            or sensor.lat is None
            or reach is None
            or reach > LOCAL_GROUND_RANGE_M
        ):
            continue
        for day in sorted(days[sensor.id]):
            windows.extend(ground_coverage(sensor, day, day + timedelta(days=1)))
    return windows


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
        coverage=[*store.coverage(), *_ground_coverage(workspace)],
        summary=summary,
        title=title or f"{agreement.title or agreement.id}: ceasefire monitoring report",
        escalation_levels=agreement.escalation.levels,
    )
    return list(write_report(out_dir, data).all())
