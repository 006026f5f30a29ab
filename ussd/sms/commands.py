"""Answering an SMS a subscriber sent: keep it, do what the keyword asks, reply by SMS.

``answer_sms`` runs in the caller's unit of work. The inbound message is stored (with the
provider's id, so a repeated callback is answered once), and the reply is queued through
core's outbox: the send job delivers it after commit. Replies are self-service SMS and so are
capped per phone (core.usecases.selfservice.SELF_SERVICE_SMS_LIMIT), which also stops a loop
with another auto-responder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from core import account_numbers, messages
from core.contacts import contact_values
from core.display import local_time
from core.errors import DomainError, InvalidAccountNumber, InvalidInput, RateLimited
from core.messages import Language
from core.unit_of_work import UnitOfWork
from core.usecases import preferences, selfservice, sms_history
from core.usecases.selfservice import AccountSummary
from ussd.sms.keywords import MAX_AMOUNT_KES, Command, Keyword, parse_command

log = logging.getLogger(__name__)

CHANNEL = "sms"
STATUS_LINES = 3


@dataclass(frozen=True)
class IncomingSms:
    """An inbound SMS as the route read it; ``phone`` is already E.164."""

    phone: str
    text: str
    provider_id: str | None = None
    short_code: str | None = None


@dataclass(frozen=True)
class SmsAnswer:
    """What was done: the keyword understood, and whether a reply was queued."""

    keyword: Keyword
    replied: bool
    duplicate: bool = False


def answer_sms(uow: UnitOfWork, incoming: IncomingSms) -> SmsAnswer:
    """Store ``incoming``, carry out its keyword and queue the reply."""
    if incoming.provider_id and sms_history.already_received(uow, incoming.provider_id):
        return SmsAnswer(Keyword.UNKNOWN, replied=False, duplicate=True)
    command = parse_command(incoming.text)
    phone = incoming.phone
    overview = selfservice.phone_overview(uow, phone)
    accounts = overview.accounts
    chosen = _chosen(command, accounts, uow.config.account_prefix)
    sms_history.record_inbound(
        uow,
        provider_id=incoming.provider_id,
        phone=phone,
        text=incoming.text,
        command=command.keyword.value,
        customer_id=chosen.customer_id if chosen else None,
        short_code=incoming.short_code,
    )
    language = command.language or overview.language
    reply = _reply(uow, phone, command, accounts, chosen, language)
    queued = selfservice.reply_by_sms(
        uow, phone, reply, command.keyword.value, chosen.customer_id if chosen else None
    )
    return SmsAnswer(command.keyword, replied=queued is not None)


def _chosen(
    command: Command, accounts: Sequence[AccountSummary], prefix: str
) -> AccountSummary | None:
    """The account the command is about: the one named (if it is the phone's), or the only one."""
    if command.account is not None:
        try:
            wanted = account_numbers.parse(command.account, prefix)
        except InvalidAccountNumber:
            return None
        return next((a for a in accounts if a.account_number == wanted), None)
    return accounts[0] if len(accounts) == 1 else None


def _reply(
    uow: UnitOfWork,
    phone: str,
    command: Command,
    accounts: Sequence[AccountSummary],
    chosen: AccountSummary | None,
    language: Language,
) -> str:
    config = uow.config
    support = contact_values(config)["support"]
    keyword = command.keyword
    if keyword in (Keyword.HELP, Keyword.UNKNOWN):
        return messages.render("sms_help", language, isp=config.isp_name)
    if keyword is Keyword.STOP or keyword is Keyword.START:
        preferences.set_reminders(uow, phone, enabled=keyword is Keyword.START)
        return messages.render(f"sms_{keyword.value}", language)
    if not accounts:
        return messages.render("unregistered", language, isp=config.isp_name, support=support)
    if command.account is not None and chosen is None:
        numbers = ", ".join(a.account_number for a in accounts[:STATUS_LINES])
        return messages.render(
            "sms_unknown_account", language, reference=command.account, accounts=numbers
        )
    if keyword is Keyword.STATUS:
        return _status(uow, [chosen] if chosen else list(accounts), language)
    if chosen is None:
        word = _keyword_word(keyword, language)
        example = f"{word} {accounts[0].account_number}"
        if keyword is Keyword.PAY and command.amount_kes:
            example = f"{word} {command.amount_kes} {accounts[0].account_number}"
        return messages.render("sms_which_account", language, keyword=word, example=example)
    if keyword is Keyword.DETAILS:
        return selfservice.payment_details_text(uow, phone, chosen.customer_id, language)
    if command.problem is not None:
        return messages.render("sms_bad_amount", language, most=f"{MAX_AMOUNT_KES:,}")
    return _pay(uow, phone, chosen, command.amount_kes, language, support)


def _status(uow: UnitOfWork, accounts: Sequence[AccountSummary], language: Language) -> str:
    lines = []
    for summary in accounts[:STATUS_LINES]:
        if summary.balance_kes < 0:
            balance = messages.render("balance_debt", language, amount=f"{-summary.balance_kes:,}")
        elif summary.balance_kes > 0:
            balance = messages.render("balance_credit", language, amount=f"{summary.balance_kes:,}")
        else:
            balance = messages.render("balance_zero", language)
        expires = summary.expires_at
        lines.append(
            messages.render(
                "sms_status_line" if expires else "sms_status_line_unpaid",
                language,
                account=summary.account_number,
                plan=summary.plan_name,
                status=messages.status_word(summary.shown_status, language),
                expires=local_time(expires, uow.config.timezone),
                balance=balance,
            )
        )
    if len(accounts) > STATUS_LINES:
        lines.append(
            messages.render("sms_more_accounts", language, count=len(accounts) - STATUS_LINES)
        )
    return "\n".join(lines)


def _pay(
    uow: UnitOfWork,
    phone: str,
    account: AccountSummary,
    amount_kes: int | None,
    language: Language,
    support: str,
) -> str:
    values = {"account": account.account_number, "paybill": contact_values(uow.config)["paybill"]}
    if account.status == "suspended":
        return messages.render(
            "suspended", language, account=account.account_number, support=support
        )
    try:
        queued = selfservice.pay_by_mpesa(uow, phone, account.customer_id, amount_kes, CHANNEL)
    except RateLimited:
        return messages.render("stk_limited", language, **values)
    except InvalidInput:
        return messages.render("stk_unavailable", language, **values)
    except DomainError as error:
        log.warning("SMS PAY from %s refused: %s", phone, error)
        return messages.render("stk_unavailable", language, **values)
    return messages.render(
        "stk_sent", language, amount=f"{queued.amount_kes:,}", account=account.account_number
    )


def _keyword_word(keyword: Keyword, language: Language) -> str:
    words = {
        Keyword.PAY: {"en": "PAY", "sw": "LIPA"},
        Keyword.DETAILS: {"en": "DETAILS", "sw": "MAELEZO"},
        Keyword.STATUS: {"en": "STATUS", "sw": "HALI"},
    }
    return words.get(keyword, {}).get(language, keyword.value.upper())
