"""The API over TLS (api-ssl), with the self-signed certificates MikroTik routers carry."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from routers.gateway import RouterCertificateMismatch, RouterCredentials, RouterUnreachable
from routers.librouteros_gateway import RouterOsGateway
from sim.routeros import SimulatedRouter


@pytest.fixture
def tls_gateway(
    tls_sim: SimulatedRouter, credentials_of: Callable[..., RouterCredentials]
) -> Iterator[Callable[..., RouterOsGateway]]:
    made: list[RouterOsGateway] = []

    def make(**overrides: object) -> RouterOsGateway:
        made.append(RouterOsGateway(credentials_of(tls_sim, **overrides)))
        return made[-1]

    yield make
    for gateway in made:
        gateway.close()


def test_unverified_tls_accepts_a_self_signed_router(
    tls_gateway: Callable[..., RouterOsGateway],
) -> None:
    gateway = tls_gateway()

    gateway.add("/ppp/secret", {"name": "alice"})

    assert gateway.print("/ppp/secret", ["name"]) == [{"name": "alice"}]


def test_verified_tls_with_the_router_certificate_pinned(
    tls_gateway: Callable[..., RouterOsGateway], tls_files: Any
) -> None:
    gateway = tls_gateway(tls_verify=True, tls_ca_file=str(tls_files.certificate))

    assert gateway.identity() == "MikroTik"


def test_verified_tls_refuses_an_unknown_certificate(
    tls_gateway: Callable[..., RouterOsGateway],
) -> None:
    with pytest.raises(RouterCertificateMismatch, match="not trusted"):
        tls_gateway(tls_verify=True).identity()


def test_plain_api_against_a_tls_port_is_unreachable(
    tls_gateway: Callable[..., RouterOsGateway],
) -> None:
    with pytest.raises(RouterUnreachable):
        tls_gateway(tls=False, connect_timeout=2.0).identity()


def test_a_router_without_a_certificate_uses_anonymous_key_exchange(
    credentials_of: Callable[..., RouterCredentials],
) -> None:
    # api-ssl with no certificate assigned offers only anonymous (ECDH/DH) suites on TLS 1.2.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("aNULL:@SECLEVEL=0")
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with SimulatedRouter(ssl_context=context) as router:
        gateway = RouterOsGateway(credentials_of(router))
        try:
            assert gateway.identity() == "MikroTik"
        finally:
            gateway.close()
