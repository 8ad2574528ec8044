"""Scoring a run against a scenario's ground truth.

:func:`score_run` writes what ``score.json`` holds: violations
(:func:`score_findings`), attribution, escalations, event-level F1
(:func:`score_events`) and Stone Soup's GOSPA (:func:`gospa_score`), with
issue 6's targets.
"""

from truceline.evaluation.events import EventGates, score_events
from truceline.evaluation.gospa import GospaSettings, gospa_score
from truceline.evaluation.score import MatchGates, score_findings
from truceline.evaluation.scorecard import TARGETS, score_run

__all__ = [
    "TARGETS",
    "EventGates",
    "GospaSettings",
    "MatchGates",
    "gospa_score",
    "score_events",
    "score_findings",
    "score_run",
]
