"""`python -m bench.bench_console` at a small size: it logs in through a real one-time link,
requests every list kind through the real app and hands one figure per kind to the runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
KINDS = (
    "all, by name",
    "status=active sort=expiry",
    "q=NAME PREFIX",
    "plan=X sort=name page=5",
    "status=expiring",
)


def test_a_small_run_reports_the_server_time_of_every_list(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    command = ["-m", "bench.bench_console", "--customers", "300", "--requests", "5"]
    done = subprocess.run(
        [sys.executable, *command, "--db", "sqlite"],
        cwd=REPO_ROOT,
        env={**os.environ, "MTEJA_BENCH_RESULTS": str(results)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "baseline: 400 page (page=abc)" in done.stdout
    assert "1–20 of 300" in done.stdout  # the list by name, read from the page itself
    figures = {
        figure["figure"]: figure for figure in map(json.loads, results.read_text().splitlines())
    }
    for kind in KINDS:
        figure = figures[f"console {kind}, server time p99, 300 customers"]
        assert figure["unit"] == "ms" and figure["target"] == "p99 < 100 ms"
        assert figure["database"] == "sqlite" and figure["value"] > 0
