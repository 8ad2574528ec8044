"""Per-source reliabilities: configured, then re-estimated from reviewed findings.

A source's *reliability* is the probability that one of its detections is
genuine (not a false alarm of that source). It feeds ``P(real)`` in
:mod:`truceline.fusion.confidence`.

Configured reliabilities
------------------------
For an observation of kind ``k`` by sensor ``s`` of modality ``m`` the first of
these that exists is used:

1. ``FusionConfig.sensor_reliability`` for ``(s, k)``, then ``(s, "*")``;
2. ``FusionConfig.modality_reliability`` for ``(m, k)``, then ``(m, "*")``;
3. the sensor's own description (:attr:`truceline.model.Sensor.reliability`,
   set by the operator or the ingest adapter);
4. ``FusionConfig.default_reliability``.

Configured values override the sensors' descriptions because they are an
explicit choice recorded with the run (its configuration digest), whereas a
description's value is often an adapter's nominal guess.

Source groups
-------------
Detections of one group count once as corroboration (see
:mod:`truceline.fusion.confidence`). An observation's group is, in order: the
group ``FusionConfig.source_groups`` gives its sensor; the group the
observation names in ``attributes["source_group"]`` (an adapter that knows
that two sensor ids share one platform, flight or processing chain says so);
the array its sensor is an element of; or the sensor itself. The operator's
configuration comes first so that a dependence it declares is never undone by
the data.

Re-estimation from reviews (Beta-Binomial)
------------------------------------------
Monitors mark findings ``verified`` or ``dismissed``. An event with a verified
finding was real; an event whose reviewed findings were all dismissed was a
false alarm (:func:`event_outcomes`; a dismissal is read as "not real" — a
finding dismissed because the rule did not apply should be marked
``inconclusive`` or left unreviewed, or it will lower the reliabilities of the
sources that saw a real event). Every reviewed event is one Bernoulli trial
for each source that took part in it, counted **once per source group** at
the class level (one array of five elements is one trial, not five) and once
per sensor at the sensor level — never once per detection:

* **class** ``(modality, kind)``: prior ``Beta(s m0, s (1 - m0))`` with ``m0``
  the configured class reliability (``modality_reliability``), else the mean
  configured reliability of the class's sensors that were reviewed, and ``s``
  the *prior strength* (the number of reviews the prior is worth). After
  ``k`` real events out of ``n``, the posterior mean is
  ``(s m0 + k) / (s + n)``.
* **sensor** ``(sensor, kind)``: the same update with the sensor's explicitly
  configured reliability as prior mean if there is one, else its class's
  posterior computed *without this sensor's own reviews* (so its data are not
  counted twice). A sensor with few reviews is thus pulled towards its class
  (partial pooling), one with many reviews towards its own record.

The posterior means replace the configured values (:func:`apply_estimates`):
class estimates serve sensors of the class that were never reviewed.

Counting a whole corroborated event as a success for each of its sources
slightly favours sources that are usually corroborated (a false detection that
joins a real event counts as genuine); the alternative, attributing the
success among the sources by EM under the noisy-OR, needs many more reviews to
be stable. Reviews are also a selected sample (monitors review findings, not
every event), so estimates describe the sources on reviewed kinds of event.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from scipy.stats import beta as beta_distribution

from truceline.fusion.confidence import Contribution
from truceline.fusion.config import FusionConfig
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = [
    "ANY_KIND",
    "DEFAULT_PRIOR_STRENGTH",
    "NON_CLASSIFYING_KINDS",
    "ReliabilityEstimate",
    "ReliabilityTables",
    "ReviewTally",
    "Tally",
    "apply_estimates",
    "configured_reliability",
    "event_outcomes",
    "observation_contribution",
    "reestimate",
    "reliability_tables",
    "source_group",
    "tally_reviews",
]

#: Wildcard kind of a reliability table entry.
ANY_KIND: Final = "*"
#: Reviews the configured prior is worth by default.
DEFAULT_PRIOR_STRENGTH: Final = 20.0
#: Kinds that say *something* happened but not what (they corroborate, they do
#: not classify): a hot spot, smoke, a crater found later.
NON_CLASSIFYING_KINDS: Final = frozenset({"thermal_anomaly", "smoke", "crater"})
#: Credible interval reported with each estimate (lower, upper quantile).
_INTERVAL: Final = (0.05, 0.95)


class ReliabilityTables:
    """Reliability and group look-ups of one configuration.

    Parameters
    ----------
    config
        The fusion configuration whose tables are looked up.
    """

    def __init__(self, config: FusionConfig) -> None:
        self.default = config.default_reliability
        self.by_modality = {(m, k): p for m, k, p in config.modality_reliability}
        self.by_sensor = {(s, k): p for s, k, p in config.sensor_reliability}
        self.groups = dict(config.source_groups)

    def configured_sensor(self, sensor_id: str, kind: str) -> float | None:
        """The reliability configured for this sensor and kind, if any."""
        value = self.by_sensor.get((sensor_id, kind))
        return value if value is not None else self.by_sensor.get((sensor_id, ANY_KIND))

    def configured_class(self, modality: str, kind: str) -> float | None:
        """The reliability configured for this modality and kind, if any."""
        value = self.by_modality.get((modality, kind))
        return value if value is not None else self.by_modality.get((modality, ANY_KIND))

    def reliability(self, sensor_id: str, modality: str, kind: str, sensor: Sensor | None) -> float:
        """The reliability of a detection, by the precedence of the module docstring."""
        for value in (
            self.configured_sensor(sensor_id, kind),
            self.configured_class(modality, kind),
            sensor.reliability if sensor is not None else None,
        ):
            if value is not None:
                return value
        return self.default

    def group(self, sensor_id: str, sensor: Sensor | None, named: str | None = None) -> str:
        """The source group of a sensor (``named``: the group an observation names)."""
        configured = self.groups.get(sensor_id)
        if configured is not None:
            return configured
        if named:
            return named
        if sensor is not None and sensor.array:
            return sensor.array
        return sensor_id


@functools.lru_cache(maxsize=16)
def _tables_by_value(config: FusionConfig) -> ReliabilityTables:
    return ReliabilityTables(config)


#: The configuration last asked for and its tables: the engine asks once per
#: observation with the same object, and hashing a configuration with large
#: tables costs more than the look-up itself.
_LAST: list[tuple[FusionConfig, ReliabilityTables]] = []


def reliability_tables(config: FusionConfig) -> ReliabilityTables:
    """The (cached) look-up tables of a configuration."""
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is config:
        return last[1]
    tables = _tables_by_value(config)
    _LAST[:] = [(config, tables)]
    return tables


def configured_reliability(
    config: FusionConfig, sensor_id: str, modality: str, kind: str, sensor: Sensor | None = None
) -> float:
    """Reliability of a detection of ``kind`` by ``sensor_id`` under ``config``."""
    return reliability_tables(config).reliability(sensor_id, modality, kind, sensor)


def source_group(config: FusionConfig, sensor_id: str, sensor: Sensor | None = None) -> str:
    """The correlated source group ``sensor_id`` counts under."""
    return reliability_tables(config).group(sensor_id, sensor)


def _unclassified(obs: Observation) -> bool:
    """An array beam: a direction and a time, no opinion on what made the sound."""
    return obs.kind == "other" and obs.attributes.get("label") == "array_detection"


def observation_contribution(
    obs: Observation, sensor: Sensor | None, config: FusionConfig
) -> Contribution:
    """An observation's say in the confidence of the event it joins.

    Parameters
    ----------
    obs
        The observation; its ``attributes["confidence"]`` (a classifier's
        probability of its kind) is used when numeric, else 1, and its
        ``attributes["source_group"]`` when a non-empty string.
    sensor
        Its sensor's description, if the log holds one.
    config
        Gives the reliability (:func:`configured_reliability`) and the group
        (:func:`source_group`).
    """
    raw = obs.attributes.get("confidence", 1.0)
    confidence = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else 1.0
    tables = reliability_tables(config)
    named = obs.attributes.get("source_group")
    return Contribution(
        sensor=obs.sensor_id,
        kind=obs.kind,
        confidence=min(max(confidence, 0.0), 1.0),
        reliability=tables.reliability(obs.sensor_id, obs.modality, obs.kind, sensor),
        classifies=obs.kind not in NON_CLASSIFYING_KINDS and not _unclassified(obs),
        group=tables.group(obs.sensor_id, sensor, named if isinstance(named, str) else None),
    )


# -- reviews -------------------------------------------------------------------------


def event_outcomes(findings: Iterable[Finding], statuses: Mapping[str, str]) -> dict[str, bool]:
    """Whether each reviewed event was real, from the review status of its findings.

    Parameters
    ----------
    findings
        Findings (their ``event_id`` links them to events).
    statuses
        Review status by finding id (``verified``, ``dismissed``; other
        statuses and findings absent from it are unreviewed).

    Returns
    -------
    dict
        Event id -> ``True`` when any of its findings was verified, ``False``
        when all its reviewed findings were dismissed. Unreviewed events are
        absent.
    """
    verdicts: dict[str, bool] = {}
    for finding in findings:
        status = statuses.get(finding.id)
        if status == "verified":
            verdicts[finding.event_id] = True
        elif status == "dismissed":
            verdicts.setdefault(finding.event_id, False)
    return dict(sorted(verdicts.items()))


@dataclass(frozen=True, slots=True)
class Tally:
    """Reviewed events a source took part in, and how many were real."""

    trials: int = 0
    successes: int = 0

    def add(self, real: bool) -> Tally:
        """This tally with one more reviewed event."""
        return Tally(self.trials + 1, self.successes + int(real))


@dataclass(frozen=True, slots=True)
class ReviewTally:
    """Review outcomes counted per source class and per sensor.

    Attributes
    ----------
    classes
        ``(modality, kind)`` -> tally, one trial per event and source group.
    sensors
        ``(sensor id, kind)`` -> tally, one trial per event.
    sensor_modality
        Modality of each sensor seen.
    configured
        ``(sensor id, kind)`` -> its configured reliability when tallied.
    events
        Reviewed events counted.
    """

    classes: Mapping[tuple[str, str], Tally]
    sensors: Mapping[tuple[str, str], Tally]
    sensor_modality: Mapping[str, str]
    configured: Mapping[tuple[str, str], float]
    events: int


def tally_reviews(
    events: Iterable[Event],
    outcomes: Mapping[str, bool],
    observations: Mapping[str, Observation],
    config: FusionConfig,
    sensors: Sequence[Sensor] = (),
) -> ReviewTally:
    """Count reviewed events per source class and per sensor.

    Parameters
    ----------
    events
        Fused events; those without an outcome are skipped.
    outcomes
        Event id -> real (see :func:`event_outcomes`).
    observations
        Observation id -> observation, holding at least the reviewed events' members.
    config
        Gives the source groups and the configured reliabilities (the priors).
    sensors
        Sensor descriptions.

    Raises
    ------
    KeyError
        When a reviewed event's member observation is missing (names it).
    """
    by_id = {s.id: s for s in sensors}
    tables = reliability_tables(config)
    classes: dict[tuple[str, str], Tally] = {}
    per_sensor: dict[tuple[str, str], Tally] = {}
    modality: dict[str, str] = {}
    configured: dict[tuple[str, str], float] = {}
    count = 0
    for event in sorted(events, key=lambda e: e.id):
        real = outcomes.get(event.id)
        if real is None:
            continue
        count += 1
        group_classes: set[tuple[str, str, str]] = set()
        sensor_kinds: set[tuple[str, str]] = set()
        for member in event.members:
            obs = observations.get(member)
            if obs is None:
                raise KeyError(f"event {event.id}: member observation {member} is not known")
            sensor = by_id.get(obs.sensor_id)
            named = obs.attributes.get("source_group")
            group = tables.group(obs.sensor_id, sensor, named if isinstance(named, str) else None)
            group_classes.add((group, obs.modality, obs.kind))
            sensor_kinds.add((obs.sensor_id, obs.kind))
            modality[obs.sensor_id] = obs.modality
            configured[obs.sensor_id, obs.kind] = tables.reliability(
                obs.sensor_id, obs.modality, obs.kind, sensor
            )
        for _, mod, kind in sorted(group_classes):
            classes[mod, kind] = classes.get((mod, kind), Tally()).add(real)
        for key in sorted(sensor_kinds):
            per_sensor[key] = per_sensor.get(key, Tally()).add(real)
    return ReviewTally(
        dict(sorted(classes.items())),
        dict(sorted(per_sensor.items())),
        dict(sorted(modality.items())),
        dict(sorted(configured.items())),
        count,
    )


@dataclass(frozen=True, slots=True)
class ReliabilityEstimate:
    """A Beta-Binomial re-estimate of one reliability.

    Attributes
    ----------
    level
        ``"modality"`` (a class ``(modality, kind)``) or ``"sensor"``.
    key, kind
        The modality or sensor id, and the observation kind.
    prior_mean, prior_strength
        The prior ``Beta(s m0, s (1 - m0))``: mean ``m0`` and strength ``s``
        (in reviews).
    trials, successes
        Reviewed events and how many were real.
    posterior_mean
        ``(s m0 + successes) / (s + trials)``.
    interval
        Central 90 % credible interval of the posterior.
    """

    level: str
    key: str
    kind: str
    prior_mean: float
    prior_strength: float
    trials: int
    successes: int
    posterior_mean: float
    interval: tuple[float, float]

    def to_dict(self) -> dict[str, object]:
        """JSON/YAML-ready form."""
        return {
            "level": self.level,
            "key": self.key,
            "kind": self.kind,
            "prior_mean": round(self.prior_mean, 6),
            "prior_strength": self.prior_strength,
            "trials": self.trials,
            "successes": self.successes,
            "posterior_mean": round(self.posterior_mean, 6),
            "interval": [round(self.interval[0], 6), round(self.interval[1], 6)],
        }


def _beta_update(
    level: str, key: str, kind: str, prior_mean: float, strength: float, tally: Tally
) -> ReliabilityEstimate:
    a = strength * prior_mean + tally.successes
    b = strength * (1.0 - prior_mean) + tally.trials - tally.successes
    low, high = (float(q) for q in beta_distribution.ppf(_INTERVAL, a, b))
    return ReliabilityEstimate(
        level,
        key,
        kind,
        prior_mean,
        strength,
        tally.trials,
        tally.successes,
        a / (a + b),
        (low, high),
    )


def _clip_open(p: float) -> float:
    """Keep a probability strictly inside (0, 1), as the configuration requires."""
    return min(max(p, 1e-6), 1.0 - 1e-6)


def reestimate(
    tally: ReviewTally,
    config: FusionConfig,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
) -> list[ReliabilityEstimate]:
    """Beta-Binomial posterior reliabilities per class and per sensor.

    Parameters
    ----------
    tally
        Review counts (:func:`tally_reviews`, with the same ``config``).
    config
        Gives the configured class and sensor priors.
    prior_strength
        How many reviews the configured prior is worth (> 0).

    Returns
    -------
    list
        Class estimates then sensor estimates, each sorted by key and kind.
    """
    if not prior_strength > 0.0:
        raise ValueError(f"prior_strength must be positive, got {prior_strength}")
    tables = reliability_tables(config)
    estimates: list[ReliabilityEstimate] = []
    class_prior: dict[tuple[str, str], float] = {}
    for (mod, kind), counts in tally.classes.items():
        prior = tables.configured_class(mod, kind)
        if prior is None:
            members = [
                p
                for (sensor_id, k), p in tally.configured.items()
                if k == kind and tally.sensor_modality.get(sensor_id) == mod
            ]
            prior = sum(members) / len(members) if members else config.default_reliability
        class_prior[mod, kind] = prior
        estimates.append(_beta_update("modality", mod, kind, prior, prior_strength, counts))
    for (sensor_id, kind), counts in tally.sensors.items():
        prior = tables.configured_sensor(sensor_id, kind)
        if prior is None:
            mod = tally.sensor_modality[sensor_id]
            whole = tally.classes.get((mod, kind), Tally())
            m0 = class_prior.get((mod, kind), config.default_reliability)
            trials = max(whole.trials - counts.trials, 0)
            successes = min(max(whole.successes - counts.successes, 0), trials)
            prior = (prior_strength * m0 + successes) / (prior_strength + trials)
        estimates.append(
            _beta_update("sensor", sensor_id, kind, _clip_open(prior), prior_strength, counts)
        )
    return estimates


def apply_estimates(config: FusionConfig, estimates: Iterable[ReliabilityEstimate]) -> FusionConfig:
    """``config`` with its reliability tables updated by ``estimates``."""
    by_modality = {(m, k): p for m, k, p in config.modality_reliability}
    by_sensor = {(s, k): p for s, k, p in config.sensor_reliability}
    for estimate in estimates:
        table = by_modality if estimate.level == "modality" else by_sensor
        table[estimate.key, estimate.kind] = round(_clip_open(estimate.posterior_mean), 6)
    return replace(
        config,
        modality_reliability=tuple((m, k, p) for (m, k), p in sorted(by_modality.items())),
        sensor_reliability=tuple((s, k, p) for (s, k), p in sorted(by_sensor.items())),
    )
