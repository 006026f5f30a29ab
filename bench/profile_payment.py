"""Where one paybill confirmation's time goes in the web process: statements, transactions,
flushes, queue commands and CPU, counted in process (no concurrency, so the figures are exact
and do not move with the machine's load the way bench_payments' wall-clock figures do).

``python -m bench.profile_payment [--count 300] [--top 25]``. PostgreSQL + Redis, as deployed.

What runs per confirmation is what the route's worker thread runs (``payments.routes``):
``store_callback`` in its own transaction (the raw journal, committed before parsing), then
``handle`` (parse, credit, renew, invoice, receipt, finish the callback), with the events
dispatched to the real Redis priority queue (nothing consumes it; its keys are deleted after).
Printed per confirmation: SQL statements sent (and which, by their first words), commits,
ORM flushes, Redis commands, CPU milliseconds (this process), then the functions that took
the most time under cProfile (a second set of confirmations, inflated by the profiler: read
them for where, not for how much).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from bench._common import (
    DEFAULT_PG_ADMIN_URL,
    BenchCustomer,
    insert_customers,
    open_env,
    scratch_database,
    start_simulator,
    sync_until_converged,
)
from jobs.tasks import expire_all_due
from sim.daraja.server import SANDBOX_SHORTCODE

AMOUNT_KES = 1500  # the bench plan's price: one period each
REDIS_URL = "redis://127.0.0.1:6379/14"


class Counts:
    """SQL statements (by their first words), commits and flushes on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.statements: Counter[str] = Counter()
        self.commits = 0
        self.flushes = 0
        # Statements, flushes and commits in order, while one confirmation is traced.
        self.sequence: list[str] | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(Session, "before_flush", self._flush)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements[_kind(statement)] += 1
        if self.sequence is not None:
            self.sequence.append(f"  {_kind(statement)}")

    def _commit(self, conn: Any) -> None:
        self.commits += 1
        if self.sequence is not None:
            self.sequence.append("COMMIT")

    def _flush(self, *args: Any) -> None:
        self.flushes += 1
        if self.sequence is not None:
            self.sequence.append("flush:")

    def reset(self) -> None:
        self.statements.clear()
        self.commits = self.flushes = 0

    def snapshot(self) -> tuple[int, int]:
        return sum(self.statements.values()), self.commits

    def since(self, before: tuple[int, int]) -> tuple[int, int]:
        """Statements and commits since ``snapshot`` gave ``before``."""
        statements, commits = self.snapshot()
        return statements - before[0], commits - before[1]


class TaskCounts:
    """Per task name: runs, CPU seconds, SQL statements and commits."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[float]] = {}

    def add(self, name: str, cpu: float, sql: tuple[int, int]) -> None:
        runs, seconds, statements, commits = self.by_name.get(name, [0, 0.0, 0, 0])
        self.by_name[name] = [runs + 1, seconds + cpu, statements + sql[0], commits + sql[1]]

    def clear(self) -> None:
        self.by_name.clear()

    def cpu(self) -> float:
        return sum(values[1] for values in self.by_name.values())

    def statements(self) -> float:
        return sum(values[2] for values in self.by_name.values())

    def commits(self) -> float:
        return sum(values[3] for values in self.by_name.values())

    def lines(self, confirmations: int) -> list[str]:
        ordered = sorted(self.by_name.items(), key=lambda item: -item[1][1])
        return [
            f"{name}: {runs / confirmations:.2f} runs, CPU {seconds * 1000 / confirmations:.2f} "
            f"ms, {statements / confirmations:.1f} statements, {commits / confirmations:.1f} "
            "commits"
            for name, (runs, seconds, statements, commits) in ordered
        ]


def _kind(statement: str) -> str:
    """``SELECT customers``, ``INSERT ledger_entries``, ``UPDATE mpesa_callbacks`` …"""
    words = " ".join(statement.split())
    verb = words.split(" ", 1)[0].upper()
    if verb == "SELECT":
        found = re.search(r"\bFROM (\w+)", words)
        return f"SELECT {found.group(1) if found else '?'}"
    found = re.search(r"^(?:INSERT INTO|UPDATE|DELETE FROM) (\w+)", words, re.IGNORECASE)
    return f"{verb} {found.group(1) if found else '?'}"


def confirmation_body(customer: BenchCustomer, number: int) -> bytes:
    """A paybill confirmation as Daraja posts it (sim/daraja's payload shape)."""
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": f"PRF{number:07d}",
            "TransTime": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
            "TransAmount": str(AMOUNT_KES),
            "BusinessShortCode": SANDBOX_SHORTCODE,
            "BillRefNumber": customer.account_number,
            "InvoiceNumber": "",
            "OrgAccountBalance": "1000.00",
            "ThirdPartyTransID": "",
            "MSISDN": "254708374149",
            "FirstName": "John",
            "MiddleName": "",
            "LastName": "",
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=300, help="confirmations counted")
    parser.add_argument("--top", type=int, default=25, help="functions listed from cProfile")
    parser.add_argument(
        "--sequence", action="store_true", help="print one confirmation's statements in order"
    )
    parser.add_argument(
        "--worker",
        action="store_true",
        help="also run the queued tasks in this process after each confirmation, and count them",
    )
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="mteja-profile-payment-") as tmp,
        scratch_database("postgresql", Path(tmp), args.pg_admin_url) as url,
    ):
        sim = start_simulator()
        try:
            profile(args, Path(tmp), url, sim)
        finally:
            sim.stop()


