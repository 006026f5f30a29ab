"""The demo terminal's running commentary: one line per payment, prompt, SMS and router change.

The lines are the INFO records the places that know already log (the M-Pesa, receipt and SMS
jobs, the router converger); while the demo serves, they are printed here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

# Whose INFO lines the demo prints (their warnings reach the terminal anyway).
EVENT_LOGGERS = (
    "jobs.payments",  # STK prompt sent
    "jobs.messages",  # payment received (the staff alert's line), SMS sent
    "routers.reconciler",  # a secret added, enabled, disabled, its profile changed
)


class ConsoleLines(logging.Handler):
    """Prints each record as ``HH:MM:SS message`` on the demo's console."""

    def __init__(self, out: Console) -> None:
        super().__init__(logging.INFO)
        self.out = out
        self.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.out.print(self.format(record), markup=False, highlight=False)
        except Exception:
            self.handleError(record)


@contextmanager
def event_lines(out: Console) -> Iterator[None]:
    """While inside, the events' INFO lines go to ``out``; afterwards, loggers are as they were."""
    handler = ConsoleLines(out)
    loggers = [logging.getLogger(name) for name in EVENT_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
