"""Flight passes and per-pass de-duplication of detections.

A **pass** is a stretch of telemetry without gaps: consecutive poses never more
than ``max_gap_s`` apart (by default the telemetry's own ``max_gap_s``, the
largest gap :meth:`~truceline.drone.base.Telemetry.at` interpolates across). A
sortie that loses its link, or two sorties in one log, make several passes.

A detector fires on every frame in which it sees an object, so one tank flown
over for 30 s is hundreds of boxes. Within one pass, geolocated detections of the
same class family (:attr:`~truceline.drone.classmap.ClassTarget.family`) whose
positions agree within a Mahalanobis gate are linked, and the connected groups
(single linkage) become one :class:`Sighting` each:

* the gate is ``d² = Δᵀ (Σᵢ + Σⱼ)⁻¹ Δ <= gate_chi2`` with ``Δ`` the east/north
  difference (m) and ``Σ`` the detections' covariances (m²); the default is the
  99.9 % quantile of the chi-square distribution with two degrees of freedom, so
  the boxes of one object are split into two sightings about once in a thousand
  pairs, while two tanks 50 m apart located to ±6 m are kept apart;
* the position is the information-weighted mean. Frames of one pass are seconds
  apart and share most of their pose error (GNSS bias, attitude and gimbal
  misalignment), so the covariance is not simply the inverse of the summed
  information: with a pairwise error correlation ``rho`` between frames, the
  weighted mean of ``n`` frames has covariance ``(Σ Σᵢ⁻¹)⁻¹ (1 + (n - 1) rho)``.
  The default ``rho = 1`` never claims better than a single frame; ``rho = 0``
  treats frames as independent;
* when the group holds several objects at once (more than one box in a frame),
  its position is their centroid and the scatter of the boxes about it is added
  to the covariance: the group's extent is part of where it is;
* the weapon class is the score-weighted vote of the members (ties broken
  alphabetically); ``count`` is the largest number of the group's boxes in one
  frame; ``confidence`` the highest detector score.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from truceline.drone.base import CameraPose, Telemetry
from truceline.drone.classmap import ClassTarget
from truceline.model.geo import LocalFrame

__all__ = [
    "DEFAULT_GATE_CHI2",
    "MAX_LISTED_FRAMES",
    "FlightPass",
    "LocatedDetection",
    "Sighting",
    "deduplicate",
    "pass_of",
    "split_passes",
]

#: 99.9 % quantile of chi-square with 2 degrees of freedom, ``-2 ln(0.001)``.
DEFAULT_GATE_CHI2: Final = -2.0 * math.log(0.001)
#: Most frame numbers listed in a sighting's attributes (the count is always given).
MAX_LISTED_FRAMES: Final = 50
#: Rows of the pairwise gate evaluated at once (bounds memory to ~8 * ROWS * n floats).
_ROWS: Final = 256

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FlightPass:
    """Contiguous telemetry: consecutive poses at most ``max_gap_s`` apart.

    Attributes
    ----------
    index
        0-based position of the pass in its telemetry.
    poses
        The pass's poses in time order.
    """

    index: int
    poses: tuple[CameraPose, ...]

    @property
    def start_s(self) -> float:
        """First pose time, UTC epoch seconds."""
        return self.poses[0].time_s

    @property
    def end_s(self) -> float:
        """Last pose time, UTC epoch seconds."""
        return self.poses[-1].time_s


def split_passes(telemetry: Telemetry, max_gap_s: float | None = None) -> list[FlightPass]:
    """Split ``telemetry`` at every gap longer than ``max_gap_s`` seconds.

    Parameters
    ----------
    telemetry
        The poses, in time order.
    max_gap_s
        Largest gap inside one pass, seconds; ``telemetry.max_gap_s`` by default.
    """
    gap = telemetry.max_gap_s if max_gap_s is None else max_gap_s
    if not gap > 0.0:
        raise ValueError(f"max_gap_s must be positive, got {gap}")
    groups: list[list[CameraPose]] = [[telemetry.poses[0]]]
    for pose in telemetry.poses[1:]:
        if pose.time_s - groups[-1][-1].time_s > gap:
            groups.append([])
        groups[-1].append(pose)
    return [FlightPass(i, tuple(poses)) for i, poses in enumerate(groups)]


def pass_of(passes: Sequence[FlightPass], time_s: float) -> int:
    """Index of the pass whose ``[start_s, end_s]`` contains ``time_s``.

    Raises
    ------
    ValueError
        If no pass contains it (the time is in a gap or outside the telemetry).
    """
    starts = [p.start_s for p in passes]
    i = bisect.bisect_right(starts, time_s) - 1
    if i < 0 or time_s > passes[i].end_s:
        raise ValueError(f"time {time_s:.3f} is in no pass of the telemetry")
    return passes[i].index


@dataclass(frozen=True, slots=True)
class LocatedDetection:
    """One detector box, geolocated.

    Attributes
    ----------
    index
        Position of the detection in its source file (``detections[index]``).
    time_s
        Frame time, UTC epoch seconds.
    frame
        Frame number, when known.
    target
        What the label means.
    score
        Detector score in [0, 1].
    lon, lat
        Ground position, degrees.
    cov_ee, cov_en, cov_nn
        Position covariance, m² (east, north).
    """

    index: int
    time_s: float
    frame: int | None
    target: ClassTarget
    score: float
    lon: float
    lat: float
    cov_ee: float
    cov_en: float
    cov_nn: float

    @property
    def frame_key(self) -> int | float:
        """What identifies the frame: its number, else its time (to the millisecond)."""
        return self.frame if self.frame is not None else round(self.time_s, 3)


@dataclass(frozen=True, slots=True)
class Sighting:
    """One object (or group of objects) seen in one pass.

    Attributes
    ----------
    pass_index
        The pass it was seen in.
    target
        The voted target (kind and weapon class).
    members
        The detections, by time then index.
    lon, lat
        Fused position, degrees.
    cov_ee, cov_en, cov_nn
        Fused covariance, m² (east, north).
    class_scores
        Share of the summed score per weapon class (equipment only, else empty).
    """

    pass_index: int
    target: ClassTarget
    members: tuple[LocatedDetection, ...]
    lon: float
    lat: float
    cov_ee: float
    cov_en: float
    cov_nn: float
    class_scores: dict[str, float]

    @property
    def time_s(self) -> float:
        """First frame time, UTC epoch seconds."""
        return self.members[0].time_s

    @property
    def last_time_s(self) -> float:
        """Last frame time, UTC epoch seconds."""
        return max(m.time_s for m in self.members)

    @property
    def count(self) -> int:
        """Largest number of the sighting's boxes in one frame."""
        per_frame: dict[int | float, int] = {}
        for member in self.members:
            per_frame[member.frame_key] = per_frame.get(member.frame_key, 0) + 1
        return max(per_frame.values())

    @property
    def n_frames(self) -> int:
        """Number of distinct frames the sighting was seen in."""
        return len({m.frame_key for m in self.members})

    def attributes(self, max_frames: int = MAX_LISTED_FRAMES) -> dict[str, Any]:
        """Observation attributes: class, count, confidence, frames (see the module doc).

        ``frames`` lists up to ``max_frames`` distinct frame numbers (detections
        given by time only have none); ``detections`` lists up to ``max_frames``
        indices into the source file's ``detections`` array, so a reviewer can
        find every box; ``duration_s`` is the time from first to last frame.
        """
        frames = sorted({m.frame for m in self.members if m.frame is not None})
        attributes: dict[str, Any] = {
            "count": self.count,
            "confidence": round(max(m.score for m in self.members), 6),
            "n_frames": self.n_frames,
            "frames": frames[:max_frames],
            "detections": sorted(m.index for m in self.members)[:max_frames],
            "duration_s": round(self.last_time_s - self.time_s, 3),
        }
        if self.target.weapon_class is not None:
            attributes["weapon_class"] = self.target.weapon_class
            attributes["weapon_class_scores"] = dict(self.class_scores)
        return attributes


