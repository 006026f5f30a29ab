"""/free and the free addresses of /add's IP step (16.6). The pool is 10.10.0.0/28."""

from __future__ import annotations

from core.usecases.network import add_pool, set_plan_pools


def test_free_lists_a_pools_free_addresses(chat, make_customer) -> None:
    make_customer()
    answer = chat("viewer").say("/free 10.10.0.0/28")
    lines = answer.text.splitlines()
    assert lines[0] == "12 free in 10.10.0.0/28 (core-1:10.10.0.0/28):"
    assert lines[1:3] == ["10.10.0.3", "10.10.0.4"]
    assert len(lines) == 13


def test_free_within_a_prefix_and_bad_input(chat, services, staff) -> None:
    with services.unit_of_work() as uow:
        add_pool(uow, staff, "core-1", "10.20.0.0/16")
        uow.commit()
    viewer = chat("viewer")
    answer = viewer.say("/free core-1:10.20.0.0/16 10.20.7")
    lines = answer.text.splitlines()
    assert lines[0] == "256 free in 10.20.7.0/24 (core-1:10.20.0.0/16):"
    assert lines[1] == "10.20.7.0" and lines[-1].startswith("…more: narrow it")
    assert viewer.say("/free 10.20.0.0/16 10.21").text == (
        "⚠️ 10.21 is outside the pool 10.20.0.0/16"
    )
    assert "/free POOL [PREFIX]" in viewer.say("/free").text


def test_add_offers_free_addresses_and_searches_a_typed_prefix(
    chat, services, staff, button_labels, read_customer
) -> None:
    with services.unit_of_work() as uow:
        add_pool(uow, staff, "core-1", "10.20.0.0/16")
        set_plan_pools(uow, staff, "Home 20M", ["10.20.0.0/16"])
        uow.commit()
    admin = chat("admin")
    answer = admin.press(admin.press(admin.say("/add"), "PPPoE"), "Home 20M")
    answer = admin.press(answer, "core-1")
    assert answer.text.startswith("IP address?")
    # Home 20M names its pool: only addresses of 10.20.0.0/16 are offered.
    assert button_labels(answer)[:3] == ["10.20.0.2", "10.20.0.3", "10.20.0.4"]
    assert "Pick automatically" in button_labels(answer)
    answer = admin.say("10.20.9")
    assert button_labels(answer)[:2] == ["10.20.9.0", "10.20.9.1"]
    bad = admin.say("10.30")
    assert bad.text.startswith("10.30 is in none of the pools offered on core-1")
    answer = admin.press(answer, "10.20.9.1")
    assert answer.text.startswith("Full name?")
