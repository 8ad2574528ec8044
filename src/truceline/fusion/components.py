"""Independent components: why fusing all data equals fusing each part alone.

Two things *interact* when some stage of the fusion could put them in one
event (or pair them into one trajectory). The relation is a pairwise
predicate — a gate — that depends on the two things only. Its connected
components partition the data into parts that cannot influence each other,
so the engine fuses each component on its own (in its own metric frame, in a
canonical order) and the result on all data is, by construction, the union of
the results on the components. A new observation can only change the
component it joins: the live mode re-fuses that component and nothing else,
and ends with exactly what a batch run on the same data gives.

This module holds the generic machinery; the gates themselves live in
:mod:`truceline.fusion.gates`:

* :func:`components_from_pairs` — connected components of a batch, from its
  gated pairs (``scipy.sparse.csgraph``);
* :func:`box_pairs` — every intersecting pair between two sets of space-time
  boxes, vectorised with a grid join (the batch side of the box gates);
* :class:`BoxGrid` — the same boxes in a mutable grid, queried one at a time
  (the live side);
* :class:`IncrementalComponents` — components maintained under insertions and
  removals of nodes: it recomputes exactly the components a change touches.

A box is ``(min_lon, max_lon, min_lat, max_lat, t_start, t_end)`` in degrees
and epoch seconds; an infinite time bound means "any time". Two boxes
intersect when their closed intervals overlap on all three axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "Box",
    "BoxGrid",
    "IncrementalComponents",
    "box_links",
    "box_pairs",
    "boxes_intersect",
    "components_from_pairs",
]

K = TypeVar("K", bound=Hashable)
Box = tuple[float, float, float, float, float, float]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def boxes_intersect(a: Box, b: Box) -> bool:
    """Whether two boxes intersect (closed intervals on every axis)."""
    return (
        a[0] <= b[1]
        and b[0] <= a[1]
        and a[2] <= b[3]
        and b[2] <= a[3]
        and a[4] <= b[5]
        and b[4] <= a[5]
    )


def components_from_pairs(n: int, pairs: IntArray) -> list[list[int]]:
    """Connected components of ``range(n)`` under ``pairs`` (shape ``(k, 2)``).

    Each component is sorted; components are ordered by their first index.
    """
    if n == 0:
        return []
    if len(pairs) == 0:
        return [[i] for i in range(n)]
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [g.tolist() for g in np.split(order, bounds)]
    groups.sort(key=lambda g: g[0])
    return groups


#: No box is spread over more than about this many cells per axis (bounds memory).
_MAX_CELLS_PER_AXIS = 16.0


def _cell_sizes(a: FloatArray, b: FloatArray) -> tuple[float, float, float]:
    """Grid cell sizes: typical box sizes, but never tiny next to the largest boxes.

    The 75th percentile keeps cells small where most boxes are; the floor at
    ``largest / _MAX_CELLS_PER_AXIS`` keeps a 12-day crater interval among
    instants from being copied into tens of thousands of cells.
    """
    boxes = np.vstack([a, b])
    width = np.maximum(boxes[:, 1] - boxes[:, 0], boxes[:, 3] - boxes[:, 2])
    cell = max(float(np.percentile(width, 75)), float(width.max()) / _MAX_CELLS_PER_AXIS, 1e-4)
    duration = boxes[:, 5] - boxes[:, 4]
    finite = duration[np.isfinite(duration)]
    if not finite.size:
        return cell, cell, math.inf
    cell_t = max(float(np.percentile(finite, 75)), float(finite.max()) / _MAX_CELLS_PER_AXIS, 60.0)
    return cell, cell, cell_t


def _expand(
    boxes: FloatArray, sizes: tuple[float, float, float], timeless: bool
) -> tuple[IntArray, IntArray]:
    """``(box index, cell key)`` for every grid cell each box overlaps."""
    cx, cy, ct = sizes
    ix0 = np.floor(boxes[:, 0] / cx).astype(np.int64)
    ix1 = np.floor(boxes[:, 1] / cx).astype(np.int64)
    iy0 = np.floor(boxes[:, 2] / cy).astype(np.int64)
    iy1 = np.floor(boxes[:, 3] / cy).astype(np.int64)
    if timeless:
        it0 = it1 = np.zeros(len(boxes), dtype=np.int64)
    else:
        it0 = np.floor(boxes[:, 4] / ct).astype(np.int64)
        it1 = np.floor(boxes[:, 5] / ct).astype(np.int64)
    nx, ny, nt = ix1 - ix0 + 1, iy1 - iy0 + 1, it1 - it0 + 1
    counts = nx * ny * nt
    owner = np.repeat(np.arange(len(boxes), dtype=np.int64), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    local = np.arange(int(counts.sum()), dtype=np.int64) - start
    nyt = (ny * nt)[owner]
    gx = ix0[owner] + local // nyt
    rest = local % nyt
    gy = iy0[owner] + rest // nt[owner]
    gt = it0[owner] + rest % nt[owner]
    return owner, _pack(gx, gy, gt)


def _pack(gx: IntArray, gy: IntArray, gt: IntArray) -> IntArray:
    """One int64 per (x, y, t) cell (offsets keep each field within its bits)."""
    gx = gx - (gx.min() if gx.size else 0)
    gy = gy - (gy.min() if gy.size else 0)
    gt = gt - (gt.min() if gt.size else 0)
    bx = int(gx.max()).bit_length() if gx.size else 0
    by = int(gy.max()).bit_length() if gy.size else 0
    bt = int(gt.max()).bit_length() if gt.size else 0
    if bx + by + bt > 62:
        _, keys = np.unique(np.column_stack([gx, gy, gt]), axis=0, return_inverse=True)
        return np.asarray(keys, dtype=np.int64).ravel()
    return np.asarray((gx << (by + bt)) | (gy << bt) | gt, dtype=np.int64)


def box_pairs(a: FloatArray, b: FloatArray | None = None) -> IntArray:
    """Every intersecting pair ``(i, j)`` of ``a[i]`` and ``b[j]`` (shape ``(k, 2)``).

    With ``b`` omitted, pairs within ``a`` with ``i < j``. Boxes are rows of
    six columns (see the module docstring). Pairs are unique and sorted.
    """
    same = b is None
    b_boxes = a if b is None else b
    if len(a) == 0 or len(b_boxes) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    timeless = bool(np.isinf(a[:, 4:]).any() or np.isinf(b_boxes[:, 4:]).any())
    sizes = _cell_sizes(a, b_boxes)
    if same:
        owner, keys = _expand(a, sizes, timeless)
        owner_a, keys_a, owner_b, keys_b = owner, keys, owner, keys
    else:
        both = np.vstack([a, b_boxes])
        owner, keys = _expand(both, sizes, timeless)
        in_a = owner < len(a)
        owner_a, keys_a = owner[in_a], keys[in_a]
        owner_b, keys_b = owner[~in_a] - len(a), keys[~in_a]
    ia, ib = _join(keys_a, keys_b)
    i, j = owner_a[ia], owner_b[ib]
    keep = i < j if same else np.ones(len(i), dtype=bool)
    i, j = i[keep], j[keep]
    ba, bb = a[i], b_boxes[j]
    hit = _overlap(ba, bb)
    i, j = i[hit], j[hit]
    if len(i) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    code = np.unique(i * len(b_boxes) + j)
    return np.column_stack([code // len(b_boxes), code % len(b_boxes)]).astype(np.int64)


#: Cells holding more boxes than this are linked by cliques, not by every pair.
_DENSE_CELL = 48


def box_links(a: FloatArray) -> IntArray:
    """Pairs ``(i, j)`` of intersecting boxes of ``a`` spanning its intersection graph.

    The connected components of the returned pairs are those of all
    intersecting pairs (:func:`box_pairs`), but a crowded cell — a weapon
    sighted every day for a year at one spot: hundreds of boxes all containing
    one point — is not expanded into every pair. Its boxes are taken in order
    of their west edge and grown into cliques: a box meeting the common part of
    a clique's boxes meets each of them, so it is linked to the clique's first
    box; then any two cliques with one intersecting pair of boxes are linked.
    Every pair returned intersects.
    """
    n = len(a)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    timeless = bool(np.isinf(a[:, 4:]).any())
    owner, keys = _expand(a, _cell_sizes(a, a), timeless)
    order = np.argsort(keys, kind="stable")
    keys, owner = keys[order], owner[order]
    _, start, count = np.unique(keys, return_index=True, return_counts=True)
    dense = count > _DENSE_CELL
    links: list[IntArray] = [np.zeros((0, 2), dtype=np.int64)]
    sparse = np.repeat(~dense, count)
    if sparse.any():
        links.append(_intersecting(a, *_join(keys[sparse], keys[sparse]), owner[sparse]))
    for first, size in zip(start[dense].tolist(), count[dense].tolist(), strict=True):
        links.append(_clique_links(a, owner[first : first + size]))
    pairs = np.vstack(links)
    if len(pairs) == 0:
        return pairs
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.column_stack([code // n, code % n]).astype(np.int64)


def _intersecting(a: FloatArray, p: IntArray, q: IntArray, owner: IntArray) -> IntArray:
    i, j = owner[p], owner[q]
    keep = i < j
    i, j = i[keep], j[keep]
    ba, bb = a[i], a[j]
    hit = _overlap(ba, bb)
    return np.column_stack([i[hit], j[hit]]).astype(np.int64)


def _overlap(ba: FloatArray, bb: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether boxes ``ba`` and ``bb`` intersect, element-wise (rows broadcast)."""
    return np.asarray(
        (ba[..., 0] <= bb[..., 1])
        & (bb[..., 0] <= ba[..., 1])
        & (ba[..., 2] <= bb[..., 3])
        & (bb[..., 2] <= ba[..., 3])
        & (ba[..., 4] <= bb[..., 5])
        & (bb[..., 4] <= ba[..., 5]),
        dtype=bool,
    )


