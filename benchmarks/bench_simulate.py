"""Discrete-event simulation: contactops against SimPy 4 and Ciw 3, in the same run.

The model is an M/M/50 contact queue: 45 Erlangs offered (0.15 contacts a
second, mean handle time 300 s), 1,000,000 contacts, without abandonment and
with exponential patience (mean 120 s).  Every contender runs in a fresh
process; we record wall time, contacts per second, peak memory, and the
simulated service level (answered within 20 s over offered), ASA, abandon
rate and occupancy against the analytic Erlang C / Erlang A values.

    python benchmarks/bench_simulate.py            # the full run
    python benchmarks/bench_simulate.py --quick    # 20,000 contacts, a smoke test

Results go to ``benchmarks/results/simulate.{md,json}`` (``--quick`` writes
``simulate-quick.{md,json}`` instead, so a smoke test never overwrites them).
The SimPy and Ciw models are in ``benchmarks/peers_simulate.py``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from _machine import fmt_s, source_fingerprint
from _machine import machine as base_machine
from peers_simulate import BATCHES, PEERS, THRESHOLD_S, Tally

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

SEED = 1
AGENTS = 50
AHT_S = 300.0
LOAD_ERLANGS = 45.0
ARRIVAL_RATE = LOAD_ERLANGS / AHT_S  # contacts a second
PATIENCE_S = 120.0
CONTACTS = 1_000_000
QUICK_CONTACTS = 20_000
REPEATS = 3
ACCURACY_Z = 3.0  # a statistic is "accurate" within this many standard errors
GOALS = {"simpy": 20.0, "ciw": 50.0}  # contactops at least this many times faster
OURS = "contactops"
CONTENDERS = (OURS, "simpy", "ciw")
LABELS = {OURS: "contactops", "simpy": "SimPy", "ciw": "Ciw"}
STATISTICS = ("service_level", "asa", "abandon_rate", "occupancy")
SE_STATISTICS = ("service_level", "asa", "abandon_rate")


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    patience: float | None

    @property
    def analytic_model(self) -> str:
        return "Erlang C" if self.patience is None else "Erlang A"


SCENARIOS = (
    Scenario("no_patience", "no patience (Erlang C)", None),
    Scenario("patience", f"exponential patience, mean {PATIENCE_S:g} s (Erlang A)", PATIENCE_S),
)

console = Console()


# -- memory (inside a worker process) ---------------------------------------------------
def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux: /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss() -> int:
    """Peak resident set size in bytes since the last reset (or since the start)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(ru if sys.platform == "darwin" else ru * 1024)


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def measured(fn: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run ``fn`` once: its result, wall time and memory (peak over the call, and baseline)."""
    gc.collect()
    reset = reset_peak_rss()
    baseline = rss()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = peak_rss()
    return out, {
        "wall_s": seconds,
        "rss_baseline": baseline,
        "rss_peak": peak,
        "rss_delta": peak - baseline,
        "peak_reset": reset,
    }


# -- workers (each measurement runs in a fresh interpreter) -------------------------------
def work_peer(spec: dict[str, Any]) -> dict[str, Any]:
    """SimPy or Ciw: build the model, run it, compute the statistics, all timed."""
    peer = spec["peer"]
    importlib.import_module(peer)  # imports are not timed
    run = PEERS[peer]

    def one() -> tuple[dict[str, float], Tally]:
        tally = run(
            spec["arrival_rate"],
            spec["aht"],
            spec["agents"],
            spec["patience"],
            spec["contacts"],
            spec["seed"],
        )
        return tally.statistics(spec["agents"]), tally

    (stats, tally), memory = measured(one)
    return {
        "calls": [
            {
                **memory,
                "contacts": tally.n_offered,
                "statistics": stats,
                "standard_errors": tally.standard_errors(),
                "notes": tally.notes,
            }
        ]
    }


def ours_statistics(result: Any) -> dict[str, float]:
    return {
        "service_level": float(result.service_level(THRESHOLD_S)),
        "asa": float(result.asa()),
        "abandon_rate": float(result.abandon_rate()),
        "occupancy": float(result.occupancy()),
    }


def ours_standard_errors(result: Any, batches: int) -> dict[str, float]:
    """Standard errors behind contactops' batch-means 95% intervals (``ci=True``)."""
    from scipy.stats import t

    quantile = float(t.ppf(0.975, batches - 1))
    intervals = {
        "service_level": result.service_level(THRESHOLD_S, ci=True),
        "asa": result.asa(ci=True),
        "abandon_rate": result.abandon_rate(ci=True),
    }
    return {
        name: (float(hi) - float(lo)) / 2.0 / quantile for name, (_, lo, hi) in intervals.items()
    }


def work_ours(spec: dict[str, Any]) -> dict[str, Any]:
    """contactops: the first call (numba compile or cache load) then ``warm`` warm calls."""
    from numba.core import event

    from contactops.simulate import simulate_queue  # imported before any clock starts

    source = source_fingerprint("contactops.simulate")  # the code this process runs

    def one() -> Any:
        result = simulate_queue(
            spec["arrival_rate"],
            spec["aht"],
            spec["agents"],
            patience=spec["patience"],
            n_contacts=spec["contacts"],
            seed=spec["seed"],
            service="exponential",
            warmup=0.0,
            batches=BATCHES,
        )
        return result, ours_statistics(result)

    calls = []
    for k in range(1 + spec["warm"]):
        # numba's event API: time spent compiling, and under the compiler lock (compiling
        # or loading compiled kernels from the disk cache), nested events counted once
        with (
            event.install_timer("numba:compile", _ignore) as compiling,
            event.install_timer("numba:compiler_lock", _ignore) as locked,
        ):
            (result, stats), memory = measured(one)
        calls.append(
            {
                **memory,
                "contacts": int(result.offered),
                "statistics": stats,
                "standard_errors": ours_standard_errors(result, BATCHES),
                "first": k == 0,
                "numba_compile_s": compiling.duration if compiling.done else 0.0,
                "numba_jit_s": locked.duration if locked.done else 0.0,
            }
        )
        del result
    return {"calls": calls, "source_sha256": source}


def _ignore(_: float) -> None:
    """install_timer's callback; the durations are read from the listeners."""


WORKERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "peer": work_peer,
    "ours": work_ours,
}


