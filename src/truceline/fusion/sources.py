"""Observations into fusion items: contributions, source groups, scans.

Every observation gets a :class:`~truceline.fusion.confidence.Contribution`
(its say in an event's confidence) from
:func:`truceline.fusion.reliability.observation_contribution`, whose **source
group** is the unit counted once as corroboration: the group the configuration
gives the sensor; else the group the observation names in
``attributes["source_group"]`` (an adapter that knows two sensor ids share one
platform, one flight or one processing chain says so there); else the array
the sensor is an element of; else the sensor itself. The configuration comes
first: it is the operator's explicit, recorded choice (its digest is part of
every run), so a dependence it declares — or a split it makes — is never
undone by a field in the data, which any adapter or a tampered file could set;
an observation's own group still refines the default of array or sensor. The
order is that of :func:`truceline.fusion.reliability.observation_contribution`
(and of the review tallies), so the engine and the reliability re-estimation
count the same groups.

A point or footprint observation becomes one :class:`~truceline.fusion.items.Item`
whose **scan** is ``(source group, start, end)``: all observations of one
group at one time (one overpass, one change map, one drone frame) are one look,
in which each object appears at most once (:mod:`truceline.fusion.assign`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from truceline.fusion.acoustic import UNCLASSIFIED
from truceline.fusion.assign import EXPLOSIVE_FAMILIES, family_of
from truceline.fusion.confidence import Contribution, label_log_likelihoods
from truceline.fusion.config import FusionConfig
from truceline.fusion.items import Cov, Item, vote, winner
from truceline.fusion.reliability import observation_contribution
from truceline.model.location import FootprintLocation, PointLocation
from truceline.model.observation import Observation
from truceline.model.sensor import Sensor

__all__ = ["ItemFactory", "is_unclassified"]

#: Metres per degree of latitude and of longitude at the equator (WGS 84 means).
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


def is_unclassified(obs: Observation) -> bool:
    """An array beam: a direction and a time, no opinion on what made the sound."""
    return obs.kind == "other" and obs.attributes.get("label") == "array_detection"


class ItemFactory:
    """Builds items and contributions under one configuration and sensor list.

    Parameters
    ----------
    sensors
        Sensor descriptions by id.
    config
        The fusion configuration.
    """

    def __init__(self, sensors: Mapping[str, Sensor], config: FusionConfig) -> None:
        self.sensors = sensors
        self.config = config
        self._contributions: dict[tuple[object, ...], Contribution] = {}

    def contribution(self, obs: Observation) -> Contribution:
        """An observation's say in the confidence of the event it joins.

        Contributions depend on a handful of fields only and are shared
        (they are frozen); a changed sensor description needs a new factory.
        """
        attributes = obs.attributes
        named = attributes.get("source_group")
        key = (
            obs.sensor_id, obs.modality, obs.kind, attributes.get("confidence"),
            attributes.get("label"), named,
        )  # fmt: skip
        cached = self._contributions.get(key)
        if cached is not None:
            return cached
        # the group (configured, else named by the observation, else array, else
        # sensor) is decided by observation_contribution, as everywhere else
        contribution = observation_contribution(obs, self.sensors.get(obs.sensor_id), self.config)
        if len(self._contributions) < 1_000_000:
            self._contributions[key] = contribution
        return contribution

    def forget(self, sensor_id: str) -> None:
        """Drop cached contributions of a sensor whose description changed."""
        self._contributions = {k: v for k, v in self._contributions.items() if k[0] != sensor_id}

    def timing_sigma(self, obs: Observation) -> float:
        """Standard deviation of the observation's time with its sensor's clock, seconds."""
        sensor = self.sensors.get(obs.sensor_id)
        clock = sensor.timing_sigma_s if sensor is not None else 0.0
        return max(math.hypot(obs.time_sigma_s, clock), 0.05)

    def family(self, obs: Observation) -> str:
        """Signal family of a ground arrival (its classifier's label)."""
        if is_unclassified(obs):
            return UNCLASSIFIED
        return EXPLOSIVE_FAMILIES.get(obs.kind, obs.kind)

    def point_item(self, oid: str, obs: Observation) -> Item | None:
        """The item of a point or footprint observation (``None`` for other shapes)."""
        loc = obs.location
        half = (0.0, 0.0)
        if isinstance(loc, PointLocation):
            lon, lat = loc.lon, loc.lat
            # 1 m² of floor keeps a zero covariance invertible
            cov: Cov = (loc.cov_ee + 1.0, loc.cov_en, loc.cov_nn + 1.0)
        elif isinstance(loc, FootprintLocation):
            lon, lat = loc.centre
            lons = [p[0] for p in loc.exterior]
            lats = [p[1] for p in loc.exterior]
            width = (max(lons) - min(lons)) * _M_PER_DEG_LON_EQ * math.cos(math.radians(lat))
            height = (max(lats) - min(lats)) * _M_PER_DEG_LAT
            # uniform over the box: the variance of a uniform of that width
            cov = (max(width, 1.0) ** 2 / 12.0, 0.0, max(height, 1.0) ** 2 / 12.0)
            half = (width / 2.0, height / 2.0)
        else:
            return None
        t = obs.time.timestamp()
        t_hi = t if obs.time_end is None else obs.time_end.timestamp()
        contribution = self.contribution(obs)
        weight = max(contribution.confidence * contribution.reliability, 1e-6)
        kind_votes = {obs.kind: weight}
        class_votes: dict[str, float] = {}
        weapon = obs.attributes.get("weapon_class")
        if isinstance(weapon, str):
            class_votes[weapon] = weight
        count = obs.attributes.get("count")
        return Item(
            key=oid,
            kind=obs.kind,
            family=family_of(obs.kind),
            lon=float(lon),
            lat=float(lat),
            cov=cov,
            t=t,
            t_sigma=self.timing_sigma(obs),
            t_lo=t,
            t_hi=t_hi,
            members=(oid,),
            contributions=(contribution,),
            modalities=frozenset({obs.modality}),
            scan=(contribution.source, t, t_hi),
            kind_votes=kind_votes,
            class_votes=class_votes,
            count=count if isinstance(count, int) and not isinstance(count, bool) else 1,
            half_extent_m=half,
        )

    def located_item(
        self,
        members: Sequence[tuple[str, Observation]],
        lon: float,
        lat: float,
        cov: Cov,
        origin_s: float,
        origin_sigma_s: float,
    ) -> Item:
        """The item of a source located from several ground arrivals.

        Its kind is the confidence-weighted vote of the members that classify
        (``"other"`` if none does). The likelihood of their labels under each
        true kind (:attr:`Item.kind_loglik`) is kept for the engine to weigh
        one kind against another where position and time also speak.
        """
        votes: dict[str, float] = {}
        contributions = []
        labels: dict[str, list[tuple[str, float]]] = {}
        for _, obs in members:
            contribution = self.contribution(obs)
            if contribution.classifies:
                vote(votes, obs.kind, max(contribution.confidence * contribution.reliability, 1e-6))
                labels.setdefault(obs.modality, []).append((obs.kind, contribution.confidence))
            contributions.append(contribution)
        kind = winner(votes) if votes else "other"
        ids = tuple(sorted(oid for oid, _ in members))
        return Item(
            key="src:" + ids[0],
            kind=kind,
            family=family_of(kind),
            lon=float(lon),
            lat=float(lat),
            cov=cov,
            t=origin_s,
            t_sigma=origin_sigma_s,
            t_lo=origin_s,
            t_hi=origin_s,
            members=ids,
            contributions=tuple(contributions),
            modalities=frozenset(obs.modality for _, obs in members),
            kind_votes=votes,
            kind_loglik=self.kind_loglik(labels),
        )

    def kind_loglik(self, labels: Mapping[str, Sequence[tuple[str, float]]]) -> dict[str, float]:
        """Log-likelihood of labels under each true kind, pooled over modalities.

        ``labels`` maps a modality to its members' ``(label, confidence)``;
        modalities without confusion rates (``FusionConfig.label_confusion``)
        are left out, and only the kinds every used modality knows are kept.
        """
        result: dict[str, float] | None = None
        for modality in sorted(labels):
            confusion = self.config.confusion(modality)
            if not confusion:
                continue
            part = label_log_likelihoods(labels[modality], confusion)
            if result is None:
                result = part
            else:
                result = {k: v + part[k] for k, v in result.items() if k in part}
        return result or {}
