"""Benchmark: a paybill confirmation reaches mteja → that customer's PPP secret is enabled on the
router. p50 and p99 over N confirmations (default 1,000) sent at a steady rate (default 50 per
second), each for a different expired customer.

``python -m bench.bench_payments [--db sqlite|postgresql] [--count 1000] [--rate 50]
[--web-workers 2] [--workers 4] [--redis-url redis://127.0.0.1:6379/0]``. Prints figures,
asserts nothing.

Backends, as deployed:

- ``--db sqlite`` (default): a SQLite file and a SqliteHuey queue file in a temp dir, file router
  locks.
- ``--db postgresql``: a fresh PostgreSQL database (created on ``--pg-admin-url``, dropped after)
  and the Redis priority queue (``jobs.queue``) on ``--redis-url`` under a queue name unique to
  this run, with Redis router leases under a unique prefix; the run's Redis keys are deleted
  afterwards.

Set-up (not timed): N + 5 PPPoE customers are inserted in bulk on one simulated router, their
paid time already over; core's expiry sweep (``expire_all_due``) marks them expired and
``RouterSync`` writes them to the router as disabled secrets.

What runs (the real code, in real processes):

- the web app as ``mteja web --workers N`` serves it (``mteja.web.serve``: ``--web-workers``
  uvicorn processes, default 2 as in the Procfile, each building the app from ``MTEJA_*``
  variables), under a child process;
- a huey consumer over the same ``build_queue`` tasks, in its own process, with ``--workers``
  threads as ``mteja worker`` runs it, but with periodic tasks off (the minute sweep and the
  ten-minute reconcile are not part of this path; a reconcile landing mid-run would hold the
  router lock);
- in this process: the RouterOS API simulator (the worker talks to it over TCP), the fake Daraja
  (``FakeDaraja.pay_bill`` with external validation off, so only the confirmation is posted,
  with the real payload), a sender that starts one payment every 1/rate seconds on a thread
  pool, and a watch the simulator tells of every write (``RouterState.on_write``).

Latency per customer = the moment the simulator wrote their secret enabled − the moment just
before their confirmation was posted, both on this process's monotonic clock. Five warm-up
payments (not counted) go first. Nothing is mocked: each confirmation is stored raw, parsed,
credited, renewed, and queues the router sync (coalesced per router), the receipt SMS (outbox)
and the staff alert.

The figures depend on the machine: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
from huey import Huey, SqliteHuey
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench._common import (
    PPP_SECRET,
    BenchCustomer,
    add_common_arguments,
    database_label,
    disabled_count,
    emit_result,
    forget_redis_keys,
    insert_customers,
    open_env,
    percentile,
    scratch_database,
    start_simulator,
    sync_until_converged,
)
from bench.system_load import LockSampler, SystemLoad
from core.models import Customer, Payment
from core.settings import Settings
from core.testing import free_port
from jobs.locks import FileRouterLock, RedisRouterLock, RouterLock
from jobs.queue import make_huey
from jobs.tasks import expire_all_due
from payments.callback_urls import c2b_confirmation_url, c2b_validation_url
from sim.daraja.server import SANDBOX_SHORTCODE, FakeDaraja
from sim.routeros import SimulatedRouter

WARMUP = 5
TOKEN = "bench-callback-token"
TARGET_P99_SECONDS = 1.0
# After the last secret is enabled, the queue (receipt SMS, staff alerts) must be empty within
# this: a worker that cannot keep up with the messages is backing up too.
DRAIN_LIMIT_SECONDS = 10.0
AMOUNT_KES = 1500  # the bench plan's price: one period each


@dataclass(frozen=True)
class Backend:
    """How the child processes reach the database, the queue and the router locks."""

    database_url: str
    secret_key: str
    queue_name: str
    huey_path: str | None  # SqliteHuey file, or None for RedisHuey
    redis_url: str
    lock_dir: str

    def huey(self) -> Huey:
        if self.huey_path is not None:
            return SqliteHuey(self.queue_name, filename=self.huey_path, utc=True)
        return make_huey(self.settings())  # the priority queue on Redis, as deployed

    def locks(self) -> RouterLock:
        if self.huey_path is not None:
            return FileRouterLock(Path(self.lock_dir))
        return RedisRouterLock(redis.Redis.from_url(self.redis_url), prefix=self.queue_name)

    def environment(self) -> dict[str, str]:
        """The settings as ``MTEJA_*`` variables: what the web processes read."""
        return {
            "MTEJA_DATABASE_URL": self.database_url,
            "MTEJA_SECRET_KEY": self.secret_key,
            "MTEJA_CALLBACK_TOKEN": TOKEN,
            "MTEJA_MPESA_ALLOWED_IPS": "127.0.0.1",
            "MTEJA_MPESA_SHORTCODE": SANDBOX_SHORTCODE,
            "MTEJA_LOCK_DIR": self.lock_dir,
            "MTEJA_QUEUE_NAME": self.queue_name,
            "MTEJA_HUEY_PATH": self.huey_path or "",
            "MTEJA_REDIS_URL": "" if self.huey_path is not None else self.redis_url,
        }

    def settings(self) -> Settings:
        variables = self.environment()
        return Settings(
            **{name.removeprefix("MTEJA_").lower(): value for name, value in variables.items()},
            _env_file=None,  # type: ignore[call-arg]
        )


# -- the two child processes -------------------------------------------------------------------


def serve_web(backend: Backend, port: int, web_workers: int) -> None:
    """`mteja web --workers N` on ``port`` (a child process), its settings in the environment."""
    from mteja.web import serve

    os.environ.update(backend.environment())
    os.chdir(Path(backend.lock_dir).parent)  # the temp dir: no .env to read
    serve(
        backend.settings(),
        host="127.0.0.1",
        port=port,
        workers=web_workers,
        log_level="warning",
        access_log=False,
    )


def run_worker(backend: Backend, workers: int) -> None:
    """The job consumer as `mteja worker` runs it, periodic tasks off (a child process)."""
    import logging

    from mteja.bootstrap import build_system
    from mteja.queueing import build_queue

    logging.basicConfig(level=logging.WARNING)
    system = build_system(backend.settings())
    queue = build_queue(system, huey=backend.huey(), locks=backend.locks())
    consumer = queue.huey.create_consumer(
        workers=workers, worker_type="thread", periodic=False, check_worker_health=True
    )
    consumer.run()


@contextmanager
def child_processes(
    backend: Backend, web_port: int, web_workers: int, workers: int
) -> Iterator[dict[str, int]]:
    """Starts the web and worker children; yields their pids by role."""
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=serve_web, args=(backend, web_port, web_workers), name="bench-web"),
        context.Process(target=run_worker, args=(backend, workers), name="bench-worker"),
    ]
    for child in children:
        child.start()
    try:
        yield {"web": children[0].pid or 0, "worker": children[1].pid or 0}
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.join(15)
            if child.is_alive():
                child.kill()
                child.join(5)


# -- sending and watching ------------------------------------------------------------------------


@dataclass
class Run:
    """What the sender saw, per username: when the confirmation went, how long mteja took to
    answer it, and any that were not acknowledged."""

    sent_at: dict[str, float] = field(default_factory=dict)
    acked_in: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    measured_seconds: float = 0.0  # first send → last secret enabled (or the timeout)
    drained_in: float = 0.0  # then until the job queue was empty
    lock_line: str | None = None


class RouterWatch:
    """Notes when each username's secret is first enabled on the simulator (monotonic seconds
    in ``enabled_at``): the simulator tells it of every write as it happens, so the moment is
    exact and watching costs nothing while nothing changes (polling every secret 50 times a
    second took several ms of CPU per payment away from the system measured)."""

    def __init__(self, sim: SimulatedRouter) -> None:
        self.enabled_at: dict[str, float] = {}
        self.lock = threading.Lock()
        self.engine: Any = None  # the database the capacity steps read statistics from
        self.database = ""
        self.queue: Huey | None = None  # the job queue, to see it drain
        sim.state.on_write(self._written)

    def snapshot(self) -> dict[str, float]:
        with self.lock:
            return dict(self.enabled_at)

    def __enter__(self) -> RouterWatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def _written(self, menu: str, items: list[dict[str, str]]) -> None:
        if menu != PPP_SECRET:
            return
        now = time.monotonic()
        with self.lock:
            for item in items:
                if item.get("disabled") == "false":
                    self.enabled_at.setdefault(item["name"], now)

    def wait_enabled(self, names: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if all(name in self.enabled_at for name in names):
                    return True
            time.sleep(0.05)
        return False


def pay(fake: FakeDaraja, customer: BenchCustomer, run: Run) -> None:
    started = time.monotonic()
    with run.lock:
        run.sent_at[customer.username] = started
    outcome = fake.pay_bill(customer.account_number, AMOUNT_KES)
    answered = time.monotonic() - started
    confirmation = outcome.confirmation
    with run.lock:
        run.acked_in[customer.username] = answered
        if confirmation is None or confirmation.status_code != 200:
            why = (
                outcome.reason
                if confirmation is None
                else f"{confirmation.status_code} {confirmation.error or ''}".strip()
            )
            run.failures.append(f"{customer.username}: {why}")


def send_at_rate(fake: FakeDaraja, customers: list[BenchCustomer], rate: float, run: Run) -> float:
    """Start one payment every 1/rate s (on a pool, so a slow answer delays no one); returns the
    seconds the sending took."""
    interval = 1.0 / rate
    with ThreadPoolExecutor(max_workers=64, thread_name_prefix="bench-pay") as pool:
        started = time.monotonic()
        for index, customer in enumerate(customers):
            delay = started + index * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(pay, fake, customer, run)
        sending = time.monotonic() - started
    return sending


# -- the benchmark -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=1000, help="confirmations measured")
    parser.add_argument("--rate", type=float, default=50.0, help="confirmations per second")
    parser.add_argument(
        "--steps",
        default="",
        help="then the capacity: comma-separated rates to step through, e.g. 25,50,75,100,150",
    )
    parser.add_argument(
        "--step-seconds", type=float, default=15.0, help="seconds of payments at each step"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="web processes")
    parser.add_argument("--workers", type=int, default=4, help="huey consumer threads")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait after the last send"
    )
    add_common_arguments(parser)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="mteja-bench-payments-") as tmp,
        scratch_database(args.db, Path(tmp), args.pg_admin_url) as url,
    ):
        sim = start_simulator()
        try:
            run_benchmark(args, Path(tmp), url, sim)
        finally:
            sim.stop()


def run_benchmark(args: argparse.Namespace, tmp: Path, url: str, sim: SimulatedRouter) -> None:
    count = args.count
    postgres = database_label(url) == "postgresql"
    label = "PostgreSQL + Redis" if postgres else "SQLite + SqliteHuey"
    steps = [float(rate) for rate in args.steps.split(",") if rate.strip()] if args.steps else []
    step_counts = [max(1, round(rate * args.step_seconds)) for rate in steps]
    print(
        f"bench_payments: {count:,} paybill confirmations at {args.rate:g}/s, each for a "
        f"different expired customer; {label}; {args.web_workers} web processes, "
        f"{args.workers} worker threads"
        + (
            f"; then capacity steps at {args.steps}/s, {args.step_seconds:g} s each"
            if steps
            else ""
        )
        + f"; load average {_load()}"
    )
    env = open_env(url, sim)
    started = time.monotonic()
    past = datetime.now(UTC) - timedelta(hours=1)
    customers = insert_customers(env, WARMUP + count + sum(step_counts), lambda _: past)
    expired = expire_all_due(env.services)
    sync_until_converged(env.router_sync(), env.router_id)
    print(
        f"set-up: {expired:,} customers expired and disabled on the router "
        f"({disabled_count(sim):,} disabled secrets) in {time.monotonic() - started:.1f} s"
    )
    backend = Backend(
        database_url=url,
        secret_key=env.secret_key,
        queue_name=f"mteja-bench-{secrets.token_hex(4)}",
        huey_path=None if postgres else str(tmp / "queue.db"),
        redis_url=args.redis_url,
        lock_dir=str(tmp / "locks"),
    )
    web_port = free_port()
    fake = FakeDaraja(external_validation=False)
    database = make_url(url).database or ""
    try:
        with child_processes(backend, web_port, args.web_workers, args.workers) as pids:
            base = f"http://127.0.0.1:{web_port}"
            _wait_healthy(base)
            fake.register_urls(
                {
                    "ShortCode": SANDBOX_SHORTCODE,
                    "ResponseType": "Completed",
                    "ConfirmationURL": c2b_confirmation_url(base, TOKEN),
                    "ValidationURL": c2b_validation_url(base, TOKEN),
                }
            )
            with RouterWatch(sim) as watch:
                watch.engine, watch.database = env.engine, database
                watch.queue = backend.huey()
                warm_up(fake, watch, customers[:WARMUP])
                batch = customers[WARMUP : WARMUP + count]
                load = SystemLoad(pids, env.engine, database)
                run = measure(args, fake, watch, batch, args.rate, load)
                outcome = report(args, label, run, watch, batch, args.rate, load)
                outcome.emit(label, headline=True)
                if steps:
                    capacity(args, label, fake, watch, customers[WARMUP + count :], steps, pids)
    finally:
        fake.close()
        if postgres:
            forget_redis_keys(args.redis_url, backend.queue_name)
    with env.services.unit_of_work() as uow:
        payments = uow.session.scalar(
            select(func.count(Payment.id)).where(Payment.method == "mpesa")
        )
        active = uow.session.scalar(
            select(func.count(Customer.id)).where(Customer.status == "active")
        )
    print(f"  database afterwards: {payments:,} M-Pesa payments, {active:,} active customers")
    print(f"  load average {_load()}")
    env.engine.dispose()


def warm_up(fake: FakeDaraja, watch: RouterWatch, customers: list[BenchCustomer]) -> None:
    """A few payments first (not counted): connections, caches and prepared statements."""
    send_at_rate(fake, customers, 5.0, Run())
    if not watch.wait_enabled([c.username for c in customers], 60):
        print("  WARNING: the warm-up payments were not all enabled within 60 s")


def measure(
    args: argparse.Namespace,
    fake: FakeDaraja,
    watch: RouterWatch,
    customers: list[BenchCustomer],
    rate: float,
    load: SystemLoad,
) -> Run:
    """Send one payment for each of ``customers`` at ``rate`` and wait for their secrets.
    ``load`` is read around it: CPU per process role, commits, WAL fsyncs; lock waits are
    sampled meanwhile."""
    run = Run()
    assert load.engine is not None
    with LockSampler(load.engine, load.database) as locks:
        load.begin()
        started = time.monotonic()
        sending = send_at_rate(fake, customers, rate, run)
        print(f"  sent {len(customers):,} confirmations at {rate:g}/s in {sending:.1f} s")
        watch.wait_enabled([c.username for c in customers], args.timeout)
        run.measured_seconds = time.monotonic() - started
        load.finish()
        run.drained_in = _drain_seconds(watch.queue, DRAIN_LIMIT_SECONDS * 3)
    run.lock_line = locks.line()
    return run


def _drain_seconds(queue: Huey | None, limit: float) -> float:
    """Seconds until the job queue is empty (the receipts and staff alerts the payments queued,
    which wait behind router work), or ``limit`` if it is not by then."""
    if queue is None:
        return 0.0
    started = time.monotonic()
    while queue.pending_count() and time.monotonic() - started < limit:
        time.sleep(0.1)
    return time.monotonic() - started


@dataclass
class Outcome:
    """One measured batch, judged: p99 ≤ 1 s, every secret enabled, every confirmation
    answered, the last tenth no slower than the limit (a backlog that was still growing), and
    the job queue empty soon after (messages not piling up behind router work)."""

    rate: float
    count: int
    p50: float
    p99: float
    tail_p99: float
    missing: int
    unanswered: int
    drained_in: float

    @property
    def kept_up(self) -> bool:
        return (
            self.p99 <= TARGET_P99_SECONDS
            and self.tail_p99 <= TARGET_P99_SECONDS
            and not self.missing
            and not self.unanswered
            and self.drained_in <= DRAIN_LIMIT_SECONDS
        )

    def emit(self, label: str, *, headline: bool) -> None:
        if not headline:
            return
        postgres = label.startswith("PostgreSQL")
        emit_result(
            f"paybill confirmation → secret enabled, p99 over {self.count:,} at {self.rate:g}/s",
            self.p99 * 1000,
            "ms",
            target="p99 < 1 s on PostgreSQL + Redis",
            # The target is for PostgreSQL + Redis: a SQLite run is shown, not judged.
            met=self.kept_up if postgres else None,
            database=label,
            note=f"p50 {self.p50 * 1000:.0f} ms"
            + (f"; {self.missing:,} never enabled" if self.missing else "")
            + (f"; {self.unanswered:,} not acknowledged" if self.unanswered else ""),
        )


def report(
    args: argparse.Namespace,
    label: str,
    run: Run,
    watch: RouterWatch,
    customers: list[BenchCustomer],
    rate: float,
    load: SystemLoad,
) -> Outcome:
    enabled_at = watch.snapshot()
    names = [c.username for c in customers]
    latencies = [enabled_at[n] - run.sent_at[n] for n in names if n in enabled_at]
    tail = names[-max(1, len(names) // 10) :]
    tail_latencies = [enabled_at[n] - run.sent_at[n] for n in tail if n in enabled_at]
    acks = list(run.acked_in.values())
    outcome = Outcome(
        rate=rate,
        count=len(customers),
        p50=percentile(latencies, 0.50),
        p99=percentile(latencies, 0.99),
        tail_p99=percentile(tail_latencies, 0.99),
        missing=len(customers) - len(latencies),
        unanswered=len(run.failures),
        drained_in=run.drained_in,
    )
    print(
        f"{label}: {rate:g}/s, confirmation sent → secret enabled on the router, "
        f"over {len(latencies):,}"
    )
    print(
        f"  p50 {outcome.p50 * 1000:.0f} ms   p90 {percentile(latencies, 0.90) * 1000:.0f} ms   "
        f"p99 {outcome.p99 * 1000:.0f} ms   max {max(latencies, default=float('nan')) * 1000:.0f}"
        f" ms   (last tenth: p99 {outcome.tail_p99 * 1000:.0f} ms)"
    )
    print(
        f"  confirmation answered (200 from mteja): p50 {percentile(acks, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(acks, 0.99) * 1000:.0f} ms"
    )
    if run.failures:
        print(
            f"  {len(run.failures):,} confirmations not acknowledged within the fake's 10 s "
            f"timeout, e.g. {run.failures[:2]}"
        )
    if outcome.missing:
        print(
            f"  WARNING: {outcome.missing:,} secrets still disabled "
            f"{args.timeout:g} s after sending"
        )
    print(
        f"  job queue (receipts, alerts) empty {run.drained_in:.1f} s after the last secret "
        f"was enabled (limit {DRAIN_LIMIT_SECONDS:g} s)"
    )
    for line in load.lines(len(customers), run.measured_seconds):
        print(line)
    if run.lock_line:
        print(run.lock_line)
    verdict = "meets" if outcome.kept_up else "MISSES"
    target = f"target p99 < {TARGET_P99_SECONDS:g} s on PostgreSQL + Redis"
    if label.startswith("PostgreSQL"):
        print(f"  {target}: {verdict}")
    else:
        print(f"  ({target}; this run is SQLite + SqliteHuey)")
    return outcome


def capacity(
    args: argparse.Namespace,
    label: str,
    fake: FakeDaraja,
    watch: RouterWatch,
    customers: list[BenchCustomer],
    steps: list[float],
    pids: dict[str, int],
) -> None:
    """Step the rate up until a step does not keep up; the capacity is the last one that did.
    Each step pays fresh customers for ``--step-seconds`` and waits for all of them (and for
    the queue to drain) before the next starts."""
    best = 0.0
    first_miss: Outcome | None = None
    offset = 0
    for rate in steps:
        count = max(1, round(rate * args.step_seconds))
        batch, offset = customers[offset : offset + count], offset + count
        time.sleep(2)  # the previous step's receipts and alerts settle first
        load = SystemLoad(pids, watch.engine, watch.database)
        run = measure(args, fake, watch, batch, rate, load)
        outcome = report(args, label, run, watch, batch, rate, load)
        if not outcome.kept_up:
            first_miss = outcome
            break
        best = rate
    note = f"steps {args.steps}/s, {args.step_seconds:g} s each; " + (
        f"at {first_miss.rate:g}/s p99 {first_miss.p99 * 1000:,.0f} ms"
        if first_miss
        else "every step kept up"
    )
    print(f"capacity: {best:g} payments/s kept p99 ≤ 1 s with nothing backing up ({note})")
    emit_result(
        "capacity: highest steady paybill rate with p99 ≤ 1 s and nothing backing up",
        best,
        "payments/s",
        target=">= 100/s",
        met=best >= 100 if label.startswith("PostgreSQL") else None,
        database=label,
        note=note,
    )


# -- small helpers -------------------------------------------------------------------------------


def _wait_healthy(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web app at {base} did not come up within {timeout:.0f} s")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
