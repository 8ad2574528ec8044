"""Live fusion: events, findings and escalations updated as observations arrive.

A :class:`LiveEngine` holds the state of a run in memory, decomposed as the
batch engine decomposes it (:mod:`truceline.fusion.components`):

* ground arrivals in *units* connected in time, each with the sources located
  from it (:mod:`truceline.fusion.arrivals`);
* items in *components* of their gate boxes, each with its events
  (:func:`truceline.fusion.engine.fuse_component`);
* events in *trajectory groups*, each with its roles, findings and
  attribution (:func:`truceline.runs.judge_events`);
* the findings of patterns over all findings
  (:func:`truceline.agreement.patterns.with_patterns`).

When observations arrive — in any order, late — only the units and
components they join are recomputed, from scratch, with the batch code; then
only the trajectory groups whose events changed are judged again; then the
patterns. Because the batch result is by construction the union of the
per-component results, the live state after any sequence of arrivals equals
what a batch run over the same observations gives, byte for byte (the same
digests; ``tests/fusion/test_live.py`` checks shuffled and delayed orders).

With a workspace, :meth:`LiveEngine.poll` reads the entries appended to the
evidence log since the last call (observations, sensors, agreements; another
process ingests them) and records each update that changed something as a
``run`` / ``run_result`` pair (``"mode": "live"``) — re-derivable and
checkable by the batch code like any run — with the finding versions of
:mod:`truceline.versions`, the escalation records of findings that reached the
top level (:mod:`truceline.agreement.escalation`), and the changed events and
findings in the store. ``truceline run --follow`` drives it
(:mod:`truceline.follow`).
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from truceline.agreement import Agreement
from truceline.fusion.arrivals import locate_unit
from truceline.fusion.components import IncrementalComponents
from truceline.fusion.config import FusionConfig
from truceline.fusion.engine import fuse_component, prepare
from truceline.fusion.gates import arrival_class
from truceline.fusion.incremental import ArrivalIndex, EventIndex, ItemIndex
from truceline.fusion.items import Item
from truceline.fusion.sources import ItemFactory
from truceline.live_log import DayDigests, LiveRecord, latest_run, read_entries, record_update
from truceline.live_patterns import LivePatterns
from truceline.model.event import Event
from truceline.model.finding import Finding
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor
from truceline.model.timeutil import format_utc
from truceline.runs import (
    agreement_from_body,
    event_order,
    judge_events,
    top_levels,
)
from truceline.store.base import Query
from truceline.versions import FindingVersion, Lineages
from truceline.workspace import Workspace

__all__ = ["LiveEngine", "Update"]


@dataclass
class Update:
    """What one live update changed.

    Attributes
    ----------
    observations
        New observations processed.
    events_added, events_removed
        Events that appeared, ids of events that disappeared.
    findings_added, findings_removed
        Findings that appeared, ids of findings that disappeared.
    versions
        Finding versions this update made.
    escalations
        Ids of findings newly at their agreement's top escalation level.
    run_id
        The live run recorded for it (``None``: not recorded, nothing changed
        or no workspace).
    log_size
        Log entries the state now reflects.
    elapsed_s
        Wall time of the update, seconds.
    """

    observations: int = 0
    events_added: list[Event] = field(default_factory=list)
    events_removed: list[str] = field(default_factory=list)
    findings_added: list[Finding] = field(default_factory=list)
    findings_removed: list[str] = field(default_factory=list)
    versions: list[FindingVersion] = field(default_factory=list)
    escalations: list[str] = field(default_factory=list)
    run_id: str | None = None
    log_size: int = 0
    elapsed_s: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether any event or finding changed."""
        return bool(
            self.events_added or self.events_removed or self.findings_added or self.findings_removed
        )


