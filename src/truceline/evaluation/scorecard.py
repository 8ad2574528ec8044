"""The whole ``score.json`` of a run against its scenario truth.

Keys (the first four from :func:`truceline.evaluation.score.score_findings`,
kept as they were):

``violations``, ``location_error_m``, ``false_positives``, ``missed``
    Found violations (events with findings) matched to true violations.
``attribution``
    Party attribution of the matched violations: ``accuracy`` over the
    attributed ones and the ``undetermined_share``.
``escalations``
    True escalations, top-level escalations raised by single-event findings
    and those matched; ``raised_by_patterns`` counts top-level pattern
    findings (sustained fire over a sector...), which the truth does not
    label.
``events``
    Event-level precision, recall and F1 of every fused event against every
    true event (:mod:`truceline.evaluation.events`).
``gospa``
    The same sets scored with Stone Soup's GOSPA
    (:mod:`truceline.evaluation.gospa`).
``targets``
    Each figure of issue 6's acceptance bar with its target and whether it is
    met: event F1 >= 0.95, violation precision >= 0.95 and recall >= 0.9,
    attribution accuracy >= 0.9, escalations exact (every true attack
    escalated, nothing else; in a scenario without a true attack not even a
    pattern escalation). A target with nothing to measure (no true
    violation in a quiet week) is ``vacuous`` and counts as met only if
    nothing was found where nothing was to be found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from truceline.agreement.patterns import is_pattern_finding
from truceline.evaluation.events import EventGates, score_events
from truceline.evaluation.gospa import GospaSettings, gospa_score
from truceline.evaluation.items import fused_items, locatable, truth_frame, truth_items
from truceline.evaluation.score import MatchGates, score_findings
from truceline.model.event import Event
from truceline.model.finding import Finding

__all__ = ["TARGETS", "score_run"]

#: Issue 6's acceptance targets.
TARGETS: Final[Mapping[str, float]] = {
    "event_f1": 0.95,
    "violation_precision": 0.95,
    "violation_recall": 0.9,
    "attribution_accuracy": 0.9,
}


def _target(value: float | None, target: float, vacuous_ok: bool) -> dict[str, Any]:
    if value is None:
        return {"value": None, "target": target, "met": vacuous_ok, "vacuous": True}
    return {"value": value, "target": target, "met": value >= target}


def _targets(score: Mapping[str, Any]) -> dict[str, Any]:
    violations, attribution = score["violations"], score["attribution"]
    escalations = score["escalations"]
    return {
        "event_f1": _target(score["events"]["f1"], TARGETS["event_f1"], False),
        "violation_precision": _target(
            violations["precision"], TARGETS["violation_precision"], violations["found"] == 0
        ),
        "violation_recall": _target(
            violations["recall"], TARGETS["violation_recall"], violations["true"] == 0
        ),
        "attribution_accuracy": _target(
            attribution["accuracy"],
            TARGETS["attribution_accuracy"],
            attribution["matched_with_party"] == 0,
        ),
        "escalations": {
            "true": escalations["true"],
            "raised": escalations["raised"],
            "matched": escalations["matched"],
            "raised_by_patterns": escalations["raised_by_patterns"],
            "met": escalations["true"] == escalations["matched"] == escalations["raised"]
            and (escalations["true"] > 0 or escalations["raised_by_patterns"] == 0),
        },
    }


def score_run(
    truth: Mapping[str, Any],
    events: Sequence[Event],
    findings: Sequence[Finding],
    *,
    escalation_level: str = "attack",
    violation_gates: MatchGates | None = None,
    event_gates: EventGates | None = None,
    gospa: GospaSettings | None = None,
) -> dict[str, Any]:
    """Score a run's events and findings against a parsed ``truth.json``.

    Parameters
    ----------
    truth
        The scenario truth.
    events, findings
        The run's fused events and findings.
    escalation_level
        The level that counts as an escalation to the guarantors.
    violation_gates, event_gates, gospa
        Matching settings of the violation, event and GOSPA scorers.

    Returns
    -------
    dict
        See the module docstring.
    """
    score = score_findings(truth, findings, escalation_level, violation_gates)
    score["escalations"]["raised_by_patterns"] = sum(
        1 for f in findings if is_pattern_finding(f) and f.escalation_level == escalation_level
    )
    gates = event_gates or EventGates()
    true_items = truth_items(truth)
    estimated = fused_items(events, truth_frame(truth))
    score["events"] = score_events(true_items, estimated, gates)
    scored_truth = [t for t in true_items if locatable(t, gates.min_acoustic_stations)]
    score["gospa"] = gospa_score(scored_truth, estimated, gospa)
    score["targets"] = _targets(score)
    return score
