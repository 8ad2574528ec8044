"""The fire-activity baseline: expected fire-days per grid cell and day of year.

What is modelled
----------------
For every cell of a 0.1° grid and every day of the year, the probability that
the cell holds at least one FIRMS detection that day (a *fire-day*), fitted on
peacetime years. Fire-days rather than pixel counts: one large fire lights tens
of pixels, and a burst of pixels on one day is not more evidence of fighting
than one.

* **Seasonality** — a centred moving mean over ±15 days of the training years,
  and over ±45 days, taking the larger (a harvest-burning season that shifts by
  weeks between years is still expected), smoothed with the eight neighbours
  (weight 0.3) so sparse cells borrow from their surroundings, with a floor.
* **Instrument eras** — FIRMS is MODIS-only before VIIRS (Suomi NPP data from
  2012-01-20); VIIRS 375 m sees several times more small fires. Each era's
  fire-day rate is estimated per cell (smoothed over 11 x 11 cells, shrunk to
  the national ratio) and older years are scaled into the latest era's units,
  so the model never reads an instrument change as a change in fire activity.
* **Burstiness** — trailing 30-day fire-day counts are negative binomial; the
  dispersion is estimated per cell from the training years' window counts
  (moments pooled over 5 x 5 cells, shrunk to the national value).
* **Persistent heat sources** — cells with fire on at least 20 % of days in at
  least 80 % of the training years (steel plants, gas flares, refineries) are
  recorded and never flagged: their detections say nothing about fighting.
* **Exclusions** — areas and periods left out of training (e.g. the 2014–2022
  Donbas conflict zone in "peacetime" years).
* **Calibration** — the daily test's threshold is set by leave-one-year-out
  over the most recent training years so that a chosen share of peacetime
  fire cell-days (``false_flag_rate``, 1 % by default) is flagged; the same
  held-out scores turn a cell-day's statistic into a conflict probability.

The test itself lives in :mod:`.excess`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from truceline.fileio import write_atomic
from truceline.model.errors import TrucelineError
from truceline.satellite._windows import box_sum, circular_mean, trailing_sum
from truceline.satellite.exclusions import Exclusion, exclusion_mask
from truceline.satellite.firms_table import FirePoints
from truceline.satellite.grid import Grid

__all__ = [
    "MODEL_FORMAT",
    "BaselineConfig",
    "BaselineModel",
    "ModelError",
    "day_slots",
    "fit_baseline",
    "load_model",
]

MODEL_FORMAT = "truceline-fire-baseline/1"
SLOTS = 365
Array = npt.NDArray[np.float64]


class ModelError(TrucelineError):
    """A model cannot be fitted, read or applied."""


@dataclass(frozen=True)
class BaselineConfig:
    """Parameters of the baseline and of its daily test (defaults as documented above).

    Attributes
    ----------
    cell_deg
        Grid cell size, degrees.
    window_days
        Trailing window of the fire-day count tested each day, days.
    season_half_widths
        Half-widths of the seasonal moving means, days.
    neighbour_weight
        Weight of the 3 x 3 neighbourhood mean in the smoothed rate.
    rate_floor
        Smallest daily fire-day probability of any cell.
    era_boundaries
        ISO dates at which the instrument mix changed (start of each new era).
    era_smoothing_cells, dispersion_cells
        Box sizes (cells) for the era ratio and the dispersion moments.
    dispersion_prior
        Weight (in summed squared expectations) of the national dispersion.
    region_cells
        Box (cells) of the regional activity factor: a drought year that makes a
        whole region burn more raises that region's expectation (never lowers it);
        0 turns the factor off.
    test_cells
        Box (cells) over which window counts are summed for the test.
    follow_days
        A fire-day within this many days after a significant day of its cell is
        flagged too (activity continuing a flagged episode), days.
    false_flag_rate
        Share of held-out peacetime fire cell-days the calibrated threshold flags.
    calibration_years
        How many of the most recent training years are held out in turn.
    persistent_fraction, persistent_years
        A cell is a persistent heat source when it has fire on at least
        ``persistent_fraction`` of days in at least ``persistent_years`` of years.
    min_year_span_days
        A year enters training only when its detections span this many days.
    """

    cell_deg: float = 0.1
    window_days: int = 30
    season_half_widths: tuple[int, ...] = (15, 45)
    neighbour_weight: float = 0.3
    rate_floor: float = 1e-4
    era_boundaries: tuple[str, ...] = ("2012-01-20",)
    era_smoothing_cells: int = 11
    dispersion_cells: int = 5
    dispersion_prior: float = 20.0
    region_cells: int = 21
    test_cells: int = 3
    follow_days: int = 30
    false_flag_rate: float = 0.01
    calibration_years: int = 5
    persistent_fraction: float = 0.2
    persistent_years: float = 0.8
    min_year_span_days: int = 180

    def eras(self) -> list[np.datetime64]:
        """Era start dates (``datetime64[D]``), ascending."""
        return sorted(np.datetime64(d, "D") for d in self.era_boundaries)

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        body = asdict(self)
        body["season_half_widths"] = list(self.season_half_widths)
        body["era_boundaries"] = list(self.era_boundaries)
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> BaselineConfig:
        """Inverse of :meth:`to_json`."""
        values = dict(body)
        values["season_half_widths"] = tuple(int(v) for v in values["season_half_widths"])
        values["era_boundaries"] = tuple(str(v) for v in values["era_boundaries"])
        return cls(**values)


def day_slots(days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
    """Day-of-year slot 0–364 of each day; 29 February shares 28 February's slot."""
    d = days.astype("datetime64[D]")
    year_start = d.astype("datetime64[Y]").astype("datetime64[D]")
    doy = (d - year_start).astype(np.int64)
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    slots: npt.NDArray[np.int64] = np.where(leap & (doy >= 59), doy - 1, doy).astype(np.int64)
    return slots


