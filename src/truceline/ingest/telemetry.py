"""Drone telemetry (format ``drone-telemetry``): the drone camera and what each pass saw.

Reads MAVLink ``.tlog`` logs (:func:`truceline.drone.mavlink.read_tlog`),
ArduPilot dataflash ``.bin`` logs (:func:`truceline.drone.dataflash.read_dataflash`) and
MISB ST 0601 ``.klv`` streams (:func:`truceline.drone.klv.read_klv`), each with
its JSON sidecar ``NAME.EXT.json`` (:mod:`truceline.drone.sidecar`), and yields

* one :class:`~truceline.model.Sensor`: the drone camera, id from the sidecar,
  modality ``drone``, timing sigma ``uncertainty.time_s``, and the sidecar's
  optional ``owner`` and ``reliability`` (default :data:`DEFAULT_RELIABILITY`:
  the probability that the platform's report is not an artefact of the platform
  itself — a wrong frame time, a mis-registered image; a *detector's* false
  positives are already carried by each detection's score, which fusion pools
  as the probability of the class, so they must not be counted twice here);
* the :class:`~truceline.model.Coverage` of each pass
  (:func:`truceline.coverage.drone.drone_coverage`): footprints unioned per pass,
  with the detection probability of a heavy weapon at the pass's worst GSD.

**Terrain.** The ground is taken as flat at the sidecar's optional
``terrain_height_m`` (metres above mean sea level, the datum of the telemetry's
altitudes). Without it the ground is at 0 m and a :class:`TerrainWarning` says
so: over inland terrain that under-states the camera's height above the ground
and so the footprint size — a DEM is the remedy (see
:class:`truceline.drone.terrain.Terrain`).

**Probe.** The file must have its sidecar and: ``.tlog`` — a MAVLink v1 (``FE``)
or v2 (``FD``) start byte after the first 8-byte timestamp; ``.klv`` — the
16-byte UAS Datalink Local Set key; ``.bin`` — the ArduPilot dataflash header
``A3 95``, read by :func:`truceline.drone.dataflash.read_dataflash`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

from truceline.coverage.drone import drone_coverage
from truceline.drone.base import Telemetry
from truceline.drone.dataflash import read_dataflash
from truceline.drone.klv import read_klv
from truceline.drone.mavlink import read_tlog
from truceline.drone.sidecar import TelemetrySidecar, read_sidecar, sidecar_path
from truceline.drone.terrain import Terrain
from truceline.ingest.base import IngestAdapter, Record
from truceline.model.errors import RecordError
from truceline.model.sensor import Sensor

__all__ = [
    "DEFAULT_RELIABILITY",
    "UAS_LS_KEY",
    "DroneTelemetryAdapter",
    "DroneTelemetryInfo",
    "TerrainWarning",
    "flat_terrain",
    "load_telemetry",
    "read_drone_info",
    "telemetry_kind",
]

#: Prior probability that a drone report is not a platform artefact (sidecar may override).
DEFAULT_RELIABILITY: Final = 0.9
#: Universal key of the MISB ST 0601 UAS Datalink Local Set.
UAS_LS_KEY: Final = bytes.fromhex("060E2B34020B01010E01030101000000")
_MAVLINK_MAGIC: Final = (0xFE, 0xFD)
_DATAFLASH_HEAD: Final = b"\xa3\x95"


class TerrainWarning(UserWarning):
    """The terrain height was not given, so the ground was assumed at sea level."""


def telemetry_kind(path: Path, head: bytes) -> str | None:
    """``"tlog"``, ``"klv"`` or ``"bin"`` when the name and first bytes say so, else None."""
    suffix = path.suffix.lower()
    if suffix == ".tlog" and len(head) > 8 and head[8] in _MAVLINK_MAGIC:
        return "tlog"
    if suffix == ".klv" and head.startswith(UAS_LS_KEY):
        return "klv"
    if suffix == ".bin" and head.startswith(_DATAFLASH_HEAD):
        return "bin"
    return None


def load_telemetry(path: Path) -> Telemetry:
    """The camera poses of a ``.tlog``, ``.bin`` or ``.klv`` file (with its sidecar).

    Raises
    ------
    truceline.model.RecordError
        Unknown kind, empty or unreadable file, bad sidecar.
    """
    file = str(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError as exc:
        raise RecordError(f"cannot read the telemetry: {exc.strerror}", file=file) from None
    if not head:
        raise RecordError("empty telemetry file", file=file)
    suffix = path.suffix.lower()
    if suffix == ".tlog":
        return read_tlog(path)
    if suffix == ".klv":
        return read_klv(path)
    if suffix == ".bin":
        return read_dataflash(path)
    raise RecordError(
        f"unknown telemetry kind {path.suffix!r}; expected .tlog, .bin or .klv", file=file
    )


@dataclass(frozen=True, slots=True)
class DroneTelemetryInfo:
    """What the sidecar says beyond the camera: who flies it, how far to trust it.

    Attributes
    ----------
    sidecar
        The parsed sidecar.
    sensor
        The drone camera as a sensor record.
    terrain_height_m
        Flat ground height, metres above mean sea level, or ``None`` when not given.
    """

    sidecar: TelemetrySidecar
    sensor: Sensor
    terrain_height_m: float | None


def _optional_number(data: dict[str, Any], key: str, file: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RecordError(f"expected a finite number, got {value!r}", file=file, field=key)
    return float(value)


def read_drone_info(path: Path) -> DroneTelemetryInfo:
    """Sidecar, sensor record and terrain height of telemetry file ``path``.

    Raises
    ------
    truceline.model.RecordError
        Missing or bad sidecar, naming the sidecar file and the field.
    """
    sidecar = read_sidecar(path)
    side = sidecar_path(path)
    file = str(side)
    data = json.loads(side.read_text(encoding="utf-8"))
    reliability = _optional_number(data, "reliability", file)
    owner = data.get("owner", "unknown")
    if not isinstance(owner, str) or not owner:
        raise RecordError("expected a non-empty string", file=file, field="owner")
    try:
        sensor = Sensor(
            id=sidecar.sensor_id,
            modality="drone",
            owner=owner,
            timing_sigma_s=sidecar.uncertainty.time_s,
            reliability=DEFAULT_RELIABILITY if reliability is None else reliability,
        )
    except RecordError as exc:
        raise RecordError(exc.message, file=file, field=exc.field) from None
    return DroneTelemetryInfo(sidecar, sensor, _optional_number(data, "terrain_height_m", file))


def flat_terrain(height_m: float | None, where: str) -> Terrain:
    """Flat ground at ``height_m`` (m above MSL), or at 0 m with a :class:`TerrainWarning`."""
    if height_m is None:
        warnings.warn(
            f"{where}: no terrain_height_m given; the ground is taken as flat at 0 m above "
            "mean sea level, which over-states the camera's height above higher ground",
            TerrainWarning,
            stacklevel=3,
        )
        return Terrain.flat(0.0)
    return Terrain.flat(height_m)


class DroneTelemetryAdapter(IngestAdapter):
    """Reader of drone telemetry (``.tlog``, dataflash ``.bin``, ``.klv``) with sidecar."""

    name: ClassVar[str] = "drone-telemetry"
    description: ClassVar[str] = (
        "drone telemetry (.tlog MAVLink, .bin ArduPilot dataflash, .klv MISB ST 0601) with its "
        "NAME.EXT.json sidecar "
        "-> the drone camera and per-pass coverage"
    )

    @classmethod
    def can_read(cls, path: Path, head: bytes) -> bool:
        """Whether the file is telemetry of a known kind and its sidecar exists."""
        return telemetry_kind(path, head) is not None and sidecar_path(path).is_file()

    def read(self, path: Path) -> Iterator[Record]:
        """Yield the drone camera's :class:`Sensor`, then one :class:`Coverage` per pass.

        Raises
        ------
        truceline.model.RecordError
            Unreadable telemetry or a bad sidecar (naming the sidecar and field).
        """
        file = str(path)
        try:
            telemetry = load_telemetry(path)
            info = read_drone_info(path)
        except RecordError as exc:
            raise exc.located(file=file) from None
        terrain = flat_terrain(info.terrain_height_m, file)
        yield info.sensor
        yield from drone_coverage(telemetry, terrain, info.sensor.id)
