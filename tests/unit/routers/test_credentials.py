"""RouterCredentials: ports and what its repr shows."""

from __future__ import annotations

from routers.gateway import RouterCredentials


def test_default_ports() -> None:
    assert RouterCredentials("10.0.0.1", "mteja", "pw", tls=True).effective_port == 8729
    assert RouterCredentials("10.0.0.1", "mteja", "pw").effective_port == 8728
    assert RouterCredentials("10.0.0.1", "mteja", "pw", port=9000).effective_port == 9000


def test_unverified_tls_is_the_default() -> None:
    assert not RouterCredentials("10.0.0.1", "mteja", "pw", tls=True).tls_verify


def test_the_password_never_shows_in_repr() -> None:
    credentials = RouterCredentials("10.0.0.1", "mteja", "hunter2-secret")

    assert "hunter2-secret" not in repr(credentials)
    assert "10.0.0.1" in repr(credentials)
