"""Several processes count at once (web workers, the job worker): /metrics adds up the files
each writes to the shared directory, and a process that is gone leaves its files to be cleared
at the next start. Also: each huey job's log lines carry its task id."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from huey import MemoryHuey
from prometheus_client.parser import text_string_to_metric_families

from core.unit_of_work import CoreServices
from mteja.logs import CorrelationFilter
from mteja.metrics import PrometheusMetrics, render, watch_queue
from mteja.metrics_files import MULTIPROC_ENV, forget_dead_processes, use_metrics_dir

COUNTING_PROCESS = textwrap.dedent(
    """
    import sys
    from mteja.metrics import PrometheusMetrics

    metrics = PrometheusMetrics()
    for _ in range(int(sys.argv[1])):
        metrics.callback_handled("c2b_confirmation", "processed")
    metrics.drift_repaired(2, 0, 1)
    """
)


def count_in_a_process(directory: Path, times: int) -> None:
    environment = {**os.environ, MULTIPROC_ENV: str(directory)}
    subprocess.run(
        [sys.executable, "-c", COUNTING_PROCESS, str(times)], env=environment, check=True
    )


def samples(text: str, name: str) -> dict[tuple[str, ...], float]:
    return {
        tuple(sample.labels.values()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_processes_counts_are_summed(
    tmp_path: Path, db_services: CoreServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "metrics"  # its own: every *.db file in it is read as metrics
    directory.mkdir()
    count_in_a_process(directory, 3)
    count_in_a_process(directory, 4)
    assert len(list(directory.glob("counter_*.db"))) == 2

    monkeypatch.setenv(MULTIPROC_ENV, str(directory))
    text = render(PrometheusMetrics(), db_services.session_factory).decode()

    callbacks = samples(text, "mteja_mpesa_callbacks_total")
    assert callbacks == {("c2b_confirmation", "processed"): 7.0}
    drift = samples(text, "mteja_reconcile_drift_entries_total")
    assert drift == {("added",): 4.0, ("removed",): 2.0}
    # The database gauges come along, once.
    assert samples(text, "mteja_customers_sync_pending") == {(): 0.0}


def test_the_files_of_dead_processes_are_cleared_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    dead = tmp_path / f"counter_{dead_pid}.db"
    alive = tmp_path / f"counter_{os.getpid()}.db"
    other = tmp_path / "notes.txt"
    for path in (dead, alive, other):
        path.write_bytes(b"x")

    # Recorded by monkeypatch, so what use_metrics_dir sets is undone after the test.
    monkeypatch.setenv(MULTIPROC_ENV, "")
    assert use_metrics_dir(str(tmp_path)) == tmp_path
    assert os.environ[MULTIPROC_ENV] == str(tmp_path)
    assert not dead.exists() and alive.exists() and other.exists()
    assert forget_dead_processes(tmp_path) == []


def test_a_jobs_log_lines_carry_its_task_id(caplog: pytest.LogCaptureFixture) -> None:
    huey = MemoryHuey("mteja-test", immediate=True, utc=True)
    watch_queue(huey, None)
    log = logging.getLogger("jobs.test")

    @huey.task()
    def noisy() -> None:
        log.info("working")

    caplog.handler.addFilter(CorrelationFilter())
    with caplog.at_level(logging.INFO, logger="jobs.test"):
        result = noisy()
    [record] = [record for record in caplog.records if record.name == "jobs.test"]
    assert record.correlation_id == result.id  # type: ignore[attr-defined]


def test_the_command_line_loads_no_metrics_library_before_a_process_chooses_its_directory() -> None:
    """prometheus_client decides at import whether counts live in memory or in the shared
    directory; ``mteja web`` and ``mteja worker`` set the directory first, so merely importing
    the command must not import it (a worker's counts would never reach /metrics)."""
    import subprocess
    import sys

    probe = "import sys, mteja.cli; print('prometheus_client' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"
