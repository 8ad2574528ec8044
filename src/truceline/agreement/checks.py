"""Whole-file checks of an agreement: ids, references between them, time order.

The pydantic models in :mod:`truceline.agreement.schema` check each value on its
own; the checks here need the whole file (does this rule's zone exist? is the
default escalation level one of the levels?). They read the parsed YAML
defensively, so they run and report even when the schema has found problems
elsewhere: an operator sees every problem at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from truceline.agreement.issues import AgreementIssue
from truceline.agreement.schema import BOTH_SIDES, coerce_utc, suggest

__all__ = ["check_references"]


def _items(data: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(index, mapping)`` of the mappings in the list ``data[key]``."""
    value = data.get(key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Mapping):
                yield index, item


def _ids(
    data: Mapping[str, Any], key: str, what: str, issues: list[AgreementIssue]
) -> set[str] | None:
    """Ids of the items of ``data[key]``, reporting duplicates.

    ``None`` when the list is given but no id could be read from it: the schema
    reports that, and references to its ids are then not checked.
    """
    first: dict[str, int] = {}
    for index, item in _items(data, key):
        ident = item.get("id")
        if not isinstance(ident, str):
            continue
        if ident in first:
            issues.append(
                AgreementIssue(
                    f"{key}[{index}].id",
                    f"duplicate {what} id {ident!r} (first used at {key}[{first[ident]}])",
                )
            )
        else:
            first[ident] = index
    given = data.get(key)
    if not first and isinstance(given, list) and given:
        return None
    return set(first)


class _Refs:
    """Reports references to unknown ids."""

    def __init__(self, issues: list[AgreementIssue]) -> None:
        self.issues = issues

    def check(self, value: Any, known: set[str] | None, what: str, path: str) -> None:
        if known is not None and isinstance(value, str) and value not in known:
            listing = ", ".join(sorted(known)) or "none defined"
            self.issues.append(
                AgreementIssue(
                    path, f"unknown {what} {value!r}{suggest(value, known)} (known: {listing})"
                )
            )

    def check_list(self, values: Any, known: set[str] | None, what: str, path: str) -> None:
        if isinstance(values, list):
            for index, value in enumerate(values):
                self.check(value, known, what, f"{path}[{index}]")


def _time(value: Any) -> datetime | None:
    try:
        result = coerce_utc(value)
    except ValueError:
        return None
    return result if isinstance(result, datetime) else None


def _check_window(
    start: Any, end: Any, path: str, start_name: str, issues: list[AgreementIssue]
) -> None:
    begin, finish = _time(start), _time(end)
    if begin is not None and finish is not None and finish <= begin:
        issues.append(AgreementIssue(path, f"must be after {start_name} ({start})"))


def _check_band(band: Mapping[str, Any], path: str, parties: set[str] | None, refs: _Refs) -> None:
    origin = band.get("from")
    if isinstance(origin, str) and origin != "contact_line":
        prefix, _, party = origin.partition(":")
        if prefix != "reference_line" or not party:
            refs.issues.append(
                AgreementIssue(
                    f"{path}.from",
                    f"expected 'contact_line' or 'reference_line:<party>', got {origin!r}",
                )
            )
        else:
            refs.check(party, parties, "party", f"{path}.from")
    side = band.get("side")
    if side != BOTH_SIDES:
        refs.check(side, parties, "side (a party id or 'both')", f"{path}.side")
    low, high = band.get("min_m", 0), band.get("max_m")
    numeric = (int, float)
    if isinstance(low, numeric) and isinstance(high, numeric) and low >= high:
        refs.issues.append(
            AgreementIssue(f"{path}.max_m", f"max_m ({high}) must be greater than min_m ({low})")
        )


def _check_zones(data: Mapping[str, Any], parties: set[str] | None, refs: _Refs) -> None:
    for index, zone in _items(data, "zones"):
        path = f"zones[{index}]"
        refs.check(zone.get("party"), parties, "party", f"{path}.party")
        band = zone.get("band")
        if isinstance(band, Mapping):
            _check_band(band, f"{path}.band", parties, refs)