def _clique_links(a: FloatArray, members: IntArray) -> IntArray:
    """Links spanning the intersection graph of one crowded cell's boxes."""
    members = np.unique(members)
    members = members[np.lexsort((members, a[members, 0]))]
    cliques: list[list[int]] = []
    common: list[FloatArray] = []  # each clique's intersection box
    links: list[tuple[int, int]] = []
    for m in members.tolist():
        box = a[m]
        for k in range(len(cliques) - 1, -1, -1):
            c = common[k]
            if (
                c[0] <= box[1] and box[0] <= c[1] and c[2] <= box[3] and box[2] <= c[3]
                and c[4] <= box[5] and box[4] <= c[5]
            ):  # fmt: skip
                links.append((min(cliques[k][0], m), max(cliques[k][0], m)))
                cliques[k].append(m)
                common[k] = np.array(
                    [max(c[0], box[0]), min(c[1], box[1]), max(c[2], box[2]),
                     min(c[3], box[3]), max(c[4], box[4]), min(c[5], box[5])]
                )  # fmt: skip
                break
        else:
            cliques.append([m])
            common.append(box.copy())
    for x in range(len(cliques)):
        for y in range(x + 1, len(cliques)):
            by = a[cliques[y]]
            for m in cliques[x]:
                hits = np.flatnonzero(_overlap(a[m], by))
                if len(hits):
                    other = cliques[y][int(hits[0])]
                    links.append((min(m, other), max(m, other)))
                    break
    return np.array(links, dtype=np.int64).reshape(-1, 2)


