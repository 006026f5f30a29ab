"""A router whose TLS certificate is not the pinned one: no login, its state says so, staff
are told, and re-pinning the certificate they confirmed brings it back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.models import Router
from core.usecases.network import CERTIFICATE_MISMATCH, RouterChange, edit_router
from sim.routeros import SimulatedRouter
from sim.routeros.certificates import Issued, issue, server_context

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
def certificate(tmp_path: Path) -> Issued:
    return issue(tmp_path, "kahawa", ip_addresses=("127.0.0.1",))


@pytest.fixture
def tls_sim(certificate: Issued) -> Iterator[SimulatedRouter]:
    with SimulatedRouter(
        username="mteja-api", password="api-s3cret", ssl_context=server_context(certificate)
    ) as router:
        yield router


def _repoint(env, tls_sim: SimulatedRouter, fingerprint: str) -> None:  # type: ignore[no-untyped-def]
    with env.services.unit_of_work() as uow:
        edit_router(
            uow,
            env.staff,
            env.router_name,
            RouterChange(host=tls_sim.host, api_port=tls_sim.port, tls_fingerprint=fingerprint),
        )
        uow.commit()


def _router(env) -> Router:  # type: ignore[no-untyped-def]
    with env.services.unit_of_work() as uow:
        router = uow.session.get(Router, env.router_id)
        assert router is not None
        uow.session.expunge(router)
        return router


def test_a_wrong_pin_is_the_routers_state_and_staff_hear_of_it(  # type: ignore[no-untyped-def]
    router_env, memory_queue, drain_queue, tls_sim: SimulatedRouter, certificate: Issued
) -> None:
    env = router_env
    memory_queue.tasks.check_routers()
    drain_queue(memory_queue.huey)
    assert _router(env).status == "online"
    _repoint(env, tls_sim, "00" * 32)
    memory_queue.notifier.messages.clear()

    env.clock.advance(timedelta(minutes=1))
    memory_queue.tasks.check_routers()
    drain_queue(memory_queue.huey)

    router = _router(env)
    assert router.status == CERTIFICATE_MISMATCH
    assert router.last_error and "not the pinned one" in router.last_error
    [notice] = [text for text in memory_queue.notifier.messages if text.startswith("Router ")]
    assert "CERTIFICATE MISMATCH" in notice and "password not sent" in notice
    assert tls_sim.login_attempts == 0

    _repoint(env, tls_sim, hashlib.sha256(certificate.der).hexdigest())
    env.clock.advance(timedelta(minutes=1))
    memory_queue.tasks.check_routers()
    drain_queue(memory_queue.huey)

    assert _router(env).status == "online"
    assert tls_sim.login_attempts >= 1
