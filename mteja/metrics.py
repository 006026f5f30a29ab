"""Prometheus metrics: their definitions, how events and the job queue move them, and /metrics.

Every counter and histogram is defined here, once (names prefixed ``mteja_``). Adapters count
through core's ``Metrics`` port (``services.metrics``); core's own facts (a payment credited, a
customer cut off) reach ``PrometheusMetrics.observe`` as the events their use cases publish,
through ``MeteredDispatcher``; the job queue's through huey's signals (``watch_queue``). The
gauges are read from the database and the queue at each scrape (``DatabaseCollector``,
``QueueCollector``), so they are right whichever process answers.

Several processes (``mteja web --workers N``, ``mteja worker``) count at once. With
``PROMETHEUS_MULTIPROC_DIR`` set before prometheus_client is imported (as
``mteja.metrics_files.use_metrics_dir`` does), each process writes its values to files there,
and /metrics, in any web process, adds up every process's files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from huey import Huey
from huey import signals as huey_signals
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import correlation
from core.events import Event, PaymentReceived, ServiceExpired
from core.models import Customer, Router
from core.ports import EventDispatcher
from core.unit_of_work import CoreServices
from mteja.metrics_files import MULTIPROC_ENV

log = logging.getLogger(__name__)

# Seconds late an expiry may run: at the second when all is well, a minute when the sweep
# caught it, much more when the worker was down.
EXPIRY_LAG_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600)
# The queue's events worth counting, per task.
JOB_EVENTS = {
    huey_signals.SIGNAL_ENQUEUED: "enqueued",
    huey_signals.SIGNAL_COMPLETE: "complete",
    huey_signals.SIGNAL_ERROR: "error",
    huey_signals.SIGNAL_RETRYING: "retrying",
}
# After these a worker thread has finished a task: its logs no longer belong to it.
_TASK_ENDED = {
    huey_signals.SIGNAL_COMPLETE,
    huey_signals.SIGNAL_ERROR,
    huey_signals.SIGNAL_CANCELED,
    huey_signals.SIGNAL_INTERRUPTED,
    huey_signals.SIGNAL_LOCKED,
    huey_signals.SIGNAL_TIMEOUT,
}


class PrometheusMetrics:
    """core.ports.Metrics over prometheus_client, plus what events and the queue tell."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # A registry of its own: in multiprocess mode what is served is read from the files.
        self.registry = registry or CollectorRegistry()
        on = self.registry
        self.callbacks = Counter(
            "mteja_mpesa_callbacks",
            "M-Pesa callbacks handled, by kind and outcome",
            ["kind", "outcome"],
            registry=on,
        )
        self.payments_credited = Counter(
            "mteja_payments_credited",
            "Payments recorded to a customer's account, by method",
            ["method"],
            registry=on,
        )
        self.payments_unmatched = Counter(
            "mteja_payments_unmatched",
            "Payments recorded that matched no customer (staff assign them), by method",
            ["method"],
            registry=on,
        )
        self.stk_results = Counter(
            "mteja_stk_results",
            "Safaricom's answers to our STK pushes, by outcome",
            ["outcome"],
            registry=on,
        )
        self.jobs = Counter(
            "mteja_jobs",
            "Job queue events (enqueued, complete, error, retrying) by task",
            ["task", "event"],
            registry=on,
        )
        self.drift = Counter(
            "mteja_reconcile_drift_entries",
            "Router entries a reconcile found missing (added), different (changed) or extra "
            "(removed), and repaired",
            ["kind"],
            registry=on,
        )
        self.expiry_lag = Histogram(
            "mteja_expiry_lag_seconds",
            "Seconds between a customer's expires_at and the expiry cutting them off",
            buckets=EXPIRY_LAG_BUCKETS,
            registry=on,
        )
        self.ussd_sessions = Counter(
            "mteja_ussd_sessions", "USSD sessions started (first screen)", registry=on
        )
        self.sms = Counter(
            "mteja_sms", "SMS sends by outcome (sent, failed)", ["status"], registry=on
        )

    # -- core.ports.Metrics ----------------------------------------------------------------

    def callback_handled(self, kind: str, outcome: str) -> None:
        self.callbacks.labels(kind=kind, outcome=outcome).inc()

    def stk_result(self, outcome: str) -> None:
        self.stk_results.labels(outcome=outcome).inc()

    def ussd_session_started(self) -> None:
        self.ussd_sessions.inc()

    def sms_finished(self, status: str) -> None:
        self.sms.labels(status="sent" if status != "failed" else "failed").inc()

    def drift_repaired(self, added: int, changed: int, removed: int) -> None:
        for kind, count in (("added", added), ("changed", changed), ("removed", removed)):
            if count:
                self.drift.labels(kind=kind).inc(count)

    # -- core's events and the queue's signals -----------------------------------------------

    def observe(self, event: Event) -> None:
        """Count what a committed use case published."""
        if isinstance(event, PaymentReceived):
            method = event.method or "unknown"
            if event.customer_id is None:
                self.payments_unmatched.labels(method=method).inc()
            else:
                self.payments_credited.labels(method=method).inc()
        elif isinstance(event, ServiceExpired):
            lag = (event.expired_at - event.expires_at).total_seconds()
            self.expiry_lag.observe(max(0.0, lag))

    def job_event(self, task: str, event: str) -> None:
        self.jobs.labels(task=task, event=event).inc()


