"""``mteja attention``: what needs staff, as the bot's /attention lists it (for a morning cron
mail or a script that pages someone)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from core.display import local_time
from core.queries import needs_attention
from mteja.cli.shared import opened_system, out


def attention(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of text")] = False,
) -> None:
    """Callbacks not credited, unsettled pushes, unmatched money, router refusals, recent
    expiries and open tickets: one line each, oldest first within each kind."""
    with opened_system() as system, system.services.unit_of_work() as uow:
        items = needs_attention(uow)
    if as_json:
        for item in items:
            entry = {
                "kind": item.kind,
                "summary": item.summary,
                "at": item.at.isoformat() if item.at else None,
                "account_number": item.account_number,
            }
            sys.stdout.write(json.dumps(entry) + "\n")
        return
    if not items:
        out.print("nothing needs attention", markup=False)
        return
    zone = system.settings.zone
    for item in items:
        when = local_time(item.at, zone) if item.at else "-"
        out.print(f"{item.kind:<18} {when}  {item.summary}", markup=False)
