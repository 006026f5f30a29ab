"""``mteja router add/edit/list/fingerprint`` and TLS: a router is reached over verified TLS or,
said out loud, over the plain API; the list flags what is unsafe; the fingerprint is read from
the router without logging in."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.routeros import SimulatedRouter
from sim.routeros.certificates import Issued, issue, server_context

pytestmark = pytest.mark.slow


@pytest.fixture
def certificate(tmp_path: Path) -> Issued:
    return issue(tmp_path / "tls", "core-9", ip_addresses=("127.0.0.1",))


@pytest.fixture
def tls_router(certificate: Issued) -> Iterator[SimulatedRouter]:
    with SimulatedRouter(ssl_context=server_context(certificate)) as router:
        yield router


def _add(ready, name: str, *flags: str):  # type: ignore[no-untyped-def]
    return ready(
        "router", "add", name, "--host", "10.0.0.7", "--username", "api", "--password", "pw",
        *flags,
    )  # fmt: skip


def test_a_router_without_tls_or_plain_api_is_refused(ready) -> None:  # type: ignore[no-untyped-def]
    refused = _add(ready, "edge-7")

    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: say how to reach the router's API")
    assert "edge-7" not in ready("router", "list").output


def test_contradictory_or_malformed_tls_is_refused(ready, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = {
        ("--tls-fingerprint", "abcd"): "64 hex digits",
        ("--tls-fingerprint", "ab" * 32, "--plain-api"): "--plain-api is the API without TLS",
        ("--tls-ca", str(tmp_path / "missing.pem")): "cannot read the CA file",
    }
    for flags, words in cases.items():
        result = _add(ready, "edge-7", *flags)
        assert result.exit_code == 1, flags
        assert result.stderr.startswith("error:") and words in result.stderr, result.stderr


def test_the_list_flags_plain_and_unverified_routers(ready, certificate: Issued) -> None:  # type: ignore[no-untyped-def]
    assert _add(ready, "pinned-1", "--tls-fingerprint", "ab" * 32).exit_code == 0
    added = _add(ready, "ca-1", "--tls-ca", str(certificate.certificate_file))
    assert added.exit_code == 0, added.stderr

    listing = ready("router", "list").output

    rows = {line.split()[1]: line for line in listing.splitlines() if "10.0." in line}
    assert "PLAIN" in rows["core-1"]
    assert "tls pinned" in rows["pinned-1"]
    assert "tls CA" in rows["ca-1"]
    assert "core-1: PLAIN API: password sent in clear" in listing
    assert "pinned-1:" not in listing and "ca-1:" not in listing


def test_fingerprint_reads_the_certificate_without_logging_in(  # type: ignore[no-untyped-def]
    ready, tls_router: SimulatedRouter, certificate: Issued
) -> None:
    digest = hashlib.sha256(certificate.der).hexdigest()

    shown = ready("router", "fingerprint", tls_router.host, "--port", str(tls_router.port))

    assert shown.exit_code == 0, shown.stderr
    pretty = ":".join(digest[i : i + 2] for i in range(0, 64, 2)).upper()
    assert pretty in shown.output
    assert "CN=core-9" in shown.output
    assert f"--tls-fingerprint {digest}" in shown.output
    assert tls_router.login_attempts == 0


def test_fingerprint_of_a_named_router_says_whether_it_matches_the_pin(  # type: ignore[no-untyped-def]
    ready, tls_router: SimulatedRouter, certificate: Issued
) -> None:
    digest = hashlib.sha256(certificate.der).hexdigest()
    added = ready(
        "router", "add", "core-9", "--host", tls_router.host, "--port", str(tls_router.port),
        "--username", "admin", "--password", "simulator", "--tls-fingerprint", digest,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr

    shown = ready("router", "fingerprint", "core-9")

    assert "matches the pin" in shown.output and "DOES NOT" not in shown.output
    assert tls_router.login_attempts == 0


def test_fingerprint_of_no_tls_service_is_one_error_line(ready) -> None:  # type: ignore[no-untyped-def]
    with SimulatedRouter() as plain:
        shown = ready("router", "fingerprint", plain.host, "--port", str(plain.port))

    assert shown.exit_code == 1
    assert shown.stderr.startswith("error: no TLS certificate from")


def test_the_list_flags_unverified_tls_and_a_certificate_mismatch(ready, workdir: Path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, update

    from core.models import Router

    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    with engine.begin() as connection:
        # A TLS router from before 0017 (no pin, no CA), whose certificate then changed.
        connection.execute(
            update(Router).values(
                use_tls=True, status="cert-mismatch", last_error="not the pinned one"
            )
        )
    engine.dispose()

    listing = ready("router", "list").output

    assert "TLS UNVERIFIED" in listing and "CERT MISMATCH" in listing
    assert "core-1: TLS NOT VERIFIED" in listing
    assert "core-1: CERTIFICATE MISMATCH, not logged in: not the pinned one" in listing
