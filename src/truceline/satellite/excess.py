"""The daily excess-activity test: which fire cell-days are improbable in peacetime.

For each day ``d`` and cell ``c`` (see :mod:`.baseline` for the model):

1. ``N`` — fire-days of the cell in the trailing ``window_days`` (30) days,
   and ``E`` — their expectation under the baseline, in the day's instrument
   era (windows at the start of the data are truncated to the days present).
2. A regional factor ``rho = max(1, exp(mean log((N + 1) / (E + 1))))`` over
   the surrounding ``region_cells`` x ``region_cells`` land cells scales ``E``
   up where a whole region burns more than usual (a drought summer), and is
   robust to a minority of cells burning far more (a front line).
3. ``N`` and ``E`` are summed over the 3 x 3 neighbourhood; under the baseline
   the sum is negative binomial (variance ``E + sum(E_i^2 / r_i)``) and its
   upper-tail probability is the cell-day's **probability** ``p``.
4. Persistence, in the spirit of the Economist's war-fire model: a fire-day is
   **flagged** when it, or a fire-day of the same cell up to ``follow_days``
   (30) earlier, has ``p`` below the calibrated threshold — excess repeated in
   a cell within weeks, and activity shortly after a flagged day.
5. The **conflict probability** is one minus the share of held-out peacetime
   fire cell-days (leave-one-year-out at fit time) whose statistic (the
   follow-window minimum ``p``) is at least as extreme.

Cells recognised as persistent heat sources, and cell-days inside exclusions,
are never flagged (their records say why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from truceline.model.errors import TrucelineError
from truceline.satellite._windows import box_sum, trailing_sum
from truceline.satellite.baseline import BaselineModel, day_slots
from truceline.satellite.exclusions import Exclusion, exclusion_mask
from truceline.satellite.firms_table import FirePoints

__all__ = ["CellDay", "ExcessResult", "NoDataError", "follow_min_pvalues", "score_excess"]

Array = npt.NDArray[np.float64]


class NoDataError(TrucelineError):
    """The requested date range holds no detections."""


@dataclass(frozen=True)
class CellDay:
    """One fire cell-day scored against the baseline (see the module docstring)."""

    cell: str
    lat: float
    lon: float
    date: str
    detections: int
    expected: float
    window_fire_days: int
    window_expected: float
    probability: float
    flagged: bool
    conflict_probability: float
    excluded: str | None

    def to_json(self) -> dict[str, Any]:
        """The record printed by ``truceline satellite score --json``."""
        return {
            "cell": self.cell,
            "lat": self.lat,
            "lon": self.lon,
            "date": self.date,
            "detections": self.detections,
            "expected": self.expected,
            "window_fire_days": self.window_fire_days,
            "window_expected": self.window_expected,
            "probability": self.probability,
            "flagged": self.flagged,
            "conflict_probability": self.conflict_probability,
            "excluded": self.excluded,
        }


@dataclass
class _Scored:
    days: npt.NDArray[np.datetime64]  # scored days
    count: Array  # detections (days, n_lat, n_lon)
    fire: npt.NDArray[np.bool_]
    p: Array  # own-day probability
    stat: Array  # follow-window minimum p
    window: Array  # N (cell's own)
    window_expected: Array  # rho * E (cell's own)
    expected: Array  # expected detections that day
    keep: npt.NDArray[np.bool_]  # not excluded, not persistent
    excluded: npt.NDArray[np.bool_]


def _score_arrays(
    model: BaselineModel,
    points: FirePoints,
    first: np.datetime64,
    last: np.datetime64,
    exclusions: Sequence[Exclusion],
) -> _Scored:
    cfg = model.config
    grid = model.grid
    first = first.astype("datetime64[D]")
    last = last.astype("datetime64[D]")
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    history = cfg.window_days - 1 + cfg.follow_days
    start = first - np.timedelta64(history, "D")
    sel = (points.day >= start) & (points.day <= last)
    in_range = (points.day >= first) & (points.day <= last)
    if not in_range.any():
        raise NoDataError(f"no detections between {first} and {last}")
    days = np.arange(start, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    i, j, inside = grid.index(points.lat[sel], points.lon[sel])
    t = (points.day[sel] - start).astype(np.int64)
    count = np.zeros((days.size, *grid.shape))
    np.add.at(count, (t[inside], i[inside], j[inside]), 1.0)
    fire = count > 0
    # expectations in each day's instrument era
    slots = day_slots(days)
    era = model.era_index(days)
    to_era = 1.0 / model.era_scale[era]
    q = model.q[slots] * to_era
    n_w = trailing_sum(fire.astype(np.float64), cfg.window_days)
    e_w = trailing_sum(q, cfg.window_days)
    if cfg.region_cells > 0:
        land = model.land().astype(np.float64)
        log_ratio = np.log((n_w + 1.0) / (e_w + 1.0)) * land[None]
        weight = box_sum(land[None], cfg.region_cells)
        mean_log = box_sum(log_ratio, cfg.region_cells) / np.maximum(weight, 1e-9)
        e_w = e_w * np.maximum(np.exp(mean_log), 1.0)
    n_s = box_sum(n_w, cfg.test_cells)
    e_s = box_sum(e_w, cfg.test_cells)
    v_s = box_sum(e_w**2 / model.dispersion[None], cfg.test_cells)
    size = e_s**2 / np.maximum(v_s, 1e-12)
    p = stats.nbinom.sf(np.rint(n_s) - 1.0, size, size / (size + e_s))
    p = np.where(fire, p, 1.0)
    # follow-window minimum over the cell's own fire-days
    stat = p.copy()
    for lag in range(1, cfg.follow_days + 1):
        stat[lag:] = np.minimum(stat[lag:], p[:-lag])
    excluded = (
        exclusion_mask(exclusions, grid, days) if exclusions else np.zeros(fire.shape, dtype=bool)
    )
    keep = ~excluded & ~model.persistent[None]
    off = history
    return _Scored(
        days=days[off:],
        count=count[off:],
        fire=fire[off:],
        p=p[off:],
        stat=stat[off:],
        window=n_w[off:],
        window_expected=e_w[off:],
        expected=(model.q_count[slots] * to_era)[off:],
        keep=keep[off:],
        excluded=excluded[off:],
    )


def follow_min_pvalues(
    model: BaselineModel,
    points: FirePoints,
    first: np.datetime64,
    last: np.datetime64,
    exclusions: Sequence[Exclusion] = (),
) -> tuple[Array, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The flagging statistic, fire-day mask and not-excluded mask for days ``first``..``last``."""
    scored = _score_arrays(model, points, first, last, exclusions)
    return scored.stat, scored.fire, scored.keep


