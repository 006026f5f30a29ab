"""The staff list as the web console shows it: who has a web password, without its hash."""

from __future__ import annotations

from core.usecases.staff import add_staff, remove_staff
from core.usecases.staff_access import set_password, staff_roster


def test_the_roster_lists_active_staff_by_name_and_who_has_a_password(run, services, staff):
    run(add_staff, staff, 20, "Zawadi Agent", "agent")
    run(add_staff, staff, 21, "Baraka Admin", "admin")
    run(add_staff, staff, 22, "Gone Viewer", "viewer")
    run(set_password, staff, "Zawadi", "a-long-password")
    run(remove_staff, staff, 22)
    with services.unit_of_work() as uow:
        roster = staff_roster(uow)
    assert [(e.name, e.role, e.has_password) for e in roster] == [
        ("Baraka Admin", "admin", False),
        ("Zawadi Agent", "agent", True),
    ]
    assert roster[0].telegram_user_id == 21 and roster[0].since is not None
    assert not hasattr(roster[1], "password_hash")
