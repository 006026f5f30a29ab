"""/usage through the real python-telegram-bot adapter and a fake Bot API: a first reply at once,
then the chart as a photo whose caption is the full answer (the router's view included)."""

from __future__ import annotations

VIEWER = 1004


def test_usage_sends_a_reply_then_the_chart_with_the_live_session(
    telegram, bot_app, add_customer
) -> None:
    customer = add_customer(paid=1500)
    telegram.says(VIEWER, f"/usage {customer.account_number}")
    first = telegram.wait_for_messages(VIEWER, 1)
    assert first.text.endswith("asking the router for the live session…")
    chart = telegram.wait_for_messages(VIEWER, 2)
    assert chart.kind == "photo"
    assert chart.content.startswith(b"\x89PNG")
    assert chart.filename is not None and chart.filename.startswith(
        f"usage-{customer.account_number}-"
    )
    assert chart.text.startswith(f"Usage of {customer.full_name} ({customer.account_number})")
    assert "Online now: 10.10.0.2" in chart.text
