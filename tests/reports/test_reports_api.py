"""The public names of truceline.reports, listed once in ``__all__``."""

from __future__ import annotations

import truceline.reports as reports


def test_public_api_is_listed_and_importable() -> None:
    assert len(set(reports.__all__)) == len(reports.__all__)
    for name in reports.__all__:
        assert getattr(reports, name) is not None, name
    assert {"MapAgreement", "ReportInput", "ReportFiles", "write_report"} <= set(reports.__all__)


def test_fake_agreement_satisfies_the_protocol() -> None:
    from reports.reports_testkit import FakeAgreement, default_zones

    agreement: reports.MapAgreement = FakeAgreement(zones=default_zones())
    assert list(agreement.zone_ids) == sorted(default_zones(), key=list(default_zones()).index)
