"""Plain-text renderings of core's read models for the command line."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.views import paid_time_lines
from core.display import balance_text, customer_since, kes, local_time, relative, speed
from core.phones import display_phone
from core.queries import CustomerCard
from core.usage import period_summary
from routers.sync import Presence


def card_text(card: CustomerCard, zone: ZoneInfo, now: datetime) -> str:
    """The customer card as lines of text."""
    status = card.status.upper()
    if card.suspended_reason:
        status += f" ({card.suspended_reason})"
    expiry = local_time(card.expires_at, zone)
    if card.expires_at is not None:
        expiry += f" ({relative(card.expires_at, now)})"
    plan = (
        f"{card.plan} · {speed(card.plan_download, card.plan_upload)} · "
        f"{kes(card.plan_price_kes)} / {card.plan_validity}"
    )
    lines = [
        f"{card.account_number}  {card.full_name}",
        f"  status      {status}{'' if card.allowed_in else '  [no access]'}",
        f"  plan        {plan}",
    ]
    if card.pending_plan:
        lines.append(f"  next plan   {card.pending_plan} (from next renewal)")
    lines.append(f"  expires     {expiry}")
    if card.period_started_at is not None:
        lines.append(f"  period from {local_time(card.period_started_at, zone)}")
    lines += [
        f"  balance     {balance_text(card.balance_kes)}"
        + (f"  · {kes(card.amount_to_renew_kes)} renews" if card.amount_to_renew_kes else ""),
        f"  phone       {display_phone(card.phone) if card.phone else '-'}",
        f"  login       {card.username} ({card.connection_type})",
        f"  router      {card.router or '-'}  ip {card.ip_address or '-'}",
        f"  auto-renew  {'yes' if card.auto_renew else 'no'}",
    ]
    if card.account_number2:
        lines.append(f"  account 2   {card.account_number2} (also pays into this account)")
    if card.email:
        lines.append(f"  email       {card.email}")
    if card.physical_address:
        lines.append(f"  address     {card.physical_address}")
    if card.parent_account_number:
        lines.append(f"  parent      sub-account of {card.parent_account_number}")
    usage = card.data_usage
    if usage is not None and (usage.cap_bytes is not None or usage.started_at is not None):
        lines.append(f"  data        {period_summary(usage)} this period")
    if card.sync_error:
        lines.append(f"  router sync FAILED: {card.sync_error}")
    elif card.sync_pending:
        lines.append("  router sync pending")
    if card.notes:
        lines.append(f"  notes       {card.notes}")
    since = customer_since(card.created_at, card.total_subscriptions, card.total_paid_kes, zone)
    lines.append(f"  {since}")
    lines += [f"  {line}" for line in paid_time_lines(card, zone)]
    if card.last_payments:
        lines.append("  payments")
        for payment in card.last_payments:
            reference = f" {payment.reference}" if payment.reference else ""
            lines.append(
                f"    {local_time(payment.received_at, zone)}  {kes(payment.amount_kes):>10}  "
                f"{payment.method}{reference}"
            )
    if card.children:
        lines.append(f"  sub-accounts ({len(card.children)})")
        for child in card.children:
            expiry = f"expires {local_time(child.expires_at, zone)}" if child.expires_at else ""
            lines.append(
                f"    {child.account_number}  {child.status.upper():<9}  {child.full_name}  "
                f"{child.plan}  {expiry}".rstrip()
            )
    return "\n".join(lines)


def presence_text(presence: Presence) -> str:
    """``online · 10.20.0.5 · up 1h2m · 12.3 MB down, 1.2 MB up`` or ``offline`` / ``unknown``."""
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
        parts.append(f"{_megabytes(session.bytes_out)} down, {_megabytes(session.bytes_in)} up")
    # A static customer's line says how the router knows (ARP, or the queue's counters).
    return " · ".join(parts) + (f" ({presence.reason})" if presence.reason else "")


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"
