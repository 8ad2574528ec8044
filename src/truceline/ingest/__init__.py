"""Ingest adapters: field formats -> normalised records (observations, sensors, coverage).

Each format is one module with an :class:`IngestAdapter` subclass, registered
through the ``truceline.ingest`` entry-point group (built-ins included, see
``pyproject.toml``); :func:`detect` probes them all, :func:`get_adapter` picks
one by name.

Built-in formats
----------------
``firms``
    NASA FIRMS active fires (:class:`FirmsAdapter`).
``geojson``
    truceline's generic GeoJSON, ``"truceline": "observations/1"``
    (:class:`GeoJSONAdapter`).
``obs-csv``
    truceline's generic observation CSV (:class:`ObservationCSVAdapter`).
"""

from truceline.ingest.base import PROBE_BYTES, IngestAdapter, Record
from truceline.ingest.firms import FirmsAdapter
from truceline.ingest.geojson import GeoJSONAdapter
from truceline.ingest.obscsv import ObservationCSVAdapter
from truceline.ingest.registry import UnknownFormatError, adapters, detect, get_adapter

__all__ = [
    "PROBE_BYTES",
    "FirmsAdapter",
    "GeoJSONAdapter",
    "IngestAdapter",
    "ObservationCSVAdapter",
    "Record",
    "UnknownFormatError",
    "adapters",
    "detect",
    "get_adapter",
]
