"""The USSD menu as a state machine, replayed from the whole input path on every request.

Africa's Talking sends ``text``: every answer of the session so far, joined by ``*``. We keep no
session state: each request replays the answers from the first screen, so a restarted web
process, or another one behind the proxy, answers the next screen just the same.

- ``0`` goes back one screen and ``00`` to the account's main menu, wherever they are typed.
- A wrong answer leaves the session on the same screen, with a note (``Problem``).
- An answer that finishes the session (pay, change plan, ...) yields an ``Action``. It is carried
  out only when it is the last answer: answers after a finished session (a replayed or forged
  path) end the session without doing anything.

The walk is pure: what it needs to know (the accounts, the plans) it asks ``MenuData``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from core.messages import Language
from core.usecases.selfservice import AccountSummary, PlanChoice
from core.usecases.tickets import TicketCategory

BACK = "0"
HOME = "00"
MORE = "98"
MAX_ANSWERS = 40
ACCOUNTS_PER_PAGE = 5
PLANS_PER_PAGE = 3
MAX_AMOUNT_KES = 250_000


class Step(StrEnum):
    """The screens of the menu (docs/ussd-menu.md draws them)."""

    ACCOUNTS = "accounts"
    MAIN = "main"
    ACCOUNT = "account"
    PAY = "pay"
    PAY_AMOUNT = "pay_amount"
    PAY_CONFIRM = "pay_confirm"
    PLANS = "plans"
    PLAN_CONFIRM = "plan_confirm"
    TICKET = "ticket"
    LANGUAGE = "language"


@dataclass(frozen=True)
class Screen:
    """Where the session is, with what earlier answers chose."""

    step: Step
    customer_id: int | None = None
    page: int = 0
    plan_id: int | None = None
    amount_kes: int | None = None


class ActionKind(StrEnum):
    PAY = "pay"
    CHANGE_PLAN = "change_plan"
    SEND_DETAILS = "send_details"
    OPEN_TICKET = "open_ticket"
    SET_LANGUAGE = "set_language"
    # Finishing screens that change nothing:
    SHOW_SUSPENDED = "show_suspended"
    SHOW_NO_PLANS = "show_no_plans"


@dataclass(frozen=True)
class Action:
    """What the last answer asks for. ``amount_kes`` None means "what renews the plan"."""

    kind: ActionKind
    customer_id: int
    amount_kes: int | None = None
    plan_id: int | None = None
    category: TicketCategory | None = None
    language: Language | None = None


class Problem(StrEnum):
    INVALID_CHOICE = "invalid_choice"
    INVALID_AMOUNT = "invalid_amount"


@dataclass(frozen=True)
class Walk:
    """Where the answers led: a screen to show (maybe with a problem note), an action to carry
    out, or ``ended`` when answers came after the session had finished."""

    screen: Screen | None = None
    problem: Problem | None = None
    action: Action | None = None
    ended: bool = False


class MenuData(Protocol):
    """What the walk must know about the calling phone."""

    @property
    def accounts(self) -> Sequence[AccountSummary]: ...

    def plans(self, customer_id: int) -> Sequence[PlanChoice]: ...


def split_answers(text: str) -> list[str]:
    """``"1*2*500"`` → ``["1", "2", "500"]``; the empty first request has no answers."""
    if not text:
        return []
    return [answer.strip() for answer in text.split("*")]


def first_screen(data: MenuData) -> Screen:
    """The account chooser for a phone with several accounts, else the main menu."""
    if len(data.accounts) == 1:
        return Screen(Step.MAIN, data.accounts[0].customer_id)
    return Screen(Step.ACCOUNTS)


def walk(answers: Sequence[str], data: MenuData) -> Walk:
    """Replay ``answers`` from the first screen (the phone must have at least one account)."""
    if len(answers) > MAX_ANSWERS:
        return Walk(ended=True)
    stack = [first_screen(data)]
    problem: Problem | None = None
    for index, answer in enumerate(answers):
        problem = None
        if answer == HOME:
            stack = _home(stack)
            continue
        if answer == BACK:
            if len(stack) > 1:
                stack.pop()
            continue
        outcome = _answer(stack[-1], answer, data)
        if isinstance(outcome, Problem):
            problem = outcome
        elif isinstance(outcome, Screen):
            stack.append(outcome)
        elif index == len(answers) - 1:
            return Walk(action=outcome)
        else:
            return Walk(ended=True)
    return Walk(screen=stack[-1], problem=problem)


def _home(stack: list[Screen]) -> list[Screen]:
    for index, screen in enumerate(stack):
        if screen.step is Step.MAIN:
            return stack[: index + 1]
    return stack[:1]


def page_of(items: Sequence[object], page: int, per_page: int) -> tuple[int, bool]:
    """(first index, whether a later page exists) of ``page``."""
    start = page * per_page
    return start, len(items) > start + per_page


def _pick(items: Sequence[object], page: int, per_page: int, answer: str) -> int | None:
    """The index into ``items`` that ``answer`` picks on ``page`` (1-based on screen)."""
    if not (answer.isascii() and answer.isdigit()) or len(answer) > 2:
        return None
    start, _ = page_of(items, page, per_page)
    choice = int(answer)
    if 1 <= choice <= per_page and start + choice - 1 < len(items):
        return start + choice - 1
    return None


def parse_amount(answer: str) -> int | None:
    """Whole shillings from ``500`` or ``1,500``; None unless 1 to MAX_AMOUNT_KES."""
    cleaned = answer.replace(",", "").strip()
    if not (cleaned.isascii() and cleaned.isdigit()) or len(cleaned) > 7:
        return None
    amount = int(cleaned)
    return amount if 1 <= amount <= MAX_AMOUNT_KES else None


_MAIN = {
    "1": Step.ACCOUNT,
    "2": Step.PAY,
    "3": Step.PLANS,
    "5": Step.TICKET,
    "6": Step.LANGUAGE,
}
_TICKETS = {"1": TicketCategory.NO_INTERNET, "2": TicketCategory.SLOW, "3": TicketCategory.OTHER}
_LANGUAGES: dict[str, Language] = {"1": "en", "2": "sw"}


def _answer(screen: Screen, answer: str, data: MenuData) -> Screen | Action | Problem:
    """What ``answer`` on ``screen`` leads to."""
    if screen.step is Step.ACCOUNTS:
        return _on_accounts(screen, answer, data)
    customer_id = screen.customer_id
    assert customer_id is not None
    if screen.step is Step.MAIN:
        return _on_main(customer_id, answer, data)
    if screen.step is Step.PAY:
        if answer == "1":
            return Action(ActionKind.PAY, customer_id)
        if answer == "2":
            return Screen(Step.PAY_AMOUNT, customer_id)
    elif screen.step is Step.PAY_AMOUNT:
        amount = parse_amount(answer)
        if amount is None:
            return Problem.INVALID_AMOUNT
        return Screen(Step.PAY_CONFIRM, customer_id, amount_kes=amount)
    elif screen.step is Step.PAY_CONFIRM:
        if answer == "1":
            return Action(ActionKind.PAY, customer_id, amount_kes=screen.amount_kes)
    elif screen.step is Step.PLANS:
        return _on_plans(screen, customer_id, answer, data)
    elif screen.step is Step.PLAN_CONFIRM:
        if answer == "1":
            return Action(ActionKind.CHANGE_PLAN, customer_id, plan_id=screen.plan_id)
    elif screen.step is Step.TICKET:
        if answer in _TICKETS:
            return Action(ActionKind.OPEN_TICKET, customer_id, category=_TICKETS[answer])
    elif screen.step is Step.LANGUAGE and answer in _LANGUAGES:
        return Action(ActionKind.SET_LANGUAGE, customer_id, language=_LANGUAGES[answer])
    return Problem.INVALID_CHOICE


def _on_accounts(screen: Screen, answer: str, data: MenuData) -> Screen | Problem:
    accounts = data.accounts
    _, more = page_of(accounts, screen.page, ACCOUNTS_PER_PAGE)
    if answer == MORE and more:
        return replace(screen, page=screen.page + 1)
    index = _pick(accounts, screen.page, ACCOUNTS_PER_PAGE, answer)
    if index is None:
        return Problem.INVALID_CHOICE
    return Screen(Step.MAIN, accounts[index].customer_id)


def _on_main(customer_id: int, answer: str, data: MenuData) -> Screen | Action | Problem:
    if answer == "4":
        return Action(ActionKind.SEND_DETAILS, customer_id)
    step = _MAIN.get(answer)
    if step is None:
        return Problem.INVALID_CHOICE
    if step is Step.PAY and _status(data, customer_id) == "suspended":
        return Action(ActionKind.SHOW_SUSPENDED, customer_id)
    if step is Step.PLANS and not data.plans(customer_id):
        return Action(ActionKind.SHOW_NO_PLANS, customer_id)
    return Screen(step, customer_id)


def _on_plans(screen: Screen, customer_id: int, answer: str, data: MenuData) -> Screen | Problem:
    plans = data.plans(customer_id)
    _, more = page_of(plans, screen.page, PLANS_PER_PAGE)
    if answer == MORE and more:
        return replace(screen, page=screen.page + 1)
    index = _pick(plans, screen.page, PLANS_PER_PAGE, answer)
    if index is None:
        return Problem.INVALID_CHOICE
    return Screen(Step.PLAN_CONFIRM, customer_id, plan_id=plans[index].plan_id)


def _status(data: MenuData, customer_id: int) -> str | None:
    return next((a.status for a in data.accounts if a.customer_id == customer_id), None)
