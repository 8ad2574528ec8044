"""StationXML inventories -> ground :class:`~truceline.model.Sensor` records (private).

Rules (documented in ``docs/ground-formats.md``):

* **One sensor per station, location code and modality**, id
  ``<modality>:NET.STA`` or ``<modality>:NET.STA.LOC`` when the location code is
  not empty (``infrasound:YJ.BRP1``). When a station is listed in several epochs
  the latest epoch (by start date) describes it.
* **Modality from the SEED channel code** ``BIO`` (band, instrument, orientation):
  instrument ``D`` (pressure) is ``acoustic`` for the audio-rate bands ``F G D C``
  (250 Hz and more) and ``infrasound`` otherwise (``BDF``, ``HDF``, ``EDF``...);
  instruments ``H L N`` (seismometers, accelerometers) are ``seismic``. Other
  channels (state of health...) are classified by their sensor description
  (``microphone`` -> acoustic, ``infrasound``/``barometer`` -> infrasound,
  ``seismometer``/``geophone``/``accelerometer`` -> seismic) or ignored; a
  location (or a station without channels) with no classified channel is
  ``acoustic``.
* **Position**: the channels' latitude, longitude and elevation (metres), else
  the station's; channels of one location at different positions are refused.
* **Arrays**: stations of one network and modality whose codes differ only in a
  trailing number (``BRP1``..``BRP4``) form the array ``<modality>:NET.PREFIX``
  (``infrasound:YJ.BRP``) when there are at least two of them and all lie within
  :data:`ARRAY_RADIUS_M` of their mean position (numbered sensors spread over a
  whole network are not an array).
* **Timing accuracy**: StationXML does not state a clock accuracy, so
  :data:`~truceline.ingest._ground_common.DEFAULT_CLOCK_SIGMA_S` (0.01 s).
"""

from __future__ import annotations

import importlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from truceline.ingest._ground_common import DEFAULT_CLOCK_SIGMA_S
from truceline.model.errors import RecordError
from truceline.model.sensor import Sensor

__all__ = ["ARRAY_RADIUS_M", "channel_modality", "inventory_sensors"]

#: Largest distance of an array element from the array's mean position, metres
#: (IMS infrasound arrays have apertures of 1-3 km).
ARRAY_RADIUS_M: Final = 3_000.0
_EARTH_RADIUS_M: Final = 6_371_000.0
_AUDIO_BANDS: Final = frozenset("FGDC")
_KEYWORDS: Final = (
    ("microphone", "acoustic"),
    ("infrasound", "infrasound"),
    ("barometer", "infrasound"),
    ("seismometer", "seismic"),
    ("geophone", "seismic"),
    ("accelerometer", "seismic"),
)
_TRAILING_NUMBER: Final = re.compile(r"^(.*?)(\d+)$")


def channel_modality(code: str, description: str = "") -> str | None:
    """The ground modality of a SEED channel, or ``None`` for non-sensor channels.

    Parameters
    ----------
    code
        SEED channel code, e.g. ``BDF``, ``EDF``, ``HHZ``.
    description
        The channel's sensor description or type (free text), if any.
    """
    if len(code) == 3:
        band, instrument = code[0].upper(), code[1].upper()
        if instrument == "D":
            return "acoustic" if band in _AUDIO_BANDS else "infrasound"
        if instrument in "HLN":
            return "seismic"
    text = description.lower()
    return next((modality for word, modality in _KEYWORDS if word in text), None)


@dataclass(frozen=True, slots=True)
class _Site:
    """One station/location/modality before arrays are known."""

    network: str
    station: str
    location: str
    modality: str
    lon: float
    lat: float
    elevation_m: float | None

    @property
    def sensor_id(self) -> str:
        suffix = f".{self.location}" if self.location else ""
        return f"{self.modality}:{self.network}.{self.station}{suffix}"


