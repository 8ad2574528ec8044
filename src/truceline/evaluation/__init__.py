"""Scoring findings against a scenario's ground truth."""

from truceline.evaluation.score import MatchGates, score_findings

__all__ = ["MatchGates", "score_findings"]
