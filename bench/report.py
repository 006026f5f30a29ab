"""The machine a run happened on, and ``bench/REPORT.md``: the table of figures against their
targets, the machine, the exact command, each run's command line and full output."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.runner import REPO_ROOT, Figure, Outcome

NO_VALUE = "—"


@dataclass(frozen=True)
class Machine:
    """Facts about the machine and the services the figures depend on."""

    cpu: str
    cores: str
    memory: str
    system: str
    python: str
    postgresql: str
    redis: str
    git_commit: str


def describe_machine(pg_admin_url: str, redis_url: str) -> Machine:
    return Machine(
        cpu=_cpu_model(),
        cores=f"{os.cpu_count()} logical CPUs",
        memory=_memory(),
        system=_system(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        postgresql=_postgresql_version(pg_admin_url),
        redis=_redis_version(redis_url),
        git_commit=_git_commit(),
    )


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def _system() -> str:
    name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return f"{name}, kernel {platform.release()} ({platform.machine()})"


def _postgresql_version(admin_url: str) -> str:
    try:
        import psycopg

        libpq_url = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(libpq_url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
        return f"{row[0]} ({_without_password(admin_url)})" if row else "unknown"
    except Exception as error:  # the report says why rather than failing
        return f"not reachable at {_without_password(admin_url)} ({type(error).__name__})"


def _redis_version(url: str) -> str:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        try:
            return f"{client.info('server')['redis_version']} ({url})"
        finally:
            client.close()
    except Exception as error:  # the report says why rather than failing
        return f"not reachable at {url} ({type(error).__name__})"


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"
    return f"{commit} (with uncommitted changes)" if dirty else commit


# -- rendering -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """The whole run, as the report needs it."""

    command: str
    quick: bool
    started: datetime
    finished: datetime
    load_before: str
    load_after: str
    machine: Machine
    outcomes: Sequence[Outcome]


def render(run: Run) -> str:
    lines = ["# Benchmark report", ""]
    took = (run.finished - run.started).total_seconds()
    lines += [
        f"Produced by `{run.command}` on {run.started:%Y-%m-%d %H:%M} UTC in "
        f"{_duration(took)}. Each benchmark ran in its own process; what each measures is in "
        "its docstring and in [bench/README.md](README.md).",
        "",
    ]
    if run.quick:
        lines += [
            "**Quick run**: sizes are reduced for a smoke test; these are not the figures the "
            "targets are about.",
            "",
        ]
    failed = [outcome for outcome in run.outcomes if not outcome.ok]
    if failed:
        lines += [
            "**Did not complete:** "
            + "; ".join(f"`{outcome.bench.name}` {outcome.status}" for outcome in failed)
            + ".",
            "",
        ]
    lines += _figures_table(run.outcomes)
    lines += _machine_section(run)
    lines += _runs_section(run.outcomes)
    lines += _output_section(run.outcomes)
    return "\n".join(lines).rstrip() + "\n"


def _figures_table(outcomes: Sequence[Outcome]) -> list[str]:
    lines = [
        "## Figures",
        "",
        "| benchmark | figure | result | target | ratio | met? | database | notes |",
        "| --- | --- | ---: | --- | ---: | :---: | --- | --- |",
    ]
    for outcome in outcomes:
        name = f"`{outcome.bench.name}`"
        if not outcome.figures:
            status = _cell(outcome.status)
            lines.append(
                f"| {name} | {status} | {NO_VALUE} | {NO_VALUE} | {NO_VALUE} | ✗ | "
                f"{_cell(outcome.database or NO_VALUE)} | see its output below |"
            )
            continue
        for figure in outcome.figures:
            notes = figure.note
            if not outcome.ok:
                notes = f"{outcome.status}; {notes}" if notes else outcome.status
            lines.append(
                f"| {name} | {_cell(figure.figure)} | {_value(figure)} | "
                f"{_cell(figure.target or NO_VALUE)} | {_ratio(figure.ratio)} | "
                f"{_met(figure)} | {_cell(figure.database or outcome.database or NO_VALUE)} | "
                f"{_cell(notes or NO_VALUE)} |"
            )
    lines += [
        "",
        "met?: ✓ meets the target, ✗ misses it, n/a no target (or the target is for another "
        "set-up).",
        "",
    ]
    return lines


def _machine_section(run: Run) -> list[str]:
    machine = run.machine
    rows = [
        ("CPU", machine.cpu),
        ("cores", machine.cores),
        ("memory", machine.memory),
        ("operating system", machine.system),
        ("Python", machine.python),
        ("PostgreSQL", machine.postgresql),
        ("Redis", machine.redis),
        ("load average (1/5/15 min)", f"{run.load_before} before, {run.load_after} after"),
        ("started", f"{run.started:%Y-%m-%d %H:%M:%S} UTC"),
        ("finished", f"{run.finished:%Y-%m-%d %H:%M:%S} UTC"),
        ("git commit", machine.git_commit),
        ("command", f"`{run.command}`"),
    ]
    lines = ["## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {label} | {_cell(value)} |" for label, value in rows]
    lines += [
        "",
        "Wall-clock figures move with whatever else the machine is doing; the load average "
        "above and the one each benchmark prints in its output tell how busy it was.",
        "",
    ]
    return lines


def _runs_section(outcomes: Sequence[Outcome]) -> list[str]:
    lines = [
        "## Runs",
        "",
        "| benchmark | command | status | seconds |",
        "| --- | --- | --- | ---: |",
    ]
    for outcome in outcomes:
        status = outcome.status
        if not outcome.bench.planned:
            status += " (not in bench/plan.py: ran with its default sizes)"
        lines.append(
            f"| `{outcome.bench.name}` | `{outcome.shell_command}` | {_cell(status)} | "
            f"{outcome.seconds:.0f} |"
        )
    return [*lines, ""]


def _output_section(outcomes: Sequence[Outcome]) -> list[str]:
    lines = ["## Output", ""]
    for outcome in outcomes:
        text = _shortened(outcome.output.rstrip()) or "(no output)"
        for error in outcome.errors:
            text += f"\n[runner] {error}"
        lines += [
            f"<details><summary><code>{outcome.bench.name}</code>: {outcome.status}</summary>",
            "",
            "```text",
            text.replace("```", "'''"),
            "```",
            "",
            "</details>",
            "",
        ]
    return lines


def _shortened(output: str, head: int = 100, tail: int = 200) -> str:
    """A benchmark prints a screenful; one that logs a traceback per request prints thousands
    of lines, of which the start and the end tell the story."""
    lines = output.splitlines()
    if len(lines) <= head + tail:
        return output
    omitted = len(lines) - head - tail
    return "\n".join([*lines[:head], f"[... {omitted:,} lines left out ...]", *lines[-tail:]])


def _value(figure: Figure) -> str:
    if figure.value is None:
        return NO_VALUE
    value = figure.value
    if abs(value) >= 100:
        number = f"{value:,.0f}"
    elif abs(value) >= 10:
        number = f"{value:.1f}"
    else:
        number = f"{value:.2f}"
    return f"{number} {figure.unit}".strip()


def _ratio(ratio: float | None) -> str:
    return NO_VALUE if ratio is None else f"{ratio:.2f}"


def _met(figure: Figure) -> str:
    if figure.met is None:
        return "n/a"
    return "✓" if figure.met else "✗"


def _cell(text: str) -> str:
    """Safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
