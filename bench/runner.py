"""Run one benchmark in its own process (and process group), collect what it printed and the
figures it handed over through ``bench.results.emit_result``.

A benchmark that crashes, times out or reports nothing becomes an outcome saying so; it never
stops the others. On a timeout the whole process group gets SIGINT first (the benchmark's
``finally`` blocks drop their scratch PostgreSQL database and stop their child processes), and
SIGKILL if it is still there after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.plan import Bench
from bench.results import RESULTS_ENV

REPO_ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Figure:
    """One headline figure, as ``emit_result`` wrote it."""

    figure: str
    value: float | None
    unit: str
    target: str | None = None
    met: bool | None = None
    ratio: float | None = None
    database: str | None = None
    note: str = ""

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> Figure:
        return cls(
            figure=str(record["figure"]),
            value=record.get("value"),
            unit=str(record.get("unit", "")),
            target=record.get("target"),
            met=record.get("met"),
            ratio=record.get("ratio"),
            database=record.get("database"),
            note=str(record.get("note", "")),
        )


@dataclass
class Outcome:
    """What came of running one benchmark."""

    bench: Bench
    command: list[str]
    database: str | None
    seconds: float
    returncode: int | None  # None: timed out
    output: str
    figures: list[Figure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.returncode is None:
            return f"timed out after {self.seconds:.0f} s"
        if self.returncode != 0:
            return f"failed (exit {self.returncode})"
        if not self.figures:
            return "reported no figures"
        return "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def shell_command(self) -> str:
        return "python " + shlex.join(self.command[1:])


def run_bench(
    bench: Bench,
    *,
    quick: bool,
    database: str | None = None,
    echo: Callable[[str], None] | None = None,
    extra_env: Mapping[str, str] | None = None,
    timeout_seconds: float | None = None,
) -> Outcome:
    """Run ``python -m bench.<name>`` from the repository root and wait for it (up to its
    timeout); ``echo`` receives each output line as it comes."""
    command = [sys.executable, "-m", bench.module, *bench.arguments(quick, database)]
    timeout = timeout_seconds if timeout_seconds is not None else bench.timeout(quick)
    with tempfile.TemporaryDirectory(prefix="mteja-bench-run-") as tmp:
        results = Path(tmp) / "results.jsonl"
        env = {**os.environ, **(extra_env or {}), RESULTS_ENV: str(results)}
        env["PYTHONUNBUFFERED"] = "1"  # lines arrive as printed, and survive a kill
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: its children go with it
        )
        lines: list[str] = []
        reader = threading.Thread(target=_collect, args=(process.stdout, lines, echo), daemon=True)
        reader.start()
        try:
            returncode: int | None = process.wait(timeout)
            _kill_leftovers(process)
        except subprocess.TimeoutExpired:
            _stop_group(process)
            returncode = None
        except BaseException:  # Ctrl-C on the runner: stop the benchmark, then give up
            _stop_group(process)
            raise
        seconds = time.monotonic() - started
        reader.join(10)
        figures, errors = _read_results(results)
    database_used = (database or bench.database) if bench.database is not None else None
    return Outcome(
        bench, command, database_used, seconds, returncode, "".join(lines), figures, errors
    )


def _collect(
    stream: IO[bytes] | None, lines: list[str], echo: Callable[[str], None] | None
) -> None:
    if stream is None:
        return
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        lines.append(line)
        if echo is not None:
            echo(line.rstrip("\n"))
    stream.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGINT to the benchmark's process group (its clean-up runs), SIGKILL after a grace."""
    for sig, wait in ((signal.SIGINT, GRACE_SECONDS), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            # The leader is gone; children it started may linger in the group.
            os.killpg(process.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def _kill_leftovers(process: subprocess.Popen[bytes]) -> None:
    """A benchmark that exited has done its clean-up: whatever it left running goes."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _read_results(path: Path) -> tuple[list[Figure], list[str]]:
    if not path.exists():
        return [], []
    figures: list[Figure] = []
    errors: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            figures.append(Figure.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as error:
            errors.append(f"result line {number} unreadable ({error}): {line[:200]}")
    return figures, errors
