"""Roles of located explosive events and the side of the contact line they lie on.

Two questions, kept apart on purpose:

* **Role** — was an event a *launch* (the gun or launcher firing), an *impact*
  (the round arriving) or neither? The acoustic classifier's per-kind scores
  (``event.attributes["kind_scores"]``) give a first answer; being paired with a
  partner in a physically consistent launch -> impact trajectory
  (:mod:`truceline.ground.trajectory`) is further evidence.
* **Side** — on which party's side of the contact line does the point lie,
  given its 2-D Gaussian location uncertainty? Only a *launch* point attributes
  fire to a party (:class:`OriginSide`); an impact only says where a round
  landed, never who fired it.

Side probabilities are Monte Carlo estimates: the location's Gaussian (east,
north covariance in m²) is sampled in the agreement's metric frame with a
Generator seeded from the configured seed and the event's content id, so the
result is reproducible and independent of the order events are given in. The
frame's axes differ from local east/north by the meridian convergence (under
about 2° within 150 km of the frame centre at mid-latitudes), which is
negligible against any acoustic location ellipse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from truceline.agreement.adjudicate import agreement_in_force
from truceline.agreement.model import Agreement
from truceline.model.event import Event

if TYPE_CHECKING:
    from truceline.ground.fired_from import FiredFrom

__all__ = [
    "IMPACT_KINDS",
    "LAUNCH_KINDS",
    "ROLES",
    "UNDETERMINED",
    "OriginSide",
    "RoleAssignment",
    "SideSampling",
    "acoustic_role_scores",
    "assign_role",
    "check_located",
    "combine_role_evidence",
    "contact_line_version",
    "decide_side",
    "is_launch_candidate",
    "landed_side",
    "origin_side",
    "side_probabilities",
]

#: Role labels, in the order of :attr:`RoleAssignment.probabilities`.
ROLES: Final = ("launch", "impact", "unknown")

#: Event kinds that may be a launch (an ``explosion``/``impact`` only when its
#: kind scores favour ``launch``).
LAUNCH_KINDS: Final = frozenset({"launch", "explosion", "impact"})

#: Event kinds that may be an impact.
IMPACT_KINDS: Final = frozenset({"impact", "explosion"})

#: Side label when no party's probability reaches the threshold.
UNDETERMINED: Final = "undetermined"


def contact_line_version(t: datetime, agreements: Sequence[Agreement]) -> Agreement | None:
    """The agreement version whose contact line decides sides at time ``t`` (UTC).

    The version in force at ``t`` (as adjudication picks it:
    :func:`truceline.agreement.agreement_in_force`), so a launch is placed
    against the line agreed when it fired, not against a later redrawing. If
    versions of several agreements are in force, the one that came into force
    last decides (then the higher version, then the version id). ``None`` when
    no version is in force at ``t``: there was no agreed line to be on a side of.
    """
    in_force = agreement_in_force(t, agreements)
    if not in_force:
        return None
    return max(in_force, key=lambda a: (a.effective_from, a.version, a.version_id))


def _seed_words(seed: int, event_id: str) -> list[int]:
    """Seed material for one event: the run seed and 64 bits of its content id."""
    return [seed, int(event_id[:16], 16)]


def side_probabilities(
    event: Event,
    agreement: Agreement,
    *,
    event_id: str,
    n_samples: int,
    seed: int,
) -> dict[str, float]:
    """Probability that the event's true position lies on each party's side.

    Parameters
    ----------
    event
        The located event (position in degrees, covariance in m², east/north).
    agreement
        Agreement whose contact line splits the parties.
    event_id
        The event's content id (hex), used to seed its sampler.
    n_samples
        Number of Monte Carlo samples of the position.
    seed
        Run seed, combined with the event id.

    Returns
    -------
    dict
        Party id -> probability, for every party in agreement order. Samples
        falling exactly on the line (within 1 mm) count for no party, so the
        values may sum to slightly less than one.
    """
    cov = np.array([[event.cov_ee, event.cov_en], [event.cov_en, event.cov_nn]], dtype=float)
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    rng = np.random.default_rng(_seed_words(seed, event_id))
    draws = rng.standard_normal((n_samples, 2)) @ root.T
    x0, y0 = agreement.frame.point_to_local(event.lon, event.lat)
    lons, lats = agreement.frame.to_geo(x0 + draws[:, 0], y0 + draws[:, 1])
    sides = agreement.side_of_many(lons, lats)
    return {
        party: float(np.count_nonzero(sides == party)) / n_samples for party in agreement.parties
    }


def decide_side(probabilities: Mapping[str, float], threshold: float) -> str:
    """The party whose probability reaches ``threshold``, else :data:`UNDETERMINED`."""
    best = max(sorted(probabilities), key=lambda party: probabilities[party], default=None)
    if best is None or probabilities[best] < threshold:
        return UNDETERMINED
    return best


@dataclass(frozen=True, slots=True)
class SideSampling:
    """How side probabilities are estimated and decided.

    Attributes
    ----------
    threshold
        Probability a party needs for a side to be decided, in (0.5, 1].
    n_samples
        Monte Carlo samples of the 2-D Gaussian position (standard error of a
        probability at most ``0.5 / sqrt(n_samples)``).
    seed
        Run seed, combined with each event's content id.
    """

    threshold: float = 0.9
    n_samples: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.5 < self.threshold <= 1.0:
            raise ValueError(f"side threshold must be in (0.5, 1], got {self.threshold}")
        if self.n_samples < 1:
            raise ValueError(f"n_samples must be positive, got {self.n_samples}")


@dataclass(frozen=True, slots=True)
class OriginSide:
    """Which party's side of the contact line a launch point lies on.

    Attributes
    ----------
    event_id
        Content id of the launch event.
    side
        The party whose probability reaches :attr:`threshold`, else ``"undetermined"``.
    probabilities
        ``(party, probability)`` for every party, in agreement order.
    threshold
        Probability a party needs for the side to be decided.
    n_samples
        Monte Carlo samples behind the probabilities (standard error at most
        ``0.5 / sqrt(n_samples)``).
    agreement_version
        Version id of the agreement whose contact line was used.
    """

    event_id: str
    side: str
    probabilities: tuple[tuple[str, float], ...]
    threshold: float
    n_samples: int
    agreement_version: str

    def probability(self, party: str) -> float:
        """Probability that the launch point lies on ``party``'s side."""
        for name, value in self.probabilities:
            if name == party:
                return value
        raise KeyError(f"unknown party {party!r}; parties are {[p for p, _ in self.probabilities]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "event_id": self.event_id,
            "side": self.side,
            "probabilities": dict(self.probabilities),
            "threshold": self.threshold,
            "n_samples": self.n_samples,
            "agreement_version": self.agreement_version,
        }


