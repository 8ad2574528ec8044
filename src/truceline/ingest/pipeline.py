"""Ingest one file into a workspace: probe, read, hash, log, project.

A file is ingested atomically: every record is read and validated before
anything is written; then one log batch (the artifact and every new record) is
appended and acknowledged, and then projected into the store in one
transaction. Records whose content id is already known are skipped, so
re-ingesting the same data is a no-op.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from truceline.evidence.entries import make_entry, observation_entry, record_entry
from truceline.ingest.base import IngestAdapter, IngestContext
from truceline.ingest.registry import detect, get_adapter
from truceline.model.coverage import Coverage
from truceline.model.errors import RecordError
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.store.base import ObservationRow
from truceline.workspace import Workspace

__all__ = ["IngestResult", "commit_records", "ingest_file"]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one file's ingest did.

    Attributes
    ----------
    path
        The file.
    format
        The adapter that read it.
    artifact
        Hex SHA-256 of the file's bytes.
    records
        Records read (observations, sensors, coverage).
    new
        Records appended to the log (the rest were already known).
    log_size, root_hash
        Log size and root after the ingest.
    """

    path: Path
    format: str
    artifact: str
    records: int
    new: int
    log_size: int
    root_hash: str

    @property
    def duplicates(self) -> int:
        """Records skipped because the log already held them."""
        return self.records - self.new


def _file_sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _read_all(adapter: IngestAdapter, path: Path) -> list[Observation | Sensor | Coverage]:
    try:
        return list(adapter.read(path))
    except RecordError as exc:
        raise exc.located(file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise RecordError(f"not valid UTF-8 text at byte {exc.start}", file=str(path)) from None
    except OSError as exc:
        raise RecordError(f"cannot read: {exc.strerror}", file=str(path)) from None


def ingest_file(
    workspace: Workspace,
    path: Path,
    *,
    format_name: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestResult:
    """Ingest ``path`` into ``workspace``.

    Parameters
    ----------
    workspace
        The open workspace.
    path
        The file.
    format_name
        Force an adapter instead of probing.
    progress
        Called with the number of records processed so far, now and then.

    Raises
    ------
    truceline.model.RecordError
        A record is bad; nothing was written.
    truceline.ingest.registry.UnknownFormatError
        No adapter reads the file.
    """
    adapter_cls = get_adapter(format_name) if format_name else detect(path)
    artifact, size = _file_sha256(path)
    store = workspace.store
    log = workspace.log
    # Ingest is atomic per file, so a file whose bytes are already in the log had
    # every record logged then: nothing to read again.
    known_artifact = store.artifact(artifact)
    if known_artifact is not None:
        records_then = int(known_artifact.get("records", 0))
        return IngestResult(
            path, adapter_cls.name, artifact, records_then, 0, log.size, log.root_hash
        )
    adapter = adapter_cls()
    adapter.context = IngestContext({sensor.id: sensor for sensor in store.sensors()})
    records = _read_all(adapter, path)
    if progress is not None:
        progress(len(records))
    artifact_body = {
        "sha256": artifact,
        "size": size,
        "name": path.name,
        "format": adapter_cls.name,
        "records": len(records),
    }
    new_count, log_size, root = commit_records(
        workspace,
        records,
        artifacts=[artifact_body],
        batch={
            "kind": "ingest",
            "artifact": artifact,
            "name": path.name,
            "format": adapter_cls.name,
        },
    )
    return IngestResult(path, adapter_cls.name, artifact, len(records), new_count, log_size, root)


def commit_records(
    workspace: Workspace,
    records: Sequence[Observation | Sensor | Coverage],
    *,
    artifacts: Sequence[Mapping[str, Any]],
    batch: Mapping[str, Any],
    log_artifacts_alone: bool = False,
) -> tuple[int, int, str]:
    """Append the records not yet known, with their artifacts, as one log batch.

    Parameters
    ----------
    workspace
        The open workspace.
    records
        Validated records, in source order (their 1-based position is their
        ``record`` reference in the source of each entry).
    artifacts
        Descriptions of the raw files they came from (``sha256``, ``size``,
        ``name``, ``format``...); the first one is named as every record's source.
    batch
        Description of the batch, recorded in its tree head.
    log_artifacts_alone
        Log new artifacts even when no record is new (e.g. waveforms that were
        processed and gave no detection: "looked, found nothing" is evidence).

    Returns
    -------
    tuple
        ``(new_records, log_size, root_hash)``. Nothing is appended when every
        record is already known.
    """
    store = workspace.store
    log = workspace.log
    artifact = str(artifacts[0]["sha256"]) if artifacts else None
    seen: dict[str, int] = {}
    observations: list[tuple[str, bytes, bytes, Observation, int]] = []
    others: list[tuple[str, bytes, Sensor | Coverage]] = []
    for position, record in enumerate(records, start=1):
        source = {"artifact": artifact, "record": position}
        if isinstance(record, Observation):
            entry_id, entry, body = observation_entry(record, source)
            if entry_id in seen:
                # identical rows within a file are distinct detections: number them
                seen[entry_id] += 1
                record = dataclasses.replace(
                    record, attributes={**record.attributes, "occurrence": seen[entry_id]}
                )
                entry_id, entry, body = observation_entry(record, source)
            seen.setdefault(entry_id, 1)
            observations.append((entry_id, entry, body, record, position))
        else:
            entry_id, entry = record_entry(record, source)
            others.append((entry_id, entry, record))

    known_obs = store.known_ids("observations", (o[0] for o in observations))
    new_obs = [o for o in observations if o[0] not in known_obs]
    known_sensors = {sensor.id: sensor.to_dict() for sensor in store.sensors()}
    known_cov = store.known_ids("coverage", (o[0] for o in others if isinstance(o[2], Coverage)))
    new_others: list[tuple[str, bytes]] = []
    emitted: set[str] = set()
    for entry_id, entry, other in others:
        if entry_id in emitted:
            continue
        emitted.add(entry_id)
        if isinstance(other, Coverage) and entry_id in known_cov:
            continue
        if isinstance(other, Sensor) and known_sensors.get(other.id) == other.to_dict():
            continue
        new_others.append((entry_id, entry))

    new_count = len(new_obs) + len(new_others)
    batch_entries: list[bytes] = []
    for description in artifacts:
        if store.artifact(str(description["sha256"])) is None:
            batch_entries.append(make_entry("artifact", dict(description))[1])
    if new_count == 0 and not (log_artifacts_alone and batch_entries):
        return 0, log.size, log.root_hash
    batch_entries.extend(entry for _, entry in new_others)
    first_obs_seq = log.size + len(batch_entries)
    batch_entries.extend(o[1] for o in new_obs)
    head = log.append_batch(batch_entries, dict(batch))
    other_start = head.first_index
    other_entries = [
        (other_start + offset, entry)
        for offset, entry in enumerate(batch_entries[: len(batch_entries) - len(new_obs)])
    ]
    rows = [
        ObservationRow(
            seq=first_obs_seq + offset,
            id=entry_id,
            observation=obs,
            body=body,
            artifact=artifact,
            record=position,
        )
        for offset, (entry_id, _, body, obs, position) in enumerate(new_obs)
    ]
    store.add_batch(end_seq=head.tree_size, observations=rows, other_entries=other_entries)
    return new_count, head.tree_size, head.root_hash
