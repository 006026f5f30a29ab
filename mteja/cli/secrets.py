"""``mteja secrets``: rotate the key that encrypts stored passwords, without downtime.

1. ``mteja secrets add-key`` puts a new key first in MTEJA_SECRET_KEY (the install's ``.env``);
   restart every mteja process, on every machine, with that value. New secrets are then
   encrypted under the new key, and every process still reads the old ones.
2. ``mteja secrets rotate`` re-encrypts every stored secret under the new key, in batches (run it
   again if it stops), then reads them all once more to verify. With ``--drop-old`` and a clean
   verification it removes the old keys from ``.env``; restart the processes once more.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from dotenv import dotenv_values

from core.crypto import SecretKeyError, new_secret_key, parse_keys
from core.usecases.key_rotation import rotate_secrets, secrets_not_under_current_key
from mteja.cli.shared import ACTOR, current_install, err, fail, load_settings, opened_system, out
from mteja.envfile import SECRET_KEY_VARIABLE, record_value

secrets_app = typer.Typer(help="Rotate the key that encrypts stored passwords.")


def _keys_in_file(install_env: os.PathLike[str]) -> list[str]:
    value = dotenv_values(install_env).get(SECRET_KEY_VARIABLE) or ""
    return parse_keys(value)


def _refuse_environment_keys(action: str) -> None:
    if os.environ.get(SECRET_KEY_VARIABLE):
        fail(
            f"{SECRET_KEY_VARIABLE} is set in the environment, not only in .env: {action} where "
            "it is set (your service manager's environment file), then restart every process"
        )


@secrets_app.command("add-key")
def add_key() -> None:
    """Put a new key first in MTEJA_SECRET_KEY (the old keys stay, for reading)."""
    install = current_install()
    _refuse_environment_keys("add a new key first in the list")
    keys = _keys_in_file(install.env_file)
    if not keys:
        fail(f"{install.env_file} has no {SECRET_KEY_VARIABLE}: run 'mteja init' first")
    record_value(install.env_file, SECRET_KEY_VARIABLE, ",".join([new_secret_key(), *keys]))
    out.print(
        f"A new key is first in {SECRET_KEY_VARIABLE} in {install.env_file} ({len(keys) + 1} "
        "keys). Copy that value to every machine that runs mteja, restart every process, then "
        "run 'mteja secrets rotate'. Back up the new value with the old: database backups taken "
        "before the rotation need the old key.",
        markup=False,
    )


@secrets_app.command("rotate")
def rotate(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="rows per transaction")] = 500,
    drop_old: Annotated[
        bool, typer.Option("--drop-old", help="after a clean verification, keep only the new key")
    ] = False,
) -> None:
    """Re-encrypt every stored secret under the first key, then verify every one."""
    install = current_install()
    if drop_old:
        _refuse_environment_keys("drop the old keys")
    if len(parse_keys(load_settings(install).secret_key)) < 2:
        fail(
            f"{SECRET_KEY_VARIABLE} holds one key: run 'mteja secrets add-key' and restart every "
            "process first"
        )
    with opened_system() as system:
        try:
            report = rotate_secrets(
                system.services,
                ACTOR,
                batch=batch,
                progress=lambda label, done: err.print(f"{label}: {done}", markup=False),
            )
        except SecretKeyError as exc:
            fail(f"{exc}; nothing after that row was re-encrypted, and no key was dropped")
        left = secrets_not_under_current_key(system.services)
    for label, count in report.rotated.items():
        out.print(
            f"{label}: {count} re-encrypted, {report.already_current[label]} already under the "
            "new key",
            markup=False,
        )
    if left:
        shown = ", ".join(f"{item.label} #{item.row_id}" for item in left)
        fail(f"verification failed: still under an old key: {shown}; run this again")
    out.print("Verified: every stored secret is under the new key.", markup=False)
    if not drop_old:
        out.print("The old keys may now be dropped: run again with --drop-old.", markup=False)
        return
    keys = _keys_in_file(install.env_file)
    record_value(install.env_file, SECRET_KEY_VARIABLE, keys[0])
    out.print(
        f"Dropped {len(keys) - 1} old key(s) from {install.env_file}. Copy the value to every "
        "machine and restart every process.",
        markup=False,
    )
