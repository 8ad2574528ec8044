"""Drone coverage: the ground each pass saw, when, and how small an object it could find.

For every pass of a telemetry (:func:`truceline.drone.passes.split_passes`: no gap
longer than ``max_gap_s``), the camera footprint of every pose is intersected
with the terrain (:func:`truceline.drone.camera.footprints`) and the footprints
are unioned into one lon/lat area per pass. A pose whose footprint is undefined
(a corner ray at or above the horizon, a DEM without height there) is left out
with a :class:`CoverageWarning`: coverage is under-stated, never invented.

**How well.** The pass's capability is set by its worst ground sample distance
(GSD, metres per pixel, :func:`truceline.drone.camera.gsd_m` at the image
centre — the geometric mean of the across- and along-range sample distances;
the far edge of an oblique image resolves worse than this). An object ``s``
metres across spans ``N = s / GSD`` pixels. The probability that the detector
finds it follows the target transfer probability function of the Johnson
criteria (NVESD)::

    P(N) = recall * (N / N50)**E / (1 + (N / N50)**E),   E = 2.7 + 0.7 * N / N50

with ``N50 = 5`` pixels (half the detector's recall at 5 pixels across: between
Johnson detection, 2 pixels, and recognition, 8 pixels — a detector must tell a
tank from a truck) and ``recall = 0.9`` (the detector's best-case recall). At
10 pixels across ``P`` is 0.94 of the recall, so the **smallest detectable object**
of a pass is reported as 10 pixels times its worst GSD. A tank, ~7 m long
(:data:`TARGET_SIZES_M`), seen at 0.35 m/pixel spans 20 pixels: ``P`` = 0.90; at
1.4 m/pixel, 5 pixels: ``P`` = 0.45.

Each pass gives one :class:`~truceline.model.Coverage` per target class, with
that probability and the pass's first and last pose times. The area is simplified
(Douglas-Peucker) to a tolerance of the pass's smallest detectable object size:
the union's outline is a saw-tooth with a vertex per frame, and detail finer than
the smallest object the pass could find changes no conclusion, while a record of
a 30-minute patrol stays a few hundred bytes instead of a few hundred kilobytes.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import GeometryCollection
from shapely.geometry.base import BaseGeometry

from truceline.drone import camera as _camera
from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.passes import FlightPass, split_passes
from truceline.drone.terrain import Terrain
from truceline.model.coverage import Coverage
from truceline.model.errors import RecordError
from truceline.model.timeutil import from_epoch

__all__ = [
    "DETECTABLE_PIXELS",
    "DETECTOR_RECALL",
    "N50_PIXELS",
    "TARGET_SIZES_M",
    "CameraModel",
    "CoverageWarning",
    "PassCoverage",
    "detection_probability",
    "drone_coverage",
    "pass_coverage",
    "smallest_detectable_m",
]

#: Pixels across an object at which it counts as detectable (P ~ 0.94 of the recall).
DETECTABLE_PIXELS: Final = 10.0
#: Pixels across at which the detection probability is half the recall.
N50_PIXELS: Final = 5.0
#: Best-case recall of the detector (probability of finding a well-resolved object).
DETECTOR_RECALL: Final = 0.9
#: Target class -> characteristic size, metres (a main battle tank is ~7 m long).
TARGET_SIZES_M: Final[Mapping[str, float]] = {"heavy_weapon": 7.0}
#: Grid the coverage areas are snapped to, degrees (1e-7 deg ~ 1 cm): valid, stable WKT.
_GRID_DEG: Final = 1e-7
#: Metres per degree of latitude (a degree of longitude is shorter: the conversion is safe).
_METRES_PER_DEG: Final = 111_320.0

FloatArray = npt.NDArray[np.float64]


class CoverageWarning(UserWarning):
    """Part of a flight could not be turned into coverage (e.g. the camera saw the horizon)."""


class CameraModel(Protocol):
    """What coverage needs of the camera geometry (:mod:`truceline.drone.camera` is one)."""

    def footprints(self, poses: Sequence[CameraPose], terrain: Terrain) -> FloatArray:
        """Ground corners ``(n, 4, 2)`` lon/lat degrees; RecordError if one is undefined."""
        ...

    def footprint(self, pose: CameraPose, terrain: Terrain) -> shapely.Polygon:
        """Ground footprint of one pose; RecordError if undefined."""
        ...

    def gsd_m(self, pose: CameraPose, terrain: Terrain) -> float:
        """Ground sample distance at the image centre, metres per pixel."""
        ...


def detection_probability(
    object_size_m: float,
    gsd_m: float,
    *,
    n50_px: float = N50_PIXELS,
    recall: float = DETECTOR_RECALL,
) -> float:
    """Probability of detecting an object ``object_size_m`` across at ``gsd_m`` m/pixel.

    The Johnson-criteria target transfer probability function (module notes),
    scaled by the detector's ``recall``; in [0, ``recall``].
    """
    if not (object_size_m > 0.0 and gsd_m > 0.0 and n50_px > 0.0):
        raise ValueError("object size, GSD and N50 must be positive")
    if not 0.0 <= recall <= 1.0:
        raise ValueError(f"recall must be in [0, 1], got {recall}")
    ratio = object_size_m / gsd_m / n50_px
    exponent = 2.7 + 0.7 * ratio
    power = math.exp(exponent * math.log(ratio))
    return recall * power / (1.0 + power) if math.isfinite(power) else recall


def smallest_detectable_m(gsd_m: float, pixels: float = DETECTABLE_PIXELS) -> float:
    """Smallest object size (metres) spanning ``pixels`` pixels at ``gsd_m`` m/pixel."""
    return pixels * gsd_m


@dataclass(frozen=True)
class PassCoverage:
    """What one pass observed.

    Attributes
    ----------
    pass_index
        The pass.
    start_s, end_s
        First and last pose time used, UTC epoch seconds.
    area
        Union of the footprints, lon/lat degrees, simplified to the smallest
        detectable object size and snapped to a 1e-7 degree grid.
    worst_gsd_m
        Largest ground sample distance of the pass, metres per pixel.
    n_poses
        Poses whose footprints make the area.
    n_skipped
        Poses left out because their footprint was undefined.
    """

    pass_index: int
    start_s: float
    end_s: float
    area: BaseGeometry
    worst_gsd_m: float
    n_poses: int
    n_skipped: int

    @property
    def smallest_detectable_m(self) -> float:
        """Smallest detectable object size of the pass, metres (10 px at the worst GSD)."""
        return smallest_detectable_m(self.worst_gsd_m)

    def to_coverage(self, sensor_id: str, target: str, size_m: float) -> Coverage:
        """The :class:`Coverage` record for target class ``target`` of ``size_m`` metres."""
        return Coverage(
            sensor_id=sensor_id,
            start=from_epoch(round(self.start_s, 6)),
            end=from_epoch(round(self.end_s, 6)),
            area_wkt=shapely.to_wkt(self.area, rounding_precision=7, trim=True),
            detection_probability=round(detection_probability(size_m, self.worst_gsd_m), 6),
            target=target,
        )


def _corners(
    poses: Sequence[CameraPose], terrain: Terrain, camera: CameraModel
) -> tuple[list[FloatArray], list[CameraPose], list[str]]:
    """Footprint corners of the poses that see the ground, and why the others do not."""
    try:
        corners = camera.footprints(poses, terrain)
        return list(corners), list(poses), []
    except RecordError:
        pass
    kept: list[FloatArray] = []
    used: list[CameraPose] = []
    reasons: list[str] = []
    for pose in poses:
        try:
            polygon = camera.footprint(pose, terrain)
        except RecordError as exc:
            reasons.append(exc.message)
            continue
        kept.append(np.asarray(polygon.exterior.coords, dtype=float)[:4])
        used.append(pose)
    return kept, used, reasons


def pass_coverage(
    flight_pass: FlightPass, terrain: Terrain, camera: CameraModel = _camera
) -> PassCoverage | None:
    """Footprint union and worst GSD of one pass.

    Returns ``None`` (with a :class:`CoverageWarning`) when no pose of the pass
    sees the ground.
    """
    corners, used, reasons = _corners(flight_pass.poses, terrain, camera)
    if reasons:
        warnings.warn(
            f"pass {flight_pass.index} ({from_epoch(flight_pass.start_s).isoformat()}): "
            f"{len(reasons)} of {len(flight_pass.poses)} poses left out of the coverage, "
            f"footprint undefined (first: {reasons[0]})",
            CoverageWarning,
            stacklevel=2,
        )
    if not used:
        return None
    polygons = shapely.make_valid(shapely.polygons(np.stack(corners)))
    worst = max(camera.gsd_m(pose, terrain) for pose in used)
    # The union's edges are a saw-tooth of the frames' corners (a vertex per frame);
    # detail finer than the smallest detectable object changes no conclusion.
    tolerance_deg = smallest_detectable_m(worst) / _METRES_PER_DEG
    area = shapely.simplify(shapely.union_all(polygons), tolerance_deg)
    area = shapely.set_precision(area, _GRID_DEG)
    if isinstance(area, GeometryCollection):
        area = shapely.union_all([g for g in area.geoms if g.area > 0.0])
    return PassCoverage(
        pass_index=flight_pass.index,
        start_s=used[0].time_s,
        end_s=used[-1].time_s,
        area=area,
        worst_gsd_m=worst,
        n_poses=len(used),
        n_skipped=len(flight_pass.poses) - len(used),
    )


def drone_coverage(
    telemetry: Telemetry,
    terrain: Terrain,
    sensor_id: str,
    *,
    targets: Mapping[str, float] = TARGET_SIZES_M,
    max_gap_s: float | None = None,
    camera: CameraModel = _camera,
) -> list[Coverage]:
    """Coverage records of every pass of ``telemetry``, one per target class.

    Parameters
    ----------
    telemetry
        The flight's camera poses.
    terrain
        Ground heights (flat or a DEM).
    sensor_id
        The drone camera's sensor id.
    targets
        Target class -> size in metres; one record per pass and target.
    max_gap_s
        Gap that splits passes, seconds (``telemetry.max_gap_s`` by default).
    camera
        Camera geometry; :mod:`truceline.drone.camera` by default.

    Returns
    -------
    list of Coverage
        By pass, then target name.
    """
    records: list[Coverage] = []
    for flight_pass in split_passes(telemetry, max_gap_s):
        seen = pass_coverage(flight_pass, terrain, camera)
        if seen is None:
            continue
        records.extend(seen.to_coverage(sensor_id, t, targets[t]) for t in sorted(targets))
    return records
