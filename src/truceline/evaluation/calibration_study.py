"""Calibration of event confidence on simulated scenarios.

Each simulated scenario's fused events are labelled against its truth
(:mod:`truceline.evaluation.calibration_labels`: real, kind correct,
duplicate), their confidence is recomputed from their member observations
under a configuration (:func:`rescore`), and the stated probabilities are
checked (:mod:`truceline.evaluation.calibration`: reliability diagram, Brier
score).

:func:`run_study` compares, on **held-out** seeds, the configured
reliabilities with reliabilities re-estimated from the *training* seeds'
outcomes (each training event's truth label stands in for a monitor's review,
:mod:`truceline.fusion.reliability`), and with an isotonic recalibration of
the final confidence fitted on the training seeds (:func:`fit_profile`).
``python -m truceline.evaluation.calibration_study fit`` writes such a
profile as a reliability file (:mod:`truceline.fusion.reliability_file`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from truceline.evaluation.calibration import CalibrationMap, calibration_summary, fit_isotonic
from truceline.evaluation.calibration_labels import FIRE_KINDS, EventLabel, label_events
from truceline.fusion.confidence import event_confidence
from truceline.fusion.config import FusionConfig
from truceline.fusion.reliability import (
    DEFAULT_PRIOR_STRENGTH,
    ReliabilityEstimate,
    apply_estimates,
    observation_contribution,
    reestimate,
    tally_reviews,
)
from truceline.model.event import Event
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = [
    "CalibrationProfile",
    "ScenarioSample",
    "ScoredEvent",
    "evaluate",
    "fit_profile",
    "fit_reliabilities",
    "load_sample",
    "rescore",
    "run_study",
    "simulate_sample",
]


# -- samples ---------------------------------------------------------------------------


@dataclass
class ScenarioSample:
    """One simulated scenario's fused events, their evidence and their labels.

    Attributes
    ----------
    seed
        The simulator seed.
    events
        Events of the pipeline's run.
    observations
        Observation id -> observation (at least every event member).
    sensors
        Sensor descriptions from the log.
    labels
        One per event (:func:`label_events`).
    """

    seed: int
    events: list[Event]
    observations: dict[str, Observation]
    sensors: list[Sensor]
    labels: list[EventLabel] = field(default_factory=list)


def load_sample(seed: int, home: Path, truth_path: Path) -> ScenarioSample:
    """A sample from a workspace that holds a run, and the scenario's ``truth.json``."""
    from truceline.workspace import Workspace

    with Workspace(home) as workspace:
        events = workspace.store.events()
        observations = dict(workspace.store.observations())
        sensors = workspace.store.sensors()
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    return ScenarioSample(seed, events, observations, sensors, label_events(events, truth))


def simulate_sample(
    seed: int, work_dir: Path, days: int | None = 3, family: str | None = None
) -> ScenarioSample:
    """Run ``truceline demo`` for ``seed`` under ``work_dir`` and load the result.

    The whole pipeline runs: simulated field files through the real adapters,
    array beamforming, satellite change detection, fusion and adjudication.

    Parameters
    ----------
    seed
        Simulator seed.
    work_dir
        Where ``seed-<seed>`` (the demo's output) is written.
    days
        Length of the scenario, days (``None``: the family's own length).
    family
        Scenario family (``truceline demo --scenario``); ``None``: the default.
    """
    from rich.console import Console

    from truceline.demo import run_demo

    out = work_dir / f"seed-{seed}" if family is None else work_dir / f"{family}-{seed}"
    options: dict[str, Any] = {} if family is None else {"family": family}
    # configured reliabilities only: the packaged profile is what such samples fit
    run_demo(
        out,
        out / "home",
        seed=seed,
        days=days,
        console=Console(quiet=True),
        use_profile=False,
        **options,
    )
    return load_sample(seed, out / "home", out / "scenario" / "truth.json")


@dataclass(frozen=True, slots=True)
class ScoredEvent:
    """An event's stated probabilities under one configuration, and its label."""

    seed: int
    event_id: str
    kind: str
    p_real: float
    p_kind: float
    confidence: float
    sources: int
    label: EventLabel


