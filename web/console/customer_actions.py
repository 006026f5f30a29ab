"""The action forms of a customer's page: each POST reads its form, calls one core use case,
commits and goes back (303) to the customer's page with what happened. The wording is the bot's
(core.display and the same sentences), so staff read the same thing on either."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from core.actors import Permission
from core.card_actions import BY_NAME
from core.display import debt_note, local_time, payment_note
from core.errors import DeletionRefused, InvalidInput, PlanNotFound, SubAccountsRemain
from core.ledger import parse_amount
from core.phones import display_phone
from core.usecases.account_details import add_note
from core.usecases.billing import IncomingPayment, record_debt, record_payment
from core.usecases.customers import delete_customer
from core.usecases.outreach import send_payment_details
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    extend,
    parse_days_or_date,
    suspend,
    unsuspend,
)
from core.vocabulary import parse_choice
from web.console.customer_frame import find_customer
from web.console.framework import PREFIX, Console, Handler, View

DELETED = (
    "Deleted {who}. Payments and the audit trail are kept; the account number is never reused."
)


def _account(view: View) -> str:
    return str(view.request.path_params["account"])


def _page(account: str) -> str:
    return f"{PREFIX}/customers/{account}"


def _back(view: View, flash: str) -> Response:
    """Back (303) to the customer's page, telling staff what happened."""
    return view.redirect(_page(_account(view)), flash=flash)


def _who(full_name: str, account_number: str) -> str:
    return f"{full_name} ({account_number})"


def pay(view: View) -> Response:
    """Record money received: renew as far as it goes unless "activate now" is unticked."""
    amount_kes = parse_amount(view.field("amount"))
    method = view.field("method")
    reference = view.field("reference").strip() or None
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        paid = record_payment(
            uow,
            customer.id,
            view.actor,
            IncomingPayment(amount_kes, method, reference),
            activate=view.flag("activate"),
        )
        uow.commit()
    note = payment_note(paid, amount_kes, method.strip().lower(), view.services.config.timezone)
    return _back(view, note)


def debt(view: View) -> Response:
    """Serve now, pay later: the balance goes negative; service starts unless unticked."""
    amount_kes = parse_amount(view.field("amount"))
    start_service = view.flag("start_service")
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        result = record_debt(
            uow,
            customer.id,
            view.actor,
            amount_kes,
            view.field("note").strip() or None,
            start_service=start_service,
        )
        uow.commit()
    note = debt_note(result, amount_kes, start_service, view.services.config.timezone)
    return _back(view, note)


def extend_expiry(view: View) -> Response:
    """Move expiry out by a number of days or to the end of a date."""
    days_text, until_text = view.field("days").strip(), view.field("until").strip()
    if bool(days_text) == bool(until_text):
        raise InvalidInput("give a number of days or a date (one of them)")
    days, until = parse_days_or_date(days_text or until_text)
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        extended = extend(
            uow,
            customer.id,
            view.actor,
            days=days,
            until=until,
            reason=view.field("reason").strip() or None,
        )
        expires = local_time(extended.expires_at, view.services.config.timezone)
        uow.commit()
    return _back(view, f"Expiry moved to {expires}.")


def plan(view: View) -> Response:
    """Change plan now (the speed changes at once) or at the next renewal."""
    timing = parse_choice(PlanChangeTiming, view.field("timing"), "when")
    plan_name = view.field("plan").strip()
    if not plan_name:
        raise InvalidInput("choose a plan")
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        who = _who(customer.full_name, customer.account_number)
        try:
            change = change_plan(uow, customer.id, view.actor, plan_name, timing)
        except PlanNotFound as exc:
            # A plan name from a form that is not on sale is bad input, not a missing page.
            raise InvalidInput(exc.message) from None
        uow.commit()
    cancelled = change.cancelled_pending_plan
    if timing is PlanChangeTiming.NOW:
        note = f"{who} is now on {change.customer.plan.name}."
        if cancelled:
            note += f" The change to {cancelled} at the next renewal is cancelled."
    else:
        note = f"{plan_name} starts at the next renewal."
        if cancelled:
            note += f" The change to {cancelled} is cancelled."
    return _back(view, note)


def details_sms(view: View) -> Response:
    """Text the subscriber the paybill, their account number and the amount due."""
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        message = send_payment_details(uow, customer.id, view.actor)
        phone, body = message.phone, message.body
        uow.commit()
    return _back(view, f"Sent by SMS to {display_phone(phone)}: {body}")


