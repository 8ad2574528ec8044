"""Bearing association (truceline.fusion.acoustic): many simultaneous sources, gates, order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from truceline.fusion.acoustic import AcousticDetection, AcousticSource, associate_acoustic
from truceline.fusion.acoustic_gate import Detections, chi2_2dof_gate, fit_pairs, pairs
from truceline.fusion.config import FusionConfig
from truceline.fusion.gates import ArrivalClass, arrivals_interact, ground_units, local_gap_s

CONFIG = FusionConfig()
C = CONFIG.sound_speed_mps
T0 = 1_790_000_000.0

#: A field of sensors 8-12 km apart, like a row pair of the demo network (metres).
STATIONS = {
    "S1": (0.0, 0.0),
    "S2": (10_000.0, 1_000.0),
    "S3": (20_000.0, -500.0),
    "S4": (4_000.0, 12_000.0),
    "S5": (15_000.0, 13_000.0),
    "S6": (25_000.0, 11_000.0),
}
AZ_SIGMA = math.radians(4.0)
T_SIGMA = 0.3


def _hear(
    rng: np.random.Generator, source: tuple[float, float, float], names: list[str], start: int
) -> list[AcousticDetection]:
    """Detections of a source ``(x, y, origin)`` at ``names``, noisy as the simulator's sensors."""
    x, y, origin = source
    out = []
    for k, name in enumerate(names):
        sx, sy = STATIONS[name]
        r = math.hypot(x - sx, y - sy)
        out.append(
            AcousticDetection(
                index=start + k,
                station=name,
                x=sx,
                y=sy,
                azimuth_rad=math.atan2(x - sx, y - sy) + float(rng.normal(0.0, AZ_SIGMA)),
                azimuth_sigma_rad=AZ_SIGMA,
                time_s=origin + r / C + float(rng.normal(0.0, T_SIGMA)),
                time_sigma_s=T_SIGMA,
                max_range_m=25_000.0,
                family="other",
            )
        )
    return out


def _storm(seed: int) -> tuple[list[tuple[float, float, float]], list[list[AcousticDetection]]]:
    """Eight thunder strokes in 100 s scattered over the field, each heard at 3-4 stations."""
    rng = np.random.default_rng(seed)
    strokes = []
    heard: list[list[AcousticDetection]] = []
    index = 0
    for k in range(8):
        source = (
            float(rng.uniform(2_000.0, 23_000.0)),
            float(rng.uniform(2_000.0, 10_000.0)),
            T0 + 12.5 * k + float(rng.uniform(0.0, 5.0)),
        )
        names = sorted(STATIONS, key=lambda n: math.dist(STATIONS[n], source[:2]))
        chosen = names[: 3 + k % 2]
        strokes.append(source)
        heard.append(_hear(rng, source, chosen, index))
        index += len(chosen)
    return strokes, heard


def _owner(sources: list[AcousticSource], members: set[int]) -> AcousticSource | None:
    return next((s for s in sources if set(s.members) == members), None)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 6])
def test_storm_of_simultaneous_strokes_is_resolved(seed: int) -> None:
    """Eight strokes within 100 s, arrivals interleaved at every station.

    Pair crossings of 4° bearings fall a kilometre or more from the stroke,
    so gating the third station against an exact crossing (the old
    associator) formed 1 to 5 of them; the innovation gate and the joint
    reassignment form at least six, each where its stroke was, and invent none.
    """
    strokes, heard = _storm(seed)
    detections = [d for stroke in heard for d in stroke]
    sources, _ = associate_acoustic(detections, CONFIG)
    formed = 0
    for (x, y, origin), dets in zip(strokes, heard, strict=True):
        source = _owner(sources, {d.index for d in dets})
        if source is not None:
            formed += 1
            assert math.hypot(source.x - x, source.y - y) < 2_500.0
            assert abs(source.origin_s - origin) < 6.0
    assert formed >= 6
    assert len(sources) <= len(strokes)
    stroke_of = {d.index: k for k, dets in enumerate(heard) for d in dets}
    for source in sources:
        # each source is essentially one stroke: all but at most one member
        counts = np.bincount([stroke_of[m] for m in source.members])
        assert int(counts.max()) >= len(source.members) - 1


def test_a_resolvable_storm_is_formed_exactly() -> None:
    _, heard = _storm(0)
    sources, unassociated = associate_acoustic([d for h in heard for d in h], CONFIG)
    assert sorted(s.members for s in sources) == sorted(tuple(d.index for d in h) for h in heard)
    assert unassociated == []


def _mission(
    rng: np.random.Generator, origin: float, rounds: int, start: int
) -> list[AcousticDetection]:
    """A battery at one position firing ``rounds`` rounds 3 s apart, heard at four stations."""
    out: list[AcousticDetection] = []
    for k in range(rounds):
        heard = _hear(rng, (12_000.0, 6_000.0, origin + 3.0 * k), ["S1", "S2", "S3", "S5"], start)
        out.extend(AcousticDetection(**{**_fields(d), "family": "launch"}) for d in heard)
        start += len(heard)
    return out


def _fields(d: AcousticDetection) -> dict[str, object]:
    return {name: getattr(d, name) for name in AcousticDetection.__slots__}


def test_salvo_is_one_source_and_successive_missions_are_two() -> None:
    rng = np.random.default_rng(2)
    first = _mission(rng, T0, 4, 0)
    second = _mission(rng, T0 + 300.0, 4, len(first))
    sources, unassociated = associate_acoustic([*first, *second], CONFIG)
    # one source per mission, holding (all but perhaps one of) its rounds' arrivals
    assert len(sources) == 2
    for source, mission in zip(sources, (first, second), strict=True):
        indices = {d.index for d in mission}
        assert set(source.members) <= indices
        assert len(source.members) >= len(indices) - 1
    assert len(unassociated) <= 2
    for source, origin in zip(sources, (T0, T0 + 300.0), strict=True):
        assert math.hypot(source.x - 12_000.0, source.y - 6_000.0) < 1_000.0
        assert abs(source.origin_s - origin) < 10.0