@dataclass
class BaselineModel:
    """A fitted baseline (see the module docstring).

    Attributes
    ----------
    config, grid
        How and where it was fitted.
    q
        Daily fire-day probability per slot and cell in the latest era's units,
        shape ``(365, n_lat, n_lon)``.
    q_count
        Expected detections per day (latest era), same shape.
    dispersion
        Negative-binomial size of 30-day window counts per cell.
    era_scale
        Per era (oldest first) and cell: factor turning that era's fire-days
        into the latest era's, shape ``(n_eras, n_lat, n_lon)``.
    persistent
        Cells recognised as persistent heat sources.
    alpha
        Calibrated threshold of the follow-window minimum p-value.
    calibration
        Sorted held-out peacetime statistics (log10 p), for conflict probabilities.
    years
        Training years used; ``skipped`` those left out and why.
    """

    config: BaselineConfig
    grid: Grid
    q: Array
    q_count: Array
    dispersion: Array
    era_scale: Array
    persistent: npt.NDArray[np.bool_]
    alpha: float = 1e-6
    calibration: Array = field(default_factory=lambda: np.empty(0))
    years: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def era_index(self, days: npt.NDArray[np.datetime64]) -> npt.NDArray[np.int64]:
        """Era (0 = oldest) of each day."""
        eras = np.array(self.config.eras(), dtype="datetime64[D]")
        index: npt.NDArray[np.int64] = np.searchsorted(
            eras, days.astype("datetime64[D]"), side="right"
        ).astype(np.int64)
        return index

    def land(self) -> npt.NDArray[np.bool_]:
        """Cells that ever had fire in training (the test's regional factor uses these)."""
        floor = self.config.rate_floor * 1.0001
        result: npt.NDArray[np.bool_] = np.asarray((self.q > floor).any(axis=0), dtype=bool)
        return result

    def conflict_probability(self, log10_stat: npt.NDArray[np.float64]) -> Array:
        """1 minus the share of held-out peacetime fire cell-days at least as extreme.

        ``log10_stat`` is log10 of the follow-window minimum p-value; with no
        calibration sample the answer is NaN.
        """
        if self.calibration.size == 0:
            return np.full(np.shape(log10_stat), np.nan)
        rank = np.searchsorted(self.calibration, log10_stat, side="right")
        result: Array = 1.0 - rank / float(self.calibration.size)
        return result

    def save(self, path: Path) -> None:
        """Write atomically (temp file, fsync, rename) as one ``.npz``."""
        meta = {
            "format": MODEL_FORMAT,
            "config": self.config.to_json(),
            "grid": self.grid.to_json(),
            "alpha": self.alpha,
            "years": self.years,
            "skipped": {str(k): v for k, v in sorted(self.skipped.items())},
            "summary": self.summary,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
            q=self.q.astype(np.float32),
            q_count=self.q_count.astype(np.float32),
            dispersion=self.dispersion.astype(np.float32),
            era_scale=self.era_scale.astype(np.float32),
            persistent=self.persistent,
            calibration=self.calibration.astype(np.float32),
        )
        write_atomic(Path(path), buffer.getvalue())


