"""Ingest the waveforms of an array at once: beamforming into bearing detections.

Array processing needs every element together, so it is not a per-file
adapter: :func:`ingest_array` loads all element files (coordinates from their
sidecars, SAC headers or ingested station metadata), beamforms them
(:func:`truceline.ground.station.process_array`) and appends the array's
description and its detections, with every element file as an artifact, in
one log batch. Re-ingesting the same files is a no-op.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from truceline.ground.arrays import group_arrays
from truceline.ground.beamform import BeamformConfig
from truceline.ground.station import process_array
from truceline.ground.waveforms import MAX_RANGE_M, load_waveforms
from truceline.ingest.base import PROBE_BYTES, IngestContext
from truceline.ingest.pipeline import commit_records
from truceline.ingest.waveform import WaveformAdapter
from truceline.model.errors import RecordError
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.workspace import Workspace

__all__ = ["ArrayIngestResult", "group_array_files", "ingest_array"]


@dataclass(frozen=True, slots=True)
class ArrayIngestResult:
    """What :func:`ingest_array` did.

    Attributes
    ----------
    array_id
        Sensor id of the array.
    files
        The element files.
    detections
        Array detections found.
    new
        Records appended (0 when the files were already ingested).
    log_size, root_hash
        The log after the batch.
    """

    array_id: str
    files: tuple[Path, ...]
    detections: int
    new: int
    log_size: int
    root_hash: str


def _artifact(path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size, "name": path.name, "format": "array"}


def ingest_array(
    workspace: Workspace,
    paths: Sequence[Path],
    *,
    array_id: str | None = None,
    config: BeamformConfig | None = None,
) -> ArrayIngestResult:
    """Beamform an array's element files and log the detections.

    Raises
    ------
    truceline.model.RecordError
        Bad waveform data, missing coordinates, or an invalid array geometry.
    """
    files = tuple(sorted(Path(p) for p in paths))
    if not files:
        raise RecordError("no waveform files given for the array")
    artifacts = [_artifact(path) for path in files]
    store = workspace.store
    known = [store.artifact(str(a["sha256"])) for a in artifacts]
    earlier = known[0]
    if earlier is not None and all(k is not None for k in known):
        # processed before: beamforming is deterministic, so nothing new can come of it
        return ArrayIngestResult(
            str(earlier.get("array_id", array_id or "")),
            files,
            int(earlier.get("detections", 0)),
            0,
            workspace.log.size,
            workspace.log.root_hash,
        )
    context = IngestContext({sensor.id: sensor for sensor in store.sensors()})
    observations: list[Observation] = process_array(
        files, config=config, array_id=array_id, stations=context.station
    )
    name = array_id or (observations[0].sensor_id if observations else "")
    records: list[Observation | Sensor] = []
    if observations:
        first = observations[0]
        lon, lat = first.location.centre
        records.append(
            Sensor(
                id=first.sensor_id,
                modality=first.modality,
                owner="monitoring-mission",
                lon=lon,
                lat=lat,
                timing_sigma_s=0.01,
                detection_range_m=MAX_RANGE_M[first.modality],
                reliability=0.9,
            )
        )
    records.extend(observations)
    for artifact in artifacts:
        artifact["records"] = len(records)
        artifact["detections"] = len(observations)
        artifact["array_id"] = name
    new, log_size, root = commit_records(
        workspace,
        records,
        artifacts=artifacts,
        batch={"kind": "array", "array_id": name, "files": [str(a["name"]) for a in artifacts]},
        log_artifacts_alone=True,
    )
    return ArrayIngestResult(name, files, len(observations), new, log_size, root)


def group_array_files(workspace: Workspace, paths: Sequence[Path]) -> list[list[Path]]:
    """Group waveform files into arrays by where their sensors are.

    When no metadata names the arrays, co-located sensors (elements within
    about a kilometre, :func:`truceline.ground.arrays.group_arrays`) form one
    array; files of sensors standing alone are left out (they have no
    direction to give; ingest them one by one for their onsets).
    """
    context = IngestContext({sensor.id: sensor for sensor in workspace.store.sensors()})
    positions: dict[str, tuple[float, float]] = {}
    files_of: dict[str, list[Path]] = {}
    for path in sorted(Path(p) for p in paths):
        with path.open("rb") as handle:
            head = handle.read(PROBE_BYTES)
        if not WaveformAdapter.can_read(path, head):
            continue  # e.g. the StationXML lying beside the waveforms
        for segment in load_waveforms(path, context.station):
            key = segment.station_code + (f".{segment.location}" if segment.location else "")
            positions.setdefault(key, (segment.lon, segment.lat))
            files_of.setdefault(key, [])
            if path not in files_of[key]:
                files_of[key].append(path)
    groups = []
    for array in group_arrays([(key, lon, lat) for key, (lon, lat) in positions.items()]):
        if len(array.elements) < 3:
            continue
        files = sorted({f for element in array.elements for f in files_of[element]})
        groups.append(files)
    return groups
