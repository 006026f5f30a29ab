"""Benchmark: one page of 20 of the staff customer list over many customers, and the CSV export.

``python -m bench.bench_lists [--customers 10000] [--db sqlite|postgresql] [--repeats 20]``.
Prints figures, asserts nothing.

Customers are inserted in bulk (``insert_customers``: each with a payment, a plan charge and a
subscription in the ledger), their expiries spread over 60 days, one in ten put in debt. Each
list is ``core.customer_list.list_customers`` in its own unit of work, as the bot and the CLI
call it: the median and the worst of ``--repeats`` runs, and the SQL statements one page took.
Target (issue 16): a page well under 100 ms at 10,000 customers, the same number of statements
whatever the size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from sqlalchemy import event, insert, select

from bench._common import (
    ACTOR,
    add_common_arguments,
    bench_world,
    database_label,
    emit_result,
    insert_customers,
    load_average,
    open_env,
)
from core.customer_list import (
    BalanceFilter,
    CustomerFilter,
    ListStatus,
    SortKey,
    export_customers,
    list_customers,
)
from core.models import Customer, LedgerEntry

PAGE = 20
TARGET_MS = 100.0
LISTS = {
    "all by name, page 1": (CustomerFilter(), 0),
    "all by name, page 250": (CustomerFilter(), 4980),
    "expiring by expiry": (CustomerFilter(status=ListStatus.EXPIRING, sort=SortKey.EXPIRY), 0),
    "in debt by balance": (CustomerFilter(balance=BalanceFilter.DEBT, sort=SortKey.BALANCE), 0),
    "all by balance": (CustomerFilter(sort=SortKey.BALANCE), 0),
    "all by created": (CustomerFilter(sort=SortKey.CREATED), 0),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=20)
    add_common_arguments(parser)
    args = parser.parse_args()
    with bench_world(args) as (_, url, sim):
        env = open_env(url, sim)
        now = env.services.clock.now()
        started = time.perf_counter()
        insert_customers(
            env, args.customers, lambda number: now + timedelta(minutes=17 * (number % 5000))
        )
        with env.services.unit_of_work() as uow:
            ids = list(uow.session.scalars(select(Customer.id).order_by(Customer.id)))[::10]
            uow.session.execute(
                insert(LedgerEntry),
                [
                    {
                        "customer_id": customer_id,
                        "kind": "debt",
                        "amount_kes": -500,
                        "description": "bench debt",
                        "actor": ACTOR.label,
                        "created_at": now,
                    }
                    for customer_id in ids
                ],
            )
            uow.commit()
        database = database_label(url)
        print(
            f"{args.customers} customers on {database} inserted in "
            f"{time.perf_counter() - started:.1f} s; load {load_average()}"
        )
        statements: list[str] = []
        event.listen(env.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        worst_median = 0.0
        for label, (where, offset) in LISTS.items():
            timings = []
            for _ in range(args.repeats):
                statements.clear()
                begun = time.perf_counter()
                with env.services.unit_of_work() as uow:
                    page = list_customers(uow, ACTOR, where, limit=PAGE, offset=offset)
                timings.append((time.perf_counter() - begun) * 1000)
            median = statistics.median(timings)
            worst_median = max(worst_median, median)
            print(
                f"{label:<24} {len(page.rows):>3} of {page.total:>6}: median {median:6.1f} ms, "
                f"worst {max(timings):6.1f} ms, {len(statements)} statements"
            )
        emit_result(
            f"customer list page of {PAGE}, slowest list (median)",
            worst_median,
            "ms",
            target=f"< {TARGET_MS:.0f} ms at 10,000 customers",
            met=worst_median < TARGET_MS,
            database=database,
            note=f"{args.customers} customers",
        )
        begun = time.perf_counter()
        with env.services.unit_of_work() as uow:
            export = export_customers(uow, ACTOR, CustomerFilter())
            uow.commit()
        seconds = time.perf_counter() - begun
        print(
            f"CSV export of {export.rows} customers: {seconds:.2f} s, {len(export.content)} bytes"
        )
        emit_result("CSV export of every customer", seconds, "s", database=database)
        env.engine.dispose()


if __name__ == "__main__":
    main()
