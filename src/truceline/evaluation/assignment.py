"""Optimal one-to-one assignment under gates, solved per connected group.

Both scorers pair true with estimated events: every pair that passes the
gates has a cost, the others are forbidden. The assignment first maximises
the number of pairs, then minimises their total cost (Hungarian algorithm,
:func:`scipy.optimize.linear_sum_assignment`). Pairs only compete inside a
connected group of the bipartite graph of allowed pairs, so each group is
solved on its own: the same optimum as one big problem, at a fraction of the
cost (thousands of burns and hot spots a week fall into small groups).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = ["Pairs", "assign", "groups"]

#: ``(row, column, cost)`` arrays of the allowed pairs.
Pairs = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64]]


def _labels(
    n_rows: int, n_cols: int, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """Connected-group label of every row, then every column."""
    size = n_rows + n_cols
    graph = coo_matrix((np.ones(rows.size), (rows, cols + n_rows)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.intp)


def groups(
    n_rows: int, n_cols: int, rows: Sequence[int], cols: Sequence[int]
) -> Iterator[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """Connected groups of a bipartite graph: ``(row indices, column indices)`` each.

    Rows and columns that take part in no edge come out as groups of one.
    """
    labels = _labels(
        n_rows, n_cols, np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
    )
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    for members in np.split(order, bounds):
        yield members[members < n_rows], members[members >= n_rows] - n_rows


def assign(n_rows: int, n_cols: int, pairs: Pairs) -> list[tuple[int, int, float]]:
    """Most pairs, then least total cost: ``(row, column, cost)`` sorted by row.

    Parameters
    ----------
    n_rows, n_cols
        Numbers of true and estimated items.
    pairs
        The allowed pairs and their finite, non-negative costs (one entry per pair).
    """
    rows, cols, costs = pairs
    if rows.size == 0:
        return []
    labels = _labels(n_rows, n_cols, rows, cols)
    edge_group = labels[rows]
    order = np.argsort(edge_group, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_group[order])) + 1
    result: list[tuple[int, int, float]] = []
    for edges in np.split(order, bounds):
        group_r, local_r = np.unique(rows[edges], return_inverse=True)
        group_c, local_c = np.unique(cols[edges], return_inverse=True)
        # a forbidden cell costs more than all allowed ones together: most pairs first
        forbidden = 1.0 + 2.0 * float(costs[edges].sum())
        matrix = np.full((group_r.size, group_c.size), forbidden)
        matrix[local_r, local_c] = costs[edges]
        allowed = np.zeros(matrix.shape, dtype=bool)
        allowed[local_r, local_c] = True
        chosen_r, chosen_c = linear_sum_assignment(matrix)
        for i, j in zip(chosen_r, chosen_c, strict=True):
            if allowed[i, j]:
                result.append((int(group_r[i]), int(group_c[j]), float(matrix[i, j])))
    return sorted(result)