def deduplicate(
    detections: Sequence[LocatedDetection],
    passes: Sequence[FlightPass],
    *,
    gate_chi2: float = DEFAULT_GATE_CHI2,
    error_correlation: float = 1.0,
) -> list[Sighting]:
    """Merge each pass's detections of one object into one :class:`Sighting`.

    Parameters
    ----------
    detections
        Geolocated detections, any order.
    passes
        The telemetry's passes (:func:`split_passes`); every detection time must
        fall in one.
    gate_chi2
        Squared Mahalanobis distance below which two detections are linked.
    error_correlation
        Correlation ``rho`` in [0, 1] of the position errors of frames of one pass.

    Returns
    -------
    list of Sighting
        Ordered by pass, first time, then first detection index.

    Raises
    ------
    ValueError
        If a detection is in no pass, or a parameter is out of range.
    """
    if not gate_chi2 > 0.0:
        raise ValueError(f"gate_chi2 must be positive, got {gate_chi2}")
    if not 0.0 <= error_correlation <= 1.0:
        raise ValueError(f"error_correlation must be in [0, 1], got {error_correlation}")
    groups: dict[tuple[int, str], list[LocatedDetection]] = {}
    for detection in sorted(detections, key=lambda d: (d.time_s, d.index)):
        key = (pass_of(passes, detection.time_s), detection.target.family)
        groups.setdefault(key, []).append(detection)
    sightings: list[Sighting] = []
    for (pass_index, _), members in sorted(groups.items()):
        for component in _components(members, gate_chi2):
            sightings.append(_fuse(pass_index, component, error_correlation))
    sightings.sort(key=lambda s: (s.pass_index, s.time_s, s.members[0].index))
    return sightings


