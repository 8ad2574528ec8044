"""Fusion configuration: every tunable parameter, declared once.

The configuration is part of a run's provenance: its canonical form is written
to the evidence log with the run, and its digest is printed with the findings,
so a sceptical party can re-run the same fusion on the same log.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from truceline.fusion.confidence import DEFAULT_LABEL_CONFUSION
from truceline.model.ids import content_id

__all__ = ["FusionConfig", "parse_confusion"]


@dataclass(frozen=True, slots=True)
class FusionConfig:
    """Parameters of the baseline fusion.

    Attributes
    ----------
    sound_speed_mps
        Effective speed of sound near the ground, m/s (331.3 + 0.606 T at T ≈ 10 °C).
    sound_speed_sigma_mps
        Its uncertainty (temperature, wind), m/s.
    acoustic_max_range_m
        Largest source range considered for an acoustic detection, metres.
    acoustic_min_stations
        Fewest distinct stations that may define an acoustic source.
    acoustic_position_floor_m
        Standard deviation added to acoustic locations for unmodelled errors, metres.
    gate_sigmas
        Gating threshold in standard deviations for residuals and distances.
    episode_distance_m, episode_window_s
        Located explosive events of the same kind closer than this in space (metres)
        and time (seconds) form one episode (one event).
    salvo_window_s
        Rounds of one salvo or battery fired within this many seconds of a located
        source absorb the ghost sources their cross-pairings make; 0 disables it.
    colocated_distance_m
        Explosive events of different kinds (a launch and an "explosion" heard at
        the same gun) closer than this, metres, within ``salvo_window_s`` of each
        other are one source.
    thermal_delay_max_s
        A thermal anomaly may corroborate an explosion seen up to this long
        before it (a fire started by shelling shows at the next overpass), seconds.
    thermal_cluster_window_s
        Thermal anomalies closer than the gate within this time form one event, seconds.
    equipment_motion_sigma_m
        Allowed drift of a parked weapon between sightings, metres.
    thermal_delay_scale_s
        E-folding time of the delay between an explosion and the first hot spot
        or smoke it causes (a truncated exponential up to
        ``thermal_delay_max_s``), seconds.
    crater_persistence_s
        Longest time a crater sighted at an instant (a drone pass) may be
        attributed to an explosion before it, seconds.
    corroboration_lead_s
        Tolerance for a corroborating observation dated before its event
        (clock and overpass-time errors), seconds.
    association_margin_m
        Standard deviation added to every association gate for unmodelled
        position errors (a fire's offset from the impact), metres.
    clutter_density_per_km2
        Density of unrelated sources that could have produced an observation
        instead (background fires, old craters, other parked vehicles), per
        km²: the "new event" alternative of every association likelihood ratio.
    default_reliability
        Reliability of a sensor with no description in the log.
    modality_reliability
        Configured reliabilities per modality: ``(modality, kind, probability)``
        with ``kind`` an observation kind or ``"*"`` for every kind. The
        probability that one detection is genuine, in (0, 1); it overrides the
        sensors' own descriptions (see :mod:`truceline.fusion.reliability` for
        the order of precedence and for re-estimating them from reviews).
    sensor_reliability
        Configured reliabilities per sensor: ``(sensor id, kind, probability)``;
        they override everything else.
    source_groups
        ``(sensor id, group)``: sensors whose detections are not independent of
        each other (one classifier, one platform, one processing chain) share a
        group and count once as corroboration. Elements of one array group by
        their array without being listed here.
    confidence_map
        ``(stated, calibrated)`` knots of a monotone recalibration of the
        final event confidence (linear between knots, constant beyond), fitted
        on held-out simulated scenarios together with the reliabilities it
        goes with (:mod:`truceline.evaluation.calibration`); empty: none.
    label_confusion
        ``(modality, true kind, label, P(label | true kind))``: confusion
        rates of a modality's classifiers, replacing the documented defaults
        (:data:`truceline.fusion.confidence.DEFAULT_LABEL_CONFUSION`) row by
        row (every label of a listed ``(modality, true kind)`` row must be
        given); empty: the defaults.
    """

    sound_speed_mps: float = 337.4
    sound_speed_sigma_mps: float = 6.0
    acoustic_max_range_m: float = 30_000.0
    acoustic_min_stations: int = 3
    acoustic_position_floor_m: float = 50.0
    gate_sigmas: float = 3.0
    episode_distance_m: float = 1_500.0
    episode_window_s: float = 600.0
    colocated_distance_m: float = 700.0
    salvo_window_s: float = 120.0
    thermal_delay_max_s: float = 43_200.0
    thermal_cluster_window_s: float = 86_400.0
    equipment_motion_sigma_m: float = 50.0
    thermal_delay_scale_s: float = 10_800.0
    crater_persistence_s: float = 604_800.0
    corroboration_lead_s: float = 600.0
    association_margin_m: float = 100.0
    clutter_density_per_km2: float = 0.02
    default_reliability: float = 0.6
    modality_reliability: tuple[tuple[str, str, float], ...] = ()
    sensor_reliability: tuple[tuple[str, str, float], ...] = ()
    source_groups: tuple[tuple[str, str], ...] = ()
    confidence_map: tuple[tuple[float, float], ...] = ()
    label_confusion: tuple[tuple[str, str, str, float], ...] = ()

    def __post_init__(self) -> None:
        # Reliability tables are stored sorted and de-duplicated so that the
        # digest does not depend on the order they were written in.
        for name in _RELIABILITY_TABLES:
            object.__setattr__(self, name, _reliability_table(name, getattr(self, name)))
        object.__setattr__(self, "source_groups", _group_table(self.source_groups))
        object.__setattr__(self, "confidence_map", _confidence_map(self.confidence_map))
        object.__setattr__(self, "label_confusion", _confusion_table(self.label_confusion))
        if not 0.0 < self.default_reliability < 1.0:
            raise ValueError(
                f"default_reliability must be in (0, 1), got {self.default_reliability}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form.

        Reliability tables are nested mappings (``{modality: {kind: p}}``,
        ``{sensor: {kind: p}}``, ``{sensor: group}``) and are left out when
        empty, so a configuration without them keeps the digest it had before
        they existed.
        """
        data = asdict(self)
        for name in _RELIABILITY_TABLES:
            table: dict[str, dict[str, float]] = {}
            for key, kind, probability in getattr(self, name):
                table.setdefault(key, {})[kind] = probability
            data[name] = table
        data["source_groups"] = dict(self.source_groups)
        data["confidence_map"] = [list(knot) for knot in self.confidence_map]
        confusion: dict[str, dict[str, dict[str, float]]] = {}
        for modality, kind, label, probability in self.label_confusion:
            confusion.setdefault(modality, {}).setdefault(kind, {})[label] = probability
        data["label_confusion"] = confusion
        for name in _OPTIONAL_TABLES:
            if not data[name]:
                del data[name]
        return data

    def confusion(self, modality: str) -> dict[str, dict[str, float]]:
        """``{true kind: {label: P(label | true kind)}}`` of a modality's classifiers.

        The configured rows (``label_confusion``) over the documented defaults;
        empty for a modality with neither.
        """
        rows = {k: dict(v) for k, v in DEFAULT_LABEL_CONFUSION.get(modality, {}).items()}
        configured: dict[str, dict[str, float]] = {}
        for key, kind, label, probability in self.label_confusion:
            if key == modality:
                configured.setdefault(kind, {})[label] = probability
        rows.update(configured)
        return rows

    @property
    def digest(self) -> str:
        """Content id of the configuration."""
        return content_id({"fusion": self.to_dict()})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionConfig:
        """Rebuild, refusing unknown keys (a typo must not silently use a default)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fusion parameter(s): {', '.join(unknown)}")
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {
            key: int(value) if types[key] in ("int", int) else float(value)
            for key, value in data.items()
            if key not in _OPTIONAL_TABLES
        }
        for name in _RELIABILITY_TABLES:
            if name in data:
                values[name] = _parse_reliability_table(name, data[name])
        if "source_groups" in data:
            groups = data["source_groups"]
            if not isinstance(groups, dict):
                raise ValueError("source_groups: expected a mapping of sensor id to group")
            values["source_groups"] = tuple((str(k), str(v)) for k, v in groups.items())
        if "confidence_map" in data:
            knots = data["confidence_map"]
            if not isinstance(knots, list) or not all(
                isinstance(k, list | tuple) and len(k) == 2 for k in knots
            ):
                raise ValueError("confidence_map: expected a list of [stated, calibrated] pairs")
            values["confidence_map"] = tuple((float(x), float(y)) for x, y in knots)
        if "label_confusion" in data:
            values["label_confusion"] = parse_confusion(data["label_confusion"], "label_confusion")
        return cls(**values)


#: The configuration fields holding ``(key, kind, probability)`` reliability tables.
_RELIABILITY_TABLES = ("modality_reliability", "sensor_reliability")
#: Fields left out of :meth:`FusionConfig.to_dict` when empty (and parsed apart).
_OPTIONAL_TABLES = (*_RELIABILITY_TABLES, "source_groups", "confidence_map", "label_confusion")


def _confusion_table(
    entries: Iterable[tuple[str, str, str, float]],
) -> tuple[tuple[str, str, str, float], ...]:
    """Validate and sort confusion rates: each ``(modality, kind)`` row sums to at most 1."""
    table: dict[tuple[str, str, str], float] = {}
    for entry in entries:
        if len(entry) != 4:
            raise ValueError(
                f"label_confusion: expected (modality, kind, label, probability), got {entry!r}"
            )
        modality, kind, label = str(entry[0]), str(entry[1]), str(entry[2])
        probability = float(entry[3])
        where = f"label_confusion.{modality}.{kind}.{label}"
        if not modality or not kind or not label:
            raise ValueError(f"{where}: empty modality, kind or label")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"{where}: probability must be in [0, 1], got {probability}")
        if table.get((modality, kind, label), probability) != probability:
            raise ValueError(f"{where}: given twice with different values")
        table[modality, kind, label] = probability
    sums: dict[tuple[str, str], float] = {}
    for (modality, kind, _), probability in table.items():
        sums[modality, kind] = sums.get((modality, kind), 0.0) + probability
    for (modality, kind), total in sorted(sums.items()):
        if total > 1.0 + 1e-6:
            raise ValueError(
                f"label_confusion.{modality}.{kind}: rates sum to {total:.4g}, more than 1"
            )
    return tuple((*key, table[key]) for key in sorted(table))


def parse_confusion(value: Any, where: str) -> tuple[tuple[str, str, str, float], ...]:
    """``{modality: {kind: {label: probability}}}`` into table entries, naming the bad field."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a mapping of {{modality: {{kind: {{label: p}}}}}}")
    entries: list[tuple[str, str, str, float]] = []
    for modality, kinds in value.items():
        if not isinstance(kinds, dict):
            raise ValueError(f"{where}.{modality}: expected a mapping of kind to label rates")
        for kind, labels in kinds.items():
            if not isinstance(labels, dict):
                raise ValueError(f"{where}.{modality}.{kind}: expected a mapping of label to p")
            for label, p in labels.items():
                if isinstance(p, bool) or not isinstance(p, int | float):
                    raise ValueError(
                        f"{where}.{modality}.{kind}.{label}: expected a number, got {p!r}"
                    )
                entries.append((str(modality), str(kind), str(label), float(p)))
    return tuple(entries)


