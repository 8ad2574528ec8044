"""Association likelihoods per modality, gating, and global assignment per scan.

Every association decision of the engine compares two hypotheses for an
observation ``o`` (an :class:`~truceline.fusion.items.Item`) and a candidate
event or track ``e``:

* **H1** — ``o`` was produced by ``e``;
* **H0** — ``o`` was produced by something else: a new event, a background
  fire, an old crater, another vehicle (clutter).

Its score is the log-likelihood ratio::

    LLR(o, e) = log f_space(o | e) + log f_time(o | e) + log c(kind_o | family_e)
                - log lambda

``f_space``
    Bivariate normal density (per m²) of the offset between ``o`` and ``e``
    under the sum of their covariances plus, against an episode, the square of
    :func:`episode_margin_m` (``association_margin_m``: a hot spot is where
    the fire is, not where the shell landed; and :data:`IMPACT_SCATTER_M`: the
    craters and fires of a salvo lie around its located rounds) — or, for a
    track of sightings, plus ``equipment_motion_sigma_m`` squared for equipment
    and 25 m for craters. A footprint (a change polygon, a camera frame) is a
    uniform density over its box, approximated by a normal of the same
    second moments, and additionally gates by *containment with margin*: the
    event must lie within the box grown by three standard deviations of the
    event and the margin.
``f_time``
    A delay model per family of the observation (:func:`delay_log_ratio`),
    expressed as a ratio against a uniform delay over its window so that it
    is 0 when time says nothing:

    * **fire effects** (``thermal_anomaly``, ``smoke``; an instant at the
      overpass): a fire lit by shelling shows up at the next overpass, so the
      delay ``d = t_o - t_e`` follows an exponential of scale
      ``thermal_delay_scale_s`` truncated at ``thermal_delay_max_s``; ``d`` may
      be negative by up to ``corroboration_lead_s`` (timing errors);
    * **ground marks seen over an interval** (a crater or an uncalled surface
      change between two SAR or optical images, e.g. 12 days): the event must
      lie inside the interval (with the lead tolerance at both ends); inside,
      time is uninformative;
    * **ground marks seen at an instant** (a drone pass): a crater persists
      until it is seen, so the event may lie up to ``crater_persistence_s``
      before the sighting;
    * **tracks of the same family** (hot spots of one fire over several
      overpasses, sightings of one parked weapon): the gap since the track's
      last sighting must be within the family's window (none for equipment,
      military presence and craters).
``c``
    Kind compatibility: how much more often an event of that family produces
    the observation than a generic event does (a crater is expected from an
    impact, rarely at a launch position, almost never from gunfire; a surface
    change that change detection could not call a crater — a field of shell
    marks in one blob — a tenth as often as a crater: where shells fell the
    detector mostly calls craters, and ploughing, building and vehicle
    tracks make uncalled changes everywhere, so a poorly located shelling
    must not collect every changed field around it).
``lambda``
    ``clutter_density_per_km2`` converted to per m²: the density of unrelated
    sources, i.e. the "new event / clutter" alternative.

A pair is **gated** out (never scored) unless its squared Mahalanobis distance
is within :data:`~truceline.fusion.items.CHI2_2DOF_99`, its delay is inside the
model's support and its kinds are compatible.

Global assignment
-----------------
Observations arrive in **scans**: one look of one source group (one satellite
overpass, one change map, one drone pass; :attr:`Item.scan`). A scan reports an
object at most once — two hot spots of one overpass are two fires, two
sightings of one drone pass are two vehicles — except that an explosive
episode of ``n`` rounds may show ``n`` craters or hot spots (``n`` counted
as the most detections one sensor made of the episode when that exceeds its
located rounds: :func:`truceline.fusion.episodes.rounds_heard`). All observations
of a scan are therefore assigned **jointly**: rows are the scan's observations,
columns are ``capacity`` copies of every candidate event or track plus one
"new event / clutter" column per row (cost 0), the cost of a pair is
``-LLR`` (pairs with ``LLR <= 0`` or out of gate are forbidden), and
:func:`scipy.optimize.linear_sum_assignment` finds the assignment of largest
total log-likelihood ratio (:func:`assign_rows`). Greedy first-come
association gives the first observation its best event even when that event
is the only one the second observation fits; the joint assignment does not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.optimize import linear_sum_assignment

from truceline.fusion.config import FusionConfig
from truceline.fusion.items import (
    CHI2_2DOF_99,
    Cov,
    Item,
    cov_add,
    gaussian_log_density,
    isotropic,
    mahalanobis2,
)

__all__ = [
    "CORROBORATING_FAMILIES",
    "CRATER",
    "EXPLOSIVE_FAMILIES",
    "FIRE_BLOB_CHI2",
    "FIRE_EFFECT",
    "GROUND_MARKS",
    "IMPACT_SCATTER_M",
    "INSTANT_FAMILIES",
    "INSTANT_WINDOW_S",
    "KIND_COMPATIBILITY",
    "SURFACE_CHANGE",
    "Target",
    "assign_rows",
    "clutter_log_density",
    "delay_log_ratio",
    "delay_support",
    "episode_attach_llr",
    "episode_margin_m",
    "family_of",
    "is_diffuse",
    "pair_llr",
    "track_window_s",
]

#: Explosive kinds and the episode family they merge within.
EXPLOSIVE_FAMILIES: Final[Mapping[str, str]] = {
    "explosion": "impact",
    "impact": "impact",
    "launch": "launch",
    "gunfire": "gunfire",
}
#: Family of observations that show a fire after the event (hot spots, smoke).
FIRE_EFFECT: Final = "fire_effect"
#: Family of crater observations.
CRATER: Final = "crater"
#: Family of ground changes an image change detector could not call craters or
#: earthworks (several craters in one blob, a field of shell marks, ploughing).
SURFACE_CHANGE: Final = "surface_change"
#: Marks left on the ground, seen after the fact (a crater, a change between images).
GROUND_MARKS: Final = frozenset({CRATER, SURFACE_CHANGE})
#: Families that may corroborate an explosive event.
CORROBORATING_FAMILIES: Final = frozenset({FIRE_EFFECT, *GROUND_MARKS})
_FAMILY_OF_KIND: Final[Mapping[str, str]] = {
    **EXPLOSIVE_FAMILIES,
    "thermal_anomaly": FIRE_EFFECT,
    "smoke": FIRE_EFFECT,
    "crater": CRATER,
}

#: ``c(kind | family)`` of the module docstring: likelihood ratio that an
#: explosive event of the family shows the corroborating observation.
KIND_COMPATIBILITY: Final[Mapping[tuple[str, str], float]] = {
    (FIRE_EFFECT, "impact"): 1.0,
    (FIRE_EFFECT, "launch"): 0.5,
    (FIRE_EFFECT, "gunfire"): 0.25,
    (CRATER, "impact"): 1.0,
    (CRATER, "launch"): 0.2,
    (CRATER, "gunfire"): 0.05,
    (SURFACE_CHANGE, "impact"): 0.1,
    (SURFACE_CHANGE, "launch"): 0.02,
    (SURFACE_CHANGE, "gunfire"): 0.005,
}

#: Squared Mahalanobis gate between hot-spot pixels of one fire in one overpass. A
#: pixel's covariance is that of a uniform over it (variance pixel²/12), so two
#: side-by-side pixels are at 6, diagonal ones at 12, and pixels two apart (one
#: missed between them, a fire front) at 24: all one fire.
FIRE_BLOB_CHI2: Final = 25.0
#: Families of instantaneous, non-explosive events (each located source is one event).
INSTANT_FAMILIES: Final = frozenset({"other", "flight"})
#: Two reports of one instantaneous event are at most this far apart in time, seconds.
INSTANT_WINDOW_S: Final = 60.0

#: Sigmas of a 99 % gate in two dimensions.
_K: Final = math.sqrt(CHI2_2DOF_99)
#: Cost of a forbidden pair (finite so the solver always has a solution).
_FORBIDDEN: Final = 1e9
#: Standard deviation of a shelling's impacts around its located rounds, metres: the
#: dispersion of a salvo at range (artillery 100–200 m, rockets 300–500 m). Rounds
#: fired seconds apart are often located as one source, so the craters and fires of
#: an episode lie around its located rounds by about this much.
IMPACT_SCATTER_M: Final = 250.0
#: Extra standard deviation of a crater track (two looks at one crater), metres.
CRATER_TRACK_SIGMA_M: Final = 25.0


def family_of(kind: str) -> str:
    """Association family of an observation kind (the kind itself for the rest)."""
    return _FAMILY_OF_KIND.get(kind, kind)


def track_window_s(family: str, config: FusionConfig) -> float | None:
    """Largest gap between two sightings of one track of ``family``, seconds (``None``: any).

    Persistent things are tracked across sightings: a fire for
    ``thermal_cluster_window_s``, a crater, a parked weapon or a position for
    ever, a change between images for a day. Instantaneous ones (an
    unclassified sound, a flight) are one event per source: only a second
    report of the same instant (within :data:`INSTANT_WINDOW_S`) joins it.
    """
    if family == FIRE_EFFECT:
        return config.thermal_cluster_window_s
    if family in (CRATER, "equipment", "military_presence"):
        return None
    if family in INSTANT_FAMILIES:
        return INSTANT_WINDOW_S
    return 86_400.0


def track_extra_cov(family: str, config: FusionConfig) -> Cov:
    """Covariance added when comparing a sighting with a track of ``family``, m²."""
    if family in ("equipment", "military_presence") or family not in (FIRE_EFFECT, CRATER):
        return isotropic(config.equipment_motion_sigma_m)
    if family == CRATER:
        return isotropic(CRATER_TRACK_SIGMA_M)
    return (0.0, 0.0, 0.0)


def episode_margin_m(config: FusionConfig, family: str) -> float:
    """Standard deviation added between an episode of ``family`` and what may
    corroborate it, metres.

    The association margin (a fire is where the fire is, not where the shell
    landed); for an impact episode also the impacts' scatter around its
    located rounds (:data:`IMPACT_SCATTER_M`), independent, added in
    quadrature. A gun fires every round from one spot: a launch or gunfire
    episode has no scatter to add.
    """
    if family == "impact":
        return math.hypot(config.association_margin_m, IMPACT_SCATTER_M)
    return config.association_margin_m


def is_diffuse(item: Item, config: FusionConfig) -> bool:
    """Whether an explosive item is too poorly placed to be chained by distance.

    Rounds are chained into episodes by a fixed distance gate
    (``episode_distance_m``), which stands for "the same place" only when the
    rounds are placed well within it. A source whose own 99 % error ellipse
    reaches beyond that gate along its major axis (a blast heard by three
    stations at a poor angle, a mixture of rounds) says little about where it
    was: a distance test would split it from the shelling it belongs to when
    its error carries it 1.5–2 km off, and chain two shellings through it
    when it falls between them. Such a source is attached to the one episode
    it most likely belongs to instead (:func:`episode_attach_llr`).
    """
    ee, en, nn = item.cov
    major = 0.5 * (ee + nn) + math.sqrt(0.25 * (ee - nn) ** 2 + en * en)
    return _K * math.sqrt(max(major, 0.0)) > config.episode_distance_m


def episode_attach_llr(
    item: Item, x: float, y: float, cov: Cov, family: str, config: FusionConfig
) -> tuple[float, float]:
    """How well a diffuse explosive ``item`` fits as a round of an episode.

    The episode of ``family`` is at ``(x, y)`` (metres, the component frame)
    with covariance ``cov`` (m², its rounds' merged position with their
    spread). H1: the item is one of its rounds, its offset normal under the
    sum of both covariances and the episode's margin
    (:func:`episode_margin_m`); H0: it is an event of its own, anywhere
    (``clutter_density_per_km2``).

    Returns
    -------
    tuple
        ``(m2, llr)``: the offset's squared Mahalanobis length (to gate at
        :data:`~truceline.fusion.items.CHI2_2DOF_99`) and the log-likelihood
        ratio of H1 against H0.
    """
    margin = episode_margin_m(config, family)
    total = cov_add(item.cov, cov, isotropic(margin))
    dx, dy = item.x - x, item.y - y
    m2 = mahalanobis2(dx, dy, total)
    return m2, gaussian_log_density(dx, dy, total) - clutter_log_density(config)


def delay_support(item: Item, config: FusionConfig) -> tuple[float, float]:
    """Event times (epoch s) a corroborating ``item`` could be explained by.

    The support of its delay model (module docstring), used both to gate pairs
    and to build the component boxes of :mod:`truceline.fusion.components`.
    """
    lead = config.corroboration_lead_s
    if item.family in GROUND_MARKS:
        if item.is_interval:
            return item.t_lo - lead, item.t_hi + lead
        return item.t_lo - config.crater_persistence_s, item.t_hi + lead
    return item.t_lo - config.thermal_delay_max_s, item.t_hi + lead


def delay_log_ratio(item: Item, t_event: float, config: FusionConfig) -> float | None:
    """``log f_time`` of a corroborating ``item`` given an event at ``t_event`` (epoch s).

    Returns ``None`` outside the model's support.
    """
    lo, hi = delay_support(item, config)
    if not lo <= t_event <= hi:
        return None
    if item.family != FIRE_EFFECT:
        return 0.0
    scale = config.thermal_delay_scale_s
    window = config.thermal_delay_max_s
    delay = max(item.t - t_event, 0.0)
    # truncated exponential density against a uniform density over the window
    norm = scale * (1.0 - math.exp(-window / scale))
    return math.log(window / norm) - delay / scale


def clutter_log_density(config: FusionConfig) -> float:
    """``log lambda``: log density of unrelated sources, per m²."""
    return math.log(config.clutter_density_per_km2 * 1e-6)


def _contains(item: Item, x: float, y: float, cov: Cov, margin_m: float) -> bool:
    """Footprint containment with margin: is ``(x, y)`` in the item's grown box?"""
    hx, hy = item.half_extent_m
    if hx <= 0.0 and hy <= 0.0:
        return True
    grow_x = 3.0 * math.sqrt(max(cov[0], 0.0)) + margin_m
    grow_y = 3.0 * math.sqrt(max(cov[2], 0.0)) + margin_m
    return abs(x - item.x) <= hx + grow_x and abs(y - item.y) <= hy + grow_y


