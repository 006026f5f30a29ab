"""Read models for staff and subscribers: the customer card, the attention list, the numbers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from core import ledger, lifecycle
from core.customer_records import ExtensionLine, extension_lines
from core.display import kes
from core.models import (
    Customer,
    ExpiryExtension,
    Payment,
    Plan,
    Router,
    StkRequest,
    Subscription,
)
from core.stk_rules import PushStatus
from core.unit_of_work import UnitOfWork
from core.usage import PeriodUsage, period_usage
from core.usecases.mpesa_callbacks import callbacks_for_staff
from core.usecases.renewal import amount_to_renew
from core.usecases.stk import PROVISIONAL_PREFIX
from core.usecases.ticket_desk import list_tickets
from core.usecases.tickets import staff_words
from core.vocabulary import Status

ATTENTION_EXPIRED_DAYS = 7
# An STK push credited on Safaricom's query waits this long for its receipt before staff look.
UNRECEIPTED_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class PaymentLine:
    received_at: datetime
    amount_kes: int
    method: str
    reference: str | None


@dataclass(frozen=True)
class SubscriptionLine:
    """A renewal as the card lists it: its periods, price and where it stands now."""

    starts_at: datetime
    ends_at: datetime
    plan: str
    periods: int
    price_kes: int
    state: str  # "current", "paid ahead" or "ended"


@dataclass(frozen=True)
class ChildLine:
    account_number: str
    full_name: str
    status: str
    plan: str
    expires_at: datetime | None


@dataclass(frozen=True)
class CustomerCard:
    """Everything staff need about one customer on one screen."""

    id: int
    account_number: str
    full_name: str
    phone: str | None
    email: str | None
    physical_address: str | None
    connection_type: str
    username: str
    plan: str
    plan_rate_limit: str  # RouterOS order, upload/download; people read plan_download first
    plan_download: str
    plan_upload: str
    plan_price_kes: int
    plan_validity: str
    pending_plan: str | None
    router: str | None
    ip_address: str | None
    status: str
    suspended_reason: str | None
    expires_at: datetime | None
    allowed_in: bool
    auto_renew: bool
    balance_kes: int
    amount_to_renew_kes: int
    notes: str | None
    parent_account_number: str | None
    children: list[ChildLine]
    last_payments: list[PaymentLine]
    last_extension_reason: str | None
    sync_pending: bool
    sync_error: str | None
    created_at: datetime
    total_subscriptions: int
    total_paid_kes: int
    data_usage: PeriodUsage | None = None  # this period against the plan's cap
    account_number2: str | None = None  # the additional paybill reference
    expiring: bool = False  # core.lifecycle.is_expiring: lists mark the same customers
    period_started_at: datetime | None = None  # the start of the paid period running now
    subscriptions: list[SubscriptionLine] = field(default_factory=list)  # newest first
    extensions: list[ExtensionLine] = field(default_factory=list)  # newest first

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values; times as ISO 8601 UTC."""
        values: dict[str, Any] = _jsonable(asdict(self))
        return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def customer_card(uow: UnitOfWork, customer: Customer, payments: int = 5) -> CustomerCard:
    """The card of ``customer`` (loaded in this unit of work)."""
    session = uow.session
    last_payments = [
        PaymentLine(p.received_at, p.amount_kes, p.method, p.reference)
        for p in session.scalars(
            select(Payment)
            .where(Payment.customer_id == customer.id)
            .order_by(Payment.received_at.desc(), Payment.id.desc())
            .limit(payments)
        )
    ]
    children = [
        ChildLine(c.account_number, c.full_name, c.status, c.plan.name, c.expires_at)
        for c in session.scalars(
            select(Customer)
            .where(Customer.parent_id == customer.id, Customer.deleted_at.is_(None))
            .order_by(Customer.id)
        )
    ]
    extension_reason = session.scalar(
        select(ExpiryExtension.reason)
        .where(ExpiryExtension.customer_id == customer.id)
        .order_by(ExpiryExtension.id.desc())
        .limit(1)
    )
    total_subscriptions = session.scalar(
        # A renewal of several periods is one row that counts them all.
        select(func.coalesce(func.sum(Subscription.periods), 0)).where(
            Subscription.customer_id == customer.id
        )
    )
    total_paid = session.scalar(
        select(func.coalesce(func.sum(Payment.amount_kes), 0)).where(
            Payment.customer_id == customer.id
        )
    )
    parent_number = customer.parent.account_number if customer.parent else None
    return CustomerCard(
        id=customer.id,
        account_number=customer.account_number,
        full_name=customer.full_name,
        phone=customer.phone,
        email=customer.email,
        physical_address=customer.physical_address,
        connection_type=customer.connection_type,
        username=customer.username,
        plan=customer.plan.name,
        plan_rate_limit=customer.plan.rate_limit,
        plan_download=customer.plan.download,
        plan_upload=customer.plan.upload,
        plan_price_kes=customer.plan.price_kes,
        plan_validity=customer.plan.validity_text,
        pending_plan=customer.pending_plan.name if customer.pending_plan else None,
        router=customer.router.name if customer.router else None,
        ip_address=customer.ip_address,
        status=customer.status,
        suspended_reason=customer.suspended_reason,
        expires_at=customer.expires_at,
        allowed_in=lifecycle.allowed_in(customer, uow.clock.now()),
        auto_renew=customer.auto_renew,
        balance_kes=ledger.balance_kes(uow, customer.id),
        amount_to_renew_kes=amount_to_renew(uow, customer),
        notes=customer.notes,
        parent_account_number=parent_number,
        children=children,
        last_payments=last_payments,
        last_extension_reason=extension_reason,
        sync_pending=customer.sync_pending,
        sync_error=customer.sync_error,
        created_at=customer.created_at,
        total_subscriptions=int(total_subscriptions or 0),
        total_paid_kes=int(total_paid or 0),
        data_usage=period_usage(uow, customer),
        account_number2=customer.account_number2,
        expiring=lifecycle.is_expiring(customer, uow.clock.now(), uow.config.expiring_days),
        **_paid_time(uow, customer.id),
    )