def origin_side(
    event: Event,
    agreement: Agreement,
    sampling: SideSampling | None = None,
    *,
    event_id: str | None = None,
) -> OriginSide:
    """Origin side of a launch event, from its location ellipse against the contact line.

    Parameters
    ----------
    event
        The launch event.
    agreement
        The agreement in force.
    sampling
        Threshold, sample count and seed (defaults to :class:`SideSampling`).
    event_id
        The event's content id if already known (saves rehashing).
    """
    sampling = sampling or SideSampling()
    eid = event.id if event_id is None else event_id
    probs = side_probabilities(
        event, agreement, event_id=eid, n_samples=sampling.n_samples, seed=sampling.seed
    )
    return OriginSide(
        event_id=eid,
        side=decide_side(probs, sampling.threshold),
        probabilities=tuple((party, probs[party]) for party in agreement.parties),
        threshold=sampling.threshold,
        n_samples=sampling.n_samples,
        agreement_version=agreement.version_id,
    )


def landed_side(
    event: Event,
    agreement: Agreement,
    sampling: SideSampling | None = None,
    *,
    event_id: str | None = None,
) -> str:
    """Party whose side an impact landed on, or ``"undetermined"``: never who fired.

    Parameters are those of :func:`origin_side`.
    """
    sampling = sampling or SideSampling()
    eid = event.id if event_id is None else event_id
    probs = side_probabilities(
        event, agreement, event_id=eid, n_samples=sampling.n_samples, seed=sampling.seed
    )
    return decide_side(probs, sampling.threshold)