def inventory_sensors(path: Path) -> list[Sensor]:
    """The sensors of a StationXML file, in network, station, location order.

    Raises
    ------
    RecordError
        When ObsPy cannot read the file (no record), or a station's channels
        disagree on position (record ``NET.STA``, field ``Latitude``...).
    """
    # Imported on use: ObsPy is slow to import and untyped (attributes are Any).
    obspy = importlib.import_module("obspy")
    file = str(path)
    try:
        inventory = obspy.read_inventory(file, format="STATIONXML")
    except Exception as exc:  # ObsPy raises anything from lxml, ValueError to KeyError
        raise RecordError(f"not a readable StationXML document: {exc}", file=file) from None
    sites: dict[str, _Site] = {}
    for network in inventory:
        latest: dict[str, Any] = {}
        for station in network:
            known = latest.get(station.code)
            if known is None or _start(station) >= _start(known):
                latest[station.code] = station
        for code in sorted(latest):
            try:
                for site in _station_sites(network.code, latest[code]):
                    sites[site.sensor_id] = site
            except RecordError as exc:
                raise exc.located(file=file, record=f"{network.code}.{code}") from None
    arrays = _arrays(list(sites.values()))
    return [
        Sensor(
            id=site.sensor_id,
            modality=site.modality,
            owner=f"network:{site.network}",
            lon=site.lon,
            lat=site.lat,
            timing_sigma_s=DEFAULT_CLOCK_SIGMA_S,
            elevation_m=site.elevation_m,
            array=arrays.get(site.sensor_id),
        )
        for site in sorted(sites.values(), key=lambda s: s.sensor_id)
    ]


def _start(station: Any) -> float:
    start = station.start_date
    return float("-inf") if start is None else float(start.timestamp)


def _station_sites(network: str, station: Any) -> list[_Site]:
    base = _Site(
        network,
        station.code,
        "",
        "acoustic",
        float(station.longitude),
        float(station.latitude),
        None if station.elevation is None else float(station.elevation),
    )
    if not station.channels:
        return [base]
    by_location: dict[str, list[Any]] = defaultdict(list)
    for channel in station.channels:
        by_location[channel.location_code or ""].append(channel)
    sites = []
    for location in sorted(by_location):
        channels = by_location[location]
        first = channels[0]
        position = (float(first.longitude), float(first.latitude), first.elevation)
        for channel in channels[1:]:
            for name, a, b in zip(
                ("Longitude", "Latitude", "Elevation"),
                position,
                (channel.longitude, channel.latitude, channel.elevation),
                strict=True,
            ):
                if a != b:
                    raise RecordError(
                        f"channels of location {location!r} disagree on the position "
                        f"({first.code}: {a}, {channel.code}: {b})",
                        field=name,
                    )
        modalities = {
            modality
            for channel in channels
            if (modality := channel_modality(channel.code, _description(channel))) is not None
        } or {"acoustic"}
        elevation = None if position[2] is None else float(position[2])
        for modality in sorted(modalities):
            sites.append(
                replace(
                    base,
                    location=location,
                    modality=modality,
                    lon=position[0],
                    lat=position[1],
                    elevation_m=elevation,
                )
            )
    return sites


def _description(channel: Any) -> str:
    sensor = channel.sensor
    if sensor is None:
        return ""
    return " ".join(str(text) for text in (sensor.description, sensor.type) if text)


def _arrays(sites: list[_Site]) -> dict[str, str]:
    """Sensor id -> array id for numbered stations that sit close together."""
    groups: dict[tuple[str, str, str], list[_Site]] = defaultdict(list)
    for site in sites:
        match = _TRAILING_NUMBER.match(site.station)
        if match and match.group(1):
            groups[(site.network, site.modality, match.group(1))].append(site)
    arrays: dict[str, str] = {}
    for (network, modality, prefix), members in sorted(groups.items()):
        if len({m.station for m in members}) < 2 or not _compact(members):
            continue
        for member in members:
            arrays[member.sensor_id] = f"{modality}:{network}.{prefix}"
    return arrays


def _compact(members: list[_Site]) -> bool:
    """Whether every member lies within :data:`ARRAY_RADIUS_M` of the mean position."""
    lat0 = sum(m.lat for m in members) / len(members)
    lon0 = sum(m.lon for m in members) / len(members)
    scale = math.cos(math.radians(lat0))
    for m in members:
        east = math.radians(m.lon - lon0) * scale * _EARTH_RADIUS_M
        north = math.radians(m.lat - lat0) * _EARTH_RADIUS_M
        if math.hypot(east, north) > ARRAY_RADIUS_M:
            return False
    return True
