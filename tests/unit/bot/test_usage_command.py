"""/usage: the live session with its rate, data this period, totals, and a PNG of daily bars.

Usage rows are written as the sampling job leaves them; the router's answer comes from a lookup
standing in for RouterSync.presence. The chart is checked as a PNG: decoded, and its bars counted
by their colour along a row of pixels just above the axis.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.chart import DOWNLOAD_COLOR, UPLOAD_COLOR, usage_chart, usage_figure
from core.models import DailyUsage, UsagePeriod, UsageReading
from core.testing import TEST_EPOCH
from core.unit_of_work import CoreServices
from core.usage import DayUsage
from core.usecases.plans import PlanSpec, add_plan
from routers.sync import LiveSession, Presence

MB = 1_000_000
TODAY = date(2026, 11, 22)  # TEST_EPOCH is 12:00 in Nairobi


def store_days(services: CoreServices, customer_id: int, days: dict[date, tuple[int, int]]):
    with services.unit_of_work() as uow:
        for day, (down, up) in days.items():
            uow.session.add(
                DailyUsage(customer_id=customer_id, day=day, download_bytes=down, upload_bytes=up)
            )
        uow.commit()


def store_session(services: CoreServices, customer_id: int, **values) -> None:
    now = TEST_EPOCH
    row = {
        "customer_id": customer_id,
        "router_id": 1,
        "session_key": "*5",
        "started_at": now - timedelta(minutes=20),
        "address": "10.10.0.2",
        "uptime_seconds": 900,
        "download_bytes": 100 * MB,
        "upload_bytes": 10 * MB,
        "sampled_at": now - timedelta(minutes=5),
        "previous_download_bytes": 70 * MB,
        "previous_upload_bytes": 7 * MB,
        "previous_sampled_at": now - timedelta(minutes=10),
        "ended_at": None,
    } | values
    with services.unit_of_work() as uow:
        uow.session.add(UsageReading(**row))
        uow.commit()


def live(presence_state: str = "online", **session) -> object:
    def lookup(customer_id: int) -> Presence:
        if presence_state != "online":
            return Presence(
                presence_state, reason="timed out" if presence_state == "unknown" else None
            )
        values = {
            "address": "10.10.0.2",
            "uptime": "20m",
            "bytes_in": 11 * MB,
            "bytes_out": 112 * MB,
            "session_id": "*5",
        } | session
        return Presence("online", LiveSession(**values))

    return lookup


def bars(png: bytes, color: str) -> int:
    """Bars of ``color`` in a chart: runs of that colour along the row just above the axis."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    wanted = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    width, height = image.size
    pixels = image.load()
    rows = [y for y in range(height) if any(pixels[x, y] == wanted for x in range(width))]
    baseline = max(rows) - 1  # the bars stand on the axis; the legend's swatch is far above
    runs, inside = 0, False
    for x in range(width):
        hit = pixels[x, baseline] == wanted
        runs += hit and not inside
        inside = hit
    return runs


def test_usage_answers_first_then_asks_the_router(chat, make_customer, services, staff_bot) -> None:
    customer = make_customer(paid=1500, full_name="Jane Muthoni")
    store_days(
        services,
        customer.id,
        {TODAY - timedelta(days=n): (n * 100 * MB, n * MB) for n in range(1, 4)},
    )
    store_session(services, customer.id)
    asked: list[int] = []
    lookup = live()

    def counting(customer_id: int) -> Presence:
        asked.append(customer_id)
        return lookup(customer_id)

    staff_bot.presence = counting
    answer = chat("viewer").say(f"/usage {customer.account_number}")
    assert answer.text.endswith("asking the router for the live session…")
    assert asked == [] and answer.then is not None
    full = answer.then()
    assert asked == [customer.id]
    lines = full.text.splitlines()
    assert lines[0] == f"Usage of Jane Muthoni ({customer.account_number})"
    assert lines[1] == "Online now: 10.10.0.2 · since 2026-11-22 11:40 (20m)"
    # From the last stored sample of this session (5 minutes ago) to the router's answer now.
    assert lines[2] == "  rate 320 kbit/s down, 27 kbit/s up"
    assert lines[3] == "  this session 112 MB down, 11 MB up"
    assert "2026-10-24 to 2026-11-22: 600 MB down, 6 MB up" in full.text
    assert "Busiest day: 2026-11-19 (303 MB)" in full.text
    assert full.attachment is not None and full.attachment.kind == "photo"
    assert full.attachment.filename == f"usage-{customer.account_number}-2026-10-24-2026-11-22.png"
    image = Image.open(io.BytesIO(full.attachment.content))
    assert (image.format, image.size) == ("PNG", (900, 450))


