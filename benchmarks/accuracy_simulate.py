"""Is the simulator unbiased?  Many seeds of M/M/50 and M/M/50+M at 1M contacts.

One run's confidence interval says how far one estimate may stray; this asks
whether the estimates are centred on the analytic value: the mean over
``--seeds`` independent runs is compared with Erlang C / Erlang A in standard
errors of that mean (|z| < 3 expected).  Writes
``benchmarks/results/simulate-accuracy.md``.

    python benchmarks/accuracy_simulate.py            # 30 seeds x 1M contacts, ~1 minute
    python benchmarks/accuracy_simulate.py --seeds 5 --contacts 100000
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
from rich.progress import Progress

from contactops.queueing import ErlangA, ErlangC
from contactops.simulate import simulate_queue

RATE, AHT, AGENTS, PATIENCE, THRESHOLD = 45 / 300, 300.0, 50, 120.0, 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    cases = [
        ("M/M/50 vs Erlang C", None, ErlangC(RATE, AHT)),
        ("M/M/50+M vs Erlang A", PATIENCE, ErlangA(RATE, AHT, PATIENCE)),
    ]
    lines = [
        "# Simulator accuracy over many seeds",
        "",
        (
            f"{args.seeds} independent runs of {args.contacts:,} contacts each"
            f" (seeds 1..{args.seeds}), 45 Erlangs on 50 agents, mean handle {AHT:.0f} s,"
            f" threshold {THRESHOLD} s; patience exponential, mean 120 s, in the second case."
            " z is the mean over the runs minus the analytic value, in standard errors of"
            " that mean."
        ),
        "",
        (
            f"Machine: {platform.machine()}, Python {platform.python_version()}. "
            f"Command: `python benchmarks/accuracy_simulate.py --seeds {args.seeds} "
            f"--contacts {args.contacts}`."
        ),
        "",
    ]
    t0 = time.perf_counter()
    with Progress() as bar:
        for title, patience, model in cases:
            task = bar.add_task(title, total=args.seeds)
            values: dict[str, list[float]] = {
                "service level": [],
                "ASA (s)": [],
                "abandon rate": [],
                "occupancy": [],
                "AHT (s)": [],
            }
            for seed in range(1, args.seeds + 1):
                sim = simulate_queue(
                    RATE, AHT, AGENTS, patience=patience, n_contacts=args.contacts, seed=seed
                )
                values["service level"].append(float(sim.service_level(THRESHOLD)))
                values["ASA (s)"].append(float(sim.asa()))
                values["abandon rate"].append(float(sim.abandon_rate()))
                values["occupancy"].append(float(sim.occupancy()))
                values["AHT (s)"].append(float(sim.aht()))
                bar.advance(task)
            m = model.metrics(AGENTS, THRESHOLD)
            truth = {
                "service level": m.service_level,
                "ASA (s)": m.asa,
                "abandon rate": m.abandon_rate,
                "occupancy": m.occupancy,
                "AHT (s)": AHT,
            }
            lines += [
                f"## {title}",
                "",
                "| metric | analytic | mean of runs | std. error | z |",
                "|---|---:|---:|---:|---:|",
            ]
            for name, xs in values.items():
                x = np.asarray(xs)
                se = x.std(ddof=1) / np.sqrt(x.size)
                true = float(truth[name])
                z = f"{(x.mean() - true) / se:+.2f}" if se > 0 else "exact"
                lines.append(f"| {name} | {true:.5f} | {x.mean():.5f} | {se:.5f} | {z} |")
            lines.append("")
    lines.append(f"Total time {time.perf_counter() - t0:.1f} s.")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / "simulate-accuracy.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
