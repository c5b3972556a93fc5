"""``contactops simulate``: run a center described in a YAML file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from contactops.cli._app import (
    app,
    check_at_least,
    check_file,
    console,
    escape,
    print_columns,
    user_errors,
)
from contactops.errors import InvalidParameterError

# the simulator (numba) and pyarrow are imported when the command runs


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
    days: int | None = typer.Option(
        None,
        "--days",
        help="Days to simulate (default: as many as the per-interval vectors cover).",
    ),
    replications: int = typer.Option(
        10, "--replications", "-r", help="Independent runs, for 95% confidence intervals."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of every random draw."),
    warmup: float = typer.Option(0.0, "--warmup", help="Seconds simulated before measuring."),
    contacts: Path | None = typer.Option(
        None,
        "--contacts",
        help="Write every contact leg (canonical interaction record) to this Parquet file.",
    ),
    intervals: Path | None = typer.Option(
        None,
        "--intervals",
        help="Write the per-queue, per-interval summary "
        "(with confidence intervals) to this .csv or "
        ".parquet file.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the queue summary as JSON."),
) -> None:
    """Simulate a contact center and report service level, ASA, abandonment, occupancy."""
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    from contactops.simulate import load_center, simulate  # noqa: PLC0415

    with user_errors(
        {"days": "--days", "replications": "--replications", "seed": "--seed", "warmup": "--warmup"}
    ):
        check_at_least("--replications", replications, 1, "e.g. --replications 10.")
        if days is not None:
            check_at_least("--days", days, 1, "e.g. --days 7, or leave it out.")
        check_at_least("--warmup", warmup, 0, "Seconds simulated before measuring; 0 starts empty.")
        if contacts is not None and contacts.suffix.lower() != ".parquet":
            raise InvalidParameterError(
                "--contacts", str(contacts), "a .parquet path", "e.g. --contacts contacts.parquet"
            )
        if intervals is not None and intervals.suffix.lower() not in (".csv", ".parquet"):
            raise InvalidParameterError(
                "--intervals",
                str(intervals),
                "a .csv or .parquet path",
                "e.g. --intervals intervals.csv",
            )
        check_file(scenario, "SCENARIO", text=True, what="YAML file")
        center = load_center(scenario)  # everything is checked before anything runs
        with Progress(
            TextColumn("[bold]simulating[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("replications", total=replications)
            result = simulate(
                center,
                days=days,
                seed=seed,
                replications=replications,
                warmup=warmup,
                contacts=contacts is not None,
                progress=lambda _k: bar.advance(task),
            )
        summary = result.queue_summary().to_pylist()
        if contacts is not None:
            pq.write_table(result.contacts, contacts)
        per_interval = result.interval_summary()
        if intervals is not None:
            if intervals.suffix.lower() == ".csv":
                pacsv.write_csv(per_interval, intervals)
            else:
                pq.write_table(per_interval, intervals)
        if as_json:
            typer.echo(json.dumps([_clean(row) for row in summary], indent=2))
            return
        title = escape(
            f"{scenario.name}: {replications} replication(s), seed {seed}"
            + (f", scenario '{center.scenario.name}'" if center.scenario else "")
        )
        rows = []
        for row in summary:

            def cell(key: str, kind: str, r: dict[str, Any] = row) -> str:
                return _fmt(r[key], r[f"{key}_lo"], r[f"{key}_hi"], kind)

            rows.append(
                [
                    escape(row["queue"])
                    + (f" [dim]({escape(row['segment'])})[/]" if row["segment"] else ""),
                    cell("offered", "n"),
                    cell("answered", "n"),
                    cell("service_level", "pct") + f" [dim]@{row['threshold_s']:g}s[/]",
                    cell("asa", "s"),
                    cell("aht", "s"),
                    cell("abandon_rate", "pct"),
                    cell("occupancy", "pct"),
                ]
            )
        print_columns(
            title,
            ["queue", "offered", "answered", "SL", "ASA", "AHT", "abandoned", "occup."],
            rows,
            keys=1,
            caption="mean ± half-width of the 95% confidence interval across replications",
        )
        _intraday(per_interval, result.compiled.interval)
        groups = Table(title="agent groups")
        for col in ("group", "agent hours", "handled", "occupancy"):
            groups.add_column(col, justify="left" if col == "group" else "right")
        for row in result.group_summary().to_pylist():
            groups.add_row(
                escape(row["group"]),
                _fmt(row["agent_hours"], row["agent_hours_lo"], row["agent_hours_hi"], "n"),
                _fmt(row["handled"], row["handled_lo"], row["handled_hi"], "n"),
                _fmt(row["occupancy"], row["occupancy_lo"], row["occupancy_hi"], "pct"),
            )
        console.print(groups)
        console.print(f"[dim]{result.n_events:,} events in {result.wall_seconds:.2f}s[/]")
        if contacts is not None:
            console.print(
                f"wrote {result.contacts.num_rows:,} contact legs to {escape(str(contacts))}"
            )
        if intervals is not None:
            console.print(
                f"wrote {per_interval.num_rows:,} queue-intervals to {escape(str(intervals))}"
            )


_BARS = "▁▂▃▄▅▆▇█"


def _intraday(per_interval: Any, interval: float) -> None:
    """Service level by interval, one sparkline per queue (open intervals only)."""
    cols = per_interval.to_pydict()
    queues = list(dict.fromkeys(cols["queue"]))
    n = len(cols["queue"]) // max(len(queues), 1)
    offered = cols["offered"]
    busy = [k for k in range(n) if any(offered[q * n + k] > 0 for q in range(len(queues)))]
    if len(busy) < 2:
        return
    first, last = busy[0], busy[-1] + 1

    def clock(k: int) -> str:
        sec = int(k * interval) % 86400
        return f"{sec // 3600:02d}:{sec % 3600 // 60:02d}"

    chart = Table(
        title=f"service level by interval, {clock(first)}-{clock(last)} "
        "(▁ 0% … █ 100%; blank: nothing offered)"
    )
    chart.add_column("queue")
    chart.add_column("intraday", no_wrap=True)
    chart.add_column("worst", justify="right")
    for q, name in enumerate(queues):
        line = ""
        worst = math.inf
        for k in range(first, last):
            sl = cols["service_level"][q * n + k]
            if sl is None or not math.isfinite(sl) or offered[q * n + k] <= 0:
                line += " "
                continue
            worst = min(worst, sl)
            line += _BARS[min(int(sl * len(_BARS)), len(_BARS) - 1)]
        chart.add_row(escape(name), line, f"{100 * worst:.0f}%" if math.isfinite(worst) else "-")
    console.print(chart)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()
    }
