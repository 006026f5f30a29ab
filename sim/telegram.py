"""A fake Telegram Bot API server, for tests, benchmarks and trying the bot without Telegram.

It speaks the Bot API's JSON (``/bot<token>/<method>``, files at ``/file/bot<token>/<path>``) for
the methods mteja uses: getMe, getUpdates (long polling), sendMessage, editMessageText,
editMessageReplyMarkup, answerCallbackQuery, sendPhoto, sendDocument, getFile, setMyCommands,
setWebhook, deleteWebhook, getWebhookInfo, sendChatAction. Test code plays the people: a user
says something, presses a button or sends a file, and reads what the bot sent to each chat.
python-telegram-bot reaches it through ``base_url``; nothing here touches api.telegram.org.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_ID = 700000001
JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "entities", "link_preview_options"}


@dataclass
class SentMessage:
    """A message the bot sent, as it stands now (edits applied)."""

    chat_id: int
    message_id: int
    kind: str  # "text", "photo" or "document"
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    content: bytes = b""
    filename: str | None = None
    edits: int = 0
    history: list[str] = field(default_factory=list)

    def button(self, label: str) -> str:
        """The callback data of the button whose label starts with ``label``."""
        for row in self.buttons:
            for text, data in row:
                if text.startswith(label):
                    return data
        raise AssertionError(f"no button {label!r} in {self.buttons}")

    @property
    def labels(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]


class FakeTelegram:
    """The fake server and its state. ``start()`` serves it on a free local port."""

    def __init__(self, token: str = "123456:TEST-token", bot_username: str = "mteja_test_bot"):
        self.token = token
        self.bot_username = bot_username
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[SentMessage] = []
        self.answered: dict[str, str | None] = {}
        self.webhook: dict[str, Any] = {}
        self.files: dict[str, tuple[str, bytes]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.fail_next: dict[str, int] = {}
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )

    # -- serving ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's ``base_url`` (and MTEJA_TELEGRAM_BASE_URL) should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> FakeTelegram:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-telegram", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake Telegram server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- people ----------------------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Staff") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def _chat(self, chat_id: int, first_name: str) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Staff"}
        return {"id": chat_id, "type": "private", "first_name": first_name}

    def _incoming(
        self, user_id: int, chat_id: int | None, first_name: str, **fields: Any
    ) -> dict[str, Any]:
        chat = chat_id if chat_id is not None else user_id
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat, first_name),
            "from": self.user(user_id, first_name),
            **fields,
        }

    def says(
        self, user_id: int, text: str, chat_id: int | None = None, first_name: str = "Staff"
    ) -> dict[str, Any]:
        """``user_id`` sends ``text`` (to the bot, or in the group ``chat_id``)."""
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            length = len(text.split()[0])
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self._incoming(user_id, chat_id, first_name, **fields)
        return self.push({"message": message})

    def presses(self, user_id: int, message: SentMessage, label: str) -> str:
        """``user_id`` presses the button labelled ``label`` under ``message``; returns the query
        id (see ``answered``)."""
        return self.presses_data(user_id, message, message.button(label))

    def presses_data(self, user_id: int, message: SentMessage, data: str) -> str:
        query_id = str(next(self._ids))
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "message": self._message_json(message),
                    "chat_instance": f"chat-{message.chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    def sends_file(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        file_id = f"file-{next(self._ids)}"
        with self._lock:
            self.files[file_id] = (f"documents/{filename}", content)
        fields: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": filename,
                "mime_type": "text/csv",
                "file_size": len(content),
            }
        }
        if caption:
            fields["caption"] = caption
        return self.push({"message": self._incoming(user_id, chat_id, "Staff", **fields)})

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update for getUpdates."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
        return update

    # -- what the bot did ------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[SentMessage]:
        with self._lock:
            return [message for message in self.sent if message.chat_id == chat_id]

    def last(self, chat_id: int) -> SentMessage:
        found = self.messages(chat_id)
        if not found:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return found[-1]

    def wait_for(
        self, condition: Callable[[], Any], timeout: float = 15.0, what: str = "the bot"
    ) -> Any:
        """Poll ``condition`` until it is truthy; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 15.0) -> SentMessage:
        """Wait until the bot has sent ``count`` messages to ``chat_id``; returns the last."""
        self.wait_for(
            lambda: len(self.messages(chat_id)) >= count,
            timeout,
            f"message {count} in chat {chat_id}",
        )
        return self.messages(chat_id)[count - 1]

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    # -- the Bot API -----------------------------------------------------------------------------

    async def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        if "application/json" in content_type:
            body = await request.body()
            if body:
                params.update(json.loads(body))
            return params
        if request.method == "POST":
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    params[key] = (value.filename, await value.read())
                elif key in JSON_FIELDS:
                    params[key] = json.loads(value)
                else:
                    params[key] = value
        return params

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params = await self._params(request)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if method != "getUpdates":
            with self._lock:
                self.calls.append((method, params))
                failures = self.fail_next.get(method, 0)
                if failures:
                    self.fail_next[method] = failures - 1
            if failures:
                return _error(500, "Internal Server Error")
        if method == "getUpdates":
            return _ok(await self._api_getUpdates(params))
        try:
            with self._lock:
                return _ok(handler(params))
        except LookupError as missing:
            return _error(400, f"Bad Request: {missing}")

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        path = request.path_params["path"]
        with self._lock:
            for stored_path, content in self.files.values():
                if stored_path == path:
                    return Response(content, media_type="application/octet-stream")
        return _error(404, "Not Found")

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "mteja",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _api_getMe(self, params: dict[str, Any]) -> Any:
        return self._bot_user()

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.answered[str(params["callback_query_id"])] = params.get("text")
        return True

    def _new_message(self, params: dict[str, Any], kind: str, text: str, **extra: Any) -> Any:
        chat_id = int(params["chat_id"])
        message = SentMessage(
            chat_id=chat_id,
            message_id=next(self._message_ids),
            kind=kind,
            text=text,
            buttons=_buttons(params.get("reply_markup")),
            **extra,
        )
        message.history.append(text)
        self.sent.append(message)
        return self._message_json(message)

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._new_message(params, "text", str(params["text"]))

    def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        filename, content = _upload(params["photo"])
        return self._new_message(
            params, "photo", str(params.get("caption") or ""), content=content, filename=filename
        )

    def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        filename, content = _upload(params["document"])
        return self._new_message(
            params,
            "document",
            str(params.get("caption") or ""),
            content=content,
            filename=filename,
        )

    def _find(self, params: dict[str, Any]) -> SentMessage:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for message in self.sent:
            if message.chat_id == chat_id and message.message_id == message_id:
                return message
        raise LookupError("message to edit not found")

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._find(params)
        text = str(params["text"])
        buttons = _buttons(params.get("reply_markup"))
        if text == message.text and buttons == message.buttons:
            raise LookupError(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.text, message.buttons = text, buttons
        message.edits += 1
        message.history.append(text)
        return self._message_json(message)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._find(params)
        message.buttons = _buttons(params.get("reply_markup"))
        message.edits += 1
        return self._message_json(message)

    def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise LookupError("wrong file_id or the file is temporarily unavailable")
        path, content = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": len(content),
            "file_path": path,
        }

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self._chat(message.chat_id, "Staff"),
            "from": self._bot_user(),
        }
        if message.kind == "text":
            body["text"] = message.text
        else:
            if message.text:
                body["caption"] = message.text
            if message.kind == "photo":
                body["photo"] = [
                    {
                        "file_id": f"photo-{message.message_id}",
                        "file_unique_id": f"photo-{message.message_id}",
                        "width": 900,
                        "height": 450,
                        "file_size": len(message.content),
                    }
                ]
            else:
                body["document"] = {
                    "file_id": f"doc-{message.message_id}",
                    "file_unique_id": f"doc-{message.message_id}",
                    "file_name": message.filename,
                }
        if message.buttons:
            body["reply_markup"] = {
                "inline_keyboard": [
                    [{"text": text, "callback_data": data} for text, data in row]
                    for row in message.buttons
                ]
            }
        return body


def _buttons(markup: Any) -> list[list[tuple[str, str]]]:
    if not markup:
        return []
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        [(button["text"], button.get("callback_data", "")) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]


def _upload(value: Any) -> tuple[str | None, bytes]:
    if isinstance(value, tuple):
        return value[0], value[1]
    return None, str(value).encode()


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": code, "description": description}, status_code=code
    )
