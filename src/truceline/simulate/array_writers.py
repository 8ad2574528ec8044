"""Deterministic miniSEED and StationXML writers for the simulated array (through ObsPy).

miniSEED records carry no write time, so the same samples give the same bytes;
StationXML's ``created`` stamp is set to the start of the recording instead of
the wall clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
from obspy import Trace, UTCDateTime
from obspy.core.inventory import (
    Channel,
    InstrumentSensitivity,
    Inventory,
    Network,
    Response,
    Site,
    Station,
)

if TYPE_CHECKING:
    from truceline.simulate.ground_array import ArrayLayout

__all__ = ["write_miniseed", "write_stationxml"]

_RECORD_LENGTH: Final = 4096
_INT32: Final = np.iinfo(np.int32)


def write_miniseed(
    folder: Path,
    network: str,
    station: str,
    channel: str,
    start: float,
    rate_hz: float,
    counts: np.ndarray,
) -> Path:
    """Write one trace as ``folder/NET.STA..CHA.mseed`` (STEIM2, 4096-byte records).

    Parameters
    ----------
    folder
        Output folder (created if needed).
    network, station, channel
        SEED codes; the location code is empty.
    start
        Time of the first sample, epoch seconds (UTC).
    rate_hz
        Sampling rate, hertz.
    counts
        Samples in counts; rounded to the nearest integer and clipped to int32.
    """
    folder.mkdir(parents=True, exist_ok=True)
    data = np.clip(np.rint(counts), _INT32.min, _INT32.max).astype(np.int32)
    trace = Trace(
        data=data,
        header={
            "network": network,
            "station": station,
            "location": "",
            "channel": channel,
            "starttime": UTCDateTime(start),
            "sampling_rate": rate_hz,
        },
    )
    path = folder / f"{network}.{station}..{channel}.mseed"
    trace.write(str(path), format="MSEED", encoding="STEIM2", reclen=_RECORD_LENGTH)
    return path


def write_stationxml(
    path: Path,
    layout: ArrayLayout,
    codes: tuple[str, str, str],
    rate_hz: float,
    counts_per_pa: float,
) -> Path:
    """Write the array's StationXML: one station per element, one pressure channel each.

    Parameters
    ----------
    path
        Output file.
    layout
        The array (station codes, coordinates, window).
    codes
        ``(network, array name, channel)`` codes.
    rate_hz
        Sampling rate, hertz.
    counts_per_pa
        Overall sensitivity, counts per pascal (flat; given at 1 Hz).
    """
    network_code, array_name, channel_code = codes
    start, end = UTCDateTime(layout.start), UTCDateTime(layout.end)
    stations = []
    for element in layout.elements:
        sensitivity = InstrumentSensitivity(
            value=counts_per_pa, frequency=1.0, input_units="Pa", output_units="COUNTS"
        )
        channel = Channel(
            code=channel_code,
            location_code="",
            latitude=element.lat,
            longitude=element.lon,
            elevation=element.elevation_m,
            depth=0.0,
            sample_rate=rate_hz,
            start_date=start,
            end_date=end,
            response=Response(instrument_sensitivity=sensitivity),
        )
        stations.append(
            Station(
                code=element.station,
                latitude=element.lat,
                longitude=element.lon,
                elevation=element.elevation_m,
                channels=[channel],
                site=Site(name=f"infrasound array {array_name}, element {element.station}"),
                start_date=start,
                end_date=end,
                creation_date=start,
                description=f"array={array_name}",
            )
        )
    network = Network(
        code=network_code,
        stations=stations,
        description="truceline simulated infrasound array",
        start_date=start,
        end_date=end,
    )
    inventory = Inventory(networks=[network], source="truceline simulator", created=start)
    path.parent.mkdir(parents=True, exist_ok=True)
    inventory.write(str(path), format="STATIONXML")
    return path
