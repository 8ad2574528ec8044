"""truth.json: schema, and violation labels that follow from the generated geometry."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from shapely.geometry import Point, shape

from simulate.simulate_testkit import load_truth
from truceline.agreement.demo import WITHDRAWAL_BANDS_M
from truceline.model import parse_utc
from truceline.model.vocab import ACTIVITY_KINDS, WEAPON_CLASSES
from truceline.simulate.geography import build_geography
from truceline.simulate.truth import ScenarioError, TruthEvent, judge, truth_document
from truceline.simulate.world import child_rng

BAND_OF = {weapon: depth for depth, classes in WITHDRAWAL_BANDS_M for weapon in classes}
BENIGN_REASONS = {
    "agricultural_burning",
    "industrial_flare",
    "quarry_blast",
    "thunder",
    "beyond_withdrawal_band",
    "in_storage_site",
    "not_restricted",
    "ploughing",
}


@pytest.fixture(scope="module")
def truth(scenario_dir: Path) -> dict[str, Any]:
    return load_truth(scenario_dir)


@pytest.fixture(scope="module")
def events(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in truth["events"]}


def _zones(scenario_dir: Path, kind: str) -> dict[str, Any]:
    agreement = yaml.safe_load((scenario_dir / "agreement.yaml").read_text(encoding="utf-8"))
    return {z["id"]: shape(z["polygon"]) for z in agreement["zones"] if z.get("kind") == kind}


def test_schema(truth: dict[str, Any]) -> None:
    assert truth["format"] == "truceline-truth/1"
    assert truth["seed"] == 0
    assert truth["agreement"] == "agreement.yaml"
    ids = [e["id"] for e in truth["events"]]
    assert len(set(ids)) == len(ids)
    times = [parse_utc(e["time"]) for e in truth["events"]]
    assert times == sorted(times)
    for event in truth["events"]:
        assert {"id", "kind", "time", "lon", "lat", "party", "side", "distance_m"} <= set(event)
        assert {"violation", "rules", "escalate"} <= set(event)
        assert event["kind"] in ACTIVITY_KINDS
        assert event["side"] in ("west", "east")
        assert event["party"] in ("west", "east", None)
        assert event.get("weapon_class", "tank") in WEAPON_CLASSES
        assert event["violation"] == bool(event["rules"])
        if "time_end" in event:
            assert parse_utc(event["time_end"]) >= parse_utc(event["time"])
        assert 36.0 < event["lon"] < 40.0 and 46.5 < event["lat"] < 50.0
    assert truth["violations"] == [e["id"] for e in truth["events"] if e["violation"]]
    assert truth["escalations"] == [e["id"] for e in truth["events"] if e["escalate"]]
    for alarm in truth["false_alarms"]:
        assert {"sensor_id", "time", "lon", "lat", "kind"} == set(alarm)


def test_violation_count_is_in_the_planned_range(truth: dict[str, Any]) -> None:
    assert 10 <= len(truth["violations"]) <= 25


def test_benign_events_are_never_violations(truth: dict[str, Any]) -> None:
    benign = [e for e in truth["events"] if "benign_reason" in e]
    assert {e["benign_reason"] for e in benign} == BENIGN_REASONS
    assert all(not e["violation"] and not e["rules"] and not e["escalate"] for e in benign)
    assert all("benign_reason" in e for e in truth["events"] if not e["violation"])


def test_equipment_labels_follow_distance_and_side(
    events: dict[str, dict[str, Any]], scenario_dir: Path
) -> None:
    storage = _zones(scenario_dir, "storage_site")
    equipment = [e for e in events.values() if e["kind"] == "equipment"]
    assert len(equipment) >= 10
    for event in equipment:
        band = BAND_OF.get(event["weapon_class"])
        stored = any(p.covers(Point(event["lon"], event["lat"])) for p in storage.values())
        inside = band is not None and event["distance_m"] < band and not stored
        assert event["violation"] is inside, event
        if inside:
            assert event["rules"] == [f"{event['side']}-withdrawal-{band // 1000}km"]
        assert event["side"] == event["party"]  # every party keeps its weapons at home
    reasons = {e["benign_reason"] for e in equipment if not e["violation"]}
    assert reasons == {"beyond_withdrawal_band", "in_storage_site", "not_restricted"}
    violating = {e["weapon_class"] for e in equipment if e["violation"]}
    assert {"artillery_ge100", "mlrs", "tank", "mortar"} <= violating


def test_fire_across_the_line(events: dict[str, dict[str, Any]]) -> None:
    launches = [e for e in events.values() if e["id"].startswith("fire-") and e["kind"] == "launch"]
    impacts = [e for e in events.values() if e["id"].startswith("fire-") and e["kind"] == "impact"]
    assert launches and len(impacts) >= len(launches)
    for launch in launches:
        assert launch["side"] == launch["party"]
        assert 1_000 < launch["distance_m"] < 13_000
        assert launch["rules"] == ["no-fire"]
    for impact in impacts:
        assert impact["side"] != impact["party"]
        assert 1_500 < impact["distance_m"] < 16_000
        assert impact["rules"] == ["no-fire"]
        assert parse_utc(impact["time_end"]) - parse_utc(impact["time"]) <= timedelta(minutes=15)


def test_the_attack_is_deep_and_the_only_escalation(
    truth: dict[str, Any], events: dict[str, dict[str, Any]]
) -> None:
    assert truth["escalations"] == ["attack-impact"]
    attack = events["attack-impact"]
    assert 40_000 <= attack["distance_m"] <= 80_000
    assert attack["side"] == "west" and attack["party"] == "east"
    assert attack["rules"] == ["no-fire", "deep-strike"]
    assert attack["escalate"] is True
    assert attack["count"] >= 8
    assert parse_utc(attack["time_end"]) - parse_utc(attack["time"]) < timedelta(minutes=5)
    town = next(t for t in truth["towns"] if t["name"] in attack["detail"])
    assert abs(town["lon"] - attack["lon"]) < 0.02 and abs(town["lat"] - attack["lat"]) < 0.02


def test_disengagement_zone_violations(events: dict[str, dict[str, Any]]) -> None:
    exercise = events["exercise-1"]
    assert exercise["kind"] == "gunfire" and exercise["distance_m"] < 1_000
    assert exercise["rules"] == ["no-fire", "disengagement"]
    for party in ("east", "west"):
        presence = events[f"presence-{party}"]
        assert presence["kind"] == "military_presence"
        assert presence["distance_m"] < 1_000 and presence["side"] == party
        assert presence["rules"] == ["disengagement"]


def test_quarry_blasts_lie_in_declared_sites(
    events: dict[str, dict[str, Any]], scenario_dir: Path
) -> None:
    declared = _zones(scenario_dir, "declared_site")
    assert set(declared) == {"quarry-north", "quarry-south"}
    blasts = [e for e in events.values() if e.get("benign_reason") == "quarry_blast"]
    assert blasts
    for blast in blasts:
        assert blast["kind"] == "explosion"
        assert any(p.covers(Point(blast["lon"], blast["lat"])) for p in declared.values())
        assert 25_000 <= blast["distance_m"] <= 60_000


def test_truth_agrees_with_the_agreement_module(truth: dict[str, Any], scenario_dir: Path) -> None:
    agreement_pkg = pytest.importorskip("truceline.agreement")
    from truceline.model import Event

    agreement = agreement_pkg.load_agreement(scenario_dir / "agreement.yaml")
    lons = np.array([e["lon"] for e in truth["events"]])
    lats = np.array([e["lat"] for e in truth["events"]])
    assert list(agreement.side_of_many(lons, lats)) == [e["side"] for e in truth["events"]]
    distances = agreement.distance_to_line_many(lons, lats)
    assert np.allclose(distances, [e["distance_m"] for e in truth["events"]], atol=0.5)

    judged = []
    for record in truth["events"]:
        time = parse_utc(record["time"])
        attributes = {"truth": record["id"]}
        if "weapon_class" in record:
            attributes["weapon_class"] = record["weapon_class"]
        judged.append(
            Event(
                record["kind"],
                time,
                0.0,
                time,
                time,
                record["lon"],
                record["lat"],
                100.0,
                0.0,
                100.0,
                (),
                ("a", "b"),
                ("acoustic",),
                2,
                1.0,
                attributes,
            )
        )
    by_id = {event.id: event.attributes["truth"] for event in judged}
    rules: dict[str, list[str]] = {}
    levels: dict[str, set[str]] = {}
    for finding in agreement_pkg.adjudicate(judged, [agreement]):
        rules.setdefault(by_id[finding.event_id], []).append(finding.rule_id)
        levels.setdefault(by_id[finding.event_id], set()).add(finding.escalation_level)
    for record in truth["events"]:
        assert sorted(rules.get(record["id"], [])) == sorted(record["rules"]), record["id"]
    assert [k for k, v in levels.items() if "attack" in v] == truth["escalations"]


def test_judge_mirrors_the_demo_rules() -> None:
    geo = build_geography(child_rng(0, 0))
    line = geo.line
    s = line.length_m / 2
    west_5km = line.place(s, "west", 5_000.0)
    east_30km = line.place(s, "east", 30_000.0)
    assert judge(geo, "equipment", *west_5km, "tank").rules == ("west-withdrawal-15km",)
    assert judge(geo, "equipment", *west_5km, "armoured_vehicle").rules == ()
    assert judge(geo, "equipment", *east_30km, "mlrs").rules == ("east-withdrawal-70km",)
    assert judge(geo, "equipment", *east_30km, "tank").rules == ()
    assert judge(geo, "impact", *east_30km).rules == ("no-fire", "deep-strike")
    assert judge(geo, "impact", *east_30km).escalate
    assert judge(geo, "thermal_anomaly", *east_30km).rules == ()
    near = line.place(s, "east", 400.0)
    assert judge(geo, "military_presence", *near).rules == ("disengagement",)
    assert judge(geo, "explosion", *near).rules == ("no-fire", "disengagement")
    quarry = geo.quarries[0]
    assert judge(geo, "explosion", quarry.x, quarry.y).rules == ()
    store = geo.storage[0]
    assert judge(geo, "equipment", store.x, store.y, "artillery_ge100").rules == ()
    assert judge(geo, "equipment", store.x, store.y, "artillery_ge100").side == store.party


def test_place_puts_points_at_the_requested_distance_and_side() -> None:
    line = build_geography(child_rng(4, 0)).line
    for fraction in np.linspace(0.05, 0.95, 7):
        for side in ("west", "east"):
            for distance in (300.0, 8_000.0, 60_000.0):
                x, y = line.place(fraction * line.length_m, side, distance)
                assert line.side(x, y) == side
                assert abs(float(line.distance_m(x, y)) - distance) < 2.0


def test_truth_document_refuses_contradictions() -> None:
    geo = build_geography(child_rng(0, 0))
    x, y = geo.line.place(geo.line.length_m / 2, "west", 5_000.0)
    start = parse_utc("2026-11-02T00:00:00Z")
    end = parse_utc("2026-11-03T00:00:00Z")
    benign_tank = TruthEvent("t", "equipment", 0.0, x, y, "west", "tank", 3, benign_reason="x")
    with pytest.raises(ScenarioError, match="benign"):
        truth_document(geo, [benign_tank], [], seed=0, start=start, end=end)
    lawful_apc = TruthEvent("a", "equipment", 0.0, x, y, "west", "armoured_vehicle", 3)
    with pytest.raises(ScenarioError, match="meant to violate"):
        truth_document(geo, [lawful_apc], [], seed=0, start=start, end=end)
    twice = TruthEvent("b", "launch", 0.0, x, y, "west")
    with pytest.raises(ScenarioError, match="duplicate"):
        truth_document(geo, [twice, twice], [], seed=0, start=start, end=end)
    with pytest.raises(ScenarioError, match="unknown kind"):
        TruthEvent("c", "shelling", 0.0, x, y, "west")


def test_contact_line_runs_south_to_north_with_west_on_the_left(scenario_dir: Path) -> None:
    line = json.loads((scenario_dir / "contact-line.geojson").read_text(encoding="utf-8"))
    coords = line["geometry"]["coordinates"]
    assert coords[0][1] < 47.1 and coords[-1][1] > 49.4  # south to north, ~300 km
    geo = build_geography(child_rng(0, 0))
    assert 280_000 < geo.line.length_m < 340_000
    assert [list(c) for c in geo.line.coords] == coords
    x, y = geo.line.place(geo.line.length_m / 2, "west", 10_000.0)
    lon, _ = geo.to_geo(x, y)
    assert lon < coords[len(coords) // 2][0]  # the west side is, indeed, to the west
