"""Service: suspend, unsuspend, disconnect, extend, plans, password, deletion (destructive
actions ask first)."""

from __future__ import annotations

from bot.answers import Answer, Button, rows
from bot.commands.card import card_answer, customer_label, resolved_customer
from bot.context import Context, confirmed_action
from bot.parsing import BadArguments, CommandLine, days_or_date
from bot.views import plan_line
from core.actors import Permission, can
from core.display import kes, local_time
from core.errors import DeletionRefused, SubAccountsRemain
from core.lookup import get_customer
from core.reports import plan_by_id
from core.usecases.customers import change_password, delete_customer
from core.usecases.plans import list_plans
from core.usecases.service import (
    PlanChangeTiming,
    change_plan,
    disconnect,
    extend,
    plan_change_cancels,
    suspend,
    unsuspend,
)

DEFAULT_SUSPEND_REASON = "no reason given"
EXTEND_CHOICES = (1, 3, 7, 30)


# -- service -------------------------------------------------------------------------------------


@confirmed_action("suspend")
def _suspend_confirmed(ctx: Context, customer_id: int, who: str, reason: str) -> Answer:
    with ctx.uow() as uow:
        suspend(uow, customer_id, ctx.actor, reason)
        uow.commit()
    return card_answer(ctx, customer_id, f"Suspended {who}.", edit=True)


def ask_suspend(ctx: Context, customer_id: int, who: str, reason: str) -> Answer:
    return ctx.confirm(
        f"Suspend {who}? Reason: {reason}.\nService stops until someone unsuspends.",
        "Yes, suspend",
        _suspend_confirmed,
        customer_id=customer_id,
        who=who,
        reason=reason,
    )


def cmd_suspend(ctx: Context, line: CommandLine) -> Answer:
    """Ask, then suspend."""
    customer_id, who = resolved_customer(ctx, line.word(0))
    return ask_suspend(ctx, customer_id, who, line.rest(1) or DEFAULT_SUSPEND_REASON)


