"""Lists and numbers: history, needs attention, expiring, unmatched money, routers, stats."""

from __future__ import annotations

from bot.answers import Answer, Attachment, Button, rows
from bot.chart import summary_chart
from bot.commands.card import card_answer, resolved_customer
from bot.commands.money import payment_note
from bot.context import Context, confirmed_action
from bot.parsing import BadArguments, CommandLine
from core.actors import Permission, require
from core.display import kes, local_time, relative
from core.history import HistoryTab, customer_history
from core.lookup import get_customer, resolve
from core.models import Payment
from core.queries import needs_attention, stats
from core.reports import daily_figures, expiring_within, router_overview, unmatched_payment
from core.usecases.billing import assign_payment, unmatched_payments
from core.usecases.mpesa_callbacks import resolve_callback
from core.usecases.network import CERTIFICATE_MISMATCH
from core.usecases.router_removal import remove_router

MAX_LIST_BUTTONS = 10
MAX_LINE = 160
MAX_EXPIRING_DAYS = 60


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


# -- history -------------------------------------------------------------------------------------


def history_answer(
    ctx: Context, customer_id: int, tab: HistoryTab, page: int, edit: bool = False
) -> Answer:
    """One page of one tab of the customer's history, with tab and paging buttons."""
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        who = f"{customer.full_name} ({customer.account_number})"
        found = customer_history(uow, customer_id, tab, page)
    title = f"History of {who} · {tab.value} · page {found.page + 1}"
    lines = [
        _short(
            f"{local_time(line.at, ctx.zone)} {line.summary}" + (f" — {line.by}" if line.by else "")
        )
        for line in found.lines
    ]
    if not lines:
        lines = ["Nothing here yet." if found.page == 0 else "No older entries."]
    tabs = [
        Button(
            ("• " if each is tab else "") + each.value.title(), f"h:{customer_id}:{each.value}:0"
        )
        for each in HistoryTab
    ]
    navigation = []
    if found.page > 0:
        navigation.append(Button("◀ Newer", f"h:{customer_id}:{tab.value}:{found.page - 1}"))
    if found.has_more:
        navigation.append(Button("Older ▶", f"h:{customer_id}:{tab.value}:{found.page + 1}"))
    navigation.append(Button("Card", f"c:{customer_id}"))
    buttons = (*rows(tabs, 3), tuple(navigation))
    return Answer(title + "\n\n" + "\n".join(lines), buttons, edit=edit)


def cmd_history(ctx: Context, line: CommandLine) -> Answer:
    """``/history REF [tab]``."""
    tab_word = line.optional_word(1)
    try:
        tab = HistoryTab(tab_word.lower()) if tab_word else HistoryTab.ALL
    except ValueError:
        raise BadArguments(f"the tab is one of {', '.join(t.value for t in HistoryTab)}") from None
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return history_answer(ctx, customer_id, tab, 0)


# -- queues of work ------------------------------------------------------------------------------


def cmd_attention(ctx: Context, line: CommandLine) -> Answer:
    """Open tickets, expired in the last week, unmatched money, router refusals."""
    with ctx.uow() as uow:
        items = needs_attention(uow)
    if not items:
        return Answer("Nothing needs attention. 👍")
    headings = {
        "ticket": "Tickets subscribers opened (/ticket N):",
        "mpesa_callback": "M-Pesa callbacks not credited (check, then /resolve ID NOTE):",
        "unsettled_push": "STK pushes Safaricom never answered (check the statement):",
        "unreceipted_credit": "STK pushes credited on Safaricom's word, no receipt yet:",
        "unmatched_payment": "Money nobody was matched to (/assign RECEIPT REF):",
        "sync_error": "Routers refused a change:",
        "expired": "Expired in the last 7 days:",
    }
    lines: list[str] = []
    for kind, heading in headings.items():
        of_kind = [item for item in items if item.kind == kind]
        if of_kind:
            lines += ["", heading]
            lines += [
                _short(f"• {item.summary} ({relative(item.at, ctx.now())})") for item in of_kind
            ]
    accounts = list(dict.fromkeys(item.account_number for item in items if item.account_number))
    buttons = [Button(account, f"r:{account}") for account in accounts[:MAX_LIST_BUTTONS]]
    return Answer(f"Needs attention ({len(items)}):" + "\n".join(lines), rows(buttons, 3))


