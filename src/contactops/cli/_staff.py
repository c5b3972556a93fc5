"""``contactops staff``: required agents for one interval or every row of a file."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from contactops.cli._app import (
    app,
    check_at_least,
    check_choice,
    console,
    read_table_file,
    user_errors,
)
from contactops.errors import InvalidParameterError
from contactops.queueing import DEFAULT_SL_DEFINITION, SL_DEFINITIONS
from contactops.units import parse_duration, parse_share, parse_target

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from contactops.queueing import QueueModel, StaffingResult

# numpy, pyarrow and the Erlang kernels (numba) are imported when the command runs


class ModelName(StrEnum):
    """Queueing model to staff with."""

    c = "c"
    a = "a"
    x = "x"


_COLUMNS = (
    "agents",
    "scheduled",
    "feasible",
    "service_level",
    "asa",
    "abandon_rate",
    "occupancy",
    "prob_wait",
    "blocking",
    "mean_wait",
)


def _build_model(
    model: ModelName | None,
    rate: np.ndarray,
    aht: np.ndarray,
    patience: np.ndarray | None,
    lines: int | None,
    redial: float,
) -> QueueModel:
    from contactops.queueing import ErlangA, ErlangC, ErlangX  # noqa: PLC0415

    if model is None:
        model = (
            ModelName.x
            if (lines is not None or redial > 0)
            else (ModelName.a if patience is not None else ModelName.c)
        )
    if model is ModelName.c:
        if patience is not None:
            raise InvalidParameterError(
                "--patience",
                "given",
                "used with --model a or x (Erlang C has no abandonment)",
                "Drop --patience, or use --model a.",
            )
        return ErlangC(rate, aht)
    if model is ModelName.a:
        if patience is None:
            raise InvalidParameterError(
                "--patience",
                None,
                "given with --model a",
                "Add e.g. --patience 120s (mean time callers wait before hanging up).",
            )
        return ErlangA(rate, aht, patience)
    return ErlangX(rate, aht, patience, lines=lines, redial_probability=redial)


def _read_table(path: Path) -> pa.Table:
    return read_table_file(path, "--file")


def _duration_column(table: pa.Table, name: str) -> np.ndarray | None:
    import numpy as np  # noqa: PLC0415

    if name not in table.column_names:
        return None
    values = table.column(name).to_pylist()
    out = np.empty(len(values))
    for i, v in enumerate(values):
        if v is None:
            raise InvalidParameterError(
                f"{name} (row {i + 2})",
                None,
                "a duration",
                "Fill the cell, or drop the column to use the option.",
            )
        out[i] = parse_duration(v, name=f"{name} (row {i + 2})")
    return out


def _number_column(table: pa.Table, names: tuple[str, ...]) -> np.ndarray | None:
    import numpy as np  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415

    for name in names:
        if name in table.column_names:
            col = table.column(name)
            if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
                raise InvalidParameterError(
                    name,
                    str(col.type),
                    "a numeric column",
                    "Write plain numbers (contacts per interval).",
                )
            arr = col.to_numpy(zero_copy_only=False).astype(np.float64)
            if np.isnan(arr).any():
                row = int(np.flatnonzero(np.isnan(arr))[0]) + 2
                raise InvalidParameterError(
                    f"{name} (row {row})", None, "a number", "Fill every row."
                )
            return arr
    return None


def _result_table(result: StaffingResult) -> dict[str, np.ndarray]:
    import numpy as np  # noqa: PLC0415

    cols = result.as_dict()
    return {name: np.atleast_1d(cols[name]) for name in _COLUMNS}


def _fmt(value: float, kind: str) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{value:.1f} s"
    return f"{value:g}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None if math.isnan(value) else "inf"
    return value


@app.command()
def staff(
    calls: float | None = typer.Option(None, help="Contacts offered in the interval."),
    interval: str = typer.Option("30m", help="Interval length, e.g. 15m, 30m, 1h."),
    aht: str | None = typer.Option(None, help="Average handle time, e.g. 180s or 3m."),
    target: str = typer.Option("80/20", help='Service level target "SL/threshold", e.g. 80/20.'),
    patience: str | None = typer.Option(None, help="Mean patience (abandonment), e.g. 120s."),
    model: ModelName | None = typer.Option(
        None,
        help="c: Erlang C; a: Erlang A (needs --patience); x: Erlang X (lines, "
        "redials). Default: a with --patience, else c.",
    ),
    lines: int | None = typer.Option(None, help="Lines (trunks) for Erlang X."),
    redial: float = typer.Option(0.0, help="Probability a blocked/abandoned caller redials."),
    sl_definition: str = typer.Option(
        DEFAULT_SL_DEFINITION, "--sl-definition", help="One of: " + ", ".join(SL_DEFINITIONS)
    ),
    asa: str | None = typer.Option(None, help="Also require ASA at most this, e.g. 30s."),
    max_abandon: str | None = typer.Option(None, help="Also cap abandonment, e.g. 5%."),
    max_occupancy: str | None = typer.Option(None, help="Also cap occupancy, e.g. 85%."),
    shrinkage: str = typer.Option("0", help="Shrinkage for scheduled agents, e.g. 30%."),
    fractional: bool = typer.Option(
        False, "--fractional", help="Real-valued agents (smooth curves)."
    ),
    file: Path | None = typer.Option(
        None,
        "--file",
        help="CSV/Parquet with a row per "
        "interval: calls (or contacts), optional aht, patience, "
        "interval; other columns are kept.",
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the result to .csv or .parquet."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Required agents and the service level, ASA, abandonment and occupancy they achieve."""
    import numpy as np  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.csv as pacsv  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    from contactops.queueing import required_agents  # noqa: PLC0415

    with user_errors(_STAFF_FLAGS):
        check_choice(
            "--sl-definition",
            sl_definition,
            list(SL_DEFINITIONS),
            f"See contactops staff --help; the default is {DEFAULT_SL_DEFINITION}.",
        )
        share, threshold = parse_target(target, name="--target")
        shrink = parse_share(shrinkage, name="--shrinkage", allow_zero=True)
        table: pa.Table | None = None
        if file is not None:
            table = _read_table(file)
            volume = _number_column(table, ("calls", "contacts", "offered", "volume"))
            if volume is None:
                raise InvalidParameterError(
                    "--file",
                    str(file),
                    "a table with a calls (or contacts, offered or volume) column",
                    "Its columns are "
                    + (", ".join(table.column_names[:12]) or "none")
                    + ": add one with contacts per interval.",
                )
            aht_s = _duration_column(table, "aht")
            pat_s = _duration_column(table, "patience")
            ivl_s = _duration_column(table, "interval")
        else:
            if calls is None:
                raise InvalidParameterError(
                    "--calls", None, "given (or --file)", "Add e.g. --calls 100."
                )
            check_at_least(
                "--calls", calls, 0, "Contacts offered in the interval, e.g. --calls 100."
            )
            volume = np.array([calls], dtype=np.float64)
            aht_s = pat_s = ivl_s = None
        if aht_s is None:
            if aht is None:
                raise InvalidParameterError(
                    "--aht", None, "given (or an aht column)", "Add e.g. --aht 180s."
                )
            aht_s = np.full(volume.shape, parse_duration(aht, name="--aht"))
        if pat_s is None and patience is not None:
            pat_s = np.full(volume.shape, parse_duration(patience, name="--patience"))
        if ivl_s is None:
            ivl_s = np.full(volume.shape, parse_duration(interval, name="--interval"))
        if np.any(ivl_s <= 0):
            raise InvalidParameterError(
                "--interval", interval, "a positive duration", "Use e.g. 15m, 30m or 1h."
            )
        if np.any(volume < 0):
            row = int(np.flatnonzero(volume < 0)[0])
            raise InvalidParameterError(
                "calls" + (f" (row {row + 2})" if file else ""),
                float(volume[row]),
                ">= 0",
                "Contacts per interval cannot be negative.",
            )
        qmodel = _build_model(model, volume / ivl_s, aht_s, pat_s, lines, redial)
        result = required_agents(
            qmodel,
            service_level=share,
            threshold=threshold,
            definition=sl_definition,
            asa=None if asa is None else parse_duration(asa, name="--asa"),
            max_abandon=None
            if max_abandon is None
            else parse_share(max_abandon, name="--max-abandon"),
            max_occupancy=None
            if max_occupancy is None
            else parse_share(max_occupancy, name="--max-occupancy"),
            shrinkage=shrink,
            integer=not fractional,
        )
        cols = _result_table(result)
        if out is not None:
            base = (
                table
                if table is not None
                else pa.table({"calls": volume, "interval_s": ivl_s, "aht_s": aht_s})
            )
            for name, values in cols.items():
                if name in base.column_names:
                    base = base.drop_columns([name])
                base = base.append_column(name, pa.array(values))
            suffix = out.suffix.lower()
            if suffix == ".parquet":
                pq.write_table(base, out)
            elif suffix == ".csv":
                pacsv.write_csv(base, out)
            else:
                raise InvalidParameterError(
                    "--out",
                    str(out),
                    "a .csv or .parquet path",
                    "Name the output file with one of those endings.",
                )
        if as_json:
            rows = [
                {name: _jsonable(cols[name][i].item()) for name in cols} for i in range(volume.size)
            ]
            payload: Any = rows[0] if file is None else rows
            console.print_json(json.dumps(payload))
            return
        _render(cols, volume, share, threshold, sl_definition, out)


