"""`python -m bench`: runs benchmarks in their own processes and writes the report; a benchmark
that crashes, hangs or reports nothing is reported as such and does not stop the others."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REPORT_IN_REPO = REPO_ROOT / "bench" / "REPORT.md"

FAKE_BENCHES = {
    "bench_fine": """
        from bench.results import emit_result
        print("fine: measuring")
        emit_result("the answer", 42.0, "ms", target="< 50 ms", met=True, database="sqlite",
                    note="p50 40 ms")
        emit_result("against a reference", 1.5, "s", target="ratio >= 0.80", met=False,
                    ratio=0.61)
    """,
    "bench_crash": """
        print("crash: about to fail")
        raise RuntimeError("the simulated router went away")
    """,
    "bench_hang": """
        import signal
        import time
        from bench.results import emit_result
        # A shell's background job inherits SIGINT ignored, and Python then never raises
        # KeyboardInterrupt: restore what a benchmark run from a terminal has.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        emit_result("before hanging", 1.0, "s")
        print("hang: waiting forever", flush=True)
        try:
            time.sleep(120)
        except KeyboardInterrupt:  # the runner's SIGINT: its clean-up runs
            print("hang: interrupted, cleaning up", flush=True)
            raise
    """,
    "bench_silent": """
        print("silent: nothing to report")
    """,
    "bench_noisy": """
        from bench.results import emit_result
        for number in range(1000):
            print(f"noisy line {number}")
        emit_result("despite the noise", 2.0, "s", target="< 5 s", met=True)
    """,
}


def _report_state() -> tuple[bool, float]:
    if not REPORT_IN_REPO.exists():
        return False, 0.0
    return True, REPORT_IN_REPO.stat().st_mtime


@pytest.fixture
def bench_package(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The bench package of this repository (not installed: it lives at the repository root)."""
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    import bench.runner

    return bench


def test_quick_run_of_a_real_benchmark_writes_the_report_where_told(tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    before = _report_state()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "router_simulator",
            "--output",
            str(output),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _report_state() == before, "the repository's bench/REPORT.md must not be touched"
    report = output.read_text()
    assert report.startswith("# Benchmark report\n")
    assert "**Quick run**" in report
    assert "| benchmark | figure | result | target | ratio | met? | database | notes |" in report
    rows = [line for line in report.splitlines() if line.startswith("| `bench_router_simulator`")]
    assert any("simulator: 300 sets, one round trip each" in row and " ms |" in row for row in rows)
    for heading in ("## Figures", "## Machine", "## Runs", "## Output"):
        assert heading in report
    for label in (
        "| CPU |",
        "| cores |",
        "| memory |",
        "| Python |",
        "| PostgreSQL |",
        "| Redis |",
        "| load average (1/5/15 min) |",
        "| git commit |",
    ):
        assert label in report
    command = f"python -m bench --quick --only router_simulator --output {output}"
    assert f"| command | `{command}` |" in report
    assert "python -m bench.bench_router_simulator --secrets 2000 --writes 300" in report


def test_an_unknown_benchmark_is_refused_before_anything_runs(tmp_path: Path) -> None:
    output = tmp_path / "report.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nosuch", "--output", str(output)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "no benchmark bench_nosuch; known: bench_expiry" in result.stderr
    assert not output.exists()


def test_crashes_hangs_and_silence_are_reported_not_fatal(
    tmp_path: Path, bench_package: ModuleType
) -> None:
    from bench.plan import Bench
    from bench.report import Machine, Run, render
    from bench.runner import run_bench

    package = tmp_path / "fakebench"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, source in FAKE_BENCHES.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))

    outcomes = []
    for name in FAKE_BENCHES:
        bench = Bench(name, quick_args=("--size", "3"), database=None, package="fakebench")
        outcomes.append(
            run_bench(
                bench,
                quick=True,
                extra_env={"PYTHONPATH": str(tmp_path)},
                # Long enough for a loaded machine to start Python and print its first lines.
                timeout_seconds=10 if name == "bench_hang" else 60,
            )
        )
    fine, crash, hang, silent, noisy = outcomes

    assert fine.status == "ok"
    assert [figure.figure for figure in fine.figures] == ["the answer", "against a reference"]
    assert fine.figures[1].ratio == 0.61
    assert crash.status == "failed (exit 1)"
    assert "RuntimeError: the simulated router went away" in crash.output
    assert hang.returncode is None
    assert hang.status.startswith("timed out after")
    assert "hang: waiting forever" in hang.output
    # Ended by the SIGINT (its clean-up ran), not by the SIGKILL that follows a grace period.
    assert "hang: interrupted, cleaning up" in hang.output
    assert [figure.figure for figure in hang.figures] == ["before hanging"]
    assert silent.status == "reported no figures"

    now = datetime.now(UTC)
    machine = Machine(
        "a CPU", "2 logical CPUs", "1.0 GiB", "Linux", "CPython 3.11", "15", "7", "abc1234"
    )
    report = render(Run("python -m bench", False, now, now, "0.1", "0.2", machine, outcomes))
    assert "**Quick run**" not in report
    assert (
        "| `bench_fine` | the answer | 42.0 ms | < 50 ms | — | ✓ | sqlite | p50 40 ms |" in report
    )
    assert "| `bench_fine` | against a reference | 1.50 s | ratio >= 0.80 | 0.61 | ✗ |" in report
    assert "| `bench_crash` | failed (exit 1) | — | — | — | ✗ |" in report
    assert "| `bench_silent` | reported no figures |" in report
    assert "| `bench_hang` | before hanging | 1.00 s | — | — | n/a | — | timed out after" in report
    assert "**Did not complete:** `bench_crash` failed (exit 1); `bench_hang` timed out" in report
    assert "python -m fakebench.bench_crash --size 3" in report
    assert "crash: about to fail" in report
    assert noisy.status == "ok"
    assert "| `bench_noisy` | despite the noise | 2.00 s | < 5 s | — | ✓ |" in report
    assert "noisy line 99\n[... 700 lines left out ...]\nnoisy line 800\n" in report