def cmd_expiring(ctx: Context, line: CommandLine) -> Answer:
    """``/expiring [DAYS]``: active customers whose paid time ends soon."""
    word = line.optional_word(0)
    days = ctx.services.config.expiring_days
    if word is not None:
        if not word.isdigit() or not 1 <= int(word) <= MAX_EXPIRING_DAYS:
            raise BadArguments(f"DAYS is a whole number from 1 to {MAX_EXPIRING_DAYS}")
        days = int(word)
    with ctx.uow() as uow:
        customers = expiring_within(uow, days)
        now = ctx.now()
        lines = [
            f"{local_time(c.expires_at, ctx.zone)} ({relative(c.expires_at, now)}) "
            f"{c.account_number} {c.full_name} · {c.plan.name}"
            + ("" if c.auto_renew else " · no auto-renew")
            for c in customers
        ]
        buttons = [
            Button(f"{c.account_number} {c.full_name}"[:60], f"c:{c.id}")
            for c in customers[:MAX_LIST_BUTTONS]
        ]
    if not lines:
        return Answer(f"Nobody's service ends in the next {days} day(s).")
    return Answer(
        f"Ending in the next {days} day(s) ({len(lines)}):\n" + "\n".join(lines), rows(buttons, 1)
    )


def cmd_unmatched(ctx: Context, line: CommandLine) -> Answer:
    """Payments that matched no account, for /assign."""
    with ctx.uow() as uow:
        payments = unmatched_payments(uow)
        lines = [_unmatched_line(payment, ctx) for payment in payments]
    if not lines:
        return Answer("No unmatched payments.")
    return Answer(
        f"Unmatched payments ({len(lines)}). Credit one with /assign RECEIPT REF:\n"
        + "\n".join(lines)
    )


def _unmatched_line(payment: Payment, ctx: Context) -> str:
    payer = " ".join(part for part in (payment.payer_name, payment.payer_phone) if part)
    return _short(
        f"{local_time(payment.received_at, ctx.zone)} {kes(payment.amount_kes)} {payment.method} "
        f"{payment.reference or '(no reference)'} · account given "
        f"{payment.account_reference or '(none)'!r}" + (f" · from {payer}" if payer else "")
    )


def cmd_assign(ctx: Context, line: CommandLine) -> Answer:
    """``/assign RECEIPT REF``: credit an unmatched payment to a customer."""
    receipt = line.word(0)
    reference = line.word(1)
    with ctx.uow() as uow:
        customer_id = resolve(uow, reference).id
        waiting = unmatched_payment(uow, receipt)
        # Not waiting: core says why (already credited, or no such payment).
        method = waiting.method if waiting is not None else "mpesa"
        paid = assign_payment(uow, ctx.actor, receipt, customer_id, method=method)
        assert waiting is not None
        amount_kes = waiting.amount_kes
        uow.commit()
    note = payment_note(paid, amount_kes, method, ctx)
    return card_answer(ctx, customer_id, f"{receipt.upper()} credited. {note}")


def cmd_resolve(ctx: Context, line: CommandLine) -> Answer:
    """``/resolve ID NOTE``: an M-Pesa callback left for staff has been dealt with."""
    word = line.word(0).lstrip("#")
    if not word.isdigit():
        raise BadArguments("ID is the callback's number from /attention, e.g. /resolve 42 credited")
    note = line.rest(1)
    with ctx.uow() as uow:
        resolve_callback(uow, ctx.actor, int(word), note)
        uow.commit()
    return Answer(f"Callback #{word} resolved: {note.strip()}")


# -- the network and the numbers -----------------------------------------------------------------


