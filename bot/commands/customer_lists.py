"""``/list`` customers by filters, page by page; ``/export`` the list and ``/payments`` of some
days as CSV files.

A page's buttons carry its whole filter (ids, not names, to fit Telegram's 64 bytes), so Next
and Prev work after a restart and in any chat.
"""

from __future__ import annotations

import shlex
from datetime import date

from bot.answers import Answer, Attachment, Button, rows
from bot.context import Context
from bot.parsing import BadArguments, CommandLine
from bot.views import badge
from core.actors import Permission, can
from core.customer_list import (
    BalanceFilter,
    CustomerFilter,
    CustomerRow,
    ListStatus,
    SortKey,
    export_customers,
    list_customers,
    read_filter,
)
from core.display import balance_text, local_time
from core.payment_list import export_payments, read_days
from core.vocabulary import ConnectionType

PAGE = 20
KEYS = ("status", "plan", "router", "type", "balance", "sort", "created", "expires")
FILTER_HELP = (
    "filters: active|expiring|expired|suspended|inactive, plan:NAME, router:NAME, "
    "type:pppoe|hotspot|static, debt|credit, created:FROM..TO, expires:FROM..TO "
    "(days YYYY-MM-DD), sort:name|expiry|balance|created"
)


# Phones type curly quotes: read them as straight ones.
_STRAIGHT_QUOTES = str.maketrans("\u201c\u201d\u2018\u2019", "\"\"''")


def _texts(text: str) -> dict[str, str]:
    """``expired plan:"Home 10M" sort:expiry`` → the words ``read_filter`` takes."""
    try:
        words = shlex.split(text.translate(_STRAIGHT_QUOTES))
    except ValueError:
        raise BadArguments("a quote is not closed; " + FILTER_HELP) from None
    texts: dict[str, str] = {}
    for word in words:
        key, colon, value = word.partition(":")
        key = key.lower()
        if not colon:
            key, value = _bare(word), word
        elif key not in KEYS or not value:
            raise BadArguments(f"{word!r} is not a filter; " + FILTER_HELP)
        if key in ("created", "expires"):
            first, _, last = value.partition("..") if ".." in value else (value, "", value)
            texts[f"{key}_from"], texts[f"{key}_to"] = first, last
        else:
            texts["connection_type" if key == "type" else key] = value
    return texts


def _bare(word: str) -> str:
    lowered = word.lower()
    for key, choices in (
        ("status", ListStatus),
        ("balance", BalanceFilter),
        ("type", ConnectionType),
    ):
        if lowered in {choice.value for choice in choices}:
            return key
    raise BadArguments(f"{word!r} is not a filter; " + FILTER_HELP)


def _filter(ctx: Context, text: str) -> CustomerFilter:
    with ctx.uow() as uow:
        return read_filter(uow, **_texts(text))


def cmd_list(ctx: Context, line: CommandLine) -> Answer:
    """``/list [filters]``: customers, a page at a time."""
    return list_answer(ctx, _filter(ctx, line.text), 0)


def cmd_export(ctx: Context, line: CommandLine) -> Answer:
    """``/export [filters]``: the whole list as a CSV file."""
    return export_answer(ctx, _filter(ctx, line.text))


def cmd_payments(ctx: Context, line: CommandLine) -> Answer:
    """``/payments FROM TO``: the payments of those local days as a CSV file."""
    first, last = read_days(line.word(0), line.word(1))
    with ctx.uow() as uow:
        export = export_payments(uow, ctx.actor, first, last)
        uow.commit()
    return Answer(
        f"{export.rows} payment(s) received from {first} to {last}.",
        attachment=Attachment(export.filename, export.content, "document"),
    )


