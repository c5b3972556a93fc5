"""``contactops schedule``: shifts and breaks for a plan, and named agents on them."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.progress import Progress as Bar
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from contactops.cli._app import (
    app,
    check_at_least,
    check_file,
    console,
    err_console,
    escape,
    print_columns,
    read_table_file,
    user_errors,
)
from contactops.errors import InvalidParameterError
from contactops.units import check_timezone

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from contactops.queueing import ErlangC
    from contactops.schedule import Progress, Roster, Schedule, ScheduleConfig

# numpy, pyarrow, the scheduler (OR-Tools, HiGHS) and the Erlang kernels (numba) are
# imported when the command runs


def _read_table(path: Path, what: str) -> pa.Table:
    return read_table_file(path, what)


def _read_config(path: Path) -> ScheduleConfig:
    import yaml  # noqa: PLC0415

    from contactops.schedule import read_config  # noqa: PLC0415

    check_file(path, "--templates", text=True, what="YAML file such as examples/shifts.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidParameterError(
            "--templates",
            str(path),
            "a YAML text file (UTF-8)",
            "Give the shifts.yaml, e.g. examples/shifts.yaml.",
        ) from None
    except yaml.YAMLError as exc:
        raise InvalidParameterError(
            "--templates", str(path), "valid YAML", " ".join(str(exc).split())
        ) from None
    if not isinstance(data, dict):
        raise InvalidParameterError(
            "--templates",
            str(path),
            "a YAML mapping with templates (and rules, costs...)",
            "See examples/shifts.yaml.",
        )
    return read_config(data)


def _read_agents(path: Path) -> list[Any]:
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415

    from contactops.schedule import agents_from_records  # noqa: PLC0415

    table = read_table_file(
        path,
        "--agents",
        csv_only=True,
        convert_options=pacsv.ConvertOptions(
            column_types={
                c: pa.string()
                for c in (
                    "skills",
                    "available",
                    "days_off",
                    "prefer_start",
                    "prefer_templates",
                    "region",
                    "agent",
                    "name",
                    "id",
                )
            }
        ),
    )
    return agents_from_records(table.to_pylist())


def _queue_models(
    plan: pa.Table, timezone: str | None, threshold: float | None
) -> tuple[dict[str, ErlangC] | None, float | dict[str, float], float, str]:
    """Erlang C per queue from the plan's forecast and handle time, for the short weights."""
    import numpy as np  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    from contactops.queueing import ErlangC  # noqa: PLC0415
    from contactops.schedule import as_requirement  # noqa: PLC0415

    cols = plan.column_names
    if "forecast" not in cols or "aht" not in cols:
        return (
            None,
            20.0 if threshold is None else threshold,
            0.0,
            ("flat short cost (the plan has no forecast/aht columns for service-level weights)"),
        )
    base = plan.select([c for c in ("queue", "interval_start") if c in cols])

    def grid(column: str) -> np.ndarray:
        values = pc.fill_null(plan.column(column), 0.0)
        req = as_requirement(base.append_column("required", values), timezone=timezone)
        return req.flat()

    volume = grid("forecast")
    aht = grid("aht")
    req = as_requirement(
        plan.select([c for c in ("queue", "interval_start", "required") if c in cols]),
        timezone=timezone,
    )
    models = {}
    voice = {"voice", "callback"}
    channel = (
        {
            str(q): str(c)
            for q, c in zip(
                plan.column("queue").to_pylist(), plan.column("channel").to_pylist(), strict=True
            )
        }
        if "channel" in cols and "queue" in cols
        else {}
    )
    for q, name in enumerate(req.queues):
        if channel and channel.get(name) not in voice:
            continue  # Erlang C describes calls; other channels keep the flat short cost
        a = aht[q]
        mean = float(a[a > 0].mean()) if (a > 0).any() else 300.0
        a = np.where(a > 0, a, mean)
        models[name] = ErlangC(volume[q] / req.interval, a)
    shrink = 0.0
    if "agents" in cols:
        agents = plan.column("agents").to_numpy(zero_copy_only=False).astype(float)
        need = plan.column("required").to_numpy(zero_copy_only=False).astype(float)
        ok = (need > 0) & np.isfinite(agents)
        if ok.any():
            shrink = float(np.clip(np.median(1.0 - agents[ok] / need[ok]), 0.0, 0.95))
    thresholds: dict[str, float] | float
    if threshold is not None:
        thresholds = threshold
    elif "threshold_s" in cols:
        qs = plan.column("queue").to_pylist() if "queue" in cols else ["queue"] * plan.num_rows
        ts = plan.column("threshold_s").to_pylist()
        thresholds = {}
        for q, t in zip(qs, ts, strict=True):
            if t is not None and math.isfinite(t):
                thresholds.setdefault(str(q), float(t))
    else:
        thresholds = 20.0
    shown = (
        f"{thresholds:g} s"
        if isinstance(thresholds, float)
        else ", ".join(f"{q} {t:g} s" for q, t in thresholds.items() if q in models)
    )
    return (
        models,
        thresholds,
        shrink,
        (
            f"short cost of {', '.join(models) or 'no queue'} weighted by Erlang C service-level "
            f"loss (threshold {shown}; shrinkage {shrink:.0%} from the plan); other queues flat"
        ),
    )


