"""Self-service: what a subscriber may see and do from the phone an account is registered to.

Every function takes the calling phone (E.164) and touches only accounts registered to it, so a
USSD or SMS adapter cannot show or change someone else's account by passing another id: an id
that is not the phone's is reported as CustomerNotFound, exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from core import lifecycle
from core.actors import Actor
from core.errors import CustomerNotFound, PlanNotFound
from core.messages import Language, as_language
from core.models import Customer, LedgerEntry, PhonePreference, Plan, SmsMessage, UsagePeriod
from core.unit_of_work import UnitOfWork
from core.usecases.outreach import payment_details_body
from core.usecases.preferences import language_of
from core.usecases.renewal import renewal_plan
from core.usecases.service import PlanChangeTiming, change_plan
from core.usecases.sms import queue_sms
from core.usecases.stk import StkPushQueued, request_stk_push

# A phone registered to more accounts than this is an agent's or a landlord's; the rest are
# reached through staff, and the USSD list stays a few pages long.
MAX_ACCOUNTS = 24
# Replies cost the ISP money: a phone (or a loop with another auto-responder) gets at most this
# many self-service SMS in each window; beyond it, requests are answered on screen or not at all.
SELF_SERVICE_SMS_LIMITS = ((timedelta(minutes=10), 6), (timedelta(days=1), 20))
SELF_SERVICE_KIND_PREFIX = "self:"


@dataclass(frozen=True)
class AccountSummary:
    """What "My account" shows. ``amount_to_renew_kes`` is after credit and debt."""

    customer_id: int
    account_number: str
    plan_name: str
    next_plan_name: str | None
    renewal_plan_name: str
    renewal_price_kes: int
    renewal_validity_hours: int
    status: str
    expires_at: datetime | None
    balance_kes: int
    amount_to_renew_kes: int
    data_cap_mb: int | None = None  # the plan's cap; None: "My account" shows no data line
    data_used_bytes: int = 0  # since the last renewal
    data_capped: bool = False
    expiring: bool = False  # core.lifecycle.is_expiring, the rule of staff's lists and cards

    @property
    def shown_status(self) -> str:
        """The status a subscriber is told: "expiring" for an active one about to end."""
        return "expiring" if self.expiring else self.status

    @property
    def amount_to_pay_kes(self) -> int:
        """What a "pay now" offers: what renews, or one period when credit already covers it."""
        return self.amount_to_renew_kes or self.renewal_price_kes


@dataclass(frozen=True)
class PlanChoice:
    plan_id: int
    name: str
    price_kes: int
    validity_hours: int


def owned_customer(uow: UnitOfWork, phone: str, customer_id: int) -> Customer:
    """The live customer ``customer_id`` if registered to ``phone``; CustomerNotFound otherwise.

    Not locked: the use cases that change the customer lock it themselves.
    """
    query = (
        select(Customer)
        .options(joinedload(Customer.plan), joinedload(Customer.pending_plan))
        .where(
            Customer.id == customer_id,
            Customer.phone == phone,
            Customer.deleted_at.is_(None),
        )
    )
    customer = uow.session.scalars(query).first()
    if customer is None:
        raise CustomerNotFound("no such account on this phone")
    return customer


@dataclass(frozen=True)
class PhoneOverview:
    """Everything the first screens need about a calling phone, read in one query."""

    language: Language
    accounts: list[AccountSummary]

    def summary(self, customer_id: int) -> AccountSummary:
        """The summary of one of these accounts; CustomerNotFound for any other id."""
        found = next((a for a in self.accounts if a.customer_id == customer_id), None)
        if found is None:
            raise CustomerNotFound("no such account on this phone")
        return found


def phone_overview(uow: UnitOfWork, phone: str) -> PhoneOverview:
    """The accounts registered to ``phone`` (oldest first, at most MAX_ACCOUNTS) with what "My
    account" shows, and the phone's language.

    One statement, because it answers most USSD requests (the benchmark's "My account" screen):
    each account's plan, renewal plan and balance, and the phone's preference, joined in.
    """
    # On the session's connection: the rows are plain values, so the ORM's execution layer
    # (a third of this call's cost) has nothing to add.
    rows = uow.session.connection().execute(_overview_statement(), {"phone": phone}).all()
    if not rows:
        return PhoneOverview(language_of(uow, phone), [])
    now, expiring_days = uow.clock.now(), uow.config.expiring_days
    accounts = [
        AccountSummary(
            customer_id=row.id,
            account_number=row.account_number,
            plan_name=row.plan_name,
            next_plan_name=row.renewal_name if row.renewal_id != row.plan_id else None,
            renewal_plan_name=row.renewal_name,
            renewal_price_kes=row.renewal_price,
            renewal_validity_hours=row.renewal_hours,
            status=row.status,
            expires_at=row.expires_at,
            balance_kes=int(row.balance),
            # renewal.amount_to_renew's rule, on the balance already read.
            amount_to_renew_kes=max(0, row.renewal_price - int(row.balance)),
            data_cap_mb=row.data_cap_mb,
            data_used_bytes=int(row.data_used),
            data_capped=row.data_capped_at is not None,
            expiring=lifecycle.is_expiring(row, now, expiring_days),
        )
        for row in rows
    ]
    return PhoneOverview(as_language(rows[0].language), accounts)


@cache
def _overview_statement() -> Select[*tuple[Any, ...]]:
    # Built once: constructing this select (aliases, a correlated subquery) costs more than
    # running it, and SQLAlchemy's compiled cache then recognizes it instantly.
    current, renewal = aliased(Plan), aliased(Plan)
    balance = (
        select(func.coalesce(func.sum(LedgerEntry.amount_kes), 0))
        .where(LedgerEntry.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    return (
        select(
            Customer.id,
            Customer.account_number,
            Customer.status,
            Customer.expires_at,
            Customer.deleted_at,
            Customer.plan_id,
            current.name.label("plan_name"),
            renewal.id.label("renewal_id"),
            renewal.name.label("renewal_name"),
            renewal.price_kes.label("renewal_price"),
            renewal.validity_hours.label("renewal_hours"),
            balance.label("balance"),
            PhonePreference.language,
            current.data_cap_mb,
            func.coalesce(UsagePeriod.download_bytes + UsagePeriod.upload_bytes, 0).label(
                "data_used"
            ),
            Customer.data_capped_at,
        )
        .join(current, current.id == Customer.plan_id)
        .outerjoin(UsagePeriod, UsagePeriod.customer_id == Customer.id)
        .join(renewal, renewal.id == func.coalesce(Customer.pending_plan_id, Customer.plan_id))
        .outerjoin(PhonePreference, PhonePreference.phone == Customer.phone)
        .where(Customer.phone == bindparam("phone"), Customer.deleted_at.is_(None))
        .order_by(Customer.id)
        .limit(MAX_ACCOUNTS)
    )


def plan_choices(uow: UnitOfWork, phone: str, customer_id: int) -> list[PlanChoice]:
    """Active plans of the account's connection type, cheapest first, except the one the next
    renewal already buys."""
    customer = owned_customer(uow, phone, customer_id)
    current = renewal_plan(customer)
    plans = uow.session.scalars(
        select(Plan)
        .where(
            Plan.active.is_(True),
            Plan.connection_type == customer.connection_type,
            Plan.id != current.id,
        )
        .order_by(Plan.price_kes, Plan.name)
    )
    return [PlanChoice(plan.id, plan.name, plan.price_kes, plan.validity_hours) for plan in plans]


def choose_plan(uow: UnitOfWork, phone: str, customer_id: int, plan_id: int) -> PlanChoice:
    """Switch to ``plan_id`` at the next renewal (subscribers pay a period at its price)."""
    choice = next((c for c in plan_choices(uow, phone, customer_id) if c.plan_id == plan_id), None)
    if choice is None:
        raise PlanNotFound("that package is not offered for this account")
    change_plan(uow, customer_id, Actor.subscriber(phone), choice.name, PlanChangeTiming.RENEWAL)
    return choice


def pay_by_mpesa(
    uow: UnitOfWork, phone: str, customer_id: int, amount_kes: int | None, channel: str
) -> StkPushQueued:
    """Queue an M-Pesa PIN prompt to ``phone`` for one of its accounts (rate limited).

    ``amount_kes`` None means what renews the plan. Raises RateLimited, InvalidInput.
    """
    owned_customer(uow, phone, customer_id)
    return request_stk_push(
        uow, customer_id, Actor.subscriber(phone), amount_kes, phone=phone, channel=channel
    )


def self_service_sms_allowed(uow: UnitOfWork, phone: str) -> bool:
    """Whether ``phone`` may be sent another self-service SMS now (SELF_SERVICE_SMS_LIMITS)."""
    now = uow.clock.now()
    for window, limit in SELF_SERVICE_SMS_LIMITS:
        sent = uow.session.scalar(
            select(func.count(SmsMessage.id)).where(
                SmsMessage.created_at > now - window,
                SmsMessage.phone == phone,
                SmsMessage.kind.like(SELF_SERVICE_KIND_PREFIX + "%"),
            )
        )
        if int(sent or 0) >= limit:
            return False
    return True


def reply_by_sms(
    uow: UnitOfWork, phone: str, body: str, what: str, customer_id: int | None = None
) -> SmsMessage | None:
    """Queue a self-service SMS to ``phone`` unless it already had its share (then None)."""
    if not self_service_sms_allowed(uow, phone):
        return None
    kind = (SELF_SERVICE_KIND_PREFIX + what)[:32]
    return queue_sms(uow, phone, body, kind, customer_id)


def payment_details_text(uow: UnitOfWork, phone: str, customer_id: int, language: str) -> str:
    """How to pay for the account by paybill, in ``language``."""
    return payment_details_body(uow, owned_customer(uow, phone, customer_id), language)


def send_payment_details(
    uow: UnitOfWork, phone: str, customer_id: int, language: str
) -> SmsMessage | None:
    """Queue the paybill number and account number to ``phone`` (None when over the limit)."""
    body = payment_details_text(uow, phone, customer_id, language)
    return reply_by_sms(uow, phone, body, "details", customer_id)
