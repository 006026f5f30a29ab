"""A queue message lost on the way costs at most a minute: the sweep finds the work again.

A message is lost when a worker takes it off the queue and dies before running it (SIGKILL, OOM)
or when the queue's storage loses it. The database still says what is pending, so the minute
sweep must be able to queue the work again, whatever bookkeeping the lost message left behind.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_lost_sync_message_is_queued_again_by_the_minute_sweep(
    router_env, memory_queue, drain_queue
):
    env, huey = router_env, memory_queue.huey
    _, password = env.create("John Kamau", username="john")
    huey.storage.flush_queue()  # the sync_router message is gone; its marker is not

    memory_queue.tasks.sweep()
    drain_queue(huey)

    assert env.pending() == {}
    assert env.sim.connect("john", password)


def test_a_lost_sync_message_is_made_good_by_the_periodic_reconcile(
    router_env, memory_queue, drain_queue
):
    env, huey = router_env, memory_queue.huey
    _, password = env.create("John Kamau", username="john")
    huey.storage.flush_queue()

    memory_queue.tasks.reconcile_all()
    drain_queue(huey)

    assert env.pending() == {}
    assert env.sim.connect("john", password)