def _confidence_map(knots: Iterable[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Validate a recalibration map: knots in [0, 1], increasing, non-decreasing."""
    result = tuple((float(x), float(y)) for x, y in knots)
    for (x0, y0), (x1, y1) in itertools.pairwise(result):
        if x1 <= x0 or y1 < y0:
            raise ValueError("confidence_map: knots must increase (stated) and not decrease")
    if any(not (0.0 <= v <= 1.0) for knot in result for v in knot):
        raise ValueError("confidence_map: knots must lie in [0, 1]")
    return result


def _reliability_table(
    name: str, entries: Iterable[tuple[str, str, float]]
) -> tuple[tuple[str, str, float], ...]:
    """Validate, sort and de-duplicate a reliability table."""
    table: dict[tuple[str, str], float] = {}
    for entry in entries:
        if len(entry) != 3:
            raise ValueError(f"{name}: expected (key, kind, probability), got {entry!r}")
        key, kind, probability = str(entry[0]), str(entry[1]), float(entry[2])
        where = f"{name}.{key}.{kind}"
        if not key or not kind:
            raise ValueError(f"{where}: empty key or kind")
        if not 0.0 < probability < 1.0:
            raise ValueError(f"{where}: reliability must be in (0, 1), got {probability}")
        if (key, kind) in table and table[key, kind] != probability:
            raise ValueError(f"{where}: given twice with different values")
        table[key, kind] = probability
    return tuple((key, kind, table[key, kind]) for key, kind in sorted(table))


def _group_table(entries: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Validate and sort the ``(sensor id, group)`` pairs."""
    groups: dict[str, str] = {}
    for sensor, group in entries:
        if not sensor or not group:
            raise ValueError(f"source_groups: empty sensor id or group in {(sensor, group)!r}")
        if groups.get(sensor, group) != group:
            raise ValueError(f"source_groups.{sensor}: given two different groups")
        groups[sensor] = group
    return tuple(sorted(groups.items()))


def _parse_reliability_table(name: str, value: Any) -> tuple[tuple[str, str, float], ...]:
    """``{key: {kind: probability}}`` into table entries, naming the bad field."""
    if not isinstance(value, dict):
        raise ValueError(f"{name}: expected a mapping of {{key: {{kind: probability}}}}")
    entries: list[tuple[str, str, float]] = []
    for key, kinds in value.items():
        if not isinstance(kinds, dict):
            raise ValueError(f"{name}.{key}: expected a mapping of kind to probability")
        for kind, probability in kinds.items():
            if isinstance(probability, bool) or not isinstance(probability, int | float):
                raise ValueError(f"{name}.{key}.{kind}: expected a number, got {probability!r}")
            entries.append((str(key), str(kind), float(probability)))
    return tuple(entries)
