"""Where a benchmark's time went, seen from outside the code: CPU seconds per process role and,
on PostgreSQL, the commits, WAL writes and fsyncs the run caused and how often a backend waited
on a lock.

``SystemLoad`` takes a snapshot when the measured part begins and another when it ends; a
``LockSampler`` thread looks at ``pg_stat_activity`` every few milliseconds in between. Nothing
in mteja is touched: these read ``/proc`` (through psutil) and PostgreSQL's statistics views.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import psutil
from sqlalchemy import Engine, text

# pg_stat_wal (PostgreSQL 14+) counts WAL writes and syncs; older servers show "n/a".
_WAL_COUNTERS = "SELECT wal_write, wal_sync FROM pg_stat_wal"
_COMMITS = "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = :name"
_LOCK_WAITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND wait_event_type = 'Lock'"
)


def _cpu_by_pid(processes: Iterable[psutil.Process]) -> dict[int, float]:
    cpu = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # it ended between the listing and the reading
            continue
        cpu[process.pid] = times.user + times.system
    return cpu


def _tree(pid: int) -> list[psutil.Process]:
    """A process and all its descendants (uvicorn's workers are children of the web child)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _named(names: tuple[str, ...]) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name"]):
        if (process.info.get("name") or "") in names:
            found.append(process)
    return found


def _postgres(database: str) -> list[psutil.Process]:
    """The server's own processes (writer, WAL writer, checkpointer …) and the backends of
    ``database``; other databases' backends (other work on the machine) are left out. A
    backend's title is "postgres: user database host(port) state"."""
    chosen = []
    for process in _named(("postgres", "postmaster")):
        try:
            title = " ".join(process.cmdline())
        except psutil.Error:
            continue
        is_backend = "(" in title and ")" in title
        if not is_backend or (database and f" {database} " in f"{title} "):
            chosen.append(process)
    return chosen


@dataclass
class Snapshot:
    cpu: dict[str, dict[int, float]]  # role → pid → CPU seconds so far
    commits: int | None = None
    rollbacks: int | None = None
    wal_writes: int | None = None
    wal_syncs: int | None = None


@dataclass
class SystemLoad:
    """CPU per role (``roles``: name → pid of a process whose whole tree is that role), plus the
    database servers and this process; PostgreSQL counters when ``engine`` is on PostgreSQL.

    A role's CPU is summed per process over the processes alive at the end: one that started
    meanwhile counts from zero, one that ended is not counted (its CPU cannot be read)."""

    roles: dict[str, int]
    engine: Engine | None = None
    database: str = ""
    start: Snapshot | None = None
    end: Snapshot | None = None

    def _role_processes(self) -> dict[str, list[psutil.Process]]:
        processes = {name: _tree(pid) for name, pid in self.roles.items()}
        processes["postgres"] = _postgres(self.database)
        processes["redis"] = _named(("redis-server",))
        processes["benchmark (sender, simulator, watch)"] = [psutil.Process(os.getpid())]
        return processes

    def snapshot(self) -> Snapshot:
        cpu = {name: _cpu_by_pid(found) for name, found in self._role_processes().items()}
        snapshot = Snapshot(cpu)
        if self.engine is not None and self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                row = connection.execute(text(_COMMITS), {"name": self.database}).one()
                snapshot.commits, snapshot.rollbacks = int(row[0]), int(row[1])
                try:
                    wal = connection.execute(text(_WAL_COUNTERS)).one()
                    snapshot.wal_writes, snapshot.wal_syncs = int(wal[0]), int(wal[1])
                except Exception:  # PostgreSQL < 14 has no pg_stat_wal
                    pass
        return snapshot

    def begin(self) -> None:
        self.start = self.snapshot()

    def finish(self) -> None:
        self.end = self.snapshot()

    def spent(self) -> dict[str, float]:
        """CPU seconds per role between ``begin`` and ``finish``."""
        assert self.start is not None and self.end is not None
        spent = {}
        for name, now in self.end.cpu.items():
            before = self.start.cpu.get(name, {})
            spent[name] = sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in now.items())
        return spent

    def lines(self, payments: int, wall_seconds: float) -> list[str]:
        """The report: CPU ms per payment by role, commits, WAL writes and fsyncs per payment."""
        if self.start is None or self.end is None or payments <= 0:
            return []
        spent = self.spent()
        total = sum(spent.values())
        parts = [f"{name} {seconds * 1000 / payments:.1f}" for name, seconds in spent.items()]
        cores = total / wall_seconds if wall_seconds else float("nan")
        out = [
            f"  CPU per payment (ms): {', '.join(parts)}; all {total * 1000 / payments:.1f} "
            f"(= {cores:.2f} cores busy over the {wall_seconds:.1f} s measured)"
        ]
        start, end = self.start, self.end
        if start.commits is not None and end.commits is not None:
            commits = (end.commits - start.commits) / payments
            rollbacks = (end.rollbacks or 0) - (start.rollbacks or 0)
            line = f"  PostgreSQL per payment: {commits:.1f} commits"
            if start.wal_syncs is not None and end.wal_syncs is not None:
                syncs = (end.wal_syncs - start.wal_syncs) / payments
                writes = ((end.wal_writes or 0) - (start.wal_writes or 0)) / payments
                line += f", {writes:.1f} WAL writes, {syncs:.2f} WAL fsyncs"
            line += f" ({rollbacks:,} rollbacks in all, read-only transactions included)"
            out.append(line)
        return out


class LockSampler:
    """Counts, every ``interval`` seconds, the backends of ``database`` waiting on a lock.

    Not more often: every look is a query, and at 100 a second the looking took a tenth of a
    core (here and in PostgreSQL) from the system measured."""

    def __init__(self, engine: Engine, database: str, interval: float = 0.05) -> None:
        self.engine = engine
        self.database = database
        self.interval = interval
        self.samples = 0
        self.waiting_samples = 0
        self.most_waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-locks", daemon=True)

    def __enter__(self) -> LockSampler:
        if self.engine.dialect.name == "postgresql":
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        with self.engine.connect() as connection:
            while not self._stop.is_set():
                waiting = int(
                    connection.execute(text(_LOCK_WAITERS), {"name": self.database}).scalar_one()
                )
                connection.rollback()  # a fresh snapshot of pg_stat_activity each time
                self.samples += 1
                if waiting:
                    self.waiting_samples += 1
                    self.most_waiting = max(self.most_waiting, waiting)
                self._stop.wait(self.interval)

    def line(self) -> str | None:
        if not self.samples:
            return None
        share = self.waiting_samples / self.samples
        return (
            f"  lock waits: a backend was waiting on a lock in {share:.1%} of "
            f"{self.samples:,} looks at pg_stat_activity (at most {self.most_waiting} at once)"
        )
