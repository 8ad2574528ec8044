"""Load and check agreement files.

:func:`check_agreement` reports every problem of a file at once, each with the
field path and YAML line at fault; :func:`load_agreement` returns the
:class:`~truceline.agreement.model.Agreement` or raises
:class:`~truceline.agreement.issues.AgreementError` carrying those issues.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from truceline.agreement.checks import check_references
from truceline.agreement.issues import AgreementError, AgreementIssue, format_path
from truceline.agreement.model import Agreement
from truceline.agreement.resolve import resolve_geometry
from truceline.agreement.schema import AgreementFile, suggest

__all__ = [
    "agreement_from_dict",
    "check_agreement",
    "check_agreement_dict",
    "format_issues",
    "load_agreement",
]

_GEOMETRY_KEYS = frozenset({"geometry", "polygon"})


# -- YAML with line numbers ------------------------------------------------------------------


def _walk(
    node: yaml.Node, loc: tuple[str | int, ...], lines: dict[str, int], issues: list[AgreementIssue]
) -> None:
    """Record the line of every path under ``node`` and report duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            path = (*loc, key)
            if key in seen:
                issues.append(
                    AgreementIssue(
                        format_path(path),
                        f"duplicate key {key!r} (first at line {seen[key]}); "
                        "YAML would silently keep only the last",
                        line,
                    )
                )
            seen.setdefault(key, line)
            lines.setdefault(format_path(path), line)
            _walk(value_node, path, lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*loc, index)
            lines.setdefault(format_path(path), item.start_mark.line + 1)
            _walk(item, path, lines, issues)


def _parse(text: str) -> tuple[Any, dict[str, int], list[AgreementIssue]]:
    """Parse YAML text; returns the data, a path -> line map and syntax issues."""
    lines: dict[str, int] = {}
    issues: list[AgreementIssue] = []
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        where = f" at line {line}, column {mark.column + 1}" if mark is not None else ""
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        issues.append(AgreementIssue("", f"YAML syntax error{where}: {detail}", line))
        return None, lines, issues
    except yaml.YAMLError as exc:
        return None, lines, [AgreementIssue("", f"YAML error: {exc}")]
    if node is not None:
        _walk(node, (), lines, issues)
    return data, lines, issues


# -- schema errors in words -----------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` from an annotation."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The schema model describing the object at ``loc``."""
    annotation: Any = AgreementFile
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or name: f for name, f in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[str(part)].annotation
        elif typing.get_origin(annotation) in (list, dict):
            annotation = typing.get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _keys(model: type[BaseModel] | None) -> list[str]:
    """The keys a schema model accepts, sorted."""
    if model is None:
        return []
    return sorted(field.alias or name for name, field in model.model_fields.items())


def _describe(error: Mapping[str, Any]) -> str:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _keys(_model_at(loc[:-1]))
        listing = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {key!r}{suggest(key, allowed)}{listing}"
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}" if loc else "missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(loc)
        keys = f" with keys {', '.join(_keys(model))}" if model else ""
        return f"expected a mapping{keys}, got {error.get('input')!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and kind not in ("value_error",):
        message += f", got {value!r}"
    return message


def _schema_issues(data: Any) -> list[AgreementIssue]:
    try:
        AgreementFile.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            # geometry content is checked (with better messages) by the geometry checks
            inside_geometry = any(part in _GEOMETRY_KEYS for part in loc[:-1])
            if inside_geometry and (loc[-1] in ("type", "coordinates") or isinstance(loc[-1], int)):
                continue
            issues.append(AgreementIssue(format_path(loc), _describe(error)))
        return issues
    return []


# -- the pipeline ---------------------------------------------------------------------------


def _line_of(path: str, lines: Mapping[str, int]) -> int | None:
    """YAML line of ``path`` or of its nearest enclosing value."""
    candidate = path.split("(", 1)[0]
    while candidate:
        if candidate in lines:
            return lines[candidate]
        cut = max(candidate.rfind("."), candidate.rfind("["))
        candidate = candidate[:cut] if cut > 0 else ""
    return None


def _finish(issues: list[AgreementIssue], lines: Mapping[str, int]) -> list[AgreementIssue]:
    """Attach YAML lines, drop repeats, order by line (file order)."""
    unique: dict[tuple[str, str], AgreementIssue] = {}
    for issue in issues:
        line = issue.line if issue.line is not None else _line_of(issue.path, lines)
        unique.setdefault(
            (issue.path, issue.message), AgreementIssue(issue.path, issue.message, line)
        )
    ordered = list(unique.values())
    return sorted(ordered, key=lambda i: i.line if i.line is not None else 1 << 30)


def _build(
    data: Any, lines: Mapping[str, int], base_dir: Path | None, source: str
) -> tuple[Agreement | None, list[AgreementIssue]]:
    if data is None:
        return None, [AgreementIssue("", "the file is empty")]
    if not isinstance(data, Mapping):
        return None, [AgreementIssue("", "expected a mapping of keys (format, id, version, ...)")]
    issues = _schema_issues(data) + check_references(data)
    resolved, geometry_issues = resolve_geometry(data, base_dir)
    issues += geometry_issues
    if issues:
        return None, _finish(issues, lines)
    agreement = Agreement(AgreementFile.model_validate(resolved), source=source)
    return agreement, []


def _load(path: Path) -> tuple[Agreement | None, list[AgreementIssue]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [AgreementIssue("", f"file not found: {path}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [AgreementIssue("", f"cannot read {path}: {exc}")]
    data, lines, issues = _parse(text)
    if issues:
        if data is None:
            return None, issues
        _, more = _build(data, lines, path.parent, str(path))
        return None, _finish(issues + more, lines)
    return _build(data, lines, path.parent, str(path))


def check_agreement(path: Path) -> list[AgreementIssue]:
    """Every problem of an agreement file, in file order (empty when it is valid).

    Parameters
    ----------
    path
        The YAML file; ``file:`` references are relative to its folder.
    """
    return _load(Path(path))[1]


def load_agreement(path: Path) -> Agreement:
    """Load, validate and resolve an agreement file.

    Raises
    ------
    AgreementError
        Naming the file and listing every problem found.
    """
    agreement, issues = _load(Path(path))
    if agreement is None:
        raise AgreementError(str(path), issues)
    return agreement


def check_agreement_dict(
    content: Mapping[str, Any], *, base_dir: Path | None = None
) -> list[AgreementIssue]:
    """Every problem of an agreement given as parsed data (see :func:`check_agreement`)."""
    return _build(content, {}, base_dir, "<dict>")[1]


def agreement_from_dict(
    content: Mapping[str, Any], *, base_dir: Path | None = None, source: str = "<dict>"
) -> Agreement:
    """Build an agreement from parsed data, such as :func:`demo_agreement_dict` output.

    Raises
    ------
    AgreementError
        Listing every problem found.
    """
    agreement, issues = _build(content, {}, base_dir, source)
    if agreement is None:
        raise AgreementError(source, issues)
    return agreement


def format_issues(source: str | Path, issues: list[AgreementIssue]) -> list[str]:
    """One printable line per issue: ``file:line: path: message``."""
    out = []
    for issue in issues:
        where = f"{source}:{issue.line}" if issue.line is not None else str(source)
        field = f" {issue.path}:" if issue.path else ""
        out.append(f"{where}:{field} {issue.message}")
    return out