def _join(keys_a: IntArray, keys_b: IntArray) -> tuple[IntArray, IntArray]:
    """Indices ``(p, q)`` of every pair with ``keys_a[p] == keys_b[q]``."""
    oa = np.argsort(keys_a, kind="stable")
    ob = np.argsort(keys_b, kind="stable")
    ka, kb = keys_a[oa], keys_b[ob]
    ua, sa, ca = np.unique(ka, return_index=True, return_counts=True)
    ub, sb, cb = np.unique(kb, return_index=True, return_counts=True)
    _, pa, pb = np.intersect1d(ua, ub, assume_unique=True, return_indices=True)
    if len(pa) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    na, nb = ca[pa], cb[pb]
    total = na * nb
    group = np.repeat(np.arange(len(pa)), total)
    local = np.arange(int(total.sum()), dtype=np.int64) - np.repeat(np.cumsum(total) - total, total)
    p = sa[pa][group] + local // nb[group]
    q = sb[pb][group] + local % nb[group]
    return oa[p], ob[q]


class BoxGrid(Generic[K]):
    """Boxes in a hash grid, for one-at-a-time insertion, removal and queries.

    Parameters
    ----------
    cell_deg
        Grid cell size in degrees (longitude and latitude).
    cell_s
        Grid cell duration, seconds; ``None`` for a grid of boxes without time
        bounds (time is then not gridded, only tested).
    """

    def __init__(self, cell_deg: float = 0.05, cell_s: float | None = 3_600.0) -> None:
        self.cell_deg = cell_deg
        self.cell_s = cell_s
        self._cells: dict[tuple[int, int, int], dict[K, Box]] = {}
        self._boxes: dict[K, Box] = {}

    def _cells_of(self, box: Box) -> list[tuple[int, int, int]]:
        c = self.cell_deg
        xs = range(math.floor(box[0] / c), math.floor(box[1] / c) + 1)
        ys = range(math.floor(box[2] / c), math.floor(box[3] / c) + 1)
        if self.cell_s is None:
            ts: range | tuple[int] = (0,)
        elif math.isfinite(box[4]) and math.isfinite(box[5]):
            ts = range(math.floor(box[4] / self.cell_s), math.floor(box[5] / self.cell_s) + 1)
        else:
            raise ValueError("a time-gridded BoxGrid needs finite time bounds")
        return [(x, y, t) for x in xs for y in ys for t in ts]

    def add(self, key: K, box: Box) -> None:
        """Add the box of ``key`` (replacing any box it had)."""
        cells = self._cells_of(box)
        self.remove(key)
        self._boxes[key] = box
        for cell in cells:
            self._cells.setdefault(cell, {})[key] = box

    def remove(self, key: K) -> None:
        """Remove the box of ``key`` (no-op if absent)."""
        box = self._boxes.pop(key, None)
        if box is None:
            return
        for cell in self._cells_of(box):
            entries = self._cells.get(cell)
            if entries is not None:
                entries.pop(key, None)
                if not entries:
                    del self._cells[cell]

    def query(self, box: Box) -> set[K]:
        """Keys with a box intersecting ``box``."""
        found: set[K] = set()
        for cell in self._cells_of(box):
            for key, other in self._cells.get(cell, {}).items():
                if key not in found and boxes_intersect(box, other):
                    found.add(key)
        return found

    def __len__(self) -> int:
        return len(self._boxes)


