"""Behaviour shared by derived records that have a position and a covariance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from truceline.model.geo import Ellipse, covariance_ellipse
from truceline.model.ids import content_id

__all__ = ["LocatedRecord"]


class LocatedRecord:
    """Content id, confidence ellipse and public record of an event or finding.

    Subclasses are frozen dataclasses with ``cov_ee``, ``cov_en`` and ``cov_nn``
    (m², east/north) and a ``to_dict()`` giving their full content.
    """

    __slots__ = ()

    cov_ee: float
    cov_en: float
    cov_nn: float
    #: Provided by the subclass: its JSON-ready content, without the id.
    to_dict: Callable[[], dict[str, Any]]

    @property
    def id(self) -> str:
        """Content id over the record's full content."""
        return content_id(self.to_dict())

    def ellipse(self, confidence: float = 0.95) -> Ellipse:
        """Location confidence ellipse."""
        return covariance_ellipse(self.cov_ee, self.cov_en, self.cov_nn, confidence)

    def to_record(self) -> dict[str, Any]:
        """Public record: content plus id and the 95 % ellipse."""
        record = self.to_dict()
        record["id"] = self.id
        record["ellipse_95"] = self.ellipse().to_dict()
        return record