@dataclass(slots=True)
class Target:
    """A candidate for the observations of a scan: an explosive event or a track.

    Attributes
    ----------
    family
        Family of the event (an explosive family) or of the track.
    x, y
        Position, metres in the component frame.
    cov
        Position covariance, m².
    t
        Reference time (epoch s): the first round of an episode, the last
        sighting of a track.
    capacity
        Observations one scan may give it.
    extra_cov
        Covariance added to the pair's (margin or motion), m².
    corroborated
        Whether it is an explosive event (scored with a delay model) or a track.
    """

    family: str
    x: float
    y: float
    cov: Cov
    t: float
    capacity: int
    extra_cov: Cov
    corroborated: bool


def pair_llr(item: Item, target: Target, config: FusionConfig) -> float | None:
    """``LLR(item, target)`` of the module docstring, or ``None`` if gated out."""
    if target.corroborated:
        compatibility = KIND_COMPATIBILITY.get((item.family, target.family))
        if compatibility is None:
            return None
        time_term = delay_log_ratio(item, target.t, config)
        if time_term is None:
            return None
        kind_term = math.log(compatibility)
    else:
        if item.family != target.family:
            return None
        window = track_window_s(item.family, config)
        if window is not None and item.t_lo - target.t > window:
            return None
        time_term = kind_term = 0.0
    dx, dy = item.x - target.x, item.y - target.y
    cov = cov_add(item.cov, target.cov, target.extra_cov)
    if mahalanobis2(dx, dy, cov) > CHI2_2DOF_99:
        return None
    margin = math.sqrt(max(target.extra_cov[0], 0.0))
    if not _contains(item, target.x, target.y, target.cov, margin):
        return None
    space_term = gaussian_log_density(dx, dy, cov) - clutter_log_density(config)
    return space_term + time_term + kind_term


