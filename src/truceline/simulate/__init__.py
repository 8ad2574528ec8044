"""Scenario simulator: a synthetic ceasefire written in real field formats plus ground truth.

Run :func:`simulate_scenario` (CLI: ``truceline simulate --out DIR --seed N
--scenario FAMILY``) to write FIRMS CSV, acoustic-network and drone-patrol
GeoJSON, the acoustic network's detections and station CSVs (``ground-edge/``),
an infrasound array's raw miniSEED and StationXML (``ground-array/``), the demo
agreement and ``truth.json`` into a directory. :data:`FAMILIES` lists the
scenario families (``default``, ``dense-shelling``, ``quiet-week``).
"""

from truceline.simulate.families import FAMILIES
from truceline.simulate.scenario import DEFAULT_START, ScenarioSummary, simulate_scenario

__all__ = ["DEFAULT_START", "FAMILIES", "ScenarioSummary", "simulate_scenario"]
