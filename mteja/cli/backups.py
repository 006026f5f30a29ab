"""``mteja backup`` and ``mteja restore``: the database to a file and back (see mteja.backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mteja.backup import BackupError, backup, restore, shown
from mteja.cli.shared import fail, load_settings, out


def backup_command(
    path: Annotated[Path, typer.Argument(help="the backup file to write")],
    force: Annotated[bool, typer.Option("--force", help="replace an existing file")] = False,
) -> None:
    """Back up the database to PATH (PostgreSQL: pg_dump's custom format; SQLite: a copy)."""
    settings = load_settings()
    try:
        backup(settings.database_url, path, force=force)
    except BackupError as exc:
        fail(str(exc))
    out.print(
        f"Backed up {shown(settings.database_url)} to {path}. Keep it off this machine, and keep "
        "MTEJA_SECRET_KEY (the .env) apart from it: without that key the stored passwords in "
        "the backup cannot be read.",
        markup=False,
    )


def restore_command(
    path: Annotated[Path, typer.Argument(help="a file made by 'mteja backup'")],
) -> None:
    """Restore PATH into this install's database, which must be empty."""
    settings = load_settings()
    try:
        restored = restore(settings.database_url, path)
    except BackupError as exc:
        fail(str(exc))
    out.print(
        f"Restored {path} into {shown(settings.database_url)}: schema revision "
        f"{restored.revision or 'none'}.",
        markup=False,
    )
    if restored.behind:
        out.print(
            f"The backup is older than this mteja (revision {restored.expected}): run "
            "'mteja init' to migrate it before starting anything.",
            markup=False,
        )
    elif restored.newer:
        out.print(
            "The backup was made by a newer mteja than this one: install that version before "
            "starting anything.",
            markup=False,
        )
    out.print(
        "Put back the .env with the MTEJA_SECRET_KEY of the backup, and read 'Restoring' in "
        "docs/operations.md before starting the workers (the routers still hold what happened "
        "after the backup).",
        markup=False,
    )
