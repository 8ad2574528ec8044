"""Accuracy of the whole pipeline on every scenario family.

Runs ``truceline demo`` (simulate -> ingest -> run -> report -> score) in a
temporary directory: the ``default`` family for seeds 0-4, ``dense-shelling``
and ``quiet-week`` for seeds 0-1, each at the family's own length. Reports:

* for ``default``, as before, per seed and pooled: violation precision and
  recall, the median and 90th-percentile location error of matched
  violations, escalations, attribution and the wall time of each demo
  (``demo_accuracy_per_seed``, ``demo_precision_pooled``...);
* per family (``demo_family_<family>``, dashes as underscores): per seed the
  event-level precision, recall and F1 with misses split into association
  errors and sensing gaps, GOSPA (Stone Soup; c, missed, false, mean
  localisation), violation precision/recall, attribution accuracy and the
  undetermined share, escalations, whether each of issue 6's targets is met,
  and the wall time; pooled over seeds the event and violation figures and
  the number of seeds meeting each target.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from truceline.demo import run_demo

SEEDS = (0, 1, 2, 3, 4)
#: Seeds run per family (the default family's are :data:`SEEDS`).
FAMILY_SEEDS = {"default": SEEDS, "dense-shelling": (0, 1), "quiet-week": (0, 1)}


def _demo(family: str, seed: int) -> tuple[dict[str, Any], float]:
    out = Path(tempfile.mkdtemp(prefix=f"bench-demo-{family}-{seed}-"))
    try:
        start = time.perf_counter()
        result = run_demo(out, out / "home", seed=seed, family=family, console=Console(quiet=True))
        return result.score, time.perf_counter() - start
    finally:
        shutil.rmtree(out)


def _seed_figures(score: dict[str, Any], seconds: float) -> dict[str, Any]:
    events, gospa = score["events"], score["gospa"]
    return {
        "events": {
            key: events[key]
            for key in (
                "true",
                "locatable",
                "found",
                "matched",
                "precision",
                "recall",
                "f1",
                "missed",
                "sensing_gaps",
                "false",
            )
        },
        "events_f1_by_category": {c: v["f1"] for c, v in events["by_category"].items()},
        "gospa": {
            key: gospa[key]
            for key in ("c_m", "distance", "missed_count", "false_count", "mean_localisation_m")
        },
        "violations": score["violations"],
        "attribution": {
            key: score["attribution"][key] for key in ("accuracy", "undetermined_share")
        },
        "escalations": score["escalations"],
        "targets_met": {name: target["met"] for name, target in score["targets"].items()},
        "seconds": round(seconds, 2),
    }


def _pooled(per_seed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def total(group: str, key: str) -> int:
        return sum(int(s[group][key]) for s in per_seed.values())

    matched, found = total("events", "matched"), total("events", "found")
    association = sum(sum(s["events"]["missed"].values()) for s in per_seed.values())
    precision = matched / found if found else None
    recall = matched / (matched + association) if matched + association else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    v_matched, v_found = total("violations", "matched"), total("violations", "found")
    v_true = total("violations", "true")
    targets = next(iter(per_seed.values()))["targets_met"]
    return {
        "event_precision": None if precision is None else round(precision, 4),
        "event_recall": None if recall is None else round(recall, 4),
        "event_f1": None if f1 is None else round(f1, 4),
        "violation_precision": round(v_matched / v_found, 4) if v_found else None,
        "violation_recall": round(v_matched / v_true, 4) if v_true else None,
        "seeds_meeting_target": {
            name: f"{sum(bool(s['targets_met'][name]) for s in per_seed.values())}/{len(per_seed)}"
            for name in targets
        },
    }


def _legacy(scores: dict[int, tuple[dict[str, Any], float]]) -> dict[str, object]:
    """The default family's figures under their historical names."""
    per_seed: dict[str, object] = {}
    true_total = found_total = matched_total = 0
    escalations_ok = 0
    attributed_total = correct_total = undetermined_total = 0
    for seed, (score, elapsed) in scores.items():
        v, e = score["violations"], score["escalations"]
        true_total += v["true"]
        found_total += v["found"]
        matched_total += v["matched"]
        escalations_ok += e["true"] == e["matched"] == e["raised"]
        attributed_total += score["attribution"]["attributed"]
        correct_total += score["attribution"]["correct"]
        undetermined_total += score["attribution"]["undetermined"]
        per_seed[str(seed)] = {
            "true": v["true"],
            "found": v["found"],
            "matched": v["matched"],
            "precision": v["precision"],
            "recall": v["recall"],
            "location_error_m": score["location_error_m"],
            "escalations": e,
            "attribution": score["attribution"],
            "seconds": round(elapsed, 2),
        }
    return {
        "demo_accuracy_per_seed": per_seed,
        "demo_precision_pooled": round(matched_total / found_total, 4),
        "demo_recall_pooled": round(matched_total / true_total, 4),
        "demo_seeds_with_exact_escalations": f"{escalations_ok}/{len(scores)}",
        "demo_attribution_accuracy_pooled": round(correct_total / max(attributed_total, 1), 4),
        "demo_attribution_undetermined_share_pooled": round(
            undetermined_total / max(attributed_total + undetermined_total, 1), 4
        ),
    }


def run() -> dict[str, object]:
    figures: dict[str, object] = {}
    for family, seeds in FAMILY_SEEDS.items():
        scores = {seed: _demo(family, seed) for seed in seeds}
        per_seed = {str(seed): _seed_figures(*scores[seed]) for seed in seeds}
        figures[f"demo_family_{family.replace('-', '_')}"] = {
            "seeds": per_seed,
            "pooled": _pooled(per_seed),
        }
        if family == "default":
            figures.update(_legacy(scores))
    return figures