# the queueing API's parameter names, as this command's options
_STAFF_FLAGS = {
    "definition": "--sl-definition",
    "service_level": "--target",
    "threshold": "--target",
    "asa": "--asa",
    "max_abandon": "--max-abandon",
    "max_occupancy": "--max-occupancy",
    "shrinkage": "--shrinkage",
    "lines": "--lines",
    "redial_probability": "--redial",
    "patience": "--patience",
    "aht": "--aht",
    "handle_time": "--aht",
    "arrival_rate": "--calls",
}


def _render(
    cols: dict[str, np.ndarray],
    volume: np.ndarray,
    share: float,
    threshold: float,
    definition: str,
    out: Path | None,
) -> None:
    import numpy as np  # noqa: PLC0415

    title = f"Staffing for {share:.0%} in {threshold:g} s ({definition.replace('_', ' ')})"
    t = Table(title=title)
    for head in ("#", "calls", "agents", "sched.", "SL", "ASA", "aband.", "occ.", "P(wait)"):
        t.add_column(head, justify="right")
    shown = min(volume.size, 48)
    for i in range(shown):
        t.add_row(
            str(i + 1),
            f"{volume[i]:g}",
            _fmt(cols["agents"][i], "n"),
            _fmt(cols["scheduled"][i], "n"),
            _fmt(cols["service_level"][i], "pct"),
            _fmt(cols["asa"][i], "s"),
            _fmt(cols["abandon_rate"][i], "pct"),
            _fmt(cols["occupancy"][i], "pct"),
            _fmt(cols["prob_wait"][i], "pct"),
        )
    console.print(t)
    if volume.size > shown:
        console.print(f"... {volume.size - shown} more rows")
    infeasible = int((~cols["feasible"].astype(bool)).sum())
    if infeasible:
        console.print(
            f"[yellow]{infeasible} interval(s) cannot meet the targets "
            "with any staff (see the feasible column).[/]"
        )
    if volume.size > 1:
        console.print(f"Total scheduled agent-intervals: {np.nansum(cols['scheduled']):g}")
    if out is not None:
        console.print(f"Wrote {out}")
