"""``contactops ingest``, ``contactops kpi`` and ``contactops rejects``."""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from contactops.cli._app import (
    app,
    check_choice,
    check_file,
    console,
    err_console,
    escape,
    neutralise_csv,
    print_columns,
    resolve_timezone,
    say_timezone,
    user_errors,
)
from contactops.data.adapters import FORMATS
from contactops.errors import ContactopsError, InvalidParameterError
from contactops.queueing import DEFAULT_SL_DEFINITION, SL_DEFINITIONS
from contactops.units import check_timezone, parse_duration

if TYPE_CHECKING:
    from contactops.data import Warehouse

# DuckDB, pyarrow and the KPI queries are imported by the commands that use them: the
# command line starts (and says --help) without them

_WAREHOUSE_HELP = "DuckDB warehouse file (default $CONTACTOPS_WAREHOUSE or ./contactops.duckdb)."


@app.command("ingest")
def ingest_command(
    files: list[Path] = typer.Argument(..., help="Export files to load."),
    fmt: str = typer.Option(
        ..., "--format", "-f", help="Export format: " + ", ".join(sorted(FORMATS)) + "."
    ),
    warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
    mapping: Path | None = typer.Option(
        None,
        "--mapping",
        help="YAML column mapping (csv, parquet, interval-csv, surveys, agent-states).",
    ),
    timezone: str | None = typer.Option(
        None, "--timezone", help="Time zone of naive timestamps in the files."
    ),
    option: list[str] = typer.Option(
        [],
        "--option",
        "-o",
        help="Adapter option KEY=VALUE, repeatable (e.g. -o preset=avaya -o threshold_s=20).",
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit with code 1 when any row was rejected."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="When the export was taken (ISO 8601, e.g. "
        "2026-12-07T10:00Z; default: the file's modification "
        "time). Interval reports, surveys and agent states: a "
        "record restated by an export replaces the stored one "
        "only when that export is newer.",
    ),
) -> None:
    """Load exports into the warehouse; every row is loaded, rejected with its reason,
    or recognised as a duplicate."""
    from contactops.data import Warehouse  # noqa: PLC0415

    with user_errors(_INGEST_FLAGS):
        check_choice(
            "--format",
            fmt,
            sorted(FORMATS),
            "Name the system the file was exported from (contactops ingest --help lists them).",
        )
        for path in files:  # before the warehouse is opened: a typo creates nothing
            check_file(path, "FILES", text=fmt != "parquet")
        options: dict[str, Any] = {}
        if mapping is not None:
            check_file(mapping, "--mapping", text=True, what="YAML file")
            options["mapping"] = str(mapping)
        if timezone is not None:
            options["timezone"] = check_timezone(timezone, name="--timezone")
        if as_of is not None:
            options["as_of"] = as_of
        for item in option:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InvalidParameterError(
                    "--option", item, "KEY=VALUE", "e.g. --option preset=avaya"
                )
            options[key.strip()] = _option_value(value.strip())
        reports = []
        wh = None
        try:
            with (
                Warehouse(warehouse) as wh,
                Progress(
                    TextColumn("[bold]{task.description}[/]"),
                    BarColumn(),
                    TextColumn("{task.completed:,} rows"),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                ) as bar,
            ):
                for path in files:
                    task = bar.add_task(escape(path.name), total=None)  # rows unknown until read
                    report = wh.ingest(
                        path,
                        format=fmt,
                        progress=lambda n, t=task: bar.update(t, completed=n),
                        **options,
                    )
                    reports.append(report)
                    bar.remove_task(task)
        except ContactopsError:
            if reports:  # what the files before the failing one did is kept: say so
                _ingest_table(reports, title="loaded before the error")
            elif wh is not None and wh.created:  # a refused file leaves no empty warehouse
                for made in (Path(wh.path), Path(wh.path + ".wal")):
                    made.unlink(missing_ok=True)
            raise
        _ingest_table(reports)
        rejected = sum(r.rejected for r in reports)
        if rejected:
            console.print(f"{rejected:,} row(s) rejected: see [bold]contactops rejects[/]")
        for r in reports:  # not a success, though each row was accounted for: say so
            if r.read and not (r.loaded or r.replaced or r.duplicates):
                err_console.print(
                    Text(
                        f"warning: nothing was loaded from {Path(r.source_file).name}: all "
                        f"{r.read:,} row(s) were rejected. Is it really a {fmt} export? "
                        "(contactops rejects --summary says why)",
                        style="yellow",
                    ),
                    soft_wrap=True,
                )
        if strict and rejected:
            raise typer.Exit(code=1)


_INGEST_FLAGS = {
    "format": "--format",
    "timezone": "--timezone",
    "mapping": "--mapping",
    "as_of": "--as-of",
    "path": "--warehouse",
}


def _ingest_table(reports: list[Any], title: str = "ingest report") -> None:
    columns = ["file", "read", "loaded", "replaced", "rejected", "duplicates"]
    removed = any(getattr(r, "removed", 0) for r in reports)
    if removed:  # legs a newer conversation snapshot no longer has (Genesys)
        columns.append("stale legs removed")
    print_columns(
        title,
        columns,
        [
            [
                escape(Path(r.source_file).name),
                f"{r.read:,}",
                f"{r.loaded:,}",
                f"{r.replaced:,}",
                f"{r.rejected:,}",
                f"{r.duplicates:,}",
                *([f"{r.removed:,}"] if removed else []),
            ]
            for r in reports
        ],
        keys=1,
        caption="in " + ", ".join(f"{r.seconds:.2f} s" for r in reports),
    )


def _option_value(text: str) -> Any:
    """Numbers as numbers, true/false as booleans, the rest as text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# contactops.metrics.GRAINS, for --help: the metrics import numpy and pyarrow, which the
# command line does not load to start (tests/test_imports.py checks the two are the same)
_GRAINS = (
    "interval",
    "interval15",
    "interval30",
    "interval60",
    "day",
    "week",
    "month",
    "queue",
    "channel",
    "segment",
    "agent",
    "team",
    "site",
    "source",
)


@app.command("kpi")
def kpi_command(
    by: str = typer.Option(
        "queue",
        "--by",
        help="Comma-separated grains: " + ", ".join(_GRAINS) + " (empty for one row).",
    ),
    threshold: str | None = typer.Option(
        None,
        "--threshold",
        help="Service-level threshold (default 20s; with --from intervals, the reports' own).",
    ),
    sl_definition: str = typer.Option(
        DEFAULT_SL_DEFINITION, "--sl-definition", help="Service-level definition."
    ),
    short_abandon: str = typer.Option(
        "5s", "--short-abandon", help="Abandons within this are 'short'."
    ),
    exclude_short: bool = typer.Option(
        False, "--exclude-short-abandons", help="Leave short abandons out of every KPI."
    ),
    fcr_days: float = typer.Option(7.0, "--fcr-days", help="Repeat window for FCR, days."),
    interval: int = typer.Option(30, "--interval", help="Minutes of the 'interval' grain."),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        help="IANA time zone of days and intervals, e.g. Asia/Jerusalem (default: UTC).",
    ),
    start: str | None = typer.Option(None, "--start", help="From this date/time (inclusive)."),
    end: str | None = typer.Option(None, "--end", help="To this date/time (exclusive)."),
    out_format: str = typer.Option("table", "--format", help="table, csv or json."),
    from_table: str = typer.Option(
        "contacts",
        "--from",
        help="contacts (contact records), "
        "intervals (ACD interval reports) or agents (agent state "
        "spans: occupancy, utilisation, shrinkage).",
    ),
    handle_from: str = typer.Option(
        "states",
        "--handle-from",
        help="With --from agents: occupancy from the busy state "
        "(states) or from the contacts' handle time (contacts).",
    ),
    sql_dialect: str | None = typer.Option(
        None,
        "--sql",
        help="Print the contact KPI query for this SQL dialect (postgres, "
        "spark, bigquery, snowflake, trino...) with its parameters, instead of running it.",
    ),
    warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
) -> None:
    """KPIs at any grain: service level, ASA, AHT, abandonment, FCR, CSAT, NPS...; with
    --from agents, occupancy, utilisation and in-shift shrinkage from agent states."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415

    from contactops.data import Warehouse  # noqa: PLC0415
    from contactops.metrics import (  # noqa: PLC0415
        HANDLE_FROM,
        agent_kpis,
        interval_kpis,
        kpi_sql,
        kpis,
    )

    with user_errors(_KPI_FLAGS):
        check_choice("--format", out_format, ["table", "csv", "json"], "e.g. --format csv")
        check_choice(
            "--from",
            from_table,
            ["contacts", "intervals", "agents"],
            "contacts: contact records; intervals: ACD interval reports; agents: "
            "agent state spans.",
        )
        check_choice(
            "--handle-from",
            handle_from,
            list(HANDLE_FROM),
            "contacts: for status logs without a busy state.",
        )
        check_choice(
            "--sl-definition",
            sl_definition,
            list(SL_DEFINITIONS),
            "See contactops kpi --help; the default is " + DEFAULT_SL_DEFINITION + ".",
        )
        grains = [g.strip() for g in by.split(",") if g.strip()]
        zone, how = resolve_timezone(warehouse, timezone)
        _check_window(start, end, zone)
        # the contact KPIs' options, for kpis() and kpi_sql() alike
        contact_options = {
            "threshold": parse_duration(threshold or "20s", name="--threshold"),
            "sl_definition": sl_definition,
            "short_abandon": parse_duration(short_abandon, name="--short-abandon"),
            "exclude_short_abandons": exclude_short,
            "fcr_days": fcr_days,
            "interval_minutes": interval,
            "timezone": zone,
            "start": start,
            "end": end,
        }
        if sql_dialect is not None:
            sql, params = kpi_sql(grains, dialect=sql_dialect, **contact_options)
            typer.echo(f"-- parameters: {json.dumps(params, default=str)}")
            typer.echo(sql + ";")
            return
        with Warehouse(warehouse, create=False) as wh:
            if from_table == "agents":
                result = agent_kpis(
                    wh,
                    by=grains,
                    interval_minutes=interval,
                    timezone=zone,
                    start=start,
                    end=end,
                    handle_from=handle_from,
                )
            elif from_table == "intervals":
                result = interval_kpis(
                    wh,
                    by=grains,
                    threshold=None
                    if threshold is None
                    else parse_duration(threshold, name="--threshold"),
                    sl_definition=sl_definition,
                    interval_minutes=interval,
                    timezone=zone,
                    start=start,
                    end=end,
                )
            else:
                result = kpis(wh, by=grains, **contact_options)
            if result.num_rows == 0:  # the options were right: is there any data at all?
                _check_has_rows(wh, from_table)
        if out_format == "table":  # csv and json output carry the data alone
            say_timezone(zone, how)
        if result.num_rows == 0:
            err_console.print(
                Text(
                    f"no {_WHAT[from_table]} between --start "
                    f"{start or '(the first)'} and --end {end or '(the last)'}"
                    "; the table is empty",
                    style="yellow",
                ),
                soft_wrap=True,
            )
        if out_format == "csv":
            buf = pa.BufferOutputStream()
            pacsv.write_csv(neutralise_csv(result), buf)
            sys.stdout.write(buf.getvalue().to_pybytes().decode())
            return
        if out_format == "json":
            rows = [{k: _jsonable(v) for k, v in r.items()} for r in result.to_pylist()]
            typer.echo(json.dumps(rows, indent=2))
            return
        columns = (
            "offered",
            "answered",
            "service_level",
            "asa",
            "aht",
            "abandon_rate",
            "transfer_rate",
            "occupancy",
            "fcr",
            "csat",
            "nps",
        )
        if from_table == "agents":
            columns = (
                "staffed_s",
                "available_s",
                "busy_s",
                "aux_s",
                "handled",
                "handle_s",
                "occupancy",
                "utilisation",
                "shrinkage",
            )
        shown = [
            *[c for c in result.column_names if c in grains or c == "interval_start"],
            *[c for c in columns if c in result.column_names],
        ]
        title = escape(
            f"KPIs by {', '.join(grains) or 'all'} (SL: {sl_definition}, "
            f"{threshold or ('20s' if from_table == 'contacts' else 'as reported')})"
        )
        if from_table == "agents":
            title = escape(
                f"agent KPIs by {', '.join(grains) or 'all'} (occupancy from {handle_from})"
            )
        keys = sum(1 for c in shown if c in grains or c == "interval_start")
        header = [f"{c[:-2]} h" if c in _HOURS else c.replace("_", " ") for c in shown]
        print_columns(
            title,
            header,
            [[_cell(col, row[col]) for col in shown] for row in result.to_pylist()],
            keys=keys,
        )


_HOURS = ("staffed_s", "available_s", "busy_s", "aux_s", "handle_s")  # shown as hours
_KPI_FLAGS = {
    "by": "--by",
    "threshold": "--threshold",
    "sl_definition": "--sl-definition",
    "short_abandon": "--short-abandon",
    "fcr_days": "--fcr-days",
    "interval_minutes": "--interval",
    "timezone": "--timezone",
    "start": "--start",
    "end": "--end",
    "start/end": "--start/--end",
    "dialect": "--sql",
    "handle_from": "--handle-from",
    "path": "--warehouse",
}
_TABLES = {"contacts": "interactions", "intervals": "intervals", "agents": "agent_states"}
_WHAT = {"contacts": "contacts", "intervals": "interval reports", "agents": "agent state spans"}
_LOAD = {
    "contacts": "an export of contact records, e.g. contactops ingest FILE -f csv",
    "intervals": "ACD interval reports with contactops ingest FILE -f interval-csv",
    "agents": "agent state logs with contactops ingest FILE -f agent-states",
}


def _check_window(start: str | None, end: str | None, zone: str) -> None:
    """--start and --end are dates or date-times, and --start comes first."""
    bounds = {}
    for option, text in (("--start", start), ("--end", end)):
        if text is None:
            continue
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidParameterError(
                option, text, "an ISO date or date-time", "e.g. 2026-03-01 or 2026-03-01T08:00."
            ) from None
        bounds[option] = value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))
    if len(bounds) == 2 and bounds["--start"] >= bounds["--end"]:
        raise InvalidParameterError(
            "--end",
            end,
            f"after --start ({start})",
            "The window runs from --start (included) to --end (excluded): swap them, or widen it.",
        )