def _components(members: list[LocatedDetection], gate_chi2: float) -> list[list[LocatedDetection]]:
    """Connected groups of ``members`` under the gate, each in input order."""
    n = len(members)
    frame = LocalFrame.around([m.lon for m in members], [m.lat for m in members])
    x, y = frame.to_local([m.lon for m in members], [m.lat for m in members])
    cov = np.array([[m.cov_ee, m.cov_en, m.cov_nn] for m in members], dtype=float)
    rows: list[npt.NDArray[np.intp]] = []
    cols: list[npt.NDArray[np.intp]] = []
    for start in range(0, n, _ROWS):
        stop = min(n, start + _ROWS)
        dx = x[start:stop, None] - x[None, :]
        dy = y[start:stop, None] - y[None, :]
        a = cov[start:stop, None, 0] + cov[None, :, 0]
        b = cov[start:stop, None, 1] + cov[None, :, 1]
        c = cov[start:stop, None, 2] + cov[None, :, 2]
        det = np.maximum(a * c - b * b, 1e-12)
        d2 = (c * dx * dx - 2.0 * b * dx * dy + a * dy * dy) / det
        i, j = np.nonzero(d2 <= gate_chi2)
        rows.append(i + start)
        cols.append(j)
    i_all = np.concatenate(rows)
    j_all = np.concatenate(cols)
    graph = coo_matrix((np.ones(i_all.size), (i_all, j_all)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    found: dict[int, list[LocatedDetection]] = {}
    for member, label in zip(members, labels, strict=True):
        found.setdefault(int(label), []).append(member)
    return sorted(found.values(), key=lambda g: (g[0].time_s, g[0].index))


def _fuse(pass_index: int, members: list[LocatedDetection], rho: float) -> Sighting:
    """Information-weighted position and class vote of one group."""
    frame = LocalFrame.around([m.lon for m in members], [m.lat for m in members])
    x, y = frame.to_local([m.lon for m in members], [m.lat for m in members])
    info = np.zeros((2, 2))
    weighted = np.zeros(2)
    for xi, yi, m in zip(x, y, members, strict=True):
        inv = np.linalg.inv(np.array([[m.cov_ee, m.cov_en], [m.cov_en, m.cov_nn]]))
        info += inv
        weighted += inv @ np.array([xi, yi])
    fused = np.linalg.inv(info)
    mean = fused @ weighted
    fused = fused * (1.0 + (len(members) - 1) * rho)
    sighting_votes: dict[ClassTarget, float] = {}
    for m in members:
        sighting_votes[m.target] = sighting_votes.get(m.target, 0.0) + max(m.score, 1e-9)
    target = min(sighting_votes, key=lambda t: (-sighting_votes[t], t.kind, t.weapon_class or ""))
    per_frame: dict[int | float, int] = {}
    for m in members:
        per_frame[m.frame_key] = per_frame.get(m.frame_key, 0) + 1
    if max(per_frame.values()) > 1:
        points = np.column_stack([x, y]) - mean
        fused = fused + points.T @ points / len(members)
    lon, lat = frame.point_to_geo(float(mean[0]), float(mean[1]))
    cov_ee, cov_nn = round(float(fused[0, 0]), 3), round(float(fused[1, 1]), 3)
    limit = math.sqrt(cov_ee * cov_nn)
    cov_en = min(max(round(float(fused[0, 1]), 3), -limit), limit) + 0.0  # no -0.0
    total = sum(sighting_votes.values())
    scores = {
        t.weapon_class: round(v / total, 6)
        for t, v in sorted(sighting_votes.items(), key=lambda kv: kv[0].weapon_class or "")
        if t.weapon_class is not None
    }
    return Sighting(
        pass_index=pass_index,
        target=target,
        members=tuple(members),
        lon=round(lon, 7),
        lat=round(lat, 7),
        cov_ee=cov_ee,
        cov_en=cov_en,
        cov_nn=cov_nn,
        class_scores=scores,
    )
