"""Re-estimate source reliabilities from monitors' reviews of the current run.

Monitors rule on findings (``truceline review``): ``verified`` says the event
behind the finding was real, ``dismissed`` that it was not. Those rulings are
evidence about the sources that reported the event. This module gathers them
from a store — the current run's events and findings, the latest review of each
finding, the observations behind each reviewed event — and feeds them to the
Beta-Binomial re-estimation of :mod:`truceline.fusion.reliability`, whose prior
is the configuration the run used.

The result is a new configuration and the estimates behind it; written as a
reliability file (:func:`truceline.fusion.reliability_file.write_reliability_file`)
it is used by the next ``truceline run --reliabilities FILE``. Nothing here
changes the log: the re-estimate is an input to a later run, recorded in that
run's configuration, so every run stays re-derivable.

Reviews of findings that are not in the current run (an earlier run's findings
that the current run no longer produces) are counted and reported but not used:
their events' members are not the current events' members.
"""

from __future__ import annotations

from dataclasses import dataclass

from truceline.fusion.config import FusionConfig
from truceline.fusion.reliability import (
    DEFAULT_PRIOR_STRENGTH,
    ReliabilityEstimate,
    ReviewTally,
    apply_estimates,
    event_outcomes,
    reestimate,
    tally_reviews,
)
from truceline.model.errors import TrucelineError
from truceline.review import reviews
from truceline.store.base import Store

__all__ = ["NoReviewsError", "ReviewEstimate", "estimate_from_reviews"]


class NoReviewsError(TrucelineError, ValueError):
    """The store holds no verified or dismissed review of a current finding."""


@dataclass(frozen=True, slots=True)
class ReviewEstimate:
    """Reliabilities re-estimated from the reviews in a store.

    Attributes
    ----------
    config
        The prior configuration with its reliability tables replaced by the
        posterior means.
    estimates
        One Beta-Binomial estimate per source class and per sensor reviewed.
    tally
        The review counts behind them.
    run_id
        The run whose findings were reviewed.
    reviews_used
        Verified or dismissed reviews of that run's findings.
    reviews_ignored
        Reviews of findings the run does not have, of pattern findings (they
        stand for many events, each reviewable on its own), or with another
        status (``inconclusive``, ``under_review``).
    """

    config: FusionConfig
    estimates: list[ReliabilityEstimate]
    tally: ReviewTally
    run_id: str
    reviews_used: int
    reviews_ignored: int


def estimate_from_reviews(
    store: Store,
    config: FusionConfig,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
) -> ReviewEstimate:
    """Re-estimate ``config``'s reliabilities from the reviews of the current run.

    Parameters
    ----------
    store
        Holds the current run's events and findings, the reviews and the
        observations.
    config
        The prior: the configuration whose reliabilities are updated (normally
        the one the reviewed run used).
    prior_strength
        How many reviews the configured prior is worth (> 0).

    Raises
    ------
    NoReviewsError
        When there is no run, or no current finding has a ``verified`` or
        ``dismissed`` review.
    """
    runs = store.runs()
    if not runs:
        raise NoReviewsError("no run yet: run `truceline run`, review findings, then estimate")
    run_id = str(runs[-1]["id"])
    statuses = reviews(store)
    events_by_id = {e.id: e for e in store.events()}
    # a pattern finding stands for many events, each judged on its own: not a trial
    findings = [f for f in store.findings() if f.event_id in events_by_id]
    current = {f.id for f in findings}
    used = sum(1 for fid, status in statuses.items() if fid in current and status in _RULINGS)
    outcomes = event_outcomes(findings, statuses)
    if not outcomes:
        raise NoReviewsError(
            f"no finding of run {run_id} is reviewed as verified or dismissed "
            f"({len(statuses)} reviewed finding(s) in the log)"
        )
    events = [events_by_id[event_id] for event_id in outcomes]
    members = sorted({m for e in events for m in e.members})
    observations = {oid: obs for oid, (_, obs) in store.observation_refs(members).items()}
    tally = tally_reviews(events, outcomes, observations, config, store.sensors())
    estimates = reestimate(tally, config, prior_strength)
    return ReviewEstimate(
        apply_estimates(config, estimates),
        estimates,
        tally,
        run_id,
        used,
        len(statuses) - used,
    )


#: Review statuses that say whether an event was real.
_RULINGS = frozenset({"verified", "dismissed"})