def load_model(path: Path) -> BaselineModel:
    """Read a model written by :meth:`BaselineModel.save`."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != MODEL_FORMAT:
                raise ModelError(f"{path}: not a {MODEL_FORMAT} model")
            return BaselineModel(
                config=BaselineConfig.from_json(meta["config"]),
                grid=Grid.from_json(meta["grid"]),
                q=z["q"].astype(np.float64),
                q_count=z["q_count"].astype(np.float64),
                dispersion=z["dispersion"].astype(np.float64),
                era_scale=z["era_scale"].astype(np.float64),
                persistent=z["persistent"].astype(bool),
                alpha=float(meta["alpha"]),
                calibration=z["calibration"].astype(np.float64),
                years=[int(y) for y in meta["years"]],
                skipped={int(k): str(v) for k, v in meta["skipped"].items()},
                summary=dict(meta.get("summary", {})),
            )
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"{path}: cannot read the model: {exc}") from None


# -- fitting -------------------------------------------------------------------------------


@dataclass
class _Year:
    year: int
    fire: npt.NDArray[np.float64]  # (365, n_lat, n_lon) fire-day indicator
    count: npt.NDArray[np.float64]  # detections per day
    observed: npt.NDArray[np.float64]  # 1 where the cell-day counts for training
    era: npt.NDArray[np.int64]  # era per slot


def _split_years(
    points: FirePoints, grid: Grid, config: BaselineConfig, exclusions: Sequence[Exclusion]
) -> tuple[list[_Year], dict[int, str]]:
    i, j, inside = grid.index(points.lat, points.lon)
    days = points.day.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    eras = np.array(config.eras(), dtype="datetime64[D]")
    result, skipped = [], {}
    for year in sorted(set(years[inside].tolist())):
        sel = inside & (years == year)
        d = days[sel]
        span = int((d.max() - d.min()).astype(np.int64)) + 1
        if span < config.min_year_span_days:
            skipped[int(year)] = (
                f"detections span only {span} days ({d.min()} to {d.max()}); "
                f"a training year needs {config.min_year_span_days}"
            )
            continue
        slots = day_slots(d)
        shape = (SLOTS, *grid.shape)
        count = np.zeros(shape)
        np.add.at(count, (slots, i[sel], j[sel]), 1.0)
        fire = (count > 0).astype(np.float64)
        all_days = np.arange(
            np.datetime64(f"{year}-01-01"),
            np.datetime64(f"{year + 1}-01-01"),
            dtype="datetime64[D]",
        )
        # one calendar day per slot (29 February shares 28 February's slot)
        _, first_of_slot = np.unique(day_slots(all_days), return_index=True)
        slot_days = all_days[first_of_slot]
        observed = np.ones(shape)
        if exclusions:
            observed *= ~exclusion_mask(exclusions, grid, slot_days)
        era = np.searchsorted(eras, slot_days, side="right").astype(np.int64)
        result.append(_Year(int(year), fire, count, observed, era))
    return result, skipped


def _era_scale(years: Sequence[_Year], n_eras: int, config: BaselineConfig) -> Array:
    shape = years[0].fire.shape[1:]
    hits = np.zeros((n_eras, *shape))
    seen = np.zeros((n_eras, *shape))
    for y in years:
        for e in range(n_eras):
            sel = y.era == e
            if sel.any():
                hits[e] += (y.fire[sel] * y.observed[sel]).sum(axis=0)
                seen[e] += y.observed[sel].sum(axis=0)
    scale = np.ones((n_eras, *shape))
    ref = n_eras - 1
    if seen[ref].sum() == 0:
        raise ModelError("no training year in the latest instrument era")
    c = 0.5 / SLOTS  # prior: half a fire-day a year
    box = config.era_smoothing_cells
    p_ref = box_sum(hits[ref], box) / np.maximum(box_sum(seen[ref], box), 1e-9)
    g_ref = hits[ref].sum() / seen[ref].sum()
    for e in range(ref):
        if seen[e].sum() == 0:
            continue
        p_e = box_sum(hits[e], box) / np.maximum(box_sum(seen[e], box), 1e-9)
        g = g_ref / max(hits[e].sum() / seen[e].sum(), 1e-12)
        scale[e] = (p_ref + g * c) / (p_e + c)
    return scale


def _scaled(y: _Year, scale: Array, values: Array) -> Array:
    factor = scale[y.era]  # (365, n_lat, n_lon)
    result: Array = values * factor
    return result


def _fit_core(
    years: Sequence[_Year], grid: Grid, config: BaselineConfig
) -> tuple[Array, Array, Array, Array, npt.NDArray[np.bool_]]:
    n_eras = len(config.eras()) + 1
    scale = _era_scale(years, n_eras, config)
    shape = (SLOTS, *grid.shape)
    season = []
    for h in config.season_half_widths:
        num = np.zeros(shape)
        den = np.zeros(shape)
        for y in years:
            num += circular_mean(_scaled(y, scale, y.fire) * y.observed, h)
            den += circular_mean(y.observed, h)
        season.append(num / np.maximum(den, 1e-9))
    q = np.maximum.reduce(season)
    w = config.neighbour_weight
    q = (1.0 - w) * q + w * box_sum(q, 3) / 9.0
    q = np.maximum(q, config.rate_floor)
    num = np.zeros(shape)
    den = np.zeros(shape)
    for y in years:
        num += circular_mean(_scaled(y, scale, y.count) * y.observed, config.season_half_widths[0])
        den += circular_mean(y.observed, config.season_half_widths[0])
    q_count = np.maximum(num / np.maximum(den, 1e-9), q)
    # dispersion of trailing-window fire-day counts
    m_num = np.zeros(grid.shape)
    m_den = np.zeros(grid.shape)
    for y in years:
        n_w = trailing_sum(
            _scaled(y, scale, y.fire) * y.observed, config.window_days, circular=True
        )
        e_w = trailing_sum(q * y.observed, config.window_days, circular=True)
        m_num += ((n_w - e_w) ** 2 - e_w).sum(axis=0)
        m_den += (e_w**2).sum(axis=0)
    national = m_den.sum() / max(m_num.sum(), 1e-12)
    k = config.dispersion_cells
    prior = config.dispersion_prior
    inv = (np.maximum(box_sum(m_num, k), 0.0) + prior / national) / (box_sum(m_den, k) + prior)
    dispersion = 1.0 / np.maximum(inv, 1e-9)
    # persistent heat sources
    share = np.zeros(grid.shape)
    for y in years:
        frac = (y.fire * y.observed).sum(axis=0) / np.maximum(y.observed.sum(axis=0), 1.0)
        share += frac >= config.persistent_fraction
    persistent: npt.NDArray[np.bool_] = np.asarray(share >= config.persistent_years * len(years))
    return q, q_count, dispersion, scale, persistent


def fit_baseline(
    points: FirePoints,
    config: BaselineConfig | None = None,
    *,
    exclusions: Sequence[Exclusion] = (),
    grid: Grid | None = None,
    calibrate: bool = True,
) -> BaselineModel:
    """Fit the baseline on peacetime detections (any number of years, any instrument era).

    Parameters
    ----------
    points
        FIRMS detections of the training years only.
    config
        Parameters; defaults to :class:`BaselineConfig`.
    exclusions
        Areas and periods left out of training.
    grid
        Grid to fit on; default: the one covering the detections.
    calibrate
        Hold out the most recent years in turn to set the threshold and the
        conflict-probability table (costs one extra fit per held-out year).

    Raises
    ------
    ModelError
        When no year has enough data.
    """
    from truceline.satellite.excess import follow_min_pvalues  # cycle: excess uses the model

    config = config or BaselineConfig()
    if len(points) == 0:
        raise ModelError("no detections to fit a baseline on")
    grid = grid or Grid.covering(points.lat, points.lon, config.cell_deg)
    years, skipped = _split_years(points, grid, config, exclusions)
    if not years:
        raise ModelError("no training year with enough data: " + "; ".join(skipped.values()))
    q, q_count, dispersion, scale, persistent = _fit_core(years, grid, config)
    model = BaselineModel(
        config=config,
        grid=grid,
        q=q,
        q_count=q_count,
        dispersion=dispersion,
        era_scale=scale,
        persistent=persistent,
        years=[y.year for y in years],
        skipped=skipped,
    )
    latest = len(config.eras())
    held = [y for y in years if (y.era == latest).all()][-config.calibration_years :]
    if not calibrate or len(years) < 2 or not held:
        model.summary = {"calibrated": False, "alpha_source": "default"}
        return model
    stats: list[Array] = []
    per_year: dict[str, int] = {}
    for target in held:
        rest = [y for y in years if y.year != target.year]
        q_h, qc_h, disp_h, scale_h, pers_h = _fit_core(rest, grid, config)
        inner = replace(
            model, q=q_h, q_count=qc_h, dispersion=disp_h, era_scale=scale_h, persistent=pers_h
        )
        first = np.datetime64(f"{target.year}-01-01")
        last = np.datetime64(f"{target.year}-12-31")
        held_points = points.between(first, last)
        stat, fire, keep = follow_min_pvalues(inner, held_points, first, last, exclusions)
        values = np.log10(np.maximum(stat[fire & keep], 1e-300))
        stats.append(values)
        per_year[str(target.year)] = int(values.size)
    pooled = np.sort(np.concatenate(stats))
    model.calibration = pooled
    model.alpha = float(10 ** np.quantile(pooled, config.false_flag_rate))
    model.summary = {
        "calibrated": True,
        "alpha_source": f"leave-one-year-out over {sorted(per_year)}",
        "calibration_fire_cell_days": per_year,
        "target_false_flag_rate": config.false_flag_rate,
    }
    return model
