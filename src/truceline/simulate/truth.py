"""Ground truth of a simulated scenario and its ``truth.json`` file.

Truth granularity
-----------------
One truth event is one thing that happened at one place in one episode:

* a **launch** event per firing position per fire episode (all rounds fired
  from that position, over minutes);
* an **impact** event per aim point per episode: the rounds of one episode
  landing around one aim point (artillery within ~500 m and ~10 minutes; the
  rocket strike on a town within ~1.5 km and ~2 minutes);
* an **equipment** event per weapon group (one weapon class, one position,
  present from ``time`` to ``time_end``);
* a **military_presence** event per position in the disengagement zone;
* a **gunfire** event per live-fire exercise (its small explosions included);
* an **earthworks** event per trench line dug (from its first spadeful to the
  last, over a night);
* benign events: an **explosion** per quarry blast, a **thermal_anomaly** per
  agricultural burn and per industrial flare site (persistent), an **other**
  event per cloud-to-ground lightning stroke (its thunder; a storm's strokes
  are kilometres and minutes apart), a **surface_change** per field ploughed.

Sensor artefacts (isolated false alarms, detector false positives) are not
events; they are listed under ``false_alarms``.

``truth.json`` schema
---------------------
::

    {
      "format": "truceline-truth/1",
      "family": "default",                      # scenario family (simulate.families)
      "seed": 0, "start": "2026-11-02T00:00:00Z", "end": "2026-11-05T00:00:00Z",
      "agreement": "agreement.yaml",
      "frame": {"lon0": ..., "lat0": ...},      # metric frame distances use
      "events": [{
        "id": "fire-01-launch",
        "kind": "launch",                       # an ACTIVITY_KINDS value
        "time": "...Z", "time_end": "...Z"?,    # first and last emission / presence
        "lon": 38.1, "lat": 48.2,               # degrees, WGS 84
        "party": "east" | "west" | null,        # who did it
        "side": "west" | "east",                # side of the contact line it is on
        "distance_m": 5123.4,                   # to the contact line, metres
        "weapon_class": "artillery_ge100"?, "count": 4?,
        "violation": true, "rules": ["no-fire"],  # agreement rule ids violated
        "escalate": false,                      # true when a deep-strike rule is violated
        "benign_reason": "quarry_blast"?,       # set on benign events only
        "detail": "..."?,
        "observed": {"acoustic_picks": 31, "acoustic_stations": 9,   # what the sensors
                     "firms_pixels": 2, ...}    # recorded of it (simulate.observed);
      }, ...],                                  # {} when nothing did
      "violations": [ids], "escalations": [ids],
      "false_alarms": [{"sensor_id", "time", "lon", "lat", "kind"}],
      "sites": [{"id", "kind", "party", "lon", "lat"}], "towns": [{"name", "side", "lon", "lat"}],
      "array": {                                # infrasound array (simulate.ground_array)
        "network": "TL", "array": "ARR", "channel": "BDF", "location": "",
        "sampling_rate_hz": 50.0, "calibration_pa_per_count": 0.001,
        "start": "...Z", "end": "...Z",         # the recorded window
        "centroid": {"lon", "lat"}, "elements": [{"station", "lon", "lat", "elevation_m"}],
        "atmosphere": {"temperature_c", "wind_east_mps", "wind_north_mps"},
        "events": [{"id", "kind", "back_azimuth_deg", "range_m",   # truth events heard,
                    "first_arrival", "last_arrival",                # back azimuth and range
                    "emissions", "peak_amplitude_pa"}],             # from the centroid
        "false_triggers": [{"kind": "vehicle", "time", "back_azimuth_deg", "range_m"}
                           | {"kind": "glitch", "station", "time"}]
      }?,
      "drone": {                                # raw drone patrols (simulate.drone_raw)
        "terrain_height_m": 150.0,              # flat terrain, metres above MSL
        "camera": {"hfov_deg", "vfov_deg", "width_px", "height_px"},
        "patrols": [{"patrol", "sensor_id",
                     "telemetry", "telemetry_format",     # drone-raw/...; mavlink-tlog
                     "sidecar", "detections",             # | misb-st0601-klv
                     "start", "end", "poses", "frames",
                     "telemetry_gap": ["...Z", "...Z"] | null,
                     "uncertainty": {PoseUncertainty fields},   # of the recorded errors
                     "in_view": [{"id", "frames", "detected"}],  # truth events whose
                     "false_positives": 3}]                      # objects the camera saw
      }?,
      "satellite_stacks": {                     # SAR/optical GeoTIFF stacks
        "crs": "EPSG:32637", "transform": [...], "width_px", "height_px", "pixel_m",
        "footprint": {GeoJSON Polygon},         # (simulate.satellite_raster)
        "sar": {"polarisation", "units", "looks",
                "orbits": [{"relative_orbit", "pass", "files", "times", "pre", "post"}]},
        "optical": {"files", "times", "bands", "units", "cloudy", "cloud_mask",
                    "masked_fraction"},
        "changes": [{"id", "kind",              # crater | earthworks | burn_scar |
                     "time", "time_end",        # surface_change; when it was made
                     "lon", "lat", "area_m2", "polygon",
                     "sar_intervals": {orbit: [...]},      # bracketing acquisitions
                     "optical_interval",
                     "sar_gain_db", "dnbr"?, "party", "side", "distance_m",
                     "truth_event",             # e.g. the impact that made a crater
                     "violation", "rules", "benign_reason"?, "detail"?}]
      }?
    }

Events are sorted by time, then id. Violations are labelled from the generated
geometry with the rules of :mod:`truceline.agreement.demo` (distances in the
agreement's metric frame centred on the contact line).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from truceline.agreement.demo import (
    DEEP_STRIKE_MIN_M,
    DISENGAGEMENT_HALF_WIDTH_M,
    WITHDRAWAL_BANDS_M,
)
from truceline.model.errors import TrucelineError
from truceline.model.timeutil import format_utc
from truceline.model.vocab import ACTIVITY_KINDS, WEAPON_CLASSES
from truceline.simulate.geography import Geography
from truceline.simulate.writers import iso_time

__all__ = [
    "TRUTH_FORMAT",
    "FalseAlarm",
    "Judgement",
    "ScenarioError",
    "TruthEvent",
    "judge",
    "truth_document",
]

TRUTH_FORMAT: Final = "truceline-truth/1"

_FIRE_KINDS: Final = frozenset({"explosion", "launch", "impact", "gunfire"})
_PRESENCE_KINDS: Final = frozenset(
    {"military_presence", "equipment", "gunfire", "explosion", "launch", "impact"}
)
_STRIKE_KINDS: Final = frozenset({"explosion", "impact"})
_FORTIFICATION_KINDS: Final = frozenset({"earthworks"})


class ScenarioError(TrucelineError):
    """The generated scenario contradicts its own script (a simulator bug)."""


@dataclass(frozen=True, slots=True)
class TruthEvent:
    """One true event, positioned in the agreement's local frame.

    Attributes
    ----------
    id
        Readable unique id, e.g. ``fire-02-impact-1``.
    kind
        Activity kind (:data:`truceline.model.vocab.ACTIVITY_KINDS`).
    time, time_end
        Epoch seconds (UTC) of the first emission or appearance, and of the
        last (``None`` for instants).
    x, y
        Local metres east/north in the contact line's frame.
    party
        Who did it, or ``None`` (nature, civilian industry).
    weapon_class, count
        For launches, impacts and equipment.
    benign_reason
        Why this event is lawful; ``None`` for intended violations.
    detail
        Free text for people reading the truth file.
    """

    id: str
    kind: str
    time: float
    x: float
    y: float
    party: str | None
    weapon_class: str | None = None
    count: int | None = None
    time_end: float | None = None
    benign_reason: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTIVITY_KINDS:
            raise ScenarioError(f"truth event {self.id}: unknown kind {self.kind!r}")
        if self.weapon_class is not None and self.weapon_class not in WEAPON_CLASSES:
            raise ScenarioError(f"truth event {self.id}: unknown weapon {self.weapon_class!r}")


@dataclass(frozen=True, slots=True)
class FalseAlarm:
    """A sensor artefact with no physical source (for scoring, not an event)."""

    sensor_id: str
    time: float
    x: float
    y: float
    kind: str


@dataclass(frozen=True, slots=True)
class Judgement:
    """An event's place relative to the agreement and the rules it violates."""

    side: str
    distance_m: float
    rules: tuple[str, ...]

    @property
    def escalate(self) -> bool:
        """Whether the event triggers the attack escalation (a deep strike)."""
        return "deep-strike" in self.rules


