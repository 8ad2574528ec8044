"""Drone camera geometry: footprint throughput, geolocation rate and calibration.

Throughput (single thread, same machine, same run, best of three):

* ``drone_footprints_per_s``: :func:`truceline.drone.camera.footprints` on
  20,000 varied poses over flat ground (batch rotations, one geodesic call);
* ``drone_footprints_loop_per_s``: the straightforward peer, a per-frame loop
  that builds the rotation with numpy, intersects the four corner rays, converts
  them with one :meth:`pyproj.Geod.fwd` call per frame and builds a shapely
  polygon; ``drone_footprints_speedup`` is the ratio;
* ``drone_footprints_dem_per_s``: the vectorised footprints over a DEM GeoTIFF;
* ``drone_geolocations_per_s``: :func:`truceline.drone.camera.geolocate` calls
  (point and covariance) per second.

Calibration (Monte Carlo, default ``PoseUncertainty``: 3 m horizontal, 5 m
vertical, 0.5° attitude, 0.3° gimbal; 1 px pixel error; 4000 trials each): the
fraction of trials whose truth lies inside the 95 % ellipse at nadir and 60°
off nadir (target 0.93–0.97), and the median horizontal error at 500 m and
2 km slant range for a view 45° off nadir at the image centre.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.transform import Affine

from truceline.drone._rotation import camera_to_enu
from truceline.drone.base import CameraPose
from truceline.drone.camera import Terrain, footprints, geolocate
from truceline.drone.montecarlo import geolocation_trials
from truceline.model.geo import WGS84_GEOD

SEED = 20_261_102
N_POSES = 20_000
N_LOOP = 2_000
TRIALS = 4_000
GROUND_M = 150.0


def _poses(n: int, rng: np.random.Generator, spread_deg: float = 1.0) -> list[CameraPose]:
    return [
        CameraPose(
            time_s=1.8e9 + i, lon=36.0 + rng.uniform(-spread_deg, spread_deg),
            lat=48.0 + rng.uniform(-spread_deg, spread_deg), alt_m=rng.uniform(400.0, 3000.0),
            heading_deg=rng.uniform(0.0, 360.0), pitch_deg=rng.normal(0.0, 3.0),
            roll_deg=rng.normal(0.0, 3.0), sensor_az_deg=rng.uniform(-180.0, 180.0),
            sensor_el_deg=rng.uniform(-90.0, -45.0), sensor_roll_deg=0.0, hfov_deg=40.0,
            vfov_deg=30.0, width_px=1920, height_px=1440, frame=i,
        )
        for i in range(n)
    ]  # fmt: skip


def _loop_footprint(pose: CameraPose, ground_m: float) -> shapely.Polygon:
    """The per-frame peer: numpy rotation, four rays, one pyproj call, a shapely polygon."""
    rot = camera_to_enu(*(np.array([a]) for a in (
        pose.heading_deg, pose.pitch_deg, pose.roll_deg,
        pose.sensor_az_deg, pose.sensor_el_deg, pose.sensor_roll_deg)))[0]  # fmt: skip
    tx = math.tan(math.radians(pose.hfov_deg) / 2.0)
    ty = math.tan(math.radians(pose.vfov_deg) / 2.0)
    cam = np.array([[-tx, -ty, 1.0], [tx, -ty, 1.0], [tx, ty, 1.0], [-tx, ty, 1.0]])
    world = cam @ rot.T
    t = (pose.alt_m - ground_m) / -world[:, 2]
    x, y = t * world[:, 0], t * world[:, 1]
    lon, lat, _ = WGS84_GEOD.fwd(
        [pose.lon] * 4, [pose.lat] * 4, np.degrees(np.arctan2(x, y)), np.hypot(x, y)
    )
    return shapely.Polygon(zip(lon, lat, strict=True))


def _best_rate(func: object, count: int, repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        func()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return count / best


def _write_dem(path: Path) -> Path:
    rows, cols = np.mgrid[0:2400, 0:2400]
    heights = (GROUND_M + 80.0 * np.sin(rows / 90.0) * np.cos(cols / 70.0)).astype("float32")
    step = 2.2 / 2400
    with rasterio.open(
        path, "w", driver="GTiff", width=2400, height=2400, count=1, dtype="float32",
        crs="EPSG:4326", transform=Affine(step, 0.0, 34.9, 0.0, -step, 49.1),
    ) as ds:  # fmt: skip
        ds.write(heights, 1)
    return path


def _view(slant_m: float, off_nadir_deg: float) -> CameraPose:
    return CameraPose(
        time_s=1.8e9, lon=36.0, lat=48.0,
        alt_m=GROUND_M + slant_m * math.cos(math.radians(off_nadir_deg)), heading_deg=35.0,
        pitch_deg=1.0, roll_deg=-1.0, sensor_az_deg=10.0,
        sensor_el_deg=off_nadir_deg - 90.0, sensor_roll_deg=0.0, hfov_deg=40.0,
        vfov_deg=30.0, width_px=1920, height_px=1440,
    )  # fmt: skip


def run() -> dict[str, object]:
    """Measure the figures described in the module docstring."""
    rng = np.random.default_rng(SEED)
    flat = Terrain.flat(GROUND_M)
    poses = _poses(N_POSES, rng)
    vec = _best_rate(lambda: footprints(poses, flat), N_POSES)
    loop_poses = poses[:N_LOOP]
    loop = _best_rate(lambda: [_loop_footprint(p, GROUND_M) for p in loop_poses], N_LOOP)
    with tempfile.TemporaryDirectory() as tmp:
        dem = Terrain.from_geotiff(_write_dem(Path(tmp) / "dem.tif"))
        dem_poses = _poses(N_LOOP, rng, spread_deg=0.5)
        dem_rate = _best_rate(lambda: footprints(dem_poses, dem), N_LOOP)
    geo_poses = poses[:N_LOOP]
    geo = _best_rate(lambda: [geolocate(p, 700.0, 500.0, flat) for p in geo_poses], N_LOOP)
    nadir = geolocation_trials(_view(600.0, 0.0), 700.0, 500.0, flat, TRIALS,
                               np.random.default_rng(SEED + 1))  # fmt: skip
    oblique = geolocation_trials(_view(1200.0, 60.0), 1200.0, 800.0, flat, TRIALS,
                                 np.random.default_rng(SEED + 2))  # fmt: skip
    near = geolocation_trials(_view(500.0, 45.0), 960.0, 720.0, flat, TRIALS,
                              np.random.default_rng(SEED + 3))  # fmt: skip
    far = geolocation_trials(_view(2000.0, 45.0), 960.0, 720.0, flat, TRIALS,
                             np.random.default_rng(SEED + 4))  # fmt: skip
    return {
        "drone_footprints_per_s": round(vec),
        "drone_footprints_loop_per_s": round(loop),
        "drone_footprints_speedup": round(vec / loop, 1),
        "drone_footprints_dem_per_s": round(dem_rate),
        "drone_geolocations_per_s": round(geo),
        "drone_ellipse95_coverage_nadir": round(nadir.coverage(), 4),
        "drone_ellipse95_coverage_oblique": round(oblique.coverage(), 4),
        "drone_median_error_m_500m": round(near.median_error_m, 2),
        "drone_median_error_m_2km": round(far.median_error_m, 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
