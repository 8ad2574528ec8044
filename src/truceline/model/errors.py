"""Exceptions that name where bad input came from."""

from __future__ import annotations

__all__ = ["RecordError", "TrucelineError"]


class TrucelineError(Exception):
    """Base class of truceline's own errors."""


class RecordError(TrucelineError, ValueError):
    """A record failed validation.

    Parameters
    ----------
    message
        What is wrong, in words a monitor can act on.
    file
        The file the record came from, if any.
    record
        The record's position: a 1-based line number for text formats, a
        feature index for GeoJSON.
    field
        The field (or dotted path) at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.record is not None:
            where.append(
                f"line {self.record}" if isinstance(self.record, int) else str(self.record)
            )
        if self.field is not None:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def located(self, *, file: str | None = None, record: int | str | None = None) -> RecordError:
        """Return a copy with the file and/or record filled in where unknown."""
        return RecordError(
            self.message,
            file=self.file if self.file is not None else file,
            record=self.record if self.record is not None else record,
            field=self.field,
        )
