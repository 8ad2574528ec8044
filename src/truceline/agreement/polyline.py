"""Side and distance queries against a (multi)line in a local metric frame.

A point's side of a line is decided at its nearest point on the line. When that
nearest point lies inside a segment, the sign of the cross product of the
segment direction with the offset to the point decides. When it is a vertex
where the line bends, a single segment is not enough (near a sharp bend the
two segments disagree), so the bend decides: at a left turn the point is on the
left only if it is left of both segments, at a right turn if it is left of
either. Beyond the ends of the line the end segments extend it. For a
MultiLineString the nearest part decides; parts that follow each other across
a small gap (missing data, a river crossing) can be joined first with
``join_gap_m`` so the bend rule also holds across the gap.

All queries are vectorised over numpy arrays of points and processed in chunks
so memory stays bounded for hundreds of thousands of points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["LEFT", "ON_LINE", "RIGHT", "Polyline"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Side codes returned by :meth:`Polyline.side`.
LEFT: Final = 1
RIGHT: Final = -1
ON_LINE: Final = 0

#: Point-segment pairs evaluated per chunk (bounds temporary memory to ~100 MB).
_PAIRS_PER_CHUNK: Final = 2_000_000


class Polyline:
    """Segments of a line or multi-line, coordinates in metres.

    Parameters
    ----------
    parts
        One ``(n, 2)`` array of ``(x, y)`` metres per part, in line order.
        Repeated consecutive vertices are dropped; each part needs at least
        two distinct vertices.
    join_gap_m
        Join a part to the previous one when its start is at most this far
        from the previous part's end, metres (0: never join).
    """

    def __init__(self, parts: Sequence[npt.ArrayLike], *, join_gap_m: float = 0.0) -> None:
        ax: list[FloatArray] = []
        ay: list[FloatArray] = []
        bx: list[FloatArray] = []
        by: list[FloatArray] = []
        has_prev: list[npt.NDArray[np.bool_]] = []
        has_next: list[npt.NDArray[np.bool_]] = []
        self.parts: list[FloatArray] = []
        for raw in _joined(parts, join_gap_m):
            coords = np.asarray(raw, dtype=float).reshape(-1, 2)
            keep = np.ones(len(coords), dtype=bool)
            keep[1:] = np.any(np.diff(coords, axis=0) != 0.0, axis=1)
            coords = coords[keep]
            if len(coords) < 2:
                raise ValueError("each part of a line needs at least two distinct vertices")
            self.parts.append(coords)
            n = len(coords) - 1
            ax.append(coords[:-1, 0])
            ay.append(coords[:-1, 1])
            bx.append(coords[1:, 0])
            by.append(coords[1:, 1])
            prev = np.ones(n, dtype=bool)
            prev[0] = False
            nxt = np.ones(n, dtype=bool)
            nxt[-1] = False
            has_prev.append(prev)
            has_next.append(nxt)
        if not self.parts:
            raise ValueError("a line needs at least one part")
        self._ax = np.concatenate(ax)
        self._ay = np.concatenate(ay)
        self._dx = np.concatenate(bx) - self._ax
        self._dy = np.concatenate(by) - self._ay
        self._len2 = self._dx**2 + self._dy**2
        self._has_prev = np.concatenate(has_prev)
        self._has_next = np.concatenate(has_next)

    @property
    def segment_count(self) -> int:
        """Number of segments over all parts."""
        return int(self._ax.size)

    def nearest(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
        """Nearest segment of each point and the foot's position along it.

        Returns
        -------
        tuple
            Segment indices and foot parameters ``t`` in ``[0, 1]`` (0 = segment
            start). Ties go to the lowest segment index.
        """
        px = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
        py = np.atleast_1d(np.asarray(y, dtype=float)).ravel()
        index = np.empty(px.size, dtype=np.int64)
        param = np.empty(px.size, dtype=float)
        step = max(1, _PAIRS_PER_CHUNK // self.segment_count)
        for start in range(0, px.size, step):
            cx = px[start : start + step, None] - self._ax[None, :]
            cy = py[start : start + step, None] - self._ay[None, :]
            t = np.clip((cx * self._dx + cy * self._dy) / self._len2, 0.0, 1.0)
            ex = cx - t * self._dx
            ey = cy - t * self._dy
            best = np.argmin(ex * ex + ey * ey, axis=1)
            rows = np.arange(best.size)
            index[start : start + step] = best
            param[start : start + step] = t[rows, best]
        return index, param

    def foot(self, x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Nearest point on the line of each point, metres."""
        seg, t = self.nearest(x, y)
        return self._ax[seg] + t * self._dx[seg], self._ay[seg] + t * self._dy[seg]

    def distance(self, x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
        """Planar distance from each point to the line, metres."""
        fx, fy = self.foot(x, y)
        px = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
        py = np.atleast_1d(np.asarray(y, dtype=float)).ravel()
        return np.asarray(np.hypot(px - fx, py - fy), dtype=float)

    def side(
        self, x: npt.ArrayLike, y: npt.ArrayLike, *, on_line_m: float = 0.0
    ) -> npt.NDArray[np.int8]:
        """Side of the line of each point: :data:`LEFT`, :data:`RIGHT` or :data:`ON_LINE`.

        Parameters
        ----------
        x, y
            Points, metres.
        on_line_m
            Points at most this far from the line are :data:`ON_LINE`, metres
            (a small tolerance absorbs rounding in map projections).
        """
        px = np.atleast_1d(np.asarray(x, dtype=float)).ravel()
        py = np.atleast_1d(np.asarray(y, dtype=float)).ravel()
        seg, t = self.nearest(px, py)
        ox = px - self._ax[seg]
        oy = py - self._ay[seg]
        plain = np.sign(self._dx[seg] * oy - self._dy[seg] * ox)
        result = plain.astype(np.int8)
        # nearest point is the segment's start vertex, shared with the previous segment
        at_start = (t <= 0.0) & self._has_prev[seg]
        if np.any(at_start):
            k = seg[at_start]
            result[at_start] = _bend_side(
                self._dx[k - 1],
                self._dy[k - 1],
                self._dx[k],
                self._dy[k],
                ox[at_start],
                oy[at_start],
            )
        # nearest point is the segment's end vertex, shared with the next segment
        at_end = (t >= 1.0) & self._has_next[seg]
        if np.any(at_end):
            k = seg[at_end]
            vx = px[at_end] - (self._ax[k] + self._dx[k])
            vy = py[at_end] - (self._ay[k] + self._dy[k])
            result[at_end] = _bend_side(
                self._dx[k], self._dy[k], self._dx[k + 1], self._dy[k + 1], vx, vy
            )
        if on_line_m > 0.0:
            near = np.hypot(ox - t * self._dx[seg], oy - t * self._dy[seg]) <= on_line_m
            result[near] = ON_LINE
        return result


def _joined(parts: Sequence[npt.ArrayLike], join_gap_m: float) -> list[FloatArray]:
    """Parts with each part appended to the previous one when the gap is small."""
    joined: list[FloatArray] = []
    for raw in parts:
        coords = np.asarray(raw, dtype=float).reshape(-1, 2)
        if joined and len(coords) and np.hypot(*(coords[0] - joined[-1][-1])) <= join_gap_m:
            joined[-1] = np.vstack([joined[-1], coords])
        else:
            joined.append(coords)
    return joined


def _bend_side(
    in_x: FloatArray,
    in_y: FloatArray,
    out_x: FloatArray,
    out_y: FloatArray,
    vx: FloatArray,
    vy: FloatArray,
) -> npt.NDArray[np.int8]:
    """Side of points offset ``(vx, vy)`` from a vertex where the line bends.

    The left region of a left turn is the intersection of the two segments'
    left half-planes; the left region of a right turn is their union.
    """
    s_in = in_x * vy - in_y * vx
    s_out = out_x * vy - out_y * vx
    turn = in_x * out_y - in_y * out_x
    left_turn = turn > 0.0
    left = np.where(left_turn, (s_in > 0) & (s_out > 0), (s_in > 0) | (s_out > 0))
    right = np.where(left_turn, (s_in < 0) | (s_out < 0), (s_in < 0) & (s_out < 0))
    straight = turn == 0.0
    left = np.where(straight, s_in > 0, left)
    right = np.where(straight, s_in < 0, right)
    return np.where(left, LEFT, np.where(right, RIGHT, ON_LINE)).astype(np.int8)
