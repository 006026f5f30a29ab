"""An Entry keeps a menu's managed properties as a tuple (a full reconcile holds 100,000 of
them), and still reads as the properties to set."""

from __future__ import annotations

import pytest

from routers.desired import PPP_SECRET, QUEUE, Entry

SECRET = {
    "name": "amina",
    "password": "s3cret",
    "service": "pppoe",
    "profile": "mteja-1-home-10m",
    "disabled": "false",
    "comment": "mteja:MTJ-0000001",
}


def test_an_entry_gives_back_the_properties_it_was_made_with_and_its_key():
    entry = Entry(PPP_SECRET, SECRET)

    assert entry.attrs == SECRET
    assert entry.key == ("amina",)


def test_an_empty_property_is_one_to_leave_unset():
    entry = Entry(PPP_SECRET, {**SECRET, "remote-address": ""})

    assert "remote-address" not in entry.attrs
    assert entry == Entry(PPP_SECRET, SECRET)


def test_the_order_properties_are_given_in_does_not_matter():
    assert Entry(PPP_SECRET, dict(reversed(SECRET.items()))) == Entry(PPP_SECRET, SECRET)


def test_a_property_mteja_does_not_manage_is_refused():
    with pytest.raises(ValueError, match="burst-limit"):
        Entry(QUEUE, {"name": "mteja-amina", "burst-limit": "1M/1M"})
