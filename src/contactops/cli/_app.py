"""The Typer application and the error rendering shared by every command.

Every mistake a user can make ends the same way: one line on stderr, in the
words of the command line (``--by month,queue``, not ``by=['month', 'queue']``),
that names the option, the value, the rule and the fix, and exit code 2.
Usage errors found by the parser (an unknown option, a missing argument, a
value that is not a number) are rendered the same way by :class:`_Group`.
"""

from __future__ import annotations

import difflib
import errno
import math
import re
import sys
from collections.abc import Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from contactops import __version__
from contactops.errors import ContactopsError, InvalidParameterError
from contactops.units import check_timezone

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    import pyarrow as pa

# pyarrow (and what each command needs) is imported when a command uses it: the command
# line starts, and answers --help, without it

__all__ = [
    "app",
    "check_at_least",
    "check_choice",
    "check_file",
    "console",
    "err_console",
    "escape",
    "neutralise_csv",
    "print_columns",
    "read_table_file",
    "render_error",
    "resolve_timezone",
    "say_timezone",
    "user_errors",
]


class _Group(TyperGroup):
    """The root command: usage errors as one line and exit 2 (click draws a box)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, False, **extra)
        except typer.TyperException as exc:  # click's ClickException (typer vendors click)
            if type(exc).__name__ == "NoArgsIsHelpError":
                exc.show()  # type: ignore[attr-defined]
            else:
                _print_error(_usage_line(exc, argv))
            sys.exit(getattr(exc, "exit_code", 2))
        except typer.Abort:
            _print_error("aborted")
            sys.exit(1)
        except ContactopsError as exc:  # raised outside a command's user_errors()
            _print_error(render_error(exc))
            sys.exit(2)
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # the reader of our output went away: `| head`
                sys.exit(1)
            _print_error(_os_line(exc))
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)


def _given(param: Any, argv: list[str]) -> str | None:
    """What the user typed for option ``param`` (click's message leaves it out)."""
    for i, arg in enumerate(argv):
        for opt in getattr(param, "opts", ()):
            if arg == opt and i + 1 < len(argv):
                return argv[i + 1]
            if opt.startswith("--") and arg.startswith(opt + "="):
                return arg[len(opt) + 1 :]
    return None


def _usage_line(exc: Exception, argv: list[str]) -> str:
    """click's message, with the value given and where to look for the right usage."""
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    given = _given(getattr(exc, "param", None), argv)
    if given is not None and repr(given) not in message and ": " in message:
        head, _, tail = message.partition(": ")
        message = f"{head}: got {given!r}; {tail[:1].lower()}{tail[1:]}"
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path} --help" if ctx is not None else "contactops --help"
    if message and message[-1] not in ".?!":
        message += "."
    return f"{message} See '{where}'."


def _os_line(exc: OSError) -> str:
    what = exc.filename if exc.filename is not None else "file"
    reason = exc.strerror or str(exc)
    fix = {
        errno.ENOENT: "Check the path.",
        errno.EISDIR: "Give a file, not a directory.",
        errno.EACCES: "Check the file's permissions.",
        errno.ENOSPC: "Free some disk space and try again.",
    }.get(exc.errno or 0, "")
    return f"{what}: {reason}. {fix}".strip()


