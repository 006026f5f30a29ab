"""``/usage REF [FROM TO]``: the live session, data this period, and a chart of daily usage."""

from __future__ import annotations

from datetime import date

from bot.answers import Answer, Attachment
from bot.chart import usage_chart
from bot.context import Context, PresenceLookup
from bot.parsing import BadArguments, CommandLine
from bot.usage_view import usage_text, usage_title
from core.errors import InvalidInput
from core.lookup import resolve
from core.usage import UsageReport, check_range, default_range, usage_report


def parse_range(words: list[str]) -> tuple[date, date] | None:
    """``YYYY-MM-DD YYYY-MM-DD`` (first and last day, inclusive), none, or BadArguments."""
    if not words:
        return None
    if len(words) != 2:
        raise BadArguments("give both days of the range: YYYY-MM-DD YYYY-MM-DD")
    try:
        first, last = (date.fromisoformat(word) for word in words)
    except ValueError:
        raise BadArguments("days are written YYYY-MM-DD, e.g. 2026-11-01") from None
    try:
        check_range(first, last)
    except InvalidInput as problem:
        raise BadArguments(problem.message) from None
    return first, last


def cmd_usage(ctx: Context, line: CommandLine) -> Answer:
    """The usage of one customer; the router is asked for the live session after a first reply."""
    reference = line.word(0)
    chosen = parse_range(line.words[1:])
    with ctx.uow() as uow:
        customer = resolve(uow, reference)
        first, last = chosen or default_range(uow)
        report = usage_report(uow, customer, first, last)
    lookup = ctx.presence
    if lookup is None:
        return usage_answer(ctx, report, None)

    def with_router() -> Answer:
        return usage_answer(ctx, report, lookup)

    return Answer(
        f"Usage of {report.full_name} ({report.account_number}): asking the router for the live "
        "session…",
        then=with_router,
    )


def usage_answer(ctx: Context, report: UsageReport, lookup: PresenceLookup | None) -> Answer:
    """The text and the chart; ``lookup`` asks the router for the live session when given."""
    presence = lookup(report.customer_id) if lookup is not None else None
    text = usage_text(report, presence, ctx.zone, ctx.now())
    png = usage_chart(report.days, usage_title(report))
    filename = f"usage-{report.account_number}-{report.first}-{report.last}.png"
    return Answer(text, attachment=Attachment(filename, png, "photo"))
