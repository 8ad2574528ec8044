"""Scenarios simulated once per test session (each takes about a second)."""

from __future__ import annotations

from pathlib import Path

import pytest

from truceline.simulate import ScenarioSummary, simulate_scenario


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> ScenarioSummary:
    """The default scenario (seed 0, 3 days)."""
    return simulate_scenario(tmp_path_factory.mktemp("seed0"), seed=0)


@pytest.fixture(scope="session")
def scenario_dir(scenario: ScenarioSummary) -> Path:
    """Output directory of the default scenario."""
    return scenario.out_dir
