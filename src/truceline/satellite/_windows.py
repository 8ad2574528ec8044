"""Moving sums over the day axis and box sums over the cell axes (private helpers)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import ndimage

__all__ = ["box_sum", "circular_mean", "trailing_sum"]

Array = npt.NDArray[np.float64]


def circular_mean(values: Array, half_width: int) -> Array:
    """Centred moving mean of ``2 * half_width + 1`` days along axis 0, wrapping the year."""
    h = int(half_width)
    if h <= 0:
        return np.asarray(values, dtype=np.float64)
    ext = np.concatenate([values[-h:], values, values[:h]], axis=0)
    cs = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(ext, axis=0)], axis=0)
    result: Array = (cs[2 * h + 1 :] - cs[: -2 * h - 1]) / (2 * h + 1)
    return result


def trailing_sum(values: Array, days: int, *, circular: bool = False) -> Array:
    """Sum over the ``days`` days ending at each day (inclusive), along axis 0.

    Without ``circular``, windows at the start are truncated to the days present.
    """
    n = values.shape[0]
    w = int(days)
    if circular:
        ext = np.concatenate([values[-(w - 1) :], values], axis=0) if w > 1 else values
        cs = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(ext, axis=0)], axis=0)
        wrapped: Array = cs[w:] - cs[:n]
        return wrapped
    cs = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)], axis=0)
    idx = np.arange(n)
    lo = np.maximum(idx - w + 1, 0)
    result: Array = cs[idx + 1] - cs[lo]
    return result


def box_sum(values: Array, cells: int) -> Array:
    """Sum over the ``cells`` x ``cells`` neighbourhood on the last two axes (zero outside)."""
    if cells <= 1:
        return values
    size = (1,) * (values.ndim - 2) + (cells, cells)
    summed: Array = ndimage.uniform_filter(values, size=size, mode="constant") * float(
        cells * cells
    )
    return summed
