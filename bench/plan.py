"""What ``python -m bench`` runs: every benchmark with the sizes the issues name, and the smaller
sizes of a ``--quick`` smoke run.

The database of each figure is the one its target implies: the paybill target is stated for
PostgreSQL + Redis, and "My account", the bot's lookups and the console's customer list are
serving paths measured on the production database with 100,000 subscribers, as is the memory
of the Procfile's processes (PostgreSQL + Redis, as deployed); the expiry,
reconcile and usage benchmarks run on their own default (a SQLite file, plus the SQLite queue for
the latency run). ``--db`` overrides it for every benchmark that takes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    """One benchmark module and how to run it."""

    name: str
    full_args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ()
    database: str | None = "sqlite"  # None: the benchmark takes no --db
    timeout_seconds: float = 1800.0
    quick_timeout_seconds: float = 300.0
    planned: bool = True  # False: found in bench/ but not listed here, run with its defaults
    package: str = "bench"

    @property
    def module(self) -> str:
        return f"{self.package}.{self.name}"

    def arguments(self, quick: bool, database: str | None) -> list[str]:
        """Command-line arguments: the sizes, then ``--db`` where the benchmark takes it."""
        chosen = list(self.quick_args if quick else self.full_args)
        if self.database is not None:
            chosen += ["--db", database or self.database]
        return chosen

    def timeout(self, quick: bool) -> float:
        return self.quick_timeout_seconds if quick else self.timeout_seconds


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PLAN: tuple[Bench, ...] = (
    Bench(
        "bench_expiry",
        full_args=_words("--customers 10000"),
        quick_args=_words("--customers 300"),
    ),
    Bench(
        "bench_reconcile",
        full_args=_words("--secrets 50000 --drift-percent 1"),
        quick_args=_words("--secrets 2000 --drift-percent 1"),
    ),
    Bench(
        "bench_expiry_latency",
        full_args=_words("--customers 1000 --spread 80"),
        quick_args=_words("--customers 40 --spread 4"),
    ),
    Bench(
        "bench_payments",
        full_args=_words("--count 1000 --rate 50 --steps 25,50,75,100,150 --step-seconds 15"),
        quick_args=_words("--count 40 --rate 20 --timeout 30 --steps 10,20 --step-seconds 2"),
        database="postgresql",
    ),
    Bench(
        "bench_ussd",
        full_args=_words("--subscribers 100000 --seconds 10 --rate 200"),
        quick_args=_words("--subscribers 1000 --seconds 2 --concurrency 8 --rate 200"),
        database="postgresql",
    ),
    Bench(
        "bench_bot",
        full_args=_words("--customers 100000 --samples 300"),
        quick_args=_words("--customers 1000 --samples 30"),
        database="postgresql",
    ),
    Bench(
        "bench_router_simulator",
        full_args=_words("--secrets 50000 --writes 10000"),
        quick_args=_words("--secrets 2000 --writes 300"),
        database=None,
    ),
    Bench(
        "bench_lists",
        full_args=_words("--customers 10000 --repeats 20"),
        quick_args=_words("--customers 1000 --repeats 5"),
    ),
    Bench(
        "bench_console",
        full_args=_words("--customers 100000 --requests 200"),
        quick_args=_words("--customers 1000 --requests 20"),
        database="postgresql",
    ),
    Bench(
        "bench_usage",
        full_args=_words("--sessions 10000 --samples 3"),
        quick_args=_words("--sessions 500 --samples 2"),
    ),
    Bench(
        "bench_memory",
        full_args=_words("--customers 100000"),
        quick_args=_words("--customers 1000"),
        database="postgresql",
    ),
)


def full_plan(bench_dir: Path = BENCH_DIR) -> list[Bench]:
    """The plan, plus any ``bench_*.py`` in ``bench_dir`` not listed in it (run with its own
    defaults in both modes, and marked so in the report): a new benchmark is never skipped."""
    listed = {bench.name for bench in PLAN}
    found = sorted(path.stem for path in bench_dir.glob("bench_*.py"))
    extra = [Bench(name, database=None, planned=False) for name in found if name not in listed]
    return [*PLAN, *extra]


def select(plan: list[Bench], names: list[str]) -> list[Bench]:
    """The benchmarks named (with or without the ``bench_`` prefix), in plan order."""
    wanted = {name if name.startswith("bench_") else f"bench_{name}" for name in names}
    unknown = wanted - {bench.name for bench in plan}
    if unknown:
        known = ", ".join(bench.name for bench in plan)
        raise ValueError(f"no benchmark {', '.join(sorted(unknown))}; known: {known}")
    return [bench for bench in plan if bench.name in wanted]
