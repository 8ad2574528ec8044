"""Line-oriented CSV reading shared by the CSV adapters (private).

FIRMS files and the generic observation CSV hold one record per line, so the
readers work line by line on bytes: the raw line without its terminator is what
``raw_sha256`` hashes, and its 1-based line number is what errors name. A line
without a double quote is split on commas directly (the common case, and several
times cheaper than a :mod:`csv` reader); a quoted line goes through :mod:`csv`,
and a quoted field that runs past the end of its line is refused, because it
would make line numbers and raw hashes ambiguous.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from truceline.model.errors import RecordError

__all__ = ["Columns", "decode_line", "header_names", "probe_header", "read_header", "split_fields"]

_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Columns:
    """Header of one file: positions by lower-cased name, spelling as written.

    Attributes
    ----------
    names
        Column names as the file writes them.
    index
        Lower-cased name -> 0-based position.
    """

    names: tuple[str, ...]
    index: dict[str, int]

    @classmethod
    def from_names(cls, names: list[str]) -> Columns:
        """Index a header parsed by :func:`read_header`."""
        return cls(tuple(names), {name.lower(): i for i, name in enumerate(names)})

    def pos(self, key: str) -> int:
        """Position of column ``key`` (lower case), or -1 when absent."""
        return self.index.get(key, -1)

    def field(self, key: str) -> str:
        """The column's name as the file spells it (``key`` when absent)."""
        position = self.index.get(key, -1)
        return self.names[position] if position >= 0 else key

    def require(self, keys: tuple[str, ...], file: str, what: str) -> None:
        """Raise a line-1 :class:`RecordError` naming the first of ``keys`` that is absent."""
        for key in keys:
            if key not in self.index:
                raise RecordError(f"missing column for the {what}", file=file, record=1, field=key)

    def count_error(self, fields: list[str], file: str, line_no: int) -> RecordError:
        """The error for a line whose field count differs from the header's.

        A short line names the first missing column (a truncated line).
        """
        if len(fields) < len(self.names):
            return RecordError(
                f"truncated line: {len(fields)} of {len(self.names)} fields",
                file=file,
                record=line_no,
                field=self.names[len(fields)],
            )
        return RecordError(
            f"{len(fields)} fields but the header has {len(self.names)}",
            file=file,
            record=line_no,
        )


def probe_header(head: bytes) -> set[str]:
    """Lower-cased column names of the first line of ``head``, for cheap probes.

    Parameters
    ----------
    head
        Leading bytes of a file. Undecodable bytes are replaced, never raised.

    Returns
    -------
    set of str
        Column names, stripped of whitespace and quotes; empty for a blank head.
    """
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    text = first.decode("utf-8", errors="replace").lstrip(_BOM)
    return {name.strip().strip('"').strip().lower() for name in text.split(",")} - {""}


def decode_line(raw: bytes, file: str, line_no: int) -> str:
    """Decode one raw line as UTF-8, naming the line on failure."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file, record=line_no
        ) from None


def split_fields(text: str, file: str, line_no: int) -> list[str]:
    """Split one line into fields; quoted fields are unquoted as :mod:`csv` does.

    Raises
    ------
    RecordError
        If a quoted field is not closed on the same line.
    """
    if '"' not in text:
        return text.split(",")
    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise RecordError(
            f"malformed quoting ({exc}); a field may not span lines", file=file, record=line_no
        ) from None
    return rows[0] if rows else [""]


def header_names(text: str, file: str) -> list[str]:
    """Column names of a header line (whitespace stripped, original case kept).

    Raises
    ------
    RecordError
        On an empty or duplicate column name (record 1, the name as field).
    """
    names = [name.strip() for name in split_fields(text.lstrip(_BOM), file, 1)]
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise RecordError(f"column {position} has no name", file=file, record=1)
        key = name.lower()
        if key in seen:
            raise RecordError("duplicate column name", file=file, record=1, field=name)
        seen.add(key)
    return names


def read_header(handle: BinaryIO, file: str) -> list[str]:
    """Read and parse the header line of an open binary file.

    Raises
    ------
    RecordError
        If the file is empty or the header is malformed.
    """
    first = handle.readline()
    raw = first.rstrip(b"\r\n")
    if not raw.strip():
        raise RecordError("no header line (the file is empty or starts blank)", file=file, record=1)
    return header_names(decode_line(raw, file, 1), file)


def read_known_header(
    handle: BinaryIO, file: str, known: frozenset[str], required: tuple[str, ...], what: str
) -> Columns:
    """Read the header, refusing unknown columns (line 1, named) and missing required ones.

    Parameters
    ----------
    handle
        The file, opened in binary mode at its start.
    file
        Its name, for messages.
    known
        Lower-case names of every column the format defines.
    required
        Columns that must be present.
    what
        The format's name, for messages.
    """
    columns = Columns.from_names(read_header(handle, file))
    unknown = [name for name in columns.names if name.lower() not in known]
    if unknown:
        raise RecordError(
            "unknown column (see docs/ground-formats.md)", file=file, record=1, field=unknown[0]
        )
    columns.require(required, file, what)
    return columns


def data_rows(
    handle: BinaryIO, columns: Columns, file: str, *, strip: bool = True
) -> Iterator[tuple[int, bytes, list[str]]]:
    """``(line number, raw bytes, cells)`` of each non-blank data line.

    A line without quotes is split on commas directly (what the ``csv`` module
    would do, at a fraction of the cost: FIRMS files have hundreds of thousands
    of lines); quoted lines go through :func:`split_fields`. Cells are stripped
    of surrounding blanks unless ``strip`` is false (for readers that parse
    every cell with ``float`` anyway).

    Raises
    ------
    truceline.model.RecordError
        Undecodable text or a line whose cell count differs from the header's,
        naming the file and the 1-based line.
    """
    line_no = 1
    for raw_line in handle:
        line_no += 1
        raw = raw_line.rstrip(b"\r\n")
        if not raw:
            continue
        fields = [
            cell.strip() for cell in split_fields(decode_line(raw, file, line_no), file, line_no)
        ]
        if len(fields) != len(columns.names):
            raise columns.count_error(fields, file, line_no)
        yield line_no, raw, fields
