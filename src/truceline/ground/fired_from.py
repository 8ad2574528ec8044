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

__all__ = ["FiredFrom", "fired_from"]


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
        ``(n,)``), against the chance density of an unrelated pair.
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
