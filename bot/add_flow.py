"""``/add``: the Add Customer form as a conversation, one question at a time.

connection type → plan → router → address → name → phone → username → password → payment method
→ reference → installation fee → first period's price → activate now? → summary to confirm.
Every question has Back and Cancel; typed answers are checked at once where that is cheap, and
core checks them all again when the customer is created, in one transaction (nothing is half
made). The first payment is the first period's price plus the fee.

Started from a card's "Add sub-account" button, the same form adds a sub-account of that customer,
and the phone question offers the parent's phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.answers import Answer, Button, rows
from bot.commands.card import card_answer
from bot.context import Context
from core.addresses import parse_address, parse_prefix
from core.credentials import is_valid_username
from core.display import kes
from core.errors import DomainError, InvalidInput
from core.ledger import parse_fee
from core.lookup import get_customer
from core.models import Plan, Router
from core.phones import display_phone, normalize_phone
from core.reports import plan_by_id, router_by_id
from core.usecases.customers import (
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    NewCustomer,
    create_customer,
)
from core.usecases.network import addresses_to_offer, get_router_by_name, list_routers
from core.usecases.plans import get_plan_by_name, list_plans
from core.vocabulary import ConnectionType, PaymentMethod


class Step(StrEnum):
    TYPE = "type"
    PLAN = "plan"
    ROUTER = "router"
    ADDRESS = "address"
    NAME = "name"
    PHONE = "phone"
    USERNAME = "username"
    PASSWORD = "password"
    PAYMENT = "payment"
    REFERENCE = "reference"
    FEE = "fee"
    PRICE = "price"
    ACTIVATE = "activate"
    CONFIRM = "confirm"


BACK = "back"
CANCEL = "cancel"
PARENT_PHONE = "parent"
# Free addresses shown as buttons at the IP step (a typed prefix searches another block).
ADDRESSES_OFFERED = 6
CANCELLED = "Adding a customer cancelled; nothing was saved."
_TYPE_LABELS = {
    ConnectionType.PPPOE: "PPPoE",
    ConnectionType.HOTSPOT: "Hotspot",
    ConnectionType.STATIC: "Static IP",
}
_METHOD_LABELS = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.MPESA: "M-Pesa",
    PaymentMethod.BANK: "Bank",
    PaymentMethod.CHEQUE: "Cheque",
}


@dataclass(frozen=True)
class ParentAccount:
    """The customer a sub-account is being added to."""

    account_number: str
    full_name: str
    phone: str | None

    @property
    def label(self) -> str:
        return f"{self.full_name} ({self.account_number})"


@dataclass
class AddForm:
    """The answers so far; ``visited`` is the way back; ``parent`` when adding a sub-account."""

    step: Step = Step.TYPE
    visited: list[Step] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    parent: ParentAccount | None = None

    def go(self, step: Step) -> None:
        self.visited.append(self.step)
        self.step = step

    def back(self) -> bool:
        if not self.visited:
            return False
        self.step = self.visited.pop()
        return True


def start(ctx: Context) -> Answer:
    """Open a new form."""
    form = AddForm()
    ctx.session.conversation = form
    return prompt(ctx, form)


def start_sub_account(ctx: Context, parent_id: int) -> Answer:
    """Open a new form for a sub-account of customer ``parent_id``."""
    with ctx.uow() as uow:
        parent = get_customer(uow, parent_id, for_update=False)
        if parent.parent_id is not None:
            # Core refuses it at the end anyway; an old card's button should not get that far.
            raise InvalidInput("a sub-account cannot have sub-accounts of its own")
        preset = ParentAccount(parent.account_number, parent.full_name, parent.phone)
    form = AddForm(parent=preset)
    ctx.session.conversation = form
    return prompt(ctx, form)


def cancel(ctx: Context) -> Answer:
    ctx.session.conversation = None
    return Answer(CANCELLED)


def back(ctx: Context, form: AddForm, edit: bool = False) -> Answer:
    if not form.back():
        return _with_edit(
            prompt(ctx, form, "This is the first question; /cancel leaves the form."), edit
        )
    return _with_edit(prompt(ctx, form), edit)


def _with_edit(answer: Answer, edit: bool) -> Answer:
    return Answer(answer.text, answer.buttons, edit=edit)


# -- questions -----------------------------------------------------------------------------------


def _controls(form: AddForm) -> tuple[Button, ...]:
    controls = [Button("✖ Cancel", f"add:{form.step}:{CANCEL}")]
    if form.visited:
        controls.insert(0, Button("◀ Back", f"add:{form.step}:{BACK}"))
    return tuple(controls)


def _ask(form: AddForm, text: str, choices: list[Button], per_row: int = 2) -> Answer:
    return Answer(text, (*rows(choices, per_row), _controls(form)))


def _choice(form: AddForm, label: str, value: str) -> Button:
    return Button(label, f"add:{form.step}:{value}")


def prompt(ctx: Context, form: AddForm, problem: str | None = None) -> Answer:
    """The question of the form's current step (after ``problem``, if the last answer had one)."""
    answer = _question(ctx, form)
    if problem:
        return Answer(f"{problem}\n\n{answer.text}", answer.buttons)
    return answer