def rescore(sample: ScenarioSample, config: FusionConfig) -> list[ScoredEvent]:
    """Recompute each event's confidence from its members under ``config``.

    The association (which observations form an event, and its kind) is the
    run's; only the confidence is recomputed, from one
    :func:`~truceline.fusion.reliability.observation_contribution` per member
    observation and ``config.confidence_map``, as the engine does with the
    same configuration.
    """
    sensors = {s.id: s for s in sample.sensors}
    scored = []
    for event, label in zip(sample.events, sample.labels, strict=True):
        contributions = [
            observation_contribution(
                sample.observations[m], sensors.get(sample.observations[m].sensor_id), config
            )
            for m in event.members
        ]
        kinds = FIRE_KINDS if event.kind in FIRE_KINDS else frozenset({event.kind})
        confidence, p_real, p_kind, sources = event_confidence(
            contributions, kinds, config.confidence_map
        )
        scored.append(
            ScoredEvent(
                sample.seed, event.id, event.kind, p_real, p_kind, confidence, sources, label
            )
        )
    return scored


def fit_reliabilities(
    samples: Iterable[ScenarioSample],
    config: FusionConfig,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
) -> tuple[FusionConfig, list[ReliabilityEstimate]]:
    """Re-estimate reliabilities with every training event reviewed by its truth label.

    Event ids are content ids of their evidence, so events of different
    scenarios do not collide; an id seen twice with different labels is refused.
    """
    events: dict[str, Event] = {}
    outcomes: dict[str, bool] = {}
    observations: dict[str, Observation] = {}
    sensors: dict[str, Sensor] = {}
    for sample in samples:
        for event, label in zip(sample.events, sample.labels, strict=True):
            if outcomes.get(event.id, label.real) != label.real:
                raise ValueError(f"event {event.id} is labelled both real and not real")
            events[event.id] = event
            outcomes[event.id] = label.real
        observations.update(sample.observations)
        sensors.update({s.id: s for s in sample.sensors})
    tally = tally_reviews(events.values(), outcomes, observations, config, list(sensors.values()))
    estimates = reestimate(tally, config, prior_strength)
    return apply_estimates(config, estimates), estimates


def evaluate(scored: Sequence[ScoredEvent], bins: int = 10) -> dict[str, Any]:
    """Calibration of ``P(real)``, the final confidence and ``P(kind)`` on labelled events.

    Returns
    -------
    dict
        ``p_real`` (against *real*), ``p_real_distinct`` (against *real and
        not a duplicate*), ``confidence`` (against *real and kind correct*),
        ``p_kind_given_real`` (on real events, against *kind correct*), each a
        :func:`~truceline.evaluation.calibration.calibration_summary`; and
        ``by_kind``: per event kind, count, mean ``P(real)`` and observed
        real fraction, mean confidence and observed real-and-kind fraction.
    """
    if not scored:
        raise ValueError("no scored events")
    p_real = [s.p_real for s in scored]
    real = [s.label.real for s in scored]
    report: dict[str, Any] = {
        "events": len(scored),
        "p_real": calibration_summary(p_real, real, bins),
        "p_real_distinct": calibration_summary(
            p_real, [s.label.real and not s.label.duplicate for s in scored], bins
        ),
        "confidence": calibration_summary(
            [s.confidence for s in scored], [s.label.kind_correct for s in scored], bins
        ),
    }
    real_events = [s for s in scored if s.label.real]
    if real_events:
        report["p_kind_given_real"] = calibration_summary(
            [s.p_kind for s in real_events], [s.label.kind_correct for s in real_events], bins
        )
    by_kind: dict[str, Any] = {}
    for kind in sorted({s.kind for s in scored}):
        group = [s for s in scored if s.kind == kind]
        by_kind[kind] = {
            "count": len(group),
            "mean_p_real": round(float(np.mean([s.p_real for s in group])), 4),
            "observed_real": round(float(np.mean([s.label.real for s in group])), 4),
            "mean_confidence": round(float(np.mean([s.confidence for s in group])), 4),
            "observed_kind_correct": round(
                float(np.mean([s.label.kind_correct for s in group])), 4
            ),
        }
    report["by_kind"] = by_kind
    return report