def test_a_session_newer_than_the_samples_is_rated_since_it_began(
    chat, make_customer, services, staff_bot
) -> None:
    customer = make_customer(paid=1500)
    store_session(services, customer.id, session_key="*4")  # the previous session's
    staff_bot.presence = live(uptime="1m40s", bytes_out=25 * MB, bytes_in=MB)
    text = chat("viewer").say(f"/usage {customer.username}").then().text
    assert "  rate 2 Mbit/s down, 80 kbit/s up" in text


def test_a_customer_without_a_session_is_told_plainly(chat, make_customer, services, staff_bot):
    customer = make_customer(paid=1500)
    store_session(services, customer.id, ended_at=TEST_EPOCH - timedelta(minutes=3))
    staff_bot.presence = live("offline")
    text = chat("viewer").say(f"/usage {customer.username}").then().text
    assert text.splitlines()[1] == (
        "Not online: no live session right now (last session seen until 2026-11-22 11:57)."
    )


def test_without_the_router_the_last_sample_is_shown(
    chat, make_customer, services, staff_bot
) -> None:
    customer = make_customer(paid=1500)
    store_session(services, customer.id)
    staff_bot.presence = live("unknown")
    lines = chat("viewer").say(f"/usage {customer.username}").then().text.splitlines()
    assert lines[1] == "Router not answering (timed out)."
    assert lines[2] == (
        "Online at the last sample (2026-11-22 11:55): 10.10.0.2 · since 2026-11-22 11:40 (15m)"
    )
    assert lines[3] == "  rate 800 kbit/s down, 80 kbit/s up"


def test_a_range_of_days_and_its_chart(chat, make_customer, services, staff_bot) -> None:
    customer = make_customer(paid=1500)
    first = date(2026, 11, 1)
    store_days(
        services, customer.id, {first + timedelta(days=n): (500 * MB, 200 * MB) for n in range(7)}
    )
    store_days(services, customer.id, {date(2026, 11, 8): (900 * MB, 0)})  # outside the range
    staff_bot.presence = live("offline")
    full = chat("viewer").say(f"/usage {customer.username} 2026-11-01 2026-11-07").then()
    assert "2026-11-01 to 2026-11-07: 3.5 GB down, 1.4 GB up" in full.text
    assert full.attachment is not None
    assert bars(full.attachment.content, DOWNLOAD_COLOR) == 7
    assert bars(full.attachment.content, UPLOAD_COLOR) == 7


def test_the_30_day_chart_has_two_bars_a_day() -> None:
    days = [
        DayUsage(TODAY - timedelta(days=29 - n), (n + 5) * 40 * MB, (n + 5) * 10 * MB)
        for n in range(30)
    ]
    png = usage_chart(days, "30 days")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert bars(png, DOWNLOAD_COLOR) == 30 and bars(png, UPLOAD_COLOR) == 30
    axes = usage_figure(days, "30 days").axes[0]
    download, upload = axes.containers
    assert len(download) == len(upload) == 30
    assert [bar.get_height() for bar in download] == [day.download_bytes / MB for day in days]


@pytest.mark.parametrize(
    ("words", "hint"),
    [
        ("2026-11-01", "give both days of the range: YYYY-MM-DD YYYY-MM-DD"),
        ("2026-11-01 2026-13-01", "days are written YYYY-MM-DD, e.g. 2026-11-01"),
        ("2026-11-07 2026-11-01", "the range starts after it ends (2026-11-07 > 2026-11-01)"),
        ("2024-01-01 2026-11-01", "a range is at most 366 days"),
        ("2026-11-01 2026-11-02 2026-11-03", "give both days of the range: YYYY-MM-DD YYYY-MM-DD"),
    ],
)
def test_bad_ranges_get_the_usage_line(chat, make_customer, words: str, hint: str) -> None:
    customer = make_customer()
    answer = chat("viewer").say(f"/usage {customer.username} {words}")
    assert answer.text == f"Usage: /usage REF [YYYY-MM-DD YYYY-MM-DD]\n{hint}"
    assert answer.attachment is None and answer.then is None


