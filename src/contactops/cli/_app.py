"""The Typer application and the error rendering shared by every command."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from contactops import __version__
from contactops.errors import ContactopsError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

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


def print_columns(title: str, header: Sequence[str], rows: Sequence[Sequence[str]], *,
                  keys: int, left: int | None = None, caption: str | None = None,
                  out: Console | None = None) -> None:
    """Print a table whose cells and headers never wrap or shorten.

    When it is wider than the console, its columns after the first ``keys`` are
    split over several tables, each repeating the key columns; rich would
    otherwise squeeze every header and cell to a few letters.  The first
    ``left`` columns (default: the keys) are left-justified, the rest right.
    """
    out = out or console
    def width(cell: str) -> int:  # cells may hold rich markup, headers line breaks
        return max(Text.from_markup(line).cell_len for line in cell.split("\n"))

    widths = [max([width(h), *(width(r[i]) for r in rows)]) + 3 for i, h in enumerate(header)]
    key_width = 1 + sum(widths[:keys])
    groups: list[list[int]] = [[]]
    used = key_width
    for i in range(keys, len(header)):
        if groups[-1] and used + widths[i] > out.width:
            groups.append([])
            used = key_width
        groups[-1].append(i)
        used += widths[i]
    for n, group in enumerate(groups, start=1):
        part = f" ({n}/{len(groups)})" if len(groups) > 1 else ""
        table = Table(title=title + part, caption=caption if n == len(groups) else None)
        for i in [*range(keys), *group]:
            table.add_column(header[i], no_wrap=True,
                             justify="left" if i < (keys if left is None else left) else "right")
        for row in rows:
            table.add_row(*[row[i] for i in [*range(keys), *group]])
        out.print(table)


def main() -> None:
    """Console-script entry point."""
    app()
