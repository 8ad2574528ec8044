"""Episodes: the explosive items of one shelling, from one firing position or one target.

Step (a) of :mod:`truceline.fusion.engine`'s association, within one component.
Well-placed rounds are chained by distance and time gates (one family:
``episode_distance_m`` without a silence over ``episode_window_s``; two
families — a classifier calling some rounds of one gun "explosion" —
``colocated_distance_m`` within ``salvo_window_s``). A diffuse source (its 99 %
ellipse beyond the episode distance) is not chained: it joins the one episode
it most likely belongs to. Last, an episode whose labels and place make it
rounds of another family's episode joins that one (a launch's rounds heard as
impacts). ``docs/fusion.md`` describes the model.
"""

from __future__ import annotations

from collections.abc import Sequence

from truceline.fusion.assign import EXPLOSIVE_FAMILIES, episode_attach_llr, is_diffuse
from truceline.fusion.components import Box, boxes_intersect
from truceline.fusion.config import FusionConfig
from truceline.fusion.events import explosive_kind
from truceline.fusion.gates import episode_box
from truceline.fusion.items import CHI2_2DOF_99, Item, merge_position, union_find_clusters

__all__ = ["episodes", "rounds_heard"]


def rounds_heard(episode: Sequence[Item]) -> int:
    """Least number of rounds an episode fired: its located rounds, or more.

    Acoustic location merges rounds fired close together and misses rounds heard
    at too few stations, so the located items undercount a shelling. Every
    station hears every round at most once, so the largest number of the
    episode's detections made by one sensor is also a lower bound. A drone frame
    may show a crater per round (and an overpass a fire per round): this bounds
    how many objects of one scan the episode may take (:attr:`Target.capacity`).
    """
    per_sensor: dict[str, int] = {}
    for item in episode:
        for contribution in item.contributions:
            per_sensor[contribution.sensor] = per_sensor.get(contribution.sensor, 0) + 1
    return max(len(episode), max(per_sensor.values(), default=0))


def _chain_gate_m(a: Item, b: Item, config: FusionConfig) -> float | None:
    """Distance (metres) within which two explosive items chain, or ``None`` (too far in time).

    One family: ``episode_distance_m`` with no silence over ``episode_window_s``;
    two families (a classifier calling some rounds of one gun "explosion"):
    ``colocated_distance_m`` within ``salvo_window_s``.
    """
    gap = max(b.t_lo - a.t_hi, a.t_lo - b.t_hi, 0.0)
    if a.family == b.family:
        return config.episode_distance_m if gap <= config.episode_window_s else None
    if gap <= min(config.salvo_window_s, config.episode_window_s):
        return config.colocated_distance_m
    return None


def _chain(ordered: Sequence[Item], config: FusionConfig) -> list[list[Item]]:
    """Items (sorted by time, key) chained into episodes by the distance gates."""
    pairs = []
    for i, a in enumerate(ordered):
        for j in range(i + 1, len(ordered)):
            b = ordered[j]
            if b.t_lo - a.t_hi > config.episode_window_s:
                break
            gate = _chain_gate_m(a, b, config)
            if gate is not None and (a.x - b.x) ** 2 + (a.y - b.y) ** 2 <= gate * gate:
                pairs.append((i, j))
    return [[ordered[i] for i in g] for g in union_find_clusters(len(ordered), pairs)]


def _attach(
    diffuse: Sequence[Item], episodes: Sequence[list[Item]], config: FusionConfig
) -> tuple[list[list[Item]], list[Item]]:
    """Each diffuse item to the one episode it most likely belongs to (no chaining).

    An episode is a candidate when one of its rounds meets the item on the
    ``episode`` gate channel (so nothing crosses a component boundary) and
    either chains with it by the distance gates (as before: the item would
    have joined it) or is close enough in time (the same windows) with the
    episode's place within the item's 99 % gate and a positive
    :func:`~truceline.fusion.assign.episode_attach_llr`. The item goes to the
    candidate of largest log-likelihood ratio. Returns the items attached to
    each episode and those left.
    """
    attached: list[list[Item]] = [[] for _ in episodes]
    left: list[Item] = []
    if not diffuse:
        return attached, left
    places = [merge_position(e) for e in episodes]
    families = [EXPLOSIVE_FAMILIES[explosive_kind(e)] for e in episodes]
    boxes: dict[str, Box] = {}

    def box(item: Item) -> Box:
        found = boxes.get(item.key)
        if found is None:
            found = boxes[item.key] = episode_box(item, config)
        return found

    for item in diffuse:
        best: tuple[float, int] | None = None
        for k, episode in enumerate(episodes):
            chains = timely = False
            for r in episode:
                gate = _chain_gate_m(item, r, config)
                if gate is None or not boxes_intersect(box(item), box(r)):
                    continue
                timely = True
                if (item.x - r.x) ** 2 + (item.y - r.y) ** 2 <= gate * gate:
                    chains = True
                    break
            if not timely:
                continue
            x, y, cov = places[k]
            m2, llr = episode_attach_llr(item, x, y, cov, families[k], config)
            if not chains and (m2 > CHI2_2DOF_99 or llr <= 0.0):
                continue
            if best is None or llr > best[0]:
                best = (llr, k)
        if best is None:
            left.append(item)
        else:
            attached[best[1]].append(item)
    return attached, left


