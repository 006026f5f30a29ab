"""Backups of the mteja database (``mteja backup`` / ``mteja restore``).

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --no-owner``, with the connection given
in PG* environment variables, so the password is never on a command line (where ``ps`` shows
it). SQLite: SQLite's online backup API, safe while mteja writes. A backup is written beside its
destination with mode 600 and renamed into place only when complete, so a failed backup never
leaves half a file under the real name.

A restore goes only into a database with no mteja rows in it: it never merges into, or replaces,
live data. The key that encrypts the stored passwords (MTEJA_SECRET_KEY) is not in a backup.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, make_url

from core.db import alembic_config, current_revision, make_engine, normalize_database_url
from core.models import Base

SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"
# libpq settings a URL's query may carry, and the variable each goes in.
_PG_QUERY_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


@dataclass(frozen=True)
class Restored:
    """The schema revision the restored database is at, and the one this code expects."""

    revision: str | None
    expected: str
    known: frozenset[str]

    @property
    def behind(self) -> bool:
        """Made by an older mteja: ``mteja init`` migrates it."""
        return self.revision != self.expected and self.revision in self.known

    @property
    def newer(self) -> bool:
        """Made by a newer mteja than this one: run that version instead."""
        return self.revision is not None and self.revision not in self.known


def shown(database_url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(database_url).render_as_string(hide_password=True)


def backup(database_url: str, path: Path, *, force: bool = False) -> None:
    """Write a backup of the database at ``database_url`` to ``path`` (mode 600); an existing
    ``path`` is replaced only with ``force``."""
    if path.is_dir():
        raise BackupError(f"{path} is a directory: give the backup file's name")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists: choose another name, or pass --force")
    if not path.parent.is_dir():
        raise BackupError(f"no directory {path.parent} to write the backup in")
    url = make_url(normalize_database_url(database_url))
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # an old partial file keeps its mode otherwise
        if url.get_backend_name() == "sqlite":
            os.close(descriptor)
            descriptor = -1
            _sqlite_copy(_sqlite_file(url, must_exist=True), partial)
        else:
            _run(_pg_tool("pg_dump"), ["--format=custom", "--no-password"], url, stdout=descriptor)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        if descriptor >= 0:
            os.close(descriptor)


def restore(database_url: str, path: Path) -> Restored:
    """Restore the backup at ``path`` into the database at ``database_url``, which must hold no
    mteja rows; returns the schema revision it is at afterwards."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    url = make_url(normalize_database_url(database_url))
    sqlite = url.get_backend_name() == "sqlite"
    with path.open("rb") as backup_file:
        header = backup_file.read(len(SQLITE_HEADER))
    expected_header, kind = (SQLITE_HEADER, "SQLite") if sqlite else (PG_CUSTOM_HEADER, "pg_dump")
    if not header.startswith(expected_header):
        raise BackupError(f"{path} is not a {kind} backup (the database here is {kind})")
    held = _rows_held(url)
    if held:
        tables = ", ".join(f"{name} ({count})" for name, count in sorted(held.items())[:3])
        raise BackupError(
            f"{shown(database_url)} already holds data: {tables}; restore only into an empty "
            "database (create a new one and point MTEJA_DATABASE_URL at it)"
        )
    if sqlite:
        _sqlite_copy(path, _sqlite_file(url, must_exist=False))
    else:
        _run(
            _pg_tool("pg_restore"),
            [
                "--no-owner",
                # Drops the empty tables an `mteja init` may have made, in the same transaction.
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={url.database}",
                str(path),
            ],
            url,
        )
    return _revision(url)


def _sqlite_file(url: URL, *, must_exist: bool) -> Path:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"cannot back up or restore the SQLite database {database!r}")
    file = Path(database)
    if must_exist and not file.is_file():
        raise BackupError(f"no database file at {file}")
    return file


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` page by page with SQLite's online backup API."""
    try:
        with (
            closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source} to {target}: {exc}") from exc


def _pg_environment(url: URL) -> dict[str, str]:
    """The connection as libpq's PG* variables: nothing secret goes on a command line."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PG")  # only this URL decides where the tools connect
    }
    for name, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            environment[name] = str(value)
    for key, variable in _PG_QUERY_VARIABLES.items():
        given = url.query.get(key)
        if isinstance(given, str) and given:
            environment[variable] = given
    return environment


def _pg_tool(name: str) -> str:
    """The newest ``name`` installed: Debian keeps one per major version under
    /usr/lib/postgresql, and pg_dump must be at least as new as the server."""
    versions = [
        tool
        for tool in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
        if tool.parent.parent.name.isdigit()
    ]
    if versions:
        return str(max(versions, key=lambda tool: int(tool.parent.parent.name)))
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install PostgreSQL's client tools (apt install postgresql-client)"
        )
    return found


def _run(tool: str, arguments: list[str], url: URL, *, stdout: int | None = None) -> None:
    finished = subprocess.run(
        [tool, *arguments],
        env=_pg_environment(url),
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if finished.returncode != 0:
        lines = [line for line in finished.stderr.decode(errors="replace").splitlines() if line]
        reason = re.sub(r"\s+", " ", lines[-1] if lines else f"exit code {finished.returncode}")
        raise BackupError(f"{Path(tool).name} failed: {reason}")


def _rows_held(url: URL) -> dict[str, int]:
    """The mteja tables of the database at ``url`` that have rows, with their counts."""
    if url.get_backend_name() == "sqlite" and not _sqlite_file(url, must_exist=False).exists():
        return {}
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        present = set(inspect(engine).get_table_names())
        held = {}
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name in present:
                    count = connection.scalar(select(func.count()).select_from(table)) or 0
                    if count:
                        held[table.name] = int(count)
        return held
    finally:
        engine.dispose()


def _revision(url: URL) -> Restored:
    from alembic.script import ScriptDirectory

    text_url = url.render_as_string(hide_password=False)
    script = ScriptDirectory.from_config(alembic_config(text_url))
    engine = make_engine(text_url)
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    head = script.get_current_head()
    assert head is not None
    known = frozenset(step.revision for step in script.walk_revisions())
    return Restored(revision, head, known)
