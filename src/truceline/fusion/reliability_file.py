"""Reliability files: configured or re-estimated reliabilities a run can take.

A reliability file is YAML::

    format: truceline-reliability/1
    provenance:                 # free-form: who/what produced it, from which data
      method: beta-binomial re-estimation from reviews
    modalities:                 # modality -> kind (or "*") -> probability in (0, 1)
      satellite: {"*": 0.8, crater: 0.3}
    sensors:                    # sensor id -> kind (or "*") -> probability
      "acoustic:A017": {explosion: 0.93}
    groups:                     # sensor id -> correlated source group
      "sentinel-1a:pwtt:R043": sentinel-1a
    confidence_map: [[0.1, 0.03], [0.5, 0.6], ...]   # optional: recalibration knots
    estimates: [...]            # optional: the counts behind re-estimated values

A recalibration map belongs with the reliabilities it was fitted on: both are
produced together (:mod:`truceline.evaluation.calibration_study`) and applied
together.

Its tables are merged into a :class:`~truceline.fusion.FusionConfig`
(:func:`with_reliability_file`; the file's entries win), so they become part of
the run's recorded configuration and digest. See
:mod:`truceline.fusion.reliability` for how they are used and re-estimated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from truceline.fileio import write_atomic
from truceline.fusion.config import FusionConfig, parse_confusion
from truceline.fusion.reliability import ReliabilityEstimate
from truceline.model.errors import RecordError

__all__ = [
    "RELIABILITY_FORMAT",
    "ReliabilityFile",
    "load_reliability_file",
    "packaged_reliability_file",
    "with_reliability_file",
    "with_reliability_profile",
    "write_reliability_file",
]

RELIABILITY_FORMAT: Final = "truceline-reliability/1"
_KEYS: Final = frozenset(
    {
        "format",
        "provenance",
        "modalities",
        "sensors",
        "groups",
        "confidence_map",
        "estimates",
        "label_confusion",
    }
)


@dataclass(frozen=True)
class ReliabilityFile:
    """The content of a reliability file.

    Attributes
    ----------
    modality_reliability, sensor_reliability, source_groups, confidence_map
        Tables in the form of the :class:`~truceline.fusion.FusionConfig` fields.
    provenance
        How the values were produced.
    estimates
        The re-estimation records behind them, if any (as written).
    sha256
        Hex SHA-256 of the file's bytes as read (empty when not read from a file).
    label_confusion
        Classifier confusion rates ``(modality, true kind, label, P(label | true
        kind))`` (``FusionConfig.label_confusion``); the file's rows replace the
        configuration's.
    """

    modality_reliability: tuple[tuple[str, str, float], ...] = ()
    sensor_reliability: tuple[tuple[str, str, float], ...] = ()
    source_groups: tuple[tuple[str, str], ...] = ()
    confidence_map: tuple[tuple[float, float], ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    estimates: tuple[Mapping[str, Any], ...] = ()
    sha256: str = ""
    label_confusion: tuple[tuple[str, str, str, float], ...] = ()


def _table(data: Any, name: str, file: str) -> tuple[tuple[str, str, float], ...]:
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise RecordError("expected a mapping of key to {kind: probability}", file=file, field=name)
    entries = []
    for key, kinds in data.items():
        if not isinstance(kinds, dict) or not kinds:
            raise RecordError(
                "expected a mapping of kind (or '*') to probability",
                file=file,
                field=f"{name}.{key}",
            )
        for kind, value in kinds.items():
            where = f"{name}.{key}.{kind}"
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RecordError(f"expected a number, got {value!r}", file=file, field=where)
            if not 0.0 < float(value) < 1.0:
                raise RecordError(f"must be in (0, 1), got {value}", file=file, field=where)
            entries.append((str(key), str(kind), float(value)))
    return tuple(entries)


def load_reliability_file(path: Path) -> ReliabilityFile:
    """Read and validate a reliability file.

    Raises
    ------
    truceline.model.RecordError
        Naming the file and the field at fault.
    """
    file = str(path)
    try:
        raw = Path(path).read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror}", file=file) from None
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file) from None
    except yaml.YAMLError as exc:
        raise RecordError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise RecordError("expected a mapping at the top level", file=file)
    if data.get("format") != RELIABILITY_FORMAT:
        raise RecordError(
            f"expected {RELIABILITY_FORMAT!r}, got {data.get('format')!r}",
            file=file,
            field="format",
        )
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise RecordError(f"unknown key(s): {', '.join(unknown)}", file=file, field=unknown[0])
    groups = data.get("groups") or {}
    if not isinstance(groups, dict) or not all(isinstance(v, str) and v for v in groups.values()):
        raise RecordError(
            "expected a mapping of sensor id to group name", file=file, field="groups"
        )
    provenance = data.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise RecordError("expected a mapping", file=file, field="provenance")
    knots = data.get("confidence_map") or []
    if not isinstance(knots, list) or not all(
        isinstance(k, list) and len(k) == 2 and all(_is_number(v) for v in k) for k in knots
    ):
        raise RecordError(
            "expected a list of [stated, calibrated] number pairs",
            file=file,
            field="confidence_map",
        )
    estimates = data.get("estimates") or []
    if not isinstance(estimates, list) or not all(isinstance(e, dict) for e in estimates):
        raise RecordError("expected a list of mappings", file=file, field="estimates")
    return ReliabilityFile(
        _table(data.get("modalities"), "modalities", file),
        _table(data.get("sensors"), "sensors", file),
        tuple((str(k), str(v)) for k, v in groups.items()),
        tuple((float(x), float(y)) for x, y in knots),
        provenance,
        tuple(estimates),
        hashlib.sha256(raw).hexdigest(),
        _confusion(data.get("label_confusion"), file),
    )


def _confusion(data: Any, file: str) -> tuple[tuple[str, str, str, float], ...]:
    """The ``label_confusion`` table, errors naming the file and the field."""
    if data is None:
        return ()
    try:
        return parse_confusion(data, "label_confusion")
    except ValueError as exc:
        where, _, message = str(exc).partition(": ")
        raise RecordError(message, file=file, field=where) from None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def with_reliability_file(config: FusionConfig, path: Path) -> FusionConfig:
    """``config`` with a reliability file's tables merged in (the file's entries win).

    A file's ``confidence_map`` replaces the configuration's.
    """
    return with_reliability_profile(config, path)[0]


def with_reliability_profile(
    config: FusionConfig, path: Path
) -> tuple[FusionConfig, dict[str, str]]:
    """:func:`with_reliability_file`, and the record of the profile a run used.

    This is what ``truceline run --reliabilities FILE`` applies. The record,
    ``{"file": name, "sha256": hex digest of the bytes read}``, goes into the
    run's log entry: the merged tables are in its configuration already (which
    is what ``verify-run`` re-derives from), the record says where they came
    from, so anyone holding the file can check it is the one used.

    Raises
    ------
    truceline.model.RecordError
        Naming the file and the field at fault.
    """
    content = load_reliability_file(path)
    return _merged(config, content, path), {"file": Path(path).name, "sha256": content.sha256}


def _merged(config: FusionConfig, content: ReliabilityFile, path: Path) -> FusionConfig:
    """``config`` with ``content``'s tables merged in (errors name ``path``)."""

    def merged(
        old: Iterable[tuple[str, str, float]], new: Iterable[tuple[str, str, float]]
    ) -> tuple[tuple[str, str, float], ...]:
        table = {(a, b): p for a, b, p in old}
        table.update({(a, b): p for a, b, p in new})
        return tuple((a, b, p) for (a, b), p in sorted(table.items()))

    groups = dict(config.source_groups) | dict(content.source_groups)
    rows = {(m, k) for m, k, _, _ in content.label_confusion}
    confusion = [e for e in config.label_confusion if (e[0], e[1]) not in rows]
    try:
        return replace(
            config,
            modality_reliability=merged(config.modality_reliability, content.modality_reliability),
            sensor_reliability=merged(config.sensor_reliability, content.sensor_reliability),
            source_groups=tuple(sorted(groups.items())),
            confidence_map=content.confidence_map or config.confidence_map,
            label_confusion=(*confusion, *content.label_confusion),
        )
    except ValueError as exc:
        raise RecordError(str(exc), file=str(path)) from None


