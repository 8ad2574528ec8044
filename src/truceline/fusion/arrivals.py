"""Ground arrivals of one time unit into located sources (the first fusion level).

Bearings and arrival times do not say where a source is until several
stations are combined. The arrivals of one *unit* — a run of arrivals
connected in time (:func:`truceline.fusion.gates.ground_units`) — are located
together, in a metric frame of their own:

1. local direction-finding sensors by :func:`truceline.fusion.acoustic.associate_acoustic`
   (azimuth and arrival-time residuals, a Gaussian likelihood per detection);
2. what they leave, regional infrasound arrays and sensors without direction,
   by :func:`truceline.fusion.network.network_sources`.

Each located source becomes one item for the second level (the association
engine of :mod:`truceline.fusion.engine`). Arrivals that support no source are
returned as unassociated. Nothing here depends on arrivals outside the unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from truceline.fusion.acoustic import AcousticDetection, associate_acoustic
from truceline.fusion.items import Item
from truceline.fusion.network import network_sources
from truceline.fusion.sources import ItemFactory
from truceline.model.geo import WGS84_GEOD, LocalFrame
from truceline.model.location import BearingLocation
from truceline.model.observation import Observation

__all__ = ["locate_unit", "snapped_frame"]

FloatArray = npt.NDArray[np.float64]

#: Frames are centred on a grid of this step (degrees), so few distinct frames exist.
FRAME_STEP_DEG = 1.0


def snapped_frame(lons: Sequence[float], lats: Sequence[float]) -> LocalFrame:
    """A local frame centred on the grid node nearest the points' bounding-box middle.

    Frame centres on a coarse grid keep the number of distinct projections
    small (each is built once and cached) while every component stays within
    a fraction of a degree of its frame's centre.
    """
    mid_lon = (min(lons) + max(lons)) / 2.0
    mid_lat = (min(lats) + max(lats)) / 2.0
    lon0 = round(round(mid_lon / FRAME_STEP_DEG) * FRAME_STEP_DEG, 6)
    lat0 = round(round(mid_lat / FRAME_STEP_DEG) * FRAME_STEP_DEG, 6)
    return LocalFrame(max(-180.0, min(180.0, lon0)), max(-90.0, min(90.0, lat0)))


def _grid_north_rad(
    frame: LocalFrame, lons: Sequence[float], lats: Sequence[float], xs: FloatArray, ys: FloatArray
) -> FloatArray:
    """Angles (radians) from grid north to true north at points of the frame.

    Azimuths are measured from true north; the frame's grid north departs from
    it away from the centre (meridian convergence, about a degree 100 km east or
    west at mid latitudes). Adding this angle turns a true azimuth into a grid one.
    """
    n = len(lons)
    north_lon, north_lat, _ = WGS84_GEOD.fwd(
        np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), np.zeros(n), np.full(n, 1e3)
    )
    x1, y1 = frame.to_local(north_lon, north_lat)
    return np.asarray(np.arctan2(np.atleast_1d(x1) - xs, np.atleast_1d(y1) - ys), dtype=float)


def locate_unit(
    unit: Sequence[tuple[str, Observation]], factory: ItemFactory
) -> tuple[list[Item], list[str]]:
    """Locate the sources of one unit of ground arrivals.

    Parameters
    ----------
    unit
        ``(id, observation)`` pairs of bearing or station arrivals, sorted by id.
    factory
        Builds the items and contributions.

    Returns
    -------
    tuple
        Items of the located sources, and the ids of arrivals no source used (sorted).
    """
    ids = [oid for oid, _ in unit]
    obs = [o for _, o in unit]
    centres = [o.centre for o in obs]
    frame = snapped_frame([c[0] for c in centres], [c[1] for c in centres])
    xs, ys = frame.to_local([c[0] for c in centres], [c[1] for c in centres])
    xs, ys = np.atleast_1d(xs), np.atleast_1d(ys)
    config = factory.config
    bearing = [i for i, o in enumerate(obs) if isinstance(o.location, BearingLocation)]
    norths = (
        _grid_north_rad(
            frame,
            [centres[i][0] for i in bearing],
            [centres[i][1] for i in bearing],
            xs[bearing],
            ys[bearing],
        ).tolist()
        if bearing
        else []
    )
    detections = []
    for index, north in zip(bearing, norths, strict=True):
        o = obs[index]
        loc = o.location
        assert isinstance(loc, BearingLocation)
        x, y = float(xs[index]), float(ys[index])
        detections.append(
            AcousticDetection(
                index=index,
                station=o.sensor_id,
                x=x,
                y=y,
                azimuth_rad=math.radians(loc.azimuth_deg) + north,
                azimuth_sigma_rad=math.radians(loc.azimuth_sigma_deg),
                time_s=o.time.timestamp(),
                time_sigma_s=factory.timing_sigma(o),
                max_range_m=min(loc.max_range_m, config.acoustic_max_range_m),
                family=factory.family(o),
            )
        )
    sources, unassociated = associate_acoustic(detections, config)
    detected = {d.index for d in detections}
    leftover = sorted(set(unassociated) | (set(range(len(obs))) - detected))
    network, still = network_sources(ids, obs, leftover)
    items = []
    if sources:
        lons, lats = frame.to_geo([s.x for s in sources], [s.y for s in sources])
        for source, lon, lat in zip(
            sources, np.atleast_1d(lons).tolist(), np.atleast_1d(lats).tolist(), strict=True
        ):
            members = [(ids[m], obs[m]) for m in source.members]
            items.append(
                factory.located_item(
                    members, lon, lat, source.cov, source.origin_s, source.origin_sigma_s
                )
            )
    for located in network:
        members = [(ids[m], obs[m]) for m in located.members]
        items.append(
            factory.located_item(
                members, located.lon, located.lat, located.cov, located.origin_s,
                located.origin_sigma_s,
            )
        )  # fmt: skip
    return items, sorted(ids[i] for i in still)
