"""The text of ``/usage`` (also printed by ``mteja customer usage``): the session, the period
against the cap, and the range's totals. The chart is ``bot.chart.usage_chart``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.display import bit_rate, data_amount, duration_text, local_time
from core.usage import SessionView, UsageReport, period_summary, session_view
from core.vocabulary import ConnectionType
from routers.sync import Presence
from routers.usage import live_counters

NOT_CHECKED = "not checked here"


def usage_title(report: UsageReport) -> str:
    return f"{report.full_name} ({report.account_number}) · {report.first} to {report.last}"


def usage_text(
    report: UsageReport, presence: Presence | None, zone: ZoneInfo, now: datetime
) -> str:
    """``presence`` is the router's answer now, or None when it was not asked."""
    lines = [f"Usage of {report.full_name} ({report.account_number})"]
    lines += _session_lines(report, presence, zone, now)
    period = report.period
    if period.cap_bytes is not None or period.started_at is not None:
        since = f" (since {local_time(period.started_at, zone)})" if period.started_at else ""
        lines.append(f"This period{since}: {period_summary(period)}")
        if period.capped_at is not None:
            lines.append(f"Cap reached {local_time(period.capped_at, zone)}; lifted at renewal.")
    lines.append(
        f"{report.first} to {report.last}: {data_amount(report.download_bytes)} down, "
        f"{data_amount(report.upload_bytes)} up"
    )
    busiest = max(report.days, key=lambda day: day.download_bytes + day.upload_bytes)
    if busiest.download_bytes + busiest.upload_bytes:
        total = data_amount(busiest.download_bytes + busiest.upload_bytes)
        lines.append(f"Busiest day: {busiest.day} ({total})")
    return "\n".join(lines)


def _session_lines(
    report: UsageReport, presence: Presence | None, zone: ZoneInfo, now: datetime
) -> list[str]:
    if report.connection_type == ConnectionType.STATIC:
        return _static_lines(report, presence, zone, now)
    stored = report.stored_session
    live = live_counters(presence, now) if presence is not None else None
    if presence is not None and presence.state == "offline":
        ended = ""
        if stored is not None and stored.ended_at is not None:
            ended = f" (last session seen until {local_time(stored.ended_at, zone)})"
        return [f"Not online: no live session right now{ended}."]
    view = session_view(stored, live)
    if presence is None:
        heading = f"Live session: {NOT_CHECKED}."
    elif presence.state == "unknown":
        heading = f"Router not answering ({presence.reason or 'no reason given'})."
    else:
        heading = ""
    if view is None:
        return [heading, "No session recorded by the last usage sample."] if heading else []
    lines = [heading] if heading else []
    lines += _view_lines(view, zone, now)
    return lines


def _static_lines(
    report: UsageReport, presence: Presence | None, zone: ZoneInfo, now: datetime
) -> list[str]:
    """A static customer's "session" is their simple queue: its counters run from when the queue
    was made (or reset), not from when the device came up, so no "since" is shown."""
    if presence is not None and presence.state == "offline":
        return [f"Not online ({presence.reason})." if presence.reason else "Not online."]
    live = live_counters(presence, now) if presence is not None else None
    view = session_view(report.stored_session, live)
    if presence is None:
        lines = [f"Online: {NOT_CHECKED}."]
    elif presence.state == "unknown":
        lines = [f"Router not answering ({presence.reason or 'no reason given'})."]
    else:
        session = presence.session
        where = session.address if session is not None and session.address else "no address"
        lines = [f"Online now: {where}" + (f" ({presence.reason})" if presence.reason else "")]
    if view is None:
        return [*lines, "No queue counters recorded by the last usage sample."]
    if not view.live:
        lines.append(f"  as of the last sample ({local_time(view.as_of, zone)})")
    lines += _view_lines(view, zone, now)[1:]
    return [line.replace("this session", "queue counters") for line in lines]


def _view_lines(view: SessionView, zone: ZoneInfo, now: datetime) -> list[str]:
    where = view.address or "no address"
    if view.live:
        head = f"Online now: {where}"
    else:
        head = f"Online at the last sample ({local_time(view.as_of, zone)}): {where}"
    if view.started_at is not None:
        head += (
            f" · since {local_time(view.started_at, zone)} "
            f"({duration_text(view.as_of - view.started_at)})"
        )
    lines = [head]
    if view.rate is not None:
        lines.append(f"  rate {bit_rate(view.rate.download)} down, {bit_rate(view.rate.upload)} up")
    else:
        lines.append("  rate: not enough samples yet")
    if view.download_bytes is not None and view.upload_bytes is not None:
        lines.append(
            f"  this session {data_amount(view.download_bytes)} down, "
            f"{data_amount(view.upload_bytes)} up"
        )
    return lines
