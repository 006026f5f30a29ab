"""Fixtures for the simulator over real TCP/TLS sockets, and the gateway contract's backends.

Every simulator is started on 127.0.0.1 port 0 and stopped at teardown; every gateway closed.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import librouteros
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from routers.gateway import RouterCredentials, RouterGateway
from routers.librouteros_gateway import RouterOsGateway
from sim.routeros import SimulatedRouter
from sim.routeros.memory_gateway import InMemoryRouterGateway
from sim.routeros.state import RouterState

USERNAME = "mteja"
PASSWORD = "s3cret-api"
IDENTITY = "kahawa-west"


def credentials_for(router: SimulatedRouter, **overrides: Any) -> RouterCredentials:
    """Credentials for ``router`` with short timeouts, so a broken test fails fast."""
    settings: dict[str, Any] = {
        "host": router.host,
        "port": router.port,
        "username": router.username,
        "password": router.password,
        "tls": router.tls,
        "connect_timeout": 5.0,
        "command_timeout": 5.0,
    }
    settings.update(overrides)
    return RouterCredentials(**settings)


@pytest.fixture
def sim() -> Iterator[SimulatedRouter]:
    with SimulatedRouter(username=USERNAME, password=PASSWORD, identity=IDENTITY) as router:
        yield router


@pytest.fixture
def credentials(sim: SimulatedRouter) -> RouterCredentials:
    return credentials_for(sim)


@pytest.fixture
def routeros_gateway(credentials: RouterCredentials) -> Iterator[RouterOsGateway]:
    gateway = RouterOsGateway(credentials)
    yield gateway
    gateway.close()


@pytest.fixture
def make_gateway(sim: SimulatedRouter) -> Iterator[Callable[..., RouterOsGateway]]:
    """Build extra gateways to ``sim`` with overridden credentials; all closed at teardown."""
    made: list[RouterOsGateway] = []

    def make(**overrides: Any) -> RouterOsGateway:
        gateway = RouterOsGateway(credentials_for(sim, **overrides))
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.close()


@pytest.fixture
def api(sim: SimulatedRouter) -> Iterator[Any]:
    """A librouteros Api logged in to ``sim``, used directly (no gateway in between)."""
    connection = librouteros.connect(sim.host, USERNAME, PASSWORD, port=sim.port, timeout=5)
    yield connection
    connection.close()


# -- TLS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, as a MikroTik would make for itself."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    files = TlsFiles(directory / "router.crt", directory / "router.key")
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@pytest.fixture
def tls_sim(tls_files: TlsFiles) -> Iterator[SimulatedRouter]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls_files.certificate, tls_files.key)
    with SimulatedRouter(username=USERNAME, password=PASSWORD, ssl_context=context) as router:
        yield router


# -- the RouterGateway contract's two backends ---------------------------------------------


@dataclass
class Backend:
    """One RouterGateway implementation with the levers the contract tests need."""

    gateway: RouterGateway
    state: RouterState
    take_down: Callable[[], None]
    bring_up: Callable[[], None]
    with_wrong_password: Callable[[], RouterGateway]


@pytest.fixture(params=["routeros", "in-memory"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "in-memory":
        state = RouterState(identity=IDENTITY)
        fake = InMemoryRouterGateway(state)

        def take_down() -> None:
            fake.down = True

        def bring_up() -> None:
            fake.down = False

        def with_wrong_password() -> RouterGateway:
            refused = InMemoryRouterGateway(state)
            refused.reject_login = True
            return refused

        yield Backend(fake, state, take_down, bring_up, with_wrong_password)
        return

    with SimulatedRouter(username=USERNAME, password=PASSWORD, identity=IDENTITY) as router:
        gateways = [RouterOsGateway(credentials_for(router))]

        def wrong_password() -> RouterGateway:
            gateways.append(RouterOsGateway(credentials_for(router, password="not-it")))
            return gateways[-1]

        try:
            yield Backend(gateways[0], router.state, router.down, router.up, wrong_password)
        finally:
            for gateway in gateways:
                gateway.close()


@pytest.fixture
def router_gateway(backend: Backend) -> RouterGateway:
    return backend.gateway


@pytest.fixture
def router_state(backend: Backend) -> RouterState:
    return backend.state


@pytest.fixture
def take_router_down(backend: Backend) -> Callable[[], None]:
    return backend.take_down


@pytest.fixture
def bring_router_up(backend: Backend) -> Callable[[], None]:
    return backend.bring_up


@pytest.fixture
def gateway_with_wrong_password(backend: Backend) -> Callable[[], RouterGateway]:
    return backend.with_wrong_password


@pytest.fixture
def credentials_of() -> Callable[..., RouterCredentials]:
    """``credentials_of(router, **overrides)``: credentials for any simulator a test starts."""
    return credentials_for
