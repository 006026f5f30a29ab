"""``mteja mpesa callbacks`` and ``mteja mpesa resolve``: the M-Pesa callbacks left for staff.

A callback that could not be parsed, believed or handled is kept (never credited, never
dropped); staff check it against the M-Pesa statement, act (``mteja customer pay`` or
``/assign``), then resolve it here with a note that goes to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated

import typer
from rich.console import Console

from core.actors import Actor
from core.display import local_time
from core.usecases.mpesa_callbacks import callbacks_for_staff, resolve_callback
from mteja.bootstrap import System

OpenSystem = Callable[[], AbstractContextManager[System]]

ACTOR = Actor.cli()


def add_callback_commands(mpesa_app: typer.Typer, opened_system: OpenSystem, out: Console) -> None:
    """Register ``callbacks`` and ``resolve`` on the ``mpesa`` command."""

    @mpesa_app.command("callbacks")
    def mpesa_callbacks(
        limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first")] = 50,
    ) -> None:
        """Callbacks not credited: malformed, flagged (not believed) or failed."""
        with opened_system() as system, system.services.unit_of_work(read_only=True) as uow:
            waiting = callbacks_for_staff(uow, limit)
            zone = system.settings.zone
        if not waiting:
            out.print("No M-Pesa callback waits for staff.")
            return
        for callback in waiting:
            out.print(
                f"#{callback.id}  {local_time(callback.received_at, zone)}  {callback.kind}  "
                f"{callback.status}: {callback.error or ''}",
                markup=False,
            )
            out.print(f"    {callback.excerpt}", markup=False)
        out.print("Check each against the M-Pesa statement, then: mteja mpesa resolve ID NOTE")

    @mpesa_app.command("resolve")
    def mpesa_resolve(
        callback_id: Annotated[
            int, typer.Argument(help="The callback's id (mteja mpesa callbacks)")
        ],
        note: Annotated[str, typer.Argument(help="What was done, for the audit log")],
    ) -> None:
        """Take a callback off the needs-attention queue once it has been dealt with."""
        with opened_system() as system, system.services.unit_of_work() as uow:
            resolve_callback(uow, ACTOR, callback_id, note)
            uow.commit()
        out.print(f"callback {callback_id} resolved", markup=False)
