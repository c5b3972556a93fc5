"""``contactops ingest``, ``contactops kpi`` and ``contactops rejects``."""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contactops.cli._app import app, console, print_columns, user_errors
from contactops.data import FORMATS, Warehouse
from contactops.errors import InvalidParameterError
from contactops.metrics import GRAINS, HANDLE_FROM, agent_kpis, interval_kpis, kpi_sql, kpis
from contactops.queueing import DEFAULT_SL_DEFINITION
from contactops.units import parse_duration

_WAREHOUSE_HELP = "DuckDB warehouse file (default $CONTACTOPS_WAREHOUSE or ./contactops.duckdb)."


@app.command("ingest")
def ingest_command(
    files: list[Path] = typer.Argument(..., help="Export files to load."),
    fmt: str = typer.Option(..., "--format", "-f",
                            help="Export format: " + ", ".join(sorted(FORMATS)) + "."),
    warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
    mapping: Path | None = typer.Option(None, "--mapping",
                                        help="YAML column mapping (csv, parquet, interval-csv, "
                                        "surveys, agent-states)."),
    timezone: str | None = typer.Option(None, "--timezone",
                                        help="Time zone of naive timestamps in the files."),
    option: list[str] = typer.Option([], "--option", "-o",
                                     help="Adapter option KEY=VALUE, repeatable (e.g. "
                                     "-o preset=avaya -o threshold_s=20)."),
    strict: bool = typer.Option(False, "--strict", help="Exit with code 1 when any row was "
                                "rejected."),
) -> None:
    """Load exports into the warehouse; every row is loaded, rejected with its reason,
    or recognised as a duplicate."""
    with user_errors():
        options: dict[str, Any] = {}
        if mapping is not None:
            options["mapping"] = str(mapping)
        if timezone is not None:
            options["timezone"] = timezone
        for item in option:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise InvalidParameterError("--option", item, "KEY=VALUE",
                                            "e.g. --option preset=avaya")
            options[key.strip()] = _option_value(value.strip())
        reports = []
        with Warehouse(warehouse) as wh, Progress(
                TextColumn("[bold]{task.description}[/]"), BarColumn(),
                TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                console=console, transient=True) as bar:
            for path in files:
                task = bar.add_task(path.name, total=None)  # rows are unknown until read
                report = wh.ingest(path, format=fmt,
                                   progress=lambda n, t=task: bar.update(t, completed=n),
                                   **options)
                reports.append(report)
                bar.remove_task(task)
        print_columns("ingest report", ["file", "read", "loaded", "replaced", "rejected",
                                        "duplicates"],
                      [[Path(r.source_file).name, f"{r.read:,}", f"{r.loaded:,}",
                        f"{r.replaced:,}", f"{r.rejected:,}", f"{r.duplicates:,}"]
                       for r in reports], keys=1,
                      caption="in " + ", ".join(f"{r.seconds:.2f} s" for r in reports))
        rejected = sum(r.rejected for r in reports)
        if rejected:
            console.print(f"{rejected:,} row(s) rejected: see [bold]contactops rejects[/]")
        if strict and rejected:
            raise typer.Exit(code=1)


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


