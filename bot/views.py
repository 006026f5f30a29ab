"""Texts and buttons for customers: the card, search results, payments, plans."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.answers import Button, rows
from core.actors import Actor, Permission, can
from core.card_actions import BY_NAME, CardAction, fits
from core.display import balance_text, customer_since, kes, local_time, relative, speed
from core.models import Customer, Plan
from core.phones import display_phone
from core.queries import ChildLine, CustomerCard
from core.usage import period_summary
from core.vocabulary import Status
from routers.sync import Presence

BADGES = {
    Status.ACTIVE.value: "🟢 ACTIVE",
    Status.EXPIRED.value: "🔴 EXPIRED",
    Status.SUSPENDED.value: "⛔ SUSPENDED",
    Status.INACTIVE.value: "⚪ INACTIVE",
}
CHECKING = "checking…"


def badge(status: str) -> str:
    return BADGES.get(status, status.upper())


def card_text(card: CustomerCard, zone: ZoneInfo, now: datetime, presence: str = CHECKING) -> str:
    """The customer card: status first, then plan, expiry, money, connection and payments."""
    status = badge(card.status)
    if card.suspended_reason:
        status += f" ({card.suspended_reason})"
    if card.status == Status.ACTIVE and not card.allowed_in:
        status += " · no access"
    if card.expiring:
        status += " · ⏳ expiring"
    expiry = local_time(card.expires_at, zone)
    if card.expires_at is not None:
        expiry += f" ({relative(card.expires_at, now)})"
    balance = balance_text(card.balance_kes)
    if card.amount_to_renew_kes:
        balance += f" · {kes(card.amount_to_renew_kes)} renews"
    account = card.account_number
    if card.account_number2:
        account += f" (also {card.account_number2})"
    lines = [
        f"{status}",
        f"{card.full_name} · {account}",
        f"Phone: {display_phone(card.phone) if card.phone else '-'}",
    ]
    contact = " · ".join(part for part in (card.email, card.physical_address) if part)
    if contact:
        lines.append(contact)
    lines += [
        f"Plan: {card.plan} · {speed(card.plan_download, card.plan_upload)} · "
        f"{kes(card.plan_price_kes)} / "
        f"{card.plan_validity}",
    ]
    if card.pending_plan:
        lines.append(f"Next plan: {card.pending_plan} (from the next renewal)")
    lines.append(f"Expires: {expiry}")
    if card.period_started_at is not None:
        lines.append(f"This period began: {local_time(card.period_started_at, zone)}")
    lines += [
        f"Balance: {balance}",
        f"Router: {card.router or '-'} · IP {card.ip_address or '-'} · "
        f"{card.connection_type} login {card.username}",
        f"Online: {presence}",
        f"Auto-renew: {'yes' if card.auto_renew else 'no'}",
        customer_since(card.created_at, card.total_subscriptions, card.total_paid_kes, zone),
    ]
    data = data_line(card)
    if data:
        lines.append(f"Data this period: {data}")
    if card.sync_error:
        lines.append(f"Router sync FAILED: {card.sync_error}")
    elif card.sync_pending:
        lines.append("Router sync pending")
    if card.parent_account_number:
        lines.append(f"Sub-account of {card.parent_account_number}")
    if card.children:
        lines.append(f"Sub-accounts ({len(card.children)}):")
        lines += [f"  {child_line(child, zone)}" for child in card.children]
    if card.notes:
        lines.append(f"Notes: {card.notes}")
    lines += paid_time_lines(card, zone)
    if card.last_payments:
        lines.append("Last payments:")
        for payment in card.last_payments:
            reference = f" {payment.reference}" if payment.reference else ""
            lines.append(
                f"  {local_time(payment.received_at, zone)} {kes(payment.amount_kes)} "
                f"{payment.method}{reference}"
            )
    else:
        lines.append("No payments yet")
    return "\n".join(lines)


def paid_time_lines(card: CustomerCard, zone: ZoneInfo, indent: str = "  ") -> list[str]:
    """The renewals (each period's dates, plan, price and state) and the time staff added."""
    lines = []
    if card.subscriptions:
        lines.append("Renewals:")
        for line in card.subscriptions:
            periods = f"{line.periods} × " if line.periods > 1 else ""
            lines.append(
                f"{indent}{local_time(line.starts_at, zone)} → {local_time(line.ends_at, zone)} "
                f"{periods}{line.plan} {kes(line.price_kes)} · {line.state}"
            )
    if card.extensions:
        lines.append("Extensions:")
        for extension in card.extensions:
            lines.append(
                f"{indent}{local_time(extension.at, zone)} +{duration_text(extension.added)} "
                f"by {extension.actor}: {extension.reason}"
            )
    return lines


def duration_text(length: timedelta) -> str:
    """``3 days``, ``1 day 6 hours``, ``5 hours``: whole hours, as staff give time."""
    hours = round(length.total_seconds() / 3600)
    days, hours = divmod(hours, 24)
    parts = [f"{days} day" + ("" if days == 1 else "s")] if days else []
    if hours or not days:
        parts.append(f"{hours} hour" + ("" if hours == 1 else "s"))
    return " ".join(parts)


def child_line(child: ChildLine, zone: ZoneInfo) -> str:
    """``🟢 ACTIVE MTJ-… Acme Desk · Daily 5M · expires 2026-12-22 12:00``."""
    expiry = f"expires {local_time(child.expires_at, zone)}" if child.expires_at else "no paid time"
    return (
        f"{badge(child.status)} {child.account_number} {child.full_name} · {child.plan} · {expiry}"
    )


def data_line(card: CustomerCard) -> str | None:
    """This period's data against the cap (throttled or blocked once reached), or None when the
    plan has no cap and nothing was metered."""
    usage = card.data_usage
    if usage is None or (usage.cap_bytes is None and usage.started_at is None):
        return None
    return period_summary(usage)


def presence_text(presence: Presence) -> str:
    """``online · 10.20.0.5 · up 1h2m · 12.3 MB down, 1.2 MB up``, ``offline`` or ``unknown``."""
    if presence.state != "online" or presence.session is None:
        return presence.state + (f" ({presence.reason})" if presence.reason else "")
    session = presence.session
    parts = ["online"]
    if session.address:
        parts.append(session.address)
    if session.uptime:
        parts.append(f"up {session.uptime}")
    if session.bytes_out is not None and session.bytes_in is not None:
        # The router counts from its side: bytes out of the router are the customer's download.
        parts.append(
            f"{session.bytes_out / 1_000_000:.1f} MB down, {session.bytes_in / 1_000_000:.1f} MB up"
        )
    # A static customer's line says how the router knows (ARP, or the queue's counters).
    return " · ".join(parts) + (f" ({presence.reason})" if presence.reason else "")


# (label, verb, the core card action it is: its permission and the statuses it fits)
_ACTIONS: list[tuple[str, str, CardAction]] = [
    (label, verb, BY_NAME[name])
    for label, verb, name in (
        ("Suspend", "sus", "suspend"),
        ("Unsuspend", "uns", "unsuspend"),
        ("Extend", "ext", "extend"),
        ("Pay", "pay", "pay"),
        ("Debt", "debt", "debt"),
        ("STK push", "stk", "stk"),
        ("Change plan", "plan", "plan"),
        ("Password", "pw", "password"),
        ("Disconnect", "dis", "disconnect"),
        ("Send payment details", "det", "details"),
        ("Send login", "login", "login"),
        ("Edit details", "edit", "edit"),
        ("Note", "note", "note"),
        ("History", "hist", "history"),
        ("Delete", "del", "delete"),
    )
]

# "Add sub-account": on the cards of customers that are not sub-accounts themselves.
ADD_SUB_ACCOUNT = ("Add sub-account", "sub", Permission.MANAGE_CUSTOMERS)
# A card lists every sub-account; this many get a button that opens their card.
MAX_SUB_ACCOUNT_BUTTONS = 12

# What each card button needs, for checking a press (a viewer may press an old message's button).
ACTION_PERMISSIONS: dict[str, Permission] = {
    verb: action.permission for _, verb, action in _ACTIONS
}
ACTION_PERMISSIONS[ADD_SUB_ACCOUNT[1]] = ADD_SUB_ACCOUNT[2]


def card_buttons(customer_id: int, status: str, actor: Actor) -> tuple[tuple[Button, ...], ...]:
    """The action buttons that fit the customer's status and the staff member's role."""
    buttons = [
        Button(label, f"a:{verb}:{customer_id}")
        for label, verb, action in _ACTIONS
        if fits(action, status, actor)
    ]
    buttons.append(Button("↻ Refresh", f"c:{customer_id}"))
    return rows(buttons)


def family_buttons(card: CustomerCard, actor: Actor) -> tuple[tuple[Button, ...], ...]:
    """Below a card's actions: the parent's card (on a sub-account), or Add sub-account (staff
    who manage customers) and a button to each sub-account's card, where its own actions are."""
    if card.parent_account_number:
        parent = card.parent_account_number
        return ((Button(f"↑ Parent {parent}", f"r:{parent}"),),)
    label, verb, permission = ADD_SUB_ACCOUNT
    adding = [Button(f"➕ {label}", f"a:{verb}:{card.id}")] if can(actor, permission) else []
    children = [
        Button(f"↳ {child.account_number} {child.full_name}"[:60], f"r:{child.account_number}")
        for child in card.children[:MAX_SUB_ACCOUNT_BUTTONS]
    ]
    return rows(adding, 1) + rows(children, 2)


def customer_line(customer: Customer, zone: ZoneInfo) -> str:
    """One line per customer in a list."""
    phone = display_phone(customer.phone) if customer.phone else "-"
    return (
        f"{customer.account_number} {customer.full_name} · {phone} · {customer.plan.name} · "
        f"{customer.status} · expires {local_time(customer.expires_at, zone)}"
    )


def customer_button(customer: Customer) -> Button:
    return Button(f"{customer.account_number} {customer.full_name}"[:60], f"c:{customer.id}")


def plan_line(plan: Plan) -> str:
    line = (
        f"{plan.name} · {plan.connection_type} · {speed(plan.download, plan.upload)} · "
        f"{kes(plan.price_kes)} / {plan.validity_text}"
    )
    if plan.data_cap_mb:
        line += f" · cap {plan.data_cap_mb} MB"
    return line
