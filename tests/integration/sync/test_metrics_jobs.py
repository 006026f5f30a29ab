"""The worker's metrics move when their events happen: a reconcile that repairs drift, an expiry
that cuts a customer off late, the queue's task events, and the routers' recorded health."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from huey import MemoryHuey
from prometheus_client.parser import text_string_to_metric_families

from core.models import Customer
from core.ports import RecordingNotifier
from jobs.locks import FileRouterLock
from mteja.metrics import PrometheusMetrics, render
from mteja.queueing import Queue, build_queue
from tests.integration.sync.conftest import fast_gateways


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
def metered_queue(system, tmp_path: Path, metrics: PrometheusMetrics) -> Queue:
    """The real tasks on an in-memory queue, counting in ``metrics``."""
    return build_queue(
        system,
        huey=MemoryHuey("mteja-test", utc=True),
        gateways=fast_gateways(),
        locks=FileRouterLock(tmp_path / "locks"),
        notifier=RecordingNotifier(),
        metrics=metrics,
    )


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def scraped(metrics: PrometheusMetrics, services, name: str) -> dict[tuple[str, ...], float]:
    """What /metrics would say of ``name``: label values → value."""
    text = render(metrics, services.session_factory).decode()
    return {
        tuple(sample.labels.values()): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_a_reconcile_that_repairs_drift_counts_the_entries_it_added(
    router_env, metered_queue, metrics, drain_queue
):
    env, huey = router_env, metered_queue.huey
    env.create("John Kamau", username="john")
    huey.storage.flush_queue()  # the sync message is lost: the router lacks john's entries
    assert value(metrics, "mteja_reconcile_drift_entries_total", kind="added") == 0

    metered_queue.tasks.reconcile_router(env.router_id)
    drain_queue(huey)

    assert value(metrics, "mteja_reconcile_drift_entries_total", kind="added") >= 1
    assert value(metrics, "mteja_reconcile_drift_entries_total", kind="removed") == 0
    # Nothing drifted since: the next reconcile counts nothing more.
    before = value(metrics, "mteja_reconcile_drift_entries_total", kind="added")
    metered_queue.tasks.reconcile_router(env.router_id)
    drain_queue(huey)
    assert value(metrics, "mteja_reconcile_drift_entries_total", kind="added") == before


def test_an_expiry_observes_how_late_it_cut_the_customer_off(
    router_env, metered_queue, metrics, drain_queue
):
    env, huey = router_env, metered_queue.huey
    env.create("John Kamau", username="john")
    drain_queue(huey)
    huey.storage.flush_schedule()  # the run at the second is lost; the sweep finds them late
    env.clock.advance(timedelta(days=30, seconds=90))

    metered_queue.tasks.sweep()
    drain_queue(huey)

    assert value(metrics, "mteja_expiry_lag_seconds_count") == 1
    assert value(metrics, "mteja_expiry_lag_seconds_sum") == pytest.approx(90, abs=1)
    assert value(metrics, "mteja_expiry_lag_seconds_bucket", le="60.0") == 0
    assert value(metrics, "mteja_expiry_lag_seconds_bucket", le="120.0") == 1


def test_queued_and_finished_jobs_are_counted_by_task(
    router_env, metered_queue, metrics, drain_queue
):
    env, huey = router_env, metered_queue.huey
    env.create("John Kamau", username="john")
    assert value(metrics, "mteja_jobs_total", task="sync_router", event="enqueued") == 1

    drain_queue(huey)

    assert value(metrics, "mteja_jobs_total", task="sync_router", event="complete") == 1
    assert value(metrics, "mteja_jobs_total", task="sync_router", event="error") == 0


def test_a_failing_job_is_counted_as_an_error(router_env, metered_queue, metrics, drain_queue):
    env, huey = router_env, metered_queue.huey
    env.create("John Kamau", username="john")
    env.sim.stop()  # the router is unreachable: the sync fails (and is retried later)

    drain_queue(huey)

    assert value(metrics, "mteja_jobs_total", task="sync_router", event="error") >= 1
    assert value(metrics, "mteja_jobs_total", task="sync_router", event="retrying") >= 1


def test_router_reachability_and_the_sync_backlog_are_read_from_the_database(
    router_env, metered_queue, metrics, drain_queue
):
    env, huey = router_env, metered_queue.huey
    assert scraped(metrics, env.services, "mteja_router_reachable") == {}  # never checked
    env.create("John Kamau", username="john")
    assert scraped(metrics, env.services, "mteja_customers_sync_pending") == {(): 1.0}

    drain_queue(huey)
    metered_queue.tasks.check_routers.call_local()
    assert scraped(metrics, env.services, "mteja_customers_sync_pending") == {(): 0.0}
    assert scraped(metrics, env.services, "mteja_router_reachable") == {("kahawa",): 1.0}

    env.sim.stop()
    env.clock.advance(timedelta(minutes=1))
    metered_queue.tasks.check_routers.call_local()
    assert scraped(metrics, env.services, "mteja_router_reachable") == {("kahawa",): 0.0}


def test_a_change_the_router_refused_is_counted_apart_from_the_backlog(
    router_env, metered_queue, metrics
):
    env = router_env
    waiting, _ = env.create("John Kamau", username="john")
    refused, _ = env.create("Mary Wanjiru", username="mary")
    with env.services.unit_of_work() as uow:
        uow.session.get(Customer, refused).sync_error = "router refused the profile"
        uow.commit()

    assert scraped(metrics, env.services, "mteja_customers_sync_pending") == {(): 1.0}
    assert scraped(metrics, env.services, "mteja_customers_sync_refused") == {(): 1.0}
    assert waiting != refused


def test_the_one_by_one_expiry_observes_its_lag_too(router_env, metered_queue, metrics):
    from core.usecases.service import expire_if_due

    env = router_env
    customer_id, _ = env.create("John Kamau", username="john")
    env.clock.advance(timedelta(days=30, seconds=5))

    assert env.do(expire_if_due, customer_id) == "expired"

    assert value(metrics, "mteja_expiry_lag_seconds_count") == 1
    assert value(metrics, "mteja_expiry_lag_seconds_sum") == pytest.approx(5, abs=1)


def test_the_queue_length_is_read_at_scrape(router_env, metered_queue, metrics, drain_queue):
    env, huey = router_env, metered_queue.huey

    def pending(queue_length) -> dict[tuple[str, ...], float]:
        text = render(metrics, env.services.session_factory, queue_length).decode()
        return {
            tuple(sample.labels.values()): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "mteja_queue_pending"
        }

    env.create("John Kamau", username="john")  # its sync, its receipt, its welcome SMS, ...
    assert pending(huey.pending_count) == {(): float(huey.pending_count())}
    assert huey.pending_count() >= 1
    drain_queue(huey)
    assert pending(huey.pending_count) == {(): 0.0}

    def down() -> int:
        raise ConnectionError("Redis refused the connection")

    # A queue that does not answer leaves its gauge out, not the whole scrape.
    assert pending(down) == {}
    assert (
        "mteja_customers_sync_pending"
        in render(metrics, env.services.session_factory, down).decode()
    )
