"""The JSON sidecar beside a telemetry file: camera intrinsics, uncertainty, sensor id.

Neither MAVLink nor every KLV stream carries the image size or the pose
uncertainty, so a telemetry file ``NAME.tlog`` (or ``.bin``, ``.klv``) may have a
sidecar ``NAME.tlog.json``::

    {"sensor_id": "drone:UAV-3",
     "camera": {"hfov_deg": 40.0, "vfov_deg": 30.0, "width_px": 1920, "height_px": 1440},
     "uncertainty": {"horizontal_m": 3.0, "vertical_m": 5.0, "attitude_deg": 0.5,
                     "gimbal_deg": 0.3, "time_s": 0.02}}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from truceline.drone.base import PoseUncertainty
from truceline.model.errors import RecordError

__all__ = ["TelemetrySidecar", "read_sidecar", "sidecar_path", "write_sidecar"]


@dataclass(frozen=True, slots=True)
class TelemetrySidecar:
    """What a telemetry sidecar says.

    Attributes
    ----------
    sensor_id
        Id of the drone camera (``drone:...``).
    hfov_deg, vfov_deg
        Full fields of view, degrees (used when the telemetry has none).
    width_px, height_px
        Image size, pixels.
    uncertainty
        One-sigma pose errors.
    """

    sensor_id: str
    hfov_deg: float
    vfov_deg: float
    width_px: int
    height_px: int
    uncertainty: PoseUncertainty = field(default_factory=PoseUncertainty)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the sidecar file's content)."""
        return {
            "sensor_id": self.sensor_id,
            "camera": {
                "hfov_deg": self.hfov_deg,
                "vfov_deg": self.vfov_deg,
                "width_px": self.width_px,
                "height_px": self.height_px,
            },
            "uncertainty": asdict(self.uncertainty),
        }


def sidecar_path(path: Path) -> Path:
    """``NAME.EXT.json`` beside ``NAME.EXT``."""
    return path.with_name(path.name + ".json")


def _number(value: Any, file: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"expected a number, got {value!r}", file=file, field=field)
    return float(value)


def read_sidecar(path: Path) -> TelemetrySidecar:
    """Read the sidecar of telemetry file ``path``.

    Raises
    ------
    truceline.model.RecordError
        Missing sidecar, bad JSON or a bad field (named).
    """
    side = sidecar_path(path)
    file = str(side)
    if not side.is_file():
        raise RecordError(
            f"no sidecar {side.name} beside {path.name}: it must give the camera's fields of "
            "view and image size (see docs/drone-formats.md)",
            file=file,
        )
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RecordError(f"not valid JSON: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise RecordError("expected a JSON object", file=file)
    camera = data.get("camera")
    if not isinstance(camera, dict):
        raise RecordError("missing or not an object", file=file, field="camera")
    sensor_id = data.get("sensor_id")
    if not isinstance(sensor_id, str) or not sensor_id:
        raise RecordError("missing", file=file, field="sensor_id")
    raw_unc = data.get("uncertainty") or {}
    if not isinstance(raw_unc, dict):
        raise RecordError("must be an object", file=file, field="uncertainty")
    known = {f.name for f in fields(PoseUncertainty)}
    unknown = sorted(set(raw_unc) - known)
    if unknown:
        raise RecordError("unknown key", file=file, field=f"uncertainty.{unknown[0]}")
    uncertainty = PoseUncertainty(
        **{k: _number(v, file, f"uncertainty.{k}") for k, v in raw_unc.items()}
    )
    width = _number(camera.get("width_px"), file, "camera.width_px")
    height = _number(camera.get("height_px"), file, "camera.height_px")
    return TelemetrySidecar(
        sensor_id=sensor_id,
        hfov_deg=_number(camera.get("hfov_deg"), file, "camera.hfov_deg"),
        vfov_deg=_number(camera.get("vfov_deg"), file, "camera.vfov_deg"),
        width_px=int(width),
        height_px=int(height),
        uncertainty=uncertainty,
    )


def write_sidecar(path: Path, sidecar: TelemetrySidecar) -> Path:
    """Write the sidecar of telemetry file ``path``; returns its path."""
    side = sidecar_path(path)
    side.write_text(json.dumps(sidecar.to_dict(), indent=2, sort_keys=True) + "\n", "utf-8")
    return side
