"""docs/agreement.md is executable: its examples validate and its outputs are current."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import yaml

from agreement.agreement_testkit import DAY, event, offset
from truceline.agreement import adjudicate, check_agreement, format_issues, load_agreement
from truceline.agreement.patterns import is_pattern_finding, with_patterns
from truceline.model.timeutil import parse_utc

DOC = Path(__file__).resolve().parents[2] / "docs" / "agreement.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC.read_text()) if lang == language]


def test_every_yaml_block_parses() -> None:
    for body in blocks("yaml"):
        yaml.safe_load(body)


def test_annotated_example_is_valid(tmp_path: Path) -> None:
    (example,) = [b for b in blocks("yaml") if b.startswith("format: truceline-agreement/1")]
    path = tmp_path / "agreement.yaml"
    path.write_text(example)
    assert check_agreement(path) == []
    agreement = load_agreement(path)
    assert agreement.id == "river-ceasefire" and agreement.version == 2
    assert agreement.side_of(30.2, 48.0) == "east"
    assert "east-15km" in agreement.zones_at(30.2, 48.0)


def test_quoted_explanation_is_what_adjudication_writes(tmp_path: Path) -> None:
    (example,) = [b for b in blocks("yaml") if b.startswith("format: truceline-agreement/1")]
    path = tmp_path / "agreement.yaml"
    path.write_text(example)
    agreement = load_agreement(path)
    strike = event("impact", offset(-40_000), time=agreement.effective_from + DAY)
    (finding,) = [f for f in adjudicate([strike], [agreement]) if f.rule_id == "deep-strike"]
    quoted = re.search(r"^> (Impact.*?)\n\n", DOC.read_text(), re.MULTILINE | re.DOTALL)
    assert quoted is not None
    assert " ".join(line.removeprefix("> ") for line in quoted.group(1).splitlines()) == (
        finding.explanation
    )
    assert finding.escalation_level == "attack"


def test_quoted_pattern_explanation_is_what_pattern_judging_writes(tmp_path: Path) -> None:
    (example,) = [b for b in blocks("yaml") if b.startswith("format: truceline-agreement/1")]
    path = tmp_path / "agreement.yaml"
    path.write_text(example)
    agreement = load_agreement(path)
    start = parse_utc("2026-12-02T02:00:00Z")
    barrage = [
        event(
            "explosion",
            offset(3000 + 150 * i, lat=47.60 + 0.006 * i, lon=30.05),
            time=start + timedelta(minutes=30 * i),
            members=(f"obs-{i}",),
        )
        for i in range(7)
    ]
    findings = with_patterns(adjudicate(barrage, [agreement]), [agreement], barrage)
    (pattern,) = [f for f in findings if is_pattern_finding(f)]
    quoted = re.search(r"^> (Sustained fire.*?)\n\n", DOC.read_text(), re.MULTILINE | re.DOTALL)
    assert quoted is not None
    assert " ".join(line.removeprefix("> ") for line in quoted.group(1).splitlines()) == (
        pattern.explanation
    )
    assert pattern.escalation_level == "attack" and pattern.severity == "critical"
    assert len(pattern.attributes["pattern"]["events"]) == 7


def test_broken_example_output_is_current(tmp_path: Path) -> None:
    (broken,) = [b for b in blocks("yaml") if b.startswith("# broken example")]
    path = tmp_path / "broken.yaml"
    path.write_text(broken)
    printed = format_issues("broken.yaml", check_agreement(path))
    (expected,) = [b for b in blocks("text") if b.startswith("broken.yaml:")]
    assert printed == expected.splitlines()
