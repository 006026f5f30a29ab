"""Benchmark: the staff bot's ``/find`` and ``/c`` with N customers (default 100,000): the core work
behind each answer, from the command text to the rendered answer, Telegram round trip excluded.

``python -m bench.bench_bot [--customers 100000] [--samples 300] [--db sqlite|postgresql]
[--no-trigram-index]`` (the last, PostgreSQL only, drops migration 0006's name-search index).
Prints p50/p95/p99/max per kind of query, and the same lookups through core alone (``find``,
``resolve`` + ``customer_card``), so what the bot adds shows. Asserts nothing. The target is p99
under 50 ms.

What is timed is ``StaffBot.text`` exactly as the Telegram adapter and the console call it:
identify the staff member (one query), parse, look up, build the card or the list, render text
and buttons. The router's online/offline view is not part of it (the card is sent first and
edited when the router answers; see bot.telegram), so it is not timed here.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bench._common import (
    POOL,
    BenchCustomer,
    add_bench_owner,
    add_common_arguments,
    bench_world,
    database_label,
    emit_result,
    insert_customers,
    latency_row,
    load_average,
    open_env,
    percentile,
    prepare_database,
)
from bot.staffbot import Caller, StaffBot
from core.lookup import find, resolve
from core.queries import customer_card
from core.unit_of_work import CoreServices

STAFF_USER_ID = 1001
TARGET_P99_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300, help="timed calls per kind of query")
    parser.add_argument(
        "--no-trigram-index",
        dest="trigram_index",
        action="store_false",
        help="PostgreSQL: drop the pg_trgm index of migration 0006 (part-of-the-name search) "
        "first, to show what it changes",
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if not args.trigram_index and args.db != "postgresql":
        parser.error("--no-trigram-index is for --db postgresql (SQLite has no trigram index)")
    with bench_world(args) as (_, url, sim):
        # The bench world registers a simulated router; no router call is timed here.
        run(args, url, sim)


def run(args: argparse.Namespace, url: str, sim: object) -> None:
    count = args.customers
    print(
        f"bench_bot: /find and /c with {count:,} customers, {database_label(url)} database, "
        f"{args.samples} samples per query kind; load average {load_average()}"
    )
    env = open_env(url, sim)  # type: ignore[arg-type]
    started = time.perf_counter()
    expires = datetime.now(UTC) + timedelta(days=30)
    customers = insert_customers(env, count, lambda _: expires, sync_pending=False)
    add_bench_owner(env, STAFF_USER_ID)
    prepare_database(env.engine, args.trigram_index)
    print(
        f"setup: {count:,} customers inserted in {time.perf_counter() - started:.1f} s; "
        f"trigram index: {_trigram_index(env.engine, args.trigram_index)}"
    )

    staff_bot = StaffBot(env.services)  # no presence lookup: the router is not timed
    caller = Caller(STAFF_USER_ID, "bench")
    rng = random.Random(6)
    picks = [rng.choice(customers) for _ in range(args.samples)]

    def bot(text: Callable[[BenchCustomer], str]) -> Callable[[BenchCustomer], object]:
        return lambda customer: staff_bot.text(caller, text(customer))

    kinds: list[tuple[str, Callable[[BenchCustomer], object]]] = [
        ("/find ACCOUNT", bot(lambda c: f"/find {c.account_number}")),
        ("/find PHONE (07…)", bot(lambda c: f"/find {_local_phone(c)}")),
        ("/find USERNAME", bot(lambda c: f"/find {c.username}")),
        ("/find IP", bot(lambda c: f"/find {_ip(c)}")),
        ("/find NAME (substring)", bot(lambda c: f"/find subscriber {_number(c)}")),
        ("/find NO MATCH", bot(lambda c: "/find nobody-by-this-name")),
        ("/c ACCOUNT", bot(lambda c: f"/c {c.account_number}")),
        ("/c account, lower case", bot(lambda c: f"/c {c.account_number.lower()}")),
        ("/c PHONE (+254…)", bot(lambda c: f"/c +2547{_number(c):08d}")),
        ("/c USERNAME", bot(lambda c: f"/c {c.username}")),
        ("/c IP", bot(lambda c: f"/c {_ip(c)}")),
        ("core find(account)", lambda c: _core_find(env.services, c.account_number)),
        ("core find(name)", lambda c: _core_find(env.services, f"subscriber {_number(c)}")),
        ("core resolve+card(account)", lambda c: _core_card(env.services, c.account_number)),
        ("core resolve+card(username)", lambda c: _core_card(env.services, c.username)),
    ]
    for _ in range(20):  # warm the connection pool and SQLAlchemy's statement cache
        kinds[0][1](picks[0])
        kinds[6][1](picks[0])
    print(latency_row("query", None, 30) + "   (milliseconds)")
    worst = 0.0
    worst_by_command: dict[str, float] = {}
    for label, call in kinds:
        times = []
        for customer in picks:
            started = time.perf_counter()
            call(customer)
            times.append((time.perf_counter() - started) * 1000)
        p99 = percentile(times, 0.99)
        if label.startswith("/"):
            worst = max(worst, p99)
            command = label.split()[0]
            worst_by_command[command] = max(worst_by_command.get(command, 0.0), p99)
        print(latency_row(label, times, 30))
    verdict = "meets" if worst < TARGET_P99_MS else "MISSES"
    print(f"worst bot p99 {worst:.2f} ms (target < {TARGET_P99_MS:.0f} ms: {verdict})")
    for command, command_p99 in worst_by_command.items():
        emit_result(
            f"bot {command}, worst p99 over its query kinds, {count:,} customers",
            command_p99,
            "ms",
            target=f"p99 < {TARGET_P99_MS:.0f} ms",
            met=command_p99 < TARGET_P99_MS,
            database=database_label(url),
            note=f"{args.samples} samples per kind; trigram index: "
            f"{_trigram_index(env.engine, args.trigram_index)}",
        )
    print(f"load average {load_average()}")


def _trigram_index(engine: Engine, wanted: bool) -> str:
    return "yes" if wanted and engine.dialect.name == "postgresql" else "no"


def _number(customer: BenchCustomer) -> int:
    return int(customer.username.removeprefix("sub"))


def _local_phone(customer: BenchCustomer) -> str:
    return f"07{_number(customer):08d}"


def _ip(customer: BenchCustomer) -> str:
    return str(POOL.network_address + 2 + _number(customer))


def _core_find(services: CoreServices, text: str) -> None:
    with services.unit_of_work() as uow:
        find(uow, text)


def _core_card(services: CoreServices, reference: str) -> None:
    with services.unit_of_work() as uow:
        customer_card(uow, resolve(uow, reference))


if __name__ == "__main__":
    main()