def check_located(event: Event) -> None:
    """Reject an event whose numbers would silently give a wrong role or side.

    Raises
    ------
    ValueError
        On a non-finite position, covariance or time sigma, a covariance that
        is not positive semi-definite, a negative time sigma or a naive time.
    """
    label = f"{event.kind} event at {event.time.isoformat()} ({', '.join(event.members[:1])})"
    numbers = {
        "lon": event.lon,
        "lat": event.lat,
        "cov_ee": event.cov_ee,
        "cov_en": event.cov_en,
        "cov_nn": event.cov_nn,
        "time_sigma_s": event.time_sigma_s,
    }
    for name, value in numbers.items():
        if not math.isfinite(value):
            raise ValueError(f"{label}: {name} is not finite ({value!r})")
    ee, en, nn = event.cov_ee, event.cov_en, event.cov_nn
    if ee < 0 or nn < 0 or en * en > ee * nn * (1 + 1e-9):
        raise ValueError(f"{label}: covariance (m²) is not positive semi-definite")
    if event.time_sigma_s < 0:
        raise ValueError(f"{label}: time_sigma_s is negative")
    for name in ("time", "time_start", "time_end"):
        if getattr(event, name).tzinfo is None:
            raise ValueError(f"{label}: {name} is a naive datetime (must be UTC-aware)")


# -- roles -------------------------------------------------------------------------------------


def acoustic_role_scores(event: Event, doubt: float) -> tuple[float, float, float]:
    """``(launch, impact, unknown)`` scores from the event's acoustic classification.

    ``kind_scores`` (kind -> share of the classifier votes) are read when present,
    otherwise the event's ``kind`` counts fully. ``impact`` and ``explosion``
    both count for the impact role; any other kind (``gunfire``, ``other``) for
    unknown. The result is mixed with a uniform ``doubt`` share, because a
    classifier's vote is never certain.
    """
    raw = event.attributes.get("kind_scores")
    scores: dict[str, float] = {}
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and math.isfinite(value) and value > 0:
                scores[str(key)] = float(value)
    if not scores:
        scores = {event.kind: 1.0}
    launch = scores.get("launch", 0.0)
    impact = scores.get("impact", 0.0) + scores.get("explosion", 0.0)
    other = sum(v for k, v in scores.items() if k not in {"launch", "impact", "explosion"})
    total = launch + impact + other
    share = doubt / 3.0
    return (
        (1.0 - doubt) * launch / total + share,
        (1.0 - doubt) * impact / total + share,
        (1.0 - doubt) * other / total + share,
    )


def is_launch_candidate(event: Event) -> bool:
    """A ``launch`` event, or an explosion/impact whose kind scores favour launch."""
    if event.kind == "launch":
        return True
    if event.kind not in IMPACT_KINDS:
        return False
    launch, impact, _ = acoustic_role_scores(event, 0.0)
    return launch > impact


