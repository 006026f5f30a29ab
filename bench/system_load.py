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
from dataclasses import dataclass, field

import psutil
from sqlalchemy import Engine, text

# pg_stat_wal (PostgreSQL 14+) counts WAL writes and syncs; older servers show "n/a".
_WAL_COUNTERS = "SELECT wal_write, wal_sync FROM pg_stat_wal"
_COMMITS = "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = :name"
_LOCK_WAITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND wait_event_type = 'Lock'"
)


def _cpu_seconds(processes: Iterable[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # it ended between the listing and the reading
            continue
        total += times.user + times.system
    return total


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


@dataclass
class Snapshot:
    cpu: dict[str, float]
    commits: int | None = None
    rollbacks: int | None = None
    wal_writes: int | None = None
    wal_syncs: int | None = None


@dataclass
class SystemLoad:
    """CPU per role (``roles``: name → pid of a process whose whole tree is that role), plus the
    database servers and this process; PostgreSQL counters when ``engine`` is on PostgreSQL."""

    roles: dict[str, int]
    engine: Engine | None = None
    database: str = ""
    start: Snapshot | None = None
    end: Snapshot | None = None
    _processes: dict[str, list[psutil.Process]] = field(default_factory=dict)

    def _role_processes(self) -> dict[str, list[psutil.Process]]:
        processes = {name: _tree(pid) for name, pid in self.roles.items()}
        processes["postgres"] = _named(("postgres", "postmaster"))
        processes["redis"] = _named(("redis-server",))
        processes["benchmark (sender, simulator, poller)"] = [psutil.Process(os.getpid())]
        return processes

    def snapshot(self) -> Snapshot:
        # The same Process objects at both ends, so a process that ended is not counted twice
        # and one that started in between counts from zero.
        if not self._processes:
            self._processes = self._role_processes()
        else:
            for name, fresh in self._role_processes().items():
                known = {process.pid for process in self._processes[name]}
                self._processes[name] += [p for p in fresh if p.pid not in known]
        cpu = {name: _cpu_seconds(processes) for name, processes in self._processes.items()}
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

    def lines(self, payments: int, wall_seconds: float) -> list[str]:
        """The report: CPU ms per payment by role, commits, WAL writes and fsyncs per payment."""
        if self.start is None or self.end is None or payments <= 0:
            return []
        out = []
        total = 0.0
        parts = []
        for name, before in self.start.cpu.items():
            spent = self.end.cpu.get(name, before) - before
            total += spent
            parts.append(f"{name} {spent * 1000 / payments:.1f}")
        cores = total / wall_seconds if wall_seconds else float("nan")
        out.append(
            f"  CPU per payment (ms): {', '.join(parts)}; all {total * 1000 / payments:.1f} "
            f"(= {cores:.2f} cores busy over the {wall_seconds:.1f} s measured)"
        )
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
    """Counts, every ``interval`` seconds, the backends of ``database`` waiting on a lock."""

    def __init__(self, engine: Engine, database: str, interval: float = 0.01) -> None:
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
