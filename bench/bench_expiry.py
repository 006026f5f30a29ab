"""Benchmark: N PPPoE customers expire in the same second; seconds until the router has them all
disabled, through mteja's real path, against a bare librouteros loop doing the same writes.

``python -m bench.bench_expiry [--customers 10000] [--mode queue|consumer|immediate]
[--db sqlite|postgresql] [--profile]``. Prints figures, asserts nothing.

Modes (the mteja path; all use the real tasks registered by ``mteja.queueing.build_queue``):

- ``queue`` (default): MemoryHuey, not immediate. Before the instant, one ExpiryScheduled per
  customer goes through the real HueyDispatcher, which schedules one ``expire_due`` for that
  second. At the instant the schedule is read and the queue is drained by one loop
  (``huey.dequeue`` / ``huey.execute``): ``expire_due`` → ``expire_all_due`` (one transaction
  per customer, each publishing CustomerNeedsSync → ``enqueue_sync``, coalesced) → the queued
  ``sync_router`` → ``RouterSync.sync_pending``. One worker thread, no polling delays.
- ``consumer``: the same, run by an in-process huey consumer with ``--workers`` threads, as
  ``mteja worker`` does (periodic tasks off); completion is seen by polling the router.
- ``immediate``: ``MemoryHuey(immediate=True)``: every commit runs ``sync_router`` inline, so
  each customer gets its own sync (own connection). No deployment runs like this.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import librouteros
from huey import MemoryHuey
from librouteros.login import plain

import jobs.tasks
from bench._common import (
    API_PASSWORD,
    API_USER,
    PPP_SECRET,
    BenchEnv,
    PhaseTimer,
    Stopwatch,
    add_common_arguments,
    bench_world,
    database_label,
    disabled_count,
    emit_result,
    insert_customers,
    load_average,
    maybe_profiled,
    next_whole_second,
    open_env,
    pending_count,
    ratio_line,
    set_expiry,
    sleep_until,
    sync_until_converged,
    wrap_router_sync,
)
from core.events import ExpiryScheduled
from core.ports import RecordingNotifier
from core.settings import Settings
from jobs.locks import FileRouterLock
from mteja.bootstrap import System
from mteja.queueing import Queue, build_queue
from routers.gateway import RouterCredentials
from routers.librouteros_gateway import RouterOsGateway
from routers.sync import PENDING_BATCH, RouterSync, librouteros_factory
from sim.routeros import SimulatedRouter

MODE_DESCRIPTIONS = {
    "queue": "real tasks (build_queue on MemoryHuey), drained by one in-process worker loop",
    "consumer": "real tasks (build_queue on MemoryHuey), in-process huey consumer, {workers} "
    "threads",
    "immediate": "real tasks (build_queue on MemoryHuey(immediate=True)), each commit syncs inline",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--mode", choices=tuple(MODE_DESCRIPTIONS), default="queue")
    parser.add_argument("--workers", type=int, default=4, help="consumer threads (consumer mode)")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the mteja run (queue/immediate modes)"
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.profile and args.mode == "consumer":
        parser.error("--profile needs a single-threaded mode (queue or immediate)")

    with bench_world(args) as (tmp, url, sim):
        run(args, tmp, url, sim)


def run(args: argparse.Namespace, tmp: Path, url: str, sim: SimulatedRouter) -> None:
    count = args.customers
    print(
        f"bench_expiry: {count:,} PPPoE customers on one simulated router, "
        f"{database_label(url)} database, mode {args.mode}; load average {load_average()}"
    )
    env = open_env(url, sim)
    started = time.perf_counter()
    far = datetime.now(UTC) + timedelta(days=30)
    customers = insert_customers(env, count, lambda _: far)
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    sync_until_converged(env.router_sync(), env.router_id)
    print(
        f"setup: {count:,} customers inserted in bulk in {inserted:.1f} s; first sync through "
        f"RouterSync.sync_pending (enabled secrets on the router) in "
        f"{time.perf_counter() - started:.1f} s"
    )
    names = [customer.username for customer in customers]

    bare, bare_split = bare_librouteros_loop(sim, names)
    reenable(sim)
    gateway_seconds = gateway_loop(sim, names)
    reenable(sim)
    assert disabled_count(sim) == 0

    queue, huey = make_queue(env, tmp, args.mode)
    timer = PhaseTimer()
    timer.wrap(jobs.tasks, "expire_all_due", "db: expire_all_due")
    timer.wrap(RouterSync, "sync_pending", "sync_pending (whole)")
    wrap_router_sync(timer, RouterSync)

    # Everyone paid one period ending at the same second; renewal would publish this event.
    instant = next_whole_second(datetime.now(UTC), plus=2 + count / 4000)
    set_expiry(env, {customer.customer_id: instant for customer in customers})
    for customer in customers:
        env.services.dispatcher.dispatch(ExpiryScheduled(customer.customer_id, instant))

    swept = 0
    if args.mode == "consumer":
        mteja = run_consumer(huey, sim, count, instant, args.workers)
    else:
        mteja, swept = run_in_process(env, queue, huey, sim, count, instant, args.profile)
    left = count - disabled_count(sim)

    print(ratio_line(f"expiry {count} customers", mteja, bare))
    ratio = bare.wall / mteja.wall if mteja.wall else float("inf")
    emit_result(
        f"expiry of {count:,} customers in the same second, until all disabled ({args.mode})",
        mteja.wall,
        "s",
        target="ratio bare loop / mteja >= 0.80",
        met=ratio >= 0.8 and not left,
        ratio=ratio,
        database=database_label(url),
        note=f"bare librouteros loop {bare.wall:.2f} s"
        + (f"; {left:,} secrets still enabled at the end" if left else ""),
    )
    print(f"  mteja path: {MODE_DESCRIPTIONS[args.mode].format(workers=args.workers)}")
    print(
        f"  bare loop: connect+login {bare_split[0]:.2f} s, one print of ids "
        f"{bare_split[1]:.2f} s, {count:,} sets {bare_split[2]:.2f} s; the same sets through "
        f"mteja's RouterOsGateway: {gateway_seconds:.2f} s"
    )
    print_breakdown(timer, args.mode, mteja.wall)
    if swept:
        print(
            f"  NOTE: {swept:,} customers were still pending after the queued work ran "
            f"(one sync_router converges at most {PENDING_BATCH:,} customers and nothing "
            "re-queues the rest); they were converged here by "
            "running the minute sweep at once. In production they wait for that sweep, up to "
            "60 s more."
        )
    if left:
        print(f"  WARNING: {left:,} secrets were still enabled when measurement ended")
    print(f"  pending after run: {pending_count(env)}; load average {load_average()}")


def print_breakdown(timer: PhaseTimer, mode: str, mteja_seconds: float) -> None:
    """Where mteja's time went: the DB expiry work, and the router sync with its phases."""
    expiring = timer.seconds.get("db: expire_all_due", 0.0)
    expiring_cpu = timer.cpu.get("db: expire_all_due", 0.0)
    syncing = timer.seconds.get("sync_pending (whole)", 0.0)
    if mode == "immediate":
        # Each commit ran its sync inline, inside expire_all_due.
        expiring -= syncing
        expiring_cpu -= timer.cpu.get("sync_pending (whole)", 0.0)
    print("  where mteja's time went (wall time; the sync phases are parts of sync_pending):")
    print(
        f"    {'db: expire_all_due (expire + commit each)':<46} {expiring:7.2f} s "
        f"(cpu {expiring_cpu:6.2f} s)"
    )
    print(f"    {'sync_pending (whole)':<46} {timer.line('sync_pending (whole)')}")
    for name in timer.seconds:
        if name.startswith(("load:", "router:", "db: record", "db: save")):
            print(f"      {name:<44} {timer.line(name)}")
    if mode == "consumer":
        print("    (consumer threads overlap: the parts add up to more than the wall time)")
    else:
        other = mteja_seconds - expiring - syncing
        print(f"    {'other (queue, locks, sweep, scheduling)':<46} {other:7.2f} s")