def combine_role_evidence(
    acoustic: tuple[float, float, float], paired_as: str | None, pairing_odds: float
) -> tuple[float, float, float]:
    """Posterior ``(launch, impact, unknown)`` after the pairing evidence.

    Parameters
    ----------
    acoustic
        Scores from :func:`acoustic_role_scores` (the prior).
    paired_as
        ``"launch"`` or ``"impact"`` if the event is one end of a trajectory,
        ``None`` if unpaired (no change: a round may land, or come from, outside
        the network's hearing).
    pairing_odds
        Likelihood ratio a consistent pairing gives its role over the others.
    """
    weights = list(acoustic)
    if paired_as is not None:
        weights[ROLES.index(paired_as)] *= pairing_odds
    total = sum(weights)
    return (weights[0] / total, weights[1] / total, weights[2] / total)


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """The role of one located explosive event.

    Attributes
    ----------
    event_id
        Content id of the event.
    kind
        The event's fused kind.
    role
        Most probable of ``launch``, ``impact`` and ``unknown``.
    probabilities
        ``(role, probability)`` for the three roles, summing to one.
    paired_with
        Ids of the other ends of its trajectories, sorted (empty if unpaired;
        several only for a launch when ``max_impacts_per_launch > 1``).
    origin
        Origin side, for events whose role is ``launch`` and only when an
        agreement was given; ``None`` otherwise.
    landed_on
        For events whose role is ``impact``: the party whose side the impact
        point lies on (or ``"undetermined"``). This says where a round landed,
        never who fired it. ``None`` for other roles or without an agreement.
    fired_from
        For events whose role is ``impact``: the side probabilities of the
        launch its round came from, over every launch its trajectory fits
        (:mod:`truceline.ground.fired_from`). ``None`` for other roles or
        without an agreement in force at its time.
    """

    event_id: str
    kind: str
    role: str
    probabilities: tuple[tuple[str, float], ...]
    paired_with: tuple[str, ...]
    origin: OriginSide | None
    landed_on: str | None
    fired_from: FiredFrom | None = None

    def probability(self, role: str) -> float:
        """Probability of ``role`` (one of :data:`ROLES`)."""
        for name, value in self.probabilities:
            if name == role:
                return value
        raise KeyError(f"unknown role {role!r}; roles are {ROLES}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "role": self.role,
            "probabilities": dict(self.probabilities),
            "paired_with": list(self.paired_with),
            "origin": None if self.origin is None else self.origin.to_dict(),
            "landed_on": self.landed_on,
            "fired_from": None if self.fired_from is None else self.fired_from.to_dict(),
        }


def assign_role(
    event: Event,
    event_id: str,
    pairing: tuple[str, tuple[str, ...]],
    agreement: Agreement | None,
    *,
    kind_doubt: float,
    pairing_odds: float,
    sampling: SideSampling,
) -> RoleAssignment:
    """Role of one event from its acoustic scores and its pairing, with its side.

    Parameters
    ----------
    event, event_id
        The event and its content id.
    pairing
        ``(candidate role, partner ids)``: the role the event was offered in
        the pairing (``launch`` or ``impact``) and the ids of the events it was
        paired with (empty if unpaired).
    agreement
        Agreement for sides, or ``None`` for no sides.
    kind_doubt, pairing_odds
        See :func:`acoustic_role_scores` and :func:`combine_role_evidence`.
    sampling
        See :class:`SideSampling`.
    """
    prior = acoustic_role_scores(event, kind_doubt)
    candidate, partners = pairing
    posterior = combine_role_evidence(prior, candidate if partners else None, pairing_odds)
    role = ROLES[max(range(3), key=lambda k: (posterior[k], -k))]
    origin = None
    landed_on = None
    if agreement is not None:
        if role == "launch":
            origin = origin_side(event, agreement, sampling, event_id=event_id)
        elif role == "impact":
            landed_on = landed_side(event, agreement, sampling, event_id=event_id)
    return RoleAssignment(
        event_id=event_id,
        kind=event.kind,
        role=role,
        probabilities=tuple((name, round(p, 6)) for name, p in zip(ROLES, posterior, strict=True)),
        paired_with=tuple(sorted(partners)),
        origin=origin,
        landed_on=landed_on,
    )
