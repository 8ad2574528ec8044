"""Launch -> impact trajectories: pair located events by flight physics, globally.

A launch and an impact belong to one trajectory when the distance between them
(range) and the delay between them (time of flight) are consistent with some
weapon family of :data:`WEAPON_FAMILIES`. Each family allows a range interval
and a time-of-flight window ``[range / v_max, min(range / v_min, t_max)]``
from its mean horizontal speed; the pair's likelihood is the prior-weighted sum
over families of a uniform density over range times a uniform density over the
time-of-flight window, each blurred by the Gaussian uncertainty of the two
positions (projected on the line of fire) and of the two times, averaged over
the offset of two episodes of rounds. The weapon families and these
likelihoods live in :mod:`truceline.ground.flight`.

All launches and impacts are paired at once by an optimal assignment
(:func:`scipy.optimize.linear_sum_assignment`) in which every event may also
take a "no partner" option, so a crossing-fire geometry that fools a greedy
nearest-first pairing is resolved. A pair is kept only if its log-likelihood
ratio against :attr:`TrajectoryConfig.chance_density_per_m_s` (an unrelated
pair's density per metre of range and second of delay) is positive and it
passes the :attr:`~TrajectoryConfig.gate_sigma` gate.

Roles and sides come from :mod:`truceline.ground.attribution`: an event's role
combines its acoustic kind scores with being paired; a launch (paired or not)
gets an origin side from its location ellipse; an impact only "landed on" a side,
and who fired at it is the posterior over every launch that passes its gate
(:mod:`truceline.ground.fired_from`), not the side of the one the assignment picked,
each launch weighed by its flight physics and by the direction of fire (a round is
fired across the contact line, so a launch on the side the impact landed on is an
unlikely origin).
Sides are taken against the agreement version in force at each event's time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from truceline.agreement.model import Agreement
from truceline.ground.attribution import (
    IMPACT_KINDS,
    LAUNCH_KINDS,
    OriginSide,
    RoleAssignment,
    SideSampling,
    assign_role,
    check_located,
    contact_line_version,
    is_launch_candidate,
    landed_side,
    origin_side,
    side_probabilities,
)
from truceline.ground.fired_from import direction_log_ratio, fired_from
from truceline.ground.flight import (
    WEAPON_FAMILIES,
    WeaponFamily,
    _along,
    _family_likelihoods,
    _posterior,
    plausible_families,
)
from truceline.model.event import Event
from truceline.model.geo import WGS84_GEOD

__all__ = [
    "WEAPON_FAMILIES",
    "SideReference",
    "Trajectory",
    "TrajectoryConfig",
    "TrajectoryResult",
    "WeaponFamily",
    "pair_trajectories",
    "plausible_families",
]

FloatArray = npt.NDArray[np.float64]

#: What decides sides: one agreement version for every event, every known version
#: (each event is placed against the version in force at its time), or ``None``.
SideReference = Agreement | Sequence[Agreement] | None

#: Cost of a forbidden assignment (finite so the solver always has a solution).
_FORBIDDEN: Final = 1e9


@dataclass(frozen=True, slots=True)
class TrajectoryConfig:
    """Parameters of :func:`pair_trajectories`.

    Attributes
    ----------
    families
        Weapon flight envelopes.
    gate_sigma
        A pair must fit some family's range and time window within this many
        standard deviations.
    chance_density_per_m_s
        Density (per metre of range, per second of delay) of an unrelated
        launch/impact pair; a pair is kept only if more likely than that.
    max_impacts_per_launch
        Impacts one launch event may pair with (more than one when fusion merged
        a battery's rounds at several aim points into one launch event).
    reuse_cost
        Log-likelihood penalty for each further impact of the same launch.
    pairing_odds
        Likelihood ratio a consistent pairing gives its role over the others.
    kind_doubt
        Uniform share mixed into the acoustic kind scores, in [0, 1).
    side_threshold
        Probability a party needs for a side to be decided, in (0.5, 1].
    side_samples
        Monte Carlo samples per side estimate.
    seed
        Seed of the side samplers (combined with each event's content id).
    clutter_range_m, clutter_window_s
        Neighbourhood (metres of range, seconds of time of flight) in which the
        density of launches unrelated to an impact is estimated, for the
        posterior over who fired at it (:func:`_clutter_log_ratio`).
    own_side_share
        Probability, in (0, 1), that a round lands on its firing party's own
        side of the contact line (short rounds, gross errors): weighs each
        candidate launch by the direction of fire
        (:func:`~truceline.ground.fired_from.direction_log_ratio`). A prior
        about how fire is aimed, not fitted to any scenario.
    """

    families: tuple[WeaponFamily, ...] = WEAPON_FAMILIES
    gate_sigma: float = 3.0
    chance_density_per_m_s: float = 1e-9
    max_impacts_per_launch: int = 1
    reuse_cost: float = 2.0
    pairing_odds: float = 9.0
    kind_doubt: float = 0.1
    side_threshold: float = 0.9
    side_samples: int = 2000
    seed: int = 0
    clutter_range_m: float = 30_000.0
    clutter_window_s: float = 300.0
    own_side_share: float = 0.01

    def __post_init__(self) -> None:
        if not self.families:
            raise ValueError("at least one weapon family is needed")
        if self.gate_sigma <= 0.0 or self.chance_density_per_m_s <= 0.0:
            raise ValueError("gate_sigma and chance_density_per_m_s must be positive")
        if self.max_impacts_per_launch < 1 or self.reuse_cost < 0.0:
            raise ValueError("max_impacts_per_launch must be >= 1 and reuse_cost >= 0")
        if self.pairing_odds < 1.0 or not 0.0 <= self.kind_doubt < 1.0:
            raise ValueError("pairing_odds must be >= 1 and kind_doubt in [0, 1)")
        if self.clutter_range_m <= 0.0 or self.clutter_window_s <= 0.0:
            raise ValueError("clutter_range_m and clutter_window_s must be positive")
        if not 0.0 < self.own_side_share < 1.0:
            raise ValueError("own_side_share must be in (0, 1)")
        if not 0.5 < self.side_threshold <= 1.0 or self.side_samples < 1:
            raise ValueError("side_threshold must be in (0.5, 1] and side_samples >= 1")

    @property
    def side_sampling(self) -> SideSampling:
        """Threshold, samples and seed of the side estimates."""
        return SideSampling(self.side_threshold, self.side_samples, self.seed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (to record a run's configuration)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A launch paired with its impact.

    Attributes
    ----------
    launch_event, impact_event
        Content ids of the two events.
    range_m, range_sigma_m
        Geodesic launch -> impact distance and its standard deviation, metres.
    azimuth_deg
        Direction of fire at the launch point, degrees clockwise from north.
    time_of_flight_s, time_of_flight_sigma_s
        Impact time minus launch time and its standard deviation, seconds.
    weapon_families
        ``(family, probability)`` of the families that fit, most probable first.
    log_likelihood_ratio
        Natural log of the pair's likelihood over the chance density.
    origin
        Origin side of the launch point, against the contact line in force at
        the launch time (``None`` without an agreement in force then).
    impact_side
        Party whose side the impact point lies on, or ``"undetermined"``
        (``None`` without an agreement).
    """

    launch_event: str
    impact_event: str
    range_m: float
    range_sigma_m: float
    azimuth_deg: float
    time_of_flight_s: float
    time_of_flight_sigma_s: float
    weapon_families: tuple[tuple[str, float], ...]
    log_likelihood_ratio: float
    origin: OriginSide | None
    impact_side: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "launch_event": self.launch_event,
            "impact_event": self.impact_event,
            "range_m": self.range_m,
            "range_sigma_m": self.range_sigma_m,
            "azimuth_deg": self.azimuth_deg,
            "time_of_flight_s": self.time_of_flight_s,
            "time_of_flight_sigma_s": self.time_of_flight_sigma_s,
            "weapon_families": [[name, p] for name, p in self.weapon_families],
            "log_likelihood_ratio": self.log_likelihood_ratio,
            "origin": None if self.origin is None else self.origin.to_dict(),
            "impact_side": self.impact_side,
        }


@dataclass(frozen=True, slots=True)
class TrajectoryResult:
    """Trajectories and the role of every launch/impact/explosion event.

    Attributes
    ----------
    trajectories
        Sorted by launch time, then launch and impact id.
    roles
        One per explosive event considered, sorted by event time then id.
    config
        The configuration used.
    """

    trajectories: tuple[Trajectory, ...]
    roles: tuple[RoleAssignment, ...]
    config: TrajectoryConfig = field(default_factory=TrajectoryConfig)

    def role_of(self, event_id: str) -> RoleAssignment:
        """The role assignment of one event (``KeyError`` if it was not considered)."""
        for role in self.roles:
            if role.event_id == event_id:
                return role
        raise KeyError(f"no role for event {event_id!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "trajectories": [t.to_dict() for t in self.trajectories],
            "roles": [r.to_dict() for r in self.roles],
            "config": self.config.to_dict(),
        }


# -- pair likelihoods ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Pairwise quantities, arrays of shape ``(n_launch, n_impact)``."""

    range_m: FloatArray
    range_sigma_m: FloatArray
    azimuth_deg: FloatArray
    tof_s: FloatArray
    tof_lo_s: FloatArray
    tof_sigma_s: FloatArray
    family_likelihood: FloatArray  # (n_family, n_launch, n_impact), per m per s
    gated: npt.NDArray[np.bool_]


def _pairs(launches: Sequence[Event], impacts: Sequence[Event], config: TrajectoryConfig) -> _Pairs:
    def columns(events: Sequence[Event]) -> FloatArray:
        return np.array(
            [
                (
                    e.lon,
                    e.lat,
                    e.time_start.timestamp(),
                    e.time_sigma_s,
                    e.time_end.timestamp(),
                    e.cov_ee,
                    e.cov_en,
                    e.cov_nn,
                )
                for e in events
            ],
            dtype=float,
        )

    lc, ic = columns(launches)[:, None, :], columns(impacts)[None, :, :]
    shape = (len(launches), len(impacts))
    lon1, lat1 = (np.broadcast_to(lc[..., k], shape).ravel() for k in (0, 1))
    lon2, lat2 = (np.broadcast_to(ic[..., k], shape).ravel() for k in (0, 1))
    az12, az21, dist = WGS84_GEOD.inv(lon1, lat1, lon2, lat2)
    az12 = np.asarray(az12, dtype=float).reshape(shape) % 360.0
    az21 = np.asarray(az21, dtype=float).reshape(shape)
    r = np.asarray(dist, dtype=float).reshape(shape)
    var_r = _along(lc[..., 5:8], az12) + _along(ic[..., 5:8], az21)
    tof_hi = np.broadcast_to(ic[..., 2] - lc[..., 2], shape)  # from the first launch
    tof_lo = np.broadcast_to(ic[..., 2] - lc[..., 4], shape)  # from the last launch
    last_to_last = np.broadcast_to(ic[..., 4] - lc[..., 4], shape)
    tof = tof_hi
    var_t = np.broadcast_to(lc[..., 3] ** 2 + ic[..., 3] ** 2, shape)
    likelihoods, gated = _family_likelihoods(
        config, r, var_r, (tof_lo, tof_hi), var_t, offsets=(tof_hi, last_to_last)
    )
    return _Pairs(
        range_m=r,
        range_sigma_m=np.sqrt(var_r),
        azimuth_deg=az12,
        tof_s=np.asarray(tof, dtype=float),
        tof_lo_s=np.asarray(tof_lo, dtype=float),
        tof_sigma_s=np.sqrt(var_t),
        family_likelihood=likelihoods,
        gated=gated,
    )


def _clutter_log_ratio(pairs: _Pairs, config: TrajectoryConfig) -> FloatArray:
    """Per impact: log of the local density of unrelated launches over the chance density.

    Who fired at an impact is weighed against launches *unrelated* to it
    (:mod:`truceline.ground.fired_from`); in dense shelling they are far
    denser than the configured chance density. Of the gated launches within
    :attr:`~TrajectoryConfig.clutter_range_m` whose time of flight window
    meets ``[0, clutter_window_s]``, all but one (the impact's own launch, if
    heard) are taken as unrelated: their density per metre of range and second
    of flight is ``(n - 1) / (range × window)``, never below the configured
    chance density. Only gated pairs count, so the estimate depends on the
    impact's trajectory group alone (as the pairing does).
    """
    near = (
        pairs.gated
        & (pairs.range_m <= config.clutter_range_m)
        & (pairs.tof_s >= 0.0)
        & (pairs.tof_lo_s <= config.clutter_window_s)
    )
    unrelated = np.maximum(near.sum(axis=0) - 1, 0).astype(float)
    density = unrelated / (config.clutter_range_m * config.clutter_window_s)
    return np.asarray(
        np.log(np.maximum(density, config.chance_density_per_m_s) / config.chance_density_per_m_s),
        dtype=float,
    )


# -- pairing -------------------------------------------------------------------------------------


def _assign(
    llr: FloatArray, gated: npt.NDArray[np.bool_], config: TrajectoryConfig
) -> list[tuple[int, int]]:
    """Optimal launch/impact pairs ``(launch index, impact index)`` with "no partner" options.

    Each launch is offered ``max_impacts_per_launch`` times (the k-th copy costs
    ``k * reuse_cost`` more); leaving an event unpaired costs nothing, so a pair
    is taken only if its log-likelihood ratio is positive.
    """
    n_launch, n_impact = llr.shape
    copies = config.max_impacts_per_launch
    rows = n_launch * copies
    allowed = gated & (llr > 0.0)
    pair_cost = np.where(allowed, -llr, _FORBIDDEN)
    size = rows + n_impact
    cost = np.full((size, size), _FORBIDDEN)
    for k in range(copies):
        cost[k * n_launch : (k + 1) * n_launch, :n_impact] = pair_cost + k * config.reuse_cost
    cost[:rows, n_impact:] = np.where(np.eye(rows, dtype=bool), 0.0, _FORBIDDEN)
    cost[rows:, :n_impact] = np.where(np.eye(n_impact, dtype=bool), 0.0, _FORBIDDEN)
    cost[rows:, n_impact:] = 0.0
    row_ind, col_ind = linear_sum_assignment(cost)
    pairs = []
    for row, col in zip(row_ind.tolist(), col_ind.tolist(), strict=True):
        if row < rows and col < n_impact and cost[row, col] < _FORBIDDEN / 2:
            pairs.append((row % n_launch, col))
    return sorted(pairs)


def _side_agreement(agreement: SideReference) -> Callable[[Event], Agreement | None]:
    """The agreement whose contact line decides an event's side."""
    if agreement is None:
        return lambda event: None
    if isinstance(agreement, Agreement):
        single = agreement
        return lambda event: single
    versions = tuple(agreement)
    return lambda event: contact_line_version(event.time, versions)


def pair_trajectories(
    events: Sequence[Event],
    agreement: SideReference,
    config: TrajectoryConfig | None = None,
) -> TrajectoryResult:
    """Pair launches with impacts, give every explosive event a role and launches a side.

    Parameters
    ----------
    events
        Fused events in any order (the result does not depend on it). Only
        ``launch``, ``impact`` and ``explosion`` events are considered; a
        ``launch``, or an explosion/impact whose ``kind_scores`` favour launch,
        is a launch candidate, the other impacts and explosions impact
        candidates.
    agreement
        What decides sides: one agreement version (its contact line for every
        event), a sequence of every known version (each event against the
        version in force at its time, :func:`~truceline.ground.attribution.contact_line_version`;
        an event no version covers gets no side), or ``None`` for trajectories
        and roles without sides. Pairing never depends on it.
    config
        Parameters; defaults to :class:`TrajectoryConfig`.

    Returns
    -------
    TrajectoryResult
        Trajectories, and one role per considered event. A launch (paired or
        not) gets an origin side; an impact only the side it landed on.

    Raises
    ------
    ValueError
        If an event has non-finite numbers, a covariance that is not positive
        semi-definite or naive times, or if the same event is given twice.
    """
    config = config or TrajectoryConfig()
    keyed: dict[str, Event] = {}
    for event in events:
        if event.kind not in LAUNCH_KINDS | IMPACT_KINDS:
            continue
        check_located(event)
        eid = event.id
        if eid in keyed:
            raise ValueError(f"event {eid} is given twice")
        keyed[eid] = event
    ids = sorted(keyed)
    launch_ids = [eid for eid in ids if is_launch_candidate(keyed[eid])]
    launch_set = set(launch_ids)
    impact_ids = [eid for eid in ids if eid not in launch_set]
    partners: dict[str, list[str]] = {}
    trajectories = []
    llr = np.zeros((len(launch_ids), len(impact_ids)))
    gated = np.zeros(llr.shape, dtype=bool)
    clutter = np.zeros(len(impact_ids))
    if launch_ids and impact_ids:
        pairs = _pairs([keyed[e] for e in launch_ids], [keyed[e] for e in impact_ids], config)
        total = pairs.family_likelihood.sum(axis=0)
        llr = np.log(np.maximum(total, 1e-300) / config.chance_density_per_m_s)
        gated = pairs.gated
        clutter = _clutter_log_ratio(pairs, config)
        for li, ii in _assign(llr, pairs.gated, config):
            lid, iid = launch_ids[li], impact_ids[ii]
            partners.setdefault(lid, []).append(iid)
            partners[iid] = [lid]
            trajectories.append(
                Trajectory(
                    launch_event=lid,
                    impact_event=iid,
                    range_m=round(float(pairs.range_m[li, ii]), 1),
                    range_sigma_m=round(float(pairs.range_sigma_m[li, ii]), 1),
                    azimuth_deg=round(float(pairs.azimuth_deg[li, ii]), 3),
                    time_of_flight_s=round(float(pairs.tof_s[li, ii]), 3),
                    time_of_flight_sigma_s=round(float(pairs.tof_sigma_s[li, ii]), 3),
                    weapon_families=_posterior(config, pairs.family_likelihood[:, li, ii]),
                    log_likelihood_ratio=round(float(llr[li, ii]), 4),
                    origin=None,
                    impact_side=None,
                )
            )
    sides = config.side_sampling
    side_agreement = _side_agreement(agreement)
    roles = {
        eid: assign_role(
            keyed[eid],
            eid,
            ("launch" if eid in launch_set else "impact", tuple(partners.get(eid, ()))),
            side_agreement(keyed[eid]),
            kind_doubt=config.kind_doubt,
            pairing_odds=config.pairing_odds,
            sampling=sides,
        )
        for eid in ids
    }
    origins: dict[str, OriginSide | None] = {}

    def origin_of(lid: str) -> OriginSide | None:
        """A launch candidate's origin side, against the version in force when it fired."""
        if lid not in origins:
            fired_under = side_agreement(keyed[lid])
            origins[lid] = roles[lid].origin or (
                None
                if fired_under is None
                else origin_side(keyed[lid], fired_under, sides, event_id=lid)
            )
        return origins[lid]

    for column, iid in enumerate(impact_ids):
        judged_under = side_agreement(keyed[iid])
        if roles[iid].role != "impact" or judged_under is None:
            continue
        rows = np.flatnonzero(gated[:, column])
        candidates = [launch_ids[row] for row in rows.tolist()]
        landed_probabilities = side_probabilities(
            keyed[iid],
            judged_under,
            event_id=iid,
            n_samples=sides.n_samples,
            seed=sides.seed,
        )
        direction = np.array(
            [
                direction_log_ratio(origin_of(lid), landed_probabilities, config.own_side_share)
                for lid in candidates
            ],
            dtype=float,
        )
        roles[iid] = replace(
            roles[iid],
            fired_from=fired_from(
                llr[rows, column] - clutter[column] + direction,
                candidates,
                {lid: origin_of(lid) for lid in candidates},
                judged_under.parties,
                config.side_threshold,
            ),
        )
    final = []
    for trajectory in trajectories:
        launch, impact = roles[trajectory.launch_event], roles[trajectory.impact_event]
        origin = origin_of(launch.event_id)
        landed_under = side_agreement(keyed[impact.event_id])
        landed = impact.landed_on
        if landed is None and landed_under is not None:
            landed = landed_side(
                keyed[impact.event_id], landed_under, sides, event_id=impact.event_id
            )
        trajectory = replace(trajectory, origin=origin, impact_side=landed)
        final.append(trajectory)
    final.sort(key=lambda t: (keyed[t.launch_event].time, t.launch_event, t.impact_event))
    ordered_roles = sorted(roles.values(), key=lambda r: (keyed[r.event_id].time, r.event_id))
    return TrajectoryResult(tuple(final), tuple(ordered_roles), config)
