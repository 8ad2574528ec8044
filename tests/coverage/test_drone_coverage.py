"""Drone coverage: footprints per pass, detection capability, and the real camera."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
import shapely

from truceline.coverage.drone import (
    CoverageWarning,
    detection_probability,
    drone_coverage,
    pass_coverage,
    smallest_detectable_m,
)
from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.passes import split_passes
from truceline.drone.terrain import Terrain
from truceline.model import RecordError
from truceline.model.geo import LocalFrame
from truceline.model.timeutil import from_epoch

T0 = 1_793_613_600.0  # 2026-11-02T10:00:00Z
GROUND = Terrain.flat(150.0)
METRES_PER_DEG_LAT = 111_200.0


class FlatNadirCamera:
    """A fake camera: axis-aligned footprint of a straight-down pinhole over flat ground.

    A pose looking less than 45° down sees the horizon (its footprint is undefined),
    as a real oblique camera's upper corners would.
    """

    def footprint(self, pose: CameraPose, terrain: Terrain) -> shapely.Polygon:
        return shapely.Polygon(self.footprints([pose], terrain)[0])

    def footprints(self, poses: Sequence[CameraPose], terrain: Terrain) -> npt.NDArray[np.float64]:
        out = []
        for pose in poses:
            if pose.sensor_el_deg > -45.0:
                raise RecordError(f"pose at t={pose.time_s} sees the horizon")
            half_x, half_y = self._half_sides(pose, terrain)
            frame = LocalFrame(pose.lon, pose.lat)
            lon, lat = frame.to_geo(
                [-half_x, half_x, half_x, -half_x], [half_y, half_y, -half_y, -half_y]
            )
            out.append(np.column_stack([lon, lat]))
        return np.array(out)

    def gsd_m(self, pose: CameraPose, terrain: Terrain) -> float:
        return 2.0 * self._half_sides(pose, terrain)[0] / pose.width_px

    @staticmethod
    def _half_sides(pose: CameraPose, terrain: Terrain) -> tuple[float, float]:
        height = pose.alt_m - (terrain.flat_height_m or 0.0)
        return (
            height * math.tan(math.radians(pose.hfov_deg / 2.0)),
            height * math.tan(math.radians(pose.vfov_deg / 2.0)),
        )


def pose(t: float, north_m: float, alt_m: float = 650.0, el: float = -90.0) -> CameraPose:
    return CameraPose(
        t, 37.5, 48.0 + north_m / METRES_PER_DEG_LAT, alt_m, 0.0, 0.0, 0.0, 0.0, el, 0.0,
        40.0, 30.0, 1920, 1440,
    )  # fmt: skip


def flight(*passes: tuple[float, int, float]) -> Telemetry:
    """Passes of (start offset s, poses at 1 s, altitude m), flying north at 20 m/s."""
    poses = [pose(T0 + start + i, 20.0 * i, alt) for start, n, alt in passes for i in range(n)]
    return Telemetry(poses)


def area_m2(geometry: shapely.Geometry) -> float:
    frame = LocalFrame(37.5, 48.0)
    return float(
        shapely.transform(
            geometry, lambda xy: np.column_stack(frame.to_local(xy[:, 0], xy[:, 1]))
        ).area
    )


def test_detection_probability_model() -> None:
    recall = 0.9
    assert detection_probability(7.0, 7.0 / 5.0) == pytest.approx(recall / 2)
    assert detection_probability(7.0, 0.7) == pytest.approx(0.94 * recall, abs=0.01)
    assert detection_probability(7.0, 0.01) == pytest.approx(recall)
    assert detection_probability(7.0, 10.0) < 0.01
    sizes = [detection_probability(7.0, g) for g in (0.2, 0.5, 1.0, 2.0)]
    assert sizes == sorted(sizes, reverse=True)
    assert smallest_detectable_m(0.35) == pytest.approx(3.5)
    with pytest.raises(ValueError):
        detection_probability(7.0, 0.0)


def test_passes_become_coverage_records() -> None:
    telemetry = flight((0.0, 31, 650.0), (300.0, 11, 1150.0))
    records = drone_coverage(telemetry, GROUND, "drone:UAV-1", camera=FlatNadirCamera())
    assert [(c.start, c.end) for c in records] == [
        (from_epoch(T0), from_epoch(T0 + 30)),
        (from_epoch(T0 + 300), from_epoch(T0 + 310)),
    ]
    assert {c.sensor_id for c in records} == {"drone:UAV-1"}
    assert {c.target for c in records} == {"heavy_weapon"}
    # pass 0: 364 m wide, 600 m of track + 268 m of footprint long
    width, length = 2 * 500 * math.tan(math.radians(20)), 2 * 500 * math.tan(math.radians(15))
    assert area_m2(records[0].area) == pytest.approx(width * (600 + length), rel=0.01)
    # the higher pass resolves worse, so it is less likely to find a tank
    gsd_low, gsd_high = width / 1920, 2 * width / 1920
    assert records[0].detection_probability == pytest.approx(
        detection_probability(7.0, gsd_low), abs=1e-6
    )
    assert records[1].detection_probability == pytest.approx(
        detection_probability(7.0, gsd_high), abs=1e-6
    )


def test_worst_gsd_sets_the_capability() -> None:
    telemetry = Telemetry([pose(T0, 0.0, 650.0), pose(T0 + 1, 20.0, 2150.0)])
    (flight_pass,) = split_passes(telemetry)
    seen = pass_coverage(flight_pass, GROUND, FlatNadirCamera())
    assert seen is not None
    assert seen.worst_gsd_m == pytest.approx(2 * 2000 * math.tan(math.radians(20)) / 1920)
    assert seen.smallest_detectable_m == pytest.approx(10 * seen.worst_gsd_m)


def test_horizon_poses_are_left_out_with_a_warning() -> None:
    poses = [pose(T0 + i, 20.0 * i, el=-90.0 if i < 5 else -10.0) for i in range(10)]
    (flight_pass,) = split_passes(Telemetry(poses))
    with pytest.warns(CoverageWarning, match="5 of 10 poses left out"):
        seen = pass_coverage(flight_pass, GROUND, FlatNadirCamera())
    assert seen is not None and (seen.n_poses, seen.n_skipped) == (5, 5)
    assert seen.end_s == T0 + 4
    blind = [pose(T0 + i, 0.0, el=-5.0) for i in range(3)]
    with pytest.warns(CoverageWarning):
        assert pass_coverage(split_passes(Telemetry(blind))[0], GROUND, FlatNadirCamera()) is None


def test_real_camera_nadir_footprint() -> None:
    telemetry = flight((0.0, 31, 650.0))
    (record,) = drone_coverage(telemetry, GROUND, "drone:UAV-1")
    ours = drone_coverage(telemetry, GROUND, "drone:UAV-1", camera=FlatNadirCamera())[0]
    assert area_m2(record.area) == pytest.approx(area_m2(ours.area), rel=0.01)
    assert record.area.is_valid and record.detection_probability > 0.85
    assert drone_coverage(telemetry, GROUND, "drone:UAV-1") == [record]  # deterministic