@dataclass(frozen=True)
class CalibrationProfile:
    """Reliabilities and a recalibration map fitted together on training scenarios.

    Attributes
    ----------
    config
        The configuration with re-estimated reliability tables and, if fitted,
        the ``confidence_map``.
    estimates
        The Beta-Binomial re-estimates behind the tables.
    calibration_map
        The isotonic map, or ``None`` when not fitted.
    train_seeds
        The scenarios it was fitted on.
    """

    config: FusionConfig
    estimates: list[ReliabilityEstimate]
    calibration_map: CalibrationMap | None
    train_seeds: list[int]


def fit_profile(
    train: Sequence[ScenarioSample],
    config: FusionConfig | None = None,
    *,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    recalibrate: bool = True,
    min_block: int = 30,
) -> CalibrationProfile:
    """Re-estimate reliabilities and fit a recalibration map on training scenarios.

    The map is fitted on **out-of-fold** confidences: each training scenario is
    scored with reliabilities re-estimated from the *other* training scenarios
    (leave one scenario out), so that the map learns how re-estimated
    confidence behaves on scenarios the reliabilities have not seen, as it
    will on held-out ones. The final reliabilities use every training scenario.

    Parameters
    ----------
    train
        Training samples (at least two when ``recalibrate``).
    config
        The configured parameters (the priors).
    prior_strength
        Strength of the configured reliabilities as a Beta prior, in reviews.
    recalibrate
        Fit the isotonic map too.
    min_block
        Fewest training events behind each knot of the map.
    """
    config = config or FusionConfig()
    seeds = sorted(s.seed for s in train)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"training seeds repeat: {seeds}")
    fitted, estimates = fit_reliabilities(train, config, prior_strength)
    if not recalibrate:
        return CalibrationProfile(fitted, estimates, None, seeds)
    if len(train) < 2:
        raise ValueError("recalibration needs at least two training scenarios (leave one out)")
    out_of_fold: list[ScoredEvent] = []
    for held in train:
        others = [s for s in train if s is not held]
        fold, _ = fit_reliabilities(others, config, prior_strength)
        out_of_fold.extend(rescore(held, fold))
    mapping = fit_isotonic(
        [e.confidence for e in out_of_fold],
        [e.label.kind_correct for e in out_of_fold],
        provenance={
            "method": "isotonic regression (pool adjacent violators) of real-and-kind-correct "
            "on the confidence under re-estimated reliabilities, leave-one-scenario-out",
            "train_seeds": seeds,
            "prior_strength": prior_strength,
            "min_block": min_block,
            "events": len(out_of_fold),
        },
        min_block=min_block,
    ).rounded()
    return CalibrationProfile(
        replace(fitted, confidence_map=mapping.knots), estimates, mapping, seeds
    )


def run_study(
    train: Sequence[ScenarioSample],
    test: Sequence[ScenarioSample],
    config: FusionConfig | None = None,
    *,
    prior_strength: float = DEFAULT_PRIOR_STRENGTH,
    bins: int = 10,
    recalibrate: bool = True,
    min_block: int = 30,
) -> dict[str, Any]:
    """Configured vs re-estimated (vs recalibrated) confidence on held-out scenarios.

    Parameters
    ----------
    train, test
        Samples of disjoint seeds: re-estimation and recalibration are fitted
        on ``train`` only (:func:`fit_profile`) and every reported figure is on
        ``test``.
    config
        The configured fusion parameters (the prior).
    prior_strength
        Strength of the configured reliabilities as a Beta prior, in reviews.
    bins
        Bins of the diagrams.
    recalibrate
        Also fit an isotonic map of the re-estimated confidence on ``train``.
    min_block
        Fewest training events behind each knot of that map.

    Returns
    -------
    dict
        ``train_seeds``, ``test_seeds``, ``configured``, ``reestimated`` (and
        ``recalibrated``) reports (:func:`evaluate`), the class
        ``reliabilities`` re-estimated, and the fitted ``profile``.
    """
    train_seeds = sorted(s.seed for s in train)
    test_seeds = sorted(s.seed for s in test)
    if set(train_seeds) & set(test_seeds):
        raise ValueError(f"training and held-out seeds overlap: {train_seeds} / {test_seeds}")
    if not train or not test:
        raise ValueError("need at least one training and one held-out scenario")
    config = config or FusionConfig()
    profile = fit_profile(
        train,
        config,
        prior_strength=prior_strength,
        recalibrate=recalibrate,
        min_block=min_block,
    )
    reestimated = replace(profile.config, confidence_map=config.confidence_map)
    report: dict[str, Any] = {
        "train_seeds": train_seeds,
        "test_seeds": test_seeds,
        "prior_strength": prior_strength,
        "configured": evaluate([e for s in test for e in rescore(s, config)], bins),
        "reestimated": evaluate([e for s in test for e in rescore(s, reestimated)], bins),
        "reliabilities": [e.to_dict() for e in profile.estimates if e.level == "modality"],
        "profile": profile,
    }
    if recalibrate:
        report["recalibrated"] = evaluate(
            [e for s in test for e in rescore(s, profile.config)], bins
        )
    return report


