"""Gated optimal assignment solved per connected group equals the one big problem."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from truceline.evaluation.assignment import assign, groups


def _global(n: int, m: int, allowed: np.ndarray, cost: np.ndarray) -> tuple[int, float]:
    """Most pairs, then least cost, on the whole matrix at once."""
    if n == 0 or m == 0 or not allowed.any():
        return 0, 0.0
    big = 1.0 + 2.0 * float(cost[allowed].sum())
    matrix = np.where(allowed, cost, big)
    rows, cols = linear_sum_assignment(matrix)
    chosen = [(r, c) for r, c in zip(rows, cols, strict=True) if allowed[r, c]]
    return len(chosen), float(sum(cost[r, c] for r, c in chosen))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 9),
    m=st.integers(0, 9),
    seed=st.integers(0, 2**31),
    density=st.floats(0.05, 0.6),
)
def test_grouped_assignment_matches_the_global_optimum(
    n: int, m: int, seed: int, density: float
) -> None:
    rng = np.random.default_rng(seed)
    allowed = rng.random((n, m)) < density
    cost = rng.uniform(0.0, 100.0, (n, m))
    rows, cols = np.nonzero(allowed)
    chosen = assign(n, m, (rows.astype(np.intp), cols.astype(np.intp), cost[rows, cols]))
    assert len({r for r, _, _ in chosen}) == len(chosen) == len({c for _, c, _ in chosen})
    assert all(allowed[r, c] and cost[r, c] == k for r, c, k in chosen)
    pairs, total = _global(n, m, allowed, cost)
    assert len(chosen) == pairs
    assert abs(sum(k for _, _, k in chosen) - total) < 1e-6


def test_more_pairs_beat_cheaper_pairs() -> None:
    # row 0 could take column 0 cheaply, but then row 1 would get nothing
    rows, cols = np.array([0, 0, 1]), np.array([0, 1, 0])
    chosen = assign(2, 2, (rows, cols, np.array([1.0, 50.0, 60.0])))
    assert chosen == [(0, 1, 50.0), (1, 0, 60.0)]


def test_groups_cover_every_row_and_column_once() -> None:
    found = list(groups(4, 3, [0, 1, 3], [0, 0, 2]))
    rows = sorted(int(r) for g, _ in found for r in g)
    cols = sorted(int(c) for _, g in found for c in g)
    assert rows == [0, 1, 2, 3] and cols == [0, 1, 2]
    linked = [(sorted(g_r.tolist()), sorted(g_c.tolist())) for g_r, g_c in found]
    assert ([0, 1], [0]) in linked and ([3], [2]) in linked and ([2], []) in linked
