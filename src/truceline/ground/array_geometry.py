"""Array geometry: group waveform segments into array elements and place them in metres.

An array is a set of :class:`Element` (one per channel, with its
:class:`~truceline.ground.waveforms.Waveform` segments). :func:`elements_of`
groups loaded segments by channel; :func:`array_geometry` validates the array
(at least three elements, one common sampling rate, no two elements at the same
position, not all on one line) and gives each element's east/north offset in
metres from the array centroid, as an :class:`ArrayGeometry`.

These names are also re-exported by :mod:`truceline.ground.waveforms`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from truceline.model.errors import RecordError
from truceline.model.geo import LocalFrame

if TYPE_CHECKING:
    # Only for annotations: waveforms imports (and re-exports) this module.
    from truceline.ground.waveforms import Waveform

__all__ = [
    "ArrayGeometry",
    "Element",
    "array_geometry",
    "elements_of",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Element:
    """One array element: the segments of one channel (one per clock-jump split).

    Attributes
    ----------
    id
        Channel id ``NET.STA.LOC.CHA``.
    segments
        Its waveform segments in time order, all at the element's position.
    """

    id: str
    segments: tuple[Waveform, ...]


@dataclass(frozen=True, eq=False)
class ArrayGeometry:
    """Element positions in a local frame around the array centroid.

    Attributes
    ----------
    lon, lat
        Reference point (mean element position), degrees.
    east_m, north_m
        Element offsets from it, metres, in element order.
    rate_hz
        The common sampling rate, Hz.
    """

    lon: float
    lat: float
    east_m: FloatArray
    north_m: FloatArray
    rate_hz: float


def elements_of(segments: Sequence[Waveform]) -> list[Element]:
    """Group segments by channel id into elements, sorted by id."""
    grouped: dict[str, list[Waveform]] = {}
    for segment in segments:
        grouped.setdefault(segment.id, []).append(segment)
    return [
        Element(key, tuple(sorted(grouped[key], key=lambda w: w.start_s)))
        for key in sorted(grouped)
    ]


def array_geometry(elements: Sequence[Element], min_separation_m: float = 1.0) -> ArrayGeometry:
    """Validate an array and place its elements in metres around their centroid.

    Raises
    ------
    truceline.model.RecordError
        Fewer than three elements, mixed sampling rates, two elements closer
        than ``min_separation_m`` (the same position: the array cannot resolve
        direction and the metadata is probably wrong), or all elements on one
        line (direction ambiguous).
    """
    if len(elements) < 3:
        raise RecordError(f"an array needs at least 3 elements, got {len(elements)}")
    rates = {segment.sampling_rate_hz for e in elements for segment in e.segments}
    if len(rates) != 1:
        raise RecordError(f"array elements have different sampling rates {sorted(rates)} Hz")
    lons = np.array([e.segments[0].lon for e in elements])
    lats = np.array([e.segments[0].lat for e in elements])
    frame = LocalFrame(float(lons.mean()), float(lats.mean()))
    east, north = frame.to_local(lons, lats)
    for i in range(len(elements)):
        for j in range(i):
            gap = math.hypot(float(east[i] - east[j]), float(north[i] - north[j]))
            if gap < min_separation_m:
                raise RecordError(
                    f"array elements {elements[j].id} and {elements[i].id} are at the same "
                    f"position ({gap:.2f} m apart, minimum {min_separation_m} m)",
                    file=elements[i].segments[0].source,
                    field="position",
                )
    centred = np.column_stack([east - east.mean(), north - north.mean()])
    singular = np.linalg.svd(centred, compute_uv=False)
    if singular[1] < 1e-3 * singular[0]:
        raise RecordError("array elements lie on one line; back azimuth would be ambiguous")
    return ArrayGeometry(frame.lon0, frame.lat0, east, north, rates.pop())
