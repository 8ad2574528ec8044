"""The ceasefire agreement as data: file format, zones, rules and adjudication.

Load a versioned agreement file with :func:`load_agreement` (or list its problems
with :func:`check_agreement`), then judge fused events with :func:`adjudicate`.
The format is documented in ``docs/agreement.md``.
"""

from truceline.agreement.adjudicate import (
    adjudicate,
    agreement_in_force,
    escalation_level,
    escalation_recipients,
)
from truceline.agreement.demo import demo_agreement_dict, write_demo_agreement
from truceline.agreement.issues import AgreementError, AgreementIssue
from truceline.agreement.load import (
    agreement_from_dict,
    check_agreement,
    check_agreement_dict,
    format_issues,
    load_agreement,
)
from truceline.agreement.model import Agreement
from truceline.agreement.schema import AgreementFile, agreement_json_schema

__all__ = [
    "Agreement",
    "AgreementError",
    "AgreementFile",
    "AgreementIssue",
    "adjudicate",
    "agreement_from_dict",
    "agreement_in_force",
    "agreement_json_schema",
    "check_agreement",
    "check_agreement_dict",
    "demo_agreement_dict",
    "escalation_level",
    "escalation_recipients",
    "format_issues",
    "load_agreement",
    "write_demo_agreement",
]