def judge(
    geo: Geography, kind: str, x: float, y: float, weapon_class: str | None = None
) -> Judgement:
    """Rules of the demo agreement violated by an event at local ``(x, y)``.

    Mirrors :func:`truceline.agreement.demo.demo_agreement_dict`: no-fire
    (declared blasting sites exempt), disengagement (1 km either side), no new
    earthworks in the disengagement zone (``no-fortification``), the
    withdrawal bands on each side (that side's storage sites exempt) and the
    deep-strike rule (beyond 20 km, declared sites exempt). Rules are returned
    in the agreement's order.
    """
    distance = float(geo.line.distance_m(x, y))
    side = geo.line.side(x, y)
    declared = geo.site_at(x, y, ("quarry",)) is not None
    rules: list[str] = []
    if kind in _FIRE_KINDS and not declared:
        rules.append("no-fire")
    if kind in _PRESENCE_KINDS and distance < DISENGAGEMENT_HALF_WIDTH_M:
        rules.append("disengagement")
    if kind in _FORTIFICATION_KINDS and distance < DISENGAGEMENT_HALF_WIDTH_M:
        rules.append("no-fortification")
    if kind == "equipment" and weapon_class is not None:
        storage = geo.site_at(x, y, ("storage",))
        stored = storage is not None and storage.party == side
        for depth_m, classes in WITHDRAWAL_BANDS_M:
            if weapon_class in classes and distance < depth_m and not stored:
                rules.append(f"{side}-withdrawal-{depth_m // 1000}km")
    if kind in _STRIKE_KINDS and distance >= DEEP_STRIKE_MIN_M and not declared:
        rules.append("deep-strike")
    return Judgement(side, distance, tuple(rules))


