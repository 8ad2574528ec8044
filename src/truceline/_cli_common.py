"""Pieces every ``truceline`` command module shares: consoles, options, errors, the workspace.

Used by :mod:`truceline.cli` and :mod:`truceline._cli_adjudication`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from truceline.model.errors import TrucelineError
from truceline.workspace import Workspace, resolve_home

__all__ = ["HomeOption", "JsonOption", "console", "fail", "open_workspace", "out"]

#: Messages and progress (stderr).
console = Console(stderr=True, soft_wrap=True)
#: Results (stdout).
out = Console(soft_wrap=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Home directory of the log and store [default: $TRUCELINE_HOME or ./.truceline]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise.

    The message is printed literally (a field path such as ``sensors[3]`` is not
    taken for console markup).
    """
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def open_workspace(home: Path | None, wait_s: float = 0.0) -> Workspace:
    """Open the workspace at ``home`` (resolved), waiting up to ``wait_s`` seconds for its lock.

    Raises
    ------
    typer.Exit
        With code 1 and the reason, if it cannot be opened.
    """
    try:
        return Workspace(resolve_home(home), wait_s=wait_s)
    except TrucelineError as exc:
        raise fail(str(exc)) from None