def _check_has_rows(wh: Warehouse, source: str) -> None:
    """The warehouse holds what ``--from source`` reads; else say what to load."""
    table = _TABLES[source]
    has = wh.sql(f"SELECT EXISTS (SELECT 1 FROM {table}) AS has").column(0)  # noqa: S608 - fixed names
    if not has[0].as_py():
        raise InvalidParameterError(
            "--from",
            source,
            f"a kind of data the warehouse holds (it has no {_WHAT[source]})",
            f"Load {_LOAD[source]}, or check -w/--warehouse ({wh.path}).",
        )


def _cell(col: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, datetime | date):
        if isinstance(value, datetime):  # intervals start on the minute: no seconds shown
            return value.isoformat(
                sep=" ",
                timespec="minutes" if not value.second and not value.microsecond else "auto",
            )
        return value.isoformat()
    if col in (
        "service_level",
        "abandon_rate",
        "transfer_rate",
        "occupancy",
        "fcr",
        "csat",
        "utilisation",
        "shrinkage",
    ):
        return f"{100 * value:.1f}%"
    if col in ("asa", "aht"):
        return f"{value:.1f}s"
    if col in _HOURS:
        return f"{value / 3600:,.2f}h"
    if col == "nps":
        return f"{value:+.0f}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return escape(str(value))  # data: "[/x]" in a queue name is text, not markup


