"""The correlation id of the work in hand: an HTTP request's or a queued job's.

Set by the web app's middleware (from a sane ``X-Request-ID``, else a new one) and by the job
consumer (the task's id); every log record carries it, so one request's or job's lines can be
found together.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

current: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# What we accept from a client or proxy: short, and nothing that could forge a log line.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_id() -> str:
    return uuid.uuid4().hex


def accepted(incoming: str | None) -> str:
    """``incoming`` if it is a sane id, else a new one."""
    if incoming is not None and _SANE.fullmatch(incoming):
        return incoming
    return new_id()
