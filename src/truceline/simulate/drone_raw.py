"""Drone patrols in field formats: MAVLink ``.tlog`` / MISB ST 0601 KLV plus detections.

Every patrol planned by :mod:`truceline.simulate.drone` is flown again with a
camera (:mod:`~truceline.simulate.drone_flight`) and a simulated detector
(:mod:`~truceline.simulate.drone_detector`), drawing from its own random
channel so the generic GeoJSON patrols do not change. Patrols alternate between
the two telemetry formats (the first, third... as ``.tlog``, the others as
``.klv``); the first line patrol loses 4–8 s of telemetry in mid-flight::

    drone-raw/patrol-<date>-<id>.tlog | .klv        telemetry (recorded, noisy poses)
    drone-raw/patrol-<date>-<id>.tlog.json | .klv.json   sidecar: sensor id, camera,
                                                     pose uncertainty, terrain_height_m
    drone-raw/patrol-<date>-<id>.detections.json    detections (docs/drone-formats.md)

The terrain is flat, at one height above mean sea level for the scenario.
Detection times are the recorded frame times; ``.tlog`` detections also give
the frame number (KLV carries none). The truth (``truth.json`` member
``drone``) lists per patrol its files, its telemetry gap and, per truth event,
the frames its objects were in view of the true camera and the frames they
were detected in.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from truceline.drone.klv import write_klv
from truceline.drone.mavlink import write_tlog
from truceline.drone.sidecar import TelemetrySidecar, write_sidecar
from truceline.simulate.drone import Patrol
from truceline.simulate.drone_detector import CLASS_MAP, Detection, detect_frames, targets
from truceline.simulate.drone_flight import CAMERA, FlightLog, fly_camera
from truceline.simulate.world import World
from truceline.simulate.writers import dump_json, iso_time

__all__ = ["DETECTIONS_FORMAT", "RAW_DIR", "RawDrones", "write_drone_raw"]

#: Folder of the raw drone files, relative to the scenario directory.
RAW_DIR: Final = "drone-raw"
#: Value of the ``format`` member of a detections file.
DETECTIONS_FORMAT: Final = "truceline-drone-detections/1"
_FORMATS: Final = (("tlog", "mavlink-tlog"), ("klv", "misb-st0601-klv"))
#: Longest gap between poses a telemetry reader interpolates across, seconds
#: (the default of :class:`truceline.drone.base.Telemetry`).
_READER_MAX_GAP_S: Final = 2.0


@dataclass(frozen=True, slots=True)
class RawDrones:
    """What :func:`write_drone_raw` wrote.

    Attributes
    ----------
    files
        Paths written, in writing order.
    counts
        ``drone_raw_patrols``, ``drone_raw_poses``, ``drone_raw_frames``,
        ``drone_raw_detections``, ``drone_raw_false_positives``.
    truth
        The ``drone`` member of ``truth.json``.
    """

    files: list[Path]
    counts: dict[str, int]
    truth: dict[str, Any]


def _system_id(platform: str) -> int:
    """MAVLink system id of a platform ``drone:UAV-03`` (3), 1 when it has no number."""
    digits = "".join(c for c in platform.rsplit("-", 1)[-1] if c.isdigit())
    return min(255, max(1, int(digits))) if digits else 1


def _write_telemetry(path: Path, log: FlightLog, terrain_height_m: float) -> Path:
    """Telemetry file and its sidecar (with the terrain height); returns the sidecar path."""
    if path.suffix == ".tlog":
        write_tlog(path, log.recorded, system_id=_system_id(log.patrol.platform))
    else:
        write_klv(path, log.recorded)
    hfov, vfov, width, height = CAMERA
    sidecar = write_sidecar(
        path,
        TelemetrySidecar(log.patrol.platform, hfov, vfov, width, height, log.uncertainty),
    )
    # The flat terrain the poses are flown over: the sidecar format allows extra members.
    content = json.loads(sidecar.read_text(encoding="utf-8"))
    content["terrain_height_m"] = terrain_height_m
    sidecar.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return sidecar


def _detection_time(time_s: float, recorded: Sequence[float]) -> str:
    """ISO time (milliseconds) of a frame at ``time_s`` that stays inside its telemetry clip.

    Rounding to the millisecond can push the time of a clip's first or last
    frame past the clip's edge, into the gap before or after it, where a
    reader refuses to interpolate (:data:`_READER_MAX_GAP_S`); there the time
    is rounded towards the clip instead.
    """
    text = iso_time(time_s)
    millis = round(time_s * 1000.0)
    index = bisect.bisect_left(recorded, time_s)
    before = recorded[index - 1] if index > 0 else -math.inf
    after = recorded[index + 1] if index + 1 < len(recorded) else math.inf
    if millis > time_s * 1000.0 and after - time_s > _READER_MAX_GAP_S:
        text = iso_time(math.floor(time_s * 1000.0) / 1000.0)
    elif millis < time_s * 1000.0 and time_s - before > _READER_MAX_GAP_S:
        text = iso_time(math.ceil(time_s * 1000.0) / 1000.0)
    return text


def _write_detections(
    path: Path,
    telemetry: Path,
    log: FlightLog,
    found: Sequence[Detection],
    terrain_height_m: float,
) -> None:
    with_frame = telemetry.suffix == ".tlog"
    recorded = sorted(p.time_s for p in log.recorded)
    rows = []
    for det in sorted(found, key=lambda d: (d.pose.time_s, d.box, d.label)):
        row: dict[str, Any] = {"time": _detection_time(det.pose.time_s, recorded)}
        if with_frame:
            row["frame"] = det.pose.frame
        row |= {"box": list(det.box), "label": det.label, "score": det.score}
        rows.append(dump_json(row))
    head = {
        "format": DETECTIONS_FORMAT,
        "sensor_id": log.patrol.platform,
        "telemetry": telemetry.name,
        "telemetry_sha256": hashlib.sha256(telemetry.read_bytes()).hexdigest(),
        "terrain_height_m": terrain_height_m,
        "class_map": dict(sorted(CLASS_MAP.items())),
    }
    body = dump_json(head)[:-1] + ',"detections":[\n' + ",\n".join(rows) + "\n]}\n"
    path.write_text(body, encoding="utf-8")


def _truth_entry(
    out_dir: Path,
    paths: Sequence[Path],
    log: FlightLog,
    kind: str,
    found: Sequence[Detection],
    in_view: dict[str, int],
    detected: dict[str, int],
) -> dict[str, Any]:
    telemetry, sidecar, detections = (str(p.relative_to(out_dir)) for p in paths)
    u = log.uncertainty
    return {
        "patrol": log.patrol.id,
        "sensor_id": log.patrol.platform,
        "telemetry": telemetry,
        "telemetry_format": kind,
        "sidecar": sidecar,
        "detections": detections,
        "start": iso_time(log.true[0].time_s),
        "end": iso_time(log.true[-1].time_s),
        "poses": len(log.true),
        "frames": sum(1 for p in log.true if p.frame is not None),
        "telemetry_gap": None if log.gap is None else [iso_time(t) for t in log.gap],
        "uncertainty": {
            "horizontal_m": u.horizontal_m,
            "vertical_m": u.vertical_m,
            "attitude_deg": u.attitude_deg,
            "gimbal_deg": u.gimbal_deg,
            "time_s": u.time_s,
        },
        "in_view": [
            {"id": truth_id, "frames": in_view[truth_id], "detected": detected.get(truth_id, 0)}
            for truth_id in sorted(in_view)
        ],
        "false_positives": sum(1 for d in found if d.truth_id is None),
    }


def write_drone_raw(
    out_dir: Path, world: World, patrols: Sequence[Patrol], rng: np.random.Generator
) -> RawDrones:
    """Fly ``patrols`` with a camera and write telemetry, sidecars and detections.

    Parameters
    ----------
    out_dir
        Scenario directory; files go to ``out_dir/drone-raw``.
    world
        The scenario.
    patrols
        The patrols flown (from :func:`truceline.simulate.drone.write_drones`),
        in take-off order.
    rng
        The raw drone channel's generator.

    Returns
    -------
    RawDrones
        Files, counts and the truth member.
    """
    folder = out_dir / RAW_DIR
    folder.mkdir(parents=True, exist_ok=True)
    terrain_height_m = round(float(rng.uniform(80.0, 250.0)), 1)
    all_targets = targets(world, rng)
    gap_patrol = next((p.id for p in patrols if p.kind == "line"), None)
    gap_s = round(float(rng.uniform(4.0, 8.0)), 1)
    files: list[Path] = []
    entries = []
    counts = dict.fromkeys(("patrols", "poses", "frames", "detections", "false_positives"), 0)
    for index, patrol in enumerate(patrols):
        log = fly_camera(
            world, patrol, rng, terrain_height_m, gap_s if patrol.id == gap_patrol else 0.0
        )
        if len(log.true) < 2:
            continue
        ext, kind = _FORMATS[index % 2]
        telemetry = folder / f"patrol-{patrol.id}.{ext}"
        sidecar = _write_telemetry(telemetry, log, terrain_height_m)
        found, seen = detect_frames(
            world, log.true, log.recorded, all_targets, terrain_height_m, rng
        )
        detections = folder / f"patrol-{patrol.id}.detections.json"
        _write_detections(detections, telemetry, log, found, terrain_height_m)
        paths = (telemetry, sidecar, detections)
        files += paths
        entries.append(_truth_entry(out_dir, paths, log, kind, found, seen.in_view, seen.detected))
        counts["patrols"] += 1
        counts["poses"] += len(log.true)
        counts["frames"] += entries[-1]["frames"]
        counts["detections"] += len(found)
        counts["false_positives"] += entries[-1]["false_positives"]
    truth = {"terrain_height_m": terrain_height_m, "camera": dict(zip(
        ("hfov_deg", "vfov_deg", "width_px", "height_px"), CAMERA, strict=True
    )), "patrols": entries}  # fmt: skip
    return RawDrones(files, {f"drone_raw_{k}": v for k, v in counts.items()}, truth)
