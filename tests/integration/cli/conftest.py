"""Run the ``mteja`` command in-process, in a fresh directory with its own database."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mteja.cli import app

Mteja = Callable[..., Result]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("MTEJA_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def mteja(workdir: Path) -> Mteja:
    """``mteja(*args)`` runs the command and returns its result (exit code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.fixture
def ready(mteja: Mteja) -> Mteja:
    """An initialized database with a router, a pool and a plan of each type."""
    steps = [
        ("init",),
        (
            "router",
            "add",
            "core-1",
            "--host",
            "10.0.0.1",
            "--username",
            "api",
            "--password",
            "pw",
            "--plain-api",
        ),
        ("pool", "add", "core-1", "10.10.0.0/24"),
        (
            "plan",
            "add",
            "Home 10M",
            "--type",
            "pppoe",
            "--price",
            "1500",
            "--download",
            "10M",
            "--upload",
            "5M",
            "--days",
            "30",
        ),
        (
            "plan",
            "add",
            "Daily",
            "--type",
            "hotspot",
            "--price",
            "50",
            "--download",
            "5M",
            "--upload",
            "2M",
            "--hours",
            "24",
        ),
        (
            "plan",
            "add",
            "Biz",
            "--type",
            "static",
            "--price",
            "6000",
            "--download",
            "50M",
            "--upload",
            "50M",
            "--days",
            "30",
        ),
    ]
    for step in steps:
        result = mteja(*step)
        assert result.exit_code == 0, (step, result.output, result.stderr)
    return mteja
