"""Log entries are canonical JSON, however they are assembled."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from truceline.evidence.entries import make_entry, observation_entry
from truceline.model import Observation, PointLocation, canonical_json, sha256_hex


@pytest.mark.parametrize(
    "source",
    [
        {"artifact": "ab" * 32, "record": 7},
        {"artifact": None, "record": 1},
        {"artifact": "ab" * 32, "record": "features[3]"},
        {},
    ],
)
def test_observation_entry_is_canonical(source: dict[str, object]) -> None:
    obs = Observation(
        "firms:VIIRS:NOAA-20",
        "satellite",
        "thermal_anomaly",
        datetime(2026, 11, 2, 10, 42, tzinfo=UTC),
        PointLocation(37.5, 48.1, 12_000.0, 10.0, 13_000.0),
        time_sigma_s=60,
        attributes={"confidence": 0.55, "frp_mw": 3.2, "satellite": "N20"},
        raw_sha256="cd" * 32,
    )
    entry_id, entry, body = observation_entry(obs, source)
    parsed = json.loads(entry)
    assert canonical_json(parsed) == entry
    assert parsed == {
        "type": "observation",
        "id": entry_id,
        "body": obs.to_dict(),
        "source": source,
    }
    assert entry_id == sha256_hex(body) == obs.id


def test_make_entry_ids_are_content_ids() -> None:
    entry_id, entry = make_entry("artifact", {"sha256": "00", "size": 1})
    assert entry_id == sha256_hex(canonical_json({"sha256": "00", "size": 1}))
    assert json.loads(entry)["id"] == entry_id
    with pytest.raises(ValueError, match="unknown log entry type"):
        make_entry("gossip", {})
