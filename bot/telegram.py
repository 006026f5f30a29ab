"""The python-telegram-bot adapter: updates in, the command layer's answers out.

Thin on purpose: every decision is the command layer's (``bot.staffbot``). Here an update becomes a
call (run in a worker thread, since core is synchronous), and an Answer becomes a message, an
edit, a photo or a document. Slow follow-ups (the router's view on a card, an import's rows) run
as background tasks of the application, so one staff member's import never holds up another's
command. One error handler logs what went wrong and tells the chat; every button press is
answered.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.access import COMMANDS
from bot.answers import Answer, Job
from bot.importer import MAX_BYTES
from bot.limits import CAPTION_LIMIT, DEFAULT_BASE_URL, TEXT_LIMIT, chunks
from bot.staffbot import Caller, StaffBot

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong; it has been logged. Try again, or tell the owner."
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
FINAL_EDIT_ATTEMPTS = 3


def file_url_for(base_url: str) -> str:
    """The Bot API file root that goes with ``base_url`` (``…/bot`` → ``…/file/bot``)."""
    root = base_url.rstrip("/")
    if root.endswith("/bot"):
        return root[: -len("/bot")] + "/file/bot"
    return root + "/file/bot"


def build_application(
    staff_bot: StaffBot,
    token: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The python-telegram-bot Application for ``staff_bot``; nothing is contacted until it is
    initialized (by ``run_polling``, or the web app's lifespan for webhooks)."""
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url_for(base_url))
        .post_init(_publish_commands)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    front = TelegramFront(staff_bot)
    private_or_group = filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private_or_group & filters.Document.ALL, front.on_file))
    application.add_handler(MessageHandler(private_or_group & filters.TEXT, front.on_text))
    application.add_handler(CallbackQueryHandler(front.on_press))
    application.add_error_handler(front.on_error)
    return application


async def _publish_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Show the commands in Telegram's menu (every role sees all; the bot refuses by role)."""
    commands = [BotCommand(spec.name, spec.summary[:256]) for spec in COMMANDS.values()]
    await application.bot.set_my_commands(commands)


def caller_of(user: User | None, chat: Chat | None = None) -> Caller:
    """Who sent an update, and in which chat (a conversation belongs to both)."""
    chat_id = chat.id if chat is not None else 0
    if user is None:
        return Caller(0, "unknown", chat_id)
    name = user.full_name + (f" @{user.username}" if user.username else "")
    return Caller(user.id, name, chat_id)


def keyboard(answer: Answer) -> InlineKeyboardMarkup | None:
    if not answer.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
            for row in answer.buttons
        ]
    )


Context = ContextTypes.DEFAULT_TYPE