def test_usage_without_a_customer_gets_the_usage_line(chat) -> None:
    assert chat("viewer").say("/usage").text == "Usage: /usage REF [YYYY-MM-DD YYYY-MM-DD]"
    assert chat("viewer").say("/usage nobody").text.startswith("⚠️")


def test_a_static_customers_queue_is_shown_with_how_the_router_knows_they_are_online(
    chat, make_customer, services, staff_bot
) -> None:
    customer = make_customer(paid=6000, connection_type="static", plan="Biz 50M")
    store_session(services, customer.id, session_key="*7", uptime_seconds=0)
    signal = "ARP entry complete (02:AA:00:00:00:07 on bridge-customers)"

    def lookup(customer_id: int) -> Presence:
        session = LiveSession("10.10.0.2", None, 11 * MB, 112 * MB, "*7")
        return Presence("online", session, signal)

    staff_bot.presence = lookup
    answer = chat("viewer").say(f"/usage {customer.account_number}")
    assert answer.then is not None  # the router is asked, as for a PPPoE customer
    lines = answer.then().text.splitlines()
    assert lines[1] == f"Online now: 10.10.0.2 ({signal})"
    assert lines[2] == "  rate 320 kbit/s down, 27 kbit/s up"
    assert lines[3] == "  queue counters 112 MB down, 11 MB up"

    staff_bot.presence = live("offline")
    lines = chat("viewer").say(f"/usage {customer.account_number}").then().text.splitlines()
    assert lines[1] == "Not online."


def test_the_period_against_the_cap_and_the_throttle(
    chat, make_customer, services, staff, staff_bot
) -> None:
    with services.unit_of_work() as uow:
        add_plan(
            uow,
            staff,
            PlanSpec("Capped 50G", "pppoe", 1000, "10M", "5M", 30, None, 50_000, "1M"),
        )
        uow.commit()
    customer = make_customer(paid=1000, plan="Capped 50G")
    with services.unit_of_work() as uow:
        period = uow.session.get(UsagePeriod, customer.id)
        period.download_bytes, period.upload_bytes = 48_000 * MB, 3_000 * MB
        uow.session.get(type(customer), customer.id).data_capped_at = TEST_EPOCH
        uow.commit()
    staff_bot.presence = live("offline")
    text = chat("viewer").say(f"/usage {customer.username}").then().text
    assert (
        "This period (since 2026-11-22 12:00): 51 GB of 50 GB (102%) · THROTTLED to 1M down / 1M up"
    ) in text
    assert "Cap reached 2026-11-22 12:00; lifted at renewal." in text
    card = chat("viewer").say(f"/c {customer.username}")
    assert "Data this period: 51 GB of 50 GB (102%) · THROTTLED to 1M down / 1M up" in card.text


def test_help_lists_usage_for_every_role(chat) -> None:
    assert "/usage REF [YYYY-MM-DD YYYY-MM-DD]" in chat("viewer").say("/help").text


def test_a_router_that_prints_no_session_counters_shows_the_last_samples(
    chat, make_customer, services, staff_bot
) -> None:
    # A real RouterOS keeps a PPP session's bytes on its interface, not in /ppp/active.
    customer = make_customer(paid=1500)
    store_session(services, customer.id)
    staff_bot.presence = live(bytes_in=None, bytes_out=None)
    lines = chat("viewer").say(f"/usage {customer.username}").then().text.splitlines()
    assert lines[1] == "Online now: 10.10.0.2 · since 2026-11-22 11:40 (20m)"
    assert lines[2] == "  rate 800 kbit/s down, 80 kbit/s up"
    assert lines[3] == "  this session 100 MB down, 10 MB up"


def test_the_console_prints_the_full_answer_and_saves_the_chart(
    staff_bot, make_customer, tmp_path
) -> None:
    from bot.console import Console
    from bot.staffbot import Caller

    customer = make_customer(paid=1500)
    staff_bot.presence = live("offline")
    written: list[str] = []
    Console(staff_bot, Caller(1004), written.append, tmp_path).handle(
        f"/usage {customer.account_number}"
    )
    assert written[0].splitlines()[1] == "Not online: no live session right now."
    (saved,) = tmp_path.glob("usage-*.png")
    assert written[1] == f"(saved photo to {saved})"
    assert saved.read_bytes().startswith(b"\x89PNG")