def test_result_does_not_depend_on_input_order() -> None:
    _, heard = _storm(5)
    detections = [d for stroke in heard for d in stroke]
    expected = associate_acoustic(detections, CONFIG)
    rng = np.random.default_rng(9)
    for _ in range(3):
        shuffled = [detections[i] for i in rng.permutation(len(detections))]
        assert associate_acoustic(shuffled, CONFIG) == expected


def test_two_stations_do_not_make_a_source() -> None:
    rng = np.random.default_rng(4)
    detections = _hear(rng, (8_000.0, 6_000.0, T0), ["S1", "S2"], 0)
    sources, unassociated = associate_acoustic(detections, CONFIG)
    assert sources == []
    assert unassociated == [0, 1]


def test_detections_of_different_strokes_do_not_form_a_ghost() -> None:
    """Three stations each hearing a *different* stroke: the joint fit must fail."""
    rng = np.random.default_rng(6)
    detections = [
        *_hear(rng, (5_000.0, 5_000.0, T0), ["S1"], 0),
        *_hear(rng, (18_000.0, 4_000.0, T0 + 20.0), ["S3"], 1),
        *_hear(rng, (12_000.0, 9_000.0, T0 + 45.0), ["S5"], 2),
    ]
    sources, _ = associate_acoustic(detections, CONFIG)
    assert sources == []


def _arrays(detections: list[AcousticDetection]) -> Detections:
    return Detections(
        np.array([d.x for d in detections]),
        np.array([d.y for d in detections]),
        np.array([d.azimuth_rad for d in detections]),
        np.array([d.azimuth_sigma_rad for d in detections]),
        np.array([d.time_s for d in detections]),
        np.array([d.time_sigma_s for d in detections]),
        np.array([d.max_range_m for d in detections]),
        np.array([int(d.station[1:]) for d in detections], dtype=np.int64),
        C,
        CONFIG.sound_speed_sigma_mps,
        CONFIG.acoustic_position_floor_m,
    )


def test_pair_fit_recovers_a_noise_free_source_and_its_uncertainty() -> None:
    source = (9_000.0, 7_000.0, T0)
    detections = []
    for k, name in enumerate(["S1", "S2"]):
        sx, sy = STATIONS[name]
        r = math.hypot(source[0] - sx, source[1] - sy)
        detections.append(
            AcousticDetection(
                k, name, sx, sy, math.atan2(source[0] - sx, source[1] - sy), AZ_SIGMA,
                T0 + r / C, T_SIGMA, 25_000.0, "other",
            )
        )  # fmt: skip
    det = _arrays(detections)
    first, second = pairs(det, 10.0)
    assert (first.tolist(), second.tolist()) == ([0], [1])
    fits = fit_pairs(det, first, second, 9.0)
    assert fits.state.shape == (1, 3)
    np.testing.assert_allclose(fits.state[0], source, atol=1e-3)
    sigma_x = math.sqrt(fits.cov[0, 0, 0])
    # two bearings of 4 degrees at ~10 km: a few hundred metres, not metres nor tens of km
    assert 100.0 < sigma_x < 3_000.0


def test_pairs_skip_one_station_and_incompatible_times() -> None:
    rng = np.random.default_rng(1)
    a = _hear(rng, (8_000.0, 6_000.0, T0), ["S1", "S2"], 0)
    late = _hear(rng, (8_000.0, 6_000.0, T0 + 500.0), ["S1"], 2)
    det = _arrays(sorted([*a, *late], key=lambda d: d.time_s))
    first, second = pairs(det, 10.0)
    assert list(zip(first.tolist(), second.tolist(), strict=True)) == [(0, 1)]


def test_two_dimensional_gate_matches_the_one_dimensional_tail() -> None:
    tail = math.erfc(3.0 / math.sqrt(2.0))
    assert math.exp(-chi2_2dof_gate(3.0) / 2.0) == pytest.approx(tail)
    assert chi2_2dof_gate(3.0) == pytest.approx(11.83, abs=0.01)


def test_arrivals_of_one_source_with_different_labels_are_combined() -> None:
    """Thunder labelled ``explosion`` at one of its three stations is still one stroke."""
    rng = np.random.default_rng(8)
    heard = _hear(rng, (11_000.0, 5_000.0, T0), ["S1", "S2", "S3"], 0)
    detections = [
        AcousticDetection(**{**_fields(d), "family": "impact" if d.station == "S2" else "other"})
        for d in heard
    ]
    sources, unassociated = associate_acoustic(detections, CONFIG)
    assert [s.members for s in sources] == [(0, 1, 2)]
    assert unassociated == []
    assert math.hypot(sources[0].x - 11_000.0, sources[0].y - 5_000.0) < 2_000.0


def test_bearings_with_different_labels_share_a_unit() -> None:
    """The first level's units must let the associator combine labels (fusion/gates.py)."""
    arrivals = [
        ArrivalClass(T0, "other", False, 100.0),
        ArrivalClass(T0 + 5.0, "impact", False, 100.0),
        ArrivalClass(T0 + 500.0, "impact", False, 100.0),
    ]
    gap = local_gap_s(CONFIG)
    assert arrivals_interact(arrivals[0], arrivals[1], gap)
    assert not arrivals_interact(arrivals[1], arrivals[2], gap)
    assert sorted(ground_units(arrivals, gap)) == [[0, 1], [2]]
