"""The built-in ceasefire scenarios: entry point of the simulator.

:func:`simulate_scenario` draws a synthetic front (see
:mod:`truceline.simulate.geography`), scripts what happens over a few days
according to a scenario family (:mod:`~truceline.simulate.families`: the
``default`` script of :mod:`~truceline.simulate.hostile`, ``dense-shelling``,
``quiet-week``; the benign background of :mod:`~truceline.simulate.background`),
lets three sensor channels observe it and writes everything in field formats::

    OUT/
      agreement.yaml, contact-line.geojson   the demo agreement (truceline.agreement.demo)
      truth.json                             ground truth (schema: truceline.simulate.truth)
      firms/VIIRS_<SAT>_NRT_<date>T<HHMM>.csv        FIRMS API CSV, one per overpass
      satellite/clear-sky-<same stem>.geojson         cloud-free area of each overpass
      ground/acoustic-<date>.geojson                  acoustic sensors, coverage, detections
      ground-edge/stations.csv, detections-<date>.csv the same network in the detections CSV
                                                      and station CSV of docs/ground-formats.md
      ground-array/TL.ARR0<n>..BDF.mseed, stations.xml  an infrasound array's raw waveforms
                                                      (a few hours around a shelling episode)
      drone/patrol-<date>-<id>.geojson                drone coverage corridors, detections
      drone-raw/patrol-<date>-<id>.tlog|.klv (+ .json sidecar), .detections.json
                                                      the same patrols as MAVLink / MISB KLV
                                                      telemetry and frame detections
      satellite-stacks/sar/S1A_IW_GRDH_VV_<time>_R<orbit>.tif   Sentinel-1-like SAR stacks
      satellite-stacks/optical/S2B_MSIL2A_<time>.tif  (two orbits) and a Sentinel-2-like
                                                      optical pair (+ cloud mask) of a 5 km
                                                      square with craters, a trench, a burn
                                                      scar and a ploughed field

The output is a pure function of ``(family, seed, days, start)``: every channel draws
from its own generator seeded with ``(seed, channel)``, nothing reads the
clock, and files are written in a fixed order and layout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from truceline.agreement.demo import DEMO_EFFECTIVE_FROM, write_demo_agreement
from truceline.simulate.background import add_background
from truceline.simulate.drone import write_drones
from truceline.simulate.drone_raw import write_drone_raw
from truceline.simulate.families import DEFAULT_FAMILY, get_family
from truceline.simulate.geography import LEFT_PARTY, RIGHT_PARTY, Geography, build_geography
from truceline.simulate.ground import write_ground
from truceline.simulate.ground_array import write_array
from truceline.simulate.observed import observed_counts
from truceline.simulate.satellite import write_satellite
from truceline.simulate.satellite_raster import STACK_DIR, plan_stacks, write_stacks
from truceline.simulate.truth import TRUTH_FORMAT, truth_document
from truceline.simulate.world import World, child_rng

__all__ = ["DEFAULT_START", "MAX_DAYS", "ScenarioSummary", "simulate_scenario"]

#: Default start of the simulated window (UTC), a day into the demo ceasefire.
DEFAULT_START: Final = datetime(2026, 11, 2, tzinfo=UTC)
#: Longest scenario the simulator writes, days.
MAX_DAYS: Final = 31

#: Files a previous run may have left, removed before writing a new scenario.
_OWN_FILES: Final = (
    ("firms", "VIIRS_*_NRT_*.csv"),
    ("satellite", "clear-sky-*.geojson"),
    ("ground", "acoustic-*.geojson"),
    ("ground-edge", "*.csv"),
    ("ground-array", "*.mseed"),
    ("ground-array", "stations.xml"),
    ("drone", "patrol-*.geojson"),
    ("drone-raw", "patrol-*"),
    (f"{STACK_DIR}/sar", "*.tif"),
    (f"{STACK_DIR}/optical", "*.tif"),
)

#: Channel numbers of the per-channel random generators.
_GEOGRAPHY, _BACKGROUND, _HOSTILE, _GROUND, _SATELLITE, _DRONE, _FIELD, _ARRAY, _DRONE_RAW = range(
    9
)
_STACK_PLAN, _STACK_PIXELS = 9, 10


@dataclass(frozen=True)
class ScenarioSummary:
    """What :func:`simulate_scenario` wrote.

    Attributes
    ----------
    out_dir
        The output directory.
    files
        Paths written, relative to ``out_dir``, sorted.
    counts
        Counts per kind: ``firms_files``, ``firms_rows``, ``acoustic_sensors``,
        ``acoustic_detections``, ``acoustic_coverage``, ``edge_detections``,
        ``array_elements``, ``array_samples``, ``array_events``, ``drone_patrols``,
        ``drone_detections``, ``drone_coverage``, ``drone_raw_patrols``,
        ``drone_raw_poses``, ``drone_raw_frames``, ``drone_raw_detections``,
        ``drone_raw_false_positives``, ``stack_sar_images``,
        ``stack_optical_images``, ``stack_changes``, ``stack_craters``, ``truth_events``,
        ``violations``, ``escalations``, ``false_alarms``.
    """

    out_dir: Path
    files: tuple[Path, ...]
    counts: dict[str, int] = field(default_factory=dict)


def _clear_previous(out_dir: Path) -> None:
    """Remove a previous scenario's channel files (only if ``truth.json`` says it was one)."""
    truth = out_dir / "truth.json"
    try:
        previous = json.loads(truth.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(previous, dict) or previous.get("format") != TRUTH_FORMAT:
        return
    for folder, pattern in _OWN_FILES:
        for path in sorted((out_dir / folder).glob(pattern)):
            path.unlink()


def _write_agreement(out_dir: Path, geo: Geography, start: datetime) -> Path:
    return write_demo_agreement(
        out_dir,
        geo.line.geometry,
        left_party=LEFT_PARTY,
        right_party=RIGHT_PARTY,
        declared_sites=[(site.id, site.party, site.polygon) for site in geo.quarries],
        storage_sites=[(site.id, site.party or LEFT_PARTY, site.polygon) for site in geo.storage],
        effective_from=min(DEMO_EFFECTIVE_FROM, start - timedelta(days=1)),
    )


def simulate_scenario(
    out_dir: Path,
    seed: int = 0,
    days: int | None = None,
    start: datetime = DEFAULT_START,
    family: str = DEFAULT_FAMILY,
) -> ScenarioSummary:
    """Simulate a ceasefire-monitoring scenario and write it in field formats.

    Parameters
    ----------
    out_dir
        Directory to write into (created if needed). Channel files of a previous
        scenario there are replaced; other files are left alone.
    seed
        Seed of every random draw; the same seed writes byte-identical files.
    days
        Length of the simulated window, whole days (1 to :data:`MAX_DAYS`);
        ``None`` for the family's own length (3 days for ``default``).
    start
        Start of the window, timezone-aware (UTC).
    family
        Scenario family (:data:`truceline.simulate.families.FAMILIES`).

    Returns
    -------
    ScenarioSummary
        Files written and counts per kind.

    Raises
    ------
    truceline.simulate.families.UnknownFamilyError
        If ``family`` is not a known family (a ``ValueError``).
    ValueError
        If ``days`` is out of range, ``seed`` is negative or ``start`` is naive.
    truceline.simulate.truth.ScenarioError
        If the generated truth contradicts its script (a simulator bug).
    """
    script = get_family(family)
    days = script.days if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if start.tzinfo is None:
        raise ValueError(f"start {start!r} is naive; give a timezone-aware UTC time")
    start = start.astimezone(UTC)
    end = start + timedelta(days=days)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)

    geo = build_geography(child_rng(seed, _GEOGRAPHY))
    world = World(geo, start.timestamp(), end.timestamp())
    add_background(world, child_rng(seed, _BACKGROUND), script.background)
    if script.hostilities is not None:
        script.hostilities(world, child_rng(seed, _HOSTILE))
    stack_plan = plan_stacks(world, child_rng(seed, _STACK_PLAN), trench=script.trench)

    files = [_write_agreement(out_dir, geo, start), out_dir / "contact-line.geojson"]
    ground = write_ground(out_dir, world, child_rng(seed, _GROUND), child_rng(seed, _FIELD))
    array = write_array(out_dir, world, ground.weather, child_rng(seed, _ARRAY))
    firms_pixels: dict[str, int] = {}
    sat_files, sat_counts, _ = write_satellite(
        out_dir, world, child_rng(seed, _SATELLITE), firms_pixels
    )
    drone_files, drone_counts, drone_alarms, patrols = write_drones(
        out_dir, world, child_rng(seed, _DRONE), script.patrols
    )
    raw = write_drone_raw(out_dir, world, patrols, child_rng(seed, _DRONE_RAW))
    stacks = write_stacks(out_dir, world, stack_plan, child_rng(seed, _STACK_PIXELS))
    files += ground.files + array.files + sat_files + drone_files + raw.files + stacks.files
    counts = ground.counts | array.counts | sat_counts | drone_counts | raw.counts | stacks.counts

    truth = truth_document(
        geo,
        world.events,
        ground.false_alarms + drone_alarms,
        seed=seed,
        start=start,
        end=end,
        family=script.name,
        array=array.truth,
        drone=raw.truth,
        satellite_stacks=stacks.truth,
        observed=observed_counts(
            heard=ground.heard,
            firms_pixels=firms_pixels,
            array=array.truth,
            drone=raw.truth,
            satellite_stacks=stacks.truth,
        ),
    )
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    files.append(truth_path)
    counts |= {
        "truth_events": len(truth["events"]),
        "violations": len(truth["violations"]),
        "escalations": len(truth["escalations"]),
        "false_alarms": len(truth["false_alarms"]),
    }
    relative = tuple(sorted(path.relative_to(out_dir) for path in files))
    return ScenarioSummary(out_dir, relative, dict(sorted(counts.items())))
