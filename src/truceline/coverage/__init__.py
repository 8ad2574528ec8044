"""Coverage: which area each sensor could observe, when, and how well.

"Nothing observed" and "not observed" are different answers. Every sensor's
coverage is a list of :class:`~truceline.model.Coverage` records — an area in
lon/lat, a time window, and the probability of detecting a target class there:

* :mod:`.drone` — camera footprints unioned per flight pass, with the detection
  probability of an object of a given size at the pass's worst ground sample
  distance (:func:`drone_coverage`);
* :mod:`.ground` — a fixed sensor's detection-range circle per UTC day
  (:func:`ground_coverage`);
* :mod:`.zones` — the observed share of an agreement zone over a period and the
  unobserved remainder (:func:`zone_coverage_fraction`), through the same
  overlay as the report's coverage gaps (:mod:`truceline.reports.gaps`).
"""

from truceline.coverage.drone import detection_probability, drone_coverage
from truceline.coverage.ground import ground_coverage
from truceline.coverage.zones import ZoneCoverageReport, zone_coverage_fraction

__all__ = [
    "ZoneCoverageReport",
    "detection_probability",
    "drone_coverage",
    "ground_coverage",
    "zone_coverage_fraction",
]
