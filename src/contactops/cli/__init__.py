"""The ``contactops`` command line (Typer + rich): parse, call one operation, render."""

from contactops.cli import _staff  # noqa: F401 - registers the staff command
from contactops.cli._app import app, main

__all__ = ["app", "main"]
