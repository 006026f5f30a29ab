"""The demo terminal prints one line per event while it serves, and nothing after."""

from __future__ import annotations

import io
import logging

from rich.console import Console

from mteja.demo_log import EVENT_LOGGERS, event_lines


def test_an_event_logged_while_serving_is_one_line_on_the_demo_console() -> None:
    screen = io.StringIO()
    out = Console(file=screen, width=200)
    billing = logging.getLogger("jobs.messages")
    before = billing.level
    with event_lines(out):
        billing.info("payment credited: KES %s to %s (%s %s)", "2,500", "MTJ-4K7Q2D9", "mpesa", "X")
    billing.info("after the demo stopped: not printed")
    lines = screen.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(" payment credited: KES 2,500 to MTJ-4K7Q2D9 (mpesa X)")
    assert billing.level == before
    assert all(not logging.getLogger(name).handlers for name in EVENT_LOGGERS)
