"""How a benchmark hands its headline figures to ``python -m bench``: one JSON line per figure,
appended to the file named in ``$MTEJA_BENCH_RESULTS``. Light on purpose (no mteja imports), so
the runner and small benchmarks load it cheaply."""

from __future__ import annotations

import json
import math
import os

RESULTS_ENV = "MTEJA_BENCH_RESULTS"


def emit_result(
    figure: str,
    value: float,
    unit: str,
    *,
    target: str | None = None,
    met: bool | None = None,
    ratio: float | None = None,
    database: str | None = None,
    note: str = "",
) -> None:
    """Hand one headline figure to ``python -m bench``, which names a file in
    ``$MTEJA_BENCH_RESULTS``: one JSON line appended per figure. Without it, nothing happens
    (the benchmark has printed the figure already). ``target`` is as the issue states it,
    ``met`` whether this run meets it (None: no target, or not applicable to this set-up)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    record = {
        "figure": figure,
        "value": _finite(value),
        "unit": unit,
        "target": target,
        "met": met,
        "ratio": _finite(ratio),
        "database": database,
        "note": note,
    }
    with open(path, "a", encoding="utf-8") as results:
        results.write(json.dumps(record) + "\n")


def _finite(number: float | None) -> float | None:
    """JSON has no NaN or infinity: an empty percentile or a zero division becomes null."""
    if number is None or not math.isfinite(number):
        return None
    return float(number)