class TelegramFront:
    """The handlers: each turns an update into a command-layer call and shows the answer."""

    def __init__(self, staff_bot: StaffBot) -> None:
        self.staff_bot = staff_bot

    async def on_text(self, update: Update, context: Context) -> None:
        """A message: a command or an answer to a question of /add."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        caller = caller_of(update.effective_user, update.effective_chat)
        answer = await asyncio.to_thread(self.staff_bot.text, caller, message.text)
        shown = await send(message.get_bot(), message.chat_id, answer)
        self._follow_up(context, update, shown, answer)

    async def on_press(self, update: Update, context: Context) -> None:
        """A button press: answer the query, then edit the message or send a new one."""
        query = update.callback_query
        if query is None:
            return
        caller = caller_of(query.from_user, update.effective_chat)
        answer = await asyncio.to_thread(self.staff_bot.press, caller, query.data or "")
        try:
            await query.answer(answer.toast)
        except BadRequest as failure:
            # A press older than Telegram keeps queries for (the bot was down): show the answer.
            log.info("could not answer button press %s: %s", query.id, failure)
        message = query.message if isinstance(query.message, Message) else None
        shown: Message | None
        if answer.edit and message is not None:
            shown = await edit(message, answer)
        elif update.effective_chat is not None:
            shown = await send(query.get_bot(), update.effective_chat.id, answer)
        else:
            shown = None
        self._follow_up(context, update, shown, answer)

    async def on_file(self, update: Update, context: Context) -> None:
        """A document: the CSV of an /import."""
        message = update.effective_message
        if message is None or message.document is None:
            return
        caller = caller_of(update.effective_user, update.effective_chat)
        caption = message.caption or ""
        refusal = await asyncio.to_thread(self.staff_bot.refuse_document, caller, caption)
        if refusal is not None:
            await send(message.get_bot(), message.chat_id, refusal)
            return
        document = message.document
        name = document.file_name or "customers.csv"
        if document.file_size is not None and document.file_size > MAX_BYTES:
            too_big = Answer(f"Cannot import {name}: the file is larger than 2 MB.")
            await send(message.get_bot(), message.chat_id, too_big)
            return
        file = await document.get_file()
        content = bytes(await file.download_as_bytearray())
        answer = await asyncio.to_thread(self.staff_bot.document, caller, name, content, caption)
        shown = await send(message.get_bot(), message.chat_id, answer)
        self._follow_up(context, update, shown, answer)

    async def on_error(self, update: object, context: Context) -> None:
        """The one error handler: log the failure, answer a pending press, tell the chat."""
        log.error("error while handling %s", update, exc_info=context.error)
        if not isinstance(update, Update):
            return
        try:
            if update.callback_query is not None:
                await update.callback_query.answer("Something went wrong.")
        except TelegramError:
            pass  # already answered, or too old to answer
        if update.effective_chat is not None:
            try:
                await context.bot.send_message(update.effective_chat.id, SORRY)
            except TelegramError as failure:
                log.warning("could not tell the chat about the error: %s", failure)

    def _follow_up(
        self, context: Context, update: Update, shown: Message | None, answer: Answer
    ) -> None:
        """Start the slower parts of an answer in the background, on the message just shown."""
        if shown is None:
            return
        if answer.then is not None:
            context.application.create_task(refresh(shown, answer.then), update=update)
        if answer.job is not None:
            context.application.create_task(run_job(shown, answer.job), update=update)


async def send(bot: Any, chat_id: int, answer: Answer) -> Message | None:
    """Send ``answer`` as new message(s); returns the one carrying the buttons."""
    markup = keyboard(answer)
    attachment = answer.attachment
    if attachment is not None:
        caption = answer.text if len(answer.text) <= CAPTION_LIMIT else None
        if caption is None and answer.text:
            await send(bot, chat_id, Answer(answer.text))
        sent: Message
        if attachment.kind == "photo":
            sent = await bot.send_photo(
                chat_id,
                attachment.content,
                caption=caption,
                reply_markup=markup,
                filename=attachment.filename,
            )
        else:
            sent = await bot.send_document(
                chat_id,
                attachment.content,
                filename=attachment.filename,
                caption=caption,
                reply_markup=markup,
            )
        return sent
    if not answer.text:
        return None
    pieces = chunks(answer.text)
    for piece in pieces[:-1]:
        await bot.send_message(chat_id, piece)
    last: Message = await bot.send_message(chat_id, pieces[-1], reply_markup=markup)
    return last


async def edit(message: Message, answer: Answer) -> Message:
    """Turn ``message`` into ``answer``; too long, or a file, goes as a new message instead."""
    if answer.attachment is not None or len(answer.text) > TEXT_LIMIT or not answer.text:
        if not answer.text and answer.attachment is None:
            return message
        shown = await send(message.get_bot(), message.chat_id, answer)
        return shown or message
    try:
        edited = await message.edit_text(answer.text, reply_markup=keyboard(answer))
    except BadRequest as failure:
        if "not modified" in str(failure).lower():
            return message
        raise
    return edited if isinstance(edited, Message) else message


async def refresh(shown: Message, fuller: Callable[[], Answer]) -> None:
    """Edit a message into the fuller version of its answer (the card with the router's view)."""
    answer = await asyncio.to_thread(fuller)
    if answer.text != shown.text:
        await edit(shown, answer)


async def run_job(shown: Message, job: Job) -> None:
    """Run ``job`` step by step, editing ``shown`` with its progress, then with its result."""
    steps = job.steps()
    current = shown.text or ""
    while True:
        progress = await asyncio.to_thread(next, steps, None)
        if progress is None:
            break
        if progress != current:
            try:
                await edit(shown, Answer(progress))
                current = progress
            except RetryAfter:
                pass  # progress is only a courtesy; the next step will show it
    final = await asyncio.to_thread(job.finish)
    first, *rest = chunks(final.text)
    await _edit_patiently(shown, Answer(first, final.buttons))
    for piece in rest:
        await shown.get_bot().send_message(shown.chat_id, piece)


async def _edit_patiently(message: Message, answer: Answer) -> None:
    for attempt in range(1, FINAL_EDIT_ATTEMPTS + 1):
        try:
            await edit(message, answer)
            return
        except RetryAfter as flood:
            if attempt == FINAL_EDIT_ATTEMPTS:
                raise
            await asyncio.sleep(_seconds(flood))


def _seconds(flood: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        delay = flood.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
