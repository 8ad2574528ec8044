"""Products of the excess-activity test: a daily index per agreement zone, and observations.

* :func:`zone_activity` — for each zone of an agreement and each day: fire
  cell-days, detections, the detections the baseline expects over all of the
  zone's cells, their ratio (the activity index; 1 is a normal day) and how
  many cell-days were flagged.
* :func:`thermal_observations` — flagged cell-days as ``observations/1``
  GeoJSON (see ``docs/observation-formats.md``): modality ``satellite``, kind
  ``thermal_anomaly``, the cell as footprint, the UTC day as interval, and the
  conflict probability as ``attributes.confidence``, so ``truceline ingest``
  hands them to fusion like any other sensor's reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from truceline.agreement.model import Agreement
from truceline.satellite.baseline import BaselineModel, day_slots
from truceline.satellite.excess import ExcessResult

__all__ = ["EXCESS_SENSOR_ID", "thermal_observations", "zone_activity"]

EXCESS_SENSOR_ID = "firms-excess-activity"


def zone_activity(
    result: ExcessResult, model: BaselineModel, agreement: Agreement
) -> list[dict[str, Any]]:
    """Daily activity index per zone (cells belong to a zone by their centre).

    Returns one record per zone and day of the scored range, sorted by zone then date.
    """
    lat, lon = model.grid.centres()
    masks = agreement.zone_masks(lon.ravel(), lat.ravel())
    days = np.arange(
        np.datetime64(result.first, "D"),
        np.datetime64(result.last, "D") + np.timedelta64(1, "D"),
        dtype="datetime64[D]",
    )
    slots = day_slots(days)
    eras = model.era_index(days)
    cells = {model.grid.cell_id(i, j): i * model.grid.n_lon + j for i, j in np.ndindex(lat.shape)}
    by_day: dict[str, list[Any]] = {}
    for record in result.records:
        by_day.setdefault(record.date, []).append(record)
    rows = []
    for zone_id in sorted(masks):
        mask = masks[zone_id].reshape(lat.shape)
        n_cells = int(mask.sum())
        for k, day in enumerate(days):
            expected = float((model.q_count[slots[k]][mask] / model.era_scale[eras[k]][mask]).sum())
            inside = [r for r in by_day.get(str(day), []) if mask.ravel()[cells[r.cell]]]
            detections = sum(r.detections for r in inside)
            rows.append(
                {
                    "zone": zone_id,
                    "date": str(day),
                    "cells": n_cells,
                    "fire_cell_days": len(inside),
                    "detections": detections,
                    "expected": round(expected, 4),
                    "index": round(detections / expected, 4) if expected > 0 else None,
                    "flagged": sum(1 for r in inside if r.flagged),
                }
            )
    return rows


def thermal_observations(
    result: ExcessResult, model: BaselineModel, *, sensor_id: str = EXCESS_SENSOR_ID
) -> dict[str, Any]:
    """The flagged cell-days as an ingestable ``observations/1`` FeatureCollection."""
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": None,
            "properties": {
                "record": "sensor",
                "id": sensor_id,
                "modality": "satellite",
                "owner": "truceline excess-activity model",
                "timing_sigma_s": 0.0,
                # the share of flags that are not conflict-related is the
                # calibrated false-flag rate among flags; reliability is the rest
                "reliability": 0.9,
            },
        }
    ]
    for record in result.flagged:
        i_text, j_text = record.cell.split(":")
        i = int(i_text) - model.grid.i0
        j = int(j_text) - model.grid.j0
        west, south, east, north = model.grid.cell_bounds(i, j)
        day = np.datetime64(record.date, "D")
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [round(west, 6), round(south, 6)],
                            [round(east, 6), round(south, 6)],
                            [round(east, 6), round(north, 6)],
                            [round(west, 6), round(north, 6)],
                            [round(west, 6), round(south, 6)],
                        ]
                    ],
                },
                "properties": {
                    "record": "observation",
                    "sensor_id": sensor_id,
                    "modality": "satellite",
                    "kind": "thermal_anomaly",
                    "time": f"{day}T00:00:00Z",
                    "time_end": f"{day + np.timedelta64(1, 'D')}T00:00:00Z",
                    "attributes": {
                        "label": "excess_fire_activity",
                        "cell": record.cell,
                        "detections": record.detections,
                        "expected": record.expected,
                        "window_fire_days": record.window_fire_days,
                        "window_expected": record.window_expected,
                        "probability": record.probability,
                        "confidence": record.conflict_probability
                        if np.isfinite(record.conflict_probability)
                        else 0.5,
                    },
                },
            }
        )
    return {"type": "FeatureCollection", "truceline": "observations/1", "features": features}
