"""The excess fire-activity model on the real FIRMS archive (``../shared/data``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import shape

from truceline.satellite.baseline import BaselineConfig, fit_baseline
from truceline.satellite.excess import score_excess
from truceline.satellite.firms_table import read_fire_points

pytestmark = pytest.mark.shared_data


def _rows(path: Path) -> int:
    return len(path.read_text().splitlines()) - 1


def test_every_firms_shape_reads(shared_data: Path) -> None:
    folder = shared_data / "firms-ukraine"
    country = folder / "ukr_fire_data_2023.csv"
    viirs, modis = sorted((folder / "full-columns").glob("*.csv"))
    points = read_fire_points([country])
    assert len(points) == _rows(country)
    assert str(points.day.min()) == "2023-01-01" and str(points.day.max()) == "2023-12-31"
    both = read_fire_points([viirs, modis])
    assert len(both) == _rows(viirs) + _rows(modis)
    assert set(both.day.astype(str)) == {"2025-08-11"}
    assert both.lat.min() > 44.0 and both.lat.max() < 53.0


@pytest.mark.slow
def test_war_fires_concentrate_at_the_front(shared_data: Path) -> None:
    """Fit on four VIIRS-era peacetime years, score 2023: flags gather near the front."""
    folder = shared_data / "firms-ukraine"
    train = read_fire_points([folder / f"ukr_fire_data_{y}.csv" for y in (2018, 2019, 2020, 2021)])
    model = fit_baseline(train, BaselineConfig(calibration_years=2))
    result = score_excess(model, read_fire_points([folder / "ukr_fire_data_2023.csv"]))
    front = shape(
        json.loads((shared_data / "front-line" / "front-line-2023.geojson").read_text())["geometry"]
    )
    aeqd = pyproj.Transformer.from_crs(4326, "+proj=aeqd +lat_0=48.5 +lon_0=36", always_xy=True)
    line = shapely.transform(front, lambda xy: np.column_stack(aeqd.transform(xy[:, 0], xy[:, 1])))

    def near(records: list) -> np.ndarray:  # type: ignore[type-arg]
        x, y = aeqd.transform([r.lon for r in records], [r.lat for r in records])
        return np.asarray(shapely.distance(line, shapely.points(x, y))) <= 30_000.0

    flagged = result.flagged
    base_rate = float(near(result.records).mean())
    share = float(near(flagged).mean())
    # the base rate of 2023 fire cell-days within 30 km of the front is about 0.29
    assert share > base_rate + 0.25, (share, base_rate)
    assert len(flagged) > 1000
