"""Score findings against ``truth.json`` so anyone can see how well it works.

A *found violation* is an event with at least one finding (an event breaking two
rules is still one violation). Found violations are matched one-to-one to true
violations by an optimal assignment (Hungarian algorithm, minimising distance)
among pairs of the same category that pass distance and time gates; unmatched
found violations are false positives, unmatched true ones are misses.

Within the fire category a found launch may stand for a true impact and the
other way round (a poorly classified event is still the violation), but a pair
of the same *role* — where a round left from, or where it landed — is preferred:
a pair of different roles costs ``MatchGates.role_mismatch_m`` more. Without
that, counter-battery fire (shells landing where a battery fired minutes
before) crosses launches with impacts in the assignment at equal cost, and the
attribution of a launch ("who fired from here") is compared with the truth of
an impact ("who fired at here").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from truceline.agreement.patterns import is_pattern_finding
from truceline.model.finding import Finding
from truceline.model.geo import geodesic_distance_m
from truceline.model.timeutil import format_utc, parse_utc

__all__ = ["MatchGates", "category", "score_findings"]

_CATEGORIES: Mapping[str, str] = {
    "explosion": "fire",
    "impact": "fire",
    "launch": "fire",
    "gunfire": "fire",
    "artillery_fire": "fire",
    "shelling": "fire",
    "rocket_strike": "fire",
    "live_fire": "fire",
    "equipment": "equipment",
    "heavy_weapon": "equipment",
    "military_presence": "presence",
}


def category(kind: str) -> str:
    """Matching category of an activity kind (``fire``, ``equipment``, ``presence``...)."""
    return _CATEGORIES.get(kind, kind)


def _role(kind: str) -> str:
    """Where a firing event is: ``launch`` (where it left from) or where it landed."""
    return "launch" if kind == "launch" else "landing"


@dataclass(frozen=True, slots=True)
class MatchGates:
    """Largest separation at which a finding can match a true violation.

    Attributes
    ----------
    fire_distance_m, fire_window_s
        For firing events: metres, and seconds between the times.
    equipment_distance_m
        For equipment sightings (static; time is not compared), metres.
    other_distance_m
        For every other category, metres.
    role_mismatch_m
        Added cost, metres, of matching a launch with an impact (or an explosion)
        rather than with its own role; at least ``fire_distance_m`` makes every
        same-role pair within the gates cheaper than any crossed one.
    """

    fire_distance_m: float = 3_000.0
    fire_window_s: float = 1_800.0
    equipment_distance_m: float = 1_000.0
    other_distance_m: float = 2_000.0
    role_mismatch_m: float = 3_000.0


def _feasible(truth: Mapping[str, Any], found: Mapping[str, Any], gates: MatchGates) -> float:
    """Matching cost (metres) when the pair may match, else infinity.

    The cost is the distance, plus ``gates.role_mismatch_m`` for a firing pair
    of different roles.
    """
    cat = category(str(truth["kind"]))
    if cat != category(str(found["kind"])):
        return float("inf")
    distance = geodesic_distance_m(
        float(truth["lon"]), float(truth["lat"]), float(found["lon"]), float(found["lat"])
    )
    if cat == "fire":
        start = parse_utc(str(truth["time"])).timestamp()
        end = parse_utc(str(truth.get("time_end") or truth["time"])).timestamp()
        t = float(found["t"])
        gap = max(start - t, t - end, 0.0)
        if gap > gates.fire_window_s or distance > gates.fire_distance_m:
            return float("inf")
        if _role(str(truth["kind"])) != _role(str(found["kind"])):
            return distance + gates.role_mismatch_m
    elif cat == "equipment":
        if distance > gates.equipment_distance_m:
            return float("inf")
    elif distance > gates.other_distance_m:
        return float("inf")
    return distance


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def score_findings(
    truth: Mapping[str, Any],
    findings: Sequence[Finding],
    escalation_level: str = "attack",
    gates: MatchGates | None = None,
) -> dict[str, Any]:
    """Score findings against a scenario truth.

    Parameters
    ----------
    truth
        Parsed ``truth.json`` (its ``events`` with ``violation`` and ``escalate`` flags).
    findings
        The run's findings.
    escalation_level
        The level that counts as an escalation to the guarantors.
    gates
        Matching gates.

    Returns
    -------
    dict
        ``{"violations": {"true", "found", "matched", "precision", "recall"},
        "location_error_m": {"median", "p90"}, "escalations": {"true", "raised",
        "matched"}, "attribution": {"attributed", "correct", "accuracy",
        "undetermined", "undetermined_share", ...}, "false_positives": [...],
        "missed": [...]}``. Attribution compares the party a matched finding is
        attributed to (who fired, or whose equipment) with the truth's party.
    """
    gates = gates or MatchGates()
    true_events = [e for e in truth["events"] if e.get("violation")]
    by_event: dict[str, dict[str, Any]] = {}
    # pattern findings (H-adj) judge groups of events, not one event: not scored here
    singles = [f for f in findings if not is_pattern_finding(f)]
    for finding in sorted(singles, key=lambda f: (f.time, f.event_id, f.rule_id)):
        record = by_event.setdefault(
            finding.event_id,
            {
                "event_id": finding.event_id,
                "kind": finding.kind,
                "lon": finding.lon,
                "lat": finding.lat,
                "t": finding.time.timestamp(),
                "time": format_utc(finding.time),
                "rules": [],
                "escalated": False,
                "attributed_party": (finding.attributes.get("attribution") or {}).get("party"),
            },
        )
        record["rules"].append(finding.rule_id)
        record["escalated"] = record["escalated"] or finding.escalation_level == escalation_level
    found = list(by_event.values())
    cost = np.full((len(true_events), len(found)), np.inf)
    for i, t in enumerate(true_events):
        for j, f in enumerate(found):
            cost[i, j] = _feasible(t, f, gates)
    pairs: list[tuple[int, int]] = []
    if true_events and found:
        finite = np.where(np.isfinite(cost), cost, 1e12)
        rows, cols = linear_sum_assignment(finite)
        pairs = [
            (int(r), int(c)) for r, c in zip(rows, cols, strict=True) if np.isfinite(cost[r, c])
        ]
    errors = sorted(
        geodesic_distance_m(
            float(true_events[r]["lon"]),
            float(true_events[r]["lat"]),
            float(found[c]["lon"]),
            float(found[c]["lat"]),
        )
        for r, c in pairs
    )
    matched_true = {r for r, _ in pairs}
    matched_found = {c for _, c in pairs}
    true_escalations = [i for i, e in enumerate(true_events) if e.get("escalate")]
    raised = [j for j, f in enumerate(found) if f["escalated"]]
    escalation_matches = sum(
        1 for r, c in pairs if true_events[r].get("escalate") and found[c]["escalated"]
    )
    attributed = correct = undetermined = 0
    for r, c in pairs:
        truth_party = true_events[r].get("party")
        party = found[c]["attributed_party"]
        if truth_party is None or party is None:
            continue
        if party == "undetermined":
            undetermined += 1
            continue
        attributed += 1
        correct += party == truth_party
    judged = attributed + undetermined
    return {
        "attribution": {
            "matched_with_party": judged,
            "attributed": attributed,
            "correct": correct,
            "accuracy": _ratio(correct, attributed),
            "undetermined": undetermined,
            "undetermined_share": _ratio(undetermined, judged),
        },
        "violations": {
            "true": len(true_events),
            "found": len(found),
            "matched": len(pairs),
            "precision": _ratio(len(pairs), len(found)),
            "recall": _ratio(len(pairs), len(true_events)),
        },
        "location_error_m": {
            "median": round(float(np.median(errors)), 1) if errors else None,
            "p90": round(float(np.percentile(errors, 90)), 1) if errors else None,
        },
        "escalations": {
            "true": len(true_escalations),
            "raised": len(raised),
            "matched": escalation_matches,
        },
        "false_positives": [
            {k: f[k] for k in ("event_id", "kind", "lon", "lat", "time", "rules")}
            for j, f in enumerate(found)
            if j not in matched_found
        ],
        "missed": [
            {k: t.get(k) for k in ("id", "kind", "lon", "lat", "time", "rules")}
            for i, t in enumerate(true_events)
            if i not in matched_true
        ],
    }
