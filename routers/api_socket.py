"""A logged-in RouterOS API connection that keeps several tagged commands in flight.

The API lets a client send a command before the replies to earlier ones have arrived: each
command carries a ``.tag`` and every sentence of its reply carries the same tag (RouterOS API
manual, "Tags"). Waiting a full round trip per command is what makes one-at-a-time writes slow;
here up to ``WINDOW`` commands are outstanding, topped up in one ``sendall`` whenever half of
them have been answered, and replies are matched to commands by tag, whatever their order.

The window bounds what is outstanding, so neither side can fill the other's buffers and stall:
the replies to ``WINDOW`` writes or key lookups are a few kilobytes. Framing is done here rather
than by librouteros (which still connects and logs in): it reads the socket in large chunks and
decodes words in one loop, where librouteros makes three reads and a debug-log call per word.
Values keep their exact text: bytes that are not valid in the encoding survive as surrogates.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from sys import intern

from routers.protocol import ProtocolError, decode_length, encode_length

__all__ = ["WINDOW", "ApiSocket", "CommandTrapped", "ConnectionLost", "Reply"]

WINDOW = 64
# Distinct reply values kept to be shared by later rows (see ``_take_sentence``).
SHARED_VALUES = 4096
_RECEIVE_SIZE = 1 << 18
_ERRORS = "surrogateescape"

Row = dict[str, str]


class CommandTrapped(Exception):
    """The router answered a streamed command with ``!trap``: its sentences are ``traps``."""

    def __init__(self, traps: list[Row]) -> None:
        super().__init__(traps)
        self.traps = traps


class ConnectionLost(Exception):
    """The router closed the connection (``!fatal``, end of stream) or sent something that is
    not a reply to what was asked; the connection cannot be used any more."""


@dataclass
class Reply:
    """One command's answer: its ``!re`` rows, its ``!trap`` sentences, its ``!done`` words."""

    rows: list[Row] = field(default_factory=list)
    traps: list[Row] = field(default_factory=list)
    done: Row | None = None


class ApiSocket:
    """Commands and replies over a socket on which the API login has been made.

    Not thread-safe. After any exception the connection must be closed: replies to commands
    still in flight would be mistaken for answers to the next ones.
    """

    def __init__(self, sock: socket.socket, encoding: str = "utf-8") -> None:
        self._sock = sock
        self._encoding = encoding
        self._buffer = b""
        self._position = 0
        self._values: dict[str, str] = {}

    def run(self, commands: Sequence[Sequence[str]]) -> list[Reply]:
        """Send each command (its words, the command word first) and return every reply, in the
        order of ``commands``. Socket errors and timeouts propagate (OSError, TimeoutError)."""
        replies = [Reply() for _ in commands]
        self._values = {}  # shared within one run's replies only
        sent = answered = 0
        while answered < len(commands):
            in_flight = sent - answered
            if sent < len(commands) and in_flight <= WINDOW // 2:
                top_up = min(len(commands), sent + WINDOW - in_flight)
                self._sock.sendall(
                    b"".join(self._encode(commands[i], str(i)) for i in range(sent, top_up))
                )
                sent = top_up
            reply_word, attrs, tag = self._read_sentence()
            if reply_word == "!fatal":
                raise ConnectionLost(f"the router closed the connection: {attrs.get('', '')}")
            if tag is None or not tag.isdigit() or int(tag) >= sent:
                raise ConnectionLost(f"a reply to no command sent ({reply_word}, tag {tag!r})")
            reply = replies[int(tag)]
            if reply.done is not None:
                raise ConnectionLost(f"a reply after the command was done (tag {tag})")
            if reply_word == "!re":
                reply.rows.append(attrs)
            elif reply_word == "!trap":
                reply.traps.append(attrs)
            elif reply_word == "!done":
                reply.done = attrs
                answered += 1
            # Anything else (RouterOS 7.18+ sends "!empty" for an empty print) carries no data.
        return replies

    def stream(self, command: Sequence[str]) -> Iterator[Row]:
        """Send one command and yield its ``!re`` rows as they are read, never holding them all
        (a print of a whole menu of 100,000 items). CommandTrapped once the command is done if
        the router refused it. The caller must read to the end or close the connection: the
        rest of the reply would be taken for the answer to the next command."""
        self._values = {}
        self._sock.sendall(self._encode(command, "0"))
        traps: list[Row] = []
        while True:
            reply_word, attrs, tag = self._read_sentence()
            if reply_word == "!fatal":
                raise ConnectionLost(f"the router closed the connection: {attrs.get('', '')}")
            if tag != "0":
                raise ConnectionLost(f"a reply to no command sent ({reply_word}, tag {tag!r})")
            if reply_word == "!re":
                yield attrs
            elif reply_word == "!trap":
                traps.append(attrs)
            elif reply_word == "!done":
                break
        if traps:
            raise CommandTrapped(traps)

    def close(self) -> None:
        self._sock.close()

    # -- framing -----------------------------------------------------------------------------

    def _encode(self, words: Sequence[str], tag: str) -> bytes:
        parts: list[bytes] = []
        for word in (*words, f".tag={tag}"):
            raw = word.encode(self._encoding, _ERRORS)
            if not raw:
                raise ValueError("an API word cannot be empty")
            parts.append(encode_length(len(raw)))
            parts.append(raw)
        parts.append(b"\x00")
        return b"".join(parts)

    def _read_sentence(self) -> tuple[str, Row, str | None]:
        """The next sentence as (reply word, ``=name=value`` attributes, tag). A ``!fatal``'s
        bare message is kept under the empty name."""
        while True:
            try:
                sentence = self._take_sentence()
            except ProtocolError as error:
                raise ConnectionLost(f"not a RouterOS API reply: {error}") from error
            if sentence is not None:
                return sentence
            self._receive()

    def _take_sentence(self) -> tuple[str, Row, str | None] | None:
        """Decode one whole sentence off the buffer, or None when more bytes are needed.

        One loop does both the framing and the parsing: a print of 50,000 items is 400,000 words.
        """
        buffer = self._buffer
        end = len(buffer)
        position = self._position
        encoding = self._encoding
        values = self._values
        reply: str | None = None
        attrs: Row = {}
        tag = None
        while position < end:
            length = buffer[position]
            if length < 0x80:
                position += 1
            else:
                decoded = decode_length(buffer, position)
                if decoded is None:
                    return None
                length, prefix = decoded
                position += prefix
            if length == 0:
                self._position = position
                if reply is None:
                    raise ConnectionLost("an empty sentence where a reply was expected")
                return reply, attrs, tag
            stop = position + length
            if stop > end:
                return None
            word = buffer[position:stop].decode(encoding, _ERRORS)
            position = stop
            if reply is None:
                reply = word
            elif word[0] == "=":
                name, _, value = word[1:].partition("=")
                # Interned: a print of 100,000 items repeats the same few names in every row,
                # each a fresh string otherwise (about 40 MB of a whole /ppp/secret read).
                # Values repeat too (a profile, "pppoe", "false"): the first few thousand
                # distinct ones are shared, which covers those (about 15 MB of the same read).
                shared = values.get(value)
                if shared is not None:
                    value = shared
                elif len(values) < SHARED_VALUES:
                    values[value] = value
                attrs[intern(name)] = value
            elif word.startswith(".tag="):
                tag = word[5:]
            else:
                attrs[""] = word
        return None

    def _receive(self) -> None:
        chunk = self._sock.recv(_RECEIVE_SIZE)
        if not chunk:
            raise ConnectionLost("the router closed the connection")
        self._buffer = self._buffer[self._position :] + chunk
        self._position = 0
