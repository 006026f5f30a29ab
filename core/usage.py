"""Read models of data usage: daily totals over a range of local days, this period against the
plan's cap, and a session's figures with its current rate (for ``/usage`` and the card).

Byte counts are the customer's (download = what reached them). Days are local
(``uow.config.timezone``), as the sampling job files them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from core.display import data_amount, speed
from core.errors import InvalidInput
from core.models import Customer, DailyUsage, UsagePeriod, UsageReading
from core.unit_of_work import UnitOfWork

DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366
# Two readings closer than this give a rate too noisy to show.
MIN_RATE_SECONDS = 10.0


@dataclass(frozen=True)
class DayUsage:
    """One local day's bytes."""

    day: date
    download_bytes: int
    upload_bytes: int


@dataclass(frozen=True)
class PeriodUsage:
    """Data used since the last renewal, against the plan's cap (None: no cap)."""

    started_at: datetime | None
    download_bytes: int
    upload_bytes: int
    cap_bytes: int | None
    capped_at: datetime | None
    throttle_download: str | None
    throttle_upload: str | None

    @property
    def used_bytes(self) -> int:
        return self.download_bytes + self.upload_bytes

    @property
    def percent_of_cap(self) -> int | None:
        """Whole percent of the cap used (may pass 100), or None without a cap."""
        if not self.cap_bytes:
            return None
        return self.used_bytes * 100 // self.cap_bytes

    @property
    def throttled(self) -> bool:
        """Over the cap and slowed down (rather than blocked)."""
        return self.capped_at is not None and self.throttle_download is not None


@dataclass(frozen=True)
class CounterReading:
    """A session's counters at one instant."""

    at: datetime
    download_bytes: int
    upload_bytes: int


@dataclass(frozen=True)
class Rate:
    """Bytes per second each way."""

    download: float
    upload: float


@dataclass(frozen=True)
class StoredSession:
    """The last sample of the customer's session (and the one before, when the same session)."""

    session_key: str
    started_at: datetime
    address: str | None
    last: CounterReading
    previous: CounterReading | None
    ended_at: datetime | None


@dataclass(frozen=True)
class LiveCounters:
    """What the router says of the session right now (None: it did not say)."""

    session_key: str | None
    address: str | None
    uptime_seconds: int | None
    download_bytes: int | None
    upload_bytes: int | None
    read_at: datetime


@dataclass(frozen=True)
class SessionView:
    """The session as ``/usage`` shows it: live from the router, or as last sampled."""

    live: bool
    address: str | None
    started_at: datetime | None
    as_of: datetime
    download_bytes: int | None
    upload_bytes: int | None
    rate: Rate | None


@dataclass(frozen=True)
class UsageReport:
    """Everything ``/usage`` shows apart from the router's live answer."""

    customer_id: int
    account_number: str
    full_name: str
    connection_type: str
    first: date
    last: date
    days: list[DayUsage]
    period: PeriodUsage
    stored_session: StoredSession | None

    @property
    def download_bytes(self) -> int:
        return sum(day.download_bytes for day in self.days)

    @property
    def upload_bytes(self) -> int:
        return sum(day.upload_bytes for day in self.days)


