"""Drone detections (format ``drone-detections``): detector boxes to geolocated sightings.

Reads ``*.detections.json`` files marked ``"format": "truceline-drone-detections/1"``
(``docs/drone-formats.md``). For each file:

1. **Telemetry.** ``telemetry`` names the ``.tlog`` or ``.klv`` file, relative to
   the JSON file; when ``telemetry_sha256`` is given the file's SHA-256 must
   match it (a mismatch is refused naming that field), so detections are never
   geolocated with other telemetry than the detector's. ``sensor_id``, when
   given, must be the telemetry sidecar's.
2. **Time.** A detection's ``time`` (ISO 8601 UTC) or else its ``frame``, looked
   up in the ``.tlog``'s camera-trigger messages
   (:func:`truceline.drone.mavlink.read_camera_frames`; KLV has no frame
   numbers; a time that is exactly a triggered frame's takes its number). The
   pose at that time is interpolated by
   :meth:`~truceline.drone.base.Telemetry.at`; a time outside the telemetry or in
   one of its gaps is refused naming ``detections[i]`` and ``time`` (or ``frame``).
3. **Position.** The box's bottom-centre pixel ``((x_min + x_max) / 2, y_max)`` is
   geolocated on flat ground at ``terrain_height_m`` (the file's, else the
   sidecar's, else 0 m with a warning; metres above mean sea level): it is where
   the object meets the ground, which is what the flat-terrain ray hits — the box
   centre is the object's middle *above* the ground and, in an oblique view,
   would be placed beyond the object by its height over the tangent of the
   depression angle. The pixel sigma is a quarter of the box's larger side (at
   least 1 px): at nadir the bottom edge lies up to half the box from the
   object's centre, and box edges of detectors wander by ~10 % of the box size.
   The platform velocity (from the telemetry) carries the time-stamp error into
   the covariance.
4. **Class.** ``label`` through the class map (:mod:`truceline.drone.classmap`;
   the file's ``class_map`` overrides the defaults); an unmapped label is refused
   by name, a label mapped to ``ignore`` is dropped.
5. **Sightings.** Detections are de-duplicated per pass
   (:func:`truceline.drone.passes.deduplicate`) and each sighting becomes one
   :class:`~truceline.model.Observation`: modality ``drone``, the class map's kind,
   time of the first frame with the pose's time sigma, the fused position and
   covariance, and attributes ``count``, ``confidence``, ``n_frames``, ``frames``,
   ``detections``, ``duration_s``, ``weapon_class`` (+ ``weapon_class_scores``) for
   equipment, ``telemetry`` (the name as written) and ``telemetry_sha256``. Its
   ``raw_sha256`` hashes the canonical JSON of its member detections.

The drone camera's :class:`~truceline.model.Sensor` (the same record the
``drone-telemetry`` adapter yields) comes first.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

from truceline.drone.base import Telemetry, TelemetryGapError
from truceline.drone.camera import geolocate
from truceline.drone.classmap import ClassMap
from truceline.drone.mavlink import read_camera_frames
from truceline.drone.passes import LocatedDetection, Sighting, deduplicate, split_passes
from truceline.drone.terrain import Terrain
from truceline.ingest._values import json_number, utc_time
from truceline.ingest.base import IngestAdapter, Record
from truceline.ingest.telemetry import (
    DroneTelemetryInfo,
    flat_terrain,
    load_telemetry,
    read_drone_info,
)
from truceline.model.errors import RecordError
from truceline.model.geo import WGS84_GEOD
from truceline.model.ids import canonical_json, sha256_hex
from truceline.model.location import PointLocation
from truceline.model.observation import Observation
from truceline.model.timeutil import from_epoch, to_epoch

__all__ = [
    "FORMAT",
    "MIN_PIXEL_SIGMA_PX",
    "PIXEL_SIGMA_FRACTION",
    "DroneDetectionsAdapter",
    "box_pixel",
]

#: The value of the file's ``format`` key.
FORMAT: Final = "truceline-drone-detections/1"
#: Pixel sigma of the ground-contact point as a fraction of the box's larger side.
PIXEL_SIGMA_FRACTION: Final = 0.25
#: Smallest pixel sigma, pixels.
MIN_PIXEL_SIGMA_PX: Final = 1.0
_TOP_KEYS: Final = frozenset(
    {"format", "sensor_id", "telemetry", "telemetry_sha256", "terrain_height_m"}
    | {"class_map", "detections"}
)
_DETECTION_KEYS: Final = frozenset({"time", "frame", "box", "label", "score"})
_VELOCITY_HALF_WINDOW_S: Final = 0.5


def box_pixel(box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """Ground-contact pixel ``(u, v)`` of a box and its sigma, pixels (module notes, 3)."""
    x_min, y_min, x_max, y_max = box
    sigma = max(MIN_PIXEL_SIGMA_PX, PIXEL_SIGMA_FRACTION * max(x_max - x_min, y_max - y_min))
    return (x_min + x_max) / 2.0, y_max, sigma


@dataclass(frozen=True)
class _Source:
    """The telemetry behind a detections file."""

    path: Path
    name: str
    sha256: str
    telemetry: Telemetry
    info: DroneTelemetryInfo


class DroneDetectionsAdapter(IngestAdapter):
    """Reader of ``truceline-drone-detections/1`` JSON files."""

    name: ClassVar[str] = "drone-detections"
    description: ClassVar[str] = (
        "drone detector boxes (*.detections.json) -> geolocated sightings, one per object and pass"
    )

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether the file is a JSON object carrying this format's marker."""
        return (
            path.suffix.lower() == ".json"
            and head.lstrip().startswith(b"{")
            and f'"{FORMAT}"'.encode() in head
        )

    def read(self, path: Path) -> Iterator[Record]:
        """Yield the drone camera's :class:`Sensor`, then one :class:`Observation` per sighting.

        Raises
        ------
        truceline.model.RecordError
            Naming the file, the record (``detections[i]``) and the field.
        """
        file = str(path)
        try:
            yield from self._read(path)
        except RecordError as exc:
            raise exc.located(file=file) from None

    def _read(self, path: Path) -> Iterator[Record]:
        document = _load(path)
        source = _source(document, path)
        sensor = source.info.sensor
        sensor_id = document.get("sensor_id")
        if sensor_id is not None and sensor_id != sensor.id:
            raise RecordError(
                f"{sensor_id!r} differs from the telemetry sidecar's {sensor.id!r}",
                field="sensor_id",
            )
        height = document.get("terrain_height_m")
        if height is not None:
            height = json_number(height, "terrain_height_m")
        else:
            height = source.info.terrain_height_m
        terrain = flat_terrain(height, str(path))
        class_map_raw = document.get("class_map") or {}
        if not isinstance(class_map_raw, Mapping):
            raise RecordError("must be an object of label -> target", field="class_map")
        class_map = ClassMap(class_map_raw)
        raw = document.get("detections")
        if not isinstance(raw, list):
            raise RecordError("missing or not a list", field="detections")
        located: list[LocatedDetection] = []
        frames: dict[int, float] | None = None
        for index, item in enumerate(raw):
            record = f"detections[{index}]"
            try:
                if frames is None and isinstance(item, dict) and "time" not in item:
                    frames = _frames(source)
                found = _locate(index, item, source.telemetry, terrain, class_map, frames)
            except RecordError as exc:
                raise exc.located(record=record) from None
            if found is not None:
                located.append(found)
        yield sensor
        sightings = deduplicate(located, split_passes(source.telemetry))
        for sighting in sightings:
            yield _observation(sighting, raw, source, sensor.id)


