"""``mteja prune``: forget what the retention settings say is old (the worker does it daily)."""

from __future__ import annotations

from typing import Annotated

import typer

from core.usecases.retention import prune as prune_old_rows
from mteja.cli.shared import ACTOR, opened_system, out


def prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="count what would go and change nothing")
    ] = False,
) -> None:
    """Remove old sync runs, delivery reports, SMS texts, ended usage readings and spent staff
    logins, per MTEJA_RETENTION_* (never money, M-Pesa callbacks or the audit log)."""
    # Imported here, as every command imports what only it needs: mteja.queueing brings
    # prometheus_client, which must not be loaded before 'mteja web' or 'worker' choose where
    # their metrics live (mteja.metrics_files).
    from mteja.queueing import retention_policy

    with opened_system() as system:
        report = prune_old_rows(
            system.services, ACTOR, retention_policy(system.settings), dry_run=dry_run
        )
    verb = "would go" if dry_run else "removed"
    for label, count in report.counts.items():
        out.print(f"{label}: {count} {verb}", markup=False)
    if dry_run:
        out.print("Dry run: nothing was changed.", markup=False)
