"""Fusion items: what the association engine works on, and their 2x2 algebra.

An :class:`Item` is one thing to be associated into an event: a point or
footprint observation, or a source located from several ground arrivals. It
carries its position in degrees (so it can move between the metric frames of
different components) with a covariance in metres (east, north), its time as
an instant with a standard deviation or as an interval, its association
*family*, the *scan* it came from (see :mod:`truceline.fusion.assign`) and its
members' say in the event's confidence.

Covariances are ``(ee, en, nn)`` tuples in m² and are handled in plain Python
floats: at 2x2, numpy's per-call overhead costs more than the arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from truceline.fusion.confidence import Contribution

__all__ = [
    "CHI2_2DOF_99",
    "Cov",
    "Item",
    "PositionMoments",
    "Scan",
    "cov_add",
    "cov_logdet",
    "gaussian_log_density",
    "isotropic",
    "mahalanobis2",
    "merge_position",
    "union_find_clusters",
    "vote",
    "winner",
]

#: A 2x2 covariance ``(ee, en, nn)``, m².
Cov = tuple[float, float, float]
#: A scan: ``(source group, start, end)`` (epoch seconds) of one look by one source.
Scan = tuple[str, float, float]

#: 99 % quantile of the chi-square distribution with 2 degrees of freedom.
CHI2_2DOF_99: Final = 9.21


@dataclass(slots=True)
class Item:
    """Something to be associated into an event.

    Attributes
    ----------
    key
        Stable node key: the observation id, or ``"src:" + first member id`` for
        a located source.
    kind
        Activity kind (voted by the members for a located source).
    family
        Association family (see :func:`truceline.fusion.assign.family_of`).
    lon, lat
        Position, degrees.
    cov
        Position covariance ``(ee, en, nn)``, m².
    t, t_sigma
        Best time (epoch seconds) and its standard deviation, seconds.
    t_lo, t_hi
        Interval bounding the time (epoch seconds); equal to ``t`` for instants.
    members
        Ids of the member observations, sorted.
    contributions
        Each member's say in the event's confidence.
    modalities
        Contributing modalities.
    scan
        The look it came from (one observation of one source group), or
        ``None`` for a source located from several stations.
    kind_votes, class_votes
        Confidence-weighted votes for the kind and the weapon class.
    kind_loglik
        Log-likelihood of a located source's labels under each true kind
        (:func:`truceline.fusion.confidence.label_log_likelihoods`, up to a
        constant); empty when its modality has no confusion rates, and for
        point observations.
    count
        Largest reported number of objects (equipment).
    half_extent_m
        Half the east and north extent of a footprint's bounding box, metres
        (zero for points).
    x, y
        Position in the metric frame of the component being fused, metres
        (set by the engine).
    """

    key: str
    kind: str
    family: str
    lon: float
    lat: float
    cov: Cov
    t: float
    t_sigma: float
    t_lo: float
    t_hi: float
    members: tuple[str, ...]
    contributions: tuple[Contribution, ...]
    modalities: frozenset[str]
    scan: Scan | None = None
    kind_votes: dict[str, float] = field(default_factory=dict)
    class_votes: dict[str, float] = field(default_factory=dict)
    kind_loglik: dict[str, float] = field(default_factory=dict)
    count: int = 1
    half_extent_m: tuple[float, float] = (0.0, 0.0)
    x: float = 0.0
    y: float = 0.0

    @property
    def is_interval(self) -> bool:
        """Whether the time is an interval (longer than a second) rather than an instant."""
        return self.t_hi - self.t_lo > 1.0

    @property
    def sigma_m(self) -> tuple[float, float]:
        """Standard deviations east and north, metres."""
        return math.sqrt(max(self.cov[0], 0.0)), math.sqrt(max(self.cov[2], 0.0))


def isotropic(sigma_m: float) -> Cov:
    """Covariance of an isotropic error with standard deviation ``sigma_m`` (metres), m²."""
    var = float(sigma_m) ** 2
    return (var, 0.0, var)


def cov_add(a: Cov, b: Cov, c: Cov = (0.0, 0.0, 0.0)) -> Cov:
    """Sum of two or three covariances, m²."""
    return (a[0] + b[0] + c[0], a[1] + b[1] + c[1], a[2] + b[2] + c[2])


def _det(cov: Cov) -> float:
    return max(cov[0] * cov[2] - cov[1] * cov[1], 1e-12)


def mahalanobis2(dx: float, dy: float, cov: Cov) -> float:
    """Squared Mahalanobis length of ``(dx, dy)`` (metres) under ``cov`` (m²)."""
    ee, en, nn = cov
    return (nn * dx * dx - 2.0 * en * dx * dy + ee * dy * dy) / _det(cov)


def cov_logdet(cov: Cov) -> float:
    """Natural log of the determinant of ``cov`` (m⁴)."""
    return math.log(_det(cov))


def gaussian_log_density(dx: float, dy: float, cov: Cov) -> float:
    """Log density (per m²) of a bivariate normal at offset ``(dx, dy)`` metres."""
    return -0.5 * mahalanobis2(dx, dy, cov) - math.log(2.0 * math.pi) - 0.5 * cov_logdet(cov)


def merge_position(items: Sequence[Item]) -> tuple[float, float, Cov]:
    """Information-weighted mean position (metres) with the members' spread added.

    When the members are repeated measurements of one point, the fused
    covariance is the inverse of the summed information. When they are distinct
    points of one episode (several rounds landing around a target), their scatter
    is part of where the event is, so the sample covariance of the members about
    the mean is added.
    """
    i_ee = i_en = i_nn = 0.0
    w_x = w_y = 0.0
    for item in items:
        ee, en, nn = item.cov
        det = _det(item.cov)
        a, b, d = nn / det, -en / det, ee / det  # inverse
        i_ee += a
        i_en += b
        i_nn += d
        w_x += a * item.x + b * item.y
        w_y += b * item.x + d * item.y
    det = max(i_ee * i_nn - i_en * i_en, 1e-30)
    f_ee, f_en, f_nn = i_nn / det, -i_en / det, i_ee / det
    mx = f_ee * w_x + f_en * w_y
    my = f_en * w_x + f_nn * w_y
    if len(items) > 1:
        n = len(items)
        s_ee = sum((item.x - mx) ** 2 for item in items) / n
        s_en = sum((item.x - mx) * (item.y - my) for item in items) / n
        s_nn = sum((item.y - my) ** 2 for item in items) / n
        f_ee, f_en, f_nn = f_ee + s_ee, f_en + s_en, f_nn + s_nn
    return mx, my, (f_ee, f_en, f_nn)


class PositionMoments:
    """Running sums giving :func:`merge_position` of a growing group in O(1) per item.

    The information-weighted mean needs the summed information and weighted
    positions; the spread about it needs the count, the sums of positions and
    of their outer products (``spread = E[p pᵀ] - m E[p]ᵀ - E[p] mᵀ + m mᵀ``).
    """

    def __init__(self) -> None:
        self.n = 0
        self.info = [0.0, 0.0, 0.0]  # ee, en, nn of the summed inverse covariances
        self.weighted = [0.0, 0.0]
        self.sums = [0.0, 0.0, 0.0, 0.0, 0.0]  # x, y, xx, xy, yy

    def add(self, item: Item) -> None:
        """Add one item (its ``x``, ``y`` and ``cov``)."""
        ee, en, nn = item.cov
        det = _det(item.cov)
        a, b, d = nn / det, -en / det, ee / det
        self.info[0] += a
        self.info[1] += b
        self.info[2] += d
        self.weighted[0] += a * item.x + b * item.y
        self.weighted[1] += b * item.x + d * item.y
        x, y = item.x, item.y
        self.sums[0] += x
        self.sums[1] += y
        self.sums[2] += x * x
        self.sums[3] += x * y
        self.sums[4] += y * y
        self.n += 1

    def merged(self) -> tuple[float, float, Cov]:
        """``(x, y, cov)`` as :func:`merge_position` gives them (to rounding)."""
        i_ee, i_en, i_nn = self.info
        det = max(i_ee * i_nn - i_en * i_en, 1e-30)
        f_ee, f_en, f_nn = i_nn / det, -i_en / det, i_ee / det
        mx = f_ee * self.weighted[0] + f_en * self.weighted[1]
        my = f_en * self.weighted[0] + f_nn * self.weighted[1]
        if self.n > 1:
            n = self.n
            sx, sy, sxx, sxy, syy = self.sums
            f_ee += max(sxx / n - 2.0 * mx * sx / n + mx * mx, 0.0)
            f_en += sxy / n - mx * sy / n - my * sx / n + mx * my
            f_nn += max(syy / n - 2.0 * my * sy / n + my * my, 0.0)
        return mx, my, (f_ee, f_en, f_nn)


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


def vote(votes: dict[str, float], key: str, weight: float) -> None:
    """Add ``weight`` to ``votes[key]``."""
    votes[key] = votes.get(key, 0.0) + weight


def winner(votes: dict[str, float]) -> str:
    """The key with the most weight (ties broken alphabetically)."""
    return min(votes, key=lambda k: (-votes[k], k))