def _seeds(text: str) -> list[int]:
    """``"101-106"`` or ``"1,3,5"`` into seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


def main(argv: Sequence[str] | None = None) -> int:
    """Fit a calibration profile on simulated scenarios, or evaluate one on others.

    ``fit --seeds 101-106 --out FILE`` simulates the scenarios (``truceline
    demo``, in ``--work-dir``), re-estimates reliabilities and fits the
    recalibration map, and writes them as a reliability file.
    ``evaluate --seeds 201-203 [--profile FILE]`` prints the calibration of the
    configured and the profile's confidence on those scenarios as JSON.
    """
    import argparse
    import tempfile

    from truceline.fusion.reliability_file import (
        load_reliability_file,
        with_reliability_file,
        write_reliability_file,
    )

    parser = argparse.ArgumentParser(prog="python -m truceline.evaluation.calibration_study")
    parser.add_argument("action", choices=("fit", "evaluate"))
    parser.add_argument("--seeds", required=True, help="e.g. 101-106 or 1,2,5")
    parser.add_argument("--days", type=int, default=None, help="default: the family's length")
    parser.add_argument("--scenario", default=None, help="scenario family (truceline demo)")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, help="fit: the reliability file to write")
    parser.add_argument("--profile", type=Path, help="evaluate: a reliability file")
    parser.add_argument("--prior-strength", type=float, default=DEFAULT_PRIOR_STRENGTH)
    parser.add_argument("--min-block", type=int, default=30)
    args = parser.parse_args(argv)
    seeds = _seeds(args.seeds)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="truceline-calibration-"))
    samples = [simulate_sample(seed, work, args.days, args.scenario) for seed in seeds]
    if args.action == "fit":
        if args.out is None:
            parser.error("fit needs --out")
        profile = fit_profile(samples, prior_strength=args.prior_strength, min_block=args.min_block)
        provenance = {
            "method": "Beta-Binomial re-estimation of reliabilities from truth-labelled "
            "events of simulated scenarios (every event reviewed), and an isotonic map of "
            "the final confidence fitted leave-one-scenario-out",
            "command": "python -m truceline.evaluation.calibration_study fit "
            f"--seeds {args.seeds}"
            + (f" --days {args.days}" if args.days is not None else "")
            + (f" --scenario {args.scenario}" if args.scenario else "")
            + f" --prior-strength {args.prior_strength} --min-block {args.min_block}",
            "train_seeds": seeds,
            "days": args.days,
            "scenario": args.scenario or "default",
            "prior_strength": args.prior_strength,
            "min_block": args.min_block,
            "events": sum(len(s.events) for s in samples),
        }
        write_reliability_file(
            args.out, profile.config, provenance=provenance, estimates=profile.estimates
        )
        print(json.dumps({"written": str(args.out), **provenance}, indent=2))
        return 0
    report: dict[str, Any] = {"seeds": seeds}
    report["configured"] = evaluate([e for s in samples for e in rescore(s, FusionConfig())])
    if args.profile is not None:
        trained = load_reliability_file(args.profile).provenance.get("train_seeds") or []
        overlap = sorted(set(seeds) & {int(s) for s in trained})
        if overlap:
            parser.error(f"seeds {overlap} were used to fit {args.profile}")
        config = with_reliability_file(FusionConfig(), args.profile)
        report["profile"] = evaluate([e for s in samples for e in rescore(s, config)])
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
