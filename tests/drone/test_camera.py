"""Camera geometry on flat ground: conventions, footprints, GSD, projection, bad input."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from truceline.drone.base import CameraPose, PoseUncertainty, Telemetry, TelemetryGapError
from truceline.drone.camera import (
    GroundPoint,
    Terrain,
    footprint,
    footprints,
    geolocate,
    gsd_m,
    platform_velocity_enu_mps,
    project,
)
from truceline.model.errors import RecordError
from truceline.model.geo import LocalFrame

LON0, LAT0 = 36.0, 48.0
GROUND = Terrain.flat(100.0)


def make_pose(**changes: float) -> CameraPose:
    pose = CameraPose(
        time_s=1.8e9, lon=LON0, lat=LAT0, alt_m=1100.0, heading_deg=0.0, pitch_deg=0.0,
        roll_deg=0.0, sensor_az_deg=0.0, sensor_el_deg=-90.0, sensor_roll_deg=0.0,
        hfov_deg=40.0, vfov_deg=30.0, width_px=1920, height_px=1440, frame=7,
    )  # fmt: skip
    return replace(pose, **changes)


def local_xy(pose: CameraPose, point: GroundPoint) -> tuple[float, float]:
    return LocalFrame(pose.lon, pose.lat).point_to_local(point.lon, point.lat)


def centre(pose: CameraPose) -> tuple[float, float]:
    return local_xy(pose, geolocate(pose, pose.width_px / 2, pose.height_px / 2, GROUND))


def test_nadir_image_is_north_up_east_right() -> None:
    pose = make_pose()
    x, y = centre(pose)
    assert abs(x) < 1e-6 and abs(y) < 1e-6
    top = local_xy(pose, geolocate(pose, 960, 0, GROUND))
    right = local_xy(pose, geolocate(pose, 1920, 720, GROUND))
    assert top[1] == pytest.approx(1000 * math.tan(math.radians(15)), abs=0.02)
    assert abs(top[0]) < 1e-6
    assert right[0] == pytest.approx(1000 * math.tan(math.radians(20)), abs=0.02)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # nose 30 deg down, camera along the nose: boresight north at alt / tan(30)
        ({"pitch_deg": -30.0, "sensor_el_deg": 0.0}, (0.0, 1000 / math.tan(math.radians(30)))),
        # right wing down: the belly, and a nadir camera, look left (west)
        ({"roll_deg": 10.0}, (-1000 * math.tan(math.radians(10)), 0.0)),
        # heading east, gimbal 30 deg below the horizon: east at alt / tan(30)
        ({"heading_deg": 90.0, "sensor_el_deg": -30.0}, (1000 / math.tan(math.radians(30)), 0)),
        # gimbal azimuth 90 = right of the nose (east when heading north)
        ({"sensor_az_deg": 90.0, "sensor_el_deg": -45.0}, (1000.0, 0.0)),
    ],
)
def test_attitude_conventions(changes: dict[str, float], expected: tuple[float, float]) -> None:
    x, y = centre(make_pose(**changes))
    # within the Earth's curvature over the ground distance
    assert x == pytest.approx(expected[0], abs=0.5)
    assert y == pytest.approx(expected[1], abs=0.5)


def test_sensor_roll_is_clockwise_along_the_boresight() -> None:
    # looking down, clockwise seen from above: the image top turns from north to east
    pose = make_pose(sensor_roll_deg=90.0)
    x, y = local_xy(pose, geolocate(pose, 960, 0, GROUND))
    assert x > 200.0 and abs(y) < 1e-3


def test_footprint_corners_match_local_frame() -> None:
    pose = make_pose()
    corners = footprints([pose], GROUND)[0]
    x, y = LocalFrame(LON0, LAT0).to_local(corners[:, 0], corners[:, 1])
    half_w, half_h = 1000 * math.tan(math.radians(20)), 1000 * math.tan(math.radians(15))
    np.testing.assert_allclose(x, [-half_w, half_w, half_w, -half_w], atol=0.05)
    np.testing.assert_allclose(y, [half_h, half_h, -half_h, -half_h], atol=0.05)
    polygon = footprint(pose, GROUND)
    assert polygon.is_valid
    np.testing.assert_allclose(np.asarray(polygon.exterior.coords)[:4], corners)


def test_batch_footprints_equal_single_footprints() -> None:
    rng = np.random.default_rng(3)
    poses = [
        make_pose(
            lon=LON0 + rng.uniform(-1, 1), lat=LAT0 + rng.uniform(-1, 1),
            alt_m=rng.uniform(300, 3000), heading_deg=rng.uniform(0, 360),
            pitch_deg=rng.normal(0, 3), roll_deg=rng.normal(0, 3),
            sensor_az_deg=rng.uniform(-180, 180), sensor_el_deg=rng.uniform(-90, -50),
        )
        for _ in range(40)
    ]  # fmt: skip
    batch = footprints(poses, GROUND)
    assert batch.shape == (40, 4, 2)
    for pose, corners in zip(poses, batch, strict=True):
        np.testing.assert_allclose(np.asarray(footprint(pose, GROUND).exterior.coords)[:4],
                                   corners, atol=1e-12)  # fmt: skip
        # every corner projects back onto its image corner
        for (lon, lat), (u, v) in zip(corners, [(0, 0), (1920, 0), (1920, 1440), (0, 1440)],
                                      strict=True):  # fmt: skip
            assert project(pose, lon, lat, 100.0) == pytest.approx((u, v), abs=1e-3)
    assert footprints([], GROUND).shape == (0, 4, 2)


def test_project_inverts_geolocate() -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        pose = make_pose(heading_deg=rng.uniform(0, 360), sensor_el_deg=rng.uniform(-90, -35),
                         roll_deg=rng.normal(0, 5), sensor_roll_deg=rng.normal(0, 5))  # fmt: skip
        u, v = rng.uniform(0, 1920), rng.uniform(0, 1440)
        point = geolocate(pose, u, v, GROUND)
        got = project(pose, point.lon, point.lat, point.height_m)
        assert got is not None
        assert got == pytest.approx((u, v), abs=1e-4)


def test_project_behind_or_outside_is_none() -> None:
    pose = make_pose(sensor_el_deg=-30.0)  # looking north
    behind = LocalFrame(LON0, LAT0).point_to_geo(0.0, -2000.0)
    aside = LocalFrame(LON0, LAT0).point_to_geo(3000.0, 1700.0)
    assert project(pose, *behind, 100.0) is None
    assert project(pose, *aside, 100.0) is None
    with pytest.raises(RecordError, match="non-finite"):
        project(pose, math.nan, LAT0, 100.0)


def test_gsd_nadir_and_oblique() -> None:
    nadir = make_pose()
    ifov_w = 2 * math.tan(math.radians(20)) / 1920
    ifov_h = 2 * math.tan(math.radians(15)) / 1440
    assert gsd_m(nadir, GROUND) == pytest.approx(1000 * math.sqrt(ifov_w * ifov_h), rel=1e-4)
    # 60 deg off nadir: range 2000 m, along-range stretched by 1/sin(30 deg)
    oblique = make_pose(sensor_el_deg=-30.0)
    expected = 2000 * math.sqrt(ifov_w * ifov_h / math.sin(math.radians(30)))
    assert gsd_m(oblique, GROUND) == pytest.approx(expected, rel=2e-3)


def test_geolocate_covariance_and_ellipse() -> None:
    pose = make_pose(uncertainty=PoseUncertainty(3.0, 5.0, 0.0, 0.0, 0.02))
    point = geolocate(pose, 960, 720, GROUND, pixel_sigma_px=0.0)
    # only position errors: 3 m on each axis, altitude does not move the nadir centre
    assert point.cov_ee == pytest.approx(9.0, rel=1e-6)
    assert point.cov_nn == pytest.approx(9.0, rel=1e-6)
    assert point.cov_en == pytest.approx(0.0, abs=1e-6)
    assert point.slant_range_m == pytest.approx(1000.0, abs=0.01)
    assert point.height_m == 100.0
    moving = geolocate(pose, 960, 720, GROUND, 0.0, velocity_enu_mps=(50.0, 0.0, 0.0))
    assert moving.cov_ee == pytest.approx(9.0 + (50 * 0.02) ** 2, rel=1e-6)
    ellipse = point.ellipse()
    assert ellipse.semi_major_m == pytest.approx(3.0 * math.sqrt(-2 * math.log(0.05)), rel=1e-6)


def test_nan_attitude_is_refused_by_the_pose() -> None:
    with pytest.raises(RecordError, match="non-finite"):
        make_pose(pitch_deg=math.nan)


def test_horizon_is_an_error_naming_pose_and_corner() -> None:
    # 10 deg below the horizon with a 30 deg vertical FOV: the top edge looks up
    pose = make_pose(sensor_el_deg=-10.0)
    with pytest.raises(RecordError, match=r"frame 7.*top-left corner.*horizon"):
        footprint(pose, GROUND)
    with pytest.raises(RecordError, match=r"pose 1 \(frame 7.*horizon"):
        footprints([make_pose(), pose], GROUND)
    with pytest.raises(RecordError, match="horizon"):
        geolocate(pose, 960, 0, GROUND)
    with pytest.raises(RecordError, match="horizon"):
        gsd_m(make_pose(sensor_el_deg=0.0), GROUND)
    # 1.5 deg down from 1000 m: the ray meets the curved Earth 44 km away, but a
    # one-sigma pitch error lifts it over the horizon (the dip is 1.0 deg): no
    # honest covariance, so an error rather than a tiny ellipse
    with pytest.raises(RecordError, match=r"pitch error at one sigma.*horizon"):
        geolocate(make_pose(sensor_el_deg=-1.5), 960, 720, GROUND)
    far = geolocate(make_pose(sensor_el_deg=-3.0), 960, 720, GROUND)
    assert 18_000 < far.slant_range_m < 21_000


def test_camera_below_ground_and_bad_pixels() -> None:
    with pytest.raises(RecordError, match="below the terrain"):
        footprint(make_pose(alt_m=50.0), GROUND)
    with pytest.raises(RecordError, match="outside the 1920x1440 image"):
        geolocate(make_pose(), 2000, 10, GROUND)
    with pytest.raises(RecordError, match="not finite"):
        geolocate(make_pose(), math.nan, 10, GROUND)
    with pytest.raises(RecordError, match="finite height"):
        Terrain.flat(math.nan)


def test_platform_velocity_from_telemetry() -> None:
    frame = LocalFrame(LON0, LAT0)
    poses = []
    for k in range(11):  # 20 m/s east, 5 m/s south, climbing 1 m/s, one pose a second
        lon, lat = frame.point_to_geo(20.0 * k, -5.0 * k)
        poses.append(make_pose(time_s=1.8e9 + k, lon=lon, lat=lat, alt_m=1100.0 + k))
    telemetry = Telemetry(poses)
    for t in (1.8e9, 1.8e9 + 4.3, 1.8e9 + 10):
        assert platform_velocity_enu_mps(telemetry, t) == pytest.approx((20, -5, 1), abs=1e-3)
    with pytest.raises(TelemetryGapError):
        platform_velocity_enu_mps(telemetry, 1.8e9 + 20)
