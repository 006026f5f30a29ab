"""``mteja prune``: counts per kind, a dry run that changes nothing, a bad setting refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from core.models import AuditEvent, RouterSyncRun
from tests.integration.cli.conftest import Mteja


def _old_sync_run(workdir: Path) -> None:
    engine = create_engine(f"sqlite:///{workdir / 'mteja.db'}")
    with engine.begin() as connection:
        at = datetime(2020, 1, 1, tzinfo=UTC)
        connection.execute(
            RouterSyncRun.__table__.insert().values(
                router_id=1, kind="sync", started_at=at, finished_at=at, customers=0, drift=0,
                writes=0,
            )
        )  # fmt: skip
    engine.dispose()


def _count(workdir: Path, model: type) -> int:
    engine = create_engine(f"sqlite:///{workdir / 'mteja.db'}")
    with engine.connect() as connection:
        found = connection.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return int(found or 0)


def test_prune_dry_run_then_prune(ready: Mteja, workdir: Path) -> None:
    _old_sync_run(workdir)
    audited = _count(workdir, AuditEvent)

    dry = ready("prune", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "router sync runs: 1 would go" in dry.stdout
    assert "nothing was changed" in dry.stdout
    assert _count(workdir, RouterSyncRun) == 1 and _count(workdir, AuditEvent) == audited

    done = ready("prune")
    assert done.exit_code == 0, done.stderr
    assert "router sync runs: 1 removed" in done.stdout
    assert _count(workdir, RouterSyncRun) == 0 and _count(workdir, AuditEvent) == audited + 1


def test_a_negative_retention_setting_is_refused(
    ready: Mteja, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTEJA_RETENTION_SYNC_RUNS_DAYS", "-1")
    _old_sync_run(workdir)

    result = ready("prune")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: bad setting: MTEJA_RETENTION_SYNC_RUNS_DAYS")
    assert _count(workdir, RouterSyncRun) == 1