app = typer.Typer(
    name="contactops",
    help="Contact-center operations: staffing, simulation, forecasting, scheduling, KPIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"contactops {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """contactops: the whole operating loop of a contact center."""


def _print_error(message: str) -> None:
    """``error: message`` on stderr, on one line however narrow the terminal."""
    err_console.print(
        Text("error: ", style="bold red") + Text(message), soft_wrap=True, highlight=False
    )


def _shown(value: object) -> str:
    """A value as the user typed it: lists comma-joined, nothing as 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, list | tuple):
        return repr(",".join(str(v) for v in value))
    return repr(value)


def _as_options(text: str, flags: Mapping[str, str]) -> str:
    """API spelling in a message (``by=['month', 'queue']``, ``timezone='UTC'``) as options."""

    def listed(m: re.Match[str]) -> str:
        items = [v.strip().strip("'\"") for v in m.group(2).split(",") if v.strip()]
        return f"{flags[m.group(1)]} {','.join(items)}"

    def scalar(m: re.Match[str]) -> str:
        return f"{flags[m.group(1)]} {m.group(2).strip(chr(39) + chr(34))}"

    names = "|".join(
        re.escape(n) for n in sorted(flags, key=len, reverse=True) if re.fullmatch(r"\w+", n)
    )
    if not names:
        return text
    text = re.sub(rf"\b({names})=\[([^\]]*)\]", listed, text)
    return re.sub(rf"\b({names})=('[^']*'|\"[^\"]*\"|[^\s,.;)]+)", scalar, text)


def render_error(exc: ContactopsError, flags: Mapping[str, str] | None = None) -> str:
    """The one line a user sees for ``exc``, in the command line's words.

    ``flags`` maps the API's parameter names (``by``, ``interval_minutes``,
    ``targets['email']``) to the command's options (``--by``, ``--interval``,
    ``--email-target``); a name not in it is shown as the API names it.
    """
    flags = dict(flags or {})
    flags.setdefault("warehouse", "--warehouse")
    if isinstance(exc, InvalidParameterError) and type(exc).__str__ is Exception.__str__:
        base = re.sub(r"\[\d+\]$", "", str(exc.name))  # patience[0]: the option's one value
        name = flags.get(exc.name, flags.get(base, exc.name))
        message = f"{name} must be {exc.rule}; got {_shown(exc.value)}."
        if exc.fix:
            message += " " + _as_options(exc.fix, flags)
        return " ".join(message.split())
    return " ".join(_as_options(str(exc), flags).split())


@contextmanager
def user_errors(flags: Mapping[str, str] | None = None) -> Iterator[None]:
    """Render a contactops error as one clear line on stderr and exit with code 2.

    ``flags``: the command's table from API parameter names to its options
    (see :func:`render_error`).  A file that cannot be read (missing, a
    directory, no permission) is reported the same way.
    """
    try:
        yield
    except ContactopsError as exc:
        _print_error(render_error(exc, flags))
        raise typer.Exit(code=2) from None
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        _print_error(_os_line(exc))
        raise typer.Exit(code=2) from None


def check_choice(option: str, value: str, choices: list[str], fix: str) -> None:
    """``value`` is one of ``choices``; else an error that names the closest one."""
    if value in choices:
        return
    close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
    if close:
        fix = f"Did you mean {option} {close[0]}? " + fix
    listed = ", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0]
    raise InvalidParameterError(
        option, value, ("one of " if len(choices) > 2 else "") + listed, fix
    )


def check_at_least(
    option: str, value: float, lowest: float, fix: str, *, strictly: bool = False
) -> None:
    """A number option is >= ``lowest`` (> with ``strictly``) and finite."""
    ok = value > lowest if strictly else value >= lowest
    if not (ok and math.isfinite(value)):
        rule = f"{'>' if strictly else '>='} {lowest:g}"
        raise InvalidParameterError(option, value, rule, fix)


def resolve_timezone(
    warehouse: Any, given: str | None, *, option: str = "--timezone"
) -> tuple[str, str]:
    """The time zone a command works in, and how it was chosen, for every command.

    This is the one place that decides: ``given`` (checked, with a suggestion
    of the IANA name when it is not one); else the zone the warehouse's data
    was loaded in (:meth:`Warehouse.data_timezone`: the ``timezone`` an ingest
    read local times in, e.g. Asia/Jerusalem for the anonymous-bank files),
    when its data has one; else UTC.  ``warehouse`` is a Warehouse, or the
    path of one (None: the default path); a missing one is the command's own
    error to report, here it only means no zone is known.

    Returns
    -------
    zone, how : str
        e.g. ``("Asia/Jerusalem", "given with --timezone")``,
        ``("Asia/Jerusalem", "the zone the data was loaded in")`` or ``("UTC", "default")``.
    """
    if given is not None:
        return check_timezone(given, name=option), f"given with {option}"
    from contactops.data import Warehouse  # noqa: PLC0415 -- the CLI loads lazily

    zone = None
    if isinstance(warehouse, Warehouse):
        zone = warehouse.data_timezone()
    else:
        # missing or busy: said by the command itself
        with suppress(ContactopsError), Warehouse(warehouse, create=False) as wh:
            zone = wh.data_timezone()
    if zone is not None:
        return zone, "the zone the data was loaded in; --timezone to change"
    return "UTC", "default"


def say_timezone(zone: str, how: str) -> None:
    """Tell the user which zone the times are in."""
    console.print(Text(f"times in {zone} ({how})", style="dim"), soft_wrap=True, highlight=False)


def check_file(path: Path, option: str, *, text: bool = False, what: str = "file") -> None:
    """``path`` names a file the user gave to read: it exists, is not a directory, is not
    empty, and (``text``) its start is UTF-8 text, not an image or a spreadsheet.

    Each failure is an :class:`~contactops.errors.InvalidParameterError` naming ``option``.
    """
    if path.is_dir():
        raise InvalidParameterError(
            option, str(path), "a file, not a directory", "Name the file itself."
        )
    if not path.is_file():
        raise InvalidParameterError(
            option, str(path), "an existing file", "Check the path and the current directory."
        )
    if path.stat().st_size == 0:
        raise InvalidParameterError(
            option,
            str(path),
            f"a {what} with content",
            "The file is empty: export or write it again.",
        )
    if text:
        with path.open("rb") as fh:
            head = fh.read(8192)
        if _looks_binary(head):
            raise InvalidParameterError(
                option,
                str(path),
                f"a {what} (text)",
                "It looks binary (an image? a spreadsheet? a "
                "compressed file?): give the text file itself.",
            )


# the first bytes of files that are never text exports: images, PDF, zip (xlsx), gzip,
# bzip2, xz, 7z, Parquet
_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"PAR1",
    b"\xd0\xcf\x11\xe0",
)


def _looks_binary(head: bytes) -> bool:
    """Not text in any encoding an export uses (UTF-8, UTF-16 with its mark, Latin-1...)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text has NUL bytes; the adapters read it
    return head.startswith(_MAGIC) or b"\x00" in head


