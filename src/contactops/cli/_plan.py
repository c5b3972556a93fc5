"""``contactops plan`` and ``contactops demo``: history -> forecast -> staffing -> check."""

from __future__ import annotations

import math
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from contactops.cli._app import (
    app,
    check_file,
    console,
    escape,
    print_columns,
    resolve_timezone,
    say_timezone,
    user_errors,
)
from contactops.errors import InvalidParameterError
from contactops.units import parse_share, parse_target

if TYPE_CHECKING:
    from contactops.plan import PlanResult


def _pct(v: Any) -> str:
    return "-" if v is None or not math.isfinite(float(v)) else f"{100 * float(v):.1f}%"


def _render(result: PlanResult, paths: dict[str, Any], seconds: float) -> None:
    s = result.summary()
    header = [
        "queue",
        "channel",
        "method",
        "contacts",
        "AHT",
        "agent\nhours",
        "peak",
        "target\nSL",
        "model\nSL",
        "simulated\nSL",
        "at risk\nintervals",
    ]
    rows = []
    for r in s.to_dict("records"):
        risk = int(r.get("at_risk_intervals", 0) or 0)
        rows.append(
            [
                escape(str(r["queue"])),
                escape(str(r["channel"])),
                escape(str(r["method"])),
                f"{r['forecast']:,.0f}",
                f"{r['aht']:,.0f}s" if math.isfinite(r["aht"]) else "-",
                f"{r['required_hours']:,.0f}",
                f"{r['peak_required']:,.0f}",
                _pct(r["target_sl"]),
                _pct(r["model_sl"]),
                _pct(r.get("sim_sl")),
                f"[red]{risk}[/]" if risk else "0",
            ]
        )
    print_columns(
        f"Plan: {result.days} days from {result.start} "
        f"({result.interval_minutes}-minute intervals)",
        header,
        rows,
        keys=1,
        left=3,
    )
    for note in result.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    for kind, path in paths.items():
        console.print(f"{kind}: {escape(str(path))}")
    console.print(f"[dim]{seconds:.1f} s[/]")


def _schedule(result: PlanResult, templates: Path, time_limit: float, status: Any) -> Any:
    """Schedule the plan's requirement with ``shifts.yaml`` and attach the coverage."""
    import pyarrow as pa  # noqa: PLC0415

    from contactops.cli._schedule import _queue_models, _read_config  # noqa: PLC0415
    from contactops.schedule import schedule_shifts  # noqa: PLC0415

    cfg = _read_config(templates)
    tz = cfg.timezone or result.timezone
    table = pa.Table.from_pandas(
        result.table.assign(interval_start=result.table["interval_start"].astype("datetime64[us]")),
        preserve_index=False,
    )
    models, threshold, shrink, _ = _queue_models(table, tz, cfg.threshold)
    need = table.select(["queue", "interval_start", "required"])
    sched = schedule_shifts(
        need,
        cfg.templates,
        cfg.rules,
        costs=cfg.costs,
        queue_model=models,
        threshold=threshold,
        shrinkage=shrink,
        timezone=tz,
        time_limit=time_limit,
        progress=lambda p: status.update(f"scheduling: {p.stage}"),
    )
    result.attach_schedule(sched)
    return sched


def _run_plan(
    source: Any, out: Path, templates: Path | None = None, time_limit: float = 30.0, **kw: Any
) -> PlanResult:
    from contactops.plan import plan  # noqa: PLC0415 - statsforecast is slow to import

    t0 = time.perf_counter()
    with console.status("planning") as status:
        result = plan(source, progress=status.update, **kw)
        extra: dict[str, Any] = {}
        if templates is not None:
            from contactops.cli._schedule import _write  # noqa: PLC0415

            sched = _schedule(result, templates, time_limit, status)
            out.mkdir(parents=True, exist_ok=True)
            _write(sched.shifts, out / "schedule.csv")
            extra["schedule"] = out / "schedule.csv"
        status.update("writing the plan and the report")
        paths = {**result.write(out), **extra}
    _render(result, paths, time.perf_counter() - t0)
    return result