def drop_session(view: View) -> Response:
    """Drop the live session on the router."""
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        disconnect(uow, customer.id, view.actor)
        uow.commit()
    return _back(
        view,
        "Disconnect queued: the router drops the live session. The customer may dial in "
        "again at once if their service allows it.",
    )


def suspend_service(view: View) -> Response:
    """Cut the customer off until someone unsuspends; a reason is required."""
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        who = _who(customer.full_name, customer.account_number)
        suspend(uow, customer.id, view.actor, view.field("reason"))
        uow.commit()
    return _back(view, f"Suspended {who}.")


def unsuspend_service(view: View) -> Response:
    """Lift a suspension; credit that came meanwhile may renew."""
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        result = unsuspend(uow, customer.id, view.actor)
        uow.commit()
    note = f"Unsuspended: now {result.status.value}."
    if result.renewal is not None and result.renewal.renewed:
        expires = local_time(result.renewal.expires_at, view.services.config.timezone)
        note += f" Renewed from credit until {expires}."
    return _back(view, note)


def note(view: View) -> Response:
    """Keep a dated note on the customer."""
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        add_note(uow, customer.id, view.actor, view.field("note"))
        uow.commit()
    return _back(view, "Note added.")


def _force(view: View, value: str) -> bool:
    if value not in ("", "0", "1"):
        raise InvalidInput(f"force must be 0 or 1, not {value[:20]!r}")
    return value == "1"


def confirm_delete(view: View) -> Response:
    """The question before the destructive POST (``?force=1``: delete with money or paid time)."""
    force = _force(view, view.query("force"))
    with view.uow(read_only=True) as uow:
        customer = find_customer(uow, _account(view))
        who = _who(customer.full_name, customer.account_number)
        account = customer.account_number
    return view.render(
        "customer/delete.html",
        account=account,
        who=who,
        force=force,
        refusal=None,
        may_force=False,
    )


def delete(view: View) -> Response:
    """Delete, as the bot's /delete: refused with sub-accounts, or with credit or paid time
    unless forced by a role that may force it; a refusal offers "Delete anyway" to that role."""
    force = _force(view, view.field("force"))
    with view.uow() as uow:
        customer = find_customer(uow, _account(view))
        who = _who(customer.full_name, customer.account_number)
        # A deleted sub-account leads back to its parent's page.
        parent = customer.parent.account_number if customer.parent is not None else None
        try:
            delete_customer(uow, customer.id, view.actor, force=force)
        except DeletionRefused as refusal:
            # Forcing overrides money and paid time, never live sub-accounts.
            may_force = view.can(Permission.FORCE_DELETE)
            return view.render(
                "customer/delete.html",
                status_code=400,
                account=customer.account_number,
                who=who,
                force=False,
                refusal=f"Not deleted: {refusal.message}.",
                may_force=may_force and not isinstance(refusal, SubAccountsRemain),
            )
        uow.commit()
    target = _page(parent) if parent else f"{PREFIX}/customers"
    return view.redirect(target, flash=DELETED.format(who=who))


# Actions whose form sent twice (a double click, a reload) must not act twice: money, time
# and messages to the subscriber.
ONCE = {"pay", "debt", "extend", "details"}


def _action(console: Console, name: str, path: str, handler: Handler) -> Route:
    """A POST for the card action ``name``: its permission is checked before the form is read
    (the use case checks it again)."""
    return Route(
        f"/customers/{{account}}/{path}",
        console.action(handler, permission=BY_NAME[name].permission, once=name in ONCE),
        methods=["POST"],
    )


def customer_action_routes(console: Console) -> list[Route]:
    """The POST endpoints of the customer page's action forms, and the delete question."""
    return [
        _action(console, "pay", "pay", pay),
        _action(console, "debt", "debt", debt),
        _action(console, "extend", "extend", extend_expiry),
        _action(console, "plan", "plan", plan),
        _action(console, "details", "details-sms", details_sms),
        _action(console, "disconnect", "disconnect", drop_session),
        _action(console, "suspend", "suspend", suspend_service),
        _action(console, "unsuspend", "unsuspend", unsuspend_service),
        _action(console, "note", "note", note),
        _action(console, "delete", "delete", delete),
        Route(
            "/customers/{account}/delete",
            console.page(confirm_delete, permission=BY_NAME["delete"].permission),
            methods=["GET"],
        ),
    ]
