"""Screens never exceed 160 characters, whatever the names in the database; the navigation
lines survive any shortening."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ussd.menu.screens import MAX_SCREEN, fit


def test_a_short_screen_is_unchanged():
    reply = fit(["Kasarani Net", "1. My account"], ["0. Back"], end=False)
    assert reply.body == "CON Kasarani Net\n1. My account\n0. Back"
    assert fit(["Done."], [], end=True).body == "END Done."


def test_the_longest_line_is_shortened_first_and_the_footer_kept():
    long_name = "Super Fast Fibre Unlimited Premium Business Package With Extras"
    lines = ["Choose:", f"1. {long_name}", f"2. {long_name}", f"3. {long_name}"]
    reply = fit(lines, ["98. More", "0. Back"], end=False)
    assert len(reply.body) <= MAX_SCREEN
    assert reply.body.endswith("\n98. More\n0. Back")
    assert reply.body.count("…") >= 1
    assert reply.body.startswith("CON Choose:\n1. Super")


@given(
    lines=st.lists(st.text(min_size=0, max_size=200), max_size=12),
    footer=st.lists(st.text(alphabet="0123456789. BackMore", max_size=10), max_size=3),
    end=st.booleans(),
)
def test_any_screen_fits(lines: list[str], footer: list[str], end: bool):
    reply = fit(lines, footer, end=end)
    assert len(reply.body) <= MAX_SCREEN
    assert reply.body.startswith("END " if end else "CON ")
