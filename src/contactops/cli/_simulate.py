"""``contactops simulate``: run a center described in a YAML file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contactops.cli._app import app, console, user_errors
from contactops.errors import InvalidParameterError
from contactops.simulate import load_center, simulate


def _fmt(value: float, lo: float, hi: float, kind: str) -> str:
    """``value ±half-width`` of the 95% interval (no band with one replication)."""
    if not math.isfinite(value):
        return "-"
    half = (hi - lo) / 2.0 if math.isfinite(lo) and math.isfinite(hi) else math.nan
    if kind == "pct":
        text, band = f"{100 * value:.1f}%", f"±{100 * half:.1f}"
    elif kind == "s":
        text, band = f"{value:.1f}s", f"±{half:.1f}"
    else:
        text, band = f"{value:,.0f}", f"±{half:,.0f}"
    return text + (f" [dim]{band}[/]" if math.isfinite(half) else "")


@app.command("simulate")
def simulate_command(
    scenario: Path = typer.Argument(..., help="YAML file describing queues, groups and scenario."),
    days: int | None = typer.Option(None, "--days", help="Days to simulate (default: as "
                                    "many as the per-interval vectors cover)."),
    replications: int = typer.Option(10, "--replications", "-r",
                                     help="Independent runs, for 95% confidence intervals."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random draw."),
    warmup: float = typer.Option(0.0, "--warmup", help="Seconds simulated before measuring."),
    contacts: Path | None = typer.Option(None, "--contacts",
                                         help="Write every contact leg (canonical interaction "
                                         "record) to this Parquet file."),
    as_json: bool = typer.Option(False, "--json", help="Print the queue summary as JSON."),
) -> None:
    """Simulate a contact center and report service level, ASA, abandonment, occupancy."""
    with user_errors():
        if contacts is not None and contacts.suffix.lower() != ".parquet":
            raise InvalidParameterError("--contacts", str(contacts), "a .parquet path",
                                        "e.g. --contacts contacts.parquet")
        center = load_center(scenario)  # everything is checked before anything runs
        with Progress(TextColumn("[bold]simulating[/]"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True,
                      disable=as_json) as bar:
            task = bar.add_task("replications", total=replications)
            result = simulate(center, days=days, seed=seed, replications=replications,
                              warmup=warmup, contacts=contacts is not None,
                              progress=lambda _k: bar.advance(task))
        summary = result.queue_summary().to_pylist()
        if contacts is not None:
            pq.write_table(result.contacts, contacts)
        if as_json:
            typer.echo(json.dumps([_clean(row) for row in summary], indent=2))
            return
        title = (f"{scenario.name}: {replications} replication(s), seed {seed}"
                 + (f", scenario '{center.scenario.name}'" if center.scenario else ""))
        table = Table(title=title, caption="mean ± half-width of the 95% confidence interval "
                      "across replications")
        for col in ("queue", "offered", "answered", "SL", "ASA", "AHT", "abandoned", "occup."):
            table.add_column(col, justify="left" if col == "queue" else "right")
        for row in summary:
            def cell(key: str, kind: str, r: dict[str, Any] = row) -> str:
                return _fmt(r[key], r[f"{key}_lo"], r[f"{key}_hi"], kind)

            table.add_row(
                row["queue"] + (f" [dim]({row['segment']})[/]" if row["segment"] else ""),
                cell("offered", "n"), cell("answered", "n"),
                cell("service_level", "pct") + f" [dim]@{row['threshold_s']:g}s[/]",
                cell("asa", "s"), cell("aht", "s"), cell("abandon_rate", "pct"),
                cell("occupancy", "pct"))
        console.print(table)
        groups = Table(title="agent groups")
        for col in ("group", "agent hours", "handled", "occupancy"):
            groups.add_column(col, justify="left" if col == "group" else "right")
        for row in result.group_summary().to_pylist():
            groups.add_row(row["group"],
                           _fmt(row["agent_hours"], row["agent_hours_lo"],
                                row["agent_hours_hi"], "n"),
                           _fmt(row["handled"], row["handled_lo"], row["handled_hi"], "n"),
                           _fmt(row["occupancy"], row["occupancy_lo"], row["occupancy_hi"],
                                "pct"))
        console.print(groups)
        console.print(f"[dim]{result.n_events:,} events in {result.wall_seconds:.2f}s[/]")
        if contacts is not None:
            console.print(f"wrote {result.contacts.num_rows:,} contact legs to {contacts}")


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()}
