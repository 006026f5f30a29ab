"""``python -m mteja.cli``: the ``mteja`` command, for tests and child processes that must run
the interpreter they were started with."""

from mteja.cli import app

if __name__ == "__main__":  # pragma: no cover
    app()