CARD_SUBSCRIPTIONS = 5
CARD_EXTENSIONS = 3


def _paid_time(uow: UnitOfWork, customer_id: int) -> dict[str, Any]:
    """The card's paid-time history: the renewals (newest first) with the state of each, the
    start of the period running now, and the time staff added."""
    now = uow.clock.now()
    rows = uow.session.execute(
        select(Subscription, Plan.name, Plan.validity_hours)
        .join(Plan, Plan.id == Subscription.plan_id)
        .where(
            Subscription.customer_id == customer_id, Subscription.ends_at > Subscription.starts_at
        )
        .order_by(Subscription.starts_at.desc(), Subscription.id.desc())
        .limit(CARD_SUBSCRIPTIONS)
    ).all()
    lines, started = [], None
    for row, plan_name, validity_hours in rows:
        if row.starts_at > now:
            state = "paid ahead"
        elif row.ends_at > now:
            state = "current"
            period = timedelta(hours=validity_hours)
            started = started or lifecycle.period_containing(row.starts_at, period, now)
        else:
            state = "ended"
        lines.append(
            SubscriptionLine(
                row.starts_at, row.ends_at, plan_name, row.periods, row.price_kes, state
            )
        )
    extensions = extension_lines(uow, customer_id, CARD_EXTENSIONS)
    return {"period_started_at": started, "subscriptions": lines, "extensions": extensions}


@dataclass(frozen=True)
class AttentionItem:
    # "mpesa_callback", "unsettled_push", "unreceipted_credit", "unmatched_payment",
    # "sync_error", "expired", "ticket"
    kind: str
    summary: str
    at: datetime | None
    account_number: str | None = None
    reference: str | None = None


