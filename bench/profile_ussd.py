"""Where a USSD "My account" request goes: statements, round trips, commits and CPU per request.

``python -m bench.profile_ussd [--subscribers 100000] [--db postgresql] [--requests 2000]
[--py-spy SECONDS]``. Not a benchmark (``python -m bench`` does not run it); a companion of
``bench_ussd``, with the same app, routes and subscribers.

1. Counts, in process, through the ASGI app (no HTTP server): per request of each route, the
   SQL statements SQLAlchemy executes, the COMMITs and ROLLBACKs, the pool checkouts, and the
   round trips to PostgreSQL as libpq's trace sees them (a simple Query or an extended-protocol
   Sync sent by the client, each answered before the next is sent; pre-ping and BEGIN included).
2. cProfile of ``--requests`` "My account" requests with the database work run inline (one
   thread, so cProfile sees it all; the thread hop is left out): the top functions by own time.
3. With ``--py-spy SECONDS`` (py-spy installed): the real server (uvicorn, as bench_ussd runs
   it) sampled by py-spy under ``bench_ussd``'s closed loop on "My account": the functions the
   samples were in (own) and under (total), every thread.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench._common import add_common_arguments, load_average, scratch_database
from bench.bench_ussd import (
    ACCOUNT,
    FAIR,
    account_body,
    bench_routes,
    closed_loop,
    populate,
)


class Counts:
    """What the engine did, counted by its events and by libpq's trace of each connection."""

    def __init__(self, engine: Any, trace_dir: Path) -> None:
        from sqlalchemy import event

        self.events: Counter[str] = Counter()
        self.trace_dir = trace_dir
        self.traces: list[Path] = []
        self._pgconns: list[Any] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", lambda _c: self.events.update(["commit"]))
        event.listen(engine, "rollback", lambda _c: self.events.update(["rollback"]))
        event.listen(engine.pool, "checkout", lambda *_a: self.events.update(["checkout"]))
        event.listen(engine.pool, "connect", self._trace)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.events["statement"] += 1
        self.events["statement: " + " ".join(statement.split())[:90]] += 1

    def _trace(self, dbapi_connection: Any, _record: Any) -> None:
        pgconn = getattr(dbapi_connection, "pgconn", None)
        if pgconn is None:
            return
        from psycopg import pq

        path = self.trace_dir / f"trace{len(self.traces)}.txt"
        self.traces.append(path)
        handle = open(path, "w")  # noqa: SIM115 - libpq writes to it for the connection's life
        pgconn.trace(handle.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        self._keep = [*getattr(self, "_keep", []), handle]
        self._pgconns.append(pgconn)

    def round_trips(self) -> Counter[str]:
        """Client messages that wait for an answer: simple Query, or Sync ending a batch."""
        found: Counter[str] = Counter()
        for handle in getattr(self, "_keep", []):
            handle.flush()
        for path in self.traces:
            for line in path.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) > 2 and parts[0] == "F" and parts[2] in ("Query", "Sync"):
                    found[parts[2]] += 1
                    if parts[2] == "Query":
                        found["Query: " + parts[3][:60]] += 1
        return found

    def stop_tracing(self) -> None:
        """libpq's trace costs more than the statements it traces: off before timing anything."""
        for pgconn in self._pgconns:
            pgconn.untrace()

    def reset(self) -> None:
        self.events.clear()
        for handle in getattr(self, "_keep", []):
            handle.flush()
            handle.truncate(0)
            handle.seek(0)


