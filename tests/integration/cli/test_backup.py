"""``mteja backup`` / ``mteja restore``: a round trip on SQLite and PostgreSQL gives back every row,
and the passwords decrypt with the same key (and only with it)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text

from core.actors import Actor
from core.crypto import SecretBox, SecretKeyError, new_secret_key
from core.db import make_engine, upgrade_to_head
from core.models import Base, Customer
from core.testing import seed_pppoe_customers, services_for
from core.unit_of_work import CoreServices
from core.usecases.billing import IncomingPayment, record_payment
from mteja.backup import BackupError, backup, restore
from tests.conftest import scratch_postgres
from tests.integration.cli.conftest import Mteja

KEY = new_secret_key()


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind: a SQLite file, or a scratch PostgreSQL
    database created for the test and dropped after it."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/restored.db"
        return
    with scratch_postgres("mteja_restore") as url:
        yield url


def _seed(services: CoreServices, staff: Actor) -> None:
    _, customer_ids = seed_pppoe_customers(services, staff, 3)
    for index, customer_id in enumerate(customer_ids):
        with services.unit_of_work() as uow:
            paid = IncomingPayment(1500, "cash", reference=f"C{index}")
            record_payment(uow, customer_id, staff, paid)
            uow.commit()


def _every_row(engine: Engine) -> dict[str, list[Any]]:
    tables = [*Base.metadata.sorted_tables]
    with engine.connect() as connection:
        rows = {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in tables
        }
        rows["alembic_version"] = list(connection.execute(text("select * from alembic_version")))
    return rows


def _passwords(url: str, key: str) -> list[str]:
    engine = make_engine(url)
    services = services_for(engine, secret_key=key)
    try:
        with services.unit_of_work() as uow:
            tokens = uow.session.scalars(select(Customer.password_encrypted).order_by(Customer.id))
            return [uow.cipher.decrypt(token) for token in tokens if token]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_backup_restores_every_row_and_the_key_still_reads_it(
    db_services: CoreServices,
    migrated_engine: Engine,
    database_url: str,
    empty_target: str,
    staff: Actor,
    tmp_path: Path,
) -> None:
    _seed(replace(db_services, cipher=SecretBox(KEY)), staff)
    dump = tmp_path / "mteja.backup"

    backup(database_url, dump)

    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    result = restore(empty_target, dump)
    assert result.revision == result.expected and not result.behind
    restored = make_engine(empty_target)
    try:
        assert _every_row(restored) == _every_row(migrated_engine)
        assert inspect(restored).get_table_names() != []
    finally:
        restored.dispose()
    assert _passwords(empty_target, KEY) == ["secret-0", "secret-1", "secret-2"]
    with pytest.raises(SecretKeyError):
        _passwords(empty_target, new_secret_key())


@pytest.mark.slow
def test_restore_refuses_a_database_that_holds_data(
    db_services: CoreServices, database_url: str, staff: Actor, tmp_path: Path
) -> None:
    _seed(db_services, staff)
    dump = tmp_path / "mteja.backup"
    backup(database_url, dump)
    before = _every_row(make_engine(database_url))

    with pytest.raises(BackupError, match="already holds data"):
        restore(database_url, dump)

    assert _every_row(make_engine(database_url)) == before


def test_an_empty_but_migrated_database_may_be_restored_into(
    migrated_engine: Engine, database_url: str, empty_target: str, tmp_path: Path
) -> None:
    dump = tmp_path / "mteja.backup"
    backup(database_url, dump)
    upgrade_to_head(empty_target)

    result = restore(empty_target, dump)

    assert result.revision == result.expected


def test_backup_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/mteja.db"
    upgrade_to_head(url)
    dump = tmp_path / "mteja.backup"
    dump.write_text("keep me")

    with pytest.raises(BackupError, match="--force"):
        backup(url, dump)
    assert dump.read_text() == "keep me"

    backup(url, dump, force=True)
    assert dump.read_bytes().startswith(b"SQLite format 3")


def test_an_older_backup_asks_for_mteja_init(tmp_path: Path) -> None:
    from alembic import command

    from core.db import alembic_config

    old = f"sqlite:///{tmp_path}/old.db"
    command.upgrade(alembic_config(old), "0001")
    dump = tmp_path / "old.backup"
    backup(old, dump)

    result = restore(f"sqlite:///{tmp_path}/new.db", dump)

    assert result.revision == "0001" and result.behind


def test_the_commands(ready: Mteja, workdir: Path) -> None:
    made = ready("backup", "nightly.backup")
    assert made.exit_code == 0, made.stderr
    assert "nightly.backup" in made.stdout
    again = ready("backup", "nightly.backup")
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ") and "--force" in again.stderr

    refused = ready("restore", "nightly.backup")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: ") and "already holds data" in refused.stderr

    missing = ready("restore", "no-such.backup")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: ")


def test_the_password_goes_in_the_environment_not_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    seen: dict[str, Any] = {}

    def run(argv: list[str], **options: Any) -> subprocess.CompletedProcess[bytes]:
        seen["argv"], seen["env"] = argv, options["env"]
        return subprocess.CompletedProcess(argv, 0, b"", b"")

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setenv("PGPASSWORD", "someone-elses")

    backup("postgresql://mteja:s3cret@db.example:5433/isp?sslmode=require", tmp_path / "b.dump")

    assert not any("s3cret" in part for part in seen["argv"])
    assert seen["env"]["PGPASSWORD"] == "s3cret"
    assert (seen["env"]["PGHOST"], seen["env"]["PGPORT"]) == ("db.example", "5433")
    assert (seen["env"]["PGUSER"], seen["env"]["PGDATABASE"]) == ("mteja", "isp")
    assert seen["env"]["PGSSLMODE"] == "require"


def test_restore_into_a_new_install_database(
    ready: Mteja, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ready("backup", "nightly.backup").exit_code == 0
    monkeypatch.setenv("MTEJA_DATABASE_URL", f"sqlite:///{workdir / 'fresh.db'}")

    restored = ready("restore", "nightly.backup")

    assert restored.exit_code == 0, restored.stderr
    assert "schema revision" in restored.stdout
    listed = ready("plan", "list")
    assert listed.exit_code == 0 and "Home 10M" in listed.stdout
