"""Finding: an event judged against a rule of the agreement."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from truceline.model.located import LocatedRecord
from truceline.model.timeutil import format_utc, parse_utc
from truceline.model.vocab import FINDING_STATUSES, SEVERITIES

__all__ = ["Finding"]


@dataclass(frozen=True, slots=True)
class Finding(LocatedRecord):
    """A suspected violation.

    Attributes
    ----------
    event_id
        The judged event.
    rule_id
        The agreement rule it breaks.
    agreement_id, agreement_version
        Content id and declared version number of the agreement that judged it.
    status
        One of :data:`truceline.model.vocab.FINDING_STATUSES`.
    severity
        One of :data:`truceline.model.vocab.SEVERITIES`.
    kind
        Activity kind of the event.
    time
        When the event happened (UTC); ``time_sigma_s`` its standard deviation, seconds.
    lon, lat, cov_ee, cov_en, cov_nn
        Event position (degrees) and covariance (m², east/north).
    zone_id
        The zone the event lies in (``None`` for rules that apply everywhere).
    side
        The party on whose side of the contact line the event lies.
    party
        The party the rule binds (for withdrawal rules, the owner of the band).
    distance_to_line_m
        Distance from the contact line, metres.
    confidence
        Probability that the event is real and falls under the rule, in [0, 1].
    escalation_level
        Level the agreement's escalation policy gives the finding.
    evidence
        Ids of the observations behind it, sorted.
    explanation
        Human-readable reasoning.
    """

    event_id: str
    rule_id: str
    agreement_id: str
    agreement_version: int
    status: str
    severity: str
    kind: str
    time: datetime
    time_sigma_s: float
    lon: float
    lat: float
    cov_ee: float
    cov_en: float
    cov_nn: float
    zone_id: str | None
    side: str | None
    party: str | None
    distance_to_line_m: float
    confidence: float
    escalation_level: str
    evidence: tuple[str, ...]
    explanation: str
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in FINDING_STATUSES:
            raise ValueError(f"unknown finding status {self.status!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the id)."""
        return {
            "event_id": self.event_id,
            "rule_id": self.rule_id,
            "agreement_id": self.agreement_id,
            "agreement_version": self.agreement_version,
            "status": self.status,
            "severity": self.severity,
            "kind": self.kind,
            "time": format_utc(self.time),
            "time_sigma_s": self.time_sigma_s,
            "lon": self.lon,
            "lat": self.lat,
            "cov_m2": [self.cov_ee, self.cov_en, self.cov_nn],
            "zone_id": self.zone_id,
            "side": self.side,
            "party": self.party,
            "distance_to_line_m": self.distance_to_line_m,
            "confidence": self.confidence,
            "escalation_level": self.escalation_level,
            "evidence": list(self.evidence),
            "explanation": self.explanation,
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Rebuild from :meth:`to_dict` (or :meth:`to_record`) output."""
        cov = data["cov_m2"]
        return cls(
            event_id=str(data["event_id"]),
            rule_id=str(data["rule_id"]),
            agreement_id=str(data["agreement_id"]),
            agreement_version=int(data["agreement_version"]),
            status=str(data["status"]),
            severity=str(data["severity"]),
            kind=str(data["kind"]),
            time=parse_utc(str(data["time"])),
            time_sigma_s=float(data["time_sigma_s"]),
            lon=float(data["lon"]),
            lat=float(data["lat"]),
            cov_ee=float(cov[0]),
            cov_en=float(cov[1]),
            cov_nn=float(cov[2]),
            zone_id=data.get("zone_id"),
            side=data.get("side"),
            party=data.get("party"),
            distance_to_line_m=float(data["distance_to_line_m"]),
            confidence=float(data["confidence"]),
            escalation_level=str(data["escalation_level"]),
            evidence=tuple(data["evidence"]),
            explanation=str(data["explanation"]),
            attributes=dict(data.get("attributes") or {}),
        )
