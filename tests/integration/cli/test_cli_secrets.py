"""``mteja secrets add-key`` and ``rotate``: every stored secret moves to a new key, in batches,
resumably, and the old key is dropped only after every secret was verified under the new one."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values
from sqlalchemy import create_engine, select, text

from core.crypto import SecretBox, new_secret_key, parse_keys
from core.models import Customer, Router
from tests.integration.cli.conftest import Mteja


def _keys(workdir: Path) -> list[str]:
    return parse_keys(dotenv_values(workdir / ".env")["MTEJA_SECRET_KEY"] or "")


def _tokens(workdir: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{workdir / 'mteja.db'}")
    with engine.connect() as connection:
        found = [
            *connection.scalars(select(Customer.password_encrypted)),
            *connection.scalars(select(Router.password_encrypted)),
        ]
    engine.dispose()
    return [token for token in found if token]


@pytest.fixture
def with_secrets(ready: Mteja) -> Mteja:
    for name, phone in (("Wanjiru Kamau", "0712345678"), ("Otieno Odhiambo", "0722000111")):
        added = ready(
            "customer", "add", "--name", name, "--phone", phone,
            "--plan", "Home 10M", "--router", "core-1",
        )  # fmt: skip
        assert added.exit_code == 0, added.stderr
    return ready


def test_rotation_moves_every_secret_to_the_new_key_then_drops_the_old(
    with_secrets: Mteja, workdir: Path
) -> None:
    mteja = with_secrets
    (old,) = _keys(workdir)
    refused = mteja("secrets", "rotate")
    assert refused.exit_code == 1 and "add-key" in refused.stderr

    added = mteja("secrets", "add-key")
    assert added.exit_code == 0, added.stderr
    new, kept = _keys(workdir)
    assert kept == old and new != old
    # Every process with both keys still reads what the old key made.
    assert all(SecretBox(f"{new},{old}").decrypt(token) for token in _tokens(workdir))

    rotated = mteja("secrets", "rotate", "--batch", "1")
    assert rotated.exit_code == 0, rotated.stderr
    assert "customer passwords: 2 re-encrypted" in rotated.stdout
    assert "router passwords: 1 re-encrypted" in rotated.stdout
    assert "Verified" in rotated.stdout
    assert _keys(workdir) == [new, old], "the old key stays until --drop-old"
    only_new = SecretBox(new)
    assert all(only_new.under_current_key(token) for token in _tokens(workdir))

    again = mteja("secrets", "rotate", "--drop-old")
    assert again.exit_code == 0, again.stderr
    assert "0 re-encrypted, 2 already under the new key" in again.stdout
    assert _keys(workdir) == [new]
    shown = mteja("customer", "list", "--format", "json")
    assert shown.exit_code == 0, shown.stderr


def test_a_secret_no_key_reads_stops_the_rotation_and_keeps_the_old_key(
    with_secrets: Mteja, workdir: Path
) -> None:
    mteja = with_secrets
    assert mteja("secrets", "add-key").exit_code == 0
    keys = _keys(workdir)
    foreign = SecretBox(new_secret_key()).encrypt("made under a lost key")
    engine = create_engine(f"sqlite:///{workdir / 'mteja.db'}")
    with engine.begin() as connection:
        last = connection.scalar(text("select max(id) from customers"))
        connection.execute(
            text("update customers set password_encrypted = :token where id = :id"),
            {"token": foreign, "id": last},
        )
    engine.dispose()

    stopped = mteja("secrets", "rotate", "--batch", "1", "--drop-old")
    assert stopped.exit_code == 1
    assert f"customer passwords, row {last}" in stopped.stderr
    assert _keys(workdir) == keys, "no key is dropped after a failed pass"
    # The rows before it were re-encrypted and committed: a second run resumes after them.
    new = SecretBox(keys[0])
    assert sum(new.under_current_key(token) for token in _tokens(workdir)) == 1


def test_keys_set_in_the_environment_are_not_edited(
    with_secrets: Mteja, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTEJA_SECRET_KEY", _keys(workdir)[0])
    refused = with_secrets("secrets", "add-key")
    assert refused.exit_code == 1 and "set in the environment" in refused.stderr
