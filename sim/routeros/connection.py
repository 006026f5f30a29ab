"""One API client connection: the login, then each command answered in order.

Replies follow RouterOS: ``!re`` per row, ``!done`` last (with ``=ret=`` after ``add``), ``!trap``
sentences before ``!done`` on failure, ``!fatal`` when the router closes the connection. A
command's ``.tag`` is echoed on every sentence of its reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from routers.protocol import (
    TEXT_ENCODING,
    TEXT_ERRORS,
    ProtocolError,
    SentenceDecoder,
    decode_words,
    encode_length,
    encode_word,
)
from sim.routeros.faults import FaultInjector
from sim.routeros.state import CommandResult, RouterState
from sim.routeros.traps import INVALID_LOGIN, NOT_LOGGED_IN, CommandTrap, Trap

__all__ = [
    "ApiConnection",
    "Command",
    "Credentials",
    "encode_reply",
    "parse_command",
    "result_sentences",
]

logger = logging.getLogger(__name__)

_READ_SIZE = 65536
_SESSION_TERMINATED = "session terminated on request"


@dataclass(frozen=True)
class Credentials:
    """The one API user the simulated router accepts."""

    username: str
    password: str


@dataclass
class Command:
    """A decoded command sentence."""

    word: str
    attrs: dict[str, str] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    tag: str | None = None


def parse_command(words: Sequence[str]) -> Command:
    """Split a sentence into its command word, ``=attr=value`` words, ``?query`` words and tag.

    ``=name`` without a second ``=`` is an attribute with an empty value (some clients send
    that); an empty ``.tag`` means untagged, as the API manual says.
    """
    command = Command(word=words[0])
    for word in words[1:]:
        if word.startswith("="):
            name, _, value = word[1:].partition("=")
            command.attrs[name] = value
        elif word.startswith("?"):
            command.queries.append(word)
        elif word.startswith(".tag="):
            command.tag = word[5:] or None
    return command


def _row_words(row: dict[str, str]) -> list[str]:
    return ["!re", *(f"={prop}={value}" for prop, value in row.items())]


def _trap_words(trap: Trap) -> list[str]:
    words = ["!trap"]
    if trap.category is not None:
        words.append(f"=category={trap.category}")
    words.append(f"=message={trap.message}")
    return words


def result_sentences(result: CommandResult) -> list[list[str]]:
    """The ``!re`` rows and closing ``!done`` of a successful command."""
    sentences = [_row_words(row) for row in result.rows]
    sentences.append(["!done"] if result.ret is None else ["!done", f"=ret={result.ret}"])
    return sentences


_SHORT_PREFIXES = [bytes((length,)) for length in range(0x80)]


def encode_reply(sentences: Iterable[Sequence[str]], tag: str | None) -> bytes:
    """Encode reply sentences, each tagged with ``tag`` when the command carried one."""
    # The hot path of a large print: avoid per-word concatenation and most prefix computations.
    tag_word = encode_word(f".tag={tag}") if tag else b""
    parts: list[bytes] = []
    append = parts.append
    for sentence in sentences:
        for word in sentence:
            raw = word.encode(TEXT_ENCODING, TEXT_ERRORS)
            size = len(raw)
            append(_SHORT_PREFIXES[size] if size < 0x80 else encode_length(size))
            append(raw)
        if tag_word:
            append(tag_word)
        append(b"\x00")
    return b"".join(parts)


class ApiConnection:
    """Serves one client until it leaves, fails to log in, or the router drops it."""

    def __init__(
        self,
        state: RouterState,
        faults: FaultInjector,
        credentials: Credentials,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_login: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_login = on_login
        self._state = state
        self._faults = faults
        self._credentials = credentials
        self._reader = reader
        self._writer = writer
        self._decoder = SentenceDecoder()
        self._logged_in = False
        self._challenge: bytes | None = None

    async def serve(self) -> None:
        """Read and answer sentences until the connection ends; always closes it."""
        try:
            while True:
                data = await self._reader.read(_READ_SIZE)
                if not data:
                    return
                try:
                    sentences = self._decoder.feed(data)
                except ProtocolError:
                    return
                for raw in sentences:
                    # Empty sentences are ignored, as RouterOS does.
                    if raw and not await self._answer(parse_command(decode_words(raw))):
                        return
        except (ConnectionError, OSError):
            return
        except Exception:
            # A simulator bug: say so loudly, lose this connection, keep serving the others.
            logger.exception("simulated router failed; closing the connection")
        finally:
            self._writer.close()

    async def _send(self, sentences: Iterable[Sequence[str]], tag: str | None) -> None:
        self._writer.write(encode_reply(sentences, tag))
        await self._writer.drain()

    async def _answer(self, command: Command) -> bool:
        """Answer one command; False when the connection must close afterwards."""
        if command.word == "/login":
            return await self._login(command)
        if not self._logged_in:
            await self._send([["!fatal", NOT_LOGGED_IN]], None)
            return False
        if command.word == "/quit":
            await self._send([["!fatal", _SESSION_TERMINATED]], None)
            return False
        if command.word == "/cancel":
            # Nothing runs in the background here, so there is never anything to cancel.
            await self._send([["!done"]], command.tag)
            return True
        menu, _, verb = command.word.rpartition("/")
        delay = self._faults.latency_for(menu, verb)
        if delay:
            await asyncio.sleep(delay)
        data = encode_reply(self._execute(menu, verb, command), command.tag)
        if self._faults.should_drop(menu, verb):
            self._writer.write(data[: max(1, len(data) // 2)])
            await self._writer.drain()
            return False
        self._writer.write(data)
        await self._writer.drain()
        return True

    def _execute(self, menu: str, verb: str, command: Command) -> list[list[str]]:
        if self._state.accepts(menu, verb) and self._faults.should_ignore_write(menu, verb):
            done = ["!done"]
            if verb == "add":
                done.append(f"=ret={self._state.burn_id(menu)}")
            return [done]
        try:
            result = self._state.execute(menu, verb, command.attrs, command.queries)
        except CommandTrap as refusal:
            return [*(_trap_words(trap) for trap in refusal.traps), ["!done"]]
        return result_sentences(result)

    async def _login(self, command: Command) -> bool:
        self._on_login()
        attrs = command.attrs
        if "password" in attrs:
            accepted = (attrs.get("name"), attrs["password"]) == (
                self._credentials.username,
                self._credentials.password,
            )
        elif "response" in attrs and self._challenge is not None:
            accepted = attrs.get("name") == self._credentials.username and attrs[
                "response"
            ] == _challenge_response(self._credentials.password, self._challenge)
        elif "name" not in attrs:
            # The pre-6.43 method: hand out a challenge, the client answers with an MD5 hash.
            self._challenge = secrets.token_bytes(16)
            await self._send([["!done", f"=ret={self._challenge.hex()}"]], command.tag)
            return True
        else:
            accepted = False
        if accepted:
            self._logged_in = True
            await self._send([["!done"]], command.tag)
            return True
        await self._send([["!trap", f"=message={INVALID_LOGIN}"], ["!done"]], command.tag)
        return False


def _challenge_response(password: str, challenge: bytes) -> str:
    digest = hashlib.md5(b"\x00" + password.encode() + challenge, usedforsecurity=False)
    return "00" + digest.hexdigest()
