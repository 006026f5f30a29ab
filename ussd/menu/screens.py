"""The text of each USSD screen, in the phone's language, never over 160 characters.

Words come from core.messages; this module only lays them out: a note line for a wrong answer,
the body, and the navigation lines (``98. More``, ``0. Back``) that must survive any shortening.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core import messages
from core.display import data_amount, local_time
from core.usecases.selfservice import AccountSummary, PlanChoice
from ussd.menu.walk import (
    ACCOUNTS_PER_PAGE,
    MAX_AMOUNT_KES,
    PLANS_PER_PAGE,
    MenuData,
    Problem,
    Screen,
    Step,
    page_of,
)

MAX_SCREEN = 160
ELLIPSIS = "…"


@dataclass(frozen=True)
class UssdReply:
    """One screen. ``end`` finishes the session (``END``); otherwise it waits (``CON``)."""

    text: str
    end: bool

    @property
    def body(self) -> str:
        """The HTTP response body Africa's Talking expects."""
        return ("END " if self.end else "CON ") + self.text


@dataclass(frozen=True)
class Look:
    """What every screen needs besides the data: the language and the ISP's names."""

    language: messages.Language
    isp_name: str
    support: str
    """The support phone as people write it; empty when none is set (core.contacts)."""
    paybill: str
    """The paybill number; empty when none is set."""
    zone: ZoneInfo

    def text(self, key: str, **values: object) -> str:
        return messages.render(key, self.language, **values)


def fit(lines: Sequence[str], footer: Sequence[str], *, end: bool) -> UssdReply:
    """Join ``lines`` and ``footer``, shortening ``lines`` (never the footer) to fit a screen."""
    body = [line for line in "\n".join(lines).split("\n") if line]
    budget = MAX_SCREEN - len("CON ") - sum(len(line) + 1 for line in footer)
    while body and sum(len(line) + 1 for line in body) - 1 > budget:
        longest = max(range(len(body)), key=lambda index: len(body[index]))
        excess = sum(len(line) + 1 for line in body) - 1 - budget
        keep = len(body[longest]) - excess - len(ELLIPSIS)
        if keep >= 8:
            body[longest] = body[longest][:keep].rstrip() + ELLIPSIS
        elif len(body) > 1:
            body.pop()
        else:
            body[0] = body[0][: max(0, budget - len(ELLIPSIS))] + ELLIPSIS
    text = "\n".join([*body, *footer])
    return UssdReply(text[: MAX_SCREEN - len("CON ")], end)


def finished(look: Look, key: str, **values: object) -> UssdReply:
    """An END screen with one text."""
    return fit([look.text(key, **values)], [], end=True)


def render(screen: Screen, problem: Problem | None, look: Look, data: MenuData) -> UssdReply:
    """The CON screen for ``screen``, with a note first if the last answer was wrong."""
    note: list[str] = []
    if problem is Problem.INVALID_CHOICE:
        note = [look.text("ussd_invalid")]
    elif problem is Problem.INVALID_AMOUNT:
        note = [look.text("ussd_invalid_amount", maximum=f"{MAX_AMOUNT_KES:,}")]
    lines, footer = _screen(screen, look, data)
    return fit([*note, *lines], footer, end=False)


def _screen(screen: Screen, look: Look, data: MenuData) -> tuple[list[str], list[str]]:
    back = look.text("ussd_back")
    step = screen.step
    if step is Step.ACCOUNTS:
        return _accounts(screen, look, data.accounts)
    assert screen.customer_id is not None
    if step is Step.MAIN:
        return _main(screen.customer_id, look, data)
    if step is Step.ACCOUNT:
        return _account(_summary(data, screen.customer_id), look), [back]
    if step is Step.PAY:
        summary = _summary(data, screen.customer_id)
        text = look.text(
            "ussd_pay",
            amount=f"{summary.amount_to_pay_kes:,}",
            plan=summary.renewal_plan_name,
            validity=messages.validity_text(summary.renewal_validity_hours, look.language),
            account=summary.account_number,
        )
        return [text], [back]
    if step is Step.PAY_AMOUNT:
        return [look.text("ussd_amount")], [back]
    if step is Step.PAY_CONFIRM:
        account = _summary(data, screen.customer_id).account_number
        amount = f"{screen.amount_kes or 0:,}"
        return [look.text("ussd_pay_confirm", amount=amount, account=account)], [back]
    if step is Step.PLANS:
        return _plans(screen, look, data.plans(screen.customer_id))
    if step is Step.PLAN_CONFIRM:
        return _plan_confirm(screen, look, data), [back]
    if step is Step.TICKET:
        return [look.text("ussd_ticket_menu")], [back]
    return [look.text("ussd_language_menu")], [back]


