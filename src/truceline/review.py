"""Monitor reviews: rulings on findings, appended to the evidence log.

A review never edits a finding. ``truceline review FINDING_ID --status S --by
NAME`` appends a ``review`` entry (finding id, status, reviewer, note, time) to
the evidence log, where the next signed tree head covers it; the latest review
of a finding is its review status (:func:`reviews`), shown by ``truceline
findings`` and used to re-estimate source reliabilities.

There is no role system yet: ``--by`` is the name the reviewer gives, not an
authenticated identity, and anyone who can write the home directory can append
a review. Parties to the ceasefire are meant to have read-only access (a copy
of the log, ``truceline log verify`` and ``verify-run``), which the deployment,
not this command, has to enforce. Four-eyes approval is not enforced either;
the full history (:func:`review_history`) shows who ruled what, when.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from truceline.evidence.entries import make_entry
from truceline.model.errors import TrucelineError
from truceline.model.timeutil import format_utc, parse_utc
from truceline.store.base import Store
from truceline.workspace import Workspace

__all__ = [
    "REVIEW_STATUSES",
    "Review",
    "ReviewError",
    "add_review",
    "resolve_finding_id",
    "review_history",
    "reviews",
]

#: Statuses a review can give a finding (``candidate`` is the unreviewed state).
REVIEW_STATUSES: Final = ("verified", "dismissed", "inconclusive", "under_review")

#: Shortest finding-id prefix accepted on the command line.
MIN_PREFIX: Final = 8


class ReviewError(TrucelineError, ValueError):
    """A review was refused (unknown finding, status or empty reviewer name)."""


@dataclass(frozen=True, slots=True)
class Review:
    """One ruling on a finding.

    Attributes
    ----------
    finding_id
        The finding ruled on.
    status
        One of :data:`REVIEW_STATUSES`.
    by
        The reviewer's name as given (not authenticated).
    note
        Free text, or ``None``.
    time
        When the ruling was recorded (UTC, whole seconds).
    id, seq
        Content id and index of its log entry (``""``/``-1`` before it is logged).
    """

    finding_id: str
    status: str
    by: str
    note: str | None
    time: datetime
    id: str = ""
    seq: int = -1

    def body(self) -> dict[str, Any]:
        """The log entry body."""
        return {
            "finding_id": self.finding_id,
            "status": self.status,
            "by": self.by,
            "note": self.note,
            "time": format_utc(self.time),
        }

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Review:
        """Rebuild from a store entry ``{"id", "seq", "body"}``."""
        body = entry["body"]
        return cls(
            finding_id=str(body["finding_id"]),
            status=str(body["status"]),
            by=str(body["by"]),
            note=None if body.get("note") is None else str(body["note"]),
            time=parse_utc(str(body["time"])),
            id=str(entry["id"]),
            seq=int(entry["seq"]),
        )


def resolve_finding_id(finding_ids: Iterable[str], text: str) -> str:
    """The finding id ``text`` names (a full id or a unique prefix of ≥ 8 characters).

    Raises
    ------
    ReviewError
        If no finding, or more than one, matches.
    """
    text = text.strip().lower().rstrip("…")
    ids = sorted(set(finding_ids))
    if text in ids:
        return text
    if len(text) < MIN_PREFIX:
        raise ReviewError(
            f"finding id {text!r}: give the full id or at least {MIN_PREFIX} characters of it"
        )
    matches = [ident for ident in ids if ident.startswith(text)]
    if not matches:
        raise ReviewError(
            f"no finding {text!r} in the current run "
            f"({len(ids)} findings; see 'truceline findings')"
        )
    if len(matches) > 1:
        raise ReviewError(f"finding id prefix {text!r} is ambiguous: {len(matches)} findings match")
    return matches[0]


def add_review(
    workspace: Workspace,
    finding: str,
    status: str,
    by: str,
    note: str | None = None,
    *,
    time: datetime | None = None,
) -> Review:
    """Append a review of one of the current run's findings to the evidence log.

    Parameters
    ----------
    workspace
        The open home directory.
    finding
        Finding id, or a unique prefix of at least 8 characters.
    status
        One of :data:`REVIEW_STATUSES`.
    by
        Reviewer's name (free text; not authenticated).
    note
        Optional reasoning.
    time
        When the ruling is made (UTC); default now, to the second.

    Raises
    ------
    ReviewError
        For an unknown finding or status, or an empty reviewer name.
    """
    if status not in REVIEW_STATUSES:
        raise ReviewError(
            f"field 'status': unknown review status {status!r}; "
            f"expected one of {', '.join(REVIEW_STATUSES)}"
        )
    if not by.strip():
        raise ReviewError("field 'by': the reviewer's name is empty")
    finding_id = resolve_finding_id((f.id for f in workspace.store.findings()), finding)
    when = time if time is not None else datetime.now(UTC).replace(microsecond=0)
    if when.tzinfo is None:
        raise ReviewError("field 'time': naive datetime; reviews are timed in UTC")
    review = Review(finding_id, status, by.strip(), note or None, when.astimezone(UTC))
    entry_id, entry = make_entry("review", review.body())
    head = workspace.log.append_batch(
        [entry], {"kind": "review", "finding_id": finding_id, "status": status}
    )
    workspace.store.add_batch(end_seq=head.tree_size, other_entries=[(head.first_index, entry)])
    return Review(
        review.finding_id,
        review.status,
        review.by,
        review.note,
        review.time,
        id=entry_id,
        seq=head.first_index,
    )


def review_history(store: Store, finding_id: str | None = None) -> list[Review]:
    """Every review (of one finding, if given), in log order."""
    history = [Review.from_entry(entry) for entry in store.reviews()]
    if finding_id is None:
        return history
    return [review for review in history if review.finding_id == finding_id]


def reviews(store: Store) -> dict[str, str]:
    """The latest review status of every reviewed finding, by finding id.

    "Latest" is the last in log order (the log's order is what the signed tree
    heads fix; review times are the reviewers' clocks).
    """
    latest: dict[str, str] = {}
    for review in review_history(store):
        latest[review.finding_id] = review.status
    return dict(sorted(latest.items()))
