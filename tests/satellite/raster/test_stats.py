"""Per-pixel statistics and the scene null model, against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special
from scipy import stats as sps

from truceline.satellite.raster import stats
from truceline.satellite.raster.null import FdrTable, Histogram, fit_null


def test_welch_z_matches_scipy_welch_test() -> None:
    rng = np.random.default_rng(1)
    pre = rng.normal(-12.0, 2.0, size=(6, 40, 30))
    post = rng.normal(-11.0, 3.0, size=(5, 40, 30))
    z = stats.welch_z(pre, post)
    result = sps.ttest_ind(post, pre, axis=0, equal_var=False)
    # The normal deviate of scipy's two-sided Welch p-value, with its sign (to the
    # 0.004 of Hill's t -> z approximation used from 3 degrees of freedom on).
    reference = np.sign(result.statistic) * sps.norm.isf(result.pvalue / 2.0)
    np.testing.assert_allclose(z, reference, atol=0.004)


def test_welch_z_leaves_out_missing_values_and_needs_two_per_period() -> None:
    rng = np.random.default_rng(2)
    pre = rng.normal(0.0, 1.0, size=(5, 3, 3))
    post = rng.normal(1.0, 1.0, size=(4, 3, 3))
    pre[0, 0, 0] = np.nan  # a cloud or nodata in one image
    z = stats.welch_z(pre, post)
    expected = stats.welch_z(pre[1:, :1, :1], post[:, :1, :1])
    assert z[0, 0] == pytest.approx(expected[0, 0])
    pre[:4, 1, 1] = np.nan  # only one valid pre value: no variance, no test
    assert np.isnan(stats.welch_z(pre, post)[1, 1])


def test_log_ratio_z_is_standard_normal_under_gamma_speckle() -> None:
    rng = np.random.default_rng(3)
    looks = 4.4
    mean = 10.0 ** (rng.normal(-12.0, 2.0, size=400_000) / 10.0)
    pre = mean * rng.gamma(looks, 1.0 / looks, size=mean.size)
    post = mean * rng.gamma(looks, 1.0 / looks, size=mean.size)
    z = stats.log_ratio_z(stats.to_db(pre, "linear"), stats.to_db(post, "linear"), looks)
    assert abs(z.mean()) < 0.01
    assert z.std() == pytest.approx(1.0, abs=0.01)
    # A 3 dB rise shifts it by 3 dB / sigma(dB).
    shifted = stats.log_ratio_z(np.zeros(1), np.full(1, 3.0), looks)[0]
    sigma_db = stats.log_ratio_sigma(looks) * 10.0 / np.log(10.0)
    assert shifted == pytest.approx(3.0 / sigma_db)


def test_to_db_refuses_non_positive_power() -> None:
    out = stats.to_db(np.array([0.1, 0.0, -1.0]), "linear")
    assert out[0] == pytest.approx(-10.0)
    assert np.isnan(out[1:]).all()


@pytest.mark.parametrize("how", ["max", "mean"])
def test_combined_channels_keep_a_standard_normal_null(how: str) -> None:
    rng = np.random.default_rng(4)
    channels = [rng.standard_normal(300_000) for _ in range(4)]
    channels[3][:100_000] = np.nan  # one channel missing over a third of the scene
    z = stats.combine(channels, how)
    assert np.isfinite(z).all()
    # Two-sided 5 % tail, as for a single N(0, 1) test.
    assert np.mean(np.abs(z) > 1.959964) == pytest.approx(0.05, abs=0.003)


def test_stouffer_window_is_standard_normal_and_keeps_nodata() -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((400, 400))
    z[10, 10] = np.nan
    out = stats.stouffer_window(z, 3)
    assert np.isnan(out[10, 10])
    assert np.isfinite(out[9, 9])
    assert np.nanstd(out[5:-5, 5:-5]) == pytest.approx(1.0, abs=0.02)
    # At a corner only 4 pixels exist: their sum over sqrt(4).
    assert out[0, 0] == pytest.approx(z[:2, :2].sum() / 2.0, rel=1e-6)


def test_box_sum_matches_a_direct_sum() -> None:
    values = np.arange(35, dtype=float).reshape(5, 7)
    out = stats.box_sum(values, 3)
    assert out[2, 3] == values[1:4, 2:5].sum()
    assert out[0, 0] == values[:2, :2].sum()


def test_histogram_quantiles_and_empirical_null() -> None:
    rng = np.random.default_rng(6)
    sample = rng.normal(0.02, 0.05, size=200_000)
    histogram = Histogram(4.0)
    histogram.add(histogram.block_counts(sample))
    assert histogram.total == sample.size
    assert histogram.quantile(0.5) == pytest.approx(np.median(sample), abs=histogram.width)
    null = fit_null(histogram, two_sided=False, empirical=True)
    assert null.centre == pytest.approx(0.02, abs=0.001)
    assert null.scale == pytest.approx(0.05, rel=0.02)


def test_fdr_threshold_matches_benjamini_hochberg_on_the_pixels() -> None:
    rng = np.random.default_rng(7)
    z = rng.standard_normal(100_000)
    z[:2000] += 5.0  # real change in 2 % of the scene
    histogram = Histogram(40.0)
    histogram.add(histogram.block_counts(z))
    null = fit_null(histogram, two_sided=True, empirical=False)
    table = FdrTable(histogram, null)
    threshold = table.threshold(0.05)
    # Reference: BH on the sorted two-sided p-values.
    p = np.sort(2.0 * sps.norm.sf(np.abs(z)))
    passing = np.nonzero(p <= 0.05 * np.arange(1, p.size + 1) / p.size)[0]
    reference = sps.norm.isf(p[passing[-1]] / 2.0)
    assert threshold == pytest.approx(reference, abs=0.02)
    q_strong, q_weak = table.q_value(8.0), table.q_value(threshold)
    assert q_strong < 1e-6 < q_weak <= 0.05 + 0.005
    assert table.q_value(0.1) > 0.95  # barely beyond the null: almost surely noise


def test_no_fdr_threshold_in_pure_noise() -> None:
    rng = np.random.default_rng(8)
    histogram = Histogram(40.0)
    histogram.add(histogram.block_counts(rng.standard_normal(100_000)))
    table = FdrTable(histogram, fit_null(histogram, two_sided=True, empirical=True))
    assert table.threshold(0.05) is None


@pytest.mark.parametrize("df", [1.0, 2.2, 3.0, 5.0, 10.0, 60.0])
def test_t_to_z_follows_the_exact_tail_probability(df: float) -> None:
    t = np.linspace(-30.0, 30.0, 6001)
    z = stats._t_to_z(t, np.full(t.shape, df))
    exact = np.sign(t) * -special.ndtri(special.stdtr(df, -np.abs(t)))
    usable = np.abs(exact) < stats.Z_LIMIT
    # Exact below 3 degrees of freedom; Hill's approximation within 0.004 above.
    assert np.max(np.abs(z - exact)[usable]) <= (1e-9 if df < 3 else 0.004)
