"""Who fired at an impact: the posterior over its candidate launches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from truceline.ground.attribution import UNDETERMINED, OriginSide
from truceline.ground.fired_from import direction_log_ratio, fired_from

PARTIES = ("west", "east")


def _origin(event_id: str, west: float, version: str = "v1") -> OriginSide:
    side = "west" if west >= 0.9 else "east" if west <= 0.1 else UNDETERMINED
    return OriginSide(event_id, side, (("west", west), ("east", 1.0 - west)), 0.9, 2000, version)


def test_posterior_weighs_each_launch_by_its_likelihood_ratio_and_keeps_an_unseen_share() -> None:
    llr = np.array([math.log(30.0), math.log(9.0)])
    origins = {"a": _origin("a", 1.0), "b": _origin("b", 0.0)}
    result = fired_from(llr, ["a", "b"], origins, PARTIES, 0.9)
    total = 1.0 + 30.0 + 9.0
    assert result.unseen == pytest.approx(1.0 / total, abs=1e-6)
    assert dict(result.launches) == pytest.approx({"a": 30.0 / total, "b": 9.0 / total}, abs=1e-6)
    assert dict(result.probabilities) == pytest.approx(
        {"west": 30.0 / total, "east": 9.0 / total}, abs=1e-6
    )
    assert result.side == UNDETERMINED  # 0.75 for west: below the threshold


def test_a_single_convincing_launch_decides_the_side() -> None:
    result = fired_from(np.array([8.0]), ["a"], {"a": _origin("a", 0.0)}, PARTIES, 0.9)
    assert result.side == "east"
    assert result.agreement_versions == ("v1",)


def test_no_candidate_means_nobody_is_named() -> None:
    result = fired_from(np.array([]), [], {}, PARTIES, 0.9)
    assert result.side == UNDETERMINED
    assert result.unseen == 1.0
    assert dict(result.probabilities) == {"west": 0.0, "east": 0.0}


def test_a_launch_without_a_side_counts_for_no_party() -> None:
    # the likelier launch fired before any agreement was in force: no line, no party
    result = fired_from(
        np.array([9.0, 2.0]), ["a", "b"], {"a": None, "b": _origin("b", 1.0)}, PARTIES, 0.9
    )
    assert result.side == UNDETERMINED
    assert dict(result.probabilities)["west"] < 0.01


def test_result_does_not_depend_on_candidate_order() -> None:
    origins = {"a": _origin("a", 1.0), "b": _origin("b", 0.3), "c": _origin("c", 0.0)}
    llr = np.array([3.0, 1.0, 2.0])
    forward = fired_from(llr, ["a", "b", "c"], origins, PARTIES, 0.9)
    backward = fired_from(llr[::-1].copy(), ["c", "b", "a"], origins, PARTIES, 0.9)
    assert forward == backward


def test_direction_of_fire_favours_a_launch_across_the_line() -> None:
    landed_east = {"west": 0.0, "east": 1.0}
    across = direction_log_ratio(_origin("a", 1.0), landed_east, 0.01)
    same = direction_log_ratio(_origin("b", 0.0), landed_east, 0.01)
    # related: across with 0.99, same side with 0.01; unrelated: either side 1/2
    assert across == pytest.approx(math.log(2 * 0.99))
    assert same == pytest.approx(math.log(2 * 0.01))


def test_direction_of_fire_says_nothing_when_a_side_is_unknown() -> None:
    straddling = direction_log_ratio(_origin("a", 0.5), {"west": 0.0, "east": 1.0}, 0.01)
    on_the_line = direction_log_ratio(_origin("a", 1.0), {"west": 0.5, "east": 0.5}, 0.01)
    no_version = direction_log_ratio(None, {"west": 0.0, "east": 1.0}, 0.01)
    assert straddling == pytest.approx(0.0)
    assert on_the_line == pytest.approx(0.0)
    assert no_version == 0.0


def test_direction_of_fire_mixes_uncertain_sides() -> None:
    # launch west with 0.8, impact east with 0.9: P(same side) = 0.8*0.1 + 0.2*0.9 = 0.26
    got = direction_log_ratio(_origin("a", 0.8), {"west": 0.1, "east": 0.9}, 0.05)
    assert got == pytest.approx(math.log(2 * (0.05 * 0.26 + 0.95 * 0.74)))


def test_direction_of_fire_rejects_a_share_outside_the_unit_interval() -> None:
    for share in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="own_side_share"):
            direction_log_ratio(_origin("a", 1.0), {"west": 1.0, "east": 0.0}, share)
