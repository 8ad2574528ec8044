"""``truceline satellite``: FIRMS polling, the excess-activity model, change detection.

Each command lives in its own module with a ``register(app)`` function; this
module only assembles the sub-application that :mod:`truceline.cli` mounts.
"""

from __future__ import annotations

import typer

from truceline.satellite import _cli_change, _cli_model, _cli_poll

__all__ = ["satellite_app"]

satellite_app = typer.Typer(
    help="Satellite channel: FIRMS polling, excess fire activity, change detection.",
    no_args_is_help=True,
)
_cli_poll.register(satellite_app)
_cli_model.register(satellite_app)
_cli_change.register(satellite_app)
