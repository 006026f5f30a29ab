"""The staff bot: commands parsed and answered without Telegram (``bot.staffbot``), a thin
python-telegram-bot adapter (``bot.telegram``), the webhook route, the staff-chat notifier, and a
local console with the same commands and answers."""