def list_answer(ctx: Context, where: CustomerFilter, offset: int, edit: bool = False) -> Answer:
    """One page of the list, with a button per customer, Prev/Next and Export CSV."""
    with ctx.uow() as uow:
        page = list_customers(uow, ctx.actor, where, limit=PAGE, offset=offset)
    title = f"Customers · {page.description}"
    if not page.rows:
        text = f"{title}\nNobody matches." if offset == 0 else f"{title}\nNo more customers."
        return Answer(text, edit=edit)
    shown = f"{offset + 1}–{offset + len(page.rows)} of {page.total}"
    lines = [_line(row, ctx) for row in page.rows]
    spec = encode(where)
    navigation = []
    if offset > 0:
        navigation.append(Button("◀ Prev", f"l:{spec}:{max(offset - PAGE, 0)}"))
    if page.has_more:
        navigation.append(Button("Next ▶", f"l:{spec}:{offset + PAGE}"))
    if can(ctx.actor, Permission.EXPORT_DATA):
        navigation.append(Button("⬇ Export CSV", f"le:{spec}"))
    cards = [
        Button(f"{row.account_number} {row.full_name}"[:40], f"c:{row.id}") for row in page.rows
    ]
    buttons = (*rows(cards, 2), tuple(navigation)) if navigation else rows(cards, 2)
    return Answer(f"{title}\n{shown}:\n" + "\n".join(lines), buttons, edit=edit)


def _line(row: CustomerRow, ctx: Context) -> str:
    state = "⏳ EXPIRING" if row.expiring else badge(row.status)
    expiry = f"expires {local_time(row.expires_at, ctx.zone)}" if row.expires_at else "never paid"
    return (
        f"{state} {row.account_number} {row.full_name} · {row.plan} · {expiry} · "
        f"{balance_text(row.balance_kes)}"
    )


def export_answer(ctx: Context, where: CustomerFilter) -> Answer:
    """The list as a CSV document."""
    with ctx.uow() as uow:
        export = export_customers(uow, ctx.actor, where)
        uow.commit()
    return Answer(
        f"{export.rows} customer(s) exported.",
        attachment=Attachment(export.filename, export.content, "document"),
    )


# -- a filter in a button's data ------------------------------------------------------------------

_CHOICES: tuple[tuple[str, tuple[object, ...]], ...] = (
    ("status", tuple(ListStatus)),
    ("connection_type", tuple(ConnectionType)),
    ("balance", tuple(BalanceFilter)),
)
_SORTS = tuple(SortKey)
_DAYS = ("created_from", "created_to", "expires_from", "expires_to")


def encode(where: CustomerFilter) -> str:
    """``where`` in a few bytes: ``<status><type><balance><sort>.<plan>.<router>.<4 days>``."""
    letters = "".join(
        str(choices.index(getattr(where, name))) if getattr(where, name) is not None else "-"
        for name, choices in _CHOICES
    ) + str(_SORTS.index(where.sort))
    ids = [str(where.plan_id or ""), str(where.router_id or "")]
    days = [day.strftime("%Y%m%d") if (day := getattr(where, name)) else "" for name in _DAYS]
    return ".".join([letters, *ids, *days])


def decode(spec: str) -> CustomerFilter:
    """The filter ``encode`` wrote; ValueError for anything else."""
    try:
        return _decode(spec)
    except (IndexError, ValueError):
        raise ValueError(spec) from None


def _decode(spec: str) -> CustomerFilter:
    letters, plan, router, *days = spec.split(".")
    if len(letters) != 4 or len(days) != 4:
        raise ValueError(spec)
    values: dict[str, object] = {}
    for (name, choices), letter in zip(_CHOICES, letters[:3], strict=True):
        values[name] = None if letter == "-" else choices[int(letter)]
    values["sort"] = _SORTS[int(letters[3])]
    values["plan_id"] = int(plan) if plan else None
    values["router_id"] = int(router) if router else None
    for name, text in zip(_DAYS, days, strict=True):
        values[name] = date(int(text[:4]), int(text[4:6]), int(text[6:])) if text else None
    return CustomerFilter(**values)  # type: ignore[arg-type]


def press_page(ctx: Context, where: CustomerFilter, offset: int) -> Answer:
    """Prev / Next: another page of the same list, in place of this one."""
    return list_answer(ctx, where, offset, edit=True)


def press_export(ctx: Context, where: CustomerFilter) -> Answer:
    """Export CSV under a list."""
    return export_answer(ctx, where)
