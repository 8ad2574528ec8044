"""Synthetic ground-sensor scenes with known sources, for association tests and benchmarks.

A scene has overlapping sources, missed stations (detection probability 0.85)
and false arrivals, either on a local network (10 sensors over 20 km x 20 km,
4 sources within 15 s, times to 0.05 s, bearings to 3°) or on regional
infrasound arrays (5 arrays over 1200 km, 3 sources within 20 min, celerity
260–330 m/s, times to 5 s, bearings to 2.5°).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from truceline.ground.associate import AssociationResult
from truceline.ground.base import Arrival, Atmosphere
from truceline.model.geo import WGS84_GEOD, LocalFrame

__all__ = ["SCENE_ATMOSPHERE", "AssociationScene", "association_counts", "association_scene"]

#: The air the local scenes' sound travels through (15 °C, wind 4 m/s east, 2 m/s south).
SCENE_ATMOSPHERE = Atmosphere(temperature_c=15.0, wind_east_mps=4.0, wind_north_mps=-2.0)


@dataclass(frozen=True)
class AssociationScene:
    """A synthetic scene.

    Attributes
    ----------
    arrivals
        True and false arrivals, in generation order.
    truth
        Source index of every true arrival, by arrival id (false ones are absent).
    sources
        ``(n, 2)`` source positions, lon/lat degrees.
    """

    arrivals: list[Arrival]
    truth: dict[str, int]
    sources: npt.NDArray[np.float64]


def association_scene(
    seed: int, *, regional: bool, bearing_frac: float, false_frac: float = 0.25
) -> AssociationScene:
    """Generate a seeded scene.

    Parameters
    ----------
    seed
        Seed of the scene's random generator.
    regional
        Regional arrays instead of a local network.
    bearing_frac
        Share of stations that measure a back azimuth.
    false_frac
        Share of false arrivals among all arrivals.
    """
    rng = np.random.default_rng(seed)
    if regional:
        frame, half, n_sta, n_src, span = LocalFrame(-112.0, 39.0), 600_000.0, 5, 3, 1200.0
        t_sigma, az_sigma, max_range = 5.0, 2.5, 2_500_000.0
    else:
        frame, half, n_sta, n_src, span = LocalFrame(36.0, 48.5), 10_000.0, 10, 4, 15.0
        t_sigma, az_sigma, max_range = 0.05, 3.0, 30_000.0
    stations = rng.uniform(-half, half, size=(n_sta, 2))
    sources = rng.uniform(-0.9 * half, 0.9 * half, size=(n_src, 2))
    origins = 1.7e9 + rng.uniform(0.0, span, n_src)
    with_az = rng.random(n_sta) < bearing_frac
    arrivals: list[Arrival] = []
    truth: dict[str, int] = {}

    def make(aid: str, s: int, t: float, az: float) -> Arrival:
        lon, lat = frame.point_to_geo(*stations[s])
        bearing = bool(with_az[s])
        return Arrival(
            aid, f"S{s:02d}", lon, lat, t, t_sigma, az % 360.0 if bearing else None,
            az_sigma if bearing else None, max_range, "explosion", 1.0,
        )  # fmt: skip

    for k in range(n_src):
        slon, slat = frame.point_to_geo(*sources[k])
        for s in range(n_sta):
            if rng.random() > 0.85:
                continue
            lon, lat = frame.point_to_geo(*stations[s])
            az12, az21, r = WGS84_GEOD.inv(lon, lat, slon, slat)
            speed = (
                rng.uniform(260.0, 330.0)
                if regional
                else SCENE_ATMOSPHERE.effective_speed_mps(az21)
            )
            t = float(origins[k] + r / speed + rng.normal(0.0, t_sigma))
            arrivals.append(make(f"a{k}-{s}", s, t, float(az12 + rng.normal(0.0, az_sigma))))
            truth[f"a{k}-{s}"] = k
    n_false = round(false_frac * len(arrivals) / (1.0 - false_frac))
    for f in range(n_false):
        s = int(rng.integers(n_sta))
        t = float(1.7e9 + rng.uniform(0.0, span * 4.0))
        arrivals.append(make(f"f{f}", s, t, float(rng.uniform(0.0, 360.0))))
    geo = np.array([frame.point_to_geo(*p) for p in sources], dtype=float)
    return AssociationScene(arrivals, truth, geo)


def association_counts(result: AssociationResult, truth: dict[str, int]) -> tuple[int, int, int]:
    """``(true positives, found events, true sources)`` of an association.

    A found event is right when at least two thirds (and at least two) of its
    members come from the true source it is matched to by an optimal
    one-to-one assignment.
    """
    n_true = len(set(truth.values()))
    shared = np.zeros((len(result.events), n_true))
    for i, event in enumerate(result.events):
        for member in event.members:
            if member in truth:
                shared[i, truth[member]] += 1
    rows, cols = linear_sum_assignment(-shared)
    tp = sum(
        1
        for r, c in zip(rows, cols, strict=True)
        if shared[r, c] >= 2 and 3 * shared[r, c] >= 2 * len(result.events[r].members)
    )
    return tp, len(result.events), n_true