def _question(ctx: Context, form: AddForm) -> Answer:
    step, values = form.step, form.values
    if step is Step.TYPE:
        choices = [_choice(form, label, kind.value) for kind, label in _TYPE_LABELS.items()]
        title = f"New sub-account of {form.parent.label}" if form.parent else "New customer"
        return _ask(form, f"{title} (1/12). Connection type?", choices, 3)
    if step is Step.PLAN:
        with ctx.uow() as uow:
            plans = list_plans(uow, values["connection_type"])
            choices = [
                _choice(form, f"{p.name} · {kes(p.price_kes)}/{p.validity_text}", str(p.id))
                for p in plans
            ]
        if not choices:
            return _ask(form, f"No {values['connection_type']} plan is on sale: go back.", [])
        return _ask(form, "Plan? (2/12)", choices)
    if step is Step.ROUTER:
        with ctx.uow() as uow:
            choices = [_choice(form, r.name, str(r.id)) for r in list_routers(uow)]
        if not choices:
            return _ask(form, "No router is registered yet (mteja router add).", [])
        return _ask(form, "Router? (3/12)", choices, 3)
    if step is Step.ADDRESS:
        required = values["connection_type"] == ConnectionType.STATIC
        text = "IP address? Type one from the router's pools, or pick one automatically. (4/12)"
        if required:
            text = "IP address (static customers need one)? Type it, or pick automatically. (4/12)"
        text += "\nFree ones are below; type a prefix (e.g. 10.0.3) to search a block."
        return _ask(form, text, _address_choices(ctx, form), 3)
    if step is Step.NAME:
        return _ask(form, "Full name? (5/12)", [])
    if step is Step.PHONE:
        if form.parent and form.parent.phone:
            same = _choice(form, f"Parent's: {display_phone(form.parent.phone)}", PARENT_PHONE)
            return _ask(form, "Phone number? Type it, or use the parent's. (6/12)", [same])
        return _ask(form, "Phone number? (6/12)", [])
    if step is Step.USERNAME:
        return _ask(
            form,
            "Login username? Type one, or generate it from the name. (7/12)",
            [_choice(form, "Generate", "gen")],
        )
    if step is Step.PASSWORD:
        return _ask(
            form,
            "Login password? Type one, or generate it. (8/12)",
            [_choice(form, "Generate", "gen")],
        )
    if step is Step.PAYMENT:
        choices = [_choice(form, label, method.value) for method, label in _METHOD_LABELS.items()]
        choices.append(_choice(form, "No payment now", "none"))
        return _ask(form, "First payment: how was it paid? (9/12)", choices)
    if step is Step.REFERENCE:
        if values["payment_method"] == PaymentMethod.MPESA:
            return _ask(form, "M-Pesa receipt number? (9/12)", [])
        return _ask(form, "Payment reference? (9/12)", [_choice(form, "Skip", "skip")])
    if step is Step.FEE:
        return _ask(form, "Installation fee in KES? (10/12)", [_choice(form, "None", "0")])
    if step is Step.PRICE:
        label = f"{kes(values['plan_price'])} (plan's price)"
        return _ask(
            form,
            "First period's price? Type it (prorated, discounted; 0 is free), or: (11/12)",
            [_choice(form, label, "default")],
        )
    if step is Step.ACTIVATE:
        choices = [_choice(form, "Yes, activate now", "yes"), _choice(form, "No, later", "no")]
        return _ask(form, "Activate now? (12/12)", choices)
    choices = [_choice(form, "✅ Create customer", "create")]
    return _ask(form, "Check and confirm:\n\n" + summary(form), choices, 1)


