"""The fusion engine against the skeleton's baseline: throughput, scaling, live latency.

Inputs
    * the scenario simulator's default scenario (3 days, seed 0), simulated,
      ingested through the real adapters and beamformed by
      :func:`truceline.demo.run_demo`;
    * the synthetic load of :func:`truceline.testing.fusion.fusion_load` (20
      sectors of a front, fires, shelling episodes with their fires and craters,
      bearings, parked weapons, false alarms) from 1,000 to 1,000,000
      observations.

Figures (one process, one core; wall-clock and CPU seconds are both given)
    * ``fusion_demo_*``: observations per second of the engine and of the
      baseline (:mod:`truceline.fusion.baseline`) on the demo scenario;
    * ``fusion_scaling``: per size, seconds and observations per second of the
      engine, and of the baseline up to the size it finishes within
      ``BASELINE_BUDGET_S`` (beyond, it is not run: its time grows faster than
      linearly); ``fusion_scaling_exponent`` is the log-log slope of the
      engine's time from 10,000 observations up (1 is linear);
    * ``fusion_live_*``: a home holding at least 100,000 events (the synthetic
      load ingested through the log and store), a :class:`~truceline.live.LiveEngine`
      started on it, then observations arriving one at a time — the next ones
      in time and late ones from the past — each committed to the log (ingest
      time reported apart) and then processed by ``poll()``: from reading the
      log to the recorded live run and the updated store rows. p50/p95/p99 and
      max of that latency; the peer is a full batch run (what the skeleton
      would have to do), measured once; ``fusion_live_logged_kb_*``: what
      each update appended to the evidence log (its live run, finding
      versions as patches, escalations), kilobytes.

Environment: ``TRUCELINE_BENCH_FUSION_MAX`` caps the largest scaling size and
``TRUCELINE_BENCH_FUSION_LIVE_EVENTS`` sets the live store's event count
(defaults 1,000,000 and 100,000) for quick runs.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from truceline.agreement.demo import write_demo_agreement
from truceline.evidence.log import ENTRIES
from truceline.fusion import FusionConfig
from truceline.fusion.baseline import fuse as baseline_fuse
from truceline.fusion.engine import fuse
from truceline.ingest.pipeline import commit_records
from truceline.live import LiveEngine
from truceline.model.observation import Observation
from truceline.runs import add_agreement, derive, digest_records
from truceline.testing.fusion import CONTACT_LINE, LoadRates, fusion_load
from truceline.workspace import Workspace

SIZES = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)
#: The baseline is not run at the next size once a run took longer than this, seconds.
BASELINE_BUDGET_S = 60.0
#: Arrivals timed in the live benchmark.
ARRIVALS = 300
#: Events per observation of the live store's load (measured on it: fires with
#: several hot spots, episodes of several rounds, sightings of parked weapons).
_LIVE_RATES = LoadRates(episodes=0.5)


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _pairs(observations: Sequence[Observation]) -> list[tuple[str, Observation]]:
    return [(o.id, o) for o in observations]


def _demo() -> dict[str, object]:
    from rich.console import Console

    from truceline.demo import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        demo = run_demo(Path(tmp), Path(tmp) / "home", seed=0, days=3, console=Console(quiet=True))
        with Workspace(demo.home) as workspace:
            pairs = workspace.store.observations()
            sensors = workspace.store.sensors()
            _, derive_wall, _ = _timed(
                lambda: derive(workspace.store, FusionConfig(), workspace.log.size)
            )
    new, wall, cpu = _timed(lambda: fuse(pairs, sensors))
    old, old_wall, old_cpu = _timed(lambda: baseline_fuse(pairs, sensors))
    return {
        "fusion_demo_observations": len(pairs),
        "fusion_demo_events": len(new.events),
        "fusion_demo_obs_per_s": round(len(pairs) / wall, 1),
        "fusion_demo_cpu_s": round(cpu, 3),
        "fusion_demo_baseline_events": len(old.events),
        "fusion_demo_baseline_obs_per_s": round(len(pairs) / old_wall, 1),
        "fusion_demo_baseline_cpu_s": round(old_cpu, 3),
        "fusion_demo_speedup_vs_baseline": round(old_wall / wall, 2),
        "fusion_demo_derive_s": round(derive_wall, 3),
    }


def _scaling(max_size: int) -> dict[str, object]:
    rows = []
    baseline_on = True
    for size in (s for s in SIZES if s <= max_size):
        pairs = _pairs(fusion_load(size))
        result, wall, cpu = _timed(lambda pairs=pairs: fuse(pairs))  # type: ignore[misc]
        row: dict[str, object] = {
            "observations": size,
            "events": len(result.events),
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "obs_per_s": round(size / wall, 1),
        }
        del result
        if baseline_on:
            old, old_wall, _ = _timed(lambda pairs=pairs: baseline_fuse(pairs))  # type: ignore[misc]
            row.update(
                baseline_events=len(old.events),
                baseline_wall_s=round(old_wall, 3),
                baseline_obs_per_s=round(size / old_wall, 1),
                speedup_vs_baseline=round(old_wall / wall, 2),
            )
            baseline_on = old_wall <= BASELINE_BUDGET_S
        else:
            row["baseline"] = f"not run: the previous size took over {BASELINE_BUDGET_S:g} s"
        rows.append(row)
        del pairs
    big = [(r["observations"], r["wall_s"]) for r in rows if int(str(r["observations"])) >= 10_000]
    exponent = None
    if len(big) >= 2:
        x = np.log([float(str(n)) for n, _ in big])
        y = np.log([float(str(t)) for _, t in big])
        exponent = round(float(np.polyfit(x, y, 1)[0]), 3)
    largest = rows[-1]
    return {
        "fusion_scaling": rows,
        "fusion_scaling_exponent": exponent,
        "fusion_batch_obs_per_s": largest["obs_per_s"],
        "fusion_batch_obs_per_s_at": largest["observations"],
    }


def _commit(workspace: Workspace, observations: Sequence[Observation], name: str) -> None:
    artifact = {
        "sha256": f"{abs(hash(name)):064x}"[-64:],
        "size": 0,
        "name": name,
        "format": "bench",
    }
    commit_records(workspace, observations, artifacts=[artifact], batch={"kind": "bench"})


def _live(target_events: int) -> dict[str, object]:
    # about 0.35 events per observation at these rates (measured: see the figures)
    n = int(target_events / 0.35)
    load = fusion_load(n + 2 * ARRIVALS, rates=_LIVE_RATES)
    rng = random.Random(7)
    late = set(rng.sample(range(n), ARRIVALS // 2))  # held back, arrive late
    history = [o for k, o in enumerate(load[:n]) if k not in late]
    arrivals = [load[k] for k in sorted(late)] + load[n : n + ARRIVALS - len(late)]
    rng.shuffle(arrivals)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        agreement = write_demo_agreement(Path(tmp) / "agreement", CONTACT_LINE)
        with Workspace(home) as workspace:
            add_agreement(workspace, agreement)
            _, ingest_wall, _ = _timed(
                lambda: [
                    _commit(workspace, history[k : k + 20_000], f"history-{k}")
                    for k in range(0, len(history), 20_000)
                ]
            )
            engine = LiveEngine(workspace, FusionConfig())
            _, start_wall, start_cpu = _timed(engine.start)
            events = workspace.store.counts()["events"]
            findings = len(engine.findings)
            latencies, commits, logged, changed = [], [], [], 0
            entries = workspace.log.directory / ENTRIES
            by_kind: dict[str, list[float]] = {}
            for k, obs in enumerate(arrivals):
                _, commit_wall, _ = _timed(lambda obs=obs, k=k: _commit(workspace, [obs], f"a{k}"))  # type: ignore[misc]
                size = entries.stat().st_size
                update, wall, _ = _timed(engine.poll)
                logged.append((entries.stat().st_size - size) / 1e3)
                latencies.append(wall)
                by_kind.setdefault(obs.kind, []).append(wall * 1e3)
                commits.append(commit_wall)
                changed += int(bool(update.findings_added or update.findings_removed))
            batch, peer_wall, _ = _timed(
                lambda: derive(workspace.store, FusionConfig(), workspace.log.size)
            )
            same = (engine.events_digest, engine.findings_digest) == (
                digest_records([e.to_record() for e in batch[0]]),
                digest_records([f.to_record() for f in batch[1]]),
            )
    ms = np.array(latencies) * 1e3
    return {
        "fusion_live_store_events": events,
        "fusion_live_store_findings": findings,
        "fusion_live_store_observations": len(history),
        "fusion_live_ingest_history_s": round(ingest_wall, 1),
        "fusion_live_start_s": round(start_wall, 1),
        "fusion_live_start_cpu_s": round(start_cpu, 1),
        "fusion_live_arrivals": len(arrivals),
        "fusion_live_arrivals_changing_findings": changed,
        "fusion_live_latency_ms_p50": round(float(np.percentile(ms, 50)), 1),
        "fusion_live_latency_ms_p95": round(float(np.percentile(ms, 95)), 1),
        "fusion_live_latency_ms_p99": round(float(np.percentile(ms, 99)), 1),
        "fusion_live_latency_ms_max": round(float(ms.max()), 1),
        "fusion_live_latency_ms_p99_by_kind": {
            kind: {
                "arrivals": len(v),
                "p50": round(float(np.percentile(v, 50)), 1),
                "p99": round(float(np.percentile(v, 99)), 1),
            }
            for kind, v in sorted(by_kind.items())
        },
        "fusion_live_commit_ms_p50": round(float(np.percentile(np.array(commits) * 1e3, 50)), 1),
        "fusion_live_logged_kb_per_update_p50": round(float(np.percentile(logged, 50)), 1),
        "fusion_live_logged_kb_per_update_max": round(float(max(logged)), 1),
        "fusion_live_peer_full_rerun_s": round(peer_wall, 1),
        "fusion_live_equals_batch": same,
    }


def run() -> dict[str, object]:
    """All fusion figures."""
    max_size = int(os.environ.get("TRUCELINE_BENCH_FUSION_MAX", SIZES[-1]))
    live_events = int(os.environ.get("TRUCELINE_BENCH_FUSION_LIVE_EVENTS", 100_000))
    figures: dict[str, object] = {}
    figures.update(_demo())
    figures.update(_scaling(max_size))
    figures.update(_live(live_events))
    figures["fusion_targets"] = {
        "live_p99_ms_max": 50.0,
        "batch_obs_per_s_min": 20_000.0,
        "live_p99_met": float(str(figures["fusion_live_latency_ms_p99"])) <= 50.0,
        "batch_met": float(str(figures["fusion_batch_obs_per_s"])) >= 20_000.0,
    }
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