def do_unsuspend(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        result = unsuspend(uow, customer_id, ctx.actor)
        uow.commit()
    note = f"Unsuspended: now {result.status.value}."
    if result.renewal is not None and result.renewal.renewed:
        note += f" Renewed from credit until {local_time(result.renewal.expires_at, ctx.zone)}."
    return card_answer(ctx, customer_id, note)


def cmd_unsuspend(ctx: Context, line: CommandLine) -> Answer:
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_unsuspend(ctx, customer_id)


def do_disconnect(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        disconnect(uow, customer_id, ctx.actor)
        uow.commit()
    return Answer(
        "Disconnect queued: the router drops the live session. The customer may dial in again "
        "at once if their service allows it.",
        ((Button("Card", f"c:{customer_id}"),),),
    )


def cmd_disconnect(ctx: Context, line: CommandLine) -> Answer:
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_disconnect(ctx, customer_id)


def do_extend(
    ctx: Context, customer_id: int, text: str, reason: str | None, edit: bool = False
) -> Answer:
    days, until = days_or_date(text)
    with ctx.uow() as uow:
        customer = extend(uow, customer_id, ctx.actor, days=days, until=until, reason=reason)
        expires = local_time(customer.expires_at, ctx.zone)
        uow.commit()
    return card_answer(ctx, customer_id, f"Expiry moved to {expires}.", edit=edit)


def cmd_extend(ctx: Context, line: CommandLine) -> Answer:
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_extend(ctx, customer_id, line.word(1), line.rest(2) or None)


def extend_choices(customer_id: int) -> Answer:
    buttons = [
        Button(f"+{days} day{'s' if days > 1 else ''}", f"x:{customer_id}:{days}")
        for days in EXTEND_CHOICES
    ]
    return Answer(
        "Extend by how long? (Or type /extend REF DAYS|YYYY-MM-DD [reason].)", rows(buttons, 4)
    )


# -- plans ---------------------------------------------------------------------------------------


def cmd_plans(ctx: Context, line: CommandLine) -> Answer:
    """The plans on sale, by connection type."""
    with ctx.uow() as uow:
        plans = list_plans(uow)
        lines = [plan_line(plan) for plan in plans]
    return Answer("Plans:\n" + "\n".join(lines) if lines else "No plans yet.")


@confirmed_action("plan_now")
def _plan_now_confirmed(ctx: Context, customer_id: int, who: str, plan_name: str) -> Answer:
    with ctx.uow() as uow:
        change = change_plan(uow, customer_id, ctx.actor, plan_name, PlanChangeTiming.NOW)
        uow.commit()
    note = f"{who} is now on {plan_name}."
    if change.cancelled_pending_plan:
        note += f" The change to {change.cancelled_pending_plan} at the next renewal is cancelled."
    return card_answer(ctx, customer_id, note, edit=True)


def change_plan_now(ctx: Context, customer_id: int, who: str, plan_name: str) -> Answer:
    with ctx.uow() as uow:
        cancels = plan_change_cancels(uow, customer_id, plan_name)
    question = (
        f"Move {who} to {plan_name} now? The speed changes at once (the session is dropped); "
        "expiry stays as it is, with no refund or charge."
    )
    if cancels:
        question += f" This cancels the change to {cancels} planned for the next renewal."
    return ctx.confirm(
        question,
        "Yes, change now",
        _plan_now_confirmed,
        customer_id=customer_id,
        who=who,
        plan_name=plan_name,
    )


def change_plan_at_renewal(ctx: Context, customer_id: int, plan_name: str) -> Answer:
    with ctx.uow() as uow:
        change = change_plan(uow, customer_id, ctx.actor, plan_name, PlanChangeTiming.RENEWAL)
        uow.commit()
    note = f"{plan_name} starts at the next renewal."
    if change.cancelled_pending_plan:
        note += f" The change to {change.cancelled_pending_plan} is cancelled."
    return card_answer(ctx, customer_id, note)


def cmd_plan(ctx: Context, line: CommandLine) -> Answer:
    """``/plan REF PLAN NAME [now|renewal]``: plan names may have spaces."""
    customer_id, who = resolved_customer(ctx, line.word(0))
    tail = line.rest(1)
    name, _, last = tail.rpartition(" ")
    timing = PlanChangeTiming.RENEWAL
    if last.lower() in (PlanChangeTiming.NOW.value, PlanChangeTiming.RENEWAL.value) and name:
        timing = PlanChangeTiming(last.lower())
        tail = name.strip()
    if not tail:
        raise BadArguments()
    if timing is PlanChangeTiming.NOW:
        return change_plan_now(ctx, customer_id, who, tail)
    return change_plan_at_renewal(ctx, customer_id, tail)


def plan_choices(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        plans = [
            plan
            for plan in list_plans(uow, customer.connection_type)
            if plan.id != customer.plan_id
        ]
        current = customer.plan.name
        buttons = [
            Button(f"{plan.name} · {kes(plan.price_kes)}", f"pl:{customer_id}:{plan.id}")
            for plan in plans
        ]
    if not buttons:
        return Answer(f"No other {customer.connection_type} plan is on sale.")
    return Answer(f"Now on {current}. Change to:", rows(buttons, 2))


def _plan_name(ctx: Context, plan_id: int) -> str:
    with ctx.uow() as uow:
        return plan_by_id(uow, plan_id).name


def plan_timing(ctx: Context, customer_id: int, plan_id: int) -> Answer:
    name = _plan_name(ctx, plan_id)
    buttons = (
        (
            Button("At next renewal", f"pr:{customer_id}:{plan_id}"),
            Button("Now", f"pn:{customer_id}:{plan_id}"),
        ),
    )
    return Answer(f"Switch to {name} when?", buttons, edit=True)


def press_plan_now(ctx: Context, customer_id: int, plan_id: int) -> Answer:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        who = f"{customer.full_name} ({customer.account_number})"
    answer = change_plan_now(ctx, customer_id, who, _plan_name(ctx, plan_id))
    return Answer(answer.text, answer.buttons, edit=True)


def press_plan_renewal(ctx: Context, customer_id: int, plan_id: int) -> Answer:
    answer = change_plan_at_renewal(ctx, customer_id, _plan_name(ctx, plan_id))
    return Answer(answer.text, answer.buttons, edit=True, then=answer.then)


# -- password and deletion -----------------------------------------------------------------------


@confirmed_action("password", secret_arguments=("new_password",))
def _password_confirmed(
    ctx: Context, customer_id: int, who: str, new_password: str | None
) -> Answer:
    with ctx.uow() as uow:
        password = change_password(uow, customer_id, ctx.actor, new_password)
        username = get_customer(uow, customer_id, for_update=False).username
        uow.commit()
    return Answer(
        f"New password for {who}, login {username}: {password}\n"
        "Shown once: give it to the customer now. The router is updated in a moment.",
        ((Button("Card", f"c:{customer_id}"),),),
        edit=True,
    )


def ask_password(ctx: Context, customer_id: int, new_password: str | None) -> Answer:
    _, who = customer_label(ctx, customer_id)
    what = "Set a new" if new_password else "Generate a new"
    return ctx.confirm(
        f"{what} login password for {who}? The old one stops working.",
        "Yes, change it",
        _password_confirmed,
        customer_id=customer_id,
        who=who,
        new_password=new_password,
    )


def cmd_passwd(ctx: Context, line: CommandLine) -> Answer:
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return ask_password(ctx, customer_id, line.optional_word(1))


@confirmed_action("delete")
def _delete_confirmed(ctx: Context, customer_id: int, who: str, force: bool) -> Answer:
    with ctx.uow() as uow:
        try:
            parent_id = delete_customer(uow, customer_id, ctx.actor, force=force).parent_id
        except DeletionRefused as refusal:
            return _refused_deletion(ctx, customer_id, who, refusal)
        uow.commit()
    # A deleted sub-account leads back to its parent's card.
    buttons = ((Button("Parent's card", f"c:{parent_id}"),),) if parent_id else ()
    return Answer(
        f"Deleted {who}. Payments and the audit trail are kept; the account number is "
        "never reused.",
        buttons,
        edit=True,
    )


def ask_delete(ctx: Context, customer_id: int, force: bool = False) -> Answer:
    _, who = customer_label(ctx, customer_id)
    question = (
        f"Delete {who}? Personal data is erased and the login is removed from the router. "
        "This cannot be undone."
    )
    if force:
        question = f"Delete {who} ANYWAY, with its credit or paid time? This cannot be undone."
    return ctx.confirm(
        question, "Yes, delete", _delete_confirmed, customer_id=customer_id, who=who, force=force
    )


def _refused_deletion(ctx: Context, customer_id: int, who: str, refusal: DeletionRefused) -> Answer:
    text = f"Not deleted: {refusal.message}."
    buttons: tuple[tuple[Button, ...], ...] = ((Button("Card", f"c:{customer_id}"),),)
    # Forcing overrides money and paid time, never live sub-accounts: those are deleted first.
    if can(ctx.actor, Permission.FORCE_DELETE) and not isinstance(refusal, SubAccountsRemain):
        buttons = ((Button("Delete anyway", f"a:fdel:{customer_id}"),) + buttons[0],)
    return Answer(text, buttons, edit=True)


def cmd_delete(ctx: Context, line: CommandLine) -> Answer:
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return ask_delete(ctx, customer_id)