class MeteredDispatcher:
    """An EventDispatcher that counts each event, then hands it on."""

    def __init__(self, inner: EventDispatcher, metrics: PrometheusMetrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def dispatch(self, event: Event) -> None:
        self.metrics.observe(event)
        self.inner.dispatch(event)


def instrument(services: CoreServices, metrics: PrometheusMetrics) -> None:
    """Make adapters count in ``metrics`` and core's published events be counted there."""
    services.metrics = metrics
    if not isinstance(services.dispatcher, MeteredDispatcher):
        services.dispatcher = MeteredDispatcher(services.dispatcher, metrics)


def watch_queue(huey: Huey, metrics: PrometheusMetrics | None) -> None:
    """Count ``huey``'s task events in ``metrics``, and give each running task its id as the
    correlation id of its log lines."""

    def on_signal(signal: str, task: Any, *args: Any) -> None:
        if signal == huey_signals.SIGNAL_EXECUTING:
            correlation.current.set(task.id)
        elif signal in _TASK_ENDED:
            correlation.current.set(None)
        event = JOB_EVENTS.get(signal)
        if event is not None and metrics is not None:
            metrics.job_event(task.name, event)

    huey.signal()(on_signal)


class DatabaseCollector(Collector):
    """Gauges read at scrape: customers waiting for a router sync, and each router's state as
    the last health check recorded it."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily(
            "mteja_customers_sync_pending",
            "Customers whose latest change waits for their router (refused ones not counted)",
        )
        refused = GaugeMetricFamily(
            "mteja_customers_sync_refused",
            "Customers whose latest change their router refused: staff must look",
        )
        reachable = GaugeMetricFamily(
            "mteja_router_reachable",
            "1 when the last health check reached the router, 0 when it did not (absent: "
            "not checked yet)",
            labels=["router"],
        )
        waiting = (Customer.sync_pending.is_(True), Customer.deleted_at.is_(None))
        with self.session_factory() as session:
            counts = dict(
                session.execute(
                    select(Customer.sync_error.is_not(None), func.count())
                    .where(*waiting)
                    .group_by(Customer.sync_error.is_not(None))
                ).all()
            )
            routers = session.execute(select(Router.name, Router.status)).all()
        pending.add_metric([], float(counts.get(False, 0)))
        refused.add_metric([], float(counts.get(True, 0)))
        for name, status in routers:
            if status in ("online", "offline"):
                reachable.add_metric([name], 1.0 if status == "online" else 0.0)
        yield pending
        yield refused
        yield reachable


def render(
    metrics: PrometheusMetrics,
    session_factory: Callable[[], Session],
    queue_length: Callable[[], int] | None = None,
) -> bytes:
    """The text exposition of every process's metrics (multiprocess mode) or this one's, the
    database gauges, and the number of tasks waiting in the queue (``queue_length``)."""
    registry = CollectorRegistry()
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(metrics.registry))
    registry.register(DatabaseCollector(session_factory))
    if queue_length is not None:
        registry.register(QueueCollector(queue_length))
    return generate_latest(registry)


class QueueCollector(Collector):
    """``mteja_queue_pending``: tasks waiting for a worker, read at scrape (absent when the
    queue does not answer: /readyz says so)."""

    def __init__(self, queue_length: Callable[[], int]) -> None:
        self.queue_length = queue_length

    def collect(self) -> Iterator[Metric]:
        try:
            length = self.queue_length()
        except Exception as error:  # the scrape still brings every other metric
            log.warning("metrics: the job queue did not answer: %s", error)
            return
        yield GaugeMetricFamily(
            "mteja_queue_pending", "Tasks waiting for a worker (scheduled ones not counted)", length
        )


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterable[Metric]:
        return self.registry.collect()
