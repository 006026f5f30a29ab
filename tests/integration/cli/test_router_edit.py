"""``mteja router edit``: a router's new address, port, API login or TLS, the password stored
encrypted, the change audited without the password, and bad arguments changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, select

from core.crypto import SecretBox
from core.models import AuditEvent, Router


def _stored(workdir: Path) -> tuple[Router, list[AuditEvent]]:
    engine = create_engine(f"sqlite:///{workdir}/mteja.db")
    with engine.connect() as connection:
        router = connection.execute(select(Router)).one()
        events = list(
            connection.execute(select(AuditEvent).where(AuditEvent.action == "router.edit"))
        )
    engine.dispose()
    return router, events


def _secret_key(workdir: Path) -> str:
    from dotenv import dotenv_values

    key = dotenv_values(workdir / ".env")["MTEJA_SECRET_KEY"]
    assert key
    return key


def test_a_new_address_port_login_and_tls_are_kept_and_audited(ready, workdir):
    changed = ready(
        "router", "edit", "CORE-1", "--host", "10.0.0.9", "--port", "8729",
        "--username", "mteja", "--password", "n3w-secret", "--tls-fingerprint", "AB:" * 31 + "AB",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    assert "router core-1 now 10.0.0.9:8729 (tls, certificate pinned)" in changed.output

    router, events = _stored(workdir)
    assert (router.host, router.api_port, router.username, router.use_tls, router.status) == (
        "10.0.0.9",
        8729,
        "mteja",
        True,
        "unknown",
    )
    assert router.tls_fingerprint == "ab" * 32
    assert router.password_encrypted.startswith("gAAAA")
    assert SecretBox(_secret_key(workdir)).decrypt(router.password_encrypted) == "n3w-secret"
    (event,) = events
    before, after = event.before, event.after
    assert before["host"] == "10.0.0.1" and after["host"] == "10.0.0.9"
    assert after["password_changed"] is True
    assert "n3w-secret" not in json.dumps(event.before) + json.dumps(event.after)


def test_only_what_is_given_changes(ready, workdir):
    before, _ = _stored(workdir)
    assert ready("router", "edit", "core-1", "--plain-api", "--port", "18728").exit_code == 0
    router, (event,) = _stored(workdir)
    assert (router.host, router.api_port, router.username) == (before.host, 18728, before.username)
    assert router.password_encrypted == before.password_encrypted
    assert event.after["password_changed"] is False


def test_bad_arguments_say_why_and_change_nothing(ready, workdir):
    before, _ = _stored(workdir)
    cases = {
        ("router", "edit", "core-1"): "nothing to change",
        ("router", "edit", "core-1", "--port", "70000"): "port must be 1 to 65535",
        ("router", "edit", "core-1", "--host", "  "): "the host cannot be empty",
        ("router", "edit", "nairobi-9", "--host", "10.0.0.2"): "router not found",
    }
    for args, words in cases.items():
        result = ready(*args)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("error:") and words in result.stderr, result.stderr
    after, events = _stored(workdir)
    assert (after.host, after.api_port, after.password_encrypted) == (
        before.host,
        before.api_port,
        before.password_encrypted,
    )
    assert events == []
