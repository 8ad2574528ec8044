"""A small home directory with a deep strike, a barrage and repeated tank sightings.

Observations are written in the generic GeoJSON format and go through the real
ingest, fusion, adjudication and run pipeline. Two sensors of different
modalities see each strike, so the events have two independent sources and the
deep strike reaches the demo agreement's top level (``attack``).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agreement.agreement_testkit import DAY, T0, demo_content, offset, write_yaml
from truceline.ingest.pipeline import ingest_file
from truceline.model.timeutil import format_utc
from truceline.runs import RunOutcome, add_agreement, execute_run
from truceline.workspace import Workspace

STRIKE_TIME = T0 + DAY
BARRAGE_START = T0 + DAY + timedelta(hours=2)
STRIKE_AT = offset(-40_000, lat=48.2)


def _sensor(ident: str, modality: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [29.5, 48.0]},
        "properties": {
            "record": "sensor",
            "id": ident,
            "modality": modality,
            "owner": "mission",
            "reliability": 0.95,
        },
    }


def observation(
    sensor: str,
    modality: str,
    kind: str,
    where: tuple[float, float],
    time: datetime,
    **attributes: Any,
) -> dict[str, Any]:
    """One observation feature (100 m, 5 s uncertainty, confidence 0.95)."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": list(where)},
        "properties": {
            "sensor_id": sensor,
            "modality": modality,
            "kind": kind,
            "time": format_utc(time),
            "time_sigma_s": 5.0,
            "sigma_m": 100.0,
            "attributes": {"confidence": 0.95, **attributes},
        },
    }


def scenario_features(*, strike: bool = True, barrage: int = 7) -> list[dict[str, Any]]:
    """Sensors, a deep strike, a barrage of ``barrage`` explosions, four tank sightings."""
    features = [_sensor("drone-1", "drone"), _sensor("drone-2", "drone")]
    features.append(_sensor("monitor-1", "report"))
    if strike:
        features.append(observation("drone-1", "drone", "impact", STRIKE_AT, STRIKE_TIME))
        features.append(
            observation(
                "monitor-1", "report", "impact", STRIKE_AT, STRIKE_TIME + timedelta(seconds=30)
            )
        )
    for i in range(barrage):
        where = offset(4_000 + 700 * i, lat=47.6 + 0.004 * i)
        when = BARRAGE_START + timedelta(minutes=25 * i)
        features.append(observation("drone-2", "drone", "explosion", where, when))
        features.append(
            observation("monitor-1", "report", "explosion", where, when + timedelta(seconds=20))
        )
    for i in range(4):
        where = offset(-6_000, lat=47.3 + 0.1 * i)
        features.append(
            observation(
                "drone-1", "drone", "equipment", where, T0 + (i + 1) * DAY, weapon_class="tank"
            )
        )
    return features


def write_features(path: Path, features: list[dict[str, Any]]) -> Path:
    """Write features as a ``observations/1`` GeoJSON file."""
    collection = {"type": "FeatureCollection", "truceline": "observations/1", "features": features}
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def build_home(
    folder: Path,
    *,
    content: dict[str, Any] | None = None,
    features: list[dict[str, Any]] | None = None,
) -> tuple[Path, RunOutcome]:
    """Register the agreement, ingest the scenario, run once; returns (home, outcome)."""
    folder.mkdir(parents=True, exist_ok=True)
    agreement = write_yaml(folder, content if content is not None else demo_content())
    data = write_features(
        folder / "observations.geojson", features if features is not None else scenario_features()
    )
    home = folder / "home"
    with Workspace(home) as workspace:
        add_agreement(workspace, agreement)
        ingest_file(workspace, data)
        outcome = execute_run(workspace)
    return home, outcome