def _load(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    if not data.strip():
        raise RecordError("empty file")
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise RecordError(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise RecordError("expected a JSON object")
    if document.get("format") != FORMAT:
        raise RecordError(f"expected {FORMAT!r}", field="format")
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise RecordError("unknown key", field=unknown[0])
    return document


def _source(document: Mapping[str, Any], path: Path) -> _Source:
    name = document.get("telemetry")
    if not isinstance(name, str) or not name:
        raise RecordError("missing: the telemetry file the detections refer to", field="telemetry")
    telemetry_path = path.parent / name
    if not telemetry_path.is_file():
        raise RecordError(f"no telemetry file {telemetry_path}", field="telemetry")
    digest = hashlib.sha256(telemetry_path.read_bytes()).hexdigest()
    expected = document.get("telemetry_sha256")
    if expected is not None and (not isinstance(expected, str) or expected.lower() != digest):
        raise RecordError(
            f"{name} has SHA-256 {digest}, not {expected!r}: the detections were made "
            "with other telemetry",
            field="telemetry_sha256",
        )
    try:
        telemetry = load_telemetry(telemetry_path)
        info = read_drone_info(telemetry_path)
    except RecordError as exc:
        raise RecordError(f"telemetry unusable: {exc}", field="telemetry") from None
    return _Source(telemetry_path, name, digest, telemetry, info)


def _frames(source: _Source) -> dict[int, float]:
    if source.path.suffix.lower() != ".tlog":
        raise RecordError(
            "a frame number needs a MAVLink .tlog with camera triggers; give the time",
            field="frame",
        )
    try:
        return read_camera_frames(source.path)
    except RecordError as exc:
        raise RecordError(f"camera frames unreadable: {exc}", field="frame") from None


def _box(value: Any, width: int, height: int) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise RecordError("expected [x_min, y_min, x_max, y_max] in pixels", field="box")
    x_min, y_min, x_max, y_max = (json_number(v, "box") for v in value)
    if not (x_min < x_max and y_min < y_max):
        raise RecordError("a box needs x_min < x_max and y_min < y_max", field="box")
    if x_min < 0 or y_min < 0 or x_max > width or y_max > height:
        raise RecordError(f"box {value} is outside the {width}x{height} image", field="box")
    return x_min, y_min, x_max, y_max


def _time(
    item: Mapping[str, Any], frames: dict[int, float] | None
) -> tuple[float, int | None, str]:
    """Detection time (epoch s), frame number, and the field it came from."""
    frame = item.get("frame")
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int)):
        raise RecordError(f"expected an integer frame number, got {frame!r}", field="frame")
    if "time" in item:
        return to_epoch(utc_time(item["time"], "time")), frame, "time"
    if frame is None:
        raise RecordError("a detection needs a time or a frame number", field="time")
    if frames is None or frame not in frames:
        raise RecordError(f"frame {frame} has no camera trigger in the telemetry", field="frame")
    return frames[frame], frame, "frame"


