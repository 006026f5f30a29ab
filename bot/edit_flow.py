"""``/edit REF``: change a customer's details as a small form, saved after a before → after check.

The form lists the fields with their values; pressing one asks for the new value (typed, or a
button: a router, "pick automatically", "generate", "clear"). "Review" shows every change as
before → after; only "Save" calls core, which checks everything again in one transaction. A router
move takes the login off the old router and puts it on the new one (core publishes both).
``/edit REF FIELD VALUE`` goes straight to the review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.answers import Answer, Button, rows
from bot.commands.card import card_answer, resolved_customer
from bot.context import Context
from bot.parsing import BadArguments, CommandLine
from core.errors import DomainError, InvalidInput
from core.lookup import get_customer
from core.models import Customer
from core.phones import display_phone, normalize_phone
from core.reports import router_by_id
from core.usecases.customers import CustomerChanges, edit_customer
from core.usecases.network import list_routers

# key → (label, CustomerChanges field). The keys are the CLI's option names too.
FIELDS: dict[str, tuple[str, str]] = {
    "name": ("Name", "full_name"),
    "phone": ("Phone", "phone"),
    "email": ("Email", "email"),
    "address": ("Address", "physical_address"),
    "notes": ("Notes", "notes"),
    "username": ("Login", "username"),
    "ip": ("IP address", "ip_address"),
    "router": ("Router", "router"),
    "account2": ("Additional account number", "account_number2"),
}
CLEARABLE = ("email", "address", "notes", "account2")
GENERATE = "\x00generate"  # never typed: a generated additional account number
AUTOMATIC = ""  # an IP address picked by core from the router's pools
CANCELLED = "Editing cancelled; nothing changed."
FORM_CLOSED = "This form is closed; start again with /edit."


@dataclass
class EditForm:
    """The customer being edited, the changes so far, and the field being asked for."""

    customer_id: int
    who: str
    changes: dict[str, str] = field(default_factory=dict)
    asking: str | None = None


def start(ctx: Context, customer_id: int) -> Answer:
    """Open the form for ``customer_id``."""
    _, who = _label(ctx, customer_id)
    form = EditForm(customer_id, who)
    ctx.session.conversation = form
    return menu(ctx, form)


def cmd_edit(ctx: Context, line: CommandLine) -> Answer:
    """``/edit REF`` opens the form; ``/edit REF FIELD VALUE`` goes straight to the review."""
    customer_id, who = resolved_customer(ctx, line.word(0))
    key = line.optional_word(1)
    if key is None:
        return start(ctx, customer_id)
    key = key.lower()
    if key not in FIELDS:
        raise BadArguments(f"the field is one of {', '.join(FIELDS)}")
    value = line.rest(2)
    if not value and key not in CLEARABLE and key != "ip":
        raise BadArguments(f"give the new {FIELDS[key][0].lower()}")
    form = EditForm(customer_id, who, {key: value})
    ctx.session.conversation = form
    return review(ctx, form)


def cancel(ctx: Context, edit: bool = False) -> Answer:
    ctx.session.conversation = None
    return Answer(CANCELLED, edit=edit)


def menu(ctx: Context, form: EditForm, problem: str | None = None, edit: bool = False) -> Answer:
    """The fields with their values (changed ones marked), as buttons."""
    form.asking = None
    current = _current(ctx, form.customer_id)
    lines = [f"Edit {form.who}. Choose what to change:"]
    for key, (label, _) in FIELDS.items():
        if key in form.changes:
            lines.append(f"{label}: {current[key]} → {_shown(key, form.changes[key])}")
        else:
            lines.append(f"{label}: {current[key]}")
    if problem:
        lines.insert(0, f"⚠️ {problem}\n")
    buttons = [Button(label, f"ed:ask:{key}") for key, (label, _) in FIELDS.items()]
    controls = [Button("✖ Cancel", "ed:cancel:-")]
    if form.changes:
        controls.insert(0, Button("Review and save", "ed:review:-"))
    return Answer("\n".join(lines), (*rows(buttons, 3), tuple(controls)), edit=edit)


def ask(ctx: Context, form: EditForm, key: str) -> Answer:
    """The question for one field."""
    if key not in FIELDS:
        return Answer("", toast="That field does not exist.")
    form.asking = key
    label = FIELDS[key][0]
    now = _current(ctx, form.customer_id)[key]
    choices: list[Button] = []
    if key == "router":
        with ctx.uow() as uow:
            choices = [Button(r.name, f"ed:router:{r.id}") for r in list_routers(uow)]
        text = f"Move to which router? (now: {now}) The IP address is picked again there."
    elif key == "ip":
        choices = [Button("Pick automatically", "ed:auto:-")]
        text = f"New IP address? (now: {now}) Type it, or pick one automatically."
    else:
        text = f"New {label.lower()}? (now: {now}) Type it."
    if key == "account2":
        choices.append(Button("Generate", "ed:gen:-"))
        text = (
            f"Additional account number? (now: {now}) Type the one you use (letters, digits, "
            "dashes), or generate one."
        )
    if key in CLEARABLE:
        choices.append(Button("Clear", "ed:clear:-"))
    controls = (Button("◀ Back", "ed:menu:-"), Button("✖ Cancel", "ed:cancel:-"))
    return Answer(text, (*rows(choices, 3), controls), edit=True)


def on_text(ctx: Context, form: EditForm, text: str) -> Answer:
    """A typed value for the field being asked for."""
    if form.asking is None:
        return menu(ctx, form, "Choose a field with the buttons (or /cancel).")
    value = text.strip()
    if not value:
        return ask(ctx, form, form.asking)
    if form.asking == "phone":
        try:
            value = normalize_phone(value, ctx.services.config.default_region)
        except InvalidInput as problem:
            return _with_problem(ask(ctx, form, "phone"), problem.message)
    form.changes[form.asking] = value
    return menu(ctx, form)


def _with_problem(answer: Answer, problem: str) -> Answer:
    return Answer(f"⚠️ {problem}\n\n{answer.text}", answer.buttons)


def on_button(ctx: Context, form: EditForm | None, verb: str, value: str) -> Answer:
    """A button of the form: ``ed:VERB:VALUE``."""
    if verb == "cancel":
        return cancel(ctx, edit=True)
    if form is None:
        return Answer(FORM_CLOSED, edit=True, toast="This form is closed.")
    if verb == "menu":
        return menu(ctx, form, edit=True)
    if verb == "ask":
        return ask(ctx, form, value)
    if verb == "review":
        return review(ctx, form, edit=True)
    if verb == "save":
        return save(ctx, form)
    if verb in ("router", "auto", "gen", "clear") and form.asking is not None:
        form.changes[form.asking] = _button_value(ctx, verb, value)
        return menu(ctx, form, edit=True)
    return Answer("", toast="That question was already answered.")


def _button_value(ctx: Context, verb: str, value: str) -> str:
    if verb == "router":
        with ctx.uow() as uow:
            return router_by_id(uow, int(value)).name
    if verb == "gen":
        return GENERATE
    return AUTOMATIC if verb == "auto" else ""


def review(ctx: Context, form: EditForm, edit: bool = False) -> Answer:
    """Every change as before → after, with Save."""
    current = _current(ctx, form.customer_id)
    lines = [f"Save these changes to {form.who}?"]
    for key, value in form.changes.items():
        lines.append(f"{FIELDS[key][0]}: {current[key]} → {_shown(key, value)}")
    if "router" in form.changes:
        lines.append("The login leaves the old router and is added on the new one.")
    buttons = (
        (Button("✅ Save", "ed:save:-"),),
        (Button("◀ Change more", "ed:menu:-"), Button("✖ Cancel", "ed:cancel:-")),
    )
    return Answer("\n".join(lines), buttons, edit=edit)


def save(ctx: Context, form: EditForm) -> Answer:
    """Apply the changes through core; a refusal goes back to the form with the reason."""
    # Closed in the stored conversation first, so "Save" pressed twice saves once.
    ctx.session.conversation = None
    ctx.claim()
    try:
        with ctx.uow() as uow:
            edit_customer(uow, form.customer_id, ctx.actor, changes_of(form.changes))
            uow.commit()
    except DomainError as problem:
        ctx.session.conversation = form
        return menu(ctx, form, f"Not saved: {problem.message}", edit=True)
    changed = ", ".join(FIELDS[key][0].lower() for key in form.changes)
    return card_answer(ctx, form.customer_id, f"Saved: {changed}.", edit=True)


def changes_of(values: dict[str, str]) -> CustomerChanges:
    """The CustomerChanges for the form's values (keys of FIELDS)."""
    arguments: dict[str, object] = {}
    for key, value in values.items():
        if key == "account2" and value == GENERATE:
            arguments["generate_account_number2"] = True
        else:
            arguments[FIELDS[key][1]] = value
    return CustomerChanges(**arguments)  # type: ignore[arg-type]


def _shown(key: str, value: str) -> str:
    if value == GENERATE:
        return "(a new one, generated)"
    if key == "ip" and value == AUTOMATIC:
        return "(picked automatically)"
    if key == "phone" and value.startswith("+"):
        return display_phone(value)
    return value or "(none)"


def _label(ctx: Context, customer_id: int) -> tuple[int, str]:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        return customer.id, f"{customer.full_name} ({customer.account_number})"


def _current(ctx: Context, customer_id: int) -> dict[str, str]:
    with ctx.uow() as uow:
        return current_values(get_customer(uow, customer_id, for_update=False))


def current_values(customer: Customer) -> dict[str, str]:
    """The customer's editable details as shown to staff, by field key."""
    return {
        "name": customer.full_name,
        "phone": display_phone(customer.phone) if customer.phone else "-",
        "email": customer.email or "-",
        "address": customer.physical_address or "-",
        "notes": customer.notes or "-",
        "username": customer.username,
        "ip": customer.ip_address or "-",
        "router": customer.router.name if customer.router else "-",
        "account2": customer.account_number2 or "-",
    }
