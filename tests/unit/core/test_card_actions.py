"""The card's actions by status and role, and the cap on an amount typed by staff."""

from __future__ import annotations

import pytest

from core.actors import Actor
from core.card_actions import card_actions
from core.errors import InvalidInput
from core.ledger import MAX_AMOUNT_KES, parse_amount, parse_fee
from core.vocabulary import Role


def staff(role: Role) -> Actor:
    return Actor.staff(1, "Staff", role)


def test_an_active_customer_offers_suspend_not_unsuspend():
    offered = card_actions("active", staff(Role.ADMIN))
    assert {"suspend", "extend", "pay", "debt", "delete"} <= offered
    assert "unsuspend" not in offered


def test_a_suspended_customer_offers_unsuspend_and_no_debt():
    offered = card_actions("suspended", staff(Role.OWNER))
    assert "unsuspend" in offered
    assert not {"suspend", "debt", "extend"} & offered


def test_an_agent_records_payments_but_manages_nothing():
    offered = card_actions("active", staff(Role.AGENT))
    assert {"pay", "disconnect", "details", "note"} <= offered
    assert not {"suspend", "debt", "plan", "edit", "delete"} & offered


def test_a_viewer_only_looks():
    assert card_actions("active", staff(Role.VIEWER)) == {"history"}


def test_an_amount_above_the_cap_is_refused():
    assert parse_amount(str(MAX_AMOUNT_KES)) == MAX_AMOUNT_KES
    with pytest.raises(InvalidInput, match="at most"):
        parse_amount(str(MAX_AMOUNT_KES + 1))
    with pytest.raises(InvalidInput, match="at most"):
        parse_fee("9" * 30)