def assign_rows(llr: Sequence[Sequence[float | None]], capacity: Sequence[int]) -> list[int | None]:
    """Jointly assign rows to columns of limited capacity, or to "new" (``None``).

    Parameters
    ----------
    llr
        ``llr[i][j]``: log-likelihood ratio of row ``i`` under column ``j``;
        ``None`` (or a value ``<= 0``) forbids the pair.
    capacity
        How many rows column ``j`` may take.

    Returns
    -------
    list
        For each row, its column or ``None`` (a new event / clutter). The
        assignment maximises the summed log-likelihood ratio of the assigned
        pairs (rows left out score 0).
    """
    n_rows = len(llr)
    n_cols = len(capacity)
    if n_rows == 0:
        return []
    allowed = [
        [j for j in range(n_cols) if (v := llr[i][j]) is not None and v > 0.0]
        for i in range(n_rows)
    ]
    if all(len(a) <= 1 for a in allowed):
        # no two rows compete unless they share a column: check, else solve exactly
        chosen = [a[0] if a else None for a in allowed]
        used: dict[int, int] = {}
        for j in chosen:
            if j is not None:
                used[j] = used.get(j, 0) + 1
        if all(count <= capacity[j] for j, count in used.items()):
            return chosen
    slots = [j for j in range(n_cols) for _ in range(min(max(capacity[j], 0), n_rows))]
    cost = np.full((n_rows, len(slots) + n_rows), _FORBIDDEN)
    for i in range(n_rows):
        for s, j in enumerate(slots):
            v = llr[i][j]
            if v is not None and v > 0.0:
                cost[i, s] = -v
        cost[i, len(slots) + i] = 0.0
    rows, cols = linear_sum_assignment(cost)
    result: list[int | None] = [None] * n_rows
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if col < len(slots) and cost[row, col] < _FORBIDDEN / 2:
            result[row] = slots[col]
    return result
