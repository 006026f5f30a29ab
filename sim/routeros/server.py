"""The simulator's TCP (or TLS) listener, a background-thread runner for tests, and a CLI entry.

``SimulatedRouter`` runs the asyncio server on its own thread so that synchronous code (the
librouteros gateway, tests) can talk to it; its control methods are safe to call from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from sim.routeros.connection import ApiConnection, Credentials
from sim.routeros.faults import FaultInjector
from sim.routeros.state import BLOCKED_LIST, RouterState
from sim.routeros.table import Item

__all__ = ["ApiServer", "SimulatedRouter", "run_simulator"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
_CONTROL_TIMEOUT = 10.0


class ApiServer:
    """Listens for API clients and keeps track of them. Its coroutines run on one event loop."""

    def __init__(
        self,
        state: RouterState,
        faults: FaultInjector,
        credentials: Credentials,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._state = state
        self._faults = faults
        self._credentials = credentials
        self._ssl_context = ssl_context
        self._server: asyncio.Server | None = None
        # /login commands received (accepted or not): tests prove a password was never sent.
        self.login_attempts = 0
        self._clients: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def listen(self, host: str, port: int) -> int:
        """Start accepting clients on ``host:port`` (0 picks a free port); returns the port.

        Does nothing but return the port when already listening.
        """
        if self._server is None:
            self._server = await asyncio.start_server(
                self._on_client, host, port, ssl=self._ssl_context
            )
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def drop_clients(self) -> None:
        """Cut every connected client at once, as a reboot or a link failure would."""
        for task, writer in list(self._clients.items()):
            writer.transport.abort()
            # A client may be waiting out an injected latency: do not let it finish the reply.
            task.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)

    async def close(self) -> None:
        """Stop listening (new connections are refused by the OS) and cut every client."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        # Clients go first: from Python 3.12 wait_closed() waits for them to finish.
        await self.drop_clients()
        if server is not None:
            await server.wait_closed()

    def _count_login(self) -> None:
        self.login_attempts += 1

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._faults.refuse_connections:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._clients[task] = writer
        try:
            await ApiConnection(
                self._state, self._faults, self._credentials, reader, writer, self._count_login
            ).serve()
        except asyncio.CancelledError:
            # Only drop_clients() cancels this task, and it has already cut the connection;
            # re-raising would make asyncio log the cancellation as an error.
            pass
        finally:
            self._clients.pop(task, None)


