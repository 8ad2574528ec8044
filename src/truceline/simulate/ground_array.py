"""An infrasound array streaming raw miniSEED for a few hours.

Layout
------
Five elements (``TL.ARR01`` at the centre, ``ARR02``–``ARR05`` on a ring of
100–150 m radius, aperture 200–300 m), channel ``BDF`` (pressure, 50 Hz),
empty location code. Membership of the array ``ARR`` is the shared station
code prefix; ``stations.xml`` also says it in each station's description. The
array stands 5–10 km behind the contact line on the firing side of the first
shelling episode, 6–10 km along the line from its firing position, and records
a 2.5-hour window starting 20–40 minutes before the episode's first launch
(moved inside the scenario when needed). The elements are GPS-timed: no clock
error.

Signals
-------
Each element's pressure is background noise plus, for every emission of the
world whose sound arrives inside the window, a Ricker pulse
(:mod:`truceline.simulate.array_signals`) of peak amplitude
``50 Pa * strength^2 * (1 km / r) * exp(-r / 50 km)`` (spherical spreading
and absorption; emissions weaker than 0.02 Pa at the array are left out),
arriving at ``origin + r / c_eff`` where ``r`` is the geodesic range from the
source to that element and ``c_eff`` the day's effective sound speed along the
propagation azimuth (:mod:`truceline.simulate.weather`). The delays across the
array therefore encode the back azimuth. Thunder arrives as a rumble of 4–8
low-frequency pulses over ~3 s. False triggers: 2–4 passing vehicles 0.5–3 km
away (coherent engine tones) and 2–3 glitches (a knock on one element only).

Files
-----
::

    OUT/ground-array/TL.ARR01..BDF.mseed ...  one file per element, STEIM2, 4096-byte records
    OUT/ground-array/stations.xml             StationXML: coordinates, sample rate, sensitivity

Counts are ``pressure / 0.001 Pa`` (the sensitivity in ``stations.xml``: 1000
counts per pascal). ``truth.json`` gets an ``array`` member
(:func:`array_truth`) with the layout, the window, the truth events heard
(with their back azimuth from the array centroid) and the false triggers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from shapely.geometry import Point

from truceline.model.geo import WGS84_GEOD
from truceline.simulate.array_signals import Pulse, Tone, add_pulse, add_tone, background_noise
from truceline.simulate.array_writers import write_miniseed, write_stationxml
from truceline.simulate.truth import ScenarioError
from truceline.simulate.weather import Weather
from truceline.simulate.world import World
from truceline.simulate.writers import iso_time

__all__ = [
    "ARRAY_CHANNEL",
    "ARRAY_NETWORK",
    "CALIBRATION_PA_PER_COUNT",
    "SAMPLING_RATE_HZ",
    "ArrayElement",
    "ArrayLayout",
    "ArrayOutput",
    "arrival_time",
    "layout_around",
    "place_array",
    "write_array",
]

ARRAY_NETWORK: Final = "TL"
ARRAY_NAME: Final = "ARR"
ARRAY_CHANNEL: Final = "BDF"
SAMPLING_RATE_HZ: Final = 50.0
#: Length of the recorded window, seconds.
WINDOW_S: Final = 9000.0
CALIBRATION_PA_PER_COUNT: Final = 1e-3
_RING: Final = 4
_SOURCE_PA_AT_1KM: Final = 50.0
_ABSORPTION_M: Final = 50e3
_MIN_AMPLITUDE_PA: Final = 0.02
#: Longest travel time considered, seconds (about 200 km).
_MAX_TRAVEL_S: Final = 600.0
_FREQUENCY_HZ: Final = {
    "launch": 5.0,
    "impact": 3.0,
    "explosion": 2.5,
    "gunfire": 10.0,
    "thunder": 1.5,
}


@dataclass(frozen=True, slots=True)
class ArrayElement:
    """One array element: station code, position (degrees, metres) and offset from the centroid."""

    station: str
    lon: float
    lat: float
    elevation_m: float
    east_m: float
    north_m: float


@dataclass(frozen=True, slots=True)
class ArrayLayout:
    """The array and its recording window.

    Attributes
    ----------
    elements
        The elements, in station-code order.
    start, end
        Recording window, epoch seconds (UTC, whole seconds).
    lon, lat
        Centroid of the elements, degrees.
    """

    elements: tuple[ArrayElement, ...]
    start: float
    end: float
    lon: float
    lat: float

    @property
    def n_samples(self) -> int:
        """Samples per element trace."""
        return round((self.end - self.start) * SAMPLING_RATE_HZ)


@dataclass(frozen=True)
class ArrayOutput:
    """Files written by :func:`write_array`, counts and the ``truth.json`` member."""

    files: list[Path]
    counts: dict[str, int]
    truth: dict[str, Any]


def layout_around(
    world: World, x: float, y: float, start: float, rng: np.random.Generator
) -> ArrayLayout:
    """Elements around local ``(x, y)`` (metres) recording from ``start`` (epoch s, whole)."""
    frame = world.geo.frame
    elevation = float(rng.uniform(100.0, 200.0))
    spots = [(x, y)]
    for k in range(_RING):
        angle = math.radians(45.0 + 90.0 * k + rng.uniform(-15.0, 15.0))
        radius = rng.uniform(100.0, 150.0)
        spots.append((x + radius * math.sin(angle), y + radius * math.cos(angle)))
    lonlat = [frame.point_to_geo(sx, sy) for sx, sy in spots]
    lonlat = [(round(lon, 6), round(lat, 6)) for lon, lat in lonlat]
    c_lon = float(np.mean([p[0] for p in lonlat]))
    c_lat = float(np.mean([p[1] for p in lonlat]))
    elements = []
    for number, (lon, lat) in enumerate(lonlat, start=1):
        az, _, dist = WGS84_GEOD.inv(c_lon, c_lat, lon, lat)
        elements.append(
            ArrayElement(
                f"{ARRAY_NAME}{number:02d}",
                lon,
                lat,
                round(elevation + float(rng.uniform(-2.0, 2.0)), 1),
                dist * math.sin(math.radians(az)),
                dist * math.cos(math.radians(az)),
            )
        )
    return ArrayLayout(tuple(elements), start, start + WINDOW_S, c_lon, c_lat)


def place_array(world: World, rng: np.random.Generator) -> ArrayLayout:
    """Put the array behind the line near the first shelling episode (see the module doc).

    Without a shelling episode the array stands 7 km west of the line's middle
    and records from the start of the scenario.
    """
    line = world.geo.line
    launches = sorted(
        (e for e in world.events if e.kind == "launch" and e.id.startswith("fire-")),
        key=lambda e: (e.time, e.id),
    )
    if launches:
        first = launches[0]
        side = line.side(first.x, first.y)
        s_m = float(line.local.project(Point(first.x, first.y)))
        s_m += float(rng.choice([-1.0, 1.0])) * rng.uniform(6e3, 10e3)
        x, y = line.place(s_m, side, rng.uniform(5e3, 10e3))
        start = first.time - rng.uniform(20.0, 40.0) * 60.0
    else:
        x, y = line.place(line.length_m / 2, line.left_party, 7e3)
        start = world.start
    start = min(max(start, world.start), world.end - WINDOW_S)
    return layout_around(world, x, y, float(math.floor(start / 60.0) * 60.0), rng)


def arrival_time(
    origin: float, src_lon: float, src_lat: float, element: ArrayElement, weather: Weather
) -> tuple[float, float]:
    """Arrival time (epoch s) and range (m) at ``element`` of a sound made at ``origin``.

    The range is geodesic; the speed is the effective sound speed of the day
    of ``origin`` along the propagation azimuth (source towards element).
    """
    az, _, dist = WGS84_GEOD.inv(src_lon, src_lat, element.lon, element.lat)
    speed = weather.at(origin).effective_speed_mps(float(az) % 360.0)
    return origin + float(dist) / speed, float(dist)


def _emission_pulses(
    world: World, layout: ArrayLayout, weather: Weather, rng: np.random.Generator
) -> tuple[list[list[Pulse]], list[dict[str, Any]]]:
    """Pulses per element of every audible emission, and the truth events heard."""
    pulses: list[list[Pulse]] = [[] for _ in layout.elements]
    heard: dict[str, dict[str, Any]] = {}
    emissions = sorted(
        (e for e in world.emissions if layout.start - _MAX_TRAVEL_S <= e.time < layout.end),
        key=lambda e: (e.time, e.truth_id, e.x, e.y),
    )
    for emission in emissions:
        lon, lat = world.geo.to_geo(emission.x, emission.y)
        arrivals = [arrival_time(emission.time, lon, lat, el, weather) for el in layout.elements]
        source = _SOURCE_PA_AT_1KM * emission.strength**2 * float(rng.lognormal(0.0, 0.2))
        if emission.kind == "thunder":
            claps = [
                (float(rng.uniform(0.0, 3.0)), float(rng.uniform(0.3, 1.0)), rng.uniform(1, 2))
                for _ in range(int(rng.integers(4, 9)))
            ]
        else:
            claps = [(0.0, 1.0, _FREQUENCY_HZ[emission.kind] / emission.strength ** (1 / 3))]
        first, _ = arrivals[0]
        if not layout.start <= first < layout.end:
            continue
        amplitude_at = [
            source * 1000.0 / max(r, 50.0) * math.exp(-r / _ABSORPTION_M) for _, r in arrivals
        ]
        if max(amplitude_at) < _MIN_AMPLITUDE_PA:
            continue
        for k, (time, _) in enumerate(arrivals):
            for delay, scale, freq in claps:
                pulses[k].append(
                    Pulse(time - layout.start + delay, amplitude_at[k] * scale, float(freq))
                )
        record = heard.setdefault(emission.truth_id, {"times": [], "amplitudes": []})
        record["times"].append(first)
        record["amplitudes"].append(amplitude_at[0])
    return pulses, _heard_events(world, layout, heard)


def _heard_events(
    world: World, layout: ArrayLayout, heard: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    events = {e.id: e for e in world.events}
    records = []
    for truth_id, seen in heard.items():
        event = events.get(truth_id)
        if event is None:
            raise ScenarioError(f"emission of unknown truth event {truth_id!r}")
        lon, lat = world.geo.to_geo(event.x, event.y)
        az, _, dist = WGS84_GEOD.inv(layout.lon, layout.lat, lon, lat)
        records.append(
            {
                "id": truth_id,
                "kind": event.kind,
                "back_azimuth_deg": round(float(az) % 360.0, 2),
                "range_m": round(float(dist), 1),
                "first_arrival": iso_time(min(seen["times"])),
                "last_arrival": iso_time(max(seen["times"])),
                "emissions": len(seen["times"]),
                "peak_amplitude_pa": float(f"{max(seen['amplitudes']):.3g}"),
            }
        )
    return sorted(records, key=lambda r: (r["first_arrival"], r["id"]))


def _nuisances(
    layout: ArrayLayout, weather: Weather, rng: np.random.Generator
) -> tuple[list[list[Tone]], list[list[Pulse]], list[dict[str, Any]]]:
    """Vehicle tones and single-element glitches, per element, with their truth records."""
    tones: list[list[Tone]] = [[] for _ in layout.elements]
    glitches: list[list[Pulse]] = [[] for _ in layout.elements]
    records: list[dict[str, Any]] = []
    for _ in range(int(rng.integers(2, 5))):
        when = layout.start + rng.uniform(60.0, WINDOW_S - 60.0)
        az, dist = float(rng.uniform(0.0, 360.0)), float(rng.uniform(500.0, 3000.0))
        lon, lat, _ = WGS84_GEOD.fwd(layout.lon, layout.lat, az, dist)
        width, amp = float(rng.uniform(8.0, 15.0)), float(rng.uniform(0.05, 0.3))
        freq, phase = float(rng.uniform(8.0, 15.0)), float(rng.uniform(0.0, 2.0 * math.pi))
        for k, element in enumerate(layout.elements):
            time, _ = arrival_time(when, float(lon), float(lat), element, weather)
            tones[k].append(Tone(time - layout.start, width, amp, freq, phase))
        records.append(
            {
                "kind": "vehicle",
                "time": iso_time(when),
                "back_azimuth_deg": round(az, 2),
                "range_m": round(dist, 1),
            }
        )
    for _ in range(int(rng.integers(2, 4))):
        k = int(rng.integers(0, len(layout.elements)))
        offset = float(rng.uniform(60.0, WINDOW_S - 60.0))
        glitches[k].append(Pulse(offset, float(rng.uniform(0.3, 1.5)), 8.0))
        records.append(
            {
                "kind": "glitch",
                "station": layout.elements[k].station,
                "time": iso_time(layout.start + offset),
            }
        )
    return tones, glitches, sorted(records, key=lambda r: (r["time"], r["kind"]))


def synthesize(
    world: World, layout: ArrayLayout, weather: Weather, rng: np.random.Generator
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Pressure traces (pascals) of every element and the truth of what they hold."""
    atmosphere = weather.at(layout.start)
    wind = math.hypot(atmosphere.wind_east_mps, atmosphere.wind_north_mps)
    offsets = [(e.east_m, e.north_m) for e in layout.elements]
    traces = background_noise(rng, layout.n_samples, SAMPLING_RATE_HZ, offsets, wind)
    pulses, events = _emission_pulses(world, layout, weather, rng)
    tones, glitches, nuisances = _nuisances(layout, weather, rng)
    for k, trace in enumerate(traces):
        for pulse in pulses[k] + glitches[k]:
            add_pulse(trace, SAMPLING_RATE_HZ, pulse)
        for tone in tones[k]:
            add_tone(trace, SAMPLING_RATE_HZ, tone)
    return traces, {"events": events, "false_triggers": nuisances}


