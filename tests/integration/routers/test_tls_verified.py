"""Verified TLS to the router: a pinned certificate or a CA, checked before the password is sent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from routers.gateway import RouterCertificateMismatch, RouterCredentials
from routers.librouteros_gateway import RouterOsGateway
from routers.tls import fetch_certificate, normalize_fingerprint
from sim.routeros import SimulatedRouter
from sim.routeros.certificates import Issued, issue, server_context

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return issue(tmp_path_factory.mktemp("ca"), "mteja-test-ca", ca=True)


@pytest.fixture(scope="module")
def signed(ca: Issued, tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return issue(tmp_path_factory.mktemp("signed"), "core-1", issuer=ca)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return issue(tmp_path_factory.mktemp("self"), "core-1", ip_addresses=("127.0.0.1",))


def _serving(issued: Issued) -> SimulatedRouter:
    return SimulatedRouter(username="mteja", password="s3cret", ssl_context=server_context(issued))


@pytest.fixture
def signed_sim(signed: Issued) -> Iterator[SimulatedRouter]:
    with _serving(signed) as router:
        yield router


@pytest.fixture
def self_signed_sim(self_signed: Issued) -> Iterator[SimulatedRouter]:
    with _serving(self_signed) as router:
        yield router


def _identity(router: SimulatedRouter, **tls: object) -> str:
    credentials = RouterCredentials(
        router.host,
        router.username,
        router.password,
        port=router.port,
        tls=True,
        connect_timeout=5.0,
        command_timeout=5.0,
        **tls,  # type: ignore[arg-type]
    )
    gateway = RouterOsGateway(credentials)
    try:
        return gateway.identity()
    finally:
        gateway.close()


def test_the_pinned_fingerprint_logs_in(
    self_signed_sim: SimulatedRouter, self_signed: Issued
) -> None:
    pin = ":".join(f"{byte:02X}" for byte in hashlib.sha256(self_signed.der).digest())

    assert _identity(self_signed_sim, tls_fingerprint=pin) == "MikroTik"
    assert self_signed_sim.login_attempts == 1


def test_a_wrong_pin_is_refused_before_the_password_is_sent(
    self_signed_sim: SimulatedRouter, signed: Issued
) -> None:
    wrong = hashlib.sha256(signed.der).hexdigest()

    with pytest.raises(RouterCertificateMismatch, match="password was not sent"):
        _identity(self_signed_sim, tls_fingerprint=wrong)
    assert self_signed_sim.login_attempts == 0


def test_a_certificate_signed_by_the_ca_logs_in(signed_sim: SimulatedRouter, ca: Issued) -> None:
    # Addressed by IP, with no IP in the certificate: the CA's signature is what is checked.
    assert _identity(signed_sim, tls_verify=True, tls_ca_file=str(ca.certificate_file))
    assert signed_sim.login_attempts == 1


def test_a_self_signed_certificate_is_refused_with_a_ca(
    self_signed_sim: SimulatedRouter, ca: Issued
) -> None:
    with pytest.raises(RouterCertificateMismatch, match="not trusted"):
        _identity(self_signed_sim, tls_verify=True, tls_ca_file=str(ca.certificate_file))
    assert self_signed_sim.login_attempts == 0


def test_a_ca_signed_certificate_for_another_address_is_refused(ca: Issued, tmp_path: Path) -> None:
    elsewhere = issue(tmp_path, "core-2", issuer=ca, ip_addresses=("10.9.9.9",))
    with _serving(elsewhere) as router:
        with pytest.raises(RouterCertificateMismatch, match=r"not for 127\.0\.0\.1"):
            _identity(router, tls_verify=True, tls_ca_file=str(ca.certificate_file))
        assert router.login_attempts == 0


def test_fetching_the_certificate_sends_no_login(
    self_signed_sim: SimulatedRouter, self_signed: Issued
) -> None:
    seen = fetch_certificate(self_signed_sim.host, self_signed_sim.port, timeout=5.0)

    assert seen.fingerprint == hashlib.sha256(self_signed.der).hexdigest()
    assert seen.subject == "CN=core-1"
    assert self_signed_sim.login_attempts == 0


def test_fingerprints_are_read_with_or_without_colons() -> None:
    digest = "AB" * 32
    assert normalize_fingerprint(":".join(["AB"] * 32)) == digest.lower()
    assert normalize_fingerprint(digest) == digest.lower()
    with pytest.raises(ValueError, match="64 hex digits"):
        normalize_fingerprint("abcd")