def summary(form: AddForm) -> str:
    values = form.values
    method = values.get("payment_method")
    lines = [f"Sub-account of: {form.parent.label}"] if form.parent else []
    lines += [
        f"Type: {values['connection_type']}",
        f"Plan: {values['plan']}",
        f"Router: {values['router']}",
    ]
    if values["connection_type"] != ConnectionType.HOTSPOT:
        lines.append(f"IP: {values.get('ip_address') or 'automatic'}")
    lines += [
        f"Name: {values['full_name']}",
        f"Phone: {display_phone(values['phone'])}",
        f"Username: {values.get('username') or '(generated)'}",
        f"Password: {values.get('password') or '(generated)'}",
    ]
    fee = values.get("installation_fee_kes", 0)
    price = _first_price(values)
    lines.append(f"First period: {kes(price)} (plan {kes(values['plan_price'])})")
    if method:
        # What core takes as the first payment: the first period's price and the fee.
        reference = values.get("payment_reference")
        paid = f"Paid: {kes(price + fee)} {method}"
        lines.append(paid + (f" {reference}" if reference else ""))
    else:
        lines.append("Paid: nothing yet")
    lines.append(f"Installation fee: {kes(fee)}")
    lines.append(f"Activate now: {'yes' if values.get('activate', True) else 'no'}")
    return "\n".join(lines)


def _first_price(values: dict[str, Any]) -> int:
    chosen = values.get("first_price_kes")
    return int(values["plan_price"] if chosen is None else chosen)


# -- answers -------------------------------------------------------------------------------------


def _next_after(form: AddForm) -> Step:
    values, step = form.values, form.step
    order = list(Step)
    following = order[order.index(step) + 1]
    if following is Step.ADDRESS and values["connection_type"] == ConnectionType.HOTSPOT:
        return Step.NAME
    if following is Step.REFERENCE and not values.get("payment_method"):
        return Step.FEE
    return following


def _address_choices(ctx: Context, form: AddForm) -> list[Button]:
    """Free addresses the plan may use on the router (within a typed prefix), then "auto"."""
    values = form.values
    with ctx.uow() as uow:
        offered = addresses_to_offer(
            uow,
            ctx.actor,
            values["router"],
            values["plan"],
            prefix=values.get("address_prefix"),
            limit=ADDRESSES_OFFERED,
        )
    choices = [_choice(form, address, address) for address in offered]
    return [*choices, _choice(form, "Pick automatically", "auto")]


def _is_prefix(text: str) -> bool:
    """A part of an address (``10.0.3``) or a block (``10.0.3.0/24``), not a whole address."""
    return "/" in text or text.rstrip(".").count(".") < 3


def _advance(ctx: Context, form: AddForm, edit: bool) -> Answer:
    form.go(_next_after(form))
    return _with_edit(prompt(ctx, form), edit)


def on_text(ctx: Context, form: AddForm, text: str) -> Answer:
    """A typed answer to the current question."""
    text = text.strip()
    if form.step is Step.ADDRESS and text and _is_prefix(text):
        try:
            parse_prefix(text)
        except InvalidInput as problem:
            return prompt(ctx, form, problem.message)
        form.values["address_prefix"] = text
        try:
            return prompt(ctx, form)
        except DomainError as problem:
            form.values.pop("address_prefix")
            return prompt(ctx, form, problem.message)
    try:
        _accept_typed(ctx, form, text)
    except InvalidInput as problem:
        return prompt(ctx, form, problem.message)
    except DomainError as problem:
        return prompt(ctx, form, problem.message)
    return _advance(ctx, form, edit=False)