def needs_attention(uow: UnitOfWork, limit: int = 50) -> list[AttentionItem]:
    """M-Pesa callbacks nobody could believe or handle, STK pushes Safaricom never settled,
    STK credits still without a receipt,
    money nobody was matched to, routers that refused a change, who expired this week, and the
    tickets subscribers opened that staff have not closed (oldest first)."""
    session = uow.session
    now = uow.clock.now()
    items: list[AttentionItem] = [
        AttentionItem(
            "mpesa_callback",
            f"#{callback.id} {callback.kind} {callback.status}: {callback.error or ''}"[:300],
            callback.received_at,
            reference=str(callback.id),
        )
        for callback in callbacks_for_staff(uow, limit)
    ]
    for push in session.scalars(
        select(StkRequest)
        .where(
            StkRequest.status.in_([PushStatus.UNCONFIRMED.value, PushStatus.PENDING.value]),
            StkRequest.created_at < now - UNRECEIPTED_AFTER,
            StkRequest.created_at >= now - timedelta(days=ATTENTION_EXPIRED_DAYS),
        )
        .order_by(StkRequest.created_at.desc())
        .limit(limit)
    ):
        items.append(
            AttentionItem(
                "unsettled_push",
                f"STK push of {kes(push.amount_kes)} to {push.phone} ({push.status}): no "
                "answer from Safaricom; if the statement shows it paid, record it with /pay",
                push.created_at,
                account_number=push.account_reference,
            )
        )
    for payment in session.scalars(
        select(Payment)
        .where(
            Payment.reference.like(PROVISIONAL_PREFIX + "%"),
            Payment.received_at < now - UNRECEIPTED_AFTER,
        )
        .order_by(Payment.received_at.desc())
        .limit(limit)
    ):
        items.append(
            AttentionItem(
                "unreceipted_credit",
                f"{kes(payment.amount_kes)} credited to {payment.account_reference} on "
                "Safaricom's word (STK query); no receipt yet: check the M-Pesa statement",
                payment.received_at,
                account_number=payment.account_reference,
                reference=payment.reference,
            )
        )
    for payment in session.scalars(
        select(Payment)
        .where(Payment.customer_id.is_(None))
        .order_by(Payment.received_at.desc())
        .limit(limit)
    ):
        items.append(
            AttentionItem(
                "unmatched_payment",
                f"{kes(payment.amount_kes)} {payment.method} {payment.reference or ''} for "
                f"account {payment.account_reference or '(none given)'!s} matched no customer",
                payment.received_at,
                reference=payment.reference,
            )
        )
    for customer in session.scalars(
        select(Customer)
        .where(Customer.sync_error.is_not(None), Customer.deleted_at.is_(None))
        .order_by(Customer.updated_at.desc())
        .limit(limit)
    ):
        items.append(
            AttentionItem(
                "sync_error",
                f"{customer.full_name}: router refused a change ({customer.sync_error})",
                customer.updated_at,
                account_number=customer.account_number,
            )
        )
    for customer in session.scalars(
        select(Customer)
        .where(
            Customer.status == Status.EXPIRED.value,
            Customer.expires_at >= now - timedelta(days=ATTENTION_EXPIRED_DAYS),
            Customer.deleted_at.is_(None),
        )
        .order_by(Customer.expires_at.desc())
        .limit(limit)
    ):
        items.append(
            AttentionItem(
                "expired",
                f"{customer.full_name} ({customer.plan.name}) expired",
                customer.expires_at,
                account_number=customer.account_number,
            )
        )
    for ticket in list_tickets(uow, limit=limit):
        items.append(
            AttentionItem(
                "ticket",
                f"#{ticket.id} {staff_words(ticket.category)}: {ticket.customer_name} "
                f"({ticket.account_number}), "
                + (f"assigned to {ticket.assignee}" if ticket.assignee else "unassigned"),
                ticket.opened_at,
                account_number=ticket.account_number,
                reference=str(ticket.id),
            )
        )
    return items


@dataclass(frozen=True)
class Stats:
    customers_by_status: dict[str, int]
    revenue_today_kes: int
    revenue_month_kes: int
    payments_today: int
    new_customers_today: int
    new_customers_month: int
    unmatched_payments: int


def stats(uow: UnitOfWork) -> Stats:
    """Counts and revenue for today and this month, in the ISP's time zone."""
    session = uow.session
    now = uow.clock.now()
    local_now = now.astimezone(uow.config.timezone)
    day_start = datetime.combine(local_now.date(), time(0), tzinfo=uow.config.timezone)
    month_start = day_start.replace(day=1)
    by_status = {
        status: int(count)
        for status, count in session.execute(
            select(Customer.status, func.count(Customer.id))
            .where(Customer.deleted_at.is_(None))
            .group_by(Customer.status)
        )
    }

    def revenue_since(start: datetime) -> tuple[int, int]:
        total, count = session.execute(
            select(func.coalesce(func.sum(Payment.amount_kes), 0), func.count(Payment.id)).where(
                Payment.received_at >= start
            )
        ).one()
        return int(total), int(count)

    def created_since(start: datetime) -> int:
        return int(
            session.scalar(select(func.count(Customer.id)).where(Customer.created_at >= start)) or 0
        )

    revenue_today, payments_today = revenue_since(day_start)
    revenue_month, _ = revenue_since(month_start)
    unmatched = session.scalar(select(func.count(Payment.id)).where(Payment.customer_id.is_(None)))
    return Stats(
        customers_by_status={status.value: by_status.get(status.value, 0) for status in Status},
        revenue_today_kes=revenue_today,
        revenue_month_kes=revenue_month,
        payments_today=payments_today,
        new_customers_today=created_since(day_start),
        new_customers_month=created_since(month_start),
        unmatched_payments=int(unmatched or 0),
    )


def router_names(uow: UnitOfWork) -> dict[int, str]:
    return {router.id: router.name for router in uow.session.scalars(select(Router))}
