"""The ceasefire agreement as data: file format, zones, rules and adjudication.

Load a versioned agreement file with :func:`load_agreement` (or list its problems
with :func:`check_agreement`), then judge fused events with :func:`adjudicate` and
add the agreement's pattern findings with :func:`with_patterns`. Escalation
records of top-level findings are built by :mod:`truceline.agreement.escalation`.
The format is documented in ``docs/agreement.md``.
"""

from truceline.agreement.adjudicate import (
    adjudicate,
    agreement_in_force,
    escalation_level,
    escalation_recipients,
    policy_level,
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
from truceline.agreement.patterns import is_pattern_finding, judge_patterns, with_patterns
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
    "is_pattern_finding",
    "judge_patterns",
    "load_agreement",
    "policy_level",
    "with_patterns",
    "write_demo_agreement",
]
