"""The directory where each process of multiprocess Prometheus mode writes its metric files.

Kept apart from ``mteja.metrics`` because it must run before prometheus_client is imported:
prometheus_client decides at import whether values live in memory or in files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

_PID_FILE = re.compile(r".*_(\d+)\.db$")


def use_metrics_dir(directory: str) -> Path:
    """Make ``directory`` this process's (and its children's) PROMETHEUS_MULTIPROC_DIR, and
    delete the files of processes no longer running. Call before prometheus_client is used."""
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    forget_dead_processes(path)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def forget_dead_processes(path: Path) -> list[Path]:
    """Delete the metric files of processes that are no longer running (their counts drop
    out of the sums: Prometheus reads that as a counter reset, which rate() allows for)."""
    removed = []
    for file in path.glob("*.db"):
        match = _PID_FILE.fullmatch(file.name)
        if match is None or _running(int(match.group(1))):
            continue
        file.unlink(missing_ok=True)
        removed.append(file)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
