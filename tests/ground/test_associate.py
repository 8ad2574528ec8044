"""Network association on synthetic local and regional networks, and array grouping."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from truceline.ground.arrays import assign_arrays, group_arrays
from truceline.ground.associate import AssociationConfig, AssociationResult, associate
from truceline.ground.base import Arrival
from truceline.model.geo import LocalFrame, geodesic_distance_m
from truceline.testing.ground import SCENE_ATMOSPHERE, association_counts, association_scene

ATMOSPHERE = SCENE_ATMOSPHERE


def _scene(
    seed: int, *, regional: bool, bearing_frac: float, false_frac: float = 0.25
) -> tuple[list[Arrival], dict[str, int], np.ndarray]:
    scene = association_scene(
        seed, regional=regional, bearing_frac=bearing_frac, false_frac=false_frac
    )
    return scene.arrivals, scene.truth, scene.sources


def _event_f1(result: AssociationResult, truth: dict[str, int]) -> float:
    """F1 of events: a found event is right when >= 2/3 of its members share a true source."""
    tp, found, n_true = association_counts(result, truth)
    if not tp:
        return 0.0
    precision, recall = tp / found, tp / n_true
    return 2 * precision * recall / (precision + recall)


def test_local_mixed_network_recovers_overlapping_events() -> None:
    arrivals, truth, sources = _scene(3, regional=False, bearing_frac=0.5)
    result = associate(arrivals, ATMOSPHERE)
    assert _event_f1(result, truth) >= 0.95
    false_ids = [a.id for a in arrivals if a.id not in truth]
    assert len(false_ids) >= 0.2 * len(arrivals)
    assert sum(f in result.unassociated for f in false_ids) >= 0.8 * len(false_ids)
    for event in result.events:
        assert event.n_stations >= 3
        stations = [a.station for a in arrivals if a.id in event.members]
        assert len(stations) == len(set(stations))  # one arrival per station
        nearest = min(geodesic_distance_m(event.lon, event.lat, *s) for s in sources)
        assert nearest < 300.0
        assert event.cov_m2[0] > 0 and event.cov_m2[2] > 0
    members = {m for e in result.events for m in e.members}
    assert members.isdisjoint(result.unassociated)
    assert members | set(result.unassociated) == {a.id for a in arrivals}


def test_local_tdoa_only_network() -> None:
    arrivals, truth, _ = _scene(0, regional=False, bearing_frac=0.0)
    assert all(a.azimuth_deg is None for a in arrivals)
    result = associate(arrivals, ATMOSPHERE)
    assert _event_f1(result, truth) >= 0.95
    assert all(e.n_stations >= 5 for e in result.events)  # redundancy 2 on times alone


def test_result_does_not_depend_on_input_order() -> None:
    arrivals, _, _ = _scene(5, regional=False, bearing_frac=0.5)
    shuffled = list(arrivals)
    np.random.default_rng(1).shuffle(shuffled)
    assert associate(shuffled, ATMOSPHERE) == associate(arrivals, ATMOSPHERE)


def test_regional_arrays_bearings_do_the_work() -> None:
    arrivals, truth, sources = _scene(1, regional=True, bearing_frac=1.0)
    result = associate(arrivals, config=AssociationConfig.regional())
    # every source is found within 60 km; with celerity windows of many minutes
    # a few false arrivals also cross into an event (precision is the weak side)
    for lon, lat in sources:
        assert min(geodesic_distance_m(e.lon, e.lat, lon, lat) for e in result.events) < 60_000.0
    assert _event_f1(result, truth) >= 0.8


def test_two_stations_are_not_enough_without_bearings() -> None:
    arrivals, _, _ = _scene(2, regional=False, bearing_frac=0.0, false_frac=0.0)
    two = [a for a in arrivals if a.station in {"S00", "S01"}]
    assert associate(two, ATMOSPHERE).events == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_s": float("nan")}, "not finite"),
        ({"time_sigma_s": 0.0}, "must be positive"),
        ({"azimuth_sigma_deg": None}, "go together"),
    ],
)
def test_bad_arrivals_are_rejected(change: dict[str, object], message: str) -> None:
    arrivals, _, _ = _scene(0, regional=False, bearing_frac=1.0)
    broken = [dataclasses.replace(arrivals[0], **change), *arrivals[1:]]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        associate(broken)
    with pytest.raises(ValueError, match="twice"):
        associate([arrivals[0], arrivals[0]])


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="celerity"):
        AssociationConfig(celerity_mps=(340.0, 250.0))
    with pytest.raises(ValueError, match="min_stations"):
        AssociationConfig(min_stations=1)


def test_group_arrays_single_link_and_ids() -> None:
    frame = LocalFrame(-117.0, 33.0)
    elements = {"BRP1": (0, 0), "BRP2": (600, 0), "BRP3": (1200, 300), "BRP4": (300, 500)}
    far = {"X7": (50_000, 0), "Y1": (0, 80_000), "Y2": (900, 80_000)}
    sensors = [(k, *frame.point_to_geo(*xy)) for k, xy in {**elements, **far}.items()]
    arrays = group_arrays(sensors)
    assert [a.id for a in arrays] == ["BRP", "X7", "Y"]
    brp = arrays[0]
    assert brp.elements == ("BRP1", "BRP2", "BRP3", "BRP4")  # BRP3 joins through BRP2
    cx, cy = frame.point_to_local(brp.lon, brp.lat)
    assert abs(cx - 525.0) < 1.0 and abs(cy - 200.0) < 1.0
    assert 1200.0 < brp.aperture_m < 1300.0
    assert group_arrays(list(reversed(sensors))) == arrays
    arrival = Arrival("p1", "BRP3", sensors[2][1], sensors[2][2], 0.0, 1.0, 10.0, 2.0, 1e6, "x", 1)
    (moved,) = assign_arrays([arrival], arrays)
    assert (moved.station, moved.lon, moved.lat) == ("BRP", brp.lon, brp.lat)
    with pytest.raises(KeyError, match="no array"):
        assign_arrays([dataclasses.replace(arrival, station="Z")], arrays)


def test_group_arrays_warns_on_coincident_sensors(caplog: pytest.LogCaptureFixture) -> None:
    arrays = group_arrays([("A1", 30.0, 50.0), ("A2", 30.0, 50.0)])
    assert [a.id for a in arrays] == ["A"]
    assert "same position" in caplog.text
