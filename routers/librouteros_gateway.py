"""``RouterOsGateway``: the RouterGateway of a real MikroTik (or the simulator), over librouteros.

librouteros provides the socket, TLS wrapping and login. Commands and replies then go through
``ApiSocket``: tagged commands, several in flight at once (``print_many``, ``write_many``), and
reply words read as RouterOS sent them. librouteros's ``Api`` helpers are not used, as their
typecasting is lossy (a comment ``yes`` would come back as ``True``, then as ``"true"``; a name
``123`` as the int 123): every value stays exactly as RouterOS sent it, which is the shape
``RouterGateway`` promises, so there is no typecasting to undo.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping, Sequence

import librouteros
from librouteros.exceptions import LibRouterosError, MultiTrapError, TrapError
from librouteros.login import plain

from routers.api_socket import ApiSocket, CommandTrapped, ConnectionLost, Reply
from routers.gateway import (
    RouterAuthFailed,
    RouterCertificateMismatch,
    RouterCredentials,
    RouterRejected,
    RouterUnreachable,
    Write,
)
from routers.tls import fingerprints_match, host_matches, strong_context

__all__ = ["RouterOsGateway"]

Row = dict[str, str]

# Ciphers for an unverified TLS connection (a router with neither pin nor CA, flagged "TLS NOT
# VERIFIED"): the usual strong ones plus anonymous Diffie-Hellman, the only suite a RouterOS
# api-ssl service offers when no certificate is assigned to it. Anonymous suites add no weakness
# here: an unverified peer is unauthenticated anyway. Verified connections use routers.tls.
_UNVERIFIED_CIPHERS = "HIGH:!eNULL:!MD5:!PSK:!SRP:@SECLEVEL=0"


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
        self._socket: ApiSocket | None = None

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
        return self.print_many(menu, proplist, [where or {}])[0]

    def print_many(
        self,
        menu: str,
        proplist: Sequence[str] | None,
        wheres: Sequence[Mapping[str, str]],
    ) -> list[list[dict[str, str]]]:
        """See RouterGateway.print_many. Reads are retried once on a lost connection."""
        commands = [_print_command(menu, proplist, where) for where in wheres]
        replies = self._run(commands, retry_if_lost=True)
        for reply in replies:
            if reply.traps:
                raise _rejection(reply.traps)
        return [reply.rows for reply in replies]

    def print_each(
        self,
        menu: str,
        proplist: Sequence[str] | None = None,
        where: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, str]]:
        """See RouterGateway.print_each. Retried once on a lost connection if no item has been
        given yet; a reply left unread (the caller stopped early) closes the connection."""
        command = _print_command(menu, proplist, where or {})
        given = False
        for attempt in (1, 2):
            connection = self._connection()
            finished = False
            try:
                for row in connection.stream(command):
                    given = True
                    yield row
                finished = True
                return
            except CommandTrapped as trapped:
                finished = True
                raise _rejection(trapped.traps) from None
            except TimeoutError as error:
                raise RouterUnreachable(
                    f"{self._where()}: no reply to {menu}/print within "
                    f"{self._credentials.command_timeout}s"
                ) from error
            except (OSError, ConnectionLost) as error:
                if given or attempt == 2:
                    raise RouterUnreachable(
                        f"{self._where()}: connection lost during {menu}/print: {error}"
                    ) from error
            finally:
                if not finished:
                    self.close()

    def add(self, menu: str, attrs: Mapping[str, str]) -> str:
        """See RouterGateway.add."""
        [reply] = self._run([_write_command(Write("add", menu, attrs=attrs))], retry_if_lost=False)
        if reply.traps:
            raise _rejection(reply.traps)
        return _new_id(menu, reply)

    def set(self, menu: str, item_id: str, attrs: Mapping[str, str]) -> None:
        """See RouterGateway.set."""
        self._write(Write("set", menu, (item_id,), attrs))

    def remove(self, menu: str, item_ids: Sequence[str]) -> None:
        """See RouterGateway.remove."""
        if item_ids:
            self._write(Write("remove", menu, tuple(item_ids)))

    def write_many(self, writes: Sequence[Write]) -> list[RouterRejected | None]:
        """See RouterGateway.write_many. Never retried, as single writes are not."""
        replies = self._run([_write_command(write) for write in writes], retry_if_lost=False)
        outcomes: list[RouterRejected | None] = []
        for write, reply in zip(writes, replies, strict=True):
            if reply.traps:
                outcomes.append(_rejection(reply.traps))
            elif write.verb == "add" and not (reply.done or {}).get("ret"):
                outcomes.append(RouterRejected(f"{write.menu}/add returned no id"))
            else:
                outcomes.append(None)
        return outcomes

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
        connection, self._socket = self._socket, None
        if connection is not None:
            # The socket is going away either way.
            with contextlib.suppress(OSError):
                connection.close()

    # -- plumbing --------------------------------------------------------------------------

    def _write(self, write: Write) -> None:
        [reply] = self._run([_write_command(write)], retry_if_lost=False)
        if reply.traps:
            raise _rejection(reply.traps)

    def _run(self, commands: Sequence[Sequence[str]], *, retry_if_lost: bool) -> list[Reply]:
        if not commands:
            return []
        what = commands[0][0] if len(commands) == 1 else f"{len(commands)} commands"
        attempts = 2 if retry_if_lost else 1
        for attempt in range(1, attempts + 1):
            connection = self._connection()
            try:
                return connection.run(commands)
            except TimeoutError as error:
                self.close()
                raise RouterUnreachable(
                    f"{self._where()}: no reply to {what} within "
                    f"{self._credentials.command_timeout}s"
                ) from error
            except (OSError, ConnectionLost) as error:
                self.close()
                if attempt == attempts:
                    raise RouterUnreachable(
                        f"{self._where()}: connection lost during {what}: {error}"
                    ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> ApiSocket:
        if self._socket is None:
            self._socket = self._connect()
        return self._socket

    def _connect(self) -> ApiSocket:
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
        except ssl.SSLCertVerificationError as error:
            raise RouterCertificateMismatch(
                f"{self._where()}: certificate not trusted: {error.verify_message}; "
                "the password was not sent"
            ) from error
        except (TrapError, MultiTrapError) as error:
            raise RouterAuthFailed(f"{self._where()}: login refused: {error}") from error
        except (OSError, LibRouterosError) as error:
            raise RouterUnreachable(f"{self._where()}: cannot connect: {error}") from error
        sock: socket.socket = api.protocol.transport.sock
        # The connect timeout stays on the socket; replies get the (longer) command timeout.
        sock.settimeout(credentials.command_timeout)
        return ApiSocket(sock, credentials.encoding)

    def _ssl_wrapper(self) -> Callable[[socket.socket], socket.socket] | None:
        credentials = self._credentials
        if not credentials.tls:
            return None
        if credentials.tls_fingerprint:
            context = strong_context()
        elif credentials.tls_verify:
            context = strong_context(verify=True, cafile=credentials.tls_ca_file)
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_ciphers(_UNVERIFIED_CIPHERS)

        def wrap(raw: socket.socket) -> socket.socket:
            # The handshake completes here, before librouteros sends the login: a certificate
            # that is not the pinned one (or not for this host) ends the connection first.
            try:
                wrapped = context.wrap_socket(raw, server_hostname=credentials.host)
            except BaseException:
                raw.close()
                raise
            try:
                self._check_peer(wrapped)
            except BaseException:
                wrapped.close()
                raise
            return wrapped

        return wrap

    def _check_peer(self, connection: ssl.SSLSocket) -> None:
        credentials = self._credentials
        der = connection.getpeercert(binary_form=True) or b""
        if credentials.tls_fingerprint:
            if not der or not fingerprints_match(credentials.tls_fingerprint, der):
                raise RouterCertificateMismatch(
                    f"{self._where()}: the certificate is not the pinned one; "
                    "the password was not sent"
                )
        elif credentials.tls_verify and not host_matches(credentials.host, der):
            raise RouterCertificateMismatch(
                f"{self._where()}: the certificate is not for {credentials.host}; "
                "the password was not sent"
            )

    def _where(self) -> str:
        return f"{self._credentials.host}:{self._credentials.effective_port}"


def _print_command(
    menu: str, proplist: Sequence[str] | None, where: Mapping[str, str]
) -> list[str]:
    """``where`` becomes ``?=prop=value`` query words (all ANDed)."""
    words = [f"{menu}/print"]
    if proplist:
        words.append(f"=.proplist={','.join(proplist)}")
    words.extend(f"?={prop}={value}" for prop, value in where.items())
    return words


def _write_command(write: Write) -> list[str]:
    words = [f"{write.menu}/{write.verb}"]
    if write.item_ids:
        words.append(f"=.id={','.join(write.item_ids)}")
    words.extend(f"={prop}={value}" for prop, value in write.attrs.items())
    return words


def _new_id(menu: str, reply: Reply) -> str:
    item_id = (reply.done or {}).get("ret")
    if not item_id:
        raise RouterRejected(f"{menu}/add returned no id")
    return item_id
