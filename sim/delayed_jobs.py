"""Run small jobs after a delay on a few worker threads (the fakes' callbacks and reports)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["DelayedJobs"]

log = logging.getLogger(__name__)

Job = Callable[[], object]


class DelayedJobs:
    """A delay queue served by `workers` daemon threads, started on the first submit.

    stop() drops jobs not yet due and waits for running ones; a later submit starts afresh.
    A job that raises is logged and does not stop its worker.
    """

    def __init__(self, *, workers: int = 4, name: str = "delayed-jobs") -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._workers = workers
        self._name = name
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, Job]] = []
        self._sequence = itertools.count()
        self._threads: list[threading.Thread] = []
        # Each start gets a new generation; workers of an old generation exit even if they
        # were busy (and so not joined in time) when stop() ran.
        self._generation = 0
        self._running = 0

    def submit(self, delay_seconds: float, job: Job) -> None:
        """Run `job` on a worker thread once `delay_seconds` have passed."""
        due = time.monotonic() + max(0.0, delay_seconds)
        with self._condition:
            if not self._threads:
                self._start_locked()
            heapq.heappush(self._queue, (due, next(self._sequence), job))
            self._condition.notify()

    def idle(self) -> bool:
        """True when no job is queued or running."""
        with self._condition:
            return not self._queue and self._running == 0

    def stop(self, timeout: float = 5.0) -> None:
        """Drop queued jobs, let running ones finish (up to `timeout`) and end the workers."""
        with self._condition:
            self._generation += 1
            self._queue.clear()
            threads, self._threads = self._threads, []
            self._condition.notify_all()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _start_locked(self) -> None:
        generation = self._generation
        for index in range(self._workers):
            thread = threading.Thread(
                target=self._work,
                args=(generation,),
                name=f"{self._name}-{index}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def _next_job(self, generation: int) -> Job | None:
        with self._condition:
            while generation == self._generation:
                if self._queue:
                    wait = self._queue[0][0] - time.monotonic()
                    if wait <= 0:
                        self._running += 1
                        return heapq.heappop(self._queue)[2]
                    self._condition.wait(wait)
                else:
                    self._condition.wait()
            return None

    def _work(self, generation: int) -> None:
        while (job := self._next_job(generation)) is not None:
            try:
                job()
            except Exception:
                log.exception("delayed job failed")
            finally:
                with self._condition:
                    self._running -= 1