def _main(customer_id: int, look: Look, data: MenuData) -> tuple[list[str], list[str]]:
    accounts = data.accounts
    if len(accounts) == 1:
        return [look.isp_name, look.text("ussd_main")], []
    number = next(a.account_number for a in accounts if a.customer_id == customer_id)
    return [number, look.text("ussd_main")], [look.text("ussd_back")]


def _accounts(
    screen: Screen, look: Look, accounts: Sequence[AccountSummary]
) -> tuple[list[str], list[str]]:
    start, more = page_of(accounts, screen.page, ACCOUNTS_PER_PAGE)
    shown = accounts[start : start + ACCOUNTS_PER_PAGE]
    lines = [look.text("ussd_choose_account")]
    lines += [
        f"{number}. {account.account_number} {account.plan_name[:14]}"
        for number, account in enumerate(shown, start=1)
    ]
    footer = [look.text("ussd_more")] if more else []
    if screen.page:
        footer.append(look.text("ussd_back"))
    return lines, footer


def _account(summary: AccountSummary, look: Look) -> list[str]:
    if summary.balance_kes > 0:
        balance = look.text("balance_credit", amount=f"{summary.balance_kes:,}")
    elif summary.balance_kes < 0:
        balance = look.text("balance_debt", amount=f"{-summary.balance_kes:,}")
    else:
        balance = look.text("balance_zero")
    expires = local_time(summary.expires_at, look.zone) if summary.expires_at else "-"
    lines = [
        look.text(
            "account_summary",
            account=summary.account_number,
            plan=summary.plan_name,
            status=messages.status_word(summary.shown_status, look.language),
            expires=expires,
            balance=balance,
        )
    ]
    if summary.next_plan_name:
        lines.append(look.text("next_plan", plan=summary.next_plan_name))
    if summary.data_cap_mb:
        key = "data_used_capped" if summary.data_capped else "data_used"
        used = data_amount(summary.data_used_bytes)
        lines.append(look.text(key, used=used, cap=data_amount(summary.data_cap_mb * 1_000_000)))
    return lines


def plan_line(number: int, plan: PlanChoice, language: messages.Language) -> str:
    validity = messages.validity_text(plan.validity_hours, language)
    return f"{number}. {plan.name[:18]} KES {plan.price_kes:,}/{validity}"


def _plans(screen: Screen, look: Look, plans: Sequence[PlanChoice]) -> tuple[list[str], list[str]]:
    start, more = page_of(plans, screen.page, PLANS_PER_PAGE)
    shown = plans[start : start + PLANS_PER_PAGE]
    lines = [look.text("ussd_plans")]
    lines += [plan_line(number, plan, look.language) for number, plan in enumerate(shown, 1)]
    footer = [look.text("ussd_more")] if more else []
    return lines, [*footer, look.text("ussd_back")]


def _plan_confirm(screen: Screen, look: Look, data: MenuData) -> list[str]:
    assert screen.customer_id is not None
    plan = next(p for p in data.plans(screen.customer_id) if p.plan_id == screen.plan_id)
    return [
        look.text(
            "ussd_plan_confirm",
            plan=plan.name,
            price=f"{plan.price_kes:,}",
            validity=messages.validity_text(plan.validity_hours, look.language),
        )
    ]


def _summary(data: MenuData, customer_id: int) -> AccountSummary:
    return next(a for a in data.accounts if a.customer_id == customer_id)
