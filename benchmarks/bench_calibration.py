"""Calibration of event confidence on held-out simulated scenarios.

Runs ``truceline demo`` for the held-out seeds :data:`TEST_SEEDS` (simulate ->
ingest through the real adapters -> beamform -> change detection -> fuse ->
judge), labels every fused event against the scenario's truth (real; real and
of the stated kind) and measures how well the stated probabilities match:
Brier score with its reliability/resolution/uncertainty decomposition, the
expected calibration error and the reliability diagram (10 bins: mean
predicted, observed frequency, count, 95 % Wilson interval), for ``P(real)``
and for the final confidence, under

* ``configured``: the reliabilities the sensors' descriptions give (the
  default :class:`~truceline.fusion.FusionConfig`);
* ``profile``: the packaged calibration profile
  ``truceline/fusion/data/reliability-sim-v1.yaml`` — reliabilities re-estimated
  (Beta-Binomial) and an isotonic map fitted on *other* seeds (its
  provenance names them and the command that produced it; the benchmark
  refuses to run if they overlap :data:`TEST_SEEDS`).

Figures are also given without thermal anomalies, which are most of the
events and almost all real. A PNG of the diagrams is written to
``$TRUCELINE_BENCH_DIR`` (default ``bench-out/``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from truceline.evaluation.calibration import calibration_summary
from truceline.evaluation.calibration_study import (
    ScenarioSample,
    ScoredEvent,
    rescore,
    simulate_sample,
)
from truceline.fusion.config import FusionConfig
from truceline.fusion.reliability_file import (
    load_reliability_file,
    packaged_reliability_file,
    with_reliability_file,
)

TEST_SEEDS = (201, 202, 203)
PROFILE = "reliability-sim-v1"
BINS = 10


def _summaries(scored: Sequence[ScoredEvent]) -> dict[str, Any]:
    return {
        "p_real": calibration_summary(
            [s.p_real for s in scored], [s.label.real for s in scored], BINS
        ),
        "confidence": calibration_summary(
            [s.confidence for s in scored], [s.label.kind_correct for s in scored], BINS
        ),
    }


def _plot(results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.8), constrained_layout=True)
    titles = {"p_real": "P(real) vs real", "confidence": "confidence vs real and kind correct"}
    for ax, target in zip(axes, ("p_real", "confidence"), strict=True):
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="calibrated")
        for name, colour in (("configured", "tab:red"), ("profile", "tab:blue")):
            summary = results[name][target]
            bins = summary["diagram"]
            x = [b["mean_predicted"] for b in bins]
            y = [b["observed"] for b in bins]
            low = [b["observed"] - b["wilson95"][0] for b in bins]
            high = [b["wilson95"][1] - b["observed"] for b in bins]
            brier = summary["brier"]["brier"]
            ax.errorbar(
                x,
                y,
                yerr=[low, high],
                color=colour,
                capsize=3,
                lw=1,
                label=f"{name} (Brier {brier:.4f})",
            )
            # Marker area grows with the number of events in the bin.
            sizes = [12 + 6 * b["count"] ** 0.5 for b in bins]
            ax.scatter(x, y, s=sizes, color=colour, alpha=0.7, zorder=3)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="stated probability", ylabel="observed frequency")
        ax.set_title(titles[target])
        ax.legend(loc="upper left", fontsize=8)
    seeds = ", ".join(map(str, TEST_SEEDS))
    fig.suptitle(f"held-out seeds {seeds}: 95 % Wilson intervals, marker area ~ events")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run() -> dict[str, object]:
    profile_path = packaged_reliability_file(PROFILE)
    provenance = load_reliability_file(profile_path).provenance
    trained = {int(s) for s in provenance.get("train_seeds") or []}
    if trained & set(TEST_SEEDS):
        raise RuntimeError(f"{PROFILE} was fitted on held-out seeds {sorted(trained)}")
    configs = {
        "configured": FusionConfig(),
        "profile": with_reliability_file(FusionConfig(), profile_path),
    }
    work = Path(tempfile.mkdtemp(prefix="bench-calibration-"))
    samples: list[ScenarioSample] = []
    start = time.perf_counter()
    try:
        for seed in TEST_SEEDS:
            samples.append(simulate_sample(seed, work))
    finally:
        shutil.rmtree(work)
    elapsed = time.perf_counter() - start
    results: dict[str, dict[str, Any]] = {}
    for name, config in configs.items():
        scored = [e for sample in samples for e in rescore(sample, config)]
        results[name] = _summaries(scored)
        results[name + "_without_thermal"] = _summaries(
            [e for e in scored if e.kind != "thermal_anomaly"]
        )
    plot = Path(os.environ.get("TRUCELINE_BENCH_DIR", "bench-out")) / "calibration.png"
    _plot(results, plot)
    figures: dict[str, object] = {
        "calibration_test_seeds": list(TEST_SEEDS),
        "calibration_profile": PROFILE,
        "calibration_profile_train_seeds": sorted(trained),
        "calibration_events": sum(len(s.events) for s in samples),
        "calibration_diagram_png": str(plot),
        "calibration_simulation_seconds": round(elapsed, 1),
    }
    for name, summary in results.items():
        for target in ("p_real", "confidence"):
            key = f"calibration_{target}_{name}"
            figures[f"{key}_brier"] = summary[target]["brier"]
            figures[f"{key}_ece"] = summary[target]["ece"]
            figures[f"{key}_diagram"] = summary[target]["diagram"]
    return figures
