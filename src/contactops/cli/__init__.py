"""The ``contactops`` command line (Typer + rich): parse, call one operation, render."""

from contactops.cli import _cases, _data, _plan, _schedule, _simulate, _staff  # noqa: F401 - registers the commands
from contactops.cli._app import app, main

__all__ = ["app", "main"]