def default_range(uow: UnitOfWork, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The last ``days`` local days, today included."""
    today = uow.clock.now().astimezone(uow.config.timezone).date()
    return today - timedelta(days=days - 1), today


def check_range(first: date, last: date) -> None:
    """InvalidInput unless ``first`` is not after ``last`` and the range is at most a year."""
    if first > last:
        raise InvalidInput(f"the range starts after it ends ({first} > {last})")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(f"a range is at most {MAX_RANGE_DAYS} days")


def daily_usage(uow: UnitOfWork, customer_id: int, first: date, last: date) -> list[DayUsage]:
    """Every day from ``first`` to ``last`` (inclusive), days without traffic as zero."""
    check_range(first, last)
    stored = {
        row.day: row
        for row in uow.session.scalars(
            select(DailyUsage).where(
                DailyUsage.customer_id == customer_id,
                DailyUsage.day >= first,
                DailyUsage.day <= last,
            )
        )
    }
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        row = stored.get(day)
        days.append(
            DayUsage(day, row.download_bytes, row.upload_bytes)
            if row is not None
            else DayUsage(day, 0, 0)
        )
    return days


def period_usage(uow: UnitOfWork, customer: Customer) -> PeriodUsage:
    """This period's usage of ``customer`` against their plan's cap."""
    period = uow.session.get(UsagePeriod, customer.id)
    plan = customer.plan
    return PeriodUsage(
        started_at=period.started_at if period else None,
        download_bytes=period.download_bytes if period else 0,
        upload_bytes=period.upload_bytes if period else 0,
        cap_bytes=plan.data_cap_bytes,
        capped_at=customer.data_capped_at if plan.data_cap_mb is not None else None,
        throttle_download=plan.throttle_download,
        throttle_upload=plan.throttle_upload,
    )


def stored_session(uow: UnitOfWork, customer_id: int) -> StoredSession | None:
    """The customer's last sampled session, or None if none was ever sampled."""
    row = uow.session.get(UsageReading, customer_id)
    if row is None:
        return None
    previous = (
        CounterReading(
            row.previous_sampled_at, row.previous_download_bytes, row.previous_upload_bytes
        )
        if row.previous_sampled_at is not None
        and row.previous_download_bytes is not None
        and row.previous_upload_bytes is not None
        else None
    )
    return StoredSession(
        session_key=row.session_key,
        started_at=row.started_at,
        address=row.address,
        last=CounterReading(row.sampled_at, row.download_bytes, row.upload_bytes),
        previous=previous,
        ended_at=row.ended_at,
    )


def usage_report(
    uow: UnitOfWork, customer: Customer, first: date | None = None, last: date | None = None
) -> UsageReport:
    """``customer``'s usage over ``first``..``last`` (default: the last 30 days)."""
    if first is None or last is None:
        first, last = default_range(uow)
    return UsageReport(
        customer_id=customer.id,
        account_number=customer.account_number,
        full_name=customer.full_name,
        connection_type=customer.connection_type,
        first=first,
        last=last,
        days=daily_usage(uow, customer.id, first, last),
        period=period_usage(uow, customer),
        stored_session=stored_session(uow, customer.id),
    )


def current_rate(
    readings: Sequence[CounterReading], min_seconds: float = MIN_RATE_SECONDS
) -> Rate | None:
    """The rate between the newest reading and the latest one at least ``min_seconds`` older
    whose counters are not above it; None without such a pair."""
    ordered = sorted(readings, key=lambda reading: reading.at)
    if not ordered:
        return None
    newest = ordered[-1]
    for older in reversed(ordered[:-1]):
        seconds = (newest.at - older.at).total_seconds()
        if seconds < min_seconds:
            continue
        if older.download_bytes > newest.download_bytes or older.upload_bytes > newest.upload_bytes:
            continue
        return Rate(
            (newest.download_bytes - older.download_bytes) / seconds,
            (newest.upload_bytes - older.upload_bytes) / seconds,
        )
    return None


def session_view(stored: StoredSession | None, live: LiveCounters | None) -> SessionView | None:
    """The session to show: the router's live answer when there is one, with the rate over it and
    the stored samples of the same session (or since the session began); otherwise the last
    sample, if that session had not ended. None when there is no session to show."""
    if live is not None:
        return _live_view(stored, live)
    if stored is None or stored.ended_at is not None:
        return None
    readings = [CounterReading(stored.started_at, 0, 0), stored.last]
    if stored.previous is not None:
        readings.append(stored.previous)
    return SessionView(
        live=False,
        address=stored.address,
        started_at=stored.started_at,
        as_of=stored.last.at,
        download_bytes=stored.last.download_bytes,
        upload_bytes=stored.last.upload_bytes,
        rate=current_rate(readings),
    )


def _live_view(stored: StoredSession | None, live: LiveCounters) -> SessionView:
    started = (
        live.read_at - timedelta(seconds=live.uptime_seconds)
        if live.uptime_seconds is not None
        else None
    )
    same = stored is not None and stored.session_key == live.session_key
    samples = (
        [r for r in (stored.last, stored.previous) if r is not None and r.at <= live.read_at]
        if stored is not None and same
        else []
    )
    if same and stored is not None:
        started = started or stored.started_at
    readings = [CounterReading(started, 0, 0)] if started is not None else []
    download, upload = live.download_bytes, live.upload_bytes
    if download is not None and upload is not None:
        readings.append(CounterReading(live.read_at, download, upload))
    elif samples:
        # The router printed no counters for the session (a PPP session on RouterOS keeps them
        # on its interface): the last sample's figures stand in.
        download, upload = samples[0].download_bytes, samples[0].upload_bytes
    else:
        readings = []
    return SessionView(
        live=True,
        address=live.address,
        started_at=started,
        as_of=live.read_at,
        download_bytes=download,
        upload_bytes=upload,
        rate=current_rate(readings + samples),
    )


def period_summary(period: PeriodUsage) -> str:
    """``12.3 GB of 50 GB (24%)``, with ``THROTTLED to 1M down / 512k up`` or ``BLOCKED`` once
    the cap is reached; ``12.3 GB (no cap)`` for a plan without one."""
    used = data_amount(period.used_bytes)
    if period.cap_bytes is None:
        return f"{used} (no cap)"
    text = f"{used} of {data_amount(period.cap_bytes)} ({period.percent_of_cap}%)"
    if period.capped_at is None:
        return text
    download, upload = period.throttle_download, period.throttle_upload
    if period.throttled and download is not None and upload is not None:
        return f"{text} · THROTTLED to {speed(download, upload)}"
    return f"{text} · BLOCKED: cap reached"