class LiveEngine:
    """The live state of a run.

    Parameters
    ----------
    workspace
        The home whose log is followed (``None``: an in-memory engine fed with
        :meth:`on_observations`, recording nothing).
    config
        Fusion parameters.
    sensors, agreements
        Sensor descriptions and agreement versions of an in-memory engine
        (with a workspace they come from its log).
    record
        Whether updates are recorded in the workspace's log and store.
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        config: FusionConfig | None = None,
        *,
        sensors: Sequence[Sensor] = (),
        agreements: Sequence[Agreement] = (),
        record: bool = True,
    ) -> None:
        self.workspace = workspace
        self.config = config or FusionConfig()
        self.record = record
        self.log_size = 0
        self.last_run: str | None = None
        self._sensors = {s.id: s for s in sensors}
        self._agreements = list(agreements)
        self._factory = ItemFactory(self._sensors, self.config)
        self._obs: dict[str, Observation] = {}
        self._direct_unassociated: set[str] = set()
        self._by_sensor: dict[str, set[str]] = {}
        # level 1: ground arrivals in units, each with its located items
        self._arrivals = ArrivalIndex(self.config)
        self._units: IncrementalComponents[str] = IncrementalComponents(
            self._arrivals.neighbours, self._arrivals.regroup
        )
        self._unit_items: dict[int, list[str]] = {}
        self._unit_unassociated: dict[int, list[str]] = {}
        # level 2: items in components, each with its events (by fusion id)
        self._items = ItemIndex(self.config)
        self._components: IncrementalComponents[str] = IncrementalComponents(
            self._items.neighbours, self._items.regroup
        )
        self._component_events: dict[int, list[str]] = {}
        # judgement: events in trajectory groups, annotated, with their findings
        self._events = EventIndex()
        self._groups: IncrementalComponents[str] = IncrementalComponents(
            self._events.neighbours, self._events.regroup
        )
        self._annotated: dict[str, Event] = {}
        self._annotated_ids: dict[str, str] = {}
        self._by_event_id: dict[str, Event] = {}
        self._findings_of: dict[str, list[tuple[str, Finding]]] = {}
        self._singles: dict[str, Finding] = {}
        self._patterns = LivePatterns(self._agreements)
        self._reset_patterns = True
        self._single_changes: tuple[list[tuple[str, Finding]], list[tuple[str, Finding]]] = ([], [])
        self._event_days = DayDigests()
        self._finding_days = DayDigests()
        self._lineages = Lineages()
        self._top: Mapping[str, str] = {}
        self._top_key: tuple[str, ...] | None = None
        #: ids of the current findings at their agreement's top level (``None``: to recount)
        self._escalated: set[str] | None = None

    # -- results ----------------------------------------------------------------------------
    @property
    def events(self) -> list[Event]:
        """Current events in run order (as :func:`truceline.runs.derive` returns them)."""
        return sorted(self._annotated.values(), key=event_order)

    @property
    def findings(self) -> list[Finding]:
        """Current findings in run order."""
        patterns = self._patterns.findings
        return [
            self._singles[fid] if fid in self._singles else patterns[fid][0]
            for fid in self._finding_days.ids()
        ]

    def _current(self) -> dict[str, Finding]:
        """Current findings by id (in no particular order)."""
        return {
            **self._singles,
            **{pid: entry[0] for pid, entry in self._patterns.findings.items()},
        }

    @property
    def unassociated(self) -> list[str]:
        """Ids of observations no event uses, sorted."""
        located = [oid for ids in self._unit_unassociated.values() for oid in ids]
        return sorted([*self._direct_unassociated, *located])

    @property
    def events_digest(self) -> str:
        """Digest of the current events (:func:`truceline.runs.digest_records`)."""
        return self._event_days.digest()

    @property
    def findings_digest(self) -> str:
        """Digest of the current findings (:func:`truceline.runs.digest_records`)."""
        return self._finding_days.digest()

    def lineage(self, finding_id: str) -> tuple[str, int]:
        """``(lineage, version)`` of a current finding."""
        return self._lineages.of(finding_id)

    # -- feeding ----------------------------------------------------------------------------
    def on_observations(
        self, observations: Sequence[tuple[str, Observation]] | Sequence[str]
    ) -> Update:
        """Process newly arrived observations.

        Parameters
        ----------
        observations
            ``(id, observation)`` pairs for an in-memory engine; with a
            workspace, ids of observations ingested since the last call (the
            engine reads the log from where it stopped, so whatever else was
            appended — sensors, agreements — is applied too).

        Raises
        ------
        LookupError
            If an id is not in the workspace's log.
        """
        if self.workspace is None:
            pairs = [p for p in observations if isinstance(p, tuple)]
            if len(pairs) != len(observations):
                raise TypeError("an engine without a workspace takes (id, observation) pairs")
            return self._update(pairs)
        update = self.poll()
        missing = [o for o in observations if isinstance(o, str) and o not in self._obs]
        if missing:
            raise LookupError(f"observation(s) not in the evidence log: {', '.join(missing[:5])}")
        return update

    def attach(self, workspace: Workspace | None) -> None:
        """Follow ``workspace`` (the same home, reopened) from now on; ``None`` detaches.

        The follow loop opens the home only while it reads and records, so
        that other processes can append to the log in between.
        """
        self.workspace = workspace

    def add_sensors(self, sensors: Iterable[Sensor]) -> Update:
        """Apply new or changed sensor descriptions; re-fuses what they observed."""
        return self._update([], sensors=list(sensors))

    def add_agreements(self, agreements: Iterable[Agreement]) -> Update:
        """Apply new agreement versions; re-judges every event."""
        return self._update([], agreements=list(agreements))

    def start(self) -> Update:
        """Load everything the workspace's log holds (the first call with a workspace)."""
        if self.workspace is None:
            raise RuntimeError("start() needs a workspace")
        if self.log_size:
            raise RuntimeError("the engine has already started")
        workspace = self.workspace
        size = workspace.log.size
        self._sensors.update({s.id: s for s in workspace.store.sensors()})
        self._agreements = [agreement_from_body(b) for b in workspace.store.agreements(size)]
        observations = workspace.store.observations(Query(before_seq=size))
        for run in workspace.store.runs():
            result = run.get("result") or {}
            versions = result.get("finding_versions") or []
            self._lineages.restore([FindingVersion.from_dict(v) for v in versions])
        previous = {f.id: f for f in workspace.store.findings()}
        start = time.perf_counter()
        update = self._load(observations)
        self.log_size = size
        update.elapsed_s = time.perf_counter() - start
        finished = self._finish(update, started=True, previous=previous)
        # The loaded state lives as long as the engine: keep it out of the cyclic
        # collector's full passes, which otherwise walk its millions of objects
        # (seconds, at whichever arrival triggers one). Reference counting still
        # frees what is dropped later; only cycles among these objects would stay.
        gc.freeze()
        return finished

    def poll(self) -> Update:
        """Apply the log entries appended since the last call (with a workspace)."""
        if self.workspace is None:
            raise RuntimeError("poll() needs a workspace")
        if not self.log_size and not self._obs:
            return self.start()
        log = self.workspace.log
        if log.size == self.log_size:
            return Update(log_size=self.log_size)
        observations: list[tuple[str, Observation]] = []
        sensors: list[Sensor] = []
        agreements: list[Agreement] = []
        for _, raw in read_entries(self.workspace, self.log_size):
            entry = json.loads(raw)
            kind = entry["type"]
            if kind == "observation":
                observations.append((entry["id"], Observation.from_dict(entry["body"])))
            elif kind == "sensor":
                sensors.append(Sensor.from_dict(entry["body"]))
            elif kind == "agreement":
                agreements.append(agreement_from_body(entry["body"]))
        self.log_size = log.size
        return self._update(observations, sensors=sensors, agreements=agreements)

    # -- loading ----------------------------------------------------------------------------
    def _load(self, observations: Sequence[tuple[str, Observation]]) -> Update:
        """Bulk state from observations, with the batch decompositions."""
        update = Update(observations=len(observations))
        pairs = sorted(observations, key=lambda p: p[0])
        for oid, obs in pairs:
            self._obs[oid] = obs
            self._by_sensor.setdefault(obs.sensor_id, set()).add(oid)
        prepared = prepare(pairs, self._factory)
        self._direct_unassociated.update(prepared.unassociated)
        arrivals = prepared.arrivals
        for oid, obs in arrivals:
            self._add_arrival(oid, obs)
        located: list[Item] = []
        for unit_id, keys in self._units.load(self._arrivals.regroup([k for k, _ in arrivals])):
            located.extend(self._locate(unit_id, keys))
        items = [*prepared.items, *located]
        for item in items:
            self._items.add(item)
        groups = self._items.regroup([item.key for item in items])
        new_events: list[tuple[str, Event]] = []
        for component, keys in self._components.load(groups):
            new_events.extend(self._fuse(component, keys))
        for fid, event in new_events:
            self._events.add(fid, event)
        self._groups.load(self._events.regroup([fid for fid, _ in new_events]))
        update.events_added = self._judge([event for _, event in new_events])
        return update

    def _add_arrival(self, oid: str, obs: Observation) -> None:
        self._arrivals.add(oid, arrival_class(obs, self._factory.family(obs), self.config))

    def _locate(self, unit_id: int, keys: Sequence[str]) -> list[Item]:
        items, left = locate_unit([(k, self._obs[k]) for k in sorted(keys)], self._factory)
        self._unit_items[unit_id] = [item.key for item in items]
        self._unit_unassociated[unit_id] = left
        return items

    def _fuse(self, component: int, keys: Sequence[str]) -> list[tuple[str, Event]]:
        """Events of a component, with their fusion ids."""
        events = [
            (e.id, e) for e in fuse_component([self._items.items[k] for k in keys], self.config)
        ]
        self._component_events[component] = [fid for fid, _ in events]
        return events

    # -- updating ---------------------------------------------------------------------------
    def _update(
        self,
        observations: Sequence[tuple[str, Observation]],
        *,
        sensors: Sequence[Sensor] = (),
        agreements: Sequence[Agreement] = (),
    ) -> Update:
        start = time.perf_counter()
        new = sorted(
            {oid: obs for oid, obs in observations if oid not in self._obs}.items(),
            key=lambda p: p[0],
        )
        update = Update(observations=len(new))
        refresh: set[str] = set()
        changed_sensors = [s for s in sensors if self._sensors.get(s.id) != s]
        for sensor in changed_sensors:
            self._sensors[sensor.id] = sensor
            self._factory.forget(sensor.id)
            refresh |= self._by_sensor.get(sensor.id, set())
        for oid, obs in new:
            self._obs[oid] = obs
            self._by_sensor.setdefault(obs.sensor_id, set()).add(oid)
        known = {a.version_id for a in self._agreements}
        fresh_agreements = [a for a in agreements if a.version_id not in known]
        self._agreements.extend(fresh_agreements)
        self._reset_patterns = self._reset_patterns or bool(fresh_agreements)
        removed_items, added_items = self._arrive(new, refresh)
        removed_events, added_events = self._refuse(removed_items, added_items)
        update.events_added = self._rejudge(
            removed_events, added_events, bool(fresh_agreements), update
        )
        update.elapsed_s = time.perf_counter() - start
        return self._finish(update)

    def _arrive(
        self, new: Sequence[tuple[str, Observation]], refresh: set[str]
    ) -> tuple[list[str], list[Item]]:
        """Level 1 and new items: the item keys that leave and the items that come."""
        prepared = prepare(new, self._factory)
        self._direct_unassociated.update(prepared.unassociated)
        removed: list[str] = []
        added: list[Item] = list(prepared.items)
        for oid in sorted(refresh):
            if oid in self._items.items:  # a point item: rebuild it with the new description
                item = self._factory.point_item(oid, self._obs[oid])
                if item is not None:
                    removed.append(oid)
                    added.append(item)
        for oid, obs in prepared.arrivals:
            self._add_arrival(oid, obs)
        refreshed_arrivals = [oid for oid in refresh if oid in self._units]
        if prepared.arrivals or refreshed_arrivals:
            dissolved, created = self._units.update(
                [], [oid for oid, _ in prepared.arrivals], refresh=refreshed_arrivals
            )
            for unit in dissolved:
                removed.extend(self._unit_items.pop(unit))
                self._unit_unassociated.pop(unit)
            for unit, keys in created:
                added.extend(self._locate(unit, keys))
        return removed, added

    def _refuse(
        self, removed: Sequence[str], added: Sequence[Item]
    ) -> tuple[list[str], list[tuple[str, Event]]]:
        """Level 2: re-fuse the components the item changes touch.

        Returns the fusion ids of events that disappeared and the new events
        (an event the re-fusion gives again unchanged is neither).
        """
        if not removed and not added:
            return [], []
        for key in removed:
            self._items.remove(key)
        for item in added:
            self._items.add(item)
        dissolved, created = self._components.update(removed, [item.key for item in added])
        old: set[str] = set()
        for component in dissolved:
            old.update(self._component_events.pop(component))
        fresh: list[tuple[str, Event]] = []
        for component, keys in created:
            fresh.extend(self._fuse(component, keys))
        fresh_ids = {fid for fid, _ in fresh}
        return sorted(old - fresh_ids), [(fid, e) for fid, e in fresh if fid not in old]

    def _rejudge(
        self,
        removed: Sequence[str],
        added: Sequence[tuple[str, Event]],
        everything: bool,
        update: Update,
    ) -> list[Event]:
        """Judge the trajectory groups the event changes touch (or everything)."""
        for fid in removed:
            self._events.remove(fid)
        for fid, event in added:
            self._events.add(fid, event)
        if everything:
            affected = sorted(self._events.events)
            gone = list(self._annotated)
            self._groups = IncrementalComponents(self._events.neighbours, self._events.regroup)
            self._groups.load(self._events.regroup(affected))
        else:
            _, created = self._groups.update(removed, [fid for fid, _ in added])
            affected = [fid for _, keys in created for fid in keys]
            gone = [fid for fid in (*removed, *affected) if fid in self._annotated]
        for fid in gone:
            self._drop_judgement(fid, update)
        return self._judge([self._events.events[f] for f in affected])

    def _drop_judgement(self, fid: str, update: Update) -> None:
        event = self._annotated.pop(fid)
        eid = self._annotated_ids.pop(fid)
        self._by_event_id.pop(eid, None)
        self._event_days.remove(format_utc(event.time)[:10], event_order(event), eid)
        update.events_removed.append(eid)
        for sid, finding in self._findings_of.pop(fid, []):
            del self._singles[sid]
            self._single_changes[0].append((sid, finding))

    def _judge(self, events: Sequence[Event]) -> list[Event]:
        """Judge whole trajectory groups; returns their annotated events."""
        annotated, findings = judge_events(events, self._agreements)
        by_event: dict[str, list[tuple[str, Finding]]] = {}
        for finding in findings:
            by_event.setdefault(finding.event_id, []).append((finding.id, finding))
        for event in annotated:
            fid = str(event.attributes.get("fusion_id", event.id))
            eid = event.id
            self._annotated[fid] = event
            self._annotated_ids[fid] = eid
            self._event_days.add(format_utc(event.time)[:10], event_order(event), eid)
            pairs = by_event.get(eid, [])
            self._findings_of[fid] = pairs
            if pairs:
                self._by_event_id[eid] = event
            for sid, finding in pairs:
                self._singles[sid] = finding
                self._single_changes[1].append((sid, finding))
        return annotated

    def _patterns_update(self) -> tuple[list[tuple[str, Finding]], list[tuple[str, Finding]]]:
        """Single and pattern findings that disappeared and appeared since the last call."""
        removed, added = self._single_changes
        self._single_changes = ([], [])
        came = {sid for sid, _ in added}
        went = {sid for sid, _ in removed}
        removed = [(sid, f) for sid, f in removed if sid not in came]
        added = [(sid, f) for sid, f in added if sid not in went]
        if self._reset_patterns:
            old = [(pid, entry[0]) for pid, entry in self._patterns.findings.items()]
            self._patterns = LivePatterns(self._agreements)
            new = self._patterns.reset(self._singles, self._by_event_id)
            self._reset_patterns = False
            new_ids, old_ids = {pid for pid, _ in new}, {pid for pid, _ in old}
            gone = [(pid, f) for pid, f in old if pid not in new_ids]
            fresh = [(pid, f) for pid, f in new if pid not in old_ids]
        elif removed or added:
            gone, fresh = self._patterns.update(removed, added, self._singles, self._by_event_id)
        else:
            gone, fresh = [], []
        return [*removed, *gone], [*added, *fresh]

    def _finish(
        self,
        update: Update,
        started: bool = False,
        previous: Mapping[str, Finding] | None = None,
    ) -> Update:
        """Patterns, finding diff, versions; record when something changed.

        ``previous`` are the findings the diff is taken against when starting
        (those the store holds: the last recorded run's); otherwise the
        engine's own.
        """
        removed, added = self._patterns_update()
        for fid, finding in removed:
            self._finding_days.remove(format_utc(finding.time)[:10], _order(finding), fid)
        for fid, finding in added:
            self._finding_days.add(format_utc(finding.time)[:10], _order(finding), fid)
        if previous is not None:  # the diff against what the store holds
            current = dict(zip(self._finding_days.ids(), self.findings, strict=True))
            removed = [(fid, f) for fid, f in previous.items() if fid not in current]
            added = [(fid, f) for fid, f in current.items() if fid not in previous]
        update.findings_removed = [fid for fid, _ in removed]
        update.findings_added = [f for _, f in added]
        self._track_escalated(removed, added)
        update.versions = self._lineages.update(removed, added)
        update.events_removed, update.events_added = _net(
            update.events_removed, update.events_added
        )
        update.log_size = self.log_size
        workspace = self.workspace
        if started and workspace is not None:
            latest = latest_run(workspace)
            if latest is not None and latest[1:] == (self.events_digest, self.findings_digest):
                self.last_run = latest[0]  # the store already holds this state
                return update
        if self.record and workspace is not None and (update.changed or started):
            self._record(workspace, update, started)
        return update

    def _track_escalated(
        self, removed: Sequence[tuple[str, Finding]], added: Sequence[tuple[str, Finding]]
    ) -> None:
        """Keep the ids of top-level findings up to date (recounted when agreements change)."""
        key = tuple(sorted(a.version_id for a in self._agreements))
        if self._escalated is None or key != self._top_key:
            self._escalated = None  # recounted with the new top levels when recording
            return
        top = self._top
        for fid, _ in removed:
            self._escalated.discard(fid)
        for fid, finding in added:
            if top.get(finding.agreement_id) == finding.escalation_level:
                self._escalated.add(fid)

    def _record(self, workspace: Workspace, update: Update, started: bool) -> None:
        if workspace.log.size != self.log_size:
            raise RuntimeError("the evidence log grew while the live engine was not reading it")
        top = self._top_levels(workspace)
        if self._escalated is None:
            self._escalated = {
                fid
                for fid, finding in self._current().items()
                if top.get(finding.agreement_id) == finding.escalation_level
            }
        record = LiveRecord(
            config=self.config,
            agreement_ids=sorted(a.version_id for a in self._agreements),
            previous_run=self.last_run,
            events=len(self._annotated),
            findings=len(self._singles) + len(self._patterns.findings),
            unassociated=self._unassociated_count(),
            events_digest=self.events_digest,
            findings_digest=self.findings_digest,
            observations=update.observations,
            versions=update.versions,
            top_levels=top,
            escalated=sorted(self._escalated),
        )
        changes = (
            None
            if started
            else (
                update.events_removed,
                update.events_added,
                update.findings_removed,
                update.findings_added,
            )
        )
        events = self.events if started else ()
        run_id, size, update.escalations = record_update(
            workspace, record, lambda: self.findings, changes, events
        )
        self.log_size = update.log_size = size
        update.run_id = self.last_run = run_id

    def _top_levels(self, workspace: Workspace) -> Mapping[str, str]:
        key = tuple(sorted(a.version_id for a in self._agreements))
        if self._top_key != key:
            self._top = top_levels(workspace.store, self.log_size)
            self._top_key = key
            self._escalated = None
        return self._top

    def _unassociated_count(self) -> int:
        return len(self._direct_unassociated) + sum(
            len(ids) for ids in self._unit_unassociated.values()
        )


def _order(finding: Finding) -> tuple[Any, ...]:
    """A finding's place in a run (that of :func:`~truceline.agreement.patterns.with_patterns`)."""
    return (finding.time, finding.event_id, finding.rule_id, finding.agreement_id)


def _net(removed: Sequence[str], added: Sequence[Event]) -> tuple[list[str], list[Event]]:
    """Drop events removed and added again unchanged (same id)."""
    added_ids = {e.id for e in added}
    removed_set = set(removed)
    return (
        sorted(removed_set - added_ids),
        [e for e in added if e.id not in removed_set],
    )
