"""Scenario simulator: a synthetic ceasefire written in real field formats plus ground truth.

Run :func:`simulate_scenario` (CLI: ``truceline simulate --out DIR --seed N``) to
write FIRMS CSV, acoustic-network and drone-patrol GeoJSON, the demo agreement
and ``truth.json`` into a directory.
"""

from truceline.simulate.scenario import DEFAULT_START, ScenarioSummary, simulate_scenario

__all__ = ["DEFAULT_START", "ScenarioSummary", "simulate_scenario"]
