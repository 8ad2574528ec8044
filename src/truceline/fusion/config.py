"""Fusion configuration: every tunable parameter, declared once.

The configuration is part of a run's provenance: its canonical form is written
to the evidence log with the run, and its digest is printed with the findings,
so a sceptical party can re-run the same fusion on the same log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from truceline.model.ids import content_id

__all__ = ["FusionConfig"]


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
        the same gun) closer than this, metres, within the episode window are one
        source.
    thermal_delay_max_s
        A thermal anomaly may corroborate an explosion seen up to this long
        before it (a fire started by shelling shows at the next overpass), seconds.
    thermal_cluster_window_s
        Thermal anomalies closer than the gate within this time form one event, seconds.
    equipment_motion_sigma_m
        Allowed drift of a parked weapon between sightings, metres.
    default_reliability
        Reliability of a sensor with no description in the log.
    """

    sound_speed_mps: float = 337.4
    sound_speed_sigma_mps: float = 6.0
    acoustic_max_range_m: float = 30_000.0
    acoustic_min_stations: int = 3
    acoustic_position_floor_m: float = 50.0
    gate_sigmas: float = 3.0
    episode_distance_m: float = 1_500.0
    episode_window_s: float = 900.0
    colocated_distance_m: float = 700.0
    salvo_window_s: float = 120.0
    thermal_delay_max_s: float = 43_200.0
    thermal_cluster_window_s: float = 86_400.0
    equipment_motion_sigma_m: float = 50.0
    default_reliability: float = 0.6

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

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
        }
        return cls(**values)
