"""What the sensors recorded of each truth event: the ``observed`` member of ``truth.json``.

Scoring needs to tell a fusion error from a sensing gap: an event no sensor
recorded cannot be found, however good the association. Each channel reports
what its field-format files hold of each truth event, counted over the files
the demo ingests:

``acoustic_picks``
    Picks in the acoustic network's detections CSV (``ground-edge/``).
``acoustic_stations``
    The most stations that picked one sound of the event (one round, blast or
    thunder clap): what a bearing or time-difference fix of that sound has.
``array_emissions``
    Sounds of the event in the infrasound array's recording (``ground-array/``).
``firms_pixels``
    FIRMS fire pixels (``firms/``), summed over overpasses.
``drone_detections``
    Camera frames whose detector output holds the event's object or crater
    (``drone-raw/``), summed over patrols.
``image_changes``
    Changes of the event injected into the SAR/optical stacks
    (``satellite-stacks/``): its craters, its trench or scar. Whether change
    detection finds them is the processing's business, not the sensor's.

An event that none of these recorded has no ``observed`` counts (an empty
mapping).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["OBSERVED_KEYS", "observed_counts"]

#: Keys of an event's ``observed`` mapping, in the order they are written.
OBSERVED_KEYS: Final = (
    "acoustic_picks",
    "acoustic_stations",
    "array_emissions",
    "firms_pixels",
    "drone_detections",
    "image_changes",
)


def _add(table: dict[str, dict[str, int]], truth_id: str, key: str, value: int) -> None:
    if value > 0:
        counts = table.setdefault(truth_id, {})
        counts[key] = counts.get(key, 0) + value


def observed_counts(
    *,
    heard: Mapping[str, Mapping[str, int]],
    firms_pixels: Mapping[str, int],
    array: Mapping[str, Any] | None = None,
    drone: Mapping[str, Any] | None = None,
    satellite_stacks: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, int]]:
    """Per truth event id, what each channel recorded of it (see the module docstring).

    Parameters
    ----------
    heard
        The acoustic network's counts per truth id (``acoustic_picks``,
        ``acoustic_stations``), from :func:`truceline.simulate.ground.write_ground`.
    firms_pixels
        FIRMS pixels per truth id, from :func:`truceline.simulate.satellite.write_satellite`.
    array, drone, satellite_stacks
        The ``array``, ``drone`` and ``satellite_stacks`` members of the truth
        document, when the scenario has them.

    Returns
    -------
    dict
        Truth id -> ``{key: count}`` with only non-zero counts, keys in
        :data:`OBSERVED_KEYS` order.
    """
    table: dict[str, dict[str, int]] = {}
    for truth_id, counts in heard.items():
        for key in ("acoustic_picks", "acoustic_stations"):
            _add(table, truth_id, key, int(counts.get(key, 0)))
    for event in (array or {}).get("events", []):
        _add(table, str(event["id"]), "array_emissions", int(event["emissions"]))
    for truth_id, pixels in firms_pixels.items():
        _add(table, truth_id, "firms_pixels", int(pixels))
    for patrol in (drone or {}).get("patrols", []):
        for seen in patrol["in_view"]:
            _add(table, str(seen["id"]), "drone_detections", int(seen["detected"]))
    for change in (satellite_stacks or {}).get("changes", []):
        if change.get("truth_event"):
            _add(table, str(change["truth_event"]), "image_changes", 1)
    return {
        truth_id: {key: counts[key] for key in OBSERVED_KEYS if key in counts}
        for truth_id, counts in sorted(table.items())
    }
