"""Fusion items: observations (or located acoustic sources) in the metric frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from truceline.fusion.confidence import Contribution

__all__ = [
    "Item",
    "bounds_cov",
    "isotropic_cov",
    "mahalanobis2",
    "merge_position",
    "union_find_clusters",
    "vote",
    "winner",
]

FloatArray = npt.NDArray[np.float64]


@dataclass
class Item:
    """Something to be fused into an event.

    Attributes
    ----------
    kind
        Activity kind.
    x, y
        Position, metres east/north in the run's frame.
    cov
        2x2 covariance, m².
    t, t_sigma
        Best time (epoch seconds) and its standard deviation, seconds.
    t_lo, t_hi
        Interval bounding the time (epoch seconds); equal to ``t`` for instants.
    members
        Observation indices.
    contributions
        Each member's say in the event's confidence (see :mod:`.confidence`).
    kind_votes
        Confidence-weighted votes for the kind.
    class_votes
        Confidence-weighted votes for the weapon class.
    modalities
        Contributing modalities.
    count
        Largest reported number of objects (equipment).
    """

    kind: str
    x: float
    y: float
    cov: FloatArray
    t: float
    t_sigma: float
    t_lo: float
    t_hi: float
    members: list[int]
    contributions: list[Contribution]
    kind_votes: dict[str, float] = field(default_factory=dict)
    class_votes: dict[str, float] = field(default_factory=dict)
    modalities: set[str] = field(default_factory=set)
    count: int = 1


def mahalanobis2(a: Item, b: Item, extra_var_m2: float = 0.0) -> float:
    """Squared Mahalanobis distance between two items' positions."""
    delta = np.array([a.x - b.x, a.y - b.y])
    cov = a.cov + b.cov + np.eye(2) * extra_var_m2
    return float(delta @ np.linalg.solve(cov, delta))


def merge_position(items: Sequence[Item]) -> tuple[float, float, FloatArray]:
    """Information-weighted mean position, with the members' spread added.

    When the members are repeated measurements of one point, the fused
    covariance is the inverse of the summed information. When they are distinct
    points of one episode (several rounds landing around a target), their scatter
    is part of where the event is, so the sample covariance of the members about
    the mean is added.
    """
    info = np.zeros((2, 2))
    weighted = np.zeros(2)
    for item in items:
        inv = np.linalg.inv(item.cov)
        info += inv
        weighted += inv @ np.array([item.x, item.y])
    fused: FloatArray = np.asarray(np.linalg.inv(info), dtype=np.float64)
    mean = fused @ weighted
    if len(items) > 1:
        points = np.array([[item.x, item.y] for item in items]) - mean
        spread = points.T @ points / len(items)
        fused = np.asarray(fused + spread, dtype=np.float64)
    return float(mean[0]), float(mean[1]), fused


def union_find_clusters(n: int, pairs: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Connected components of ``range(n)`` under ``pairs``, each sorted, ordered by first."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def isotropic_cov(sigma_m: float) -> FloatArray:
    """Covariance of an isotropic error with standard deviation ``sigma_m``, m²."""
    return np.eye(2) * float(sigma_m) ** 2


def bounds_cov(width_m: float, height_m: float) -> FloatArray:
    """Covariance of a uniform distribution over a ``width_m`` x ``height_m`` box, m²."""
    return np.diag([max(width_m, 1.0) ** 2 / 12.0, max(height_m, 1.0) ** 2 / 12.0])


def vote(votes: dict[str, float], key: str, weight: float) -> None:
    """Add ``weight`` to ``votes[key]``."""
    votes[key] = votes.get(key, 0.0) + weight


def winner(votes: dict[str, float]) -> str:
    """The key with the most weight (ties broken alphabetically)."""
    return min(votes, key=lambda k: (-votes[k], k))
