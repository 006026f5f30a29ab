"""Customers: add (the Add Customer form), edit details, change password, delete."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from core import account_numbers, audit, invoicing, ledger
from core.actors import Actor, Permission, require
from core.addresses import choose_address
from core.credentials import generate_password, generate_username, is_valid_username
from core.display import kes
from core.errors import (
    Conflict,
    DeletionRefused,
    InvalidInput,
    PlanMismatch,
    PlanNotFound,
    SubAccountsRemain,
)
from core.events import CustomerRemoved
from core.lookup import get_customer, resolve
from core.models import (
    AuditEvent,
    Customer,
    InboundSms,
    Payment,
    Plan,
    Router,
    SmsMessage,
    Ticket,
    TicketComment,
)
from core.phones import normalize_phone
from core.unit_of_work import UnitOfWork
from core.usecases.billing import IncomingPayment, PaymentResult, record_payment
from core.usecases.network import get_router_by_name
from core.usecases.notices import queue_welcome
from core.usecases.plans import get_plan_by_name
from core.usecases.renewal import mark_changed, renew_customer
from core.usecases.sms import SENDING
from core.vocabulary import ConnectionType, InvoiceKind, LedgerKind, Status, parse_choice

PASSWORD_MIN_LENGTH = 4
PASSWORD_MAX_LENGTH = 64
ERASED = "[erased]"


@dataclass(frozen=True)
class NewCustomer:
    """The Add Customer form: type → plan → router and IP → details → payment → activate."""

    full_name: str
    phone: str
    connection_type: str
    plan: str
    router: str
    username: str | None = None
    password: str | None = None
    ip_address: str | None = None
    email: str | None = None
    physical_address: str | None = None
    notes: str | None = None
    auto_renew: bool = True
    parent: str | None = None
    account_number2: str | None = None
    """A second paybill reference typed by staff (none when blank)."""
    payment_method: str | None = None
    amount_kes: int | None = None
    """Money received, when not the first period's price plus the fee."""
    first_price_kes: int | None = None
    """The first period's own price (prorated or discounted), instead of the plan's."""
    payment_reference: str | None = None
    installation_fee_kes: int = 0
    activate: bool = True
    # Off for customers imported from an old system: they already have their login.
    send_welcome: bool = True


@dataclass(frozen=True)
class CreatedCustomer:
    """The new customer, the password in plain text (shown once), and the first payment."""

    customer: Customer
    password: str
    payment: PaymentResult | None


def create_customer(uow: UnitOfWork, actor: Actor, form: NewCustomer) -> CreatedCustomer:
    """Add a customer, check every field in form order, take the first payment, activate."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    connection_type = parse_choice(ConnectionType, form.connection_type, "connection type")
    plan = plan_on_sale_for(uow, form.plan, connection_type)
    router = get_router_by_name(uow, form.router)
    ip_address = _address_for(uow, router, connection_type, form.ip_address, None, plan.id)
    full_name = _required_name(form.full_name)
    phone = normalize_phone(form.phone, uow.config.default_region)
    username = _username_for(uow, form.username, full_name, phone, None)
    password = form.password if form.password is not None else generate_password()
    _check_password(password)
    parent = _parent_for(uow, form.parent)
    check_first_money(form)
    first_price = plan.price_kes if form.first_price_kes is None else form.first_price_kes

    now = uow.clock.now()
    customer = Customer(
        account_number=_new_account_number(uow),
        full_name=full_name,
        phone=phone,
        email=_optional(form.email),
        physical_address=_optional(form.physical_address),
        connection_type=connection_type.value,
        username=username,
        password_encrypted=uow.cipher.encrypt(password),
        plan_id=plan.id,
        router_id=router.id,
        ip_address=ip_address,
        status=Status.INACTIVE.value,
        auto_renew=form.auto_renew,
        notes=_optional(form.notes),
        parent_id=parent.id if parent else None,
        sync_pending=True,
        created_at=now,
        updated_at=now,
    )
    customer.plan = plan
    uow.session.add(customer)
    uow.session.flush()
    if form.account_number2 is not None and form.account_number2.strip():
        customer.account_number2 = _second_account_number(
            uow, customer, form.account_number2, generate=False
        )
    audit.record(uow, actor, "customer.create", customer=customer, after=audit.snapshot(customer))
    mark_changed(uow, customer)
    if form.send_welcome:
        queue_welcome(uow, customer, password)
    if form.installation_fee_kes:
        invoicing.charge(
            uow,
            customer,
            actor,
            kind=InvoiceKind.INSTALLATION,
            ledger_kind=LedgerKind.INSTALLATION_FEE,
            description="installation fee",
            lines=[invoicing.Line("Installation fee", form.installation_fee_kes)],
        )
    payment = None
    amount = (
        form.amount_kes if form.amount_kes is not None else first_price + form.installation_fee_kes
    )
    # A free first period with no fee has nothing to pay: no payment of KES 0 is recorded.
    if form.payment_method is not None and (form.amount_kes is not None or amount > 0):
        payment = record_payment(
            uow,
            customer.id,
            actor,
            IncomingPayment(
                amount_kes=amount, method=form.payment_method, reference=form.payment_reference
            ),
            activate=form.activate,
            first_period_price_kes=form.first_price_kes,
        )
    elif form.activate:
        renew_customer(uow, customer, actor, first_period_price_kes=form.first_price_kes)
    return CreatedCustomer(customer, password, payment)


def plan_on_sale_for(uow: UnitOfWork, name: str, connection_type: ConnectionType) -> Plan:
    """The plan ``name`` names, if it is on sale and of the customer's connection type."""
    plan = get_plan_by_name(uow, name)
    if not plan.active:
        raise PlanNotFound(f"plan {plan.name!r} is retired")
    if plan.connection_type != connection_type:
        raise PlanMismatch(f"plan is for {plan.connection_type}, customer is {connection_type}")
    return plan


