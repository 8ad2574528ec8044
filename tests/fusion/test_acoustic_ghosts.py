"""Ghosts of salvos (truceline.fusion.acoustic._explained_by): loud weapons outrun rated ranges."""

from __future__ import annotations

import math

from truceline.fusion.acoustic import AcousticDetection, AcousticSource, _Chunk, _explained_by
from truceline.fusion.config import FusionConfig

CONFIG = FusionConfig()
C = CONFIG.sound_speed_mps
T0 = 1_790_000_000.0
#: The launcher of a heavy rocket salvo, metres.
LAUNCHER = (12_000.0, 40_000.0)
#: Sensors rated for 18 km: three within it, two 25-26 km away that still hear the salvo.
STATIONS = {
    "N1": (12_000.0, 25_000.0),
    "N2": (4_000.0, 28_000.0),
    "N3": (20_000.0, 28_000.0),
    "F1": (-2_000.0, 18_000.0),
    "F2": (26_000.0, 17_000.0),
}
RATED_RANGE_M = 18_000.0


def _round(index: int, station: str, origin: float, family: str) -> AcousticDetection:
    """The arrival at ``station`` of a round fired from the launcher at ``origin`` (noise-free)."""
    x, y = STATIONS[station]
    r = math.hypot(LAUNCHER[0] - x, LAUNCHER[1] - y)
    return AcousticDetection(
        index, station, x, y, math.atan2(LAUNCHER[0] - x, LAUNCHER[1] - y), math.radians(4.0),
        origin + r / C, 0.3, RATED_RANGE_M, family,
    )  # fmt: skip


def _sources(family: str) -> tuple[_Chunk, AcousticSource, AcousticSource]:
    """A located first round, and a ghost made of later rounds heard at the two far stations."""
    detections = [
        _round(0, "N1", T0, family),
        _round(1, "N2", T0, family),
        _round(2, "N3", T0, family),
        _round(3, "F1", T0 + 8.0, family),
        _round(4, "F2", T0 + 17.0, family),
        _round(5, "N1", T0 + 25.0, family),
    ]
    chunk = _Chunk(detections, CONFIG)
    strong = AcousticSource(LAUNCHER[0], LAUNCHER[1], (1e4, 0.0, 1e4), T0, 0.3, (0, 1, 2), 0.5)
    # the crossing of rounds 2, 3 and 4: kilometres south of the launcher, seconds later
    ghost = AcousticSource(12_000.0, 31_000.0, (4e5, 0.0, 4e5), T0 + 20.0, 1.0, (3, 4, 5), 0.9)
    return chunk, strong, ghost


def test_far_rounds_of_a_salvo_are_folded_into_it() -> None:
    """The demo's 75-round attack salvo was heard at 28 km by sensors rated 18-22 km.

    Its bearings there point at the launcher and its arrivals fit rounds fired
    within the salvo window, so the ghost they make is the salvo's; refusing
    the fold because the launcher is "out of range" of a station that heard
    it left two false launch sites (and violations) on default seed 0.
    """
    chunk, strong, ghost = _sources("launch")
    for name in ("F1", "F2"):
        x, y = STATIONS[name]
        assert math.hypot(LAUNCHER[0] - x, LAUNCHER[1] - y) > 1.2 * RATED_RANGE_M
    assert _explained_by(chunk, ghost, strong, fires=True)


def test_rated_range_still_vetoes_for_sounds_without_salvos() -> None:
    """Thunder has no salvos: a stroke beyond the sensors' range is not the other stroke."""
    chunk, strong, ghost = _sources("other")
    assert not _explained_by(chunk, ghost, strong, fires=False)


def test_rounds_outside_the_salvo_window_are_not_folded() -> None:
    chunk, strong, ghost = _sources("launch")
    late = AcousticSource(
        ghost.x, ghost.y, ghost.cov, T0 + CONFIG.salvo_window_s + 30.0, 1.0, ghost.members, 0.9
    )
    assert not _explained_by(chunk, late, strong, fires=True)
