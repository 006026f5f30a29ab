"""``RouterOsGateway``: the RouterGateway of a real MikroTik (or the simulator), over librouteros.

librouteros provides the socket, TLS wrapping, login and sentence framing. Replies are read
with its protocol object rather than its ``Api`` helpers, whose typecasting is lossy (a comment
``yes`` would come back as ``True``, then as ``"true"``; a name ``123`` as the int 123): reading
the words ourselves keeps every value exactly as RouterOS sent it, which is the shape
``RouterGateway`` promises, so there is no typecasting to undo. The socket is read through a
buffer because librouteros's own transport makes one system call per word.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import librouteros
from librouteros.exceptions import ConnectionClosed, LibRouterosError, MultiTrapError, TrapError
from librouteros.login import plain

from routers.gateway import (
    RouterAuthFailed,
    RouterCredentials,
    RouterRejected,
    RouterUnreachable,
)

__all__ = ["RouterOsGateway"]

Row = dict[str, str]

# Ciphers for an unverified TLS connection: the usual strong ones plus anonymous Diffie-Hellman,
# the only suite a RouterOS api-ssl service offers when no certificate is assigned to it.
# Anonymous suites add no weakness here: an unverified peer is unauthenticated anyway.
_UNVERIFIED_CIPHERS = "HIGH:!eNULL:!MD5:!PSK:!SRP:@SECLEVEL=0"


class _BufferedTransport:
    """A drop-in for librouteros's SocketTransport that reads the socket in large chunks.

    SocketTransport issues one ``recv`` per length prefix and per word, so a print of 50,000
    items costs hundreds of thousands of system calls; this makes it a few hundred.
    """

    _CHUNK = 65536

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""
        self._position = 0

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, length: int) -> bytes:
        end = self._position + length
        if end <= len(self._buffer):
            data = self._buffer[self._position : end]
            self._position = end
            return data
        parts = [self._buffer[self._position :]]
        have = len(parts[0])
        while have < length:
            chunk = self.sock.recv(max(self._CHUNK, length - have))
            if not chunk:
                raise ConnectionClosed("Connection unexpectedly closed.")
            parts.append(chunk)
            have += len(chunk)
        joined = b"".join(parts)
        self._buffer, self._position = joined, length
        return joined[:length]

    def close(self) -> None:
        self.sock.close()


def _attributes(words: Sequence[str]) -> Row:
    attrs: Row = {}
    for word in words:
        if word.startswith("="):
            key, _, value = word[1:].partition("=")
            attrs[key] = value
    return attrs


def _rejection(traps: Sequence[Row]) -> RouterRejected:
    message = ", ".join(trap.get("message", "") for trap in traps)
    category = traps[0].get("category", "")
    return RouterRejected(message, int(category) if category.isdigit() else None)


class RouterOsGateway:
    """RouterGateway over the RouterOS API (8728, or 8729 with TLS), one reused connection.

    Connects lazily on first use and keeps the connection. When a connection turns out to be
    lost during a read, it reconnects and retries that read once: reads are idempotent and a
    stale connection (the router rebooted, a NAT timed out) is the common cause. A write is never
    retried: the router may have applied it before the connection broke, and only the caller can
    read back and decide; it gets RouterUnreachable and the next call connects afresh. A timeout
    is not retried either, as waiting twice would not make a slow router faster.

    Not thread-safe: one thread at a time per instance (per-router serialization is done above).
    """

    def __init__(self, credentials: RouterCredentials) -> None:
        self._credentials = credentials
        self._api: Any | None = None  # librouteros.api.Api; librouteros ships no type hints

    def __repr__(self) -> str:
        return f"RouterOsGateway({self._credentials!r})"

    # -- RouterGateway ---------------------------------------------------------------------

    def print(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> list[dict[str, str]]:
        """See RouterGateway.print. ``where`` becomes ``?=prop=value`` query words (all ANDed)."""
        words: list[str] = []
        if proplist:
            words.append(f"=.proplist={','.join(proplist)}")
        words.extend(f"?={prop}={value}" for prop, value in (where or {}).items())
        rows, _ = self._run(f"{menu}/print", words, retry_if_lost=True)
        return rows

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        """See RouterGateway.add."""
        _, done = self._run(f"{menu}/add", _attribute_words(attrs), retry_if_lost=False)
        item_id = done.get("ret")
        if not item_id:
            raise RouterRejected(f"{menu}/add returned no id")
        return item_id

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        """See RouterGateway.set."""
        words = [f"=.id={item_id}", *_attribute_words(attrs)]
        self._run(f"{menu}/set", words, retry_if_lost=False)

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        """See RouterGateway.remove."""
        if not item_ids:
            return
        self._run(f"{menu}/remove", [f"=.id={','.join(item_ids)}"], retry_if_lost=False)

    def identity(self) -> str:
        """See RouterGateway.identity."""
        rows = self.print("/system/identity")
        return rows[0]["name"] if rows else ""

    def resource(self) -> dict[str, str]:
        """See RouterGateway.resource."""
        rows = self.print("/system/resource")
        return rows[0] if rows else {}

    def close(self) -> None:
        """See RouterGateway.close."""
        api, self._api = self._api, None
        if api is not None:
            # The socket is going away either way.
            with contextlib.suppress(OSError):
                api.close()

    # -- plumbing --------------------------------------------------------------------------

    def _run(
        self, command: str, words: Sequence[str], *, retry_if_lost: bool
    ) -> tuple[list[Row], Row]:
        attempts = 2 if retry_if_lost else 1
        for attempt in range(1, attempts + 1):
            api = self._connection()
            try:
                return self._exchange(api, command, words)
            except TimeoutError as error:
                self.close()
                raise RouterUnreachable(
                    f"{self._where()}: no reply to {command} within "
                    f"{self._credentials.command_timeout}s"
                ) from error
            except (OSError, LibRouterosError) as error:
                self.close()
                if attempt == attempts:
                    raise RouterUnreachable(
                        f"{self._where()}: connection lost during {command}: {error}"
                    ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _exchange(api: Any, command: str, words: Sequence[str]) -> tuple[list[Row], Row]:
        """Send one command and read its whole reply: the ``!re`` rows and the ``!done`` words."""
        api.protocol.writeSentence(command, *words)
        rows: list[Row] = []
        traps: list[Row] = []
        while True:
            # readSentence raises FatalError (and closes) on !fatal.
            reply, reply_words = api.protocol.readSentence()
            if reply == "!re":
                rows.append(_attributes(reply_words))
            elif reply == "!trap":
                traps.append(_attributes(reply_words))
            elif reply == "!done":
                if traps:
                    raise _rejection(traps)
                return rows, _attributes(reply_words)
            # Anything else (RouterOS 7.18+ sends "!empty" for an empty print) carries no data.

    def _connection(self) -> Any:
        if self._api is None:
            self._api = self._connect()
        return self._api

    def _connect(self) -> Any:
        credentials = self._credentials
        try:
            api = librouteros.connect(
                credentials.host,
                credentials.username,
                credentials.password,
                port=credentials.effective_port,
                timeout=credentials.connect_timeout,
                encoding=credentials.encoding,
                ssl_wrapper=self._ssl_wrapper(),
                login_method=plain,
            )
        except (TrapError, MultiTrapError) as error:
            raise RouterAuthFailed(f"{self._where()}: login refused: {error}") from error
        except (OSError, LibRouterosError) as error:
            raise RouterUnreachable(f"{self._where()}: cannot connect: {error}") from error
        sock = api.protocol.transport.sock
        # The connect timeout stays on the socket; replies get the (longer) command timeout.
        sock.settimeout(credentials.command_timeout)
        api.protocol.transport = _BufferedTransport(sock)
        return api

    def _ssl_wrapper(self) -> Callable[[socket.socket], socket.socket] | None:
        credentials = self._credentials
        if not credentials.tls:
            return None
        context = ssl.create_default_context(cafile=credentials.tls_ca_file)
        if not credentials.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_ciphers(_UNVERIFIED_CIPHERS)
        return functools.partial(context.wrap_socket, server_hostname=credentials.host)

    def _where(self) -> str:
        return f"{self._credentials.host}:{self._credentials.effective_port}"


def _attribute_words(attrs: Mapping[str, str]) -> list[str]:
    return [f"={prop}={value}" for prop, value in attrs.items()]