def check_first_money(form: NewCustomer) -> None:
    """The fee, the first period's price and the first amount of a new customer."""
    ledger.require_not_negative(form.installation_fee_kes, "the installation fee")
    if form.first_price_kes is not None:
        ledger.require_not_negative(form.first_price_kes, "the first period's price")
    if form.amount_kes is not None and form.payment_method is None:
        raise InvalidInput("say how the first amount was paid: cash, mpesa, bank or cheque")


def _required_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise InvalidInput("a customer needs a name")
    if len(name) > 128:
        raise InvalidInput("the name is longer than 128 characters")
    return name


def _optional(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None


def _address_for(
    uow: UnitOfWork,
    router: Router,
    connection_type: ConnectionType,
    requested: str | None,
    customer_id: int | None,
    plan_id: int,
) -> str | None:
    """The customer's address: from the plan's pools on ``router`` if it names any, else from
    any pool of ``router``; none for hotspot."""
    if connection_type is ConnectionType.HOTSPOT:
        if requested:
            raise InvalidInput("hotspot customers get their address from the hotspot, not mteja")
        return None
    return choose_address(
        uow,
        router,
        requested or None,
        required=connection_type is ConnectionType.STATIC,
        customer_id=customer_id,
        plan_id=plan_id,
    )


def _username_for(
    uow: UnitOfWork,
    requested: str | None,
    full_name: str,
    phone: str | None,
    customer_id: int | None,
) -> str:
    def taken(candidate: str) -> bool:
        query = select(Customer.id).where(func.lower(Customer.username) == candidate.lower())
        if customer_id is not None:
            query = query.where(Customer.id != customer_id)
        return uow.session.scalar(query) is not None

    if requested is None or not requested.strip():
        return generate_username(full_name, phone, taken)
    username = requested.strip().lower()
    if not is_valid_username(username):
        raise InvalidInput(
            "a username is 2 to 64 characters: lower-case letters, digits and . _ @ -"
        )
    if taken(username):
        raise Conflict(f"username already exists: {username}")
    return username


def _check_password(password: str) -> None:
    if not PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH:
        raise InvalidInput(
            f"a password is {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters"
        )
    if any(char.isspace() for char in password) or not password.isprintable():
        raise InvalidInput("a password cannot contain spaces or control characters")


def _parent_for(
    uow: UnitOfWork, reference: str | None, customer: Customer | None = None
) -> Customer | None:
    """The parent ``reference`` names for ``customer`` (None: a new one), or None for no parent.

    One level only: a parent is never a sub-account, and a customer with sub-accounts never
    becomes one.
    """
    if reference is None or not reference.strip():
        return None
    parent = resolve(uow, reference)
    if customer is not None and parent.id == customer.id:
        raise InvalidInput("a customer cannot be its own sub-account")
    if parent.parent_id is not None:
        raise InvalidInput("a sub-account cannot have sub-accounts of its own")
    if customer is not None and _live_sub_accounts(uow, customer.id):
        raise InvalidInput("this customer has sub-accounts, so it cannot become one")
    return parent


def _live_sub_accounts(uow: UnitOfWork, customer_id: int) -> int:
    return int(
        uow.session.scalar(
            select(func.count(Customer.id)).where(
                Customer.parent_id == customer_id, Customer.deleted_at.is_(None)
            )
        )
        or 0
    )


def _new_account_number(uow: UnitOfWork) -> str:
    # 32^6 ≈ 1e9 numbers: a clash is rare, and deleted customers keep theirs so none is reused.
    while True:
        candidate = account_numbers.generate(uow.config.account_prefix)
        if _reference_owner(uow, candidate) is None:
            return candidate


def _reference_owner(uow: UnitOfWork, key: str) -> int | None:
    """The id of the customer (deleted ones too) whose account number or additional account
    number is ``key`` (a stored form: see account_numbers.reference_key), or None."""
    return uow.session.scalar(
        select(Customer.id).where(
            or_(Customer.account_number == key, Customer.account_number2 == key)
        )
    )


def _second_account_number(
    uow: UnitOfWork, customer: Customer, typed: str | None, generate: bool
) -> str | None:
    """The additional account number to store: generated, typed (checked), or "" → none."""
    if generate:
        return _new_account_number(uow)
    assert typed is not None
    if not typed.strip():
        return None
    key = account_numbers.clean_second_reference(typed, uow.config.account_prefix)
    owner = _reference_owner(uow, key)
    if owner is not None and owner != customer.id:
        raise Conflict(f"{key} is already an account number of another customer")
    if key == customer.account_number:
        raise InvalidInput(f"{key} is this customer's account number already")
    return key


@dataclass(frozen=True)
class CustomerChanges:
    """Details staff may edit; None leaves a field as it is, "" clears an optional one."""

    full_name: str | None = None
    phone: str | None = None
    email: str | None = None
    physical_address: str | None = None
    notes: str | None = None
    auto_renew: bool | None = None
    username: str | None = None
    ip_address: str | None = None
    router: str | None = None
    # A reference to the parent account: the customer becomes its sub-account ("" detaches).
    parent: str | None = None
    # A second paybill reference, typed ("" removes it), or a new one generated.
    account_number2: str | None = None
    generate_account_number2: bool = False


def edit_customer(
    uow: UnitOfWork, customer_id: int, actor: Actor, changes: CustomerChanges
) -> Customer:
    """Change details; a change the router must know (login, address, router) is synced."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    customer = get_customer(uow, customer_id)
    before = audit.snapshot(customer)
    old_router_id, old_username = customer.router_id, customer.username
    if changes.full_name is not None:
        customer.full_name = _required_name(changes.full_name)
    if changes.phone is not None:
        customer.phone = normalize_phone(changes.phone, uow.config.default_region)
    if changes.email is not None:
        customer.email = _optional(changes.email)
    if changes.physical_address is not None:
        customer.physical_address = _optional(changes.physical_address)
    if changes.notes is not None:
        customer.notes = _optional(changes.notes)
    if changes.auto_renew is not None:
        customer.auto_renew = changes.auto_renew
    if changes.parent is not None:
        parent = _parent_for(uow, changes.parent, customer)
        customer.parent = parent
        customer.parent_id = parent.id if parent else None  # now, for the audit snapshot
    if changes.account_number2 is not None or changes.generate_account_number2:
        customer.account_number2 = _second_account_number(
            uow, customer, changes.account_number2, changes.generate_account_number2
        )
    if changes.username is not None:
        customer.username = _username_for(
            uow, changes.username, customer.full_name, customer.phone, customer.id
        )
    if changes.router is not None or changes.ip_address is not None:
        if changes.router is not None:
            customer.router = get_router_by_name(uow, changes.router)
            customer.router_id = customer.router.id
        router = customer.router
        if router is None:
            raise InvalidInput("the customer has no router; choose one first")
        # Cleared first so the new pick never collides with the old address on flush.
        customer.ip_address = None
        customer.ip_address = _address_for(
            uow,
            router,
            ConnectionType(customer.connection_type),
            changes.ip_address or None,
            customer.id,
            customer.plan_id,
        )
    after = audit.snapshot(customer)
    if before == after:
        return customer
    customer.updated_at = uow.clock.now()
    # A login renamed on the same router is cleaned up by the sync itself (it finds the old
    # entry by its account tag); a customer moved to another router must leave the old one.
    if customer.router_id != old_router_id:
        uow.publish(
            CustomerRemoved(
                customer.id,
                old_router_id,
                old_username,
                customer.connection_type,
                customer.account_number,
            )
        )
    if any(before[key] != after[key] for key in ("username", "ip_address", "router_id")):
        mark_changed(uow, customer)
    audit.record(uow, actor, "customer.edit", customer=customer, before=before, after=after)
    return customer


def change_password(
    uow: UnitOfWork, customer_id: int, actor: Actor, new_password: str | None = None
) -> str:
    """Set (or generate) the PPPoE/hotspot password; returns it in plain text, to show once."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    customer = get_customer(uow, customer_id)
    password = new_password if new_password is not None else generate_password()
    _check_password(password)
    customer.password_encrypted = uow.cipher.encrypt(password)
    mark_changed(uow, customer)
    audit.record(uow, actor, "customer.password", customer=customer, after={"password": "changed"})
    return password


def reveal_password(uow: UnitOfWork, customer: Customer) -> str | None:
    """The customer's login password in plain text, for the router sync and the welcome SMS."""
    if customer.password_encrypted is None:
        return None
    return uow.cipher.decrypt(customer.password_encrypted)


def delete_customer(
    uow: UnitOfWork,
    customer_id: int,
    actor: Actor,
    *,
    force: bool = False,
    reason: str | None = None,
) -> Customer:
    """Delete: refused while the customer has credit, paid time or live sub-accounts, unless an
    admin forces it. Money records and the audit trail stay; personal data is erased; the account
    number is never given to anyone else."""
    require(actor, Permission.MANAGE_CUSTOMERS)
    if force:
        require(actor, Permission.FORCE_DELETE)
    customer = get_customer(uow, customer_id)
    now = uow.clock.now()
    live_children = _live_sub_accounts(uow, customer.id)
    if live_children:
        raise SubAccountsRemain(f"delete its {live_children} sub-account(s) first")
    if not force:
        balance = ledger.balance_kes(uow, customer.id)
        if balance > 0:
            raise DeletionRefused(f"the customer has {kes(balance)} credit; refund or force it")
        if (
            customer.expires_at is not None
            and customer.expires_at > now
            and customer.status in (Status.ACTIVE, Status.SUSPENDED)
        ):
            raise DeletionRefused("the customer has paid time left; wait for expiry or force it")
    before = audit.snapshot(customer)
    uow.publish(
        CustomerRemoved(
            customer.id,
            customer.router_id,
            customer.username,
            customer.connection_type,
            customer.account_number,
        )
    )
    _erase_personal_data(uow, customer)
    customer.deleted_at = now
    # Pending until the router has dropped the login: if the queued removal is lost, the minute
    # sweep takes the entries off (found by the account tag, which deletion keeps).
    mark_changed(uow, customer)
    audit.record(
        uow,
        actor,
        "customer.delete",
        customer=customer,
        before={"status": before["status"], "forced": force},
        after={"deleted": True},
        reason=reason,
    )
    return customer


_PERSONAL_KEYS = (
    "note",
    "full_name",
    "phone",
    "email",
    "physical_address",
    "notes",
    "username",
    "ip_address",
    "suspended_reason",
)


def _erase_personal_data(uow: UnitOfWork, customer: Customer) -> None:
    customer.full_name = "Deleted customer"
    customer.phone = None
    customer.email = None
    customer.physical_address = None
    customer.notes = None
    customer.password_encrypted = None
    customer.ip_address = None
    # The username is freed for others; the account number stays taken forever. The placeholder
    # has a ":" so no valid login (see is_valid_username) can ever clash with it.
    customer.username = f"deleted:{customer.id}"
    customer.suspended_reason = None
    uow.session.execute(
        update(Payment)
        .where(Payment.customer_id == customer.id)
        .values(payer_phone=None, payer_name=None)
    )
    _erase_messages(uow, customer.id)
    for event in uow.session.scalars(
        select(AuditEvent).where(AuditEvent.customer_id == customer.id)
    ):
        event.before = _scrub(event.before)
        event.after = _scrub(event.after)


def _erase_messages(uow: UnitOfWork, customer_id: int) -> None:
    """SMS to and from the customer, and their tickets, lose their text and phone number; the
    rows stay (what was sent and what it cost). One not yet sent is never sent."""
    uow.session.execute(
        update(SmsMessage)
        .where(SmsMessage.customer_id == customer_id, SmsMessage.status.in_(("queued", SENDING)))
        .values(status="failed", error="not sent: the customer was deleted")
    )
    uow.session.execute(
        update(SmsMessage)
        .where(SmsMessage.customer_id == customer_id)
        .values(body=ERASED, phone="", secret_encrypted=None)
    )
    uow.session.execute(
        update(InboundSms)
        .where(InboundSms.customer_id == customer_id)
        .values(text=ERASED, phone="")
    )
    uow.session.execute(
        update(Ticket)
        .where(Ticket.customer_id == customer_id)
        .values(phone="", note=None, resolution=None)
    )
    tickets = select(Ticket.id).where(Ticket.customer_id == customer_id)
    uow.session.execute(
        update(TicketComment).where(TicketComment.ticket_id.in_(tickets)).values(text=ERASED)
    )


def _scrub(values: dict[str, object] | None) -> dict[str, object] | None:
    if values is None:
        return None
    return {
        key: (ERASED if key in _PERSONAL_KEYS and value is not None else value)
        for key, value in values.items()
    }
