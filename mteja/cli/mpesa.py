"""``mteja mpesa …``: register the paybill callback URLs with Safaricom, and the callbacks left
for staff.

A callback that could not be parsed, believed or handled is kept (never credited, never
dropped); staff check it against the M-Pesa statement, act (``mteja customer pay`` or
``/assign``), then resolve it here with a note that goes to the audit log.
"""

from __future__ import annotations

from typing import Annotated

import typer

from core.display import local_time
from core.usecases.mpesa_callbacks import callbacks_for_staff, resolve_callback
from mteja.cli.shared import ACTOR, fail, load_settings, opened_system, out

mpesa_app = typer.Typer(help="M-Pesa (Safaricom Daraja).", no_args_is_help=True)


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
    callback_id: Annotated[int, typer.Argument(help="The callback's id (mteja mpesa callbacks)")],
    note: Annotated[str, typer.Argument(help="What was done, for the audit log")],
) -> None:
    """Take a callback off the needs-attention queue once it has been dealt with."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        resolve_callback(uow, ACTOR, callback_id, note)
        uow.commit()
    out.print(f"callback {callback_id} resolved", markup=False)


@mpesa_app.command("register-urls")
def mpesa_register_urls() -> None:
    """Tell Safaricom where to send paybill validation and confirmation callbacks."""
    from payments import callback_urls
    from payments.daraja import DarajaError

    settings = load_settings()
    if not settings.callback_token:
        fail("MTEJA_CALLBACK_TOKEN is not set: run 'mteja init'")
    problem = callback_urls.callback_url_problem(settings.public_url, settings.callback_token)
    if problem is not None:
        fail(problem)
    from mteja.queueing import daraja_client

    client = daraja_client(settings)
    if client is None:
        fail("set MTEJA_MPESA_CONSUMER_KEY, _CONSUMER_SECRET, _SHORTCODE and _PASSKEY first")
    confirmation = callback_urls.c2b_confirmation_url(settings.public_url, settings.callback_token)
    validation = callback_urls.c2b_validation_url(settings.public_url, settings.callback_token)
    try:
        answer = client.register_c2b_urls(confirmation, validation)
    except DarajaError as exc:
        fail(f"Safaricom refused: {exc}")
    out.print(f"registered with Safaricom: {answer.get('ResponseDescription', answer)}")
    # The token is the URLs' secret: not echoed.
    out.print(f"  confirmation {callback_urls.c2b_confirmation_url(settings.public_url, '…')}")
    out.print(f"  validation   {callback_urls.c2b_validation_url(settings.public_url, '…')}")
