"""/unsubscribe: cancel a customer's subscription, after a confirmation showing the refund."""

from __future__ import annotations

from bot.answers import Answer
from bot.commands.card import card_answer, resolved_customer
from bot.context import Context, confirmed_action
from bot.parsing import BadArguments, CommandLine
from core.display import kes, local_time
from core.usecases.cancellation import Refund, cancel_subscription, quote_cancellation
from core.vocabulary import parse_choice


def cmd_unsubscribe(ctx: Context, line: CommandLine) -> Answer:
    """Show what a cancel ends and credits, then cancel on confirmation."""
    customer_id, who = resolved_customer(ctx, line.word(0))
    refund = parse_choice(Refund, line.word(1), "the refund")
    reason = line.rest(2)
    if not reason:
        raise BadArguments()
    with ctx.uow() as uow:
        quote = quote_cancellation(uow, customer_id, refund)
    paid_until = local_time(quote.previous_expires_at, ctx.zone)
    if refund is Refund.CREDIT:
        money = f"{kes(quote.credited_kes)} is credited (balance then {kes(quote.balance_kes)})"
    else:
        money = f"the unused {kes(quote.unused_value_kes)} is forfeited"
    question = (
        f"Cancel the subscription of {who}? Paid until {paid_until}; service ends now and "
        f"{money}. Reason: {reason}."
    )

    return ctx.confirm(
        question,
        "Yes, cancel it",
        _unsubscribe_confirmed,
        customer_id=customer_id,
        reason=reason,
        refund=refund.value,
    )


@confirmed_action("unsubscribe")
def _unsubscribe_confirmed(ctx: Context, customer_id: int, reason: str, refund: str) -> Answer:
    with ctx.uow() as uow:
        done = cancel_subscription(uow, customer_id, ctx.actor, reason, Refund(refund))
        uow.commit()
    if done.refund is Refund.CREDIT:
        note = f"Cancelled: {kes(done.credited_kes)} credited."
    else:
        note = f"Cancelled: {kes(done.unused_value_kes)} forfeited."
    return card_answer(ctx, customer_id, note, edit=True)
