"""``python -m bench``: run every benchmark, each in its own process, and write ``bench/REPORT.md``
(the figures against their targets, the machine, each run's output).

``python -m bench [--quick] [--only NAME ...] [--db sqlite|postgresql] [--output PATH]
[--timeout SECONDS] [--verbose] [--list]``. Exits 1 when a benchmark failed to run or reported
no figure; a missed target is in the report, not in the exit status.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench._common import DEFAULT_PG_ADMIN_URL
from bench.plan import BENCH_DIR, Bench, full_plan, select
from bench.report import Run, describe_machine, load_average, render
from bench.runner import Outcome, run_bench

DEFAULT_OUTPUT = BENCH_DIR / "REPORT.md"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def parse_arguments(argv: Sequence[str], plan: list[Bench]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run of a few minutes"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these (bench_expiry or expiry)"
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql"),
        help="database for every benchmark that takes --db (default: each one's own, see "
        "bench/plan.py)",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds allowed per benchmark (default: bench/plan.py)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="echo each one's output")
    parser.add_argument("--list", action="store_true", help="print what would run, and stop")
    args = parser.parse_args(argv)
    if args.only:
        try:
            args.selected = select(plan, args.only)
        except ValueError as error:
            parser.error(str(error))
    else:
        args.selected = plan
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_arguments(argv, full_plan())
    command = "python -m bench" + (" " + shlex.join(argv) if argv else "")
    benches: list[Bench] = args.selected
    if args.list:
        for bench in benches:
            arguments = " ".join(bench.arguments(args.quick, args.db))
            print(f"python -m {bench.module} {arguments}".rstrip())
        return 0

    machine = describe_machine(DEFAULT_PG_ADMIN_URL, DEFAULT_REDIS_URL)
    started = datetime.now(UTC)
    load_before = load_average()
    outcomes: list[Outcome] = []
    for number, bench in enumerate(benches, 1):
        print(f"[{number}/{len(benches)}] {bench.name} ...", flush=True)
        outcome = run_bench(
            bench,
            quick=args.quick,
            database=args.db,
            echo=(lambda line: print(f"    {line}", flush=True)) if args.verbose else None,
            timeout_seconds=args.timeout,
        )
        outcomes.append(outcome)
        print(f"    {outcome.status} in {outcome.seconds:.0f} s", flush=True)
        for figure in outcome.figures:
            verdict = {True: "meets", False: "MISSES", None: "no target"}[figure.met]
            value = "—" if figure.value is None else f"{figure.value:.2f} {figure.unit}"
            print(f"    {figure.figure}: {value} ({verdict})", flush=True)
        if not outcome.ok and not args.verbose:
            tail = outcome.output.rstrip().splitlines()[-15:]
            print("\n".join(f"    | {line}" for line in tail), flush=True)

    run = Run(
        command=command,
        quick=args.quick,
        started=started,
        finished=datetime.now(UTC),
        load_before=load_before,
        load_after=load_average(),
        machine=machine,
        outcomes=outcomes,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(run), encoding="utf-8")
    print(f"report written to {args.output}")
    return 0 if all(outcome.ok for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