def worker_main(spec_json: str, out: Path) -> int:
    spec = json.loads(spec_json)
    out.write_text(json.dumps(WORKERS[spec["task"]](spec)))
    return 0


def run_in_fresh_process(spec: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one worker task in a new interpreter; its JSON result or an ``error``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            json.dumps(spec),
            "--worker-out",
            str(out),
        ]
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
        )
        if proc.returncode != 0 or not out.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            return {"error": f"exit code {proc.returncode}", "stderr_tail": tail}
        return dict(json.loads(out.read_text()))


# -- availability of our simulator ------------------------------------------------------
def ours_available() -> tuple[bool, str]:
    try:
        module = importlib.import_module("contactops.simulate")
    except ImportError as exc:
        return False, f"`contactops.simulate` cannot be imported ({exc})"
    if not hasattr(module, "simulate_queue"):
        return False, "`contactops.simulate` has no `simulate_queue`"
    return True, "available"


# -- the runs ---------------------------------------------------------------------------
def base_spec(scenario: Scenario, contacts: int, seed: int) -> dict[str, Any]:
    return {
        "arrival_rate": ARRIVAL_RATE,
        "aht": AHT_S,
        "agents": AGENTS,
        "patience": scenario.patience,
        "contacts": contacts,
        "seed": seed,
    }


@dataclass
class Plan:
    contacts: int
    peer_contacts: int
    seed: int
    repeats: int
    contenders: tuple[str, ...]


def jobs(plan: Plan) -> list[tuple[int, Scenario, str]]:
    """(round, scenario, contender) in run order: rounds interleave every contender."""
    return [
        (k, scenario, who)
        for k in range(plan.repeats)
        for scenario in SCENARIOS
        for who in CONTENDERS
        if who in plan.contenders
    ]


