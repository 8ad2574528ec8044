"""Typed doors to the few dask calls the raster package makes (dask is partly untyped)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

import dask
import dask.array as da
import numpy as np

__all__ = ["compute_store", "from_reader", "map_blocks", "map_layers", "map_overlap", "total"]

_META = np.empty((0, 0), dtype=np.float32)


def from_reader(reader: Any, chunk: int, name: str) -> da.Array:
    """A 2-D float32 dask array whose chunks call ``reader[rows, cols]``."""
    return cast(
        da.Array,
        da.from_array(  # type: ignore[no-untyped-call]
            reader, chunks=(chunk, chunk), name=name, asarray=False, fancy=False, meta=_META
        ),
    )


def map_blocks(func: Callable[..., Any], *arrays: da.Array, **kwargs: Any) -> da.Array:
    """Blockwise float32 result of ``func`` over aligned 2-D arrays."""
    return cast(
        da.Array,
        da.map_blocks(func, *arrays, dtype=np.float32, meta=_META, **kwargs),  # type: ignore[no-untyped-call]
    )


def map_layers(func: Callable[..., Any], *arrays: da.Array, layers: int, **kwargs: Any) -> da.Array:
    """Blockwise float32 ``(layers, rows, cols)`` result of ``func`` over aligned 2-D arrays.

    Each block is computed once; ``result[i]`` picks layer ``i`` (a 2-D array
    with the inputs' chunks).
    """
    chunks = ((layers,), *arrays[0].chunks)
    return cast(
        da.Array,
        da.map_blocks(  # type: ignore[no-untyped-call]
            func,
            *arrays,
            new_axis=0,
            chunks=chunks,
            dtype=np.float32,
            meta=np.empty((0, 0, 0), dtype=np.float32),
            **kwargs,
        ),
    )


def map_overlap(func: Callable[..., Any], array: da.Array, depth: int, **kwargs: Any) -> da.Array:
    """``func`` on each chunk with a ``depth``-pixel halo (none beyond the raster edge)."""
    return cast(
        da.Array,
        da.map_overlap(  # type: ignore[no-untyped-call]
            func, array, depth=depth, boundary="none", dtype=np.float32, meta=_META, **kwargs
        ),
    )


def compute_store(
    sources: Sequence[da.Array],
    targets: Sequence[Any],
    reductions: Sequence[da.Array],
    workers: int,
) -> list[Any]:
    """Stream each source into its ``target[...] = block`` and compute ``reductions``, one pass.

    Shared inputs (e.g. an image read for several outputs, a mask read for
    both) are computed once. Threads run the chunks; memory stays at a few
    chunks per thread.
    """
    store = da.store(list(sources), list(targets), lock=False, compute=False)
    _, *values = dask.compute(  # type: ignore[attr-defined,no-untyped-call]
        store, *reductions, scheduler="threads", num_workers=workers
    )
    return list(values)


def total(array: da.Array) -> da.Array:
    """Lazy sum of all elements."""
    return cast(da.Array, array.sum())  # type: ignore[no-untyped-call]