class SimulatedRouter:
    """A RouterOS API simulator on a background thread, for tests and demos.

    Use as a context manager (or ``start()``/``stop()``). ``host``/``port`` say where it
    listens once started (port 0 picks a free one); ``state`` is the router (menus, sessions),
    ``faults`` the fault injector. The subscriber-side helpers below delegate to ``state``.
    """

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "simulator",
        identity: str = "MikroTik",
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        fault_seed: int | None = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = ssl_context is not None
        self.state = RouterState(identity=identity, clock=clock)
        self.faults = FaultInjector(seed=fault_seed)
        self._server = ApiServer(
            self.state, self.faults, Credentials(username, password), ssl_context
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SimulatedRouter:
        """Start serving on a background thread; returns self once the port is bound."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=_run_loop, args=(loop,), name="routeros-simulator", daemon=True
        )
        self._thread.start()
        try:
            self.port = self._call(self._server.listen(self.host, self.port))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every connection and the listener, and end the thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._server.close())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_CONTROL_TIMEOUT)
            self._loop = None
            self._thread = None

    def __enter__(self) -> SimulatedRouter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def down(self) -> None:
        """The router goes away: live connections are cut and new ones refused until ``up()``."""
        self._call(self._server.close())

    def up(self) -> None:
        """The router is back, on the same port."""
        self._call(self._server.listen(self.host, self.port))

    @property
    def login_attempts(self) -> int:
        """How many ``/login`` commands clients have sent, accepted or not."""
        return self._server.login_attempts

    def drop_connections(self) -> None:
        """Cut every live API connection (the router stays reachable)."""
        self._call(self._server.drop_clients())

    def _call(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._loop is None:
            coroutine.close()
            raise RuntimeError("the simulator is not running")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(_CONTROL_TIMEOUT)

    # -- the subscriber side ---------------------------------------------------------------

    def connect(
        self,
        name: str,
        password: str,
        service: str = "pppoe",
        address: str | None = None,
        caller_id: str | None = None,
    ) -> bool:
        """A subscriber dials in (see ``RouterState.connect``); True when a session came up."""
        return self.state.connect(name, password, service, address, caller_id)

    def disconnect(self, name: str, service: str = "pppoe") -> bool:
        """A subscriber hangs up; True if they had a session."""
        return self.state.disconnect(name, service)

    def is_connected(self, name: str, service: str = "pppoe") -> bool:
        """Whether ``name`` has a live session."""
        return self.state.is_connected(name, service)

    def sessions(self, service: str = "pppoe") -> list[Item]:
        """Live sessions as printed (``/ip/hotspot/active`` for hotspot, else ``/ppp/active``)."""
        return self.state.sessions(service)

    def items(self, menu: str) -> list[Item]:
        """A snapshot of every item of ``menu``, as the API prints it."""
        return self.state.items(menu)

    def seed(self, menu: str, **attrs: str) -> str:
        """Add an item as a person at WinBox would (``remote_address=`` for ``remote-address``)."""
        return self.state.seed(menu, {key.replace("_", "-"): value for key, value in attrs.items()})

    def is_blocked(self, address: str, list_name: str = BLOCKED_LIST) -> bool:
        """Whether a static customer at ``address`` is on the (enabled) blocked address list."""
        return self.state.is_blocked(address, list_name)

    def device_up(self, address: str, mac_address: str | None = None) -> None:
        """A static-IP customer's device comes up (see ``RouterState.device_up``)."""
        self.state.device_up(address, mac_address)

    def device_down(self, address: str, *, forget: bool = True) -> None:
        """The device goes quiet (see ``RouterState.device_down``)."""
        self.state.device_down(address, forget=forget)

    def set_traffic_rate(
        self, bytes_in_per_second: float, bytes_out_per_second: float | None = None
    ) -> None:
        """Bytes every live session counts per second from now on."""
        self.state.set_traffic_rate(bytes_in_per_second, bytes_out_per_second)

    def set_subscriber_traffic(self, download_per_second: float, upload_per_second: float) -> None:
        """Every session moves this many bytes per second from now on, in the subscriber's terms
        (their download is the router's bytes out)."""
        self.state.set_traffic_rate(upload_per_second, download_per_second)


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve_forever(
    host: str,
    port: int,
    credentials: Credentials,
    identity: str,
    ssl_context: ssl.SSLContext | None,
    traffic: tuple[float, float],
) -> None:
    state = RouterState(identity=identity)
    download, upload = traffic
    # The router's bytes in are what the subscriber sends, its bytes out what they receive.
    state.set_traffic_rate(upload, download)
    server = ApiServer(state, FaultInjector(), credentials, ssl_context)
    bound = await server.listen(host, port)
    logger.info("RouterOS API simulator %r listening on %s:%d", identity, host, bound)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def run_simulator(
    host: str,
    port: int,
    username: str,
    password: str,
    identity: str = "MikroTik",
    ssl_context: ssl.SSLContext | None = None,
    *,
    download_rate: float = 0.0,
    upload_rate: float = 0.0,
) -> None:
    """Serve a simulated router on ``host:port`` until interrupted (Ctrl-C returns normally).

    Every subscriber session counts ``download_rate`` and ``upload_rate`` bytes per second (the
    subscriber's download and upload), so usage sampling has traffic to see.
    """
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _serve_forever(
                host,
                port,
                Credentials(username, password),
                identity,
                ssl_context,
                (download_rate, upload_rate),
            )
        )
