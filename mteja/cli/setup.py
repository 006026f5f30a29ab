"""``mteja init``: make an install (secret key, callback tokens) and migrate its database."""

from __future__ import annotations

from core.db import upgrade_to_head
from mteja.cli.shared import install_to_create, load_settings, out
from mteja.envfile import ensure_at_callback_token, ensure_callback_token, ensure_secret_key


def init() -> None:
    """Create a secret key and callback tokens in .env if none are set, and migrate the database
    to the latest schema. The install is MTEJA_HOME, or the working directory (not one inside
    another install)."""
    install = install_to_create()
    env_file = install.env_file
    out.print(f"install: {install.home}")
    if ensure_secret_key(env_file):
        out.print("created MTEJA_SECRET_KEY in .env (back it up: stored passwords need it)")
    if ensure_callback_token(env_file):
        out.print("created MTEJA_CALLBACK_TOKEN in .env (the secret part of the M-Pesa URLs)")
    database_url = load_settings(install).database_url
    # On an upgrade, a new token would turn the plain /ussd and /sms/* URLs already pasted into
    # the Africa's Talking dashboard into 404s: subscribers would lose USSD and SMS at once.
    # So only a new install gets one; an upgrade is told how to move to it.
    if _is_new_database(database_url):
        if ensure_at_callback_token(env_file):
            out.print(
                "created MTEJA_AT_CALLBACK_TOKEN in .env (the secret part of the Africa's Talking "
                "URLs: 'mteja africastalking urls' prints them)"
            )
    elif not load_settings(install).at_callback_token:
        out.print(
            "note: MTEJA_AT_CALLBACK_TOKEN is not set, so /ussd and /sms/* take any caller the "
            "allow-list lets through; set it in .env, run 'mteja africastalking urls' and paste "
            "those URLs into the Africa's Talking dashboard (docs/operations.md, Upgrades)"
        )
    settings = load_settings(install)
    upgrade_to_head(settings.database_url)
    out.print(f"database ready: {_safe_url(settings.database_url)}")


def _is_new_database(url: str) -> bool:
    """True when mteja has never migrated this database (a new install, not an upgrade)."""
    from core.db import current_revision, make_engine

    engine = make_engine(url)
    try:
        return current_revision(engine) is None
    finally:
        engine.dispose()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