def make_queue(env: BenchEnv, tmp: Path, mode: str) -> tuple[Queue, MemoryHuey]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=env.url,
        redis_url="",
        secret_key=env.secret_key,
        lock_dir=str(tmp / "locks"),
    )
    system = System(settings, env.engine, env.services)
    huey = MemoryHuey("mteja-bench", immediate=(mode == "immediate"), utc=True)
    queue = build_queue(
        system,
        huey=huey,
        gateways=librouteros_factory(),
        notifier=RecordingNotifier(),
        locks=FileRouterLock(tmp / "locks"),
    )
    return queue, huey


def run_in_process(
    env: BenchEnv,
    queue: Queue,
    huey: MemoryHuey,
    sim: SimulatedRouter,
    count: int,
    instant: datetime,
    profile: bool,
) -> tuple[Stopwatch, int]:
    """Run what is due at ``instant`` and everything it queues, in this thread; returns the
    time from the instant until the router has every secret disabled, and how many customers
    needed the sweep."""
    _drain(huey)  # a worker moves the not-yet-due expire_due from the queue to the schedule
    sleep_until(instant)
    watch = Stopwatch()
    with maybe_profiled(profile, "the mteja expiry path"), watch.running():
        due = huey.read_schedule()
        if len(due) != 1:
            raise RuntimeError(f"expected one expire_due scheduled at the instant, not {len(due)}")
        for task in due:
            huey.enqueue(task)  # immediate mode runs it (and all it triggers) right here
        _drain(huey)
        swept = 0
        if disabled_count(sim) < count:
            swept = pending_count(env)
            queue.tasks.sweep.call_local()
            _drain(huey)
    # Started a hair after the instant (sleep wake-up); count from the instant itself.
    watch.wall = (datetime.now(UTC) - instant).total_seconds()
    return watch, swept