def cmd_routers(ctx: Context, line: CommandLine) -> Answer:
    """Routers with their state, customers, and syncs waiting or refused; ``remove NAME
    [MOVE_TO]`` takes one out of service, after a confirmation."""
    if line.optional_word(0) is not None:
        if line.word(0).lower() != "remove":
            raise BadArguments()
        return _ask_remove_router(ctx, line.word(1), line.optional_word(2))
    with ctx.uow() as uow:
        overview = router_overview(uow)
    lines = []
    for router in overview:
        state = {
            "online": "🟢 online",
            "offline": "🔴 OFFLINE",
            CERTIFICATE_MISMATCH: "🔴 CERTIFICATE MISMATCH (not logged in)",
        }.get(router.status, "⚪ unknown")
        text = (
            f"{router.name} ({router.address}) {state} · last seen "
            f"{local_time(router.last_seen_at, ctx.zone)} · {router.customers} customers"
        )
        if router.api_warning:
            text += f" · {router.api_warning}"
        if router.sync_waiting:
            text += f" · {router.sync_waiting} waiting for sync"
        if router.sync_refused:
            text += f" · {router.sync_refused} refused"
        if router.status in ("offline", CERTIFICATE_MISMATCH) and router.last_error:
            text += f"\n    {router.last_error}"
        lines.append(text)
    return Answer("Routers:\n" + "\n".join(lines) if lines else "No routers yet.")


@confirmed_action("remove_router")
def _remove_router_confirmed(ctx: Context, name: str, move_to: str | None) -> Answer:
    with ctx.uow() as uow:
        removal = remove_router(uow, ctx.actor, name, move_to)
        uow.commit()
    moved = ""
    if removal.moved:
        customers = "1 customer" if removal.moved == 1 else f"{removal.moved} customers"
        moved = f" {customers} moved to {removal.moved_to}."
    pools = f" Pools removed: {', '.join(removal.pools)}." if removal.pools else ""
    return Answer(
        f"Router {removal.name} removed.{moved}{pools} Its mteja entries stay on it: "
        f"`mteja router remove` with --cleanup takes them off.",
        edit=True,
    )


def _ask_remove_router(ctx: Context, name: str, move_to: str | None) -> Answer:
    require(ctx.actor, Permission.MANAGE_NETWORK)  # refused before the question, not after
    where = f", moving its customers to {move_to}" if move_to else ""
    return ctx.confirm(
        f"Remove router {name}{where}?",
        "Yes, remove",
        _remove_router_confirmed,
        name=name,
        move_to=move_to,
    )


def cmd_stats(ctx: Context, line: CommandLine) -> Answer:
    """Customers by status and revenue today and this month."""
    with ctx.uow() as uow:
        numbers = stats(uow)
    by_status = numbers.customers_by_status
    text = "\n".join(
        [
            "Customers: "
            + ", ".join(f"{count} {status}" for status, count in by_status.items())
            + f" ({sum(by_status.values())} in all)",
            f"Today: {kes(numbers.revenue_today_kes)} from {numbers.payments_today} payment(s), "
            f"{numbers.new_customers_today} new customer(s)",
            f"This month: {kes(numbers.revenue_month_kes)}, "
            f"{numbers.new_customers_month} new customer(s)",
            f"Unmatched payments: {numbers.unmatched_payments}",
        ]
    )
    return Answer(text, ((Button("📈 Last 30 days", "chart"),),))


def press_chart(ctx: Context) -> Answer:
    """A PNG of the last 30 days' revenue and active subscribers."""
    with ctx.uow() as uow:
        today = ctx.now().astimezone(ctx.zone).date()
        figures = daily_figures(uow, today)
    png = summary_chart(figures, title="Last 30 days")
    total = sum(day.revenue_kes for day in figures)
    return Answer(
        f"Revenue {kes(total)} in the last 30 days; {figures[-1].active_subscribers} "
        "subscribers active today.",
        attachment=Attachment(f"mteja-{today.isoformat()}.png", png, "photo"),
    )
