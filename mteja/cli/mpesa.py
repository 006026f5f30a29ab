"""``mteja mpesa …``: register the paybill callback URLs with Safaricom, and deal with the
callbacks left for staff."""

from __future__ import annotations

import typer

from mteja.cli.shared import fail, load_settings, opened_system, out
from mteja.mpesa_cli import add_callback_commands

mpesa_app = typer.Typer(help="M-Pesa (Safaricom Daraja).", no_args_is_help=True)
add_callback_commands(mpesa_app, opened_system, out)


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
