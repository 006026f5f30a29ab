"""Benchmark: one usage sample of N online sessions on one simulated router (target < 5 s).

``python -m bench.bench_usage [--sessions 10000] [--samples 3] [--db sqlite|postgresql]
[--profile]``. Prints figures, asserts nothing.

N PPPoE customers are inserted in bulk (``bench/_common.py``) on a plan with a 100 GB data cap, so
the cap check after each sample has real rows to look at (nobody reaches 80% here). Their secrets
are put on the simulator's state in process and every one of them dials in: N live sessions,
each moving traffic at the simulator's per-session rate. Then the production path is timed, the
one the 5-minute job runs: ``UsageSampler.sample(router_id)``, i.e. one read of ``/ppp/active``
and ``/ip/hotspot/active`` over the API (librouteros, real TCP) and one transaction writing the
readings, the daily totals and the period totals (plus the cap check). The router's first sample
only records where the counters stand; it is timed and shown apart. The figure is seconds per
sample (the mean and the slowest of ``--samples``), split into router read and database write.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bench._common import (
    PPP_SECRET,
    Stopwatch,
    add_common_arguments,
    bench_world,
    database_label,
    emit_result,
    insert_customers,
    load_average,
    maybe_profiled,
    open_env,
)
from core.models import DailyUsage, Plan
from routers.sync import librouteros_factory
from routers.usage import SampleResult, UsageSampler
from sim.routeros import SimulatedRouter

TARGET_SECONDS = 5.0
CAP_MB = 100_000
# What every session moves per second (the subscriber's download and upload).
DOWNLOAD_RATE = 50_000.0
UPLOAD_RATE = 5_000.0
SAMPLE_GAP_SECONDS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="online sessions (N)")
    parser.add_argument("--samples", type=int, default=3, help="timed samples after the first")
    parser.add_argument("--profile", action="store_true", help="cProfile the last sample")
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.sessions < 1 or args.samples < 1:
        parser.error("--sessions and --samples must be at least 1")
    with bench_world(args) as (_, url, sim):
        run(args, url, sim)


def run(args: argparse.Namespace, url: str, sim: SimulatedRouter) -> None:
    count = args.sessions
    print(
        f"bench_usage: {count:,} online PPPoE sessions on one simulated router, "
        f"{database_label(url)} database; load average {load_average()}"
    )
    env = open_env(url, sim)
    with env.services.unit_of_work() as uow:
        uow.session.execute(update(Plan).where(Plan.id == env.plan.id).values(data_cap_mb=CAP_MB))
        uow.commit()
    started = time.perf_counter()
    far = datetime.now(UTC) + timedelta(days=30)
    customers = insert_customers(env, count, lambda _: far, sync_pending=False)
    for customer in customers:
        sim.state.seed(PPP_SECRET, {"name": customer.username, "password": customer.password})
    sim.set_subscriber_traffic(DOWNLOAD_RATE, UPLOAD_RATE)
    online = sum(sim.connect(customer.username, customer.password) for customer in customers)
    print(
        f"setup: {count:,} customers inserted, their secrets seeded and {online:,} dialled in "
        f"({time.perf_counter() - started:.1f} s)"
    )

    sampler = UsageSampler(env.services, librouteros_factory())
    first = timed(sampler, env.router_id)
    print(f"first sample (only notes where the counters stand): {line(first)}")

    results: list[tuple[float, SampleResult]] = []
    for number in range(1, args.samples + 1):
        time.sleep(SAMPLE_GAP_SECONDS)  # the counters move between samples
        with maybe_profiled(args.profile and number == args.samples, "UsageSampler.sample"):
            results.append(timed(sampler, env.router_id))
        print(f"sample {number}: {line(results[-1])}")

    walls = [wall for wall, _ in results]
    mean, slowest = statistics.mean(walls), max(walls)
    verdict = "meets" if slowest < TARGET_SECONDS else "MISSES"
    print(
        f"one usage sample of {count:,} sessions: {mean:.2f} s per sample on average, slowest "
        f"{slowest:.2f} s (target < {TARGET_SECONDS:g} s: {verdict}); router read "
        f"{statistics.mean(r.read_seconds for _, r in results):.2f} s, database write "
        f"{statistics.mean(r.write_seconds for _, r in results):.2f} s on average"
    )
    emit_result(
        f"one usage sample of {count:,} online sessions on one router",
        mean,
        "s",
        target=f"< {TARGET_SECONDS:g} s",
        met=slowest < TARGET_SECONDS,
        database=database_label(url),
        note=f"slowest of {len(walls)} samples {slowest:.2f} s",
    )
    with env.services.unit_of_work() as uow:
        rows = uow.session.scalar(select(func.count()).select_from(DailyUsage))
        counted = uow.session.scalar(select(func.sum(DailyUsage.download_bytes)))
    print(
        f"  daily rows {rows:,}, download counted {int(counted or 0) / 1e9:.2f} GB; "
        f"load average {load_average()}"
    )


def timed(sampler: UsageSampler, router_id: int) -> tuple[float, SampleResult]:
    watch = Stopwatch()
    with watch.running():
        result = sampler.sample(router_id)
    return watch.wall, result


def line(timed_result: tuple[float, SampleResult]) -> str:
    wall, result = timed_result
    sample = result.sample
    return (
        f"{wall:.2f} s (router read {result.read_seconds:.2f} s, database write "
        f"{result.write_seconds:.2f} s); {sample.sessions:,} sessions read, "
        f"{sample.customers:,} matched, {sample.new_sessions:,} new, "
        f"{(sample.download_bytes + sample.upload_bytes) / 1e6:,.0f} MB counted, "
        f"cap changes {len(result.cap_outcomes)}"
    )


if __name__ == "__main__":
    main()