def _check_rules(
    data: Mapping[str, Any], parties: set[str] | None, zones: set[str] | None, refs: _Refs
) -> None:
    for index, rule in _items(data, "rules"):
        path = f"rules[{index}]"
        refs.check(rule.get("zone"), zones, "zone", f"{path}.zone")
        refs.check_list(rule.get("exempt_zones"), zones, "zone", f"{path}.exempt_zones")
        refs.check_list(rule.get("sides"), parties, "party", f"{path}.sides")
        active = rule.get("active")
        if isinstance(active, Mapping):
            _check_window(
                active.get("from"),
                active.get("until"),
                f"{path}.active.until",
                "active.from",
                refs.issues,
            )


def _check_patterns(
    data: Mapping[str, Any], rules: set[str] | None, refs: _Refs
) -> set[str] | None:
    """Pattern ids (unique, and distinct from rule ids) and the rules they count."""
    patterns = _ids(data, "patterns", "pattern", refs.issues)
    for index, pattern in _items(data, "patterns"):
        path = f"patterns[{index}]"
        ident = pattern.get("id")
        if rules is not None and isinstance(ident, str) and ident in rules:
            refs.issues.append(
                AgreementIssue(
                    f"{path}.id",
                    f"pattern id {ident!r} is also a rule id: escalation entries name both",
                )
            )
        refs.check_list(pattern.get("rules"), rules, "rule", f"{path}.rules")
    return patterns


def _check_escalation(data: Mapping[str, Any], rules: set[str] | None, refs: _Refs) -> None:
    escalation = data.get("escalation")
    if not isinstance(escalation, Mapping):
        return
    raw_levels = escalation.get("levels")
    if not isinstance(raw_levels, list):
        return  # the schema reports the missing list; nothing to check against
    levels: set[str] = set()
    for index, level in enumerate(raw_levels):
        if not isinstance(level, str):
            continue  # the schema reports it
        if level in levels:
            refs.issues.append(
                AgreementIssue(f"escalation.levels[{index}]", f"duplicate level {level!r}")
            )
        levels.add(level)
    refs.check(escalation.get("default"), levels, "escalation level", "escalation.default")
    for index, entry in _items(escalation, "policy"):
        path = f"escalation.policy[{index}]"
        refs.check(entry.get("level"), levels, "escalation level", f"{path}.level")
        when = entry.get("when")
        if isinstance(when, Mapping):
            refs.check_list(when.get("rules"), rules, "rule or pattern", f"{path}.when.rules")
    notify = escalation.get("notify")
    if isinstance(notify, Mapping):
        for level in notify:
            refs.check(level, levels, "escalation level", f"escalation.notify.{level}")


def check_references(data: Mapping[str, Any]) -> list[AgreementIssue]:
    """Check ids, references between them and the order of times.

    Parameters
    ----------
    data
        The parsed agreement file (possibly invalid: missing or mistyped values
        are skipped here, the schema reports them).

    Returns
    -------
    list of AgreementIssue
        Duplicate ids, references to unknown parties, zones, rules, patterns or
        escalation levels, pattern ids that are also rule ids, ``min_m >= max_m``
        and windows that end before they start.
    """
    issues: list[AgreementIssue] = []
    refs = _Refs(issues)
    parties = _ids(data, "parties", "party", issues)
    for index, party in _items(data, "parties"):
        if party.get("id") == BOTH_SIDES:
            issues.append(AgreementIssue(f"parties[{index}].id", "'both' is reserved for bands"))
    zones = _ids(data, "zones", "zone", issues)
    rules = _ids(data, "rules", "rule", issues)
    line = data.get("contact_line")
    if isinstance(line, Mapping):
        refs.check(line.get("left_party"), parties, "party", "contact_line.left_party")
        refs.check(line.get("right_party"), parties, "party", "contact_line.right_party")
        left = line.get("left_party")
        if isinstance(left, str) and left == line.get("right_party"):
            issues.append(AgreementIssue("contact_line.right_party", "must differ from left_party"))
    references = data.get("reference_lines")
    if isinstance(references, Mapping):
        for party in references:
            refs.check(party, parties, "party", f"reference_lines.{party}")
    _check_window(
        data.get("effective_from"),
        data.get("effective_until"),
        "effective_until",
        "effective_from",
        issues,
    )
    _check_zones(data, parties, refs)
    _check_rules(data, parties, zones, refs)
    patterns = _check_patterns(data, rules, refs)
    judged = None if rules is None or patterns is None else rules | patterns
    _check_escalation(data, judged, refs)
    return issues