async def call(app: Any, path: str, body: bytes) -> tuple[int, bytes]:
    """One POST straight through the ASGI app."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def build_app(url: str) -> tuple[Any, Any]:
    from core.clock import SystemClock
    from core.db import make_engine
    from core.testing import services_for
    from core.unit_of_work import CoreConfig
    from web.app import create_app

    engine = make_engine(url)
    services = services_for(engine, clock=SystemClock(), config=CoreConfig(isp_name="Bench Net"))
    app = create_app(services)
    for path, endpoint in bench_routes(services).items():
        app.add_route(path, endpoint, methods=["POST"])
    return app, engine


def count_per_request(app: Any, counts: Counts, phones: Sequence[str], requests: int) -> None:
    async def run(route: str) -> None:
        for _ in range(requests):
            status, payload = await call(app, route, account_body(phones))
            assert status == 200 and payload.startswith(b"CON "), (route, status, payload)

    for route in (FAIR, ACCOUNT):
        asyncio.run(run(route))  # warm: connections, caches
        counts.reset()
        asyncio.run(run(route))
        trips = counts.round_trips()
        print(f"{route}: per request, over {requests} requests")
        for name, number in sorted({**counts.events, **trips}.items()):
            print(f"  {number / requests:6.2f}  {name}")


def inline_profile(app: Any, phones: Sequence[str], requests: int, top: int) -> None:
    """CPU per request of both routes, then cProfile of "My account", with the database work
    inline (no thread hop)."""
    import anyio.to_thread

    async def inline(function: Callable[[], Any], *args: Any, **_kwargs: Any) -> Any:
        return function(*args)

    original = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = inline  # type: ignore[assignment]
    try:

        async def run(route: str) -> float:
            started = time.process_time()
            for _ in range(requests):
                await call(app, route, account_body(phones))
            return time.process_time() - started

        # Best of five rounds, the routes alternating: other load on the machine only adds.
        best = {FAIR: float("inf"), ACCOUNT: float("inf")}
        for _ in range(5):
            for route in best:
                best[route] = min(best[route], asyncio.run(run(route)))
        profiler = cProfile.Profile(time.thread_time)  # CPU, not waiting on the server
        profiler.enable()
        asyncio.run(run(ACCOUNT))
        profiler.disable()
    finally:
        anyio.to_thread.run_sync = original
    print("\ninline (no HTTP server, no thread hop), CPU per request, best of 5 rounds:")
    for route, seconds in best.items():
        print(f"  {route:<12} {seconds * 1000 / requests:.3f} ms")
    print(f"  difference   {(best[ACCOUNT] - best[FAIR]) * 1000 / requests:.3f} ms")
    for order in ("tottime", "cumulative"):
        print(f"top {top} by {order}, CPU (profiled: inflated; read where, not how much):")
        stats = pstats.Stats(profiler)
        stats.sort_stats(order).print_stats(top)


def py_spy(url: str, phones: Sequence[str], seconds: float, top: int) -> None:
    spy = shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed")
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    raw = Path(tempfile.mkdtemp()) / "samples.txt"
    command = [
        spy,
        "record",
        "--format",
        "raw",
        "--threads",
        "--rate",
        "500",
        "--output",
        str(raw),
        "--",
        sys.executable,
        "-m",
        "bench.bench_ussd",
        "--serve",
        url,
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        result = asyncio.run(closed_loop(port, ACCOUNT, phones, 32, seconds))
        print(f"\npy-spy: {result.per_second:.0f} req/s under the sampler")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [frame.split(" (")[0] + " " + _where(frame) for frame in stack.split(";")]
        if "process " in frames[0] or frames[0].startswith("thread"):
            frames = frames[1:]
        if not frames or any(frame.startswith(_SKIPPED) for frame in frames):
            continue
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    print(f"{samples} samples on CPU or in a system call (idle waits and imports left out);")
    print("by own time:")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("by total time (the frame or anything it called):")
    for frame, count in total.most_common(top * 2):
        print(f"  {100 * count / samples:5.1f}%  {frame}")


# Waiting (idle worker threads, the event loop's select, a query on the server) and start-up.
_SKIPPED = ("Condition.wait ", "_find_and_load ", "EpollSelector.select ")


def _where(frame: str) -> str:
    inside = frame.partition(" (")[2].rstrip(")")
    path, _, line = inside.rpartition(":")
    return f"({'/'.join(Path(path).parts[-2:])}:{line})"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(db="postgresql")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--py-spy", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    random.seed(18)
    with (
        tempfile.TemporaryDirectory() as directory,
        scratch_database(args.db, Path(directory), args.pg_admin_url) as url,
    ):
        phones = populate(url, args.subscribers)
        print(f"{len(phones):,} subscribers; load average {load_average()}; {os.cpu_count()} CPUs")
        app, engine = build_app(url)
        counts = Counts(engine, Path(directory))
        count_per_request(app, counts, phones, min(args.requests, 200))
        counts.stop_tracing()
        inline_profile(app, phones, args.requests, args.top)
        engine.dispose()
        if args.py_spy:
            py_spy(url, phones, args.py_spy, args.top)


if __name__ == "__main__":
    main()
