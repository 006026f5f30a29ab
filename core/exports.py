"""Files staff take away (CSV): how they are written, and who took which."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core import audit
from core.actors import Actor
from core.unit_of_work import UnitOfWork

# A spreadsheet runs a cell that starts with one of these as a formula. Names and references
# come from outside (M-Pesa payer names, typed names): written as text with a leading quote.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows an export reads per round trip (``yield_per``: a server-side cursor on PostgreSQL), so a
# list of 100,000 customers or payments is never in memory as rows or ORM objects all at once.
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class Export:
    """A CSV file: its suggested name, its bytes (UTF-8), and how many rows it holds."""

    filename: str
    content: bytes
    rows: int


def text_cell(value: str | None) -> str:
    """A free-text cell that a spreadsheet will show, never run."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_export(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Export:
    """``rows`` under ``header`` as CSV (``None`` as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
        count += 1
    return Export(filename, buffer.getvalue().encode(), count)


def record_export(uow: UnitOfWork, actor: Actor, action: str, what: str, export: Export) -> None:
    """The audit entry of an export: who took which list, and how many rows."""
    audit.record(
        uow, actor, action, entity_type="export", after={"filter": what, "rows": export.rows}
    )