@dataclass
class ExcessResult:
    """Scores of every fire cell-day in a date range, plus totals."""

    records: list[CellDay]
    first: str
    last: str
    alpha: float
    outside_grid: int

    @property
    def flagged(self) -> list[CellDay]:
        """The flagged cell-days."""
        return [r for r in self.records if r.flagged]


def score_excess(
    model: BaselineModel,
    points: FirePoints,
    first: np.datetime64 | None = None,
    last: np.datetime64 | None = None,
    exclusions: Sequence[Exclusion] = (),
) -> ExcessResult:
    """Score every fire cell-day of ``first``..``last`` (default: the data's range).

    Detections before ``first`` (up to ``window_days + follow_days`` days) are
    used as history.

    Raises
    ------
    NoDataError
        When the range holds no detections.
    """
    if len(points) == 0:
        raise NoDataError("no detections to score")
    first = (first if first is not None else points.day.min()).astype("datetime64[D]")
    last = (last if last is not None else points.day.max()).astype("datetime64[D]")
    s = _score_arrays(model, points, first, last, exclusions)
    _, _, inside = model.grid.index(points.lat, points.lon)
    in_range = (points.day >= first) & (points.day <= last)
    lat_c, lon_c = model.grid.centres()
    conflict = model.conflict_probability(np.log10(np.maximum(s.stat, 1e-300)))
    flagged = s.fire & s.keep & (s.stat < model.alpha)
    records = []
    for t, i, j in zip(*np.nonzero(s.fire), strict=True):
        if s.excluded[t, i, j]:
            why: str | None = "exclusion"
        elif model.persistent[i, j]:
            why = "persistent_heat_source"
        else:
            why = None
        records.append(
            CellDay(
                cell=model.grid.cell_id(int(i), int(j)),
                lat=round(float(lat_c[i, j]), 4),
                lon=round(float(lon_c[i, j]), 4),
                date=str(s.days[t]),
                detections=int(s.count[t, i, j]),
                expected=round(float(s.expected[t, i, j]), 6),
                window_fire_days=int(s.window[t, i, j]),
                window_expected=round(float(s.window_expected[t, i, j]), 6),
                probability=float(f"{s.p[t, i, j]:.6g}"),
                flagged=bool(flagged[t, i, j]),
                conflict_probability=round(float(conflict[t, i, j]), 6)
                if np.isfinite(conflict[t, i, j])
                else float("nan"),
                excluded=why,
            )
        )
    records.sort(key=lambda r: (r.date, r.cell))
    return ExcessResult(
        records=records,
        first=str(first),
        last=str(last),
        alpha=model.alpha,
        outside_grid=int((~inside & in_range).sum()),
    )
