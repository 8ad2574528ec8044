"""Kind rules (sign, shape, burn signature), minimum sizes and the object test."""

from __future__ import annotations

import math

import pytest
from scipy import special

from truceline.satellite.raster.kinds import (
    BURN_AREA_MIN_M2,
    BURN_DNBR_MIN,
    BandChange,
    burn_signature,
    candidate_kinds,
    choose_kind,
    min_pixels,
    object_threshold,
)
from truceline.satellite.raster.null import NullModel
from truceline.satellite.raster.vectorise import ShapeFacts

LINE = ShapeFacts(area_m2=3_000.0, length_m=250.0, width_m=12.0)
SPOT = ShapeFacts(area_m2=400.0, length_m=20.0, width_m=20.0)
FIELD = ShapeFacts(area_m2=120_000.0, length_m=400.0, width_m=300.0)
BAND_NULL = NullModel(centre=0.0, scale=0.01, two_sided=False, source="empirical")


@pytest.mark.parametrize("method", ["pwtt", "log_ratio", "brightness"])
@pytest.mark.parametrize("facts", [LINE, SPOT, FIELD])
def test_a_decrease_is_never_a_crater_or_earthworks(method: str, facts: ShapeFacts) -> None:
    assert candidate_kinds(method, -1, facts) == ["surface_change"]


@pytest.mark.parametrize(
    ("facts", "kinds"),
    [
        (LINE, ["earthworks", "surface_change"]),
        (SPOT, ["crater", "surface_change"]),
        (FIELD, ["surface_change"]),
    ],
)
def test_an_increase_is_classed_by_shape(facts: ShapeFacts, kinds: list[str]) -> None:
    assert candidate_kinds("pwtt", 1, facts) == kinds
    assert candidate_kinds("ndvi", 1, facts) == kinds


def test_burn_scar_needs_the_signature_the_severity_and_the_size() -> None:
    assert candidate_kinds("dnbr", 1, FIELD, burn_like=True, mean_dnbr=0.5) == [
        "burn_scar",
        "surface_change",
    ]
    # Without the signature (e.g. NIR fell but SWIR2 did not rise): not a burn.
    assert candidate_kinds("dnbr", 1, FIELD, burn_like=False, mean_dnbr=0.5) == ["surface_change"]
    # "Low" severity (0.1-0.27) is shared with ploughing and harvest.
    low = BURN_DNBR_MIN - 0.01
    assert candidate_kinds("dnbr", 1, FIELD, burn_like=True, mean_dnbr=low) == ["surface_change"]
    # Crater-sized: fresh ejecta on a green field looks the same.
    small = ShapeFacts(BURN_AREA_MIN_M2 - 100.0, 45.0, 40.0)
    assert candidate_kinds("dnbr", 1, small, burn_like=True, mean_dnbr=0.7) == ["surface_change"]
    # A line of fresh soil is earthworks, burn-like or not; dNBR never calls a crater.
    assert candidate_kinds("dnbr", 1, LINE, burn_like=True, mean_dnbr=0.7)[0] == "earthworks"
    assert candidate_kinds("dnbr", 1, SPOT, burn_like=True, mean_dnbr=0.7) == ["surface_change"]


@pytest.mark.parametrize(
    ("nir", "swir2", "burnt"),
    [
        (-0.03, 0.03, True),  # NIR 3 sigma down, SWIR2 3 sigma up
        (-0.03, 0.01, False),  # SWIR2 up by only one sigma
        (0.03, 0.03, False),  # brighter in both: a cloud, snow, a new roof
        (-0.03, -0.03, False),  # darker in both: shadow, water
        (float("nan"), 0.03, False),
    ],
)
def test_burn_signature(nir: float, swir2: float, burnt: bool) -> None:
    assert burn_signature(BandChange(nir, BAND_NULL), BandChange(swir2, BAND_NULL)) is burnt


def test_burn_signature_is_measured_from_the_scene_centre() -> None:
    # A calibration gain shifts every pixel's change: the centre absorbs it.
    shifted = NullModel(centre=0.05, scale=0.01, two_sided=False, source="empirical")
    assert BandChange(0.03, shifted).sigmas == pytest.approx(-2.0)
    assert not burn_signature(BandChange(0.04, shifted), BandChange(0.09, shifted))
    assert burn_signature(BandChange(0.02, shifted), BandChange(0.08, shifted))


def test_minimum_pixels_per_kind_and_window() -> None:
    assert min_pixels("crater", 1) == 3
    assert min_pixels("earthworks", 1) == 5
    assert min_pixels("burn_scar", 1) == 10
    assert min_pixels("crater", 3) == 9  # the 3 x 3 window's footprint
    assert min_pixels("burn_scar", 3) == 10
    assert min_pixels("thermal_anomaly", 1) == 1


def test_a_region_too_small_for_its_kind_falls_to_the_next_or_is_dropped() -> None:
    assert choose_kind(["crater", "surface_change"], 9, 3, False) == "crater"
    assert choose_kind(["burn_scar", "surface_change"], 5, 1, False) == "surface_change"
    assert choose_kind(["crater", "surface_change"], 4, 3, False) is None
    # ... unless its peak stands alone.
    assert choose_kind(["crater", "surface_change"], 1, 3, True) == "crater"


def test_object_threshold_is_a_sidak_bound_over_the_windows() -> None:
    z_null = NullModel(0.0, 1.0, True, "theoretical")
    # One window: the plain two-sided 5 % point.
    assert object_threshold(z_null, 0.05, 9, 3) == pytest.approx(1.959964, abs=1e-6)
    # 10,000 windows: each at 1 - 0.95^(1/10000), and the scene's scale applies.
    wide = NullModel(0.0, 1.2, True, "empirical")
    found = object_threshold(wide, 0.05, 90_000, 3)
    per_window = 2.0 * float(special.ndtr(-found / 1.2))
    assert 1.0 - (1.0 - per_window) ** 10_000 == pytest.approx(0.05, rel=1e-6)
    # One-sided (a difference with its median as centre).
    one = NullModel(0.1, 0.02, False, "empirical")
    assert object_threshold(one, 0.05, 1, 1) == pytest.approx(0.1 + 0.02 * 1.644854, abs=1e-6)
    assert math.isfinite(object_threshold(z_null, 0.05, 0, 3))