@app.command("plan")
def plan_command(
    start: str | None = typer.Option(
        None,
        "--start",
        help="First day of the plan, YYYY-MM-DD (default: the day after the history).",
    ),
    days: int = typer.Option(7, "--days", help="Days to plan."),
    target: str = typer.Option(
        "80/20", "--target", help="Service-level target of voice and chat queues, e.g. 80/20."
    ),
    email: str = typer.Option(
        "90/24h", "--email-target", help="Email/ticket target: share handled within a deadline."
    ),
    warehouse: Path | None = typer.Option(
        None,
        "--warehouse",
        "-w",
        help="DuckDB warehouse (default $CONTACTOPS_WAREHOUSE or ./contactops.duckdb).",
    ),
    interval: str = typer.Option("30min", "--interval", help="15min, 30min or 60min."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA time zone of the queues, e.g. Asia/Jerusalem (default: UTC)."
    ),
    shrinkage: str = typer.Option("30%", "--shrinkage", help="Paid time off contacts."),
    holidays: str | None = typer.Option(
        None, "--holidays", help="Country (or country-subdivision) of the public holidays, e.g. US."
    ),
    methods: str | None = typer.Option(
        None, "--methods", help="Forecast methods to choose from, comma-separated (default: all)."
    ),
    check: bool = typer.Option(True, "--check/--no-check", help="Simulate the plan."),
    replications: int = typer.Option(5, "--replications", "-r", help="Simulation runs."),
    seed: int = typer.Option(0, "--seed", help="Seed of the simulation."),
    out: Path = typer.Option(
        Path("plan"), "--out", "-o", help="Directory for plan.parquet, plan.csv and report.html."
    ),
    templates: Path | None = typer.Option(
        None,
        "--templates",
        "-t",
        help="shifts.yaml: also "
        "schedule the plan (schedule.csv) and chart the "
        "coverage in the report.",
    ),
    time_limit: float = typer.Option(30.0, "--time-limit", help="Seconds for the scheduler."),
) -> None:
    """Forecast the history, staff every interval, simulate the plan and write the report."""
    from contactops.data import Warehouse  # noqa: PLC0415

    with user_errors(_PLAN_FLAGS):
        # everything the user typed is checked before the warehouse is opened
        parse_target(target, name="--target")
        parse_target(email, name="--email-target")
        parse_share(shrinkage, name="--shrinkage", allow_zero=True)
        if start is not None:
            try:
                date.fromisoformat(start)
            except ValueError:
                raise InvalidParameterError(
                    "--start",
                    start,
                    "a date, YYYY-MM-DD",
                    "e.g. --start 2026-12-07 (default: the day after the history).",
                ) from None
        if templates is not None:
            check_file(
                templates, "--templates", text=True, what="YAML file such as examples/shifts.yaml"
            )
        if out.exists() and not out.is_dir():
            raise InvalidParameterError(
                "--out",
                str(out),
                "a directory (it is a file)",
                "Name a directory for plan.parquet, plan.csv and report.html, e.g. --out plan.",
            )
        zone, how = resolve_timezone(warehouse, timezone)
        kw: dict[str, Any] = {}
        if methods:
            kw["methods"] = tuple(m.strip() for m in methods.split(",") if m.strip())
        with Warehouse(warehouse, create=False) as wh:
            say_timezone(zone, how)
            _run_plan(
                wh,
                out,
                start=start,
                days=days,
                targets={
                    "voice": target,
                    "callback": target,
                    "chat": target,
                    "message": target,
                    "email": email,
                    "ticket": email,
                },
                interval=interval,
                timezone=zone,
                shrinkage=shrinkage,
                holidays=holidays,
                check=check,
                replications=replications,
                seed=seed,
                templates=templates,
                time_limit=time_limit,
                **kw,
            )


# the plan API's parameter names, as this command's options
_PLAN_FLAGS = {
    "start": "--start",
    "days": "--days",
    "interval": "--interval",
    "timezone": "--timezone",
    "shrinkage": "--shrinkage",
    "holidays": "--holidays",
    "methods": "--methods",
    "replications": "--replications",
    "seed": "--seed",
    "path": "--warehouse",
    "templates": "--templates",
    "time_limit": "--time-limit",
    **{f"targets[{ch!r}]": "--target" for ch in ("voice", "callback", "chat", "message")},
    **{f"targets[{ch!r}]": "--email-target" for ch in ("email", "ticket")},
}


@app.command("demo")
def demo_command(
    out: Path = typer.Option(
        Path("contactops-demo"),
        "--out",
        "-o",
        help="Directory for the demo warehouse, plan and report.",
    ),
    seed: int = typer.Option(1, "--seed", help="Seed of the synthetic history and the check."),
) -> None:
    """Build a synthetic center with 8 weeks of history, then plan its next week."""
    from contactops.data import Warehouse  # noqa: PLC0415
    from contactops.plan._demo import build_demo_history  # noqa: PLC0415

    with user_errors():
        out.mkdir(parents=True, exist_ok=True)
        db = out / "contactops.duckdb"
        db.unlink(missing_ok=True)
        t0 = time.perf_counter()
        with Warehouse(db) as wh:
            with console.status("building the demo center") as status:
                legs = build_demo_history(wh, seed=seed, progress=status.update)
            console.print(
                f"demo warehouse {db}: {legs:,} contact legs over 8 weeks "
                f"({time.perf_counter() - t0:.1f} s)"
            )
            _run_plan(wh, out, start="2026-12-07", days=7, holidays="US", seed=seed)
        console.print(
            f"[bold]open {out / 'report.html'}[/] in a browser; then try "
            f"contactops kpi -w {db} --by day,queue"
        )
