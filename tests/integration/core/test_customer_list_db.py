"""The customer list and the payments export on SQLite and PostgreSQL: the same rows, the same
order, balances summed by the database."""

from __future__ import annotations

from datetime import date, timedelta

from core import ledger
from core.actors import Actor
from core.customer_list import BalanceFilter, CustomerFilter, ListStatus, SortKey, list_customers
from core.models import Customer
from core.payment_list import payments_between
from core.testing import TEST_EPOCH
from core.vocabulary import LedgerKind


def _adjust(services, customer_id: int, **values) -> None:
    with services.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        assert customer is not None
        amount = values.pop("balance", None)
        for name, value in values.items():
            setattr(customer, name, value)
        if amount is not None:
            ledger.post(uow, customer, LedgerKind.ADJUSTMENT, amount, "test", Actor.system())
        uow.commit()


def _names(services, staff, **fields) -> list[str]:
    with services.unit_of_work() as uow:
        page = list_customers(uow, staff, CustomerFilter(**fields), limit=10)
    return [row.full_name for row in page.rows]


def test_filters_and_sorts_agree_on_both_databases(isp_db, new_customer, staff) -> None:
    ids = {
        name: new_customer(paid=1500, full_name=name, phone=f"07123456{number:02d}")
        for number, name in enumerate(["zawadi", "Baraka", "amani", "Chebet"])
    }
    _adjust(isp_db, ids["Baraka"], expires_at=TEST_EPOCH + timedelta(days=1))
    _adjust(isp_db, ids["amani"], balance=-2500)
    _adjust(isp_db, ids["Chebet"], status="expired", expires_at=TEST_EPOCH - timedelta(hours=1))
    # Names sort without regard to case, the same on both.
    assert _names(isp_db, staff) == ["amani", "Baraka", "Chebet", "zawadi"]
    assert _names(isp_db, staff, status=ListStatus.EXPIRING) == ["Baraka"]
    assert _names(isp_db, staff, balance=BalanceFilter.DEBT) == ["amani"]
    # Deepest debt first; equal balances in the order they were added.
    assert _names(isp_db, staff, sort=SortKey.BALANCE) == ["amani", "zawadi", "Baraka", "Chebet"]
    assert _names(isp_db, staff, sort=SortKey.EXPIRY)[:2] == ["Chebet", "Baraka"]
    assert _names(
        isp_db, staff, expires_from=date(2026, 11, 23), expires_to=date(2026, 11, 23)
    ) == ["Baraka"]
    with isp_db.unit_of_work() as uow:
        page = list_customers(uow, staff, CustomerFilter(sort=SortKey.BALANCE), limit=2, offset=2)
        lines = payments_between(uow, staff, date(2026, 11, 22), date(2026, 11, 22))
    assert (page.total, [row.balance_kes for row in page.rows]) == (4, [0, 0])
    assert len(lines) == 4 and {line.status for line in lines} == {"matched"}