def array_truth(layout: ArrayLayout, weather: Weather, heard: dict[str, Any]) -> dict[str, Any]:
    """The ``array`` member of ``truth.json``."""
    return {
        "network": ARRAY_NETWORK,
        "array": ARRAY_NAME,
        "channel": ARRAY_CHANNEL,
        "location": "",
        "sampling_rate_hz": SAMPLING_RATE_HZ,
        "calibration_pa_per_count": CALIBRATION_PA_PER_COUNT,
        "start": iso_time(layout.start),
        "end": iso_time(layout.end),
        "centroid": {"lon": round(layout.lon, 7), "lat": round(layout.lat, 7)},
        "elements": [
            {"station": e.station, "lon": e.lon, "lat": e.lat, "elevation_m": e.elevation_m}
            for e in layout.elements
        ],
        "atmosphere": weather.to_dict()[weather.day_index(layout.start)],
        **heard,
    }


def write_array(
    out_dir: Path,
    world: World,
    weather: Weather,
    rng: np.random.Generator,
    layout: ArrayLayout | None = None,
) -> ArrayOutput:
    """Place the array (unless ``layout`` is given), synthesize and write its files.

    Returns
    -------
    ArrayOutput
        Files (miniSEED per element, then ``stations.xml``), counts
        (``array_elements``, ``array_samples``, ``array_events``) and the
        ``array`` member of ``truth.json``.
    """
    layout = place_array(world, rng) if layout is None else layout
    traces, heard = synthesize(world, layout, weather, rng)
    folder = out_dir / "ground-array"
    files = [
        write_miniseed(
            folder,
            ARRAY_NETWORK,
            element.station,
            ARRAY_CHANNEL,
            layout.start,
            SAMPLING_RATE_HZ,
            trace / CALIBRATION_PA_PER_COUNT,
        )
        for element, trace in zip(layout.elements, traces, strict=True)
    ]
    codes = (ARRAY_NETWORK, ARRAY_NAME, ARRAY_CHANNEL)
    xml = folder / "stations.xml"
    files.append(
        write_stationxml(xml, layout, codes, SAMPLING_RATE_HZ, 1.0 / CALIBRATION_PA_PER_COUNT)
    )
    counts = {
        "array_elements": len(layout.elements),
        "array_samples": layout.n_samples * len(layout.elements),
        "array_events": len(heard["events"]),
    }
    return ArrayOutput(files, counts, array_truth(layout, weather, heard))
