"""``mteja africastalking urls``: the callback URLs to paste into the Africa's Talking dashboard."""

from __future__ import annotations

import typer

from mteja.cli.shared import fail, load_settings, out

africastalking_app = typer.Typer(help="Africa's Talking (USSD and SMS).", no_args_is_help=True)


@africastalking_app.command("urls")
def africastalking_urls() -> None:
    """Print the callback URLs to paste into the Africa's Talking dashboard."""
    from ussd import africastalking_urls as urls

    settings = load_settings()
    if not settings.public_url.strip():
        fail("MTEJA_PUBLIC_URL is not set: set it to the https address mteja is served at")
    token = settings.at_callback_token
    if not token:
        fail("MTEJA_AT_CALLBACK_TOKEN is not set: run 'mteja init'")
    # Printed whole, token and all: the operator pastes these, and they are the secret.
    out.print(f"USSD callback          {urls.ussd_url(settings.public_url, token)}", markup=False)
    out.print(
        f"SMS inbound callback   {urls.sms_inbound_url(settings.public_url, token)}", markup=False
    )
    out.print(
        f"SMS delivery reports   {urls.sms_delivery_url(settings.public_url, token)}", markup=False
    )
