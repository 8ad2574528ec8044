"""Raster change detection: throughput and peak memory vs a plain numpy peer; synthetic ROC.

Throughput. A 10,000 x 10,000 x 12 float32 SAR stack (6 pre + 6 post
acquisitions, 4.8 GB, 512-pixel tiles, 3 x 3 targets every 100 pixels, written
strip by strip with :func:`truceline.satellite.raster.synthetic.write_sar_stack`)
is processed
twice, each in a fresh child process so that peak resident memory
(``ru_maxrss``) is measured per run:

* truceline: :func:`truceline.satellite.raster.run_change` with PWTT (Welch
  t -> z, 3 x 3 Stouffer window, BH threshold, polygons, GeoJSON), dask
  threads on every core, 1024-pixel chunks;
* peer: the same statistic in plain numpy, the whole stack loaded into memory
  (float32, in-place dB), one GeoTIFF written at the end, no vectorising.

Figures: pixels per second (wall) and per core (wall x threads), pixels per CPU
second, peak RSS, and truceline/peer ratios; the largest difference between
the two statistic rasters on sampled windows. Free disk space is checked first;
the size is scaled down (and said so) if the stack would not fit, or if the
peer would not fit in memory (then only the peer is skipped).

Accuracy. Target-level ROC of PWTT on a 240 x 240 stack: 6 + 6 acquisitions,
3 x 3-pixel targets rising 3 dB, one score per target (the statistic at its
centre) vs every 3 x 3 background patch >= 3 pixels from a target; for
Sentinel-1 GRDH speckle (ENL 4.4) and single-look speckle (ENL 1).

``python benchmarks/bench_satellite_change.py --size 2000`` runs a small stack.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window
from scipy import special

from truceline.satellite.raster import run_change
from truceline.satellite.raster.stats import box_sum
from truceline.satellite.raster.synthetic import (
    background_squares,
    roc,
    target_scores,
    write_sar_stack,
)

SIZE = int(os.environ.get("TRUCELINE_BENCH_CHANGE_SIZE", "10000"))
N_PRE = N_POST = 6
CHUNK = 1024
FPR_GRID = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child_ours(directory: Path, workers: int) -> dict[str, Any]:
    pre = sorted(directory.glob("s1_pre_*.tif"))
    post = sorted(directory.glob("s1_post_*.tif"))
    start, cpu = time.perf_counter(), _cpu_s()
    run = run_change(pre, post, directory / "ours", chunk=CHUNK, workers=workers)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_s": _cpu_s() - cpu,
        "peak_rss_bytes": _peak_rss_bytes(),
        "n_changes": run.n_changes,
        "timings_s": run.summary["timings_s"],
    }


def _child_numpy(directory: Path) -> dict[str, Any]:
    """PWTT in plain numpy: everything in memory at once."""
    pre_paths = sorted(directory.glob("s1_pre_*.tif"))
    post_paths = sorted(directory.glob("s1_post_*.tif"))
    start, cpu = time.perf_counter(), _cpu_s()
    moments = []
    for paths in (pre_paths, post_paths):
        stack = []
        for path in paths:
            with rasterio.open(path) as src:
                stack.append(src.read(1))
        data = np.stack(stack)
        del stack
        np.log10(data, out=data)
        data *= 10.0
        moments.append((len(paths), data.mean(axis=0), data.var(axis=0, ddof=1)))
        del data
    (n1, m1, v1), (n2, m2, v2) = moments
    a, b = v1 / n1, v2 / n2
    se2 = a + b
    t = (m2 - m1) / np.sqrt(se2)
    df = se2 * se2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    del a, b, se2, m1, m2, v1, v2
    z = np.sign(t) * -special.ndtri(special.stdtr(df.astype(np.float64), -np.abs(t)))
    del t, df
    counts = box_sum(np.ones(z.shape), 3)
    smoothed = (box_sum(z, 3) / np.sqrt(counts)).astype(np.float32)
    del z, counts
    with rasterio.open(pre_paths[0]) as src:
        profile = src.profile
    profile.update(count=1, compress="deflate", predictor=3, nodata=float("nan"), BIGTIFF="YES")
    with rasterio.open(directory / "peer.tif", "w", **profile) as dst:
        dst.write(smoothed, 1)
    return {
        "seconds": time.perf_counter() - start,
        "cpu_s": _cpu_s() - cpu,
        "peak_rss_bytes": _peak_rss_bytes(),
    }


def _in_child(kind: str, directory: Path, workers: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--dir", str(directory)]
    command += ["--workers", str(workers)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _memory_available_bytes() -> int:
    with Path("/proc/meminfo").open(encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def _fit_size(size: int, directory: Path) -> tuple[int, str | None]:
    """The largest size <= ``size`` whose stack and outputs fit on the disk (with 20 % spare)."""
    free = shutil.disk_usage(directory).free
    per_pixel = 4 * (N_PRE + N_POST) + 2 * 4  # the stack, plus two statistic rasters
    fitting = int((free / 1.2 / per_pixel) ** 0.5)
    if fitting >= size:
        return size, None
    fitting -= fitting % CHUNK if fitting > CHUNK else 0
    note = f"scaled down from {size} to {fitting}: {free / 1e9:.1f} GB free on {directory}"
    return fitting, note


def _max_difference(directory: Path, size: int) -> float:
    """Largest |truceline - peer| statistic over a few sampled windows."""
    worst = 0.0
    with (
        rasterio.open(directory / "ours" / "statistic.tif") as ours,
        rasterio.open(directory / "peer.tif") as peer,
    ):
        for row in (0, size // 2, max(size - 256, 0)):
            for col in (0, size // 3, max(size - 256, 0)):
                window = Window(col, row, min(256, size - col), min(256, size - row))
                a, b = ours.read(1, window=window), peer.read(1, window=window)
                worst = max(worst, float(np.nanmax(np.abs(a - b))))
    return worst


def _roc_figures(directory: Path, looks: float) -> dict[str, Any]:
    stack = write_sar_stack(
        directory / f"roc_{looks}", shape=(240, 240), looks=looks, change_db=3.0, seed=11
    )
    run = run_change(stack.pre, stack.post, directory / f"roc_{looks}_out", chunk=256)
    background = background_squares(stack.shape, stack.targets, 3, 3)
    auc, points = roc(
        target_scores(run.statistic_path, stack.targets),
        target_scores(run.statistic_path, background),
    )
    curve = []
    for fpr in FPR_GRID:
        tpr = max((p[2] for p in points if p[1] <= fpr), default=0.0)
        curve.append([fpr, round(tpr, 4)])
    return {
        "auc": round(auc, 4),
        "targets": len(stack.targets),
        "background_patches": len(background),
        "roc_fpr_tpr": curve,
    }


def run(size: int = SIZE) -> dict[str, object]:
    figures: dict[str, object] = {}
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-change-") as temp:
        directory = Path(temp)
        for looks in (4.4, 1.0):
            figures[f"change_pwtt_3db_3x3_roc_enl{looks:g}"] = _roc_figures(directory, looks)
        size, note = _fit_size(size, directory)
        if note:
            figures["change_bench_note"] = note
        start = time.perf_counter()
        # 3 x 3 targets every 100 pixels: 0.09 % of the scene changes.
        write_sar_stack(
            directory,
            n_pre=N_PRE,
            n_post=N_POST,
            shape=(size, size),
            spacing=100,
            strip=512,
            tile=512,
        )
        figures["change_stack_write_s"] = round(time.perf_counter() - start, 1)
        pixels = size * size
        stack_bytes = pixels * 4 * (N_PRE + N_POST)
        figures["change_stack"] = f"{size} x {size} x {N_PRE + N_POST} float32"
        figures["change_stack_gb"] = round(stack_bytes / 1e9, 2)
        ours = _in_child("ours", directory, workers)
        figures["change_truceline"] = _rates(ours, pixels, workers)
        figures["change_truceline"]["n_changes"] = ours["n_changes"]  # type: ignore[index]
        figures["change_truceline"]["stages_s"] = ours["timings_s"]  # type: ignore[index]
        available = _memory_available_bytes()
        if available < 3 * stack_bytes:
            needed, have = 3 * stack_bytes / 1e9, available / 1e9
            figures["change_numpy_peer_skipped"] = (
                f"needs ~{needed:.0f} GB of memory, {have:.0f} GB available"
            )
            return figures
        peer = _in_child("numpy", directory, 1)
        figures["change_numpy_peer"] = _rates(peer, pixels, 1)
        figures["change_speed_per_core_ratio_vs_numpy"] = round(
            figures["change_truceline"]["pixels_per_s_per_core"]  # type: ignore[index]
            / figures["change_numpy_peer"]["pixels_per_s_per_core"],  # type: ignore[index]
            3,
        )
        figures["change_wall_speed_ratio_vs_numpy"] = round(peer["seconds"] / ours["seconds"], 3)
        figures["change_peak_memory_ratio_vs_numpy"] = round(
            ours["peak_rss_bytes"] / peer["peak_rss_bytes"], 4
        )
        figures["change_statistic_max_abs_diff_vs_numpy"] = _max_difference(directory, size)
    return figures


def _rates(child: dict[str, Any], pixels: int, cores: int) -> dict[str, Any]:
    return {
        "seconds": round(child["seconds"], 2),
        "threads": cores,
        "pixels_per_s": round(pixels / child["seconds"]),
        "pixels_per_s_per_core": round(pixels / child["seconds"] / cores),
        "pixels_per_cpu_s": round(pixels / child["cpu_s"]),
        "peak_rss_mb": round(child["peak_rss_bytes"] / 1e6, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=SIZE, help="stack edge in pixels")
    parser.add_argument("--child", choices=["ours", "numpy"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(_child_ours(args.dir, args.workers)))
    elif args.child == "numpy":
        print(json.dumps(_child_numpy(args.dir)))
    else:
        print(json.dumps(run(args.size), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
