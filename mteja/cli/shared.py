"""What every ``mteja`` command uses: the consoles, one way to fail, and the install it works on.

Commands open the system through ``opened_system`` so that a missing install, a bad setting or a
domain error ends as one line on stderr and exit code 1, the same for every command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from core.actors import Actor
from core.crypto import SecretKeyError
from core.errors import DomainError
from core.settings import Settings
from mteja.bootstrap import NotInitialized, System, build_system
from mteja.install import (
    AnotherInstall,
    FoundBy,
    Install,
    find_install,
    settings_of,
    where_to_create,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ACTOR = Actor.cli()


def fail(message: str) -> NoReturn:
    """One line on stderr naming the problem, and a non-zero exit."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(1)


def load_settings(install: Install | None = None) -> Settings:
    """The settings of ``install`` (default: the one this command runs in, see mteja.install)."""
    try:
        return settings_of(install or current_install())
    except ValidationError as exc:
        problems = "; ".join(
            f"MTEJA_{'_'.join(str(part) for part in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        fail(f"bad setting: {problems}")


def current_install() -> Install:
    """The install this command works on; a command outside any install stops here, before it
    could create an empty database. One found above the working directory is named on stderr."""
    install = find_install()
    if not install.exists:
        fail(
            f"no mteja install in {install.home} or any directory above it: run 'mteja init' "
            "to make one here, or set MTEJA_HOME to an install's directory"
        )
    if install.found_by is FoundBy.ABOVE:
        err.print(f"using the install in {install.home}", markup=False)
    return install


def install_to_create() -> Install:
    """Where ``mteja init`` or ``mteja demo`` works: never inside another install silently."""
    try:
        install = where_to_create()
    except AnotherInstall as exc:
        fail(str(exc))
    install.home.mkdir(parents=True, exist_ok=True)
    return install


@contextmanager
def opened_system(*, queue: bool = False) -> Iterator[System]:
    """The system for this command; domain errors become one-line messages.

    ``queue``: hand what the command changes to the workers at once (router sync, SMS) instead
    of leaving it to the periodic sweeps.
    """
    try:
        system = build_system(load_settings())
    except (NotInitialized, SecretKeyError) as exc:
        fail(str(exc))
    if queue:
        from mteja.queueing import build_queue

        build_queue(system)
    try:
        yield system
    except DomainError as exc:
        fail(exc.message)
    finally:
        system.close()
