"""Benchmark: the resident size (RSS) of mteja's processes with N customers (default 100,000),
peak and after the work, per Procfile role (issue 18). Target: a worker under 300 MB at its peak.

``python -m bench.bench_memory [--customers 100000] [--db postgresql|sqlite]
[--redis-url redis://127.0.0.1:6379/0] [--sample-ms 200] [--keep-logs DIR]``. Prints figures,
asserts nothing.

The processes are the Procfile's own lines, read from the Procfile (``web``, ``worker``,
``scheduler``, ``bot``; ``mteja`` replaced by this interpreter running the same CLI), each with
its settings in ``MTEJA_*`` variables and run in a temp dir (no ``.env`` is read). On PostgreSQL
the queue is RedisHuey under a name unique to the run (its keys are deleted afterwards); on
SQLite, SqliteHuey and file locks. This process holds the RouterOS API simulator (the workers
and the bot reach it over TCP) and the fake Telegram Bot API (``sim.telegram``; ``mteja bot``
long-polls it, never api.telegram.org), and plays the staff and the subscribers.

Set-up: N PPPoE customers inserted in bulk (``insert_customers``) with realistic spread: paid time
ending from 10 days ago to 50 days ahead (those already ended are ``expired``), one in fifty
suspended, a third on the second plan, names as the console benchmark draws them; a payment,
ledger entries and a subscription each. The router starts empty. The time zone is set to the
whole-hour zone where it is now 08:00, so the daily summary (sent at 08:00 local) and the
reminders (08:00-20:00) have work to do.

The work driven, phase by phase, each task enqueued through the real queue from this process
(the worker and the scheduler both consume it, so either may run a given task; the log of each
says which did):

1. ``reconcile_router``: the empty router gets every customer's secret (N adds, the heaviest
   reconcile there is: a router replaced by an empty one);
2. ``reconcile_router`` again with no drift (the 10-minute steady state), repeated until both
   consumers have run one (at most four);
3. every allowed customer dials in (PPPoE sessions on the simulator), then ``sample_usage`` three
   times, a second apart (the first only notes the counters);
4. a tenth of the active customers' paid time is moved to a second ago; ``expire_due`` expires
   them (a batch per transaction) and the ``sync_router`` runs it queues disable their secrets;
5. ``expiry_reminders``, ``daily_summary`` (with its chart, sent to the fake Telegram) and the
   minute ``sweep``. These are periodic tasks claimed once per slot: the bench clears this slot's
   claim (and the summary's once-a-day key) before enqueueing each, so it runs now;
6. the web app: the staff console's customer list (several filters and pages), the CSV export of
   every customer and of every payment, the dashboard, and USSD "My account" requests;
7. the bot: ``/find``, ``/c`` (the customer card), ``/list``, ``/list expired``,
   ``/expiring``, ``/attention``, ``/stats``, ``/export`` (every customer as a CSV document) and
   ``/payments`` (every payment).

RSS is sampled every ``--sample-ms`` per role (psutil; a role's figure is its whole process tree,
e.g. uvicorn's supervisor and workers together), with the phase it was taken in; the kernel's
high-water mark (VmHWM) is read at the end as the exact peak of each process. "After" is the RSS
once the work is done and the queue has been empty for 15 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
from huey import Huey
from huey.api import Result
from sqlalchemy import delete, select, update

from bench._common import (
    BenchCustomer,
    BenchEnv,
    add_bench_owner,
    add_common_arguments,
    database_label,
    emit_result,
    forget_redis_keys,
    insert_customers,
    load_average,
    open_env,
    pending_count,
    prepare_database,
    scratch_database,
    start_simulator,
)
from bench.bench_console import FIRST_NAMES, SURNAMES
from core.actors import Actor
from core.models import Customer, PeriodicRun, Subscription
from core.settings import Settings
from core.testing import free_port
from core.usecases.staff_access import issue_login_link
from jobs.queue import make_huey
from mteja.bootstrap import build_system
from mteja.queueing import Queue, build_queue
from sim.telegram import FakeTelegram

PROCFILE = Path(__file__).resolve().parents[1] / "Procfile"
ROLES = ("web", "worker", "scheduler", "bot")
WORKER_ROLES = ("worker", "scheduler")
TARGET_WORKER_MB = 300.0
OWNER = 1001  # the staff member's Telegram user id
STAFF_CHAT = -100200
SUMMARY_HOUR = 8  # jobs.reports.SUMMARY_HOUR
TASK_TIMEOUT = 900.0
QUIET_SECONDS = 15.0
MB = 1024 * 1024


# -- the deployment ------------------------------------------------------------------------------


def procfile_commands(web_port: int) -> dict[str, list[str]]:
    """Each Procfile role's command, ``${PORT:-…}`` made ``web_port`` and ``mteja`` this
    interpreter running the same CLI."""
    commands = {}
    for line in PROCFILE.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        role, _, command = line.partition(":")
        command = re.sub(r"\$\{PORT(:-[^}]*)?\}|\$PORT\b", str(web_port), command)
        words = shlex.split(command)
        if words[0] != "mteja" or "$" in command:
            raise RuntimeError(f"unexpected Procfile line: {line}")
        commands[role.strip()] = [sys.executable, "-m", "mteja.cli", *words[1:]]
    return commands


def summary_hour_zone(now: datetime) -> str:
    """A whole-hour zone where it is ``SUMMARY_HOUR`` o'clock now (Etc/GMT signs are reversed)."""
    offset = (SUMMARY_HOUR - now.hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


@dataclass
class Deployment:
    """The Procfile's processes, their environment and logs."""

    directory: Path
    env: dict[str, str]
    commands: dict[str, list[str]]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, role: str) -> Path:
        return self.directory / f"{role}.log"

    def start(self) -> None:
        for role in ROLES:
            with self.log(role).open("ab") as log:
                self.processes[role] = subprocess.Popen(
                    self.commands[role],
                    cwd=self.directory,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def check_alive(self) -> None:
        for role, process in self.processes.items():
            if process.poll() is not None:
                tail = self.log(role).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{role} exited with {process.returncode}:\n{tail}")

    def text(self, role: str, start: int = 0) -> str:
        """The role's log from byte ``start``."""
        with self.log(role).open("rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

    def size(self, role: str) -> int:
        return self.log(role).stat().st_size


# -- RSS sampling --------------------------------------------------------------------------------


def tree_rss(pid: int) -> tuple[int, list[psutil.Process]]:
    """RSS of ``pid`` and all its descendants (bytes), and those processes."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, []
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total, processes


def high_water_mark(process: psutil.Process) -> int:
    """The kernel's peak RSS of one process (VmHWM, bytes); 0 where /proc does not say."""
    try:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples each role's tree RSS on a thread; peaks overall and per phase."""

    def __init__(self, pids: dict[str, int], interval: float) -> None:
        self.pids = pids
        self.interval = interval
        self.phase = "start-up"
        self.phases: list[str] = []
        self.peak: dict[str, int] = dict.fromkeys(pids, 0)
        self.phase_peak: dict[tuple[str, str], int] = {}
        self.hwm: dict[str, int] = dict.fromkeys(pids, 0)  # largest single-process VmHWM seen
        self.samples = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-rss", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def enter(self, phase: str) -> None:
        with self._lock:
            self.phase = phase
            self.phases.append(phase)

    def now(self) -> dict[str, int]:
        return {role: tree_rss(pid)[0] for role, pid in self.pids.items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        with self._lock:
            phase = self.phase
        for role, pid in self.pids.items():
            rss, processes = tree_rss(pid)
            hwm = max((high_water_mark(process) for process in processes), default=0)
            with self._lock:
                self.peak[role] = max(self.peak[role], rss)
                key = (phase, role)
                self.phase_peak[key] = max(self.phase_peak.get(key, 0), rss)
                self.hwm[role] = max(self.hwm[role], hwm)
        self.samples += 1


# -- driving the queue ---------------------------------------------------------------------------


@dataclass
class Driver:
    """Enqueues tasks as any mteja process would, and waits for a consumer to have run them."""

    deployment: Deployment
    queue: Queue
    env: BenchEnv
    ran: list[tuple[str, str, float]] = field(default_factory=list)  # task, role, seconds

    @property
    def huey(self) -> Huey:
        return self.queue.huey

    def run(self, label: str, enqueue: Callable[[], Result]) -> tuple[str, float]:
        """Enqueue one task and wait until a consumer's log shows it finished; returns the role
        that ran it and its seconds."""
        starts = {role: self.deployment.size(role) for role in WORKER_ROLES}
        result = enqueue()
        task_id = result.id
        # huey logs "<name>: <id>[ @<eta>][ p=<priority>][ N retries] executed in 1.234s"; the
        # eta is there when the task was retried later (a router lease held by another task).
        finished = re.compile(
            rf"{re.escape(task_id)}(?: @\S+ \S+)?(?: p=\d+)?(?: \d+ retries)?"
            r" executed in ([0-9.]+)s"
        )
        failed = re.compile(rf"(Unhandled exception in task|Task) {re.escape(task_id)}\b.*")
        deadline = time.monotonic() + TASK_TIMEOUT
        while time.monotonic() < deadline:
            self.deployment.check_alive()
            for role in WORKER_ROLES:
                text = self.deployment.text(role, starts[role])
                found = finished.search(text)
                if found:
                    seconds = float(found.group(1))
                    self.ran.append((label, role, seconds))
                    value = result.get()  # None when it returned nothing (or None)
                    shown = "" if value is None else f", returned {value!r}"
                    print(f"  {label}: run by the {role} in {seconds:.1f} s{shown}")
                    return role, seconds
                broken = failed.search(text)
                if broken and "raised RetryTask" not in broken.group(0):
                    raise RuntimeError(f"{label} failed in the {role}: {broken.group(0)}")
            time.sleep(0.2)
        raise RuntimeError(f"{label} ({task_id}) not finished within {TASK_TIMEOUT:.0f} s")

    def run_periodic(self, label: str, task_name: str, enqueue: Callable[[], Result]) -> None:
        """A periodic task, run now: this slot's claim is forgotten first (else a run the
        scheduler made at the slot's start would make ours skip)."""
        with self.env.services.unit_of_work() as uow:
            uow.session.execute(delete(PeriodicRun).where(PeriodicRun.task_name == task_name))
            uow.commit()
        self.run(label, enqueue)

    def settle(self, timeout: float = TASK_TIMEOUT) -> float:
        """Wait until nobody is pending a router sync and the queue is empty for a moment."""
        started = time.monotonic()
        quiet_since = None
        while time.monotonic() - started < timeout:
            self.deployment.check_alive()
            busy = self.huey.pending_count() > 0 or pending_count(self.env) > 0
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 2.0:
                return time.monotonic() - started
            time.sleep(0.5)
        raise RuntimeError(f"the queue did not settle within {timeout:.0f} s")


# -- the benchmark -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sample-ms", type=float, default=200.0, help="RSS sampling interval")
    parser.add_argument("--keep-logs", type=Path, help="copy the processes' logs here")
    add_common_arguments(parser)
    parser.set_defaults(db="postgresql")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="mteja-bench-memory-") as tmp,
        scratch_database(args.db, Path(tmp), args.pg_admin_url) as url,
    ):
        sim = start_simulator()
        try:
            with FakeTelegram() as telegram:
                run(args, Path(tmp), url, sim, telegram)
        finally:
            sim.stop()


def customer_fields(env: BenchEnv, now: datetime) -> Callable[[int], dict[str, Any]]:
    spare_plan_id = env.spare_plan.id

    def fields(number: int) -> dict[str, Any]:
        rng = random.Random(number)
        expires = now + timedelta(days=rng.uniform(-10, 50))
        status = "expired" if expires < now else "active"
        if number % 50 == 7:
            status = "suspended"
        return {
            "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            "plan_id": spare_plan_id if number % 3 == 0 else env.plan.id,
            "status": status,
            "expires_at": expires,
            "created_at": now - timedelta(days=rng.uniform(0, 730)),
        }

    return fields


def run(args: argparse.Namespace, tmp: Path, url: str, sim: Any, telegram: FakeTelegram) -> None:
    count = args.customers
    database = database_label(url)
    postgres = database == "postgresql"
    print(
        f"bench_memory: RSS of the Procfile's processes with {count:,} customers, {database}"
        f"{' + RedisHuey' if postgres else ' + SqliteHuey'}; load average {load_average()}"
    )
    env = open_env(url, sim)
    started = time.perf_counter()
    now = datetime.now(UTC)
    customers = insert_customers(
        env, count, lambda _: now, sync_pending=False, fields=customer_fields(env, now)
    )
    add_bench_owner(env, OWNER)
    prepare_database(env.engine, trigram_index=True)
    print(f"setup: {count:,} customers inserted in {time.perf_counter() - started:.1f} s")

    queue_name = f"mtejabenchmem{secrets.token_hex(4)}"  # huey keeps letters and digits only
    web_port = free_port()
    variables: dict[str, str] = {
        "MTEJA_DATABASE_URL": url,
        "MTEJA_SECRET_KEY": env.secret_key,
        "MTEJA_QUEUE_NAME": queue_name,
        "MTEJA_REDIS_URL": args.redis_url if postgres else "",
        "MTEJA_HUEY_PATH": "" if postgres else str(tmp / "queue.db"),
        "MTEJA_LOCK_DIR": str(tmp / "locks"),
        "MTEJA_METRICS_DIR": str(tmp / "metrics"),
        "MTEJA_TIMEZONE": summary_hour_zone(now),
        "MTEJA_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "MTEJA_ROUTER_COMMAND_TIMEOUT": "120",
        "MTEJA_TELEGRAM_TOKEN": telegram.token,
        "MTEJA_TELEGRAM_BASE_URL": telegram.base_url,
        "MTEJA_TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
    }
    process_env = {key: value for key, value in os.environ.items() if not key.startswith("MTEJA_")}
    process_env |= variables | {"PYTHONUNBUFFERED": "1"}
    deployment = Deployment(tmp, process_env, procfile_commands(web_port))
    fields: dict[str, Any] = {
        name.removeprefix("MTEJA_").lower(): value for name, value in variables.items()
    }
    settings = Settings(**fields, _env_file=None)  # type: ignore[call-arg]
    # The processes' own queue (the priority queue on Redis): a plain RedisHuey cannot take the
    # router tasks' priorities, and would put tasks where the workers do not look first.
    huey = make_huey(settings)
    system = build_system(settings)
    queue = build_queue(system, huey=huey)
    try:
        deployment.start()
        _wait_healthy(f"http://127.0.0.1:{web_port}", deployment)
        _wait_for_log(deployment, "bot", "Application started")
        pids = {role: process.pid for role, process in deployment.processes.items()}
        with RssSampler(pids, args.sample_ms / 1000) as sampler:
            time.sleep(5)
            idle = sampler.now()
            driver = Driver(deployment, queue, env)
            drive(driver, sampler, env, sim, customers, web_port, telegram)
            sampler.enter("after")
            driver.settle()
            time.sleep(QUIET_SECONDS)
            after = sampler.now()
            sampler.sample()
        report(args, database, sampler, idle, after, driver)
    finally:
        deployment.stop()
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            for role in ROLES:
                if deployment.log(role).exists():
                    (args.keep_logs / f"{role}.log").write_bytes(deployment.log(role).read_bytes())
        if postgres:
            forget_redis_keys(args.redis_url, queue_name)
        system.engine.dispose()
        env.engine.dispose()
    print(f"load average {load_average()}")


def drive(
    driver: Driver,
    sampler: RssSampler,
    env: BenchEnv,
    sim: Any,
    customers: list[BenchCustomer],
    web_port: int,
    telegram: FakeTelegram,
) -> None:
    tasks, router_id = driver.queue.tasks, env.router_id
    count = len(customers)

    sampler.enter("reconcile, empty router")
    print(f"reconcile of an empty router ({count:,} secrets to add):")
    driver.run("reconcile_router (empty router)", lambda: tasks.reconcile_router(router_id))
    secrets_now = sim.state.execute("/ppp/secret", "print", {"count-only": ""}).ret
    print(f"  the router holds {int(secrets_now or 0):,} secrets")

    sampler.enter("reconcile, no drift")
    print("reconcile with no drift, until both consumers have run one:")
    for _ in range(4):
        driver.run("reconcile_router (no drift)", lambda: tasks.reconcile_router(router_id))
        roles = {role for label, role, _ in driver.ran if label.endswith("(no drift)")}
        if roles >= set(WORKER_ROLES):
            break

    sampler.enter("usage sampling")
    online = _dial_in(env, sim, customers)
    print(f"usage sampling, {online:,} sessions online:")
    assert driver.queue.usage is not None
    sample_usage = driver.queue.usage.sample_usage
    for _ in range(3):
        driver.run("sample_usage", lambda: sample_usage(router_id))
        time.sleep(1)

    sampler.enter("expiry")
    due = _make_due(env, count // 10)
    print(f"expiry of {due:,} customers due a second ago, then their router syncs:")
    driver.run("expire_due", lambda: tasks.expire_due())
    print(f"  router syncs done {driver.settle():.1f} s later")

    sampler.enter("periodic sweeps")
    print("the periodic tasks, run now:")
    driver.run_periodic("expiry_reminders", "expiry_reminders", driver.queue.expiry_reminders)
    daily_summary = driver.queue.daily_summary
    assert daily_summary is not None
    local_day = datetime.now(env.services.config.timezone).date()
    driver.huey.get(f"daily-summary:{local_day.isoformat()}")  # its once-a-day mark
    driver.run_periodic("daily_summary", "daily_summary", daily_summary)
    driver.run_periodic("sweep", "sweep", tasks.sweep)
    print(f"  queue settled {driver.settle():.1f} s later")

    sampler.enter("web")
    print("the web app:")
    drive_web(env, f"http://127.0.0.1:{web_port}", customers)

    sampler.enter("bot")
    print("the bot:")
    drive_bot(telegram, customers)


def _dial_in(env: BenchEnv, sim: Any, customers: list[BenchCustomer]) -> int:
    """Every customer allowed in connects (a PPPoE session on the simulator)."""
    with env.services.unit_of_work() as uow:
        allowed = set(uow.session.scalars(select(Customer.id).where(Customer.status == "active")))
    sim.set_subscriber_traffic(50_000.0, 5_000.0)
    return sum(
        bool(sim.connect(customer.username, customer.password))
        for customer in customers
        if customer.customer_id in allowed
    )


def _make_due(env: BenchEnv, how_many: int) -> int:
    """Move ``how_many`` active customers' paid time (and subscription) to a second ago."""
    past = datetime.now(UTC) - timedelta(seconds=1)
    with env.services.unit_of_work() as uow:
        ids = list(
            uow.session.scalars(
                select(Customer.id)
                .where(Customer.status == "active")
                .order_by(Customer.id)
                .limit(how_many)
            )
        )
        uow.session.execute(update(Customer).where(Customer.id.in_(ids)).values(expires_at=past))
        uow.session.execute(
            update(Subscription).where(Subscription.customer_id.in_(ids)).values(ends_at=past)
        )
        uow.commit()
    return len(ids)


# -- the web app and the bot ---------------------------------------------------------------------


def drive_web(env: BenchEnv, base: str, customers: list[BenchCustomer]) -> None:
    rng = random.Random(18)
    with httpx.Client(base_url=base, timeout=300, follow_redirects=False) as client:
        _log_in(client, env)
        # The processes' time zone may be a day ahead of this machine's.
        today = date.today() + timedelta(days=1)
        month_ago = (today - timedelta(days=30)).isoformat()
        pages = [
            "/staff/",
            "/staff/customers",
            "/staff/customers?status=active&sort=expiry",
            "/staff/customers?status=expired",
            "/staff/customers?status=expiring",
            "/staff/customers?q=wanj",
            "/staff/customers?plan=Home+20M&sort=name&page=50",
        ]
        for _ in range(10):
            for path in pages:
                _get(client, path)
        for _ in range(5):
            _get(client, f"/staff/customers/{rng.choice(customers).account_number}")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            body = _get(client, "/staff/customers.csv")
            timings.append(time.perf_counter() - started)
        rows = body.count(b"\n") - 1
        print(f"  /staff/customers.csv: {rows:,} rows, {len(body) / MB:.1f} MB, ×3")
        for _ in range(3):
            body = _get(client, f"/staff/payments.csv?from={month_ago}&to={today.isoformat()}")
        payment_rows = body.count(b"\n") - 1
        print(f"  /staff/payments.csv: {payment_rows:,} rows, ×3")
        phones = [f"+2547{int(c.username.removeprefix('sub')):08d}" for c in customers]
        for number in range(300):
            response = client.post(
                "/ussd",
                data={
                    "sessionId": f"ATUid_bench_{number}",
                    "serviceCode": "*384*1234#",
                    "phoneNumber": rng.choice(phones),
                    "networkCode": "63902",
                    "text": "1",
                },
            )
            if response.status_code != 200:
                raise RuntimeError(f"USSD answered {response.status_code}: {response.text[:300]}")
        print("  7 console pages ×10, 5 customer pages, 300 USSD 'My account' requests")


def _get(client: httpx.Client, path: str) -> bytes:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response.content


def _log_in(client: httpx.Client, env: BenchEnv) -> None:
    """Through a real one-time link, as a person would: open it, press the button."""
    with env.services.unit_of_work() as uow:
        link = issue_login_link(uow, Actor.cli(), str(OWNER))
        uow.commit()
    path = f"/staff/login/link/{link.token}"
    page = client.get(path)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("no CSRF field on the login link page")
    done = client.post(path, data={"csrf": token.group(1)})
    if done.status_code != 303:
        raise RuntimeError(f"login: {done.status_code} {done.text[:300]}")


def drive_bot(telegram: FakeTelegram, customers: list[BenchCustomer]) -> None:
    rng = random.Random(81)
    today = date.today() + timedelta(days=1)  # the processes' time zone may be a day ahead
    commands = [
        *(f"/find {rng.choice(FIRST_NAMES)}" for _ in range(5)),
        *(f"/find {rng.choice(customers).account_number}" for _ in range(5)),
        *(f"/c {rng.choice(customers).account_number}" for _ in range(10)),
        "/list",
        "/list expired",
        "/list active",
        "/expiring",
        "/attention",
        "/stats",
        "/export",
        "/export active",
        f"/payments {(today - timedelta(days=30)).isoformat()} {today.isoformat()}",
    ]
    sent = len(telegram.messages(OWNER))
    for text in commands:
        telegram.says(OWNER, text)
        sent += 1
        answer = telegram.wait_for_messages(OWNER, sent, timeout=600)
        # A card may come with a later edit; the next command waits for its own answer.
        sent = len(telegram.messages(OWNER))
        if text.startswith(("/export", "/payments")):
            print(f"  {text}: {answer.kind} {answer.filename or ''} {len(answer.content):,} bytes")
    print(f"  {len(commands)} commands answered")


# -- the report ----------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    database: str,
    sampler: RssSampler,
    idle: dict[str, int],
    after: dict[str, int],
    driver: Driver,
) -> None:
    count = args.customers
    print(f"\nRSS in MB ({sampler.samples:,} samples every {args.sample_ms:g} ms; tree per role)")
    phases = list(dict.fromkeys(sampler.phases))
    header = f"{'role':<10} {'idle':>7} {'peak':>7} {'VmHWM':>7} {'after':>7}"
    print(header + "   peak by phase")
    for role in ROLES:
        by_phase = ", ".join(
            f"{phase} {sampler.phase_peak.get((phase, role), 0) / MB:.0f}" for phase in phases
        )
        print(
            f"{role:<10} {idle[role] / MB:>7.0f} {sampler.peak[role] / MB:>7.0f} "
            f"{sampler.hwm[role] / MB:>7.0f} {after[role] / MB:>7.0f}   {by_phase}"
        )
    for role in WORKER_ROLES:
        labels = sorted({label for label, ran_by, _ in driver.ran if ran_by == role})
        print(f"  the {role} ran: {', '.join(labels) or 'none of the driven tasks'}")
    for role in ROLES:
        peak = max(sampler.peak[role], sampler.hwm[role]) / MB
        worker = role in WORKER_ROLES
        met = peak < TARGET_WORKER_MB if worker else None
        if worker:
            verdict = "meets" if met else "MISSES"
            print(f"{role} peak {peak:.0f} MB (target < {TARGET_WORKER_MB:.0f} MB: {verdict})")
        emit_result(
            f"{role} process RSS peak, {count:,} customers",
            peak,
            "MB",
            target=f"< {TARGET_WORKER_MB:.0f} MB" if worker else None,
            met=met,
            database=database,
            note=f"after the work {after[role] / MB:.0f} MB; idle {idle[role] / MB:.0f} MB",
        )


def _wait_healthy(base: str, deployment: Deployment, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment.check_alive()
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the web app at {base} did not come up within {timeout:.0f} s")


def _wait_for_log(deployment: Deployment, role: str, line: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while line not in deployment.text(role):
        deployment.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {role} did not log {line!r} within {timeout:.0f} s")
        time.sleep(0.3)


if __name__ == "__main__":
    main()
