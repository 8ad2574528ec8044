"""Fixtures for report tests (the building blocks live in ``reports_testkit``).

Helpers are imported as ``reports.reports_testkit``: ``tests`` is on ``pythonpath``.
"""

from __future__ import annotations

import matplotlib
import pytest

from reports.reports_testkit import FakeAgreement, default_input, default_zones
from truceline.reports import ReportInput

# The report draws on an explicit Agg canvas; this keeps any stray pyplot use headless too.
matplotlib.use("Agg")


@pytest.fixture
def agreement() -> FakeAgreement:
    return FakeAgreement(zones=default_zones())


@pytest.fixture
def report_input(agreement: FakeAgreement) -> ReportInput:
    return default_input(agreement)