def read_table_file(
    path: Path, option: str, *, csv_only: bool = False, **csv_args: Any
) -> pa.Table:
    """A CSV or Parquet file the user named, or one clear error saying why it cannot be read.

    Missing, a directory, empty, not Parquet though named ``.parquet`` (a
    truncated or corrupt file), binary though read as CSV, no header: each is
    an :class:`~contactops.errors.InvalidParameterError` naming ``option``.
    """
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    parquet = not csv_only and path.suffix.lower() == ".parquet"
    check_file(path, option, text=not parquet, what="Parquet file" if parquet else "CSV file")
    try:
        if parquet:
            return pq.read_table(path)
        return pacsv.read_csv(path, **csv_args)
    except (pa.ArrowException, OSError, ValueError) as exc:
        said = " ".join(str(exc).split())[:200]
        kind = "a readable Parquet file" if parquet else "a readable CSV file with a header row"
        raise InvalidParameterError(
            option,
            str(path),
            kind,
            f"The file may be truncated or of another kind; the reader said: {said}",
        ) from None


_FORMULA = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise_csv(table: pa.Table) -> pa.Table:
    """``table`` with every text cell a spreadsheet would run as a formula made inert.

    OWASP's rule for CSV injection: a cell starting with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return gets a leading single quote.  Numeric,
    time and boolean columns are untouched, and so is a text cell that is a
    plain number (``-5``, ``+3.2``, ``1e3``): a spreadsheet reads it as that
    number and no formula can hide in it.
    """
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    columns = []
    for original in table.columns:
        column, kind = original, original.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            risky = pc.and_(
                pc.match_substring_regex(column, _FORMULA.pattern),
                pc.invert(pc.match_substring_regex(column, _NUMBER.pattern)),
            )
            column = pc.if_else(
                pc.fill_null(risky, False), pc.binary_join_element_wise("'", column, ""), column
            )
            columns.append(column)
        else:
            columns.append(original)
    return pa.table(columns, names=table.column_names)


def print_columns(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    keys: int,
    left: int | None = None,
    caption: str | None = None,
    out: Console | None = None,
) -> None:
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
            table.add_column(
                header[i],
                no_wrap=True,
                justify="left" if i < (keys if left is None else left) else "right",
            )
        for row in rows:
            table.add_row(*[row[i] for i in [*range(keys), *group]])
        out.print(table)


def main() -> None:
    """Console-script entry point."""
    app()
