"""Money and messages: payments, debts, STK pushes, payment details, SMS."""

from __future__ import annotations

from bot.answers import Answer, Button
from bot.commands.card import card_answer, customer_label, resolved_customer
from bot.context import Context, confirmed_action
from bot.parsing import BadArguments, CommandLine, amount
from core import display
from core.display import kes
from core.lookup import get_customer
from core.phones import display_phone
from core.usecases.billing import IncomingPayment, PaymentResult, record_debt, record_payment
from core.usecases.outreach import send_customer_sms, send_payment_details
from core.usecases.renewal import amount_to_renew
from core.usecases.stk import request_stk_push
from core.vocabulary import PaymentMethod

# -- money ---------------------------------------------------------------------------------------


def payment_note(paid: PaymentResult, amount_kes: int, method: str, ctx: Context) -> str:
    return display.payment_note(paid, amount_kes, method, ctx.zone)


def do_pay(
    ctx: Context,
    customer_id: int,
    amount_kes: int,
    method: str,
    reference: str | None,
    edit: bool = False,
    activate: bool = True,
) -> Answer:
    with ctx.uow() as uow:
        paid = record_payment(
            uow,
            customer_id,
            ctx.actor,
            IncomingPayment(amount_kes, method, reference),
            activate=activate,
        )
        uow.commit()
    return card_answer(ctx, customer_id, payment_note(paid, amount_kes, method, ctx), edit=edit)


_METHODS = tuple(method.value for method in PaymentMethod)
# Words right after the method (/pay) or the amount (/debt): record the money, change no service.
NO_ACTIVATE = "noactivate"
NO_START = "nostart"


def cmd_pay(ctx: Context, line: CommandLine) -> Answer:
    """``/pay REF AMOUNT METHOD [noactivate] [reference]``."""
    amount_kes = amount(line.word(1))
    method = line.word(2).lower()
    if method not in _METHODS:
        raise BadArguments(f"the method is one of {', '.join(_METHODS)}")
    activate = (line.optional_word(3) or "").lower() != NO_ACTIVATE
    reference = line.rest(3 if activate else 4) or None
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_pay(ctx, customer_id, amount_kes, method, reference, activate=activate)


def pay_hint(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        due = amount_to_renew(uow, customer)
        account = customer.account_number
    text = (
        f"Record a payment:\n/pay {account} AMOUNT cash|mpesa|bank|cheque [noactivate] "
        "[reference]\n(noactivate: keep it as credit, renew nothing)"
    )
    if due:
        return Answer(text, ((Button(f"Cash {kes(due)} (renews)", f"qp:{customer_id}:{due}"),),))
    return Answer(text)


@confirmed_action("quick_cash")
def _quick_cash_confirmed(ctx: Context, customer_id: int, amount_kes: int) -> Answer:
    return do_pay(ctx, customer_id, amount_kes, PaymentMethod.CASH.value, None, edit=True)


def ask_quick_cash(ctx: Context, customer_id: int, amount_kes: int) -> Answer:
    _, who = customer_label(ctx, customer_id)
    return ctx.confirm(
        f"Record {kes(amount_kes)} cash from {who}?",
        "Yes, record it",
        _quick_cash_confirmed,
        customer_id=customer_id,
        amount_kes=amount_kes,
    )


def do_debt(
    ctx: Context,
    customer_id: int,
    amount_kes: int,
    note: str | None,
    edit: bool = False,
    start_service: bool = True,
) -> Answer:
    with ctx.uow() as uow:
        result = record_debt(
            uow, customer_id, ctx.actor, amount_kes, note, start_service=start_service
        )
        uow.commit()
    text = display.debt_note(result, amount_kes, start_service, ctx.zone)
    return card_answer(ctx, customer_id, text, edit=edit)


def cmd_debt(ctx: Context, line: CommandLine) -> Answer:
    """``/debt REF AMOUNT [nostart] [note]``."""
    amount_kes = amount(line.word(1))
    start_service = (line.optional_word(2) or "").lower() != NO_START
    note = line.rest(2 if start_service else 3) or None
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_debt(ctx, customer_id, amount_kes, note, start_service=start_service)


def debt_hint(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        customer = get_customer(uow, customer_id, for_update=False)
        price = customer.plan.price_kes
        account = customer.account_number
    text = (
        f"Serve now, pay later:\n/debt {account} AMOUNT [nostart] [note]\n"
        "(nostart: record the debt, start no service)"
    )
    if price:
        label = f"Debt {kes(price)} (one period)"
        return Answer(text, ((Button(label, f"qd:{customer_id}:{price}"),),))
    return Answer(text)


@confirmed_action("quick_debt")
def _quick_debt_confirmed(ctx: Context, customer_id: int, amount_kes: int) -> Answer:
    return do_debt(ctx, customer_id, amount_kes, None, edit=True)


def ask_quick_debt(ctx: Context, customer_id: int, amount_kes: int) -> Answer:
    _, who = customer_label(ctx, customer_id)
    return ctx.confirm(
        f"Record a debt of {kes(amount_kes)} for {who} and start service now?",
        "Yes",
        _quick_debt_confirmed,
        customer_id=customer_id,
        amount_kes=amount_kes,
    )


def do_stk(ctx: Context, customer_id: int, amount_kes: int | None) -> Answer:
    with ctx.uow() as uow:
        queued = request_stk_push(uow, customer_id, ctx.actor, amount_kes, channel="staff")
        uow.commit()
    return Answer(
        f"M-Pesa prompt for {kes(queued.amount_kes)} is on its way to "
        f"{display_phone(queued.phone)}. You will be told when it is paid or fails.",
        ((Button("Card", f"c:{customer_id}"),),),
    )


def cmd_stk(ctx: Context, line: CommandLine) -> Answer:
    word = line.optional_word(1)
    amount_kes = amount(word) if word is not None else None
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_stk(ctx, customer_id, amount_kes)


def do_details(ctx: Context, customer_id: int) -> Answer:
    with ctx.uow() as uow:
        message = send_payment_details(uow, customer_id, ctx.actor)
        phone, body = message.phone, message.body
        uow.commit()
    return Answer(f"Sent by SMS to {display_phone(phone)}:\n{body}")


def cmd_details(ctx: Context, line: CommandLine) -> Answer:
    customer_id, _ = resolved_customer(ctx, line.word(0))
    return do_details(ctx, customer_id)


def cmd_sms(ctx: Context, line: CommandLine) -> Answer:
    text = line.rest(1)
    if not text:
        raise BadArguments()
    customer_id, _ = resolved_customer(ctx, line.word(0))
    with ctx.uow() as uow:
        message = send_customer_sms(uow, customer_id, ctx.actor, text)
        phone = message.phone
        uow.commit()
    return Answer(f"SMS queued to {display_phone(phone)}.")
