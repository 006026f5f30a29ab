"""Which mteja install a command works on, found the way git finds its repository.

An install is a directory whose ``.env`` holds mteja's settings (``mteja init`` writes the secret
key there), beside the SQLite database and queue file when those are used. A command uses:

1. the directory ``MTEJA_HOME`` names, if it is set;
2. else the nearest directory, from the working directory upward, whose ``.env`` sets a
   ``MTEJA_`` variable;
3. else the working directory: configured by the environment alone (``MTEJA_DATABASE_URL`` and
   friends, as a Procfile deployment is), or not an install at all, which ``mteja init`` makes.

Relative paths in the settings (``sqlite:///mteja.db``, the queue file, the lock directory) are
taken relative to the install, so running ``mteja`` from a subdirectory never starts a second,
empty database there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dotenv import dotenv_values

from core.settings import Settings

HOME_VARIABLE = "MTEJA_HOME"
ENV_FILE = ".env"


class FoundBy(StrEnum):
    HOME_VARIABLE = "MTEJA_HOME"
    HERE = "the working directory"
    ABOVE = "a directory above the working directory"
    ENVIRONMENT = "the environment"
    NOTHING = "nothing"


@dataclass(frozen=True)
class Install:
    """Where the install is and how it was found."""

    home: Path
    found_by: FoundBy

    @property
    def env_file(self) -> Path:
        return self.home / ENV_FILE

    @property
    def exists(self) -> bool:
        return self.found_by is not FoundBy.NOTHING

    def describe(self) -> str:
        """One line saying which install this is and why, for messages."""
        if self.found_by is FoundBy.ENVIRONMENT:
            return f"the install configured by MTEJA_ variables (working directory {self.home})"
        return f"the install in {self.home} (found by {self.found_by.value})"


def find_install(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Install:
    """The install a command run in ``cwd`` with ``environ`` works on (see the module's rules)."""
    here = (cwd or Path.cwd()).resolve()
    env = os.environ if environ is None else environ
    if env.get(HOME_VARIABLE):
        return Install(Path(env[HOME_VARIABLE]).expanduser().resolve(), FoundBy.HOME_VARIABLE)
    for directory in (here, *here.parents):
        if _is_install(directory):
            return Install(directory, FoundBy.HERE if directory == here else FoundBy.ABOVE)
    if any(_is_setting(name) and value for name, value in env.items()):
        return Install(here, FoundBy.ENVIRONMENT)
    return Install(here, FoundBy.NOTHING)


def where_to_create(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Install:
    """Where ``mteja init`` (or the demo) makes or upgrades an install.

    Raises AnotherInstall when the working directory is inside an install that is not its own:
    a second install there would be made silently, and the first would seem to have vanished.
    """
    found = find_install(cwd, environ)
    if found.found_by is FoundBy.ABOVE:
        raise AnotherInstall(found)
    return Install(found.home, found.found_by)


class AnotherInstall(Exception):
    """The working directory is inside another install."""

    def __init__(self, install: Install) -> None:
        self.install = install
        super().__init__(
            f"{Path.cwd()} is inside the install in {install.home}: run 'mteja init' there to "
            "upgrade it, or set MTEJA_HOME to a new directory to make a second install"
        )


def settings_of(install: Install) -> Settings:
    """The settings of ``install``: its ``.env`` and the environment (which wins), with relative
    paths taken from the install's directory. Raises pydantic's ValidationError."""
    settings = Settings(_env_file=install.env_file)  # type: ignore[call-arg]
    return anchored(settings, install.home)


def anchored(settings: Settings, home: Path) -> Settings:
    """``settings`` with its relative file paths made absolute under ``home``."""
    return settings.model_copy(
        update={
            "database_url": _anchored_database_url(settings.database_url, home),
            "huey_path": str(_under(home, settings.huey_path)),
            "lock_dir": str(_under(home, settings.lock_dir)),
            "metrics_dir": str(_under(home, settings.metrics_dir)),
        }
    )


def _anchored_database_url(url: str, home: Path) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return url
    if database.startswith("file:"):
        return url  # a SQLite URI: left exactly as written
    return parsed.set(database=str(_under(home, database))).render_as_string(hide_password=False)


def _under(home: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else home / candidate


def _is_setting(name: str) -> bool:
    """A variable that configures mteja (not MTEJA_HOME, not the test suite's own)."""
    return (
        name.startswith("MTEJA_") and name != HOME_VARIABLE and not name.startswith("MTEJA_TEST_")
    )


def _is_install(directory: Path) -> bool:
    env_file = directory / ENV_FILE
    if not env_file.is_file():
        return False
    try:
        return any(name.startswith("MTEJA_") for name in dotenv_values(env_file))
    except (OSError, UnicodeDecodeError):
        return False
