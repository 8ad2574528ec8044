"""The kind of a located source from its labels' likelihood, and rounds heard as another kind."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from truceline.fusion import FusionConfig
from truceline.fusion.confidence import DEFAULT_LABEL_CONFUSION, label_log_likelihoods
from truceline.fusion.engine import fuse_items
from truceline.fusion.items import Item, isotropic
from truceline.fusion.reliability_file import load_reliability_file, with_reliability_file
from truceline.fusion.sources import ItemFactory
from truceline.model import LocalFrame, Observation, PointLocation
from truceline.model.errors import RecordError

T0 = datetime(2026, 11, 2, 5, 43, tzinfo=UTC)
FRAME = LocalFrame(37.9, 48.5)
ACOUSTIC = DEFAULT_LABEL_CONFUSION["acoustic"]


def test_low_confidence_labels_of_another_kind_weigh_little() -> None:
    # a launch round two stations call an impact without conviction (classifiers
    # are confident when right): its labels favour a launch over an impact
    weak = label_log_likelihoods([("impact", 0.45), ("impact", 0.5), ("launch", 0.85)], ACOUSTIC)
    assert weak["launch"] > weak["impact"]
    # the same labels made with conviction are an impact
    sure = label_log_likelihoods([("impact", 0.85), ("impact", 0.9), ("launch", 0.45)], ACOUSTIC)
    assert sure["impact"] > sure["launch"]


def test_a_label_no_kind_is_named_after_speaks_through_the_rates_alone() -> None:
    # "other" is said of thunder 80 % of the time, of gunfire 10 %: the
    # confidence of the label does not enter
    for confidence in (0.3, 0.9):
        result = label_log_likelihoods([("other", confidence)], ACOUSTIC)
        assert result["thunder"] - result["gunfire"] == pytest.approx(math.log(8.0), abs=1e-9)
    assert label_log_likelihoods([], ACOUSTIC) == {}


def test_configured_confusion_rows_replace_the_defaults() -> None:
    config = FusionConfig.from_dict(
        {"label_confusion": {"acoustic": {"launch": {"launch": 0.5, "impact": 0.5}}}}
    )
    assert config.confusion("acoustic")["launch"] == {"launch": 0.5, "impact": 0.5}
    assert config.confusion("acoustic")["impact"] == ACOUSTIC["impact"]
    assert config.confusion("seismic") == {}
    assert FusionConfig.from_dict(config.to_dict()) == config
    # an empty table leaves the configuration (and its digest) as it was
    assert "label_confusion" not in FusionConfig().to_dict()
    with pytest.raises(ValueError, match=r"label_confusion\.acoustic\.launch"):
        FusionConfig(
            label_confusion=(
                ("acoustic", "launch", "launch", 0.8),
                ("acoustic", "launch", "impact", 0.3),
            )
        )
    with pytest.raises(ValueError, match=r"label_confusion\.acoustic\.launch\.impact"):
        FusionConfig.from_dict({"label_confusion": {"acoustic": {"launch": {"impact": "x"}}}})


def _source(
    factory: ItemFactory, east_m: float, seconds: float, labels: list[tuple[str, float]]
) -> Item:
    """A source located ``east_m`` from the gun from picks with these labels."""
    t = T0 + timedelta(seconds=seconds)
    lon, lat = FRAME.point_to_geo(east_m, 0.0)
    members = [
        (
            f"o{seconds:.0f}-{k}",
            Observation(
                f"acoustic:A{k:03d}", "acoustic", kind, t, PointLocation.isotropic(lon, lat, 300.0),
                attributes={"confidence": confidence},
            ),
        )
        for k, (kind, confidence) in enumerate(labels)
    ]  # fmt: skip
    return factory.located_item(members, lon, lat, isotropic(300.0), t.timestamp(), 0.5)


def _mission(last: list[tuple[str, float]]) -> list[Item]:
    """Two launch rounds at the gun, and a third source 130 s after the second."""
    factory = ItemFactory({}, FusionConfig())
    rounds = [("launch", 0.85), ("launch", 0.8), ("launch", 0.9), ("explosion", 0.4)]
    return [
        _source(factory, 0.0, 0.0, rounds),
        _source(factory, 50.0, 20.0, rounds),
        _source(factory, 250.0, 150.0, last),
    ]


def test_a_launch_round_heard_as_an_impact_at_the_gun_is_a_round_of_the_launch() -> None:
    # the third source is outside the 120 s salvo window of every launch round,
    # labelled impact, impact, launch: the vote calls it an impact
    items = _mission([("impact", 0.45), ("impact", 0.5), ("launch", 0.85)])
    assert items[2].kind == "impact"
    events = fuse_items(items, FusionConfig())
    assert [e.kind for e in events] == ["launch"]
    assert len(events[0].members) == 11


def test_counter_battery_fire_heard_with_conviction_stays_an_impact() -> None:
    # the same place and time, but the stations are sure it was an impact:
    # shells landing on the gun position are an event of their own
    items = _mission([("impact", 0.85), ("impact", 0.9), ("explosion", 0.8)])
    events = fuse_items(items, FusionConfig())
    assert sorted(e.kind for e in events) == ["impact", "launch"]


def test_a_reliability_file_overrides_confusion_rows(tmp_path: Path) -> None:
    path = tmp_path / "reliability.yaml"
    path.write_text(
        "format: truceline-reliability/1\n"
        "label_confusion:\n  acoustic:\n    launch: {launch: 0.9, impact: 0.1}\n",
        encoding="utf-8",
    )
    base = FusionConfig(label_confusion=(("acoustic", "launch", "explosion", 0.3),))
    config = with_reliability_file(base, path)
    assert config.confusion("acoustic")["launch"] == {"launch": 0.9, "impact": 0.1}
    path.write_text(
        "format: truceline-reliability/1\n"
        "label_confusion:\n  acoustic:\n    launch: {impact: high}\n",
        encoding="utf-8",
    )
    with pytest.raises(RecordError, match=r"label_confusion\.acoustic\.launch\.impact"):
        load_reliability_file(path)
