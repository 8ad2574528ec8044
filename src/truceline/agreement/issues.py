"""Problems found in an agreement file, and the error that carries them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from truceline.model.errors import TrucelineError

__all__ = ["AgreementError", "AgreementIssue", "format_path"]


def format_path(loc: Sequence[str | int]) -> str:
    """Render a location tuple as a field path.

    ``("zones", 2, "band", "max_m")`` becomes ``zones[2].band.max_m``.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True, slots=True, order=True)
class AgreementIssue:
    """One problem in an agreement file.

    Attributes
    ----------
    path
        Field path of the offending value, such as ``zones[2].band.max_m`` or
        ``contact_line.geometry.coordinates[1][17]``; empty for the file as a whole.
    message
        What is wrong and, where possible, how to fix it.
    line
        1-based line in the YAML file where the value starts, when known.
    """

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}{field}{self.message}"


class AgreementError(TrucelineError, ValueError):
    """An agreement file failed validation.

    Parameters
    ----------
    source
        The file (or a description of the in-memory source) that was checked.
    issues
        Every problem found, in file order.
    """

    def __init__(self, source: str, issues: Sequence[AgreementIssue]) -> None:
        self.source = source
        self.issues: tuple[AgreementIssue, ...] = tuple(issues)
        count = len(self.issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"agreement {source}: {count} {noun}\n{lines}")
