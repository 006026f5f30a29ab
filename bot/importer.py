"""``/import``: customers from a CSV file, one transaction per row.

A row is created completely (customer, installation fee, first payment, activation) or not at
all: each row runs ``create_customer`` in its own unit of work, and a refused row is rolled back
and reported with its line number and core's reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from bot.answers import Answer
from bot.context import Context
from core.errors import DomainError, InvalidInput
from core.ledger import parse_amount, parse_fee
from core.unit_of_work import CoreServices
from core.usecases.customers import NewCustomer, create_customer
from core.usecases.plans import get_plan_by_name

MAX_BYTES = 2_000_000
MAX_ROWS = 5000
MAX_ERRORS_SHOWN = 30
REQUIRED = ("name", "phone", "plan", "router")
# Header spellings people use, mapped to ours.
ALIASES = {
    "full_name": "name",
    "customer": "name",
    "mobile": "phone",
    "phone_number": "phone",
    "connection_type": "type",
    "package": "plan",
    "ip_address": "ip",
    "physical_address": "address",
    "payment_method": "paid",
    "method": "paid",
    "amount_kes": "amount",
    "receipt": "reference",
    "installation_fee": "fee",
    "installation_fee_kes": "fee",
    "login": "username",
}
COLUMNS = (
    "name, phone, plan, router (required); type, username, password, ip, email, address, notes, "
    "parent, paid (cash|mpesa|bank|cheque), amount, reference, fee, activate (yes|no), "
    "auto_renew (yes|no), welcome (yes|no)"
)
HOW_TO = (
    "Send the CSV file now (as a document). The first line names the columns:\n"
    f"{COLUMNS}.\nEach row is added completely or not at all; /cancel stops waiting."
)


def _header(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)


def _yes_no(text: str, what: str) -> bool:
    value = text.strip().lower()
    if value in ("yes", "y", "true", "1"):
        return True
    if value in ("no", "n", "false", "0"):
        return False
    raise InvalidInput(f"{what} is yes or no, not {text!r}")


def _optional(row: dict[str, str], key: str) -> str | None:
    value = (row.get(key) or "").strip()
    return value or None


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row by our column names) for each data row; InvalidInput for a bad file."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("the file is empty") from None
    except csv.Error as exc:
        raise InvalidInput(f"this is not a CSV file ({exc})") from None
    names = [_header(name) for name in header]
    missing = [column for column in REQUIRED if column not in names]
    if missing:
        raise InvalidInput(f"the first line must name the columns; missing: {', '.join(missing)}")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(value.strip() for value in values):
                continue
            rows.append((reader.line_num, dict(zip(names, values, strict=False))))
            if len(rows) > MAX_ROWS:
                raise InvalidInput(f"at most {MAX_ROWS} rows per file")
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num} cannot be read ({exc})") from None
    if not rows:
        raise InvalidInput("the file has a header but no customers")
    return rows


def new_customer(row: dict[str, str], connection_type: str) -> NewCustomer:
    """The Add Customer form for one row; InvalidInput for a value that cannot be read."""
    for column in REQUIRED:
        if not _optional(row, column):
            raise InvalidInput(f"{column} is empty")
    amount = _optional(row, "amount")
    fee = _optional(row, "fee")
    activate = _optional(row, "activate")
    auto_renew = _optional(row, "auto_renew")
    welcome = _optional(row, "welcome")
    return NewCustomer(
        full_name=row["name"],
        phone=row["phone"],
        connection_type=_optional(row, "type") or connection_type,
        plan=row["plan"].strip(),
        router=row["router"].strip(),
        username=_optional(row, "username"),
        password=_optional(row, "password"),
        ip_address=_optional(row, "ip"),
        email=_optional(row, "email"),
        physical_address=_optional(row, "address"),
        notes=_optional(row, "notes"),
        parent=_optional(row, "parent"),
        payment_method=(_optional(row, "paid") or "").lower() or None,
        amount_kes=parse_amount(amount) if amount else None,
        payment_reference=_optional(row, "reference"),
        installation_fee_kes=parse_fee(fee) if fee else 0,
        activate=_yes_no(activate, "activate") if activate else True,
        auto_renew=_yes_no(auto_renew, "auto_renew") if auto_renew else True,
        # Imported subscribers usually have their login already: no welcome SMS unless asked.
        send_welcome=_yes_no(welcome, "welcome") if welcome else False,
    )


@dataclass
class ImportJob:
    """Adds the rows one transaction at a time; ``steps`` reports progress, ``finish`` sums up."""

    services: CoreServices
    context: Context
    filename: str
    rows: list[tuple[int, dict[str, str]]]
    created: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def every(self) -> int:
        # About ten progress edits per file, whatever its size.
        return max(1, len(self.rows) // 10)

    def steps(self) -> Iterator[str]:
        total = len(self.rows)
        for done, (line, row) in enumerate(self.rows, start=1):
            self._add(line, row)
            if done % self.every == 0 or done == total:
                yield self.progress(done)

    def progress(self, done: int) -> str:
        return (
            f"Importing {self.filename}: {done}/{len(self.rows)} rows · "
            f"{len(self.created)} added · {len(self.errors)} refused"
        )

    def _add(self, line: int, row: dict[str, str]) -> None:
        try:
            with self.services.unit_of_work() as uow:
                plan_type = ""
                if not _optional(row, "type") and _optional(row, "plan"):
                    plan_type = get_plan_by_name(uow, row["plan"]).connection_type
                created = create_customer(uow, self.context.actor, new_customer(row, plan_type))
                account = created.customer.account_number
                uow.commit()
        except DomainError as problem:
            self.errors.append(f"line {line}: {problem.message}")
            return
        except IntegrityError:
            # Another change took the same login or address meanwhile; the row was rolled back.
            self.errors.append(f"line {line}: clashes with a customer added at the same time")
            return
        self.created.append(account)

    def finish(self) -> Answer:
        lines = [
            f"Import of {self.filename} finished: {len(self.created)} customer(s) added, "
            f"{len(self.errors)} row(s) refused (nothing of a refused row was saved)."
        ]
        if self.errors:
            lines.append("")
            lines += self.errors[:MAX_ERRORS_SHOWN]
            if len(self.errors) > MAX_ERRORS_SHOWN:
                lines.append(f"… and {len(self.errors) - MAX_ERRORS_SHOWN} more")
        return Answer("\n".join(lines), edit=True)


def start_import(ctx: Context, filename: str, content: bytes) -> Answer:
    """Check the file and hand back the job that adds its rows."""
    ctx.session.awaiting_import = False
    # One process imports a file, even if the update reaches two.
    ctx.claim()
    try:
        rows = read_rows(content)
    except InvalidInput as problem:
        return Answer(f"Cannot import {filename}: {problem.message}.")
    job = ImportJob(ctx.services, ctx, filename, rows)
    return Answer(job.progress(0), job=job)
