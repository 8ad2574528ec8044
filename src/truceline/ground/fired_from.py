"""Who fired at an impact: side probabilities over every launch its trajectory fits.

In dense shelling several launches, from both sides of the contact line, may
fit one impact's range and time of flight about equally well. The optimal
launch/impact assignment (:mod:`truceline.ground.trajectory`) picks one of
them, but attributing the impact to the side of that one pick would claim a
certainty the evidence does not carry. The impact's origin is therefore the
posterior over its candidate launches,

.. math::

    P(\\text{launch } j) = \\frac{\\Lambda_j}{1 + \\sum_k \\Lambda_k},
    \\qquad
    P(\\text{unseen}) = \\frac{1}{1 + \\sum_k \\Lambda_k},

where :math:`\\Lambda_j` is the likelihood ratio of the pair (launch *j*,
impact) against an unrelated pair (the pairing's chance density) over every
launch that passes the gate, and "unseen" is the hypothesis that the round
came from a launch the network did not hear or locate (its likelihood ratio is
one by definition of the chance density). The probability that a party fired
is :math:`\\sum_j P(\\text{launch } j)\\,P(\\text{launch } j \\text{ on the
party's side})`; the unseen share, and launches before any agreement version
was in force, count for no party — an impact is never attributed from where it
landed. The party is decided only if its probability reaches the threshold.

Each :math:`\\Lambda_j` is the kinematic ratio (range and time of flight,
:mod:`truceline.ground.flight`) times the **direction of fire** ratio
(:func:`direction_log_ratio`): a round is fired across the contact line, so a
launch on the side the impact landed on is an unlikely origin. Where the round
landed only ever lowers or raises the weight of a *located* launch; it never
names a party by itself, and the party's share of a launch is that launch's
own side probability, not re-estimated from the landing point.

Each candidate weighs only its own likelihood, not whether another impact
claims the same launch: a launch may feed several impacts, and ignoring the
competition can only spread the posterior (more "undetermined"), never
concentrate it wrongly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from truceline.ground.attribution import UNDETERMINED, OriginSide, decide_side

__all__ = ["FiredFrom", "direction_log_ratio", "fired_from"]


@dataclass(frozen=True, slots=True)
class FiredFrom:
    """Whose side the launch of an impact's round lies on, over its candidate launches.

    Attributes
    ----------
    side
        The party whose probability reaches :attr:`threshold`, else ``"undetermined"``.
    probabilities
        ``(party, probability)`` for every party, in agreement order; they sum
        to ``1 - unseen`` less the share of launches without a side.
    threshold
        Probability a party needs for the side to be decided.
    launches
        ``(launch event id, posterior probability)`` of the candidate launches,
        most probable first (those under 0.1 % left out).
    unseen
        Probability that the round came from a launch not among the candidates.
    agreement_versions
        Version ids of the agreements whose contact lines placed the candidate
        launches (each launch against the version in force when it fired), sorted.
    """

    side: str
    probabilities: tuple[tuple[str, float], ...]
    threshold: float
    launches: tuple[tuple[str, float], ...]
    unseen: float
    agreement_versions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "side": self.side,
            "probabilities": dict(self.probabilities),
            "threshold": self.threshold,
            "launches": [[launch, p] for launch, p in self.launches],
            "unseen": self.unseen,
            "agreement_versions": list(self.agreement_versions),
        }


def direction_log_ratio(
    origin: OriginSide | None, landed: Mapping[str, float], own_side_share: float
) -> float:
    """Log likelihood ratio of where a round landed, given it came from this launch.

    Under "the round came from this launch" it lands on the firing party's own
    side with probability ``own_side_share`` (short rounds, gross aiming errors)
    and on another party's side otherwise; under "the launch is unrelated to the
    impact" the landing side tells nothing about the launch's side (each of the
    *n* parties' sides equally likely, ``1 / n``). With both sides uncertain,

    .. math::

        \\log \\Big( n \\sum_{a, b} p_a\\, s_b\\, L(a, b) \\Big), \\qquad
        L(a, b) = q \\text{ if } a = b, \\; \\frac{1 - q}{n - 1} \\text{ otherwise},

    where :math:`p_a` is the launch's side probabilities, :math:`s_b` the
    impact's and :math:`q` = ``own_side_share`` (each normalised over the
    parties; probability on the line itself counts for none). Two parties and
    ``q = 0.01`` give about ``+0.68`` (×1.98) across the line and ``-3.9``
    (×0.02) on the same side.

    Parameters
    ----------
    origin
        The launch's origin side; ``None`` (no agreement in force when it fired)
        gives 0 (no evidence).
    landed
        Party -> probability that the impact point lies on its side.
    own_side_share
        Probability, in (0, 1), that a round lands on its own party's side.

    Returns
    -------
    float
        Natural-log ratio; 0 when either side is unknown or only one party is
        shared by the two versions.
    """
    if not 0.0 < own_side_share < 1.0:
        raise ValueError(f"own_side_share must be in (0, 1), got {own_side_share}")
    if origin is None:
        return 0.0
    launch = {party: p for party, p in origin.probabilities if party in landed}
    n = len(launch)
    launch_total = sum(launch.values())
    landed_total = sum(landed[party] for party in launch)
    if n < 2 or launch_total <= 0.0 or landed_total <= 0.0:
        return 0.0
    same = sum(launch[party] * landed[party] for party in launch) / (launch_total * landed_total)
    ratio = n * (own_side_share * same + (1.0 - own_side_share) / (n - 1) * (1.0 - same))
    return float(np.log(ratio))


def fired_from(
    log_likelihood_ratios: npt.NDArray[np.float64],
    launch_ids: Sequence[str],
    origins: Mapping[str, OriginSide | None],
    parties: Sequence[str],
    threshold: float,
) -> FiredFrom:
    """Side probabilities of one impact's launch.

    Parameters
    ----------
    log_likelihood_ratios
        Natural-log likelihood ratio of each gated candidate launch (shape
        ``(n,)``), against the chance density of an unrelated pair (with the
        direction of fire, :func:`direction_log_ratio`, already added).
    launch_ids
        The candidates' event ids, in the same order.
    origins
        Origin side of each candidate launch (``None`` when no agreement
        version was in force at its time: it counts for no party).
    parties
        Every party of the agreement the impact is judged by, in order.
    threshold
        Probability a party needs, in (0.5, 1].
    """
    llr = np.asarray(log_likelihood_ratios, dtype=float)
    top = max(float(llr.max()), 0.0) if llr.size else 0.0
    weights = np.exp(llr - top)
    unseen_weight = float(np.exp(-top))
    total = unseen_weight + float(weights.sum())
    posterior = weights / total
    by_party = dict.fromkeys(parties, 0.0)
    versions: set[str] = set()
    for launch, p in zip(launch_ids, posterior.tolist(), strict=True):
        origin = origins.get(launch)
        if origin is None:
            continue
        versions.add(origin.agreement_version)
        for party, share in origin.probabilities:
            if party in by_party:
                by_party[party] += p * share
    probabilities = {party: round(value, 6) for party, value in by_party.items()}
    ranked = sorted(
        ((launch, round(p, 6)) for launch, p in zip(launch_ids, posterior.tolist(), strict=True)),
        key=lambda item: (-item[1], item[0]),
    )
    return FiredFrom(
        side=decide_side(probabilities, threshold) if parties else UNDETERMINED,
        probabilities=tuple(probabilities.items()),
        threshold=threshold,
        launches=tuple(item for item in ranked if item[1] >= 1e-3),
        unseen=round(unseen_weight / total, 6),
        agreement_versions=tuple(sorted(versions)),
    )
