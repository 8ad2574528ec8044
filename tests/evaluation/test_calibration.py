"""Calibration metrics: reliability diagram, Brier decomposition, Wilson, isotonic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from truceline.evaluation.calibration import (
    CalibrationMap,
    brier_score,
    calibration_summary,
    expected_calibration_error,
    fit_isotonic,
    reliability_diagram,
    wilson_interval,
)


def _draw(seed: int, n: int, truth: object = None) -> tuple[np.ndarray, np.ndarray]:
    """Predictions uniform on [0, 1] and outcomes drawn with probability ``truth(p)``."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.0, 1.0, n)
    q = p if truth is None else truth(p)  # type: ignore[operator]
    return p, rng.uniform(0.0, 1.0, n) < q


def test_wilson_interval_matches_the_closed_form() -> None:
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(1.96**2 / (10 + 1.96**2), abs=1e-4)
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="trials"):
        wilson_interval(3, 0)


def test_calibrated_predictions_lie_on_the_diagonal() -> None:
    p, o = _draw(1, 50_000)
    diagram = reliability_diagram(p, o, bins=10)
    assert len(diagram) == 10
    assert sum(b.count for b in diagram) == 50_000
    inside = sum(b.wilson_low <= b.mean_predicted <= b.wilson_high for b in diagram)
    assert inside >= 9  # 95 % intervals: at most one bin out by chance
    assert all(abs(b.observed - b.mean_predicted) < 0.03 for b in diagram)
    score = brier_score(p, o)
    assert score.reliability < 5e-4
    assert expected_calibration_error(p, o) < 0.02
    # A calibrated uniform forecaster: Brier = E[p(1-p)] = 1/6.
    assert score.score == pytest.approx(1 / 6, abs=0.005)


def test_known_overconfidence_is_detected() -> None:
    # The truth is p², so a stated 0.9 is really 0.81 and a stated 0.5 is 0.25.
    p, o = _draw(2, 50_000, truth=lambda x: x**2)
    diagram = reliability_diagram(p, o, bins=10)
    top = diagram[-1]
    assert top.mean_predicted == pytest.approx(0.95, abs=0.01)
    assert top.observed == pytest.approx(np.mean(np.linspace(0.9, 1.0, 1001) ** 2), abs=0.02)
    assert top.wilson_high < top.mean_predicted
    middle = next(b for b in diagram if b.lower == 0.5)
    assert middle.wilson_high < middle.mean_predicted - 0.2
    score = brier_score(p, o)
    calibrated = brier_score(*_draw(2, 50_000))
    assert score.reliability > 0.02 > calibrated.reliability
    assert expected_calibration_error(p, o) > 0.1


def test_decomposition_adds_up_and_is_exact_for_binned_forecasts() -> None:
    p, o = _draw(3, 5_000, truth=lambda x: 0.2 + 0.6 * x)
    score = brier_score(p, o)
    assert score.score == pytest.approx(
        score.reliability - score.resolution + score.uncertainty + score.remainder
    )
    # Forecasts that take one value per bin: no within-bin spread.
    stepped = (np.floor(p * 10) + 0.5) / 10
    exact = brier_score(stepped, o)
    assert exact.remainder == pytest.approx(0.0, abs=1e-12)
    base = float(np.mean(o))
    assert exact.uncertainty == pytest.approx(base * (1 - base))
    # Always forecasting the base rate: no resolution, no skill.
    flat = brier_score(np.full(o.size, base), o)
    assert flat.resolution == pytest.approx(0.0, abs=1e-12)
    assert flat.skill == pytest.approx(0.0, abs=1e-9)


def test_summary_and_input_validation() -> None:
    summary = calibration_summary([0.1, 0.9, 0.9], [0, 1, 0])
    assert summary["brier"]["count"] == 3
    assert [b["count"] for b in summary["diagram"]] == [1, 2]
    with pytest.raises(ValueError, match="outcomes"):
        brier_score([0.5, 0.5], [1])
    with pytest.raises(ValueError, match="probabilities"):
        brier_score([1.5], [1])
    with pytest.raises(ValueError, match="0/1"):
        brier_score([0.5], [2])


def test_isotonic_map_fitted_on_training_data_calibrates_held_out_data() -> None:
    overconfident = lambda x: x**2  # noqa: E731
    train_p, train_o = _draw(10, 20_000, overconfident)
    test_p, test_o = _draw(11, 20_000, overconfident)
    mapping = fit_isotonic(train_p, train_o, provenance={"seeds": [10]}, min_block=200)
    xs = [x for x, _ in mapping.knots]
    ys = [y for _, y in mapping.knots]
    assert all(b > a for a, b in itertools.pairwise(xs))
    assert all(b >= a for a, b in itertools.pairwise(ys))
    before = brier_score(test_p, test_o)
    after = brier_score(mapping(test_p), test_o)
    assert before.reliability > 0.02
    assert after.reliability < 0.002
    assert after.score < before.score
    # It learned the truth: a stated 0.9 maps to about 0.81.
    assert float(mapping([0.9])[0]) == pytest.approx(0.81, abs=0.04)
    again = CalibrationMap.from_dict(mapping.to_dict())
    assert again.provenance == {"seeds": [10]}
    assert np.allclose(again(test_p), mapping(test_p), atol=1e-5)


def test_isotonic_pools_violators_and_small_blocks() -> None:
    mapping = fit_isotonic([0.1, 0.2, 0.3, 0.4], [1, 0, 1, 1])
    # 0.1 (freq 1) and 0.2 (freq 0) violate monotonicity and pool to 0.5.
    assert mapping.knots[0] == pytest.approx((0.15, 0.5))
    assert [y for _, y in mapping.knots] == [0.5, 1.0, 1.0]
    # Blocks under three cases are pooled with their neighbours, the last one too.
    pooled = fit_isotonic([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1], min_block=3)
    assert len(pooled.knots) == 1
    assert pooled.knots[0] == pytest.approx((0.25, 0.5))


@pytest.mark.parametrize(
    "knots",
    [(), ((0.5, 0.2), (0.4, 0.3)), ((0.1, 0.5), (0.2, 0.4)), ((0.1, 1.2),)],
)
def test_bad_maps_are_refused(knots: tuple[tuple[float, float], ...]) -> None:
    with pytest.raises(ValueError, match="knot"):
        CalibrationMap(knots, {})