def _drain(huey: MemoryHuey) -> None:
    while (task := huey.dequeue()) is not None:
        huey.execute(task)


def run_consumer(
    huey: MemoryHuey, sim: SimulatedRouter, count: int, instant: datetime, workers: int
) -> Stopwatch:
    """Let a huey consumer run the scheduled work; poll the router until all are disabled."""
    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=False, check_worker_health=False
    )
    consumer.start()
    watch = Stopwatch()
    try:
        sleep_until(instant)
        with watch.running():
            deadline = instant + timedelta(seconds=900)
            while disabled_count(sim) < count and datetime.now(UTC) < deadline:
                time.sleep(0.05)
        watch.wall = (datetime.now(UTC) - instant).total_seconds()
        return watch
    finally:
        consumer.stop(graceful=True)


def bare_librouteros_loop(
    sim: SimulatedRouter, names: list[str]
) -> tuple[Stopwatch, tuple[float, float, float]]:
    """One connection, one print for the ids, one ``set disabled=yes`` per secret."""
    wanted = set(names)
    started, cpu_started = time.perf_counter(), time.process_time()
    api = librouteros.connect(sim.host, API_USER, API_PASSWORD, port=sim.port, login_method=plain)
    connected = time.perf_counter()
    secrets_path = api.path(PPP_SECRET)
    ids = [row[".id"] for row in secrets_path.select(".id", "name") if str(row["name"]) in wanted]
    listed = time.perf_counter()
    for item_id in ids:
        secrets_path.update(**{".id": item_id, "disabled": True})
    done, cpu_done = time.perf_counter(), time.process_time()
    api.close()
    if len(ids) != len(names) or disabled_count(sim) < len(names):
        raise RuntimeError("the bare loop did not disable every secret")
    watch = Stopwatch(done - started, cpu_done - cpu_started)
    return watch, (connected - started, listed - connected, done - listed)


def gateway_loop(sim: SimulatedRouter, names: list[str]) -> float:
    """The same writes through mteja's driver (buffered reads, no typecasting)."""
    gateway = RouterOsGateway(RouterCredentials(sim.host, API_USER, API_PASSWORD, port=sim.port))
    wanted = set(names)
    started = time.perf_counter()
    rows = gateway.print(PPP_SECRET, [".id", "name"])
    for row in rows:
        if row["name"] in wanted:
            gateway.set(PPP_SECRET, row[".id"], {"disabled": "yes"})
    elapsed = time.perf_counter() - started
    gateway.close()
    return elapsed


def reenable(sim: SimulatedRouter) -> None:
    """Put every secret back to enabled, in process (untimed), for the next contender."""
    ids = [row[".id"] for row in sim.state.execute(PPP_SECRET, "print", {".proplist": ".id"}).rows]
    sim.state.execute(PPP_SECRET, "set", {".id": ",".join(ids), "disabled": "false"})


if __name__ == "__main__":
    main()