@app.command("rejects")
def rejects_command(
    warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
    limit: int = typer.Option(50, "--limit", help="Rows to show (0: all)."),
    summary: bool = typer.Option(False, "--summary", help="Count by file and reason instead."),
    out_format: str = typer.Option(
        "table", "--format", help="table, csv or json (csv and json: every row, --limit aside)."
    ),
) -> None:
    """What was refused at ingest, and why (file, line, field, value, reason)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415

    from contactops.data import Warehouse  # noqa: PLC0415

    with user_errors(_KPI_FLAGS):
        check_choice("--format", out_format, ["table", "csv", "json"], "e.g. --format csv")
        if limit < 0:
            raise InvalidParameterError("--limit", limit, "0 (all) or more", "e.g. --limit 100.")
        with Warehouse(warehouse, create=False) as wh:
            if summary:
                result = wh.sql(
                    "SELECT source_file, reason, count(*) AS n FROM rejects "
                    "GROUP BY 1, 2 ORDER BY 1, 3 DESC"
                )
            else:
                result = wh.rejects()
        if out_format != "table":
            if out_format == "csv":
                buf = pa.BufferOutputStream()
                pacsv.write_csv(neutralise_csv(result), buf)
                sys.stdout.write(buf.getvalue().to_pybytes().decode())
            else:
                rows = [{k: _jsonable(v) for k, v in r.items()} for r in result.to_pylist()]
                typer.echo(json.dumps(rows, indent=2))
            return
        rows = result.to_pylist()
        if summary:
            table = Table(title="rejected rows by reason")
            for col in ("file", "reason", "rows"):
                table.add_column(col, justify="right" if col == "rows" else "left")
            for r in rows:
                table.add_row(
                    escape(Path(r["source_file"]).name), escape(r["reason"] or "-"), f"{r['n']:,}"
                )
        else:
            total = len(rows)
            if limit:
                rows = rows[:limit]
            table = Table(title=f"rejected rows ({total:,})")
            for col in ("file", "line", "field", "value", "reason"):
                table.add_column(col, overflow="fold")
            for r in rows:  # every cell is data: "[/x]" in a value is text, not markup
                table.add_row(
                    escape(Path(r["source_file"]).name),
                    str(r["line"] or "-"),
                    escape(r["field"] or "-"),
                    escape((r["value"] or "")[:40]),
                    escape(r["reason"] or "-"),
                )
        console.print(table)