def write_reliability_file(
    path: Path,
    config: FusionConfig,
    *,
    provenance: Mapping[str, Any],
    estimates: Iterable[ReliabilityEstimate] = (),
) -> None:
    """Write ``config``'s reliability tables as a reliability file (atomically).

    Parameters
    ----------
    path
        Destination, written all or nothing (:func:`truceline.fileio.write_atomic`).
    config
        Its ``modality_reliability``, ``sensor_reliability``, ``source_groups``
        and ``confidence_map``.
    provenance
        How the values were produced (kept in the file).
    estimates
        The re-estimation records behind the values.
    """
    tables = config.to_dict()
    body: dict[str, Any] = {
        "format": RELIABILITY_FORMAT,
        "provenance": dict(provenance),
        "modalities": tables.get("modality_reliability", {}),
        "sensors": tables.get("sensor_reliability", {}),
        "groups": tables.get("source_groups", {}),
        "confidence_map": tables.get("confidence_map", []),
        "estimates": [e.to_dict() for e in estimates],
    }
    # Leaf mappings and lists in flow style: one line per sensor, per knot, per interval.
    text = yaml.safe_dump(
        body, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    write_atomic(Path(path), text.encode("utf-8"))


def packaged_reliability_file(name: str) -> Path:
    """Path of a reliability file shipped in ``truceline/fusion/data``.

    Parameters
    ----------
    name
        The file's stem, e.g. ``reliability-sim-v1``.
    """
    resource = resources.files("truceline.fusion").joinpath("data", f"{name}.yaml")
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"no packaged reliability file {name!r} ({path})")
    return path
