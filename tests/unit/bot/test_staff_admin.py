"""/staff: only the owner manages staff; removal asks first."""

from __future__ import annotations


def test_owner_adds_changes_and_removes_staff(chat) -> None:
    owner = chat("owner")
    assert owner.say("/staff add 5005 Mary Wanjiru agent").text == (
        "Mary Wanjiru (5005) may now use the bot as agent."
    )
    assert "5005 Mary Wanjiru · agent" in owner.say("/staff").text
    assert owner.say("/staff role 5005 admin").text == "Mary Wanjiru is now admin."
    prompt = owner.say("/staff remove 5005")
    assert "Remove Telegram user 5005" in prompt.text
    assert owner.press(prompt, "Yes, remove").text == "Mary Wanjiru may no longer use the bot."
    assert "5005" not in owner.say("/staff").text


def test_staff_bad_arguments_and_core_refusals(chat) -> None:
    owner = chat("owner")
    assert owner.say("/staff add nobody Mary agent").text.startswith("Usage: /staff")
    assert owner.say("/staff fire 1003").text.startswith("Usage: /staff")
    assert owner.say("/staff add 5006 Mary boss").text.startswith("⚠️ role must be one of")
    last_owner = owner.press(owner.say("/staff remove 1001"), "Yes, remove")
    assert last_owner.text == "⚠️ the last owner cannot be removed or demoted"