@app.command("kpi")
def kpi_command(
    by: str = typer.Option("queue", "--by", help="Comma-separated grains: " + ", ".join(GRAINS)
                           + " (empty for one row)."),
    threshold: str | None = typer.Option(None, "--threshold",
                                         help="Service-level threshold (default 20s; with "
                                         "--from intervals, the reports' own)."),
    sl_definition: str = typer.Option(DEFAULT_SL_DEFINITION, "--sl-definition",
                                      help="Service-level definition."),
    short_abandon: str = typer.Option("5s", "--short-abandon",
                                      help="Abandons within this are 'short'."),
    exclude_short: bool = typer.Option(False, "--exclude-short-abandons",
                                       help="Leave short abandons out of every KPI."),
    fcr_days: float = typer.Option(7.0, "--fcr-days", help="Repeat window for FCR, days."),
    interval: int = typer.Option(30, "--interval", help="Minutes of the 'interval' grain."),
    timezone: str = typer.Option("UTC", "--timezone", help="Time zone of days and intervals."),
    start: str | None = typer.Option(None, "--start", help="From this date/time (inclusive)."),
    end: str | None = typer.Option(None, "--end", help="To this date/time (exclusive)."),
    out_format: str = typer.Option("table", "--format", help="table, csv or json."),
    from_table: str = typer.Option("contacts", "--from", help="contacts (contact records), "
                                   "intervals (ACD interval reports) or agents (agent state "
                                   "spans: occupancy, utilisation, shrinkage)."),
    handle_from: str = typer.Option("states", "--handle-from",
                                    help="With --from agents: occupancy from the busy state "
                                    "(states) or from the contacts' handle time (contacts)."),
    sql_dialect: str | None = typer.Option(
        None, "--sql", help="Print the contact KPI query for this SQL dialect (postgres, "
        "spark, bigquery, snowflake, trino...) with its parameters, instead of running it."),
    warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
) -> None:
    """KPIs at any grain: service level, ASA, AHT, abandonment, FCR, CSAT, NPS...; with
    --from agents, occupancy, utilisation and in-shift shrinkage from agent states."""
    with user_errors():
        grains = [g.strip() for g in by.split(",") if g.strip()]
        # the contact KPIs' options, for kpis() and kpi_sql() alike
        contact_options = {
            "threshold": parse_duration(threshold or "20s"), "sl_definition": sl_definition,
            "short_abandon": parse_duration(short_abandon),
            "exclude_short_abandons": exclude_short, "fcr_days": fcr_days,
            "interval_minutes": interval, "timezone": timezone, "start": start, "end": end}
        if sql_dialect is not None:
            sql, params = kpi_sql(grains, dialect=sql_dialect, **contact_options)
            typer.echo(f"-- parameters: {json.dumps(params, default=str)}")
            typer.echo(sql + ";")
            return
        if out_format not in ("table", "csv", "json"):
            raise InvalidParameterError("--format", out_format, "table, csv or json",
                                        "e.g. --format csv")
        if from_table not in ("contacts", "intervals", "agents"):
            raise InvalidParameterError("--from", from_table, "contacts, intervals or agents",
                                        "e.g. --from intervals for ACD interval reports")
        if handle_from not in HANDLE_FROM:
            raise InvalidParameterError("--handle-from", handle_from, "states or contacts",
                                        "contacts: for status logs without a busy state")
        with Warehouse(warehouse) as wh:
            if from_table == "agents":
                result = agent_kpis(wh, by=grains, interval_minutes=interval,
                                    timezone=timezone, start=start, end=end,
                                    handle_from=handle_from)
            elif from_table == "intervals":
                result = interval_kpis(wh, by=grains, threshold=None if threshold is None
                                       else parse_duration(threshold),
                                       sl_definition=sl_definition, interval_minutes=interval,
                                       timezone=timezone, start=start, end=end)
            else:
                result = kpis(wh, by=grains, **contact_options)
        if out_format == "csv":
            buf = pa.BufferOutputStream()
            pacsv.write_csv(result, buf)
            sys.stdout.write(buf.getvalue().to_pybytes().decode())
            return
        if out_format == "json":
            rows = [{k: _jsonable(v) for k, v in r.items()} for r in result.to_pylist()]
            typer.echo(json.dumps(rows, indent=2))
            return
        columns = ("offered", "answered", "service_level", "asa", "aht", "abandon_rate",
                   "transfer_rate", "occupancy", "fcr", "csat", "nps")
        if from_table == "agents":
            columns = ("staffed_s", "available_s", "busy_s", "aux_s", "handled", "handle_s",
                       "occupancy", "utilisation", "shrinkage")
        shown = [*[c for c in result.column_names if c in grains or c == "interval_start"],
                 *[c for c in columns if c in result.column_names]]
        title = (f"KPIs by {', '.join(grains) or 'all'} (SL: {sl_definition}, "
                 f"{threshold or ('20s' if from_table == 'contacts' else 'as reported')})")
        if from_table == "agents":
            title = (f"agent KPIs by {', '.join(grains) or 'all'} (occupancy from "
                     f"{handle_from})")
        keys = sum(1 for c in shown if c in grains or c == "interval_start")
        header = [f"{c[:-2]} h" if c in _HOURS else c.replace("_", " ") for c in shown]
        print_columns(title, header, [[_cell(col, row[col]) for col in shown]
                                      for row in result.to_pylist()], keys=keys)


_HOURS = ("staffed_s", "available_s", "busy_s", "aux_s", "handle_s")  # shown as hours


def _cell(col: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, datetime | date):
        if isinstance(value, datetime):  # intervals start on the minute: no seconds shown
            return value.isoformat(sep=" ", timespec="minutes" if not value.second
                                   and not value.microsecond else "auto")
        return value.isoformat()
    if col in ("service_level", "abandon_rate", "transfer_rate", "occupancy", "fcr", "csat",
               "utilisation", "shrinkage"):
        return f"{100 * value:.1f}%"
    if col in ("asa", "aht"):
        return f"{value:.1f}s"
    if col in _HOURS:
        return f"{value / 3600:,.2f}h"
    if col == "nps":
        return f"{value:+.0f}"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


@app.command("rejects")
def rejects_command(
    warehouse: Path | None = typer.Option(None, "--warehouse", "-w", help=_WAREHOUSE_HELP),
    limit: int = typer.Option(50, "--limit", help="Rows to show (0: all)."),
    summary: bool = typer.Option(False, "--summary", help="Count by file and reason instead."),
) -> None:
    """What was refused at ingest, and why (file, line, field, value, reason)."""
    with user_errors(), Warehouse(warehouse) as wh:
        if summary:
            rows = wh.sql("SELECT source_file, reason, count(*) AS n FROM rejects "
                          "GROUP BY 1, 2 ORDER BY 1, 3 DESC").to_pylist()
            table = Table(title="rejected rows by reason")
            for col in ("file", "reason", "rows"):
                table.add_column(col, justify="right" if col == "rows" else "left")
            for r in rows:
                table.add_row(Path(r["source_file"]).name, r["reason"], f"{r['n']:,}")
        else:
            rows = wh.rejects().to_pylist()
            total = len(rows)
            if limit:
                rows = rows[:limit]
            table = Table(title=f"rejected rows ({total:,})")
            for col in ("file", "line", "field", "value", "reason"):
                table.add_column(col, overflow="fold")
            for r in rows:
                table.add_row(Path(r["source_file"]).name, str(r["line"] or "-"),
                              r["field"] or "-", (r["value"] or "")[:40], r["reason"])
        console.print(table)
