"""Escalation: which findings count as escalated, and in what order they are listed."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from reports.reports_testkit import make_finding, with_findings
from truceline.reports import EscalationScale, ReportError, ReportInput, write_report


def test_scale_from_the_agreement_levels() -> None:
    scale = EscalationScale(("log", "notify", "urgent", "attack"))
    assert not scale.escalated("log")
    assert scale.escalated("notify") and scale.escalated("attack")
    assert scale.escalated("mystery"), "an unlisted level is shown, not hidden"
    assert scale.rank("log") == 0 and scale.rank("attack") == 3 and scale.rank("mystery") == 4
    assert scale.order(["attack", "log", "notify", "attack"]) == ["log", "notify", "attack"]


def test_scale_without_levels_falls_back_to_names() -> None:
    scale = EscalationScale()
    assert not scale.escalated("none") and not scale.escalated(" Log ")
    assert not scale.escalated("")
    assert scale.escalated("guarantors")


def test_empty_scale_is_refused() -> None:
    with pytest.raises(ReportError, match="at least one level"):
        EscalationScale(())


def test_agreement_levels_decide_escalated_and_order(
    tmp_path: Path, report_input: ReportInput
) -> None:
    findings = [
        make_finding(escalation_level="notify", evidence=("n",)),
        make_finding(escalation_level="attack", evidence=("a",)),
        make_finding(escalation_level="log", evidence=("l",)),
    ]
    data = replace(
        with_findings(report_input, findings),
        escalation_levels=("log", "notify", "urgent", "attack"),
    )
    files = write_report(tmp_path, data)
    by_level = {f.escalation_level: f.id for f in findings}

    page = files.html.read_text(encoding="utf-8")
    section = page[page.index("<h2>Escalations</h2>") :]
    linked = re.findall(r'href="#finding-([0-9a-f]{64})"', section)
    assert linked == [by_level["attack"], by_level["notify"]]
    levels_table = page[page.index("Findings by escalation level") :]
    assert levels_table.index("<th>log</th>") < levels_table.index("<th>notify</th>")
    assert levels_table.index("<th>notify</th>") < levels_table.index("<th>attack</th>")

    rows = {
        r["escalation_level"]: r["escalated"]
        for r in csv.DictReader(io.StringIO(files.csv.read_text()))
    }
    assert rows == {"log": "false", "notify": "true", "attack": "true"}
    collection = json.loads(files.geojson.read_text())
    assert collection["metadata"]["escalation_levels"] == ["log", "notify", "urgent", "attack"]
    flags = {
        f["properties"]["escalation_level"]: f["properties"]["escalated"]
        for f in collection["features"]
    }
    assert flags == {"log": False, "notify": True, "attack": True}