def episodes(explosive: list[Item], config: FusionConfig) -> list[list[Item]]:
    """Explosive items grouped into episodes (module docstring).

    Well-placed rounds are chained by the distance gates. A diffuse source
    (:func:`~truceline.fusion.assign.is_diffuse`) is not chained: it joins
    the one episode of well-placed rounds it most likely belongs to
    (:func:`_attach`), so it can neither bridge two shellings nor stand
    alone 1.5–2 km from its own; diffuse sources no episode takes are
    chained among themselves.
    """
    ordered = sorted(explosive, key=lambda i: (i.t, i.key))
    placed = [i for i in ordered if not is_diffuse(i, config)]
    diffuse = [i for i in ordered if is_diffuse(i, config)]
    episodes = _chain(placed, config)
    attached, left = _attach(diffuse, episodes, config)
    result = [rounds + extra for rounds, extra in zip(episodes, attached, strict=True)]
    result.extend(_chain(left, config))
    return _rejoin(result, config)


def _family_loglik(episode: Sequence[Item], family: str) -> float | None:
    """Log-likelihood of an episode's labels if all its sources were of ``family``.

    The best true kind of the family (an "impact" episode may be impacts or
    explosions); ``None`` when a member has no label likelihood.
    """
    total = 0.0
    for item in episode:
        values = [v for k, v in item.kind_loglik.items() if EXPLOSIVE_FAMILIES.get(k) == family]
        if not values:
            return None
        total += max(values)
    return total


def _rejoin(episodes: list[list[Item]], config: FusionConfig) -> list[list[Item]]:
    """Episodes whose labels and place make them rounds of another family's episode.

    An episode of located sources whose classifiers called its rounds one kind
    (a launch's rounds heard as impacts, about one label in four) may be rounds
    of an episode of another family at its place. It joins the episode of
    another family within ``episode_window_s`` of it (the same-family window:
    the hypothesis is that it is one of its rounds) that maximises the
    log-likelihood ratio of the two hypotheses, when positive and within the
    99 % gate: H1, its sources are of that family
    (:attr:`~truceline.fusion.items.Item.kind_loglik`) and it lies where that
    episode is (:func:`~truceline.fusion.assign.episode_attach_llr`); H0, they
    are of its own family and it is an event of its own, anywhere. A shell
    landing on a gun position after it fired (counter-battery fire) stays
    apart: its confident impact labels outweigh the place. Joins are taken
    best first; an episode that takes another is not itself moved.
    """
    if len(episodes) < 2:
        return episodes
    families = [EXPLOSIVE_FAMILIES[explosive_kind(e)] for e in episodes]
    spans = [(min(i.t_lo for i in e), max(i.t_hi for i in e)) for e in episodes]
    places = [merge_position(e) for e in episodes]
    joins: list[tuple[float, int, int]] = []
    for k, episode in enumerate(episodes):
        own = _family_loglik(episode, families[k])
        if own is None:
            continue
        x, y, cov = places[k]
        probe = Item(
            key=episode[0].key, kind=families[k], family=families[k], lon=0.0, lat=0.0,
            cov=cov, t=spans[k][0], t_sigma=0.0, t_lo=spans[k][0], t_hi=spans[k][1],
            members=(), contributions=(), modalities=frozenset(), x=x, y=y,
        )  # fmt: skip
        for j in range(len(episodes)):
            if families[j] == families[k]:
                continue
            gap = max(spans[j][0] - spans[k][1], spans[k][0] - spans[j][1], 0.0)
            if gap > config.episode_window_s:
                continue
            labels = _family_loglik(episode, families[j])
            if labels is None:
                continue
            ox, oy, ocov = places[j]
            m2, place = episode_attach_llr(probe, ox, oy, ocov, families[j], config)
            llr = labels - own + place
            if m2 <= CHI2_2DOF_99 and llr > 0.0:
                joins.append((llr, k, j))
    if not joins:
        return episodes
    moved: dict[int, int] = {}
    takers: set[int] = set()
    for _, k, j in sorted(joins, key=lambda r: (-r[0], r[1], r[2])):
        if k in moved or k in takers or j in moved:
            continue
        moved[k] = j
        takers.add(j)
    result = [list(e) for e in episodes]
    for k, j in sorted(moved.items()):
        result[j].extend(episodes[k])
    return [e for k, e in enumerate(result) if k not in moved]