def _accept_typed(ctx: Context, form: AddForm, text: str) -> None:
    step, values = form.step, form.values
    if not text:
        raise InvalidInput("Please type an answer.")
    if step is Step.PLAN:
        with ctx.uow() as uow:
            _take_plan(form, get_plan_by_name(uow, text))
    elif step is Step.ROUTER:
        with ctx.uow() as uow:
            _take_router(form, get_router_by_name(uow, text))
    elif step is Step.ADDRESS:
        values["ip_address"] = parse_address(text)
    elif step is Step.NAME:
        values["full_name"] = " ".join(text.split())
    elif step is Step.PHONE:
        values["phone"] = normalize_phone(text, ctx.services.config.default_region)
    elif step is Step.USERNAME:
        if not is_valid_username(text.lower()):
            raise InvalidInput(
                "A username is 2 to 64 characters: lower-case letters, digits and . _ @ -"
            )
        values["username"] = text.lower()
    elif step is Step.PASSWORD:
        if not PASSWORD_MIN_LENGTH <= len(text) <= PASSWORD_MAX_LENGTH or " " in text:
            raise InvalidInput(
                f"A password is {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} characters "
                "without spaces."
            )
        values["password"] = text
    elif step is Step.REFERENCE:
        values["payment_reference"] = text.upper()
    elif step is Step.FEE:
        values["installation_fee_kes"] = parse_fee(text)
    elif step is Step.PRICE:
        values["first_price_kes"] = parse_fee(text, "the first period's price")
    else:
        raise InvalidInput("Please choose one of the buttons (or /back, /cancel).")


def _take_plan(form: AddForm, plan: Plan) -> None:
    if not plan.active or plan.connection_type != form.values["connection_type"]:
        raise InvalidInput(f"{plan.name} is not a {form.values['connection_type']} plan on sale.")
    form.values.update(plan=plan.name, plan_price=plan.price_kes)


def _take_router(form: AddForm, router: Router) -> None:
    form.values["router"] = router.name


def on_button(ctx: Context, form: AddForm, step: str, value: str) -> Answer:
    """A button of the current question."""
    if value == CANCEL:
        return Answer(cancel(ctx).text, edit=True)
    if step != form.step:
        return Answer("", toast="That question was already answered.")
    if value == BACK:
        return back(ctx, form, edit=True)
    values = form.values
    current = form.step
    if current is Step.TYPE:
        values["connection_type"] = ConnectionType(value).value
    elif current is Step.PLAN:
        with ctx.uow() as uow:
            _take_plan(form, plan_by_id(uow, int(value)))
    elif current is Step.ROUTER:
        with ctx.uow() as uow:
            _take_router(form, router_by_id(uow, int(value)))
    elif current is Step.ADDRESS:
        values["ip_address"] = None if value == "auto" else parse_address(value)
    elif current is Step.PHONE:
        if form.parent is None or form.parent.phone is None:
            return Answer("", toast="Type the phone number.")
        values["phone"] = form.parent.phone
    elif current in (Step.USERNAME, Step.PASSWORD):
        values[current.value] = None
    elif current is Step.PAYMENT:
        values["payment_method"] = None if value == "none" else PaymentMethod(value).value
        values.pop("payment_reference", None)
    elif current is Step.REFERENCE:
        values["payment_reference"] = None
    elif current is Step.FEE:
        values["installation_fee_kes"] = 0
    elif current is Step.PRICE:
        values["first_price_kes"] = None
    elif current is Step.ACTIVATE:
        values["activate"] = value == "yes"
    elif current is Step.CONFIRM:
        return _create(ctx, form)
    return _advance(ctx, form, edit=True)


def _create(ctx: Context, form: AddForm) -> Answer:
    values = form.values
    hotspot = values["connection_type"] == ConnectionType.HOTSPOT
    new = NewCustomer(
        full_name=values["full_name"],
        phone=values["phone"],
        connection_type=values["connection_type"],
        plan=values["plan"],
        router=values["router"],
        username=values.get("username"),
        password=values.get("password"),
        ip_address=None if hotspot else values.get("ip_address"),
        payment_method=values.get("payment_method"),
        first_price_kes=values.get("first_price_kes"),
        payment_reference=values.get("payment_reference"),
        installation_fee_kes=values.get("installation_fee_kes", 0),
        activate=values.get("activate", True),
        parent=form.parent.account_number if form.parent else None,
    )
    # Closed in the stored conversation first: "Create" pressed twice, or in two processes,
    # creates one customer.
    ctx.session.conversation = None
    ctx.claim()
    try:
        with ctx.uow() as uow:
            created = create_customer(uow, ctx.actor, new)
            uow.commit()
    except DomainError as problem:
        ctx.session.conversation = form
        return _with_edit(prompt(ctx, form, f"Not added: {problem.message}"), True)
    customer = created.customer
    what = f"Sub-account of {form.parent.account_number}" if form.parent else "Customer"
    note = (
        f"{what} added: {customer.account_number}\n"
        f"Login {customer.username} / {created.password} (shown once: give it to the customer)"
    )
    return card_answer(ctx, customer.id, note, edit=True)
