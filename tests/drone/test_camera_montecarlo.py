"""Monte Carlo calibration of geolocation uncertainty: the 95 % ellipse holds 93–97 %."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from truceline.drone.base import CameraPose, PoseUncertainty
from truceline.drone.camera import Terrain
from truceline.drone.montecarlo import geolocation_trials, sample_pose
from truceline.model.geo import LocalFrame

TRIALS = 2000


def pose(sensor_el_deg: float, alt_m: float) -> CameraPose:
    return CameraPose(
        time_s=1.8e9, lon=36.0, lat=48.0, alt_m=alt_m, heading_deg=35.0, pitch_deg=2.0,
        roll_deg=-1.5, sensor_az_deg=10.0, sensor_el_deg=sensor_el_deg, sensor_roll_deg=0.5,
        hfov_deg=40.0, vfov_deg=30.0, width_px=1920, height_px=1440,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "el", "uv"),
    [
        ("nadir centre", -90.0, (960.0, 720.0)),
        ("nadir corner", -90.0, (150.0, 1300.0)),
        ("oblique 60 deg off nadir", -30.0, (960.0, 720.0)),
        ("oblique off-centre", -30.0, (400.0, 1000.0)),
    ],
)
def test_ellipse95_coverage(name: str, el: float, uv: tuple[float, float]) -> None:
    trials = geolocation_trials(
        pose(el, 600.0), *uv, Terrain.flat(100.0), TRIALS, np.random.default_rng(11)
    )
    assert 0.93 <= trials.coverage() <= 0.97, name


def test_coverage_with_time_error_and_platform_motion() -> None:
    moving = replace(pose(-40.0, 800.0), uncertainty=PoseUncertainty(time_s=0.2))
    trials = geolocation_trials(
        moving, 900.0, 700.0, Terrain.flat(100.0), TRIALS, np.random.default_rng(12),
        pixel_sigma_px=2.0, velocity_enu_mps=(30.0, -20.0, 1.0),
    )  # fmt: skip
    assert 0.93 <= trials.coverage() <= 0.97


def test_sample_pose_draws_the_stated_errors() -> None:
    truth = pose(-90.0, 600.0)
    rng = np.random.default_rng(0)
    samples = [sample_pose(truth, rng) for _ in range(3000)]
    east, north = LocalFrame(36.0, 48.0).to_local([s.lon for s in samples],
                                                  [s.lat for s in samples])  # fmt: skip
    assert np.std(east) == pytest.approx(3.0, rel=0.05)
    assert np.std(north) == pytest.approx(3.0, rel=0.05)
    assert np.std([s.alt_m for s in samples]) == pytest.approx(5.0, rel=0.05)
    assert np.std([s.roll_deg for s in samples]) == pytest.approx(0.5, rel=0.05)
    assert np.std([s.sensor_el_deg for s in samples]) == pytest.approx(0.3, rel=0.05)