def _check_out(path: Path, option: str) -> None:
    """An output path ends in .csv or .parquet (checked before any solving)."""
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InvalidParameterError(
            option,
            str(path),
            "a .csv or .parquet path",
            f"e.g. {option} {path.with_suffix('.csv').name}.",
        )
    if path.is_dir():
        raise InvalidParameterError(
            option,
            str(path),
            "a file path, not a directory",
            f"e.g. {option} {path / 'schedule.csv'}.",
        )


def _write(table: pa.Table, path: Path, option: str = "--out") -> None:
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    _check_out(path, option)
    if path.suffix.lower() == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)


@app.command("schedule")
def schedule_command(
    plan: Path = typer.Argument(
        ...,
        help="plan.parquet (or .csv): queue, interval_start, "
        "required [, forecast, aht, agents, threshold_s].",
    ),
    templates: Path = typer.Option(
        ..., "--templates", "-t", help="shifts.yaml: templates, breaks, rules, costs, regions."
    ),
    agents: Path | None = typer.Option(
        None, "--agents", "-a", help="agents.csv: roster named agents onto the shifts."
    ),
    out: Path = typer.Option(
        Path("schedule.csv"), "--out", "-o", help="Where the shifts go (.csv or .parquet)."
    ),
    roster_out: Path = typer.Option(
        Path("roster.csv"), "--roster-out", help="Where the roster goes, with --agents."
    ),
    coverage_out: Path | None = typer.Option(
        None, "--coverage-out", help="Coverage per queue and interval (.csv or .parquet)."
    ),
    time_limit: float = typer.Option(30.0, "--time-limit", help="Seconds for the solver."),
    workers: int = typer.Option(2, "--workers", help="Solver threads."),
    seed: int = typer.Option(0, "--seed", help="Solver seed (with --workers 1: reproducible)."),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        help="Clock of the templates' start times (default: shifts.yaml's, else UTC).",
    ),
    wrap: bool | None = typer.Option(
        None,
        "--wrap/--no-wrap",
        help="The week repeats: Sunday night covers Monday "
        "morning (default: shifts.yaml's rules.wrap).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Shifts and breaks covering a plan at least cost; with --agents, who works them."""
    from contactops.schedule import (  # noqa: PLC0415
        ScheduleWarning,
        ShiftRules,
        roster,
        schedule_shifts,
    )

    with (
        user_errors(
            {
                "timezone": "--timezone",
                "time_limit": "--time-limit",
                "workers": "--workers",
                "seed": "--seed",
            }
        ),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", ScheduleWarning)
        check_at_least(
            "--time-limit", time_limit, 0, "e.g. --time-limit 30 (seconds).", strictly=True
        )
        check_at_least("--workers", workers, 1, "e.g. --workers 2 (solver threads).")
        _check_out(out, "--out")
        if agents is not None:
            _check_out(roster_out, "--roster-out")
        if coverage_out is not None:
            _check_out(coverage_out, "--coverage-out")
        cfg = _read_config(templates)
        tz = timezone if timezone is None else check_timezone(timezone, name="--timezone")
        tz = tz or cfg.timezone
        table = _read_table(plan, "PLAN")
        rules = (
            cfg.rules
            if wrap is None
            else ShiftRules(
                wrap=wrap,
                break_coverage=cfg.rules.break_coverage,
                max_agents_per_day=cfg.rules.max_agents_per_day,
                max_paid_hours=cfg.rules.max_paid_hours,
            )
        )
        models, threshold, shrink, weighting = _queue_models(table, tz, cfg.threshold)
        need = table.select(
            [c for c in ("queue", "interval_start", "required") if c in table.column_names]
        )
        people = _read_agents(agents) if agents is not None else None
        with Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=as_json,
        ) as bar:
            task = bar.add_task("scheduling: building the program", total=None)

            def report(p: Progress, what: str = "scheduling") -> None:
                text = f"{what}: {p.stage}"
                if math.isfinite(p.objective):
                    text += f", cost {p.objective:,.1f}"
                if math.isfinite(p.bound):
                    text += f", bound {p.bound:,.1f}"
                if math.isfinite(p.gap):
                    text += f", gap {100 * p.gap:.2f}%"
                bar.update(task, description=text)

            sched = schedule_shifts(
                need,
                cfg.templates,
                rules,
                costs=cfg.costs,
                queue_model=models,
                threshold=threshold,
                shrinkage=shrink,
                timezone=tz,
                time_limit=time_limit,
                workers=workers,
                seed=seed,
                progress=report,
            )
            result = None
            if people is not None:
                bar.update(task, description="rostering")
                result = roster(
                    sched,
                    people,
                    cfg.regions,
                    weights=cfg.weights,
                    time_limit=time_limit,
                    workers=workers,
                    seed=seed,
                    progress=lambda p: report(p, "rostering"),
                )
        _write(sched.shifts, out)
        written = [f"shifts -> {out}"]
        if result is not None:
            _write(result.assignments, roster_out, "--roster-out")
            rules_path = roster_out.with_name(roster_out.stem + "-rules" + roster_out.suffix)
            _write(result.rules, rules_path, "--roster-out")
            written += [f"roster -> {roster_out}", f"rules -> {rules_path}"]
        if coverage_out is not None:
            _write((result or sched).coverage_table(), coverage_out, "--coverage-out")
            written.append(f"coverage -> {coverage_out}")
        notes = [str(w.message) for w in caught if issubclass(w.category, ScheduleWarning)]
        if as_json:
            payload: dict[str, Any] = {
                "schedule": _clean(sched.summary()),
                "weighting": weighting,
                "warnings": notes,
                "written": written,
            }
            if result is not None:
                payload["roster"] = _clean(result.summary())
            typer.echo(json.dumps(payload, indent=2, default=str))
            return
        for note in notes:
            err_console.print(f"[yellow]warning:[/] {escape(note)}", highlight=False)
        _render(sched, result, weighting)
        for line in written:
            console.print(f"wrote {escape(line)}")


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _pct(x: float) -> str:
    return "-" if not math.isfinite(x) else f"{100 * x:.2f}%"


def _render(sched: Schedule, result: Roster | None, weighting: str) -> None:
    import numpy as np  # noqa: PLC0415

    hours = sched.interval / 3600.0
    need = sched.req.flat()
    lines = sched.lines()
    cov = sched._coverage
    rows = []
    for q, name in enumerate(sched.queues):
        short = np.maximum(need[q] - cov[q], 0.0)
        over = np.maximum(cov[q] - need[q], 0.0)
        mine = [ln for ln in lines if ln["queue"] == name]
        covered = float(np.minimum(cov[q], need[q]).sum()) * hours
        rows.append(
            [
                escape(str(name)),
                f"{need[q].sum() * hours:,.1f}",
                f"{covered:,.1f}",
                f"{short.sum() * hours:,.1f}",
                f"{over.sum() * hours:,.1f}",
                f"{int((short > 1e-9).sum()):,}",
                f"{sum(ln['agents'] for ln in mine):,}",
                f"{sum(ln['agents'] * ln['paid_hours'] for ln in mine):,.1f}",
            ]
        )
    print_columns(
        f"Schedule: {sched.req.days} day(s) from {sched.req.start.date()}, "
        f"{sched.interval / 60:g}-minute intervals",
        [
            "queue",
            "required\nh",
            "covered\nh",
            "short\nh",
            "over\nh",
            "short\nintervals",
            "shifts",
            "paid\nh",
        ],
        rows,
        keys=1,
        caption=escape(weighting),
    )
    console.print(
        f"cost {sched.objective:,.1f} (paid {sched.cost['paid_cost']:,.1f}, short "
        f"{sched.cost['short_cost']:,.1f}, over {sched.cost['over_cost']:,.1f}); "
        f"LP lower bound {sched.lower_bound:,.1f}; gap {_pct(sched.gap)}; "
        f"{sched.status} in {sched.wall_time:.1f} s"
    )
    if result is None:
        return
    s = result.summary()
    print_columns(
        f"Roster: {s['working']} of {s['agents']} agents working",
        [
            "shifts",
            "paid h",
            "short h",
            "over h",
            "hard rules\nbroken",
            "soft rules\nbroken",
            "gap",
        ],
        [
            [
                f"{s['shifts']:,}",
                f"{s['paid_hours']:,.1f}",
                f"{s['short_agent_intervals'] * hours:,.1f}",
                f"{s['over_agent_intervals'] * hours:,.1f}",
                str(s["hard_rules_broken"]),
                str(s["soft_rules_broken"]),
                _pct(s["gap"]),
            ]
        ],
        keys=0,
    )
    broken = [row for row in result.rules.to_pylist() if not row["satisfied"]]
    if broken:
        b = Table(
            title="soft rules and preferences not met"
            + (f" (first 15 of {len(broken)})" if len(broken) > 15 else "")
        )
        for col in ("agent", "rule", "detail", "reason"):
            b.add_column(col)
        for row in broken[:15]:
            b.add_row(*(escape(str(row[c])) for c in ("agent", "rule", "detail", "reason")))
        console.print(b)
