"""Benchmark: the USSD "My account" screen with 100,000 subscribers in the database, next to a
fair limit: a route of the same app that does one indexed SELECT through the same engine.

``python -m bench.bench_ussd [--subscribers 100000] [--db sqlite|postgresql] [--seconds 10]
[--concurrency 32] [--rate 200]``. Prints figures, asserts nothing.

- The app is mteja's real web app (``web.app.create_app``) plus two routes, served by one
  uvicorn process (a child of this one, so the load generator does not share its interpreter),
  as ``mteja web`` serves it:
  - ``/bench/fair``, the fair limit: the same form-encoded POST as ``/ussd`` read by the same
    form reader, then, on the same database threads (``DatabaseWork``, as many as the app's),
    in its own read-only unit of work from the same services (read session factory, engine and
    pool), one indexed SELECT of the subscriber by the phone as sent, answering
    ``CON <account number>``. Any USSD screen must pay at least this.
  - ``/bench/trivial``, the floor: routing and a response, nothing else (printed only).
- "My account" is ``POST /ussd`` with ``text=1`` from a random subscriber's phone: the real
  path (form parsing, phone normalization, the accounts of the phone, the language, the
  account summary with its balance, the screen), in its own transaction.
- Load comes from raw keep-alive HTTP/1.1 connections on one asyncio loop (cheap enough that
  the server, not the client, is what is measured):
  1. closed loop: ``--concurrency`` connections send back to back for ``--seconds``, per route:
     requests/s, latency percentiles and the server process's CPU (user + system seconds, from
     /proc, over the phase) per request. Headline: the throughput ratio account/fair, and the
     server CPU per "My account" request.
  2. open loop: ``--rate`` requests/s on a fixed schedule for ``--seconds``, per route; latency
     is measured from the scheduled instant, so a stalled server is not hidden (no coordinated
     omission). The p99 of "My account" at 200 requests/s is the other target.

Both routes run in the same run, one after the other, so other load on the machine moves both;
the ratio and the CPU per request move much less with it than requests/s do.

Targets (issue 18, replacing issue 5's trivial-route ratio): "My account" throughput at least
half the fair route's, server CPU per "My account" request at most 0.5 ms; (issue 5) p99 under
50 ms at 200 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from bench._common import (
    add_common_arguments,
    database_label,
    emit_result,
    insert_customers,
    load_average,
    open_env,
    percentile,
    scratch_database,
    start_simulator,
)

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from core.unit_of_work import CoreServices, UnitOfWork

TRIVIAL = "/bench/trivial"
FAIR = "/bench/fair"
ACCOUNT = "/ussd"
RATIO_TARGET = 0.5
CPU_TARGET_MS = 0.5


# -- the server (run as a child process) -------------------------------------------------------


def serve(url: str, port: int) -> None:
    """Serve mteja's web app plus the fair and trivial routes on ``port`` until terminated."""
    import uvicorn

    from core.clock import SystemClock
    from core.db import make_engine
    from core.testing import services_for
    from core.unit_of_work import CoreConfig
    from web.app import create_app

    services = services_for(
        make_engine(url), clock=SystemClock(), config=CoreConfig(isp_name="Bench Net")
    )
    app = create_app(services)
    for path, endpoint in bench_routes(services).items():
        app.add_route(path, endpoint, methods=["POST"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def bench_routes(services: CoreServices) -> dict[str, Callable[[Request], Awaitable[Response]]]:
    """The fair limit and the trivial floor, on ``services`` (the app's own)."""
    from sqlalchemy import bindparam, select
    from starlette.responses import PlainTextResponse

    from core.models import Customer
    from ussd.routes.forms import BadForm, read_form
    from ussd.routes.work import DatabaseWork

    # The app's USSD routes have their own DatabaseWork; this one has as many threads, and the
    # routes are measured one after the other, so neither waits for the other's.
    database = DatabaseWork(services)
    by_phone = (
        select(Customer.account_number)
        .where(Customer.phone == bindparam("phone"))  # ix_customers_phone
        .order_by(Customer.id)
        .limit(1)
    )

    def lookup(uow: UnitOfWork, phone: str) -> str | None:
        # On the session's connection, as core.usecases.selfservice.phone_overview runs.
        return uow.session.connection().execute(by_phone, {"phone": phone}).scalar()

    async def fair(request: Request) -> Response:
        """The fair limit: the form, then one indexed SELECT in its own read-only transaction."""
        try:
            form = await read_form(request)
        except BadForm:
            return PlainTextResponse("END Bad request", status_code=400)
        phone = form.get("phoneNumber", "").strip()
        account = await database.read(lambda uow: lookup(uow, phone))
        return PlainTextResponse(f"CON {account}" if account else "END unknown")

    async def trivial(request: Request) -> Response:
        """The floor: routing and a response, nothing else."""
        return PlainTextResponse("CON ok")

    return {FAIR: fair, TRIVIAL: trivial}


def start_server(url: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "bench.bench_ussd", "--serve", url, "--port", str(port)]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the server process exited") from None
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("the server did not start")


# -- a minimal keep-alive HTTP client --------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: POST a form, read the status and the body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: bench\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        response = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response[9:12])
        length = 0
        for line in response.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def account_body(phones: Sequence[str]) -> bytes:
    return urlencode(
        {
            "sessionId": f"ATUid_{random.randrange(10**9)}",
            "serviceCode": "*384*1234#",
            "phoneNumber": random.choice(phones),
            "networkCode": "63902",
            "text": "1",
        }
    ).encode()


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the server process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    route: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_seconds * 1000 / self.requests if self.requests else 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        lat = self.latencies_ms
        return (
            f"  {self.route:<16} {self.per_second:8.0f} req/s   "
            f"p50 {percentile(lat, 0.50):6.1f} ms   p99 {percentile(lat, 0.99):6.1f} ms   "
            f"max {max(lat, default=float('nan')):6.1f} ms   "
            f"server CPU {self.cpu_ms_per_request:5.2f} ms/req   ({self.requests} requests, "
            f"{self.errors} errors)"
        )


def body_for(route: str, phones: Sequence[str]) -> bytes:
    # The fair route gets the very form "My account" gets, so parsing costs the same.
    return b"text=" if route == TRIVIAL else account_body(phones)


def check(route: str, status: int, payload: bytes) -> bool:
    if route == ACCOUNT:
        return status == 200 and payload.startswith(b"CON Acc ")
    if route == FAIR:
        return status == 200 and payload.startswith(b"CON ") and len(payload) > 4
    return status == 200


async def closed_loop(
    port: int, route: str, phones: Sequence[str], concurrency: int, seconds: float
) -> Result:
    """``concurrency`` connections sending back to back for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    connections = [await Connection.open(port) for _ in range(concurrency)]
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection: Connection) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            body = body_for(route, phones)
            sent = time.perf_counter()
            try:
                status, payload = await connection.post(route, body)
            except (asyncio.IncompleteReadError, ConnectionError):
                errors += 1  # the server dropped the connection: count it, open another
                connection = await Connection.open(port)
                continue
            latencies.append((time.perf_counter() - sent) * 1000)
            if not check(route, status, payload):
                errors += 1

    await asyncio.gather(*(worker(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return Result(route, len(latencies), errors, elapsed, latencies)


async def open_loop(
    port: int, route: str, phones: Sequence[str], rate: float, seconds: float
) -> Result:
    """``rate`` requests per second on a fixed schedule; latency counted from the schedule."""
    total = int(rate * seconds)
    idle: list[Connection] = [await Connection.open(port) for _ in range(16)]
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()

    async def one(index: int) -> None:
        nonlocal errors
        scheduled = started + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        connection = idle.pop() if idle else await Connection.open(port)
        body = body_for(route, phones)
        try:
            status, payload = await connection.post(route, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            # uvicorn closes a keep-alive connection idle for 5 s (one opened in a burst and
            # not needed since): the request never reached it, so send it on a fresh one.
            connection = await Connection.open(port)
            try:
                status, payload = await connection.post(route, body)
            except (asyncio.IncompleteReadError, ConnectionError):
                errors += 1
                return
        latencies.append((time.perf_counter() - scheduled) * 1000)
        idle.append(connection)
        if not check(route, status, payload):
            errors += 1

    await asyncio.gather(*(one(index) for index in range(total)))
    elapsed = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return Result(route, total, errors, elapsed, latencies)


# -- the run ---------------------------------------------------------------------------------------


def populate(url: str, subscribers: int) -> list[str]:
    """Migrate, register a (simulated) router and the plans, insert the subscribers in bulk;
    returns their phones."""
    sim = start_simulator()
    try:
        env = open_env(url, sim)
        now = datetime.now(UTC)
        created = insert_customers(
            env,
            subscribers,
            lambda number: now + timedelta(days=1 + number % 30),
            sync_pending=False,
        )
        env.engine.dispose()
    finally:
        sim.stop()
    return [f"+2547{number:08d}" for number in range(len(created))]


async def timed(pid: int, run: Awaitable[Result]) -> Result:
    """``run``, with the server process's CPU seconds spent meanwhile."""
    before = server_cpu_seconds(pid)
    result = await run
    result.server_cpu_seconds = server_cpu_seconds(pid) - before
    print(result.line())
    return result


async def measure(port: int, pid: int, phones: Sequence[str], args: argparse.Namespace) -> None:
    routes = (TRIVIAL, FAIR, ACCOUNT)
    for route in routes:  # warm up: connections, caches, the thread pool
        await closed_loop(port, route, phones, args.concurrency, 2.0)
    print(
        f"closed loop, {args.concurrency} connections, {args.seconds:.0f} s per route "
        f"(load average {load_average()}):"
    )
    closed = {
        route: await timed(pid, closed_loop(port, route, phones, args.concurrency, args.seconds))
        for route in routes
    }
    print(
        f"open loop, {args.rate:.0f} requests/s for {args.seconds:.0f} s per route "
        f"(load average {load_average()}):"
    )
    rated = {
        route: await timed(pid, open_loop(port, route, phones, args.rate, args.seconds))
        for route in routes
    }
    trivial, fair, account = closed[TRIVIAL], closed[FAIR], closed[ACCOUNT]
    ratio = account.per_second / fair.per_second if fair.per_second else 0.0
    cpu_ratio = (
        fair.cpu_ms_per_request / account.cpu_ms_per_request if account.cpu_ms_per_request else 0.0
    )
    cpu_ms = account.cpu_ms_per_request
    p99 = percentile(rated[ACCOUNT].latencies_ms, 0.99)
    fair_p99 = percentile(rated[FAIR].latencies_ms, 0.99)
    print()
    print(
        f'throughput ratio "My account" / fair route: {ratio:.2f} '
        f"({account.per_second:.0f} / {fair.per_second:.0f} req/s; target >= {RATIO_TARGET:.2f}: "
        f"{'meets' if ratio >= RATIO_TARGET else 'MISSES'}); by server CPU per request: "
        f"{cpu_ratio:.2f} ({fair.cpu_ms_per_request:.2f} / {cpu_ms:.2f} ms)"
    )
    print(
        f'server CPU per "My account" request: {cpu_ms:.2f} ms (target <= {CPU_TARGET_MS} ms: '
        f"{'meets' if cpu_ms <= CPU_TARGET_MS else 'MISSES'}); fair route "
        f"{fair.cpu_ms_per_request:.2f} ms, trivial route {trivial.cpu_ms_per_request:.2f} ms"
    )
    print(
        f"floor: trivial route {trivial.per_second:.0f} req/s; "
        f'"My account" / trivial {account.per_second / (trivial.per_second or 1):.2f}'
    )
    print(
        f'p99 of "My account" at {args.rate:.0f} req/s: {p99:.1f} ms (target < 50 ms: '
        f"{'meets' if p99 < 50 else 'MISSES'}); fair route {fair_p99:.1f} ms"
    )
    print(f"load average at the end {load_average()}")
    subscribers = f"{len(phones):,} subscribers"
    errors = f"{account.errors} errors, fair route {fair.errors}"
    emit_result(
        f'USSD "My account" throughput, {subscribers}, {args.concurrency} connections',
        account.per_second,
        "req/s",
        target=f'ratio "My account" / fair route >= {RATIO_TARGET:.2f}',
        met=ratio >= RATIO_TARGET and not account.errors and not fair.errors,
        ratio=ratio,
        database=args.db,
        note=f"fair route {fair.per_second:.0f} req/s; {errors}",
    )
    emit_result(
        f'USSD "My account" server CPU per request, {subscribers}',
        cpu_ms,
        "ms",
        target=f"<= {CPU_TARGET_MS} ms",
        met=cpu_ms <= CPU_TARGET_MS and not account.errors,
        database=args.db,
        note=f"fair route {fair.cpu_ms_per_request:.2f} ms; closed loop, one uvicorn process",
    )
    emit_result(
        f'USSD "My account" p99 at {args.rate:.0f} req/s, {subscribers}',
        p99,
        "ms",
        target="p99 < 50 ms at 200 req/s",
        met=(p99 < 50 and not rated[ACCOUNT].errors) if args.rate >= 200 else None,
        database=args.db,
        note=f"fair route p99 {fair_p99:.1f} ms; {rated[ACCOUNT].errors} errors",
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return
    with (
        tempfile.TemporaryDirectory() as directory,
        scratch_database(args.db, Path(directory), args.pg_admin_url) as url,
    ):
        started = time.perf_counter()
        phones = populate(url, args.subscribers)
        print(
            f"{len(phones):,} subscribers in {database_label(url)} "
            f"({time.perf_counter() - started:.0f} s to insert); load average {load_average()}; "
            f"{os.cpu_count()} CPUs; one uvicorn process"
        )
        server, port = start_server(url)
        try:
            asyncio.run(measure(port, server.pid, phones, args))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
