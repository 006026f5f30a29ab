"""The menu's state machine on its own (no database): replaying answers, back, home, pages,
wrong answers and answers after a finished session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from core.usecases.selfservice import AccountSummary, PlanChoice
from core.usecases.tickets import TicketCategory
from ussd.menu.walk import (
    MAX_ANSWERS,
    Action,
    ActionKind,
    Problem,
    Screen,
    Step,
    parse_amount,
    split_answers,
    walk,
)


@dataclass
class FakeMenuData:
    accounts: Sequence[AccountSummary]
    plan_lists: dict[int, list[PlanChoice]] = field(default_factory=dict)
    plan_lookups: int = 0

    def plans(self, customer_id: int) -> Sequence[PlanChoice]:
        self.plan_lookups += 1
        return self.plan_lists.get(customer_id, [])


def account(customer_id: int, status: str = "active") -> AccountSummary:
    return AccountSummary(
        customer_id=customer_id,
        account_number=f"MTJ-{customer_id:07d}",
        plan_name="Home 10M",
        next_plan_name=None,
        renewal_plan_name="Home 10M",
        renewal_price_kes=1500,
        renewal_validity_hours=720,
        status=status,
        expires_at=None,
        balance_kes=0,
        amount_to_renew_kes=1500,
    )


def plans(count: int) -> list[PlanChoice]:
    return [PlanChoice(100 + n, f"Plan {n}", 1000 + n, 720) for n in range(count)]


ONE = FakeMenuData([account(1)], {1: plans(5)})
TWO = FakeMenuData([account(1), account(2, "suspended")], {1: plans(2), 2: []})


def answers(text: str) -> list[str]:
    return split_answers(text)


def test_split_answers():
    assert split_answers("") == []
    assert split_answers("1") == ["1"]
    assert split_answers("2*2*1,500") == ["2", "2", "1,500"]
    assert split_answers(" 1 * 2 ") == ["1", "2"]
    assert split_answers("1**2") == ["1", "", "2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Screen(Step.MAIN, 1)),
        ("1", Screen(Step.ACCOUNT, 1)),
        ("2", Screen(Step.PAY, 1)),
        ("2*2", Screen(Step.PAY_AMOUNT, 1)),
        ("2*2*750", Screen(Step.PAY_CONFIRM, 1, amount_kes=750)),
        ("3", Screen(Step.PLANS, 1)),
        ("3*98", Screen(Step.PLANS, 1, page=1)),
        ("3*98*2", Screen(Step.PLAN_CONFIRM, 1, plan_id=104)),
        ("3*2", Screen(Step.PLAN_CONFIRM, 1, plan_id=101)),
        ("5", Screen(Step.TICKET, 1)),
        ("6", Screen(Step.LANGUAGE, 1)),
        ("1*0", Screen(Step.MAIN, 1)),
        ("3*98*0", Screen(Step.PLANS, 1)),
        ("3*98*2*00", Screen(Step.MAIN, 1)),
        ("0*0*0", Screen(Step.MAIN, 1)),
        ("2*2*0*0", Screen(Step.MAIN, 1)),
    ],
)
def test_answers_lead_to_screens(text: str, expected: Screen):
    walked = walk(answers(text), ONE)
    assert (walked.screen, walked.problem, walked.action, walked.ended) == (
        expected,
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2*1", Action(ActionKind.PAY, 1)),
        ("2*2*750*1", Action(ActionKind.PAY, 1, amount_kes=750)),
        ("3*2*1", Action(ActionKind.CHANGE_PLAN, 1, plan_id=101)),
        ("4", Action(ActionKind.SEND_DETAILS, 1)),
        ("5*1", Action(ActionKind.OPEN_TICKET, 1, category=TicketCategory.NO_INTERNET)),
        ("5*2", Action(ActionKind.OPEN_TICKET, 1, category=TicketCategory.SLOW)),
        ("5*3", Action(ActionKind.OPEN_TICKET, 1, category=TicketCategory.OTHER)),
        ("6*1", Action(ActionKind.SET_LANGUAGE, 1, language="en")),
        ("6*2", Action(ActionKind.SET_LANGUAGE, 1, language="sw")),
        ("9*1*0*2*1", Action(ActionKind.PAY, 1)),
    ],
)
def test_finishing_answers_lead_to_actions(text: str, expected: Action):
    assert walk(answers(text), ONE).action == expected


@pytest.mark.parametrize(
    ("text", "problem", "screen"),
    [
        ("7", Problem.INVALID_CHOICE, Screen(Step.MAIN, 1)),
        ("1*1", Problem.INVALID_CHOICE, Screen(Step.ACCOUNT, 1)),
        ("2*2*0500000", Problem.INVALID_AMOUNT, Screen(Step.PAY_AMOUNT, 1)),
        ("2*2*x", Problem.INVALID_AMOUNT, Screen(Step.PAY_AMOUNT, 1)),
        ("3*4", Problem.INVALID_CHOICE, Screen(Step.PLANS, 1)),
        ("3*98*3", Problem.INVALID_CHOICE, Screen(Step.PLANS, 1, page=1)),
        ("3*98*98", Problem.INVALID_CHOICE, Screen(Step.PLANS, 1, page=1)),
        ("5*0*5*9", Problem.INVALID_CHOICE, Screen(Step.TICKET, 1)),
    ],
)
def test_a_wrong_answer_stays_on_the_screen_with_a_problem(
    text: str, problem: Problem, screen: Screen
):
    walked = walk(answers(text), ONE)
    assert (walked.screen, walked.problem, walked.action) == (screen, problem, None)


def test_the_problem_note_is_gone_after_the_next_good_answer():
    assert walk(answers("7*1"), ONE).problem is None


def test_answers_after_a_finishing_answer_end_the_session_without_an_action():
    for text in ("4*1", "2*1*1", "5*1*0", "6*2*00"):
        walked = walk(answers(text), ONE)
        assert walked.ended and walked.action is None


def test_too_many_answers_end_the_session():
    assert walk(["0"] * (MAX_ANSWERS + 1), ONE).ended
    assert not walk(["0"] * MAX_ANSWERS, ONE).ended


def test_several_accounts_start_at_the_chooser():
    assert walk([], TWO).screen == Screen(Step.ACCOUNTS)
    assert walk(["2"], TWO).screen == Screen(Step.MAIN, 2)
    assert walk(["2", "1", "00"], TWO).screen == Screen(Step.MAIN, 2)
    assert walk(["2", "0"], TWO).screen == Screen(Step.ACCOUNTS)
    assert walk(["00"], TWO).screen == Screen(Step.ACCOUNTS)
    assert walk(["3"], TWO).problem is Problem.INVALID_CHOICE


def test_paying_for_a_suspended_account_finishes_with_the_suspended_notice():
    assert walk(["2", "2"], TWO).action == Action(ActionKind.SHOW_SUSPENDED, 2)


def test_no_other_plan_finishes_with_the_notice():
    assert walk(["2", "3"], TWO).action == Action(ActionKind.SHOW_NO_PLANS, 2)


def test_plans_are_looked_up_only_on_paths_that_need_them():
    data = FakeMenuData([account(1)], {1: plans(1)})
    walk(answers("1*0*2*2*500"), data)
    assert data.plan_lookups == 0


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1", 1),
        ("500", 500),
        ("1,500", 1500),
        ("250000", 250_000),
        ("0", None),
        ("-1", None),
        ("250001", None),
        ("1.5", None),
        ("", None),
        ("١٢", None),
        ("99999999", None),
    ],
)
def test_parse_amount(typed: str, amount: int | None):
    assert parse_amount(typed) == amount
