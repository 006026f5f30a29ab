"""Claims of periodic-task slots: which scheduled run of which task has already been started."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, UtcDateTime


class PeriodicRun(Base):
    """One periodic task's run for one slot (its scheduled time floored to its period).

    Every scheduler enqueues every periodic task; the primary key lets only the first run of a
    slot insert its row, so the task's work is done once per slot however many enqueued it.
    """

    __tablename__ = "periodic_runs"

    task_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)
