"""The detector class map: defaults, normalisation, overrides, refusals."""

from __future__ import annotations

import pytest

from truceline.drone.classmap import DEFAULT_CLASS_MAP, ClassMap, ClassTarget, normalise_label
from truceline.model import RecordError
from truceline.model.vocab import ACTIVITY_KINDS, WEAPON_CLASSES


def test_labels_are_normalised() -> None:
    assert normalise_label(" T-72 ") == normalise_label("t_72") == "t72"
    classes = ClassMap()
    assert classes.lookup("T-72") == ClassTarget("equipment", "tank")
    assert classes.lookup("BM-21") == ClassTarget("equipment", "mlrs")
    assert classes.lookup("2S19") == ClassTarget("equipment", "artillery_ge100")


def test_default_map_targets_are_known() -> None:
    classes = ClassMap()
    for label in DEFAULT_CLASS_MAP:
        target = classes.lookup(label)
        assert target is not None
        assert target.kind in ACTIVITY_KINDS
        assert target.weapon_class is None or target.weapon_class in WEAPON_CLASSES
    mapped = {classes.lookup(label) for label in DEFAULT_CLASS_MAP}
    assert {t.weapon_class for t in mapped if t is not None} >= WEAPON_CLASSES


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("fire", "thermal_anomaly"),
        ("smoke", "smoke"),
        ("crater", "crater"),
        ("trench", "earthworks"),
        ("troops", "military_presence"),
    ],
)
def test_activities(label: str, kind: str) -> None:
    assert ClassMap().lookup(label) == ClassTarget(kind)


def test_overrides_extend_and_replace_defaults() -> None:
    classes = ClassMap({"veh_7": "armoured_vehicle", "tank": "armoured_vehicle", "car": "ignore"})
    assert classes.lookup("VEH-7") == ClassTarget("equipment", "armoured_vehicle")
    assert classes.lookup("tank") == ClassTarget("equipment", "armoured_vehicle")
    assert classes.lookup("car") is None
    assert "car" in classes and "bicycle" not in classes


def test_unmapped_label_is_refused_by_name() -> None:
    with pytest.raises(RecordError) as info:
        ClassMap().lookup("person")
    assert info.value.field == "label"
    assert "'person'" in info.value.message


@pytest.mark.parametrize(
    ("target", "reason"), [("battleship", "unknown target"), (3, "target name")]
)
def test_bad_override_names_its_label(target: object, reason: str) -> None:
    with pytest.raises(RecordError) as info:
        ClassMap({"thing": target})
    assert info.value.field == "class_map.thing"
    assert reason in info.value.message


def test_families_group_confusable_classes() -> None:
    tank = ClassTarget("equipment", "tank")
    apc = ClassTarget("equipment", "armoured_vehicle")
    howitzer = ClassTarget("equipment", "artillery_ge100")
    assert tank.family == apc.family != howitzer.family
    assert ClassTarget("crater").family == "crater"
