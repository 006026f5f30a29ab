"""Logging for the long-running roles: text for people or JSON lines for log shippers
(MTEJA_LOG_FORMAT), every record carrying the correlation id of the request or job it belongs
to (``core.correlation``)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from core import correlation

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s"


class CorrelationFilter(logging.Filter):
    """Adds ``correlation_id`` to every record ("-" outside a request or job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = correlation.current.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation_id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": _correlation_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _correlation_of(record: logging.LogRecord) -> str | None:
    value = getattr(record, "correlation_id", None)
    return None if value in (None, "-") else str(value)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes, not the one there was when the
    handler was made (a command run in-process, by a test or a tool, may swap and close it);
    a stream set on it (``setStream``) is kept."""

    _fixed: Any = None

    @property
    def stream(self) -> Any:
        return self._fixed if self._fixed is not None else sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        self._fixed = None if value is sys.stderr else value


def log_handler(log_format: str) -> logging.Handler:
    """A stderr handler in ``log_format`` ("json" or "text") that adds the correlation id."""
    handler = _CurrentStderr()
    handler.addFilter(CorrelationFilter())
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    return handler


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send every log record (uvicorn's and huey's included) to one handler on the root logger,
    replacing any handler set before."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(log_handler(log_format))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "huey"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
