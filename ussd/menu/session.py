"""Answering one USSD request: find the phone's accounts, replay the answers, act, render.

``answer_ussd`` runs inside the caller's unit of work, which commits only what a finishing
answer did. A refused action (too many M-Pesa prompts, a plan retired meanwhile) is rolled back
before its screen is shown, so nothing of a rejected request is ever committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.contacts import contact_values
from core.errors import DomainError, InvalidInput, NotFound, RateLimited
from core.phones import try_normalize_phone
from core.unit_of_work import UnitOfWork
from core.usecases import preferences, selfservice, tickets
from core.usecases.selfservice import AccountSummary, PhoneOverview, PlanChoice
from ussd.menu.screens import Look, UssdReply, finished, fit, render
from ussd.menu.walk import Action, ActionKind, Walk, split_answers, walk

log = logging.getLogger(__name__)

CHANNEL = "ussd"


class PhoneMenuData:
    """What the menu reads about the calling phone: its accounts (one query, up front) and, only
    on the paths that need them, each account's plans."""

    def __init__(self, uow: UnitOfWork, phone: str, overview: PhoneOverview) -> None:
        self._uow = uow
        self._phone = phone
        self.accounts: Sequence[AccountSummary] = overview.accounts
        self._plans: dict[int, list[PlanChoice]] = {}

    def plans(self, customer_id: int) -> Sequence[PlanChoice]:
        if customer_id not in self._plans:
            self._plans[customer_id] = selfservice.plan_choices(self._uow, self._phone, customer_id)
        return self._plans[customer_id]

    def account_number(self, customer_id: int) -> str:
        return next((a.account_number for a in self.accounts if a.customer_id == customer_id), "")


def answer_ussd(uow: UnitOfWork, phone_number: str, text: str) -> UssdReply:
    """The screen for a session of ``phone_number`` whose answers so far are ``text``."""
    walked = _walk(uow, phone_number, text)
    if isinstance(walked, UssdReply):
        return walked
    if walked.action is not None:
        return _act(uow, walked.phone, walked.action, walked.look, walked.data)
    return walked.screen()


def read_ussd(uow: UnitOfWork, phone_number: str, text: str) -> UssdReply | None:
    """``answer_ussd`` for the requests that change nothing, which are most of them (every
    screen but the last of a session); None when the last answer asks for an action, which
    ``answer_ussd`` then carries out in a transaction that may write."""
    walked = _walk(uow, phone_number, text)
    if isinstance(walked, UssdReply):
        return walked
    return walked.screen() if walked.action is None else None


@dataclass(frozen=True)
class _Walked:
    """Where a registered phone's answers led, with what rendering or acting on it needs."""

    phone: str
    look: Look
    data: PhoneMenuData
    walk: Walk

    @property
    def action(self) -> Action | None:
        return self.walk.action

    def screen(self) -> UssdReply:
        assert self.walk.screen is not None
        return render(self.walk.screen, self.walk.problem, self.look, self.data)


def _walk(uow: UnitOfWork, phone_number: str, text: str) -> UssdReply | _Walked:
    """Replay the answers; a finished screen when there is nothing to walk (an unknown phone,
    answers after the end)."""
    config = uow.config
    phone = try_normalize_phone(phone_number, config.default_region)
    overview = selfservice.phone_overview(uow, phone) if phone else None
    language = overview.language if overview else "en"
    contacts = contact_values(config)
    look = Look(
        language,
        config.isp_name,
        contacts["support"],
        contacts["paybill"],
        config.timezone,
    )
    if phone is None or overview is None or not overview.accounts:
        return finished(look, "unregistered", isp=config.isp_name, support=look.support)
    data = PhoneMenuData(uow, phone, overview)
    walked = walk(split_answers(text), data)
    if walked.ended:
        return finished(look, "ussd_restart")
    return _Walked(phone, look, data, walked)


def _act(uow: UnitOfWork, phone: str, action: Action, look: Look, data: PhoneMenuData) -> UssdReply:
    """Carry out ``action``; on a refusal roll back whatever it began and say why."""
    try:
        return _carry_out(uow, phone, action, look, data)
    except DomainError as error:
        uow.rollback()
        return _refusal(error, action, look, data.account_number(action.customer_id))


def _carry_out(
    uow: UnitOfWork, phone: str, action: Action, look: Look, data: PhoneMenuData
) -> UssdReply:
    customer_id = action.customer_id
    kind = action.kind
    if kind is ActionKind.PAY:
        queued = selfservice.pay_by_mpesa(uow, phone, customer_id, action.amount_kes, CHANNEL)
        account = data.account_number(customer_id)
        return finished(look, "stk_sent", amount=f"{queued.amount_kes:,}", account=account)
    if kind is ActionKind.CHANGE_PLAN:
        assert action.plan_id is not None
        plan = selfservice.choose_plan(uow, phone, customer_id, action.plan_id)
        return finished(look, "plan_changed", plan=plan.name)
    if kind is ActionKind.SEND_DETAILS:
        sent = selfservice.send_payment_details(uow, phone, customer_id, look.language)
        if sent is None:
            # Over the SMS allowance: show the details on screen instead.
            text = selfservice.payment_details_text(uow, phone, customer_id, look.language)
            return fit([text], [], end=True)
        return finished(look, "ussd_details_sent")
    if kind is ActionKind.OPEN_TICKET:
        assert action.category is not None
        ticket = tickets.open_ticket(uow, phone, customer_id, action.category, CHANNEL)
        return finished(look, "ticket_opened", ticket=f"#{ticket.ticket_id}", isp=look.isp_name)
    if kind is ActionKind.SET_LANGUAGE:
        assert action.language is not None
        preferences.set_language(uow, phone, action.language)
        chosen = replace(look, language=action.language)
        return finished(chosen, "language_set")
    if kind is ActionKind.SHOW_SUSPENDED:
        account = data.account_number(customer_id)
        return finished(look, "suspended", account=account, support=look.support)
    return finished(look, "ussd_no_plans", support=look.support)


def _refusal(error: DomainError, action: Action, look: Look, account: str) -> UssdReply:
    if action.kind is ActionKind.PAY and isinstance(error, RateLimited):
        return finished(look, "stk_limited", paybill=look.paybill, account=account)
    if action.kind is ActionKind.PAY and isinstance(error, InvalidInput):
        return finished(look, "stk_unavailable", paybill=look.paybill, account=account)
    if not isinstance(error, NotFound):
        log.warning("USSD %s refused: %s", action.kind.value, error)
    return finished(look, "ussd_error")