def _event_record(
    geo: Geography, event: TruthEvent, observed: Mapping[str, int] | None
) -> dict[str, Any]:
    verdict = judge(geo, event.kind, event.x, event.y, event.weapon_class)
    if event.benign_reason is not None and verdict.rules:
        raise ScenarioError(f"benign truth event {event.id} violates {verdict.rules}")
    if event.benign_reason is None and not verdict.rules:
        raise ScenarioError(f"truth event {event.id} was meant to violate but breaks no rule")
    lon, lat = geo.to_geo(event.x, event.y)
    record: dict[str, Any] = {
        "id": event.id,
        "kind": event.kind,
        "time": iso_time(event.time),
    }
    if event.time_end is not None:
        record["time_end"] = iso_time(event.time_end)
    record |= {
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "party": event.party,
        "side": verdict.side,
        "distance_m": round(verdict.distance_m, 1),
    }
    if event.weapon_class is not None:
        record["weapon_class"] = event.weapon_class
    if event.count is not None:
        record["count"] = event.count
    record |= {
        "violation": bool(verdict.rules),
        "rules": list(verdict.rules),
        "escalate": verdict.escalate,
    }
    if event.benign_reason is not None:
        record["benign_reason"] = event.benign_reason
    if event.detail is not None:
        record["detail"] = event.detail
    if observed is not None:
        record["observed"] = dict(observed)
    return record


def truth_document(
    geo: Geography,
    events: Sequence[TruthEvent],
    false_alarms: Sequence[FalseAlarm],
    *,
    seed: int,
    start: datetime,
    end: datetime,
    family: str = "default",
    agreement: str = "agreement.yaml",
    array: Mapping[str, Any] | None = None,
    drone: Mapping[str, Any] | None = None,
    satellite_stacks: Mapping[str, Any] | None = None,
    observed: Mapping[str, Mapping[str, int]] | None = None,
) -> dict[str, Any]:
    """The content of ``truth.json`` (see the module docstring for the schema).

    ``array``, when given, is written as the ``array`` member (the infrasound
    array's layout, window and what it heard); ``drone`` as the ``drone``
    member (the raw drone patrols' files and what their cameras saw);
    ``satellite_stacks`` as the ``satellite_stacks`` member (the SAR and
    optical image stacks and the changes injected into them). ``observed``
    maps truth ids to what the sensors recorded of them
    (:func:`truceline.simulate.observed.observed_counts`); when given, every
    event gets an ``observed`` member (``{}`` for events no sensor recorded).

    Raises
    ------
    ScenarioError
        If ids repeat, a benign event violates a rule, an intended violation
        violates none, or ``observed`` names an unknown event.
    """
    ordered = sorted(events, key=lambda e: (e.time, e.id))
    ids = [e.id for e in ordered]
    if len(set(ids)) != len(ids):
        raise ScenarioError("duplicate truth event ids")
    if observed is not None and not set(observed) <= set(ids):
        unknown = sorted(set(observed) - set(ids))
        raise ScenarioError(f"observations of unknown truth events: {unknown[:5]}")
    records = [
        _event_record(geo, e, None if observed is None else observed.get(e.id, {})) for e in ordered
    ]
    alarms = []
    for alarm in sorted(false_alarms, key=lambda a: (a.time, a.sensor_id)):
        lon, lat = geo.to_geo(alarm.x, alarm.y)
        alarms.append(
            {
                "sensor_id": alarm.sensor_id,
                "time": iso_time(alarm.time),
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "kind": alarm.kind,
            }
        )
    sites = []
    for site in (*geo.quarries, *geo.flares, *geo.storage):
        lon, lat = geo.to_geo(site.x, site.y)
        sites.append(
            {
                "id": site.id,
                "kind": site.kind,
                "party": site.party,
                "lon": round(lon, 6),
                "lat": round(lat, 6),
            }
        )
    towns = []
    for town in geo.towns:
        lon, lat = geo.to_geo(town.x, town.y)
        towns.append(
            {"name": town.name, "side": town.side, "lon": round(lon, 6), "lat": round(lat, 6)}
        )
    document: dict[str, Any] = {
        "format": TRUTH_FORMAT,
        "family": family,
        "seed": seed,
        "start": format_utc(start),
        "end": format_utc(end),
        "agreement": agreement,
        "frame": {"lon0": geo.frame.lon0, "lat0": geo.frame.lat0},
        "events": records,
        "violations": [r["id"] for r in records if r["violation"]],
        "escalations": [r["id"] for r in records if r["escalate"]],
        "false_alarms": alarms,
        "sites": sites,
        "towns": towns,
    }
    if array is not None:
        document["array"] = dict(array)
    if drone is not None:
        document["drone"] = dict(drone)
    if satellite_stacks is not None:
        document["satellite_stacks"] = dict(satellite_stacks)
    return document
