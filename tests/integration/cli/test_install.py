"""Which install a command works on (issue 15.6): MTEJA_HOME, else the nearest ``.env`` with
mteja's settings from here upward, as git finds its repository; ``mteja init`` never makes a
second install inside another one silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from mteja.install import AnotherInstall, FoundBy, find_install, where_to_create

PLAN = ("plan", "add", "Home 10M", "--type", "pppoe", "--price", "1500", "--download", "10M")
PLAN_REST = ("--upload", "5M", "--days", "30")


@pytest.fixture
def installed(mteja, workdir: Path) -> Path:
    """An install in the test's directory with one plan."""
    assert mteja("init").exit_code == 0
    assert mteja(*PLAN, *PLAN_REST).exit_code == 0
    return workdir


def test_a_subdirectory_uses_the_install_above_and_says_so(
    mteja, installed: Path, monkeypatch: pytest.MonkeyPatch
):
    below = installed / "scripts" / "daily"
    below.mkdir(parents=True)
    monkeypatch.chdir(below)

    result = mteja("plan", "list")

    assert result.exit_code == 0, result.stderr
    assert "Home 10M" in result.stdout
    assert f"using the install in {installed}" in result.stderr
    assert sorted(p.name for p in below.iterdir()) == []  # no second database, queue or .env


def test_mteja_home_names_the_install_from_anywhere(
    mteja, installed: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch
):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MTEJA_HOME", str(installed))

    result = mteja("plan", "list")

    assert result.exit_code == 0, result.stderr
    assert "Home 10M" in result.stdout
    assert list(elsewhere.iterdir()) == []


def test_without_an_install_a_command_says_where_it_looked_and_creates_nothing(mteja, workdir):
    result = mteja("plan", "list")

    assert result.exit_code == 1
    assert f"no mteja install in {workdir} or any directory above it" in result.stderr
    assert "mteja init" in result.stderr and "MTEJA_HOME" in result.stderr
    assert list(workdir.iterdir()) == []


def test_init_inside_another_install_refuses(mteja, installed: Path, monkeypatch):
    below = installed / "backup"
    below.mkdir()
    monkeypatch.chdir(below)

    result = mteja("init")

    assert result.exit_code == 1
    assert f"inside the install in {installed}" in result.stderr
    assert list(below.iterdir()) == []


def test_init_says_which_install_it_made(mteja, workdir: Path):
    result = mteja("init")
    assert result.exit_code == 0
    assert f"install: {workdir}" in result.stdout


def test_init_with_mteja_home_makes_the_install_there(mteja, workdir: Path, monkeypatch):
    home = workdir / "isp"
    monkeypatch.setenv("MTEJA_HOME", str(home))

    assert mteja("init").exit_code == 0

    assert (home / ".env").is_file() and (home / "mteja.db").is_file()
    assert sorted(p.name for p in workdir.iterdir()) == ["isp"]


def test_find_install_rules(tmp_path: Path):
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / ".env").write_text("MTEJA_SECRET_KEY=k\n")
    (tmp_path / "a" / ".env").write_text("DJANGO_DEBUG=1\n")  # another project's .env

    assert (find_install(inner, {}).home, find_install(inner, {}).found_by) == (
        tmp_path,
        FoundBy.ABOVE,
    )
    assert find_install(tmp_path, {}).found_by is FoundBy.HERE
    home = find_install(inner, {"MTEJA_HOME": str(inner)})
    assert (home.home, home.found_by) == (inner, FoundBy.HOME_VARIABLE)
    with pytest.raises(AnotherInstall):
        where_to_create(inner, {})
    assert where_to_create(tmp_path, {}).home == tmp_path


def test_an_install_configured_by_the_environment_alone_is_one(tmp_path: Path):
    found = find_install(tmp_path, {"MTEJA_DATABASE_URL": "postgresql://db/isp"})
    assert (found.home, found.found_by) == (tmp_path, FoundBy.ENVIRONMENT)
    assert find_install(tmp_path, {"MTEJA_TEST_REDIS_URL": "redis://x"}).found_by is (
        FoundBy.NOTHING
    )