def profile(args: argparse.Namespace, tmp: Path, url: str, sim: Any) -> None:
    from core.retry import in_transaction
    from core.settings import Settings
    from core.usecases.mpesa_callbacks import store_callback
    from mteja.bootstrap import build_system
    from mteja.queueing import build_queue
    from payments.handling import C2B_CONFIRMATION, handle

    env = open_env(url, sim)
    past = datetime.now(UTC) - timedelta(hours=1)
    warmup = 5
    customers = insert_customers(env, warmup + 4 * args.count + 1, lambda _: past)
    expire_all_due(env.services)
    sync_until_converged(env.router_sync(), env.router_id)
    queue_name = f"mteja-profile-{secrets.token_hex(4)}"
    settings = Settings(
        database_url=url,
        secret_key=env.secret_key,
        redis_url=REDIS_URL,
        queue_name=queue_name,
        lock_dir=str(tmp / "locks"),
        _env_file=None,  # type: ignore[call-arg]
    )
    os.chdir(tmp)
    system = build_system(settings)
    queue = build_queue(system)
    services = system.services
    counts = Counts(system.engine)
    client = redis.Redis.from_url(REDIS_URL)
    redis_commands = _count_redis_commands()

    def confirm(customer: BenchCustomer, number: int) -> None:
        body = confirmation_body(customer, number)
        stored = in_transaction(
            services, lambda uow: store_callback(uow, C2B_CONFIRMATION, body, "127.0.0.1")
        )
        handled = handle(services, stored.id, C2B_CONFIRMATION, body, SANDBOX_SHORTCODE)
        assert handled.status_code == 200 and handled.outcome == "processed", handled

    tasks = TaskCounts()

    def run_queued() -> None:
        """What a worker does next: every queued task, highest priority first."""
        while (task := queue.huey.dequeue()) is not None:
            name = task.name.rsplit(".", 1)[-1]
            before = counts.snapshot()
            started = time.process_time()
            queue.huey.execute(task)
            tasks.add(name, time.process_time() - started, counts.since(before))

    def run(batch: list[BenchCustomer], first: int, around: Callable[[], Any] | None) -> None:
        for offset, customer in enumerate(batch):
            confirm(customer, first + offset)
            if around is not None:
                around()

    try:
        run(customers[:warmup], 0, run_queued if args.worker else None)
        counted = customers[warmup : warmup + args.count]
        counts.reset()
        redis_commands.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        run(counted, warmup, None)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        redis_per = redis_commands.total() / args.count
        n = args.count
        print(
            f"profile_payment: {n:,} paybill confirmations, one at a time, PostgreSQL + Redis "
            f"priority queue; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        statements = sum(counts.statements.values())
        print(
            f"  per confirmation: {statements / n:.1f} SQL statements, {counts.commits / n:.1f} "
            f"commits, {counts.flushes / n:.1f} ORM flushes, {redis_per:.1f} Redis commands "
            f"({', '.join(sorted(redis_commands))}); "
            f"CPU {cpu * 1000 / n:.2f} ms, wall {wall * 1000 / n:.2f} ms"
        )
        for kind, number in sorted(counts.statements.items(), key=lambda item: (-item[1], item[0])):
            print(f"    {number / n:4.1f}  {kind}")
        if args.worker:
            # The tasks these confirmations queued (one router sync for all of them: syncs are
            # coalesced while one is waiting) are not what is counted next.
            run_queued()
            tasks.clear()
            worker = customers[warmup + args.count : warmup + 2 * args.count]
            run(worker, warmup + 3 * args.count, run_queued)
            print(
                "  the worker, each confirmation's tasks run before the next confirmation (no "
                "coalescing of router syncs), per confirmation: "
                f"CPU {tasks.cpu() * 1000 / n:.2f} ms, {tasks.statements() / n:.1f} SQL "
                f"statements, {tasks.commits() / n:.1f} commits"
            )
            for line in tasks.lines(n):
                print(f"    {line}")
        if args.sequence:
            counts.sequence = []
            confirm(customers[-1], 4 * n + warmup)
            print("  one confirmation in order (statements under the flush that sent them):")
            print("\n".join(f"    {step}" for step in counts.sequence))
            counts.sequence = None

        print("  cProfile, mteja's own functions by cumulative time (inflated by the profiler):")
        print(
            _profiled(
                lambda: run(customers[warmup + 2 * n : warmup + 3 * n], warmup + 2 * n, None),
                r"/(core|payments|jobs|mteja)/",
                args.top,
            )
        )
        if args.worker:
            run_queued()  # the profiled confirmations' own tasks are not the worker's figure
            print("  cProfile of the same with the worker's tasks (confirmations included):")
            print(
                _profiled(
                    lambda: run(
                        customers[warmup + 3 * n : warmup + 4 * n], warmup + 5 * n, run_queued
                    ),
                    r"/(core|jobs|routers)/",
                    args.top,
                )
            )
    finally:
        for key in client.scan_iter(match=f"*{queue.huey.storage.name}*"):
            client.delete(key)
        client.close()
        system.close()
        env.engine.dispose()


def _count_redis_commands() -> Counter[str]:
    """Counts the Redis commands this process sends, by name (the server's own statistics
    would count every other client too)."""
    sent: Counter[str] = Counter()
    original = redis.Redis.execute_command

    def counted(self: redis.Redis, *args: Any, **options: Any) -> Any:
        sent[str(args[0]).split(" ")[0].upper()] += 1
        return original(self, *args, **options)

    redis.Redis.execute_command = counted  # type: ignore[method-assign]
    return sent


def _profiled(work: Callable[[], Any], functions: str, top: int) -> str:
    """cProfile's table of ``work``: the ``top`` functions whose file matches ``functions``,
    by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(functions, top)
    return _trimmed(out.getvalue())


def _trimmed(text: str) -> str:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    return "\n".join("    " + line for line in lines[start:] if line.strip())


if __name__ == "__main__":
    main()
