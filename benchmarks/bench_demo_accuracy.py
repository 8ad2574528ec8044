"""Accuracy of the whole pipeline on the built-in scenario, for five seeds.

Runs ``truceline demo`` (simulate -> ingest -> run -> report -> score) for seeds
0-4 in a temporary directory and reports, per seed and overall, violation
precision and recall, the median and 90th-percentile location error of matched
violations, escalations, and the wall time of each demo.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from rich.console import Console

from truceline.demo import run_demo

SEEDS = (0, 1, 2, 3, 4)


def run() -> dict[str, object]:
    per_seed: dict[str, object] = {}
    true_total = found_total = matched_total = 0
    escalations_ok = 0
    attributed_total = correct_total = undetermined_total = 0
    for seed in SEEDS:
        out = Path(tempfile.mkdtemp(prefix=f"bench-demo-{seed}-"))
        try:
            start = time.perf_counter()
            result = run_demo(out, out / "home", seed=seed, console=Console(quiet=True))
            elapsed = time.perf_counter() - start
        finally:
            shutil.rmtree(out)
        score = result.score
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
        "demo_seeds_with_exact_escalations": f"{escalations_ok}/{len(SEEDS)}",
        "demo_attribution_accuracy_pooled": round(correct_total / max(attributed_total, 1), 4),
        "demo_attribution_undetermined_share_pooled": round(
            undetermined_total / max(attributed_total + undetermined_total, 1), 4
        ),
    }
