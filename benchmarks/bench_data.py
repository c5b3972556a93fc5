"""Warehouse benchmark: ingest 10,000,000 contacts from Parquet, then a KPI rollup.

The contacts are simulated (the multi-skill center of ``multiskill_center.py``,
one replication per million contacts) and written once to a Parquet file in
the canonical schema (kept and reused with ``--keep DIR``).  Then, timed:

1. ``Warehouse.ingest(file, format="parquet")`` into a fresh DuckDB file, three
   times, each in a fresh process (as ``contactops ingest`` runs), after the
   Parquet file is synced to disk; the goal is judged on the median.  As the
   floor: DuckDB's own ``INSERT INTO interactions ... FROM read_parquet(...)``
   of the same file, which validates nothing and keeps no lineage;
2. ``kpis(wh, by=["interval15", "queue"])``: every KPI (offered, answered,
   abandoned, service level, ASA, AHT, transfer rate, FCR...) per queue and 15
   minutes: the first call on a freshly opened warehouse, then three more
   (median);
3. pandas doing the same core rollup (offered, answered, abandoned, service
   level, ASA, AHT per queue and 15 minutes) on a DataFrame already in memory
   (reading the Parquet file into pandas is timed separately).

Goals (2 cores): ingest >= 500,000 rows/s, rollup < 5 s.  Writes
``benchmarks/results/data.md`` and ``.json``.

    python benchmarks/bench_data.py              # 10,000,000 contacts
    python benchmarks/bench_data.py --contacts 1000000 --out-dir /tmp
    python benchmarks/bench_data.py --keep /tmp/bench   # reuse the Parquet file
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import Progress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _machine import cpu_model, pkg_version  # noqa: E402
from contactops.data import INTERACTIONS, Warehouse  # noqa: E402
from contactops.metrics import kpis  # noqa: E402
from contactops.simulate import simulate  # noqa: E402
from multiskill_center import multiskill_center  # noqa: E402

console = Console()
GOAL_ROWS_PER_S = 500_000
GOAL_ROLLUP_S = 5.0
# the KPIs the pandas rollup computes too
CORE = ["offered", "answered", "abandoned", "service_level", "asa", "aht", "abandon_rate"]


_TAG = b"contactops.bench_data"


def make_parquet(path: Path, contacts: int, seed: int) -> int:
    """Simulate about ``contacts`` legs, a million per replication; write them to Parquet.

    A file already there from the same ``contacts`` and ``seed`` is reused.
    """
    tag = json.dumps({"contacts": contacts, "seed": seed}).encode()
    if path.exists():
        try:
            meta = pq.read_schema(path).metadata or {}
        except (OSError, ValueError):
            meta = {}
        if meta.get(_TAG) == tag:
            console.print(f"reusing {path}")
            return int(pq.ParquetFile(path).metadata.num_rows)
    per_rep = 1_000_000
    reps = max(1, round(contacts / per_rep))
    center = multiskill_center(min(contacts, per_rep), days=8)
    rows = 0
    writer = None
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("simulating contacts", total=reps)
        for rep in range(reps):
            result = simulate(center, days=8, seed=seed + rep, contacts=True)
            table = result.contacts
            # canonical schema: plain strings, plus the warehouse's version column (null)
            cols = {}
            for f in INTERACTIONS:
                if f.name in table.column_names:
                    cols[f.name] = table.column(f.name).cast(f.type)
                else:
                    import pyarrow as pa

                    cols[f.name] = pa.nulls(table.num_rows, f.type)
            import pyarrow as pa

            out = pa.table(cols, schema=INTERACTIONS.with_metadata({_TAG: tag}))
            # each replication gets its own ids
            if writer is None:
                writer = pq.ParquetWriter(path, out.schema, compression="zstd")
            writer.write_table(out, row_group_size=256_000)
            rows += out.num_rows
            bar.advance(task)
    if writer is not None:
        writer.close()
    os.sync()  # the ingest reads a file at rest, not one still being written back
    return rows


def pandas_rollup(df: Any, threshold: float = 20.0) -> Any:
    """The core rollup in pandas: per queue and 15 minutes."""
    import pandas as pd

    d = df
    bucket = d["arrived_at"].dt.floor("15min")
    outcome = d["outcome"]
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    offered = outcome.isin(["answered", "abandoned", "blocked", "callback_requested"])
    wait = d["wait_s"].fillna(0.0)
    handle = d["talk_s"] + d["hold_s"].fillna(0.0) + d["acw_s"].fillna(0.0)
    frame = pd.DataFrame(
        {
            "queue": d["queue"],
            "bucket": bucket,
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "within": answered & (wait <= threshold),
            "wait_answered": wait.where(answered, 0.0),
            "handled": answered & d["talk_s"].notna(),
            "handle": handle.where(answered & d["talk_s"].notna(), 0.0),
        }
    )
    g = frame.groupby(["queue", "bucket"], observed=True).sum()
    g["service_level"] = g["within"] / g["offered"]
    g["asa"] = g["wait_answered"] / g["answered"]
    g["aht"] = g["handle"] / g["handled"]
    g["abandon_rate"] = g["abandoned"] / g["offered"]
    return g


def ingest_once(parquet: Path, db: Path, native: bool) -> dict[str, Any]:
    """One timed ingest into a new warehouse file (run in a child process)."""
    db.unlink(missing_ok=True)
    with Warehouse(db) as wh:
        t0 = time.perf_counter()
        if native:  # DuckDB alone: no validation, no lineage, no accounting
            names = [n for n in INTERACTIONS.names if n not in ("source", "source_ref")]
            wh.con.execute(
                f"INSERT INTO interactions ({', '.join(names)}, source, source_ref) "
                f"SELECT {', '.join(names)}, 'parquet', '{parquet.name}:' || file_row_number "
                f"FROM read_parquet('{parquet}', file_row_number = true)"
            )
            seconds = time.perf_counter() - t0
            return {
                "seconds": seconds,
                "read": wh.count(),
                "loaded": wh.count(),
                "rejected": 0,
                "duplicates": 0,
                "peak_rss_bytes": _peak_rss(),
            }
        report = wh.ingest(parquet, format="parquet")
        seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "read": report.read,
        "loaded": report.loaded,
        "rejected": report.rejected,
        "duplicates": report.duplicates,
        "peak_rss_bytes": _peak_rss(),
    }


def _peak_rss() -> int:
    """This process's peak resident memory, bytes (Linux reports KiB)."""
    import resource  # POSIX only

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed_ingests(parquet: Path, db: Path, runs: int, native: bool) -> list[dict[str, Any]]:
    """``runs`` ingests, each in a fresh Python process (nothing warm but the OS cache)."""
    out = []
    for _ in range(runs):
        cmd = [sys.executable, __file__, "--ingest-only", str(parquet), str(db)]
        if native:
            cmd.append("--native")
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path, default=HERE / "results")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="directory to keep (and reuse) the Parquet file and warehouse in",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed ingests and rollups")
    parser.add_argument(
        "--ingest-only", nargs=2, type=Path, metavar=("PARQUET", "DB"), help=argparse.SUPPRESS
    )
    parser.add_argument("--native", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_only:
        print(json.dumps(ingest_once(*args.ingest_only, native=args.native)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-data-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    parquet = work / "contacts.parquet"
    db = work / "bench.duckdb"
    try:
        t0 = time.perf_counter()
        rows = make_parquet(parquet, args.contacts, args.seed)
        gen_s = time.perf_counter() - t0
        parquet_bytes = parquet.stat().st_size
        console.print(
            f"{rows:,} contact legs in {parquet} ({parquet_bytes / 2**20:,.0f} MiB "
            f"Parquet, made or checked in {gen_s:.1f} s)"
        )
        with console.status("ingesting (fresh processes)"):
            native = timed_ingests(parquet, db, args.runs, native=True)
            runs = timed_ingests(parquet, db, args.runs, native=False)
        report = runs[-1]
        ingest_s = statistics.median(r["seconds"] for r in runs)
        native_s = statistics.median(r["seconds"] for r in native)
        db_size = db.stat().st_size
        console.print(
            f"ingest: {report['read']:,} read, {report['loaded']:,} loaded; median "
            f"{ingest_s:.2f} s = {report['read'] / ingest_s:,.0f} rows/s "
            f"(DuckDB read_parquet alone: {native_s:.2f} s)"
        )
        with Warehouse(db) as wh:
            t0 = time.perf_counter()
            kpis(wh, by=["interval15", "queue"])  # the first call on a freshly opened file
            first_s = time.perf_counter() - t0
            times, core_times = [], []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                table = kpis(wh, by=["interval15", "queue"])
                times.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                kpis(wh, by=["interval15", "queue"], metrics=CORE)
                core_times.append(time.perf_counter() - t0)
            rollup_s = statistics.median(times)
            core_s = statistics.median(core_times)
        console.print(
            f"rollup by 15 min x queue: {table.num_rows:,} rows, median "
            f"{rollup_s:.2f} s (first call {first_s:.2f} s)"
        )
        t0 = time.perf_counter()
        df = pq.read_table(
            parquet,
            columns=["queue", "arrived_at", "outcome", "wait_s", "talk_s", "hold_s", "acw_s"],
        ).to_pandas()
        read_s = time.perf_counter() - t0
        ptimes = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            g = pandas_rollup(df)
            ptimes.append(time.perf_counter() - t0)
        pandas_s = statistics.median(ptimes)
        console.print(
            f"pandas rollup: {len(g):,} rows, median {pandas_s:.2f} s "
            f"(+{read_s:.2f} s to read the Parquet columns)"
        )
        # the two rollups must agree
        ours = {
            (r["queue"], r["interval_start"].replace(tzinfo=None)): r for r in table.to_pylist()
        }
        mismatches = 0
        for (queue, bucket), r in g.iterrows():
            o = ours.get((queue, bucket.to_pydatetime().replace(tzinfo=None)))
            if o is None or o["offered"] != r["offered"] or o["answered"] != r["answered"]:
                mismatches += 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    rate = report["read"] / ingest_s
    result = {
        "benchmark": "data",
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": cpu_model(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "duckdb": pkg_version("duckdb"),
            "pyarrow": pkg_version("pyarrow"),
            "pandas": pkg_version("pandas"),
        },
        "rows": rows,
        "generate_s": gen_s,
        "ingest_runs_s": [r["seconds"] for r in runs],
        "ingest_s": ingest_s,
        "ingest_rows_per_s": rate,
        "native_runs_s": [r["seconds"] for r in native],
        "native_s": native_s,
        "ours_over_native": ingest_s / native_s,
        "ingest_peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "native_peak_rss_bytes": max(r["peak_rss_bytes"] for r in native),
        "loaded": report["loaded"],
        "rejected": report["rejected"],
        "duplicates": report["duplicates"],
        "warehouse_bytes": db_size,
        "parquet_bytes": parquet_bytes,
        "rollup_first_s": first_s,
        "rollup_runs_s": times,
        "rollup_s": rollup_s,
        "rollup_core_runs_s": core_times,
        "rollup_core_s": core_s,
        "rollup_rows": table.num_rows,
        "pandas_runs_s": ptimes,
        "pandas_rollup_s": pandas_s,
        "pandas_read_s": read_s,
        "pandas_over_ours_core": pandas_s / core_s,
        "rollup_mismatches": mismatches,
    }

    def runs_text(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    md = [
        "# Warehouse: ingest and KPI rollup",
        "",
        (
            f"Generated by `benchmarks/bench_data.py` on {result['date']}; "
            f"{os.cpu_count()} cores ({result['machine']['cpu']}), Python "
            f"{platform.python_version()}, DuckDB {result['machine']['duckdb']}, pyarrow "
            f"{result['machine']['pyarrow']}."
        ),
        "",
        (
            f"{rows:,} contact legs simulated with `contactops.simulate` (the multi-skill center, "
            f"one replication per million) and written once to Parquet (zstd, "
            f"{parquet_bytes / 2**20:,.0f} MiB) in the canonical schema; not timed below."
        ),
        "",
        "| step | median | runs (s) | rate / ratio | goal |",
        "|---|---:|---|---:|---|",
        (
            f"| ingest Parquet into a new DuckDB warehouse (`Warehouse.ingest`, a fresh process "
            f"each) | {ingest_s:.2f} s | {runs_text(result['ingest_runs_s'])} | {rate:,.0f} rows/s "
            f"| >= {GOAL_ROWS_PER_S:,} rows/s: {'met' if rate >= GOAL_ROWS_PER_S else 'NOT met'} |"
        ),
        (
            f"| floor: DuckDB `INSERT ... FROM read_parquet()` alone (no validation, lineage or "
            f"accounting) | {native_s:.2f} s | {runs_text(result['native_runs_s'])} | ours / "
            f"DuckDB alone: {ingest_s / native_s:.2f}x | |"
        ),
        (
            f"| KPI rollup by 15 minutes x queue (all KPIs) | {rollup_s:.2f} s | "
            f"{runs_text(times)} | {table.num_rows:,} rows out | < {GOAL_ROLLUP_S:g} s: "
            f"{'met' if rollup_s < GOAL_ROLLUP_S else 'NOT met'} |"
        ),
        (
            f"| the same, first call on a freshly opened warehouse | {first_s:.2f} s | | | "
            f"< {GOAL_ROLLUP_S:g} s: {'met' if first_s < GOAL_ROLLUP_S else 'NOT met'} |"
        ),
        (
            f"| the seven KPIs pandas also computes (`metrics=`) | {core_s:.2f} s | "
            f"{runs_text(core_times)} | | |"
        ),
        (
            f"| pandas: those seven on a DataFrame already in memory | {pandas_s:.2f} s | "
            f"{runs_text(ptimes)} | pandas / ours: {pandas_s / core_s:.2f}x | |"
        ),
        f"| pandas: reading the 7 needed columns from Parquet | {read_s:.2f} s | | | |",
        "",
        (
            f"- Ingest report: read {report['read']:,} = loaded {report['loaded']:,} + rejected "
            f"{report['rejected']:,} + duplicates {report['duplicates']:,}."
        ),
        f"- Warehouse file: {db_size / 2**20:,.0f} MiB.",
        (
            "- Peak memory of the ingesting process: "
            f"{result['ingest_peak_rss_bytes'] / 2**30:.1f} "
            f"GiB (DuckDB's own `read_parquet` insert: "
            f"{result['native_peak_rss_bytes'] / 2**30:.1f} GiB)."
        ),
        (
            "- The ingest validates every column (types, required fields, enums, ranges), "
            "writes `file:row` lineage for every row, checks the file for repeats and for "
            "records already stored, and keeps the accounting; it streams the batches into "
            "DuckDB, so the conversion of one overlaps the compression of the last."
        ),
        (
            f"- Our rollup computes every KPI (service level, ASA, AHT, abandonment, transfer, "
            f"FCR with its repeat window, containment, CSAT/NPS); pandas computes seven. Offered "
            f"and answered agree in every queue-interval: {mismatches} mismatches."
        ),
        "",
        "Reproduce: `pip install -e '.[bench]' && python benchmarks/bench_data.py`",
        "",
    ]
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "data.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out_dir / "data.md").write_text("\n".join(md))
    console.print(f"wrote {args.out_dir / 'data.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
