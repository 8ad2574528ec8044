"""Innovation gating and source fits of the bearing associator against brute-force references."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import least_squares

from truceline.fusion.acoustic import AcousticDetection, _Chunk
from truceline.fusion.acoustic_gate import Detections, chi2_2dof_gate, gate, gate_one
from truceline.fusion.config import FusionConfig

CONFIG = FusionConfig()
C = CONFIG.sound_speed_mps
T0 = 1_790_000_000.0
STATIONS = [(0.0, 0.0), (10_000.0, 1_000.0), (20_000.0, -500.0), (4_000.0, 12_000.0)]
STATIONS += [(15_000.0, 13_000.0), (25_000.0, 11_000.0)]
WINDOW = (-10.0, 30_000.0 * 1.2 / C + 10.0)


def _field(seed: int) -> tuple[Detections, np.ndarray, np.ndarray, np.ndarray]:
    """Arrivals of 25 sources over 5 minutes plus clutter, and 200 proposals near them."""
    rng = np.random.default_rng(seed)
    sources = np.column_stack(
        [rng.uniform(0, 25_000, 25), rng.uniform(-2_000, 14_000, 25), T0 + rng.uniform(0, 300, 25)]
    )
    rows = []
    for sx, sy, so in sources:
        for k, (x, y) in enumerate(STATIONS):
            r = math.hypot(sx - x, sy - y)
            if rng.random() < 0.7:
                az = math.atan2(sx - x, sy - y) + rng.normal(0, 0.07)
                rows.append((x, y, az, 0.07, so + r / C + rng.normal(0, 0.3), 0.3, 22_000.0, k))
    for _ in range(40):  # clutter
        k = int(rng.integers(len(STATIONS)))
        x, y = STATIONS[k]
        rows.append(
            (x, y, rng.uniform(-math.pi, math.pi), 0.07, T0 + rng.uniform(0, 400), 0.3, 22_000.0, k)
        )
    rows.sort(key=lambda row: row[4])
    a = np.array(rows)
    det = Detections(
        a[:, 0], a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5], a[:, 6], a[:, 7].astype(np.int64),
        C, CONFIG.sound_speed_sigma_mps, CONFIG.acoustic_position_floor_m,
    )  # fmt: skip
    pick = rng.integers(0, 25, 200)
    state = sources[pick] + rng.normal(0, 1, (200, 3)) * [800.0, 800.0, 2.0]
    cov = np.empty((200, 3, 3))
    for i in range(200):  # random covariances, from tight to very loose
        m = rng.normal(0, 1, (3, 3)) * [
            [10 ** rng.uniform(1, 3.5)],
            [10 ** rng.uniform(1, 3.5)],
            [10 ** rng.uniform(-1, 1)],
        ]
        cov[i] = m @ m.T + np.diag([1.0, 1.0, 1e-3])
    clutter = np.log(np.full(det.t.size, 3.0 / (2 * math.pi * 400.0)))
    return det, state, cov, clutter


def _brute_force(
    det: Detections, state: np.ndarray, cov: np.ndarray, clutter: np.ndarray
) -> dict[tuple[int, int], float]:
    """Every (proposal, detection) in the gate, by explicit matrices, one pair at a time."""
    gate_chi2 = chi2_2dof_gate(CONFIG.gate_sigmas)
    found = {}
    for p in range(state.shape[0]):
        x, y, o = state[p]
        for d in range(det.t.size):
            if not o + WINDOW[0] <= det.t[d] <= o + WINDOW[1]:
                continue
            dx, dy = x - det.x[d], y - det.y[d]
            r = math.sqrt(max(dx * dx + dy * dy, 1.0))
            if r > det.max_range[d] * 1.2:
                continue
            jac = np.array([[dy / r**2, -dx / r**2, 0.0], [dx / (r * C), dy / (r * C), 1.0]])
            noise = np.diag(
                [det.az_sigma[d] ** 2 + (4 * det.floor_m / r) ** 2,
                 det.t_sigma[d] ** 2 + (r * det.sound_speed_sigma / C**2) ** 2]
            )  # fmt: skip
            s = noise + jac @ cov[p] @ jac.T
            nu = np.array(
                [
                    (det.az[d] - math.atan2(dx, dy) + math.pi) % (2 * math.pi) - math.pi,
                    det.t[d] - o - r / C,
                ]
            )
            d2 = float(nu @ np.linalg.solve(s, nu))
            llr = -0.5 * d2 - math.log(2 * math.pi) - 0.5 * math.log(np.linalg.det(s)) - clutter[d]
            if d2 <= gate_chi2 and llr > 0:
                found[(p, d)] = llr
    return found


def test_gate_finds_exactly_the_pairs_of_a_brute_force_evaluation() -> None:
    """The per-station time pre-selection must never drop a pair the full gate passes."""
    for seed in (0, 1):
        det, state, cov, clutter = _field(seed)
        expected = _brute_force(det, state, cov, clutter)
        got = gate(det, state, cov, WINDOW, chi2_2dof_gate(CONFIG.gate_sigmas), clutter, block=64)
        pairs = list(zip(got.proposal.tolist(), got.detection.tolist(), strict=True))
        assert len(expected) > 200  # the field exercises the gate
        assert sorted(pairs) == pairs  # sorted by proposal, then detection
        assert set(pairs) == set(expected)
        np.testing.assert_allclose(got.llr, [expected[p] for p in pairs], rtol=1e-5, atol=1e-6)


def test_gate_of_one_source_matches_the_gate_of_many() -> None:
    det, state, cov, clutter = _field(2)
    gate_chi2 = chi2_2dof_gate(CONFIG.gate_sigmas)
    many = gate(det, state, cov, WINDOW, gate_chi2, clutter)
    for p in range(0, 200, 7):
        detection, llr = gate_one(det, state[p], cov[p], WINDOW, gate_chi2, clutter)
        sel = many.proposal == p
        assert detection.tolist() == many.detection[sel].tolist()
        np.testing.assert_allclose(llr, many.llr[sel], rtol=1e-12)


def test_source_fit_agrees_with_a_generic_least_squares_solver() -> None:
    """The closed-form Gauss–Newton fit against scipy's solver on the same residuals."""
    rng = np.random.default_rng(3)
    source = (11_000.0, 6_000.0, T0)
    detections = []
    for k, (x, y) in enumerate(STATIONS[:5]):
        r = math.hypot(source[0] - x, source[1] - y)
        detections.append(
            AcousticDetection(
                k, f"S{k}", x, y, math.atan2(source[0] - x, source[1] - y) + rng.normal(0, 0.07),
                0.07, T0 + r / C + rng.normal(0, 0.3), 0.3, 25_000.0, "other",
            )
        )  # fmt: skip
    chunk = _Chunk(detections, CONFIG)
    fitted = chunk.fit(list(range(5)), 10_000.0, 7_000.0, T0 + 3.0)
    assert fitted is not None
    state, cov3, rms = fitted

    def residuals(s: np.ndarray) -> np.ndarray:
        dx, dy = s[0] - chunk.x, s[1] - chunk.y
        r = np.sqrt(np.maximum(dx * dx + dy * dy, 1.0))
        az_sigma = np.sqrt(chunk.az_sigma**2 + (CONFIG.acoustic_position_floor_m / r) ** 2)
        t_sigma = np.sqrt(chunk.t_sigma**2 + (r * CONFIG.sound_speed_sigma_mps / C**2) ** 2)
        ra = (chunk.az - np.arctan2(dx, dy) + math.pi) % (2 * math.pi) - math.pi
        return np.concatenate([ra / az_sigma, ((chunk.t - T0) - s[2] - r / C) / t_sigma])

    ref = least_squares(
        residuals, [10_000.0, 7_000.0, 3.0], x_scale=[1_000.0, 1_000.0, 1.0], xtol=1e-12
    )
    assert math.hypot(state[0] - ref.x[0], state[1] - ref.x[1]) < 1.0
    assert abs(state[2] - T0 - ref.x[2]) < 1e-3
    assert abs(rms - math.sqrt(float(np.mean(ref.fun**2)))) < 0.01
    # Fisher information of the Gauss–Newton model at the solution (weights held fixed)
    dx, dy = state[0] - chunk.x, state[1] - chunk.y
    r = np.hypot(dx, dy)
    az_sigma = np.sqrt(chunk.az_sigma**2 + (CONFIG.acoustic_position_floor_m / r) ** 2)
    t_sigma = np.sqrt(chunk.t_sigma**2 + (r * CONFIG.sound_speed_sigma_mps / C**2) ** 2)
    jac = np.vstack(
        [
            np.column_stack([dy / r**2, -dx / r**2, np.zeros(5)]) / az_sigma[:, None],
            np.column_stack([dx / (r * C), dy / (r * C), np.ones(5)]) / t_sigma[:, None],
        ]
    )
    np.testing.assert_allclose(cov3, np.linalg.inv(jac.T @ jac), rtol=1e-3)
