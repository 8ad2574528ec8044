"""Indices of the live mode: the gates of :mod:`.gates`, one thing at a time.

Each index holds the things of one level — ground arrivals, items, events —
and answers two questions for
:class:`~truceline.fusion.components.IncrementalComponents`:

``neighbours(key)``
    the present things that interact with one (new) thing, found through a
    time-sorted list or a hash grid of gate boxes and then tested with the
    exact pairwise gate;
``regroup(keys)``
    the components of a set of things closed under the relation, computed by
    the batch decomposition itself — so the live components are the batch ones
    by construction.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from truceline.fusion.components import Box, BoxGrid
from truceline.fusion.config import FusionConfig
from truceline.fusion.engine import item_components
from truceline.fusion.gates import (
    ArrivalClass,
    Channel,
    arrivals_interact,
    ground_units,
    item_boxes,
    local_gap_s,
    partner_side,
    position_sigma_m,
    trajectory_groups,
    trajectory_pair_gate,
    trajectory_role,
    trajectory_window_s,
)
from truceline.fusion.items import Item
from truceline.model.event import Event

__all__ = ["ArrivalIndex", "EventIndex", "ItemIndex"]

#: Grid of the item index: cell size in degrees and in seconds.
GRID_CELL_DEG = 0.05
GRID_CELL_S = 3_600.0


class ArrivalIndex:
    """Ground arrivals by time, for :func:`~truceline.fusion.gates.arrivals_interact`."""

    def __init__(self, config: FusionConfig) -> None:
        self.classes: dict[str, ArrivalClass] = {}
        self._times: list[tuple[float, str]] = []
        self._gap_s = local_gap_s(config)
        self._max_reach_s = self._gap_s

    def add(self, key: str, arrival: ArrivalClass) -> None:
        """Index an arrival."""
        self.classes[key] = arrival
        self._max_reach_s = max(self._max_reach_s, arrival.reach_s)
        bisect.insort(self._times, (arrival.t, key))

    def neighbours(self, key: str) -> Iterable[str]:
        """Indexed arrivals interacting with ``key``."""
        mine = self.classes[key]
        lo = bisect.bisect_left(self._times, (mine.t - self._max_reach_s, ""))
        for k in range(lo, len(self._times)):
            other_t, other = self._times[k]
            if other_t > mine.t + self._max_reach_s:
                break
            if other != key and arrivals_interact(mine, self.classes[other], self._gap_s):
                yield other

    def regroup(self, keys: list[str]) -> list[list[str]]:
        """Batch components of ``keys``."""
        units = ground_units([self.classes[k] for k in keys], self._gap_s)
        return [[keys[i] for i in unit] for unit in units]


class ItemIndex:
    """Items with their gate boxes in hash grids (one per channel side)."""

    def __init__(self, config: FusionConfig) -> None:
        self.config = config
        self.items: dict[str, Item] = {}
        self._boxes: dict[str, list[tuple[Channel, Box]]] = {}
        self._grids: dict[Channel, BoxGrid[str]] = {}

    def add(self, item: Item) -> None:
        """Index an item (replacing one with the same key)."""
        self.remove(item.key)
        boxes = item_boxes(item, self.config)
        self.items[item.key] = item
        self._boxes[item.key] = boxes
        for channel, box in boxes:
            grid = self._grids.get(channel)
            if grid is None:
                bounded = box[4] > float("-inf") and box[5] < float("inf")
                grid = BoxGrid(GRID_CELL_DEG, GRID_CELL_S if bounded else None)
                self._grids[channel] = grid
            grid.add(item.key, box)

    def remove(self, key: str) -> None:
        """Unindex an item (no-op if absent)."""
        for channel, _ in self._boxes.pop(key, []):
            self._grids[channel].remove(key)
        self.items.pop(key, None)

    def neighbours(self, key: str) -> Iterable[str]:
        """Indexed items whose boxes meet one of ``key``'s on a common channel."""
        found: set[str] = set()
        for channel, box in self._boxes[key]:
            grid = self._grids.get(partner_side(channel))
            if grid is not None:
                found |= grid.query(box)
        found.discard(key)
        return found

    def regroup(self, keys: list[str]) -> list[list[str]]:
        """Batch components of ``keys``."""
        items = [self.items[k] for k in keys]
        return [[keys[i] for i in c] for c in item_components(items, self.config)]


class EventIndex:
    """Launch and impact candidates by start time, for trajectory groups."""

    def __init__(self) -> None:
        self.events: dict[str, Event] = {}
        self._launches: list[tuple[float, str]] = []
        self._impacts: list[tuple[float, str]] = []
        self._max_sigma_s = 0.0
        self._max_sigma_m = 0.0
        self._max_duration_s = 0.0

    def add(self, key: str, event: Event) -> None:
        """Index an event under ``key`` (its fusion id)."""
        self.events[key] = event
        role = trajectory_role(event)
        if role is None:
            return
        # the candidate windows only ever widen: a removed event's sigma still counts
        self._max_sigma_s = max(self._max_sigma_s, event.time_sigma_s)
        self._max_sigma_m = max(self._max_sigma_m, position_sigma_m(event))
        start, end = event.time_start.timestamp(), event.time_end.timestamp()
        self._max_duration_s = max(self._max_duration_s, end - start)
        bisect.insort(self._launches if role == "launch" else self._impacts, (start, key))

    def remove(self, key: str) -> None:
        """Unindex an event."""
        event = self.events.pop(key)
        role = trajectory_role(event)
        if role is None:
            return
        index = self._launches if role == "launch" else self._impacts
        del index[bisect.bisect_left(index, (event.time_start.timestamp(), key))]

    def neighbours(self, key: str) -> list[str]:
        """Indexed events that may pair with ``key`` into a trajectory."""
        event = self.events[key]
        role = trajectory_role(event)
        if role is None:
            return []
        before, after = trajectory_window_s(self._max_sigma_s, self._max_sigma_m)
        start, end = event.time_start.timestamp(), event.time_end.timestamp()
        if role == "launch":
            index, lo_t, hi_t = self._impacts, start - before, end + after
        else:
            index = self._launches
            lo_t, hi_t = start - after - self._max_duration_s, start + before
        lo = bisect.bisect_left(index, (lo_t, ""))
        hi = bisect.bisect_right(index, (hi_t, "\uffff"))
        others = [other for _, other in index[lo:hi] if other != key]
        if not others:
            return []
        partners = [self.events[o] for o in others]
        if role == "launch":
            ok = trajectory_pair_gate([event] * len(others), partners)
        else:
            ok = trajectory_pair_gate(partners, [event] * len(others))
        return [o for o, keep in zip(others, ok.tolist(), strict=True) if keep]

    def regroup(self, keys: list[str]) -> list[list[str]]:
        """Batch components of ``keys``."""
        events = [self.events[k] for k in keys]
        return [[keys[i] for i in g] for g in trajectory_groups(events)]