def run_all(plan: Plan) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every process run, by scenario and contender.

    Round 1 runs contactops with an empty numba cache directory, so its first
    call includes compiling the kernels; later rounds reuse that directory, so
    their first call loads the compiled kernels from disk.
    """
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        s.key: {who: [] for who in plan.contenders} for s in SCENARIOS
    }
    todo = jobs(plan)
    with (
        tempfile.TemporaryDirectory(prefix="bench-simulate-numba-") as cache,
        new_progress() as progress,
    ):
        task = progress.add_task("simulating", total=len(todo))
        for k, scenario, who in todo:
            n = plan.contacts if who == OURS else plan.peer_contacts
            progress.update(
                task,
                description=(
                    f"round {k + 1}/{plan.repeats}: {LABELS[who]}, {scenario.key}, {n:,} contacts"
                ),
            )
            spec = base_spec(scenario, n, plan.seed)
            if who == OURS:
                spec |= {"task": "ours", "warm": 2}
                out = run_in_fresh_process(spec, env={"NUMBA_CACHE_DIR": cache})
            else:
                spec |= {"task": "peer", "peer": who}
                out = run_in_fresh_process(spec)
            out["round"] = k + 1
            runs[scenario.key][who].append(out)
            progress.advance(task)
            if "error" in out:
                console.print(
                    f"[red]{LABELS[who]} {scenario.key} failed[/]: {out['error']}\n"
                    f"{out['stderr_tail']}"
                )
            else:
                call = min(out["calls"], key=lambda c: c["wall_s"])
                console.print(
                    f"round {k + 1}: {LABELS[who]:10} {scenario.key:12} "
                    f"{call['contacts']:>9,} contacts in {fmt_s(call['wall_s'])} "
                    f"({call['contacts'] / call['wall_s']:,.0f}/s), SL "
                    f"{call['statistics']['service_level']:.4f}"
                )
    return runs


def new_progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


# -- summaries --------------------------------------------------------------------------
def analytic(scenario: Scenario) -> dict[str, float]:
    from contactops.queueing import ErlangA, ErlangC

    model = (
        ErlangC(ARRIVAL_RATE, AHT_S)
        if scenario.patience is None
        else ErlangA(ARRIVAL_RATE, AHT_S, scenario.patience)
    )
    m = model.metrics(AGENTS, THRESHOLD_S)
    return {name: float(getattr(m, name)) for name in STATISTICS}


def accuracy(
    stats: dict[str, float], exact: dict[str, float], se: dict[str, float] | None
) -> dict[str, Any]:
    """Errors against the analytic values, in absolute terms and in standard errors."""
    out: dict[str, Any] = {}
    for name in STATISTICS:
        err = stats[name] - exact[name]
        s = (se or {}).get(name, math.nan)
        z = err / s if s and math.isfinite(s) and s > 0 else (0.0 if err == 0 else math.nan)
        out[name] = {
            "simulated": stats[name],
            "analytic": exact[name],
            "error": err,
            "abs_error": abs(err),
            "standard_error": s,
            "z": z,
        }
    checked = [out[n]["z"] for n in SE_STATISTICS if math.isfinite(out[n]["z"])]
    out["within_z"] = (
        bool(all(abs(z) <= ACCURACY_Z for z in checked))
        if len(checked) == len(SE_STATISTICS)
        else None
    )
    return out


def scale_se(se: dict[str, float], from_n: int, to_n: int) -> dict[str, float]:
    """Standard errors at ``to_n`` contacts from ones measured at ``from_n`` (1/sqrt(n))."""
    return {k: v * math.sqrt(from_n / to_n) for k, v in se.items()}


def same_source(
    good: list[dict[str, Any]], final_sha: str | None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """contactops runs of one version of its sources: the final one (or the last run's).

    Another developer may edit ``contactops.simulate`` during a run; mixing the
    versions would time different code, so only one version's runs count.
    """
    shas = [r.get("source_sha256") for r in good]
    if len(set(shas)) <= 1:
        return good, None
    use = final_sha if final_sha in shas else shas[-1]
    keep = [r for r in good if r.get("source_sha256") == use]
    return keep, {
        "per_round": [{"round": r["round"], "sha256": r.get("source_sha256")} for r in good],
        "used": use,
        "runs_used": len(keep),
        "runs": len(good),
    }


def summarize(
    scenario: Scenario, by_who: dict[str, list[dict[str, Any]]], final_sha: str | None = None
) -> dict[str, Any]:
    exact = analytic(scenario)
    rows: dict[str, Any] = {}
    for who, runs in by_who.items():
        good = [r for r in runs if "error" not in r]
        changed, every_version = None, good
        if who == OURS:
            good, changed = same_source(good, final_sha)
        if not good:
            rows[who] = {
                "error": runs[0]["error"] if runs else "not run",
                "stderr_tail": runs[0].get("stderr_tail", "") if runs else "",
            }
            continue
        if who == OURS:
            warm = [c for r in good for c in r["calls"] if not c["first"]]
            # numba's compile events tell a first call that compiled from one that loaded
            # every kernel from the disk cache
            firsts = [c for r in good for c in r["calls"] if c["first"]]
            compiled = [c for c in firsts if c["numba_compile_s"] > 0]
            loaded = [c for c in firsts if c["numba_compile_s"] == 0]
            compile_sha = None
            if not compiled:  # this version's kernels came from an earlier version's cache
                old = [
                    (r, c)
                    for r in every_version
                    for c in r["calls"]
                    if c["first"] and c["numba_compile_s"] > 0
                ]
                compiled = [c for _, c in old]
                compile_sha = old[0][0].get("source_sha256") if old else None
            first_compile = min(compiled, key=lambda c: c["wall_s"], default=None)
            best = min(warm or firsts, key=lambda c: c["wall_s"])
            row = {
                "first_call_compile_s": first_compile["wall_s"] if first_compile else None,
                "numba_compile_s": first_compile["numba_compile_s"] if first_compile else None,
                "compile_measured_on_sha256": compile_sha,
                "first_call_cache_load_s": min((c["wall_s"] for c in loaded), default=None),
                "warm_calls_s": [c["wall_s"] for c in warm],
                "warm_calls_compiling": sum(1 for c in warm if c["numba_compile_s"] > 0),
            }
        else:
            calls = [c for r in good for c in r["calls"]]
            best = min(calls, key=lambda c: c["wall_s"])
            row = {"runs_s": [c["wall_s"] for c in calls], "notes": best["notes"]}
        # memory of the timed calls: contactops' warm calls (its first call also compiles)
        timed_calls = [c for r in good for c in r["calls"] if not c.get("first")] or [best]
        row |= {
            "contacts": best["contacts"],
            "wall_s": best["wall_s"],
            "contacts_per_s": best["contacts"] / best["wall_s"],
            "rss_peak": max(c["rss_peak"] for c in timed_calls),
            "rss_baseline": min(c["rss_baseline"] for c in timed_calls),
            "rss_delta": max(c["rss_delta"] for c in timed_calls),
            "statistics": best["statistics"],
            "standard_errors": best["standard_errors"],
            "peak_reset": all(c["peak_reset"] for c in timed_calls),
        }
        row["sources_changed"] = changed
        row["failed_runs"] = [
            {"round": r["round"], "error": r["error"], "stderr_tail": r.get("stderr_tail", "")}
            for r in runs
            if "error" in r
        ]
        rows[who] = row
    # contactops reports no per-batch counts: borrow the batch-means standard errors of
    # a peer (same model, same number of contacts up to the 1/sqrt(n) scaling)
    ours = rows.get(OURS)
    if ours and "error" not in ours and not ours["standard_errors"]:
        donor = next((w for w in ("simpy", "ciw") if w in rows and "error" not in rows[w]), None)
        if donor:
            ours["standard_errors"] = scale_se(
                rows[donor]["standard_errors"], rows[donor]["contacts"], ours["contacts"]
            )
            ours["standard_errors_from"] = donor
    for row in rows.values():
        if "error" not in row:
            row["accuracy"] = accuracy(row["statistics"], exact, row["standard_errors"])
    return {
        "title": scenario.title,
        "patience_s": scenario.patience,
        "analytic_model": scenario.analytic_model,
        "analytic": exact,
        "contenders": rows,
        "ratios": ratios(rows),
    }


def ratios(rows: dict[str, Any]) -> dict[str, Any]:
    """contactops' throughput over each peer's (= time ratio when the contact counts match)."""
    ours = rows.get(OURS)
    out: dict[str, Any] = {}
    if not ours or "error" in ours:
        return out
    for peer, goal in GOALS.items():
        theirs = rows.get(peer)
        if not theirs or "error" in theirs:
            continue
        ratio = ours["contacts_per_s"] / theirs["contacts_per_s"]
        first = ours["first_call_compile_s"]
        out[peer] = {
            "ratio": ratio,
            "goal": goal,
            "met": bool(ratio >= goal),
            "extrapolated": theirs["contacts"] != ours["contacts"],
            "ratio_first_call": (
                ours["contacts"] / first / theirs["contacts_per_s"] if first else None
            ),
        }
    return out


# -- machine ----------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    return {
        **base_machine(
            {"contactops_simulate_sha256": "contactops.simulate"}, ("simpy", "ciw", "psutil")
        ),
        "peers_simulate_sha256": hashlib.sha256(
            (HERE / "peers_simulate.py").read_bytes()
        ).hexdigest()[:12],
    }


# -- multi-skill section ----------------------------------------------------------------
def work_multiskill(spec: dict[str, Any]) -> dict[str, Any]:
    """contactops.simulate on the multi-skill center: first call, then warm calls."""
    sys.path.insert(0, str(HERE))
    from contactops.simulate import simulate
    from multiskill_center import multiskill_center

    center = multiskill_center(spec["contacts"], days=spec["days"])
    calls = []
    for k in range(1 + spec["warm"]):

        def one() -> Any:
            res = simulate(
                center,
                days=spec["days"],
                seed=spec["seed"],
                replications=spec["replications"],
                contacts=spec["records"],
            )
            log = res.contacts if spec["records"] else None  # the Arrow log is timed too
            return res, log

        (result, log), memory = measured(one)
        rows = result.queue_summary().to_pylist()
        groups = result.group_summary().to_pylist()
        calls.append(
            {
                **memory,
                "first": k == 0,
                "events": result.n_events,
                "legs": sum(r["arrived"] for r in rows) * spec["replications"],
                "fresh_contacts_expected": spec["contacts"] * spec["replications"],
                "contact_log_rows": log.num_rows if log is not None else 0,
                "service_level_min": min(r["service_level"] for r in rows),
                "service_level_max": max(r["service_level"] for r in rows),
                "abandon_rate_max": max(r["abandon_rate"] for r in rows),
                "occupancy_mean": sum(g["occupancy"] for g in groups) / len(groups),
                "escalated": sum(r["escalated"] for r in rows),
                "deflected": sum(r["deflected"] for r in rows),
                "transferred": sum(r["transferred"] for r in rows),
            }
        )
        del result, log
    return {"calls": calls, "source_sha256": source_fingerprint("contactops.simulate")}


WORKERS["multiskill"] = work_multiskill

MULTISKILL_VARIANTS = (
    ("summaries only, 1 replication", 1, False),
    ("with the full contact log (Arrow)", 1, True),
    ("2 replications on 2 threads", 2, False),
)


def bench_multiskill(args: argparse.Namespace) -> dict[str, Any] | None:
    """The 20-queue, 500-agent center (benchmarks/multiskill_center.py), timed.

    Each variant runs in a fresh process: one first call (numba compile or
    cache load), then ``args.repeats`` warm calls; the best warm call counts.
    """
    available, _reason = ours_available()
    if not available or OURS not in args.peers:
        return None
    days = 8
    out: dict[str, Any] = {"contacts": args.contacts, "days": days, "variants": {}}
    with new_progress() as bar:
        task = bar.add_task("multi-skill center", total=len(MULTISKILL_VARIANTS))
        for label, reps, records in MULTISKILL_VARIANTS:
            spec = {
                "task": "multiskill",
                "contacts": args.contacts,
                "days": days,
                "seed": args.seed,
                "replications": reps,
                "records": records,
                "warm": args.repeats,
            }
            out["variants"][label] = run_in_fresh_process(spec)
            bar.advance(task)
    return out


def multiskill_md(section: dict[str, Any]) -> list[str]:
    """Markdown for ``bench_multiskill``'s result."""
    lines = [
        "## Multi-skill center",
        "",
        (
            "20 queues (10 departments x standard and gold segment, gold with priority), 500 "
            "agents in 10 groups of 50 (own department first, next department as a second "
            "skill), bots in front of 5 departments (40% of contacts, escalation below 0.85 "
            "confidence), 5% transfers to the next department, 30% redials, log-normal handle "
            f"times; about {section['contacts']:,} fresh contacts over {section['days']} days "
            "(`benchmarks/multiskill_center.py`). No peer runs this model, so only our time is "
            "recorded."
        ),
        "",
        (
            "| variant | legs simulated | events | first call | best warm call | legs/s | "
            "peak memory (above start) | service level (queues) | occupancy |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, res in section["variants"].items():
        if "error" in res:
            lines.append(f"| {label} | error: {res['error']} | | | | | | | |")
            continue
        calls = res["calls"]
        first = calls[0]
        warm = min((c for c in calls if not c["first"]), key=lambda c: c["wall_s"], default=first)
        lines.append(
            f"| {label} | {warm['legs']:,.0f} | {warm['events']:,} | {fmt_s(first['wall_s'])} "
            f"| {fmt_s(warm['wall_s'])} | {warm['legs'] / warm['wall_s']:,.0f} | "
            f"{fmt_mb(warm['rss_delta'])} | {100 * warm['service_level_min']:.1f}-"
            f"{100 * warm['service_level_max']:.1f}% | {100 * warm['occupancy_mean']:.1f}% |"
        )
    lines.append("")
    return lines


SECTIONS: dict[
    str,
    tuple[
        Callable[[argparse.Namespace], dict[str, Any] | None], Callable[[dict[str, Any]], list[str]]
    ],
] = {
    "multiskill": (bench_multiskill, multiskill_md),
}


# -- report -----------------------------------------------------------------------------
def fmt_mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


def fmt_stat(name: str, value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if name == "asa":
        return f"{value:.2f} s"
    return f"{value:.4f}"


def _machine_md(r: dict[str, Any]) -> list[str]:
    m = r["machine"]
    sha = m["contactops_simulate_sha256"]
    start = m.get("contactops_simulate_sha256_start")
    changed = (
        [
            (
                f"- **`contactops.simulate` sources changed during the run**: sha256 "
                f"`{start}` at the start, `{sha}` at the end."
            )
        ]
        if start and start != sha
        else []
    )
    return [
        "## Machine",
        "",
        f"- nproc: {m['nproc']} ({m['cpu']}); numba threads: {m['numba_threads']}",
        f"- {m['platform']}",
        (
            f"- load average (1, 5, 15 min) before the run: "
            f"{', '.join(f'{x:.2f}' for x in m['loadavg_before'])}; after: "
            f"{', '.join(f'{x:.2f}' for x in m['loadavg_after'])}"
        ),
        (
            f"- Python {m['python']}, NumPy {m['numpy']}, numba {m['numba']}, "
            f"contactops {m['contactops']} (sources of `contactops.simulate`: "
            + (f"sha256 `{sha}`" if sha else "not present")
            + f"), SimPy {m['simpy']}, "
            f"Ciw {m['ciw']}, psutil {m['psutil']}; `benchmarks/peers_simulate.py` sha256 "
            f"`{m['peers_simulate_sha256']}`"
        ),
        *changed,
        "",
    ]


def _method_md(r: dict[str, Any]) -> list[str]:
    w = r["workload"]
    peers_n = w["peer_contacts"]
    extrapolated = (
        [
            (
                f"- **SimPy and Ciw ran on {peers_n:,} contacts, contactops on "
                f"{w['contacts']:,}**: the ratios compare contacts per second, i.e. they "
                "extrapolate the peers' per-contact throughput to the full run "
                "(*extrapolated* in the tables)."
            )
        ]
        if peers_n != w["contacts"]
        else []
    )
    return [
        "## Model and method",
        "",
        (
            f"- M/M/{AGENTS}: Poisson arrivals at {ARRIVAL_RATE:g} a second ({LOAD_ERLANGS:g} "
            f"Erlangs), {AGENTS} agents, first come first served, exponential handle time "
            f"(mean {AHT_S:g} s); the second scenario adds exponential patience (mean "
            f"{PATIENCE_S:g} s).  {w['contacts']:,} contacts, seed {w['seed']}."
        ),
        *extrapolated,
        (
            f"- Statistics over every offered contact, from an empty, idle system; no "
            f"warm-up is discarded by any contender.  Service level: answered within "
            f"{THRESHOLD_S:g} s over offered; ASA: mean wait of answered contacts; abandon "
            "rate: abandoned over offered; occupancy: handle time of answered contacts over "
            "agents x time of the last arrival (contactops: its `occupancy()`)."
        ),
        (
            f"- Accuracy: the error against the analytic Erlang C / Erlang A value, and that "
            f"error in batch-means standard errors (z; {BATCHES} batches of contacts in "
            f"arrival order).  A contender is *accurate* when service level, ASA and abandon "
            f"rate are all within {ACCURACY_Z:g} standard errors.  contactops computes its "
            f"own batch-means 95% intervals ({BATCHES} consecutive batches of equal "
            "simulated time, `ci=True`); its standard error is the half-width over "
            f"Student's t(0.975, {BATCHES - 1})."
        ),
        (
            "- SimPy: a `Resource` with capacity 50 and one generator process per contact; "
            "patience is `yield request | env.timeout(patience)`, drawn only for contacts "
            "that must wait (a contact answered on arrival needs no timer; exponential "
            "patience is memoryless, so the model is unchanged).  The arrival process stops "
            "after the last contact and the run continues until every contact has left; "
            "statistics are accumulated as the contacts leave."
        ),
        (
            "- Ciw: `create_network` with `Exponential` arrival and service distributions, "
            "`number_of_servers=[50]` and, with patience, `reneging_time_distributions=["
            "Exponential(1/120)]`; run with `simulate_until_max_customers(n, "
            "method='Finish')` (stop when n contacts have left, answered or abandoned) and "
            "summarized from `get_all_records()`.  The few dozen contacts still in the "
            "system at the stop have no record and are not counted."
        ),
        (
            "- contactops: `simulate_queue(arrival_rate, aht, agents, patience=..., "
            f"n_contacts=..., seed=..., service='exponential', warmup=0.0, "
            f"batches={BATCHES})`, then its `service_level(20)`, `asa()`, `abandon_rate()` "
            "and `occupancy()` (busy agent time over agent time).  `warmup=0.0` matches the "
            "peers (its default is a 20-AHT warm-up); one replication, so one thread."
        ),
        (
            f"- Each measurement runs in a fresh Python process.  Wall time excludes "
            f"interpreter start and imports; it covers building the model, running it and "
            f"computing the four statistics.  {r['repeats']} round(s); each round runs every "
            "contender once per scenario, in turn, and the best time counts (every run is "
            "in the JSON).  contactops makes three calls per process, all on the full "
            "contact count: the first includes compiling its numba kernels (the processes "
            "share a `NUMBA_CACHE_DIR` that starts empty, so round 1 compiles and later "
            "rounds load the kernels from that disk cache, if they are cached); the best of "
            "the other two (warm calls) is the time used in the ratios.  numba's event API "
            "(`numba:compile`) tells which first calls compiled."
        ),
        (
            "- Memory: the peak resident set size during the timed call (the kernel's peak "
            "mark is reset just before it, via `/proc/self/clear_refs`), and that peak "
            "minus the resident size just before the call (the interpreter with its "
            "imports and, for contactops, the compiled kernels): the delta is what the "
            "simulation itself needed."
        ),
        "",
    ]


def _scenario_md(r: dict[str, Any], key: str) -> list[str]:
    s = r["scenarios"][key]
    rows, exact = s["contenders"], s["analytic"]
    lines = [f"## {s['title'][0].upper()}{s['title'][1:]}", ""]
    lines += [
        "| contender | contacts | wall time | contacts/s | peak RSS | peak - baseline |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for who in CONTENDERS:
        row = rows.get(who)
        if row is None:
            continue
        if "error" in row:
            lines.append(f"| {LABELS[who]} | not run: {row['error']} | | | | |")
            continue
        extra = " (warm call)" if who == OURS else ""
        lines.append(
            f"| {LABELS[who]}{extra} | {row['contacts']:,} | {fmt_s(row['wall_s'])} | "
            f"{row['contacts_per_s']:,.0f} | {fmt_mb(row['rss_peak'])} | "
            f"{fmt_mb(row['rss_delta'])} |"
        )
    failed = [
        f"{LABELS[w]} failed in round(s) "
        + ", ".join(str(f["round"]) for f in rows[w]["failed_runs"])
        for w in CONTENDERS
        if w in rows and rows[w].get("failed_runs")
    ]
    if failed:
        lines += ["", "Failed runs (their error is in the JSON): " + "; ".join(failed) + "."]
    ours = rows.get(OURS)
    if ours and ours.get("sources_changed"):
        ch = ours["sources_changed"]
        per = ", ".join(f"round {x['round']} `{x['sha256']}`" for x in ch["per_round"])
        lines += [
            "",
            (
                f"**Warning: `contactops.simulate` changed during this run** ({per}): "
                f"only the {ch['runs_used']} run(s) of version `{ch['used']}` count "
                "here.  Rerun on a tree nobody is editing for a clean result."
            ),
        ]
    if ours and "error" not in ours:
        firsts = []
        if ours["first_call_compile_s"] is not None:
            firsts.append(
                f"first call with numba compile {fmt_s(ours['first_call_compile_s'])}"
                f" (of which compiling {fmt_s(ours['numba_compile_s'])}"
                + (
                    f"; measured on the earlier version `{ours['compile_measured_on_sha256']}`"
                    if ours["compile_measured_on_sha256"]
                    else ""
                )
                + ")"
            )
        if ours["first_call_cache_load_s"] is not None:
            firsts.append(
                "first call with kernels loaded from numba's disk cache "
                f"{fmt_s(ours['first_call_cache_load_s'])}"
            )
        lines += ["", f"contactops, same {ours['contacts']:,} contacts: " + "; ".join(firsts) + "."]
        if ours["warm_calls_compiling"]:
            lines[-1] += (
                f"  Warning: {ours['warm_calls_compiling']} warm call(s) compiled "
                "kernels (a new type signature on a later call)."
            )
    lines.append("")
    for peer, rat in s["ratios"].items():
        verdict = "met" if rat["met"] else "**not met**"
        how = " (extrapolated: peers ran fewer contacts)" if rat["extrapolated"] else ""
        first = (
            f"  Counting the first call with compile: {rat['ratio_first_call']:.3g}x."
            if rat["ratio_first_call"]
            else ""
        )
        lines.append(
            f"- contactops vs {LABELS[peer]}: **{rat['ratio']:.1f}x** faster{how} "
            f"(goal: at least {rat['goal']:g}x): {verdict}.{first}"
        )
    if not s["ratios"]:
        lines.append("- Ratios: not measured (contactops or the peers did not run).")
    lines += [
        "",
        (
            f"Accuracy against {s['analytic_model']} (analytic values first; error = "
            "simulated - analytic, z = error / standard error):"
        ),
        "",
        "| | service level | ASA | abandon rate | occupancy | accurate |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        (
            f"| {s['analytic_model']} (analytic) | "
            + " | ".join(fmt_stat(n, exact[n]) for n in STATISTICS)
            + " | |"
        ),
    ]
    for who in CONTENDERS:
        row = rows.get(who)
        if row is None or "error" in row:
            continue
        acc = row["accuracy"]
        cells = []
        for n in STATISTICS:
            a = acc[n]
            z = f", z {a['z']:+.1f}" if n in SE_STATISTICS and math.isfinite(a["z"]) else ""
            err = f"{a['error']:+.2f} s" if n == "asa" else f"{a['error']:+.4f}"
            cells.append(f"{fmt_stat(n, a['simulated'])} ({err}{z})")
        ok = {True: "yes", False: "**no**", None: "n/a"}[acc["within_z"]]
        lines.append(f"| {LABELS[who]} | " + " | ".join(cells) + f" | {ok} |")
    ses = [
        (
            f"- {LABELS[who]} standard errors (service level, ASA, abandon rate): "
            + ", ".join(f"{rows[who]['standard_errors'][n]:.4g}" for n in SE_STATISTICS)
            + (
                f" (from {LABELS[rows[who]['standard_errors_from']]}, scaled)"
                if rows[who].get("standard_errors_from")
                else ""
            )
            + "."
        )
        for who in CONTENDERS
        if who in rows and "error" not in rows[who] and rows[who]["standard_errors"]
    ]
    lines += ["", *ses, ""]
    return lines


def _goals_md(r: dict[str, Any]) -> list[str]:
    lines = ["## Goals", ""]
    if not r["ours_available"]:
        return [
            *lines,
            (f"- Not measured: {r['ours_reason']}.  This run times and checks the peers only."),
            "",
        ]
    for key in (s.key for s in SCENARIOS):
        s = r["scenarios"][key]
        for peer, rat in s["ratios"].items():
            verdict = "met" if rat["met"] else "**not met**"
            lines.append(
                f"- {s['title']}: {rat['ratio']:.1f}x {LABELS[peer]} "
                f"(goal {rat['goal']:g}x): {verdict}."
            )
        ours = s["contenders"].get(OURS, {})
        if "error" in ours:
            lines.append(f"- {s['title']}: contactops failed ({ours['error']}); not measured.")
        if "accuracy" in ours:
            peers_ok = [
                (p, s["contenders"][p]["accuracy"]["within_z"])
                for p in GOALS
                if "accuracy" in s["contenders"].get(p, {})
            ]
            verdict = {True: "yes", False: "**no**", None: "n/a"}[ours["accuracy"]["within_z"]]
            peers_txt = ", ".join(
                f"{LABELS[p]} {'yes' if ok else 'no' if ok is False else 'n/a'}"
                for p, ok in peers_ok
            )
            lines.append(
                f"- {s['title']}: contactops within {ACCURACY_Z:g} standard errors "
                f"of {s['analytic_model']}: {verdict}"
                + (f" (peers: {peers_txt})." if peers_txt else ".")
            )
    return [*lines, ""]


def markdown(r: dict[str, Any]) -> str:
    mode = " in **quick mode (a smoke test, not the benchmark)**" if r["quick"] else ""
    m = r["machine"]
    lines = [
        f"# Simulation: contactops vs SimPy {m['simpy']} and Ciw {m['ciw']}",
        "",
        f"Generated by `benchmarks/bench_simulate.py` on {r['date']}{mode}.",
        "",
    ]
    if not r["ours_available"]:
        lines += [f"**contactops was not run**: {r['ours_reason']}.", ""]
    lines += [*_machine_md(r), *_method_md(r), *_goals_md(r)]
    for s in SCENARIOS:
        lines += _scenario_md(r, s.key)
    for name, (_, render) in SECTIONS.items():
        if r["sections"].get(name) is not None:
            lines += render(r["sections"][name])
    lines += ["## Reproduce", "", "```sh", "pip install -e '.[bench]'", r["command"], "```", ""]
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--contacts", type=int, default=None, help=f"contacts per run (default {CONTACTS:,})"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_CONTACTS:,} contacts, a smoke test (results *-quick.*)",
    )
    parser.add_argument(
        "--peer-contacts",
        type=int,
        default=None,
        help="contacts for SimPy and Ciw (default: --contacts); the ratios "
        "then compare throughput (extrapolated)",
    )
    parser.add_argument(
        "--peers",
        default=",".join(CONTENDERS),
        help="comma-separated contenders among " + ", ".join(CONTENDERS),
    )
    parser.add_argument("--seed", type=int, default=SEED, help="simulation seed")
    parser.add_argument(
        "--repeats",
        type=int,
        default=REPEATS,
        help="rounds (each runs every contender once per scenario)",
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    if args.contacts is None:
        args.contacts = QUICK_CONTACTS if args.quick else CONTACTS
    if args.peer_contacts is None:
        args.peer_contacts = args.contacts
    peers = tuple(p.strip().lower() for p in args.peers.split(",") if p.strip())
    unknown = sorted(set(peers) - set(CONTENDERS))
    if unknown:
        parser.error(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}")
    args.peers = peers
    if min(args.contacts, args.peer_contacts) < BATCHES or args.repeats < 1:
        parser.error(
            f"--contacts and --peer-contacts need at least {BATCHES}, --repeats at least 1"
        )
    return args


def command_line(args: argparse.Namespace) -> str:
    parts = ["python benchmarks/bench_simulate.py"]
    if args.quick:
        parts.append("--quick")
    if args.contacts != (QUICK_CONTACTS if args.quick else CONTACTS):
        parts.append(f"--contacts {args.contacts}")
    if args.peer_contacts != args.contacts:
        parts.append(f"--peer-contacts {args.peer_contacts}")
    if args.peers != CONTENDERS:
        parts.append(f"--peers {','.join(args.peers)}")
    if args.seed != SEED:
        parts.append(f"--seed {args.seed}")
    if args.repeats != REPEATS:
        parts.append(f"--repeats {args.repeats}")
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.worker_out)

    available, reason = ours_available()
    contenders = args.peers
    if OURS in contenders and not available:
        console.print(
            f"[yellow]skipping contactops[/]: {reason} (the simulator is not in "
            "this checkout yet); timing the peers only"
        )
        contenders = tuple(c for c in contenders if c != OURS)
    plan = Plan(args.contacts, args.peer_contacts, args.seed, args.repeats, contenders)
    console.print(
        f"[bold]M/M/{AGENTS}[/], {LOAD_ERLANGS:g} Erlangs, AHT {AHT_S:g} s: "
        f"{args.contacts:,} contacts"
        + (
            f" ({args.peer_contacts:,} for the peers)"
            if args.peer_contacts != args.contacts
            else ""
        )
        + f", {args.repeats} round(s): {', '.join(LABELS[c] for c in contenders)}"
    )
    load_before = os.getloadavg()
    sha_start = source_fingerprint("contactops.simulate")
    runs = run_all(plan)
    sha_end = source_fingerprint("contactops.simulate")
    if sha_start != sha_end:
        console.print(
            f"[red]contactops.simulate changed during the run[/] ({sha_start} -> "
            f"{sha_end}): only the runs of one version count; rerun for a clean "
            "result"
        )
    scenarios = {
        s.key: summarize(s, {w: runs[s.key][w] for w in contenders}, sha_end) for s in SCENARIOS
    }
    sections = {name: run(args) for name, (run, _) in SECTIONS.items()}
    for key, s in scenarios.items():
        for peer, rat in s["ratios"].items():
            console.print(
                f"{key}: contactops {rat['ratio']:.1f}x {LABELS[peer]} "
                f"(goal {rat['goal']:g}x: {'met' if rat['met'] else 'NOT met'})"
            )

    result: dict[str, Any] = {
        "benchmark": "simulate",
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "command": command_line(args),
        "argv": shlex.join(sys.argv),
        "repeats": args.repeats,
        "ours_available": available,
        "ours_reason": reason,
        "machine": {
            **machine(),
            "contactops_simulate_sha256_start": sha_start,
            "loadavg_before": list(load_before),
            "loadavg_after": list(os.getloadavg()),
        },
        "workload": {
            "agents": AGENTS,
            "aht_s": AHT_S,
            "load_erlangs": LOAD_ERLANGS,
            "arrival_rate_per_s": ARRIVAL_RATE,
            "patience_s": PATIENCE_S,
            "threshold_s": THRESHOLD_S,
            "contacts": args.contacts,
            "peer_contacts": args.peer_contacts,
            "seed": args.seed,
            "batches": BATCHES,
            "warm_up": "none: every offered contact counts, from an empty system",
        },
        "goals": {"speedup": GOALS, "accuracy_z": ACCURACY_Z},
        "scenarios": scenarios,
        "sections": sections,
        "runs": runs,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = "simulate-quick" if args.quick else "simulate"
    (args.out_dir / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out_dir / f"{stem}.md").write_text(markdown(result))
    console.print(f"wrote {args.out_dir / stem}.md and .json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
