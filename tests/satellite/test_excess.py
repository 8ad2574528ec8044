"""The excess fire-activity model on synthetic FIRMS years with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from satellite.firms_synth import PLANT, write_year
from truceline.model.errors import RecordError
from truceline.satellite.baseline import BaselineConfig, fit_baseline, load_model
from truceline.satellite.excess import NoDataError, score_excess
from truceline.satellite.firms_table import read_fire_points

PEACE = [2008, 2009, 2010, 2011, 2016, 2017, 2018, 2019, 2020]


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("firms")
    files = {y: write_year(folder, y, seed=y) for y in PEACE}
    files[2021] = write_year(folder, 2021, seed=2021)  # held-out peacetime year
    files[2023] = write_year(folder, 2023, seed=2023, war=True)
    return files


@pytest.fixture(scope="module")
def model(years: dict[int, Path]):  # type: ignore[no-untyped-def]
    return fit_baseline(read_fire_points([years[y] for y in PEACE]))


def test_fit_recognises_eras_years_and_the_steel_plant(model) -> None:  # type: ignore[no-untyped-def]
    assert model.years == PEACE
    assert model.summary["calibrated"] is True
    # MODIS-only years see 40 % of the fire-days: they are scaled up by about 2.5
    scale = float(np.median(model.era_scale[0][model.land()]))
    assert 2.0 < scale < 3.2
    i0 = int(np.floor(48.0 / 0.1 + 1e-9)) - model.grid.i0
    j0 = int(np.floor(30.0 / 0.1 + 1e-9)) - model.grid.j0
    persistent = {tuple(ij) for ij in np.argwhere(model.persistent)}
    assert persistent == {(i0 + PLANT[0], j0 + PLANT[1])}
    assert 0.0 < model.alpha < 0.05


def test_war_column_is_flagged_and_little_else(model, years) -> None:  # type: ignore[no-untyped-def]
    result = score_excess(model, read_fire_points([years[2023]]))
    # the test sums 3 x 3 cells, so the war column's neighbours share its excess:
    # "other" cells are two or more columns away
    war = [r for r in result.records if abs(r.lon - 30.75) < 0.01 and r.excluded is None]
    other = [r for r in result.records if abs(r.lon - 30.75) > 0.15 and r.excluded is None]
    war_rate = sum(r.flagged for r in war) / len(war)
    other_rate = sum(r.flagged for r in other) / len(other)
    assert war_rate > 0.6, war_rate
    assert other_rate < 0.05, other_rate
    flagged = [r.conflict_probability for r in war if r.flagged]
    assert np.median(flagged) > 0.95
    # the steel plant burns in war too, but is never flagged
    plant = [r for r in result.records if r.excluded == "persistent_heat_source"]
    assert plant and not any(r.flagged for r in plant)


def test_held_out_peacetime_year_is_rarely_flagged(model, years) -> None:  # type: ignore[no-untyped-def]
    result = score_excess(model, read_fire_points([years[2021]]))
    rate = len(result.flagged) / len(result.records)
    assert rate < 0.03, rate


def test_an_instrument_change_is_not_war(years: dict[int, Path]) -> None:
    # fitted on four MODIS years and two VIIRS years, scoring a third VIIRS year;
    # the regional factor is off so that only the era scaling can absorb the change
    train = read_fire_points([years[y] for y in (2008, 2009, 2010, 2011, 2016, 2017)])
    test = read_fire_points([years[2018]])
    with_eras = fit_baseline(train, BaselineConfig(region_cells=0), calibrate=False)
    one_era = fit_baseline(
        train, BaselineConfig(era_boundaries=(), region_cells=0), calibrate=False
    )
    assert 1.8 < float(np.median(with_eras.era_scale[0][with_eras.land()])) < 3.5
    with_eras.alpha = one_era.alpha = 1e-4
    scored = score_excess(with_eras, test)
    confused = score_excess(one_era, test)
    rate = len(scored.flagged) / len(scored.records)
    assert rate < 0.05, rate
    assert len(confused.flagged) > 3 * max(len(scored.flagged), 1)


def test_model_round_trips_through_a_file(model, years, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "m.npz"
    model.save(path)
    again = load_model(path)
    points = read_fire_points([years[2023]])
    a = score_excess(model, points).records
    b = score_excess(again, points).records
    assert [r.flagged for r in a] == [r.flagged for r in b]
    assert again.years == model.years and again.alpha == model.alpha


def test_shifted_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "shifted.csv"
    path.write_text("LATITUDE,LONGITUDE,ACQ_DATE\n48.1,30.2,2023-01-01\n30.2,2023-01-02,48.1\n")
    with pytest.raises(RecordError) as info:
        read_fire_points([path])
    assert info.value.record == 3 and info.value.field == "longitude"
    assert str(path) in str(info.value)


def test_missing_column_and_bad_date(tmp_path: Path) -> None:
    path = tmp_path / "nodate.csv"
    path.write_text("latitude,longitude,acq_time\n48.1,30.2,1200\n")
    with pytest.raises(RecordError, match="missing column 'acq_date'"):
        read_fire_points([path])
    path.write_text("latitude,longitude,acq_date\n48.1,30.2,01/02/2023\n")
    with pytest.raises(RecordError) as info:
        read_fire_points([path])
    assert info.value.field == "acq_date" and info.value.record == 2


def test_a_range_without_data_is_refused(model, years) -> None:  # type: ignore[no-untyped-def]
    points = read_fire_points([years[2023]])
    with pytest.raises(NoDataError, match="no detections between 2030-01-01 and 2030-02-01"):
        score_excess(model, points, np.datetime64("2030-01-01"), np.datetime64("2030-02-01"))
    with pytest.raises(ValueError, match="before it starts"):
        score_excess(model, points, np.datetime64("2023-03-01"), np.datetime64("2023-02-01"))