class IncrementalComponents(Generic[K]):
    """Connected components under insertions and removals of nodes.

    Parameters
    ----------
    neighbours
        ``neighbours(key)``: keys of present nodes connected to ``key`` (the
        caller keeps its index in step with :meth:`update`: removed nodes are
        unindexed and new nodes indexed before the call).
    regroup
        ``regroup(keys)``: the components of a set of keys closed under the
        relation, computed by the batch decomposition; without it they are
        found by union-find over ``neighbours``. Using the batch code here
        makes the incremental result equal the batch one by construction.
    """

    def __init__(
        self,
        neighbours: Callable[[K], Iterable[K]],
        regroup: Callable[[list[K]], Sequence[Sequence[K]]] | None = None,
    ) -> None:
        self._neighbours = neighbours
        self._regroup = regroup
        self._component: dict[K, int] = {}
        self._members: dict[int, set[K]] = {}
        self._next = 0

    def component_of(self, key: K) -> int:
        """Id of the component holding ``key``."""
        return self._component[key]

    def members(self, component: int) -> set[K]:
        """Keys of a component."""
        return self._members[component]

    def __contains__(self, key: object) -> bool:
        return key in self._component

    def components(self) -> list[set[K]]:
        """Every component's keys."""
        return list(self._members.values())

    def load(self, groups: Iterable[Sequence[K]]) -> list[tuple[int, list[K]]]:
        """Add whole components at once (computed by a batch decomposition).

        The caller guarantees that ``groups`` are the components of the
        relation over the present keys plus these (batch and incremental
        decompositions of one relation agree; the tests check it).
        """
        created = []
        for group in groups:
            keys = sorted(group, key=_sort_key)
            component = self._next
            self._next += 1
            self._members[component] = set(keys)
            for key in keys:
                if key in self._component:
                    raise ValueError(f"{key!r} is already in a component")
                self._component[key] = component
            created.append((component, keys))
        return created

    def update(
        self, removed: Iterable[K], added: Sequence[K], refresh: Iterable[K] = ()
    ) -> tuple[list[int], list[tuple[int, list[K]]]]:
        """Apply a change; return the components it dissolved and created.

        Parameters
        ----------
        removed
            Present keys that leave. A key both removed and added is replaced
            (its node stays, its connections are recomputed).
        added
            New keys (already in the caller's index).
        refresh
            Present keys whose components must be recomputed although they
            neither leave nor gain nodes (their content changed).

        Returns
        -------
        tuple
            ``(old component ids, [(new component id, sorted keys)])``: every
            component touched by the change is dissolved and its surviving
            nodes, with the new ones, are regrouped. Components not returned are
            unchanged.
        """
        new = set(added)
        gone = set(removed) - new
        touched: set[int] = {
            self._component[k] for k in (*removed, *refresh) if k in self._component
        }
        for key in added:
            for other in self._neighbours(key):
                if other not in new and other in self._component:
                    touched.add(self._component[other])
        nodes = set(new)
        for component in touched:
            nodes.update(self._members[component])
        nodes -= gone
        for component in touched:
            for key in self._members.pop(component):
                del self._component[key]
        ordered = sorted(nodes, key=_sort_key)
        if self._regroup is not None:
            regrouped = [sorted(g, key=_sort_key) for g in self._regroup(ordered)]
        else:
            regrouped = self._union_find(ordered)
        created = []
        for keys in sorted(regrouped, key=lambda g: _sort_key(g[0])):
            component = self._next
            self._next += 1
            self._members[component] = set(keys)
            for key in keys:
                self._component[key] = component
            created.append((component, list(keys)))
        return sorted(touched), created

    def _union_find(self, ordered: list[K]) -> list[list[K]]:
        position = {key: i for i, key in enumerate(ordered)}
        parent = list(range(len(ordered)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, key in enumerate(ordered):
            for other in self._neighbours(key):
                j = position.get(other)
                if j is not None:
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
        groups: dict[int, list[K]] = {}
        for i, key in enumerate(ordered):
            groups.setdefault(find(i), []).append(key)
        return list(groups.values())


def _sort_key(key: object) -> str:
    return repr(key)