def _velocity(telemetry: Telemetry, time_s: float) -> tuple[float, float, float] | None:
    """Platform velocity east/north/up (m/s) around ``time_s``, or None near a gap."""
    try:
        a = telemetry.at(max(telemetry.start_s, time_s - _VELOCITY_HALF_WINDOW_S))
        b = telemetry.at(min(telemetry.end_s, time_s + _VELOCITY_HALF_WINDOW_S))
    except TelemetryGapError:
        return None
    dt = b.time_s - a.time_s
    if dt <= 0.0:
        return None
    azimuth, _, distance = WGS84_GEOD.inv(a.lon, a.lat, b.lon, b.lat)
    speed = distance / dt
    east = speed * math.sin(math.radians(azimuth))
    north = speed * math.cos(math.radians(azimuth))
    return east, north, (b.alt_m - a.alt_m) / dt


def _locate(
    index: int,
    item: Any,
    telemetry: Telemetry,
    terrain: Terrain,
    class_map: ClassMap,
    frames: dict[int, float] | None,
) -> LocatedDetection | None:
    """Geolocate one detection (None when its label is ignored)."""
    if not isinstance(item, dict):
        raise RecordError("expected an object")
    unknown = sorted(set(item) - _DETECTION_KEYS)
    if unknown:
        raise RecordError("unknown key", field=unknown[0])
    label = item.get("label")
    if not isinstance(label, str) or not label.strip():
        raise RecordError("missing or not a string", field="label")
    target = class_map.lookup(label)
    score = json_number(item.get("score"), "score")
    if not 0.0 <= score <= 1.0:
        raise RecordError(f"score {score} is outside [0, 1]", field="score")
    time_s, frame, time_field = _time(item, frames)
    try:
        pose = telemetry.at(time_s)
    except TelemetryGapError as exc:
        raise RecordError(exc.message, field=time_field) from None
    u, v, sigma_px = box_pixel(_box(item.get("box"), pose.width_px, pose.height_px))
    if target is None:
        return None
    try:
        point = geolocate(
            pose, u, v, terrain, sigma_px, velocity_enu_mps=_velocity(telemetry, time_s)
        )
    except RecordError as exc:
        raise RecordError(f"cannot geolocate the box: {exc.message}", field="box") from None
    return LocatedDetection(
        index=index,
        time_s=time_s,
        frame=frame if frame is not None else pose.frame,  # a time that is a trigger's
        target=target,
        score=score,
        lon=point.lon,
        lat=point.lat,
        cov_ee=point.cov_ee,
        cov_en=point.cov_en,
        cov_nn=point.cov_nn,
    )


def _observation(
    sighting: Sighting, raw: list[Any], source: _Source, sensor_id: str
) -> Observation:
    attributes = sighting.attributes()
    attributes["telemetry"] = source.name
    attributes["telemetry_sha256"] = source.sha256
    members = [raw[m.index] for m in sorted(sighting.members, key=lambda m: m.index)]
    sigma_s = source.telemetry.poses[0].uncertainty.time_s
    return Observation(
        sensor_id=sensor_id,
        modality="drone",
        kind=sighting.target.kind,
        time=from_epoch(round(sighting.time_s, 6)),
        time_sigma_s=sigma_s,
        location=PointLocation(
            sighting.lon, sighting.lat, sighting.cov_ee, sighting.cov_en, sighting.cov_nn
        ),
        attributes=attributes,
        raw_sha256=sha256_hex(canonical_json(members)),
    )
