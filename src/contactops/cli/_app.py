"""The Typer application and the error rendering shared by every command."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from contactops import __version__
from contactops.errors import ContactopsError

if TYPE_CHECKING:
    from collections.abc import Iterator

app = typer.Typer(
    name="contactops",
    help="Contact-center operations: staffing, simulation, forecasting, scheduling, KPIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"contactops {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """contactops: the whole operating loop of a contact center."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Render a contactops error as one clear line on stderr and exit with code 2."""
    try:
        yield
    except ContactopsError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None


def main() -> None:
    """Console-script entry point."""
    app()
