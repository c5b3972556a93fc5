"""Load test of the case service on loopback: reading the board and updating cases.

Starts ``uvicorn`` (one worker, the service as ``contactops serve`` runs it) in a
child process on 127.0.0.1 against a fresh database, seeds the demo departments
and ``--cases`` open cases, then for each scenario runs ``--clients`` threads
with keep-alive connections for ``--seconds`` (bounded in time and count) and
records requests per second, latency percentiles and errors (anything but 2xx).

    python benchmarks/bench_service.py                       # SQLite, writes results
    python benchmarks/bench_service.py --database-url postgresql+psycopg://postgres@127.0.0.1/test

Results: benchmarks/results/service.md and service.json (one section per database).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MAX_REQUESTS_PER_CLIENT = 200_000  # a second bound besides the time


@dataclass
class Scenario:
    name: str
    requests: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(q: float) -> float:
            return 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")

        return {
            "scenario": self.name,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(pct(0.50), 2),
            "p90_ms": round(pct(0.90), 2),
            "p99_ms": round(pct(0.99), 2),
            "max_ms": round(1000 * lat[-1], 2) if lat else 0,
            "error_samples": self.error_samples[:3],
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(database_url: str, n_cases: int) -> dict[str, str]:
    """Migrate, seed departments, users and open cases; return tokens."""
    from sqlalchemy import select

    from contactops.service import Settings, create_app, create_user, issue_token, seed_demo
    from contactops.service._models import User

    app = create_app(Settings(database_url=database_url, tick_seconds=0))
    ctx = app.state.context
    with ctx.sessions() as s:
        seed_demo(s, "bench-password")
        root = create_user(s, "root", "bench-password", superuser=True)
        s.flush()
        tokens = {"root": issue_token(s, root, 1)[0]}
        for name in ("support-agent", "billing-agent"):
            user = s.scalar(select(User).where(User.username == name))
            tokens[name] = issue_token(s, user, 1)[0]
        s.commit()
    from datetime import UTC, datetime

    departments = ["sales", "support", "billing", "fulfilment"]
    with ctx.sessions() as s:
        for i in range(n_cases):
            ctx.store.create(
                s,
                "bench",
                datetime.now(UTC),
                title=f"case {i}",
                department=departments[i % 4],
                impact=str(1 + i % 3),
                urgency=str(1 + (i // 3) % 3),
            )
            if i % 100 == 99:
                s.commit()
        s.commit()
    app.state.engine.dispose()
    return tokens


def run_scenario(name: str, port: int, clients: int, seconds: float, request: Any) -> Scenario:
    result = Scenario(name)
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local: list[float] = []
        errors: list[str] = []
        barrier.wait()
        n = 0
        while time.perf_counter() < stop_at and n < MAX_REQUESTS_PER_CLIENT:
            method, path, body, headers = request(index, n)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                status, payload = 0, str(exc).encode()
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            local.append(time.perf_counter() - t0)
            if not 200 <= status < 300:
                errors.append(f"{status} {method} {path}: {payload[:120]!r}")
            n += 1
        conn.close()
        with lock:
            result.latencies += local
            result.requests += len(local)
            result.errors += len(errors)
            result.error_samples += errors[:3]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=seconds + 120)
    result.seconds = time.perf_counter() - t0
    return result


def bench(
    database_url: str, label: str, n_cases: int, clients: int, seconds: float
) -> dict[str, Any]:
    tokens = prepare(database_url, n_cases)
    port = free_port()
    env = {**os.environ, "CONTACTOPS_DATABASE_URL": database_url, "CONTACTOPS_TICK_SECONDS": "30"}
    code = (
        "import uvicorn; from contactops.service import create_app; "
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning', "
        "access_log=False, ws='none')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.2)
        root = {"Authorization": f"Bearer {tokens['root']}"}
        agent = {
            "Authorization": f"Bearer {tokens['support-agent']}",
            "Content-Type": "application/json",
        }
        support_ids = [i for i in range(1, n_cases + 1) if (i - 1) % 4 == 1]

        def read_board(_i: int, _n: int) -> tuple[str, str, None, dict[str, str]]:
            return "GET", "/api/v1/board", None, root

        agent_read = {"Authorization": f"Bearer {tokens['support-agent']}"}

        def read_own_board(_i: int, _n: int) -> tuple[str, str, None, dict[str, str]]:
            return "GET", "/api/v1/board", None, agent_read

        def update_case(i: int, n: int) -> tuple[str, str, bytes, dict[str, str]]:
            # each client works its own cases; assignee alternates, so every PATCH changes it
            mine = support_ids[i::clients]
            cid = mine[n % len(mine)]
            body = json.dumps({"assignee": f"agent-{i}-{(n // len(mine)) % 2}"}).encode()
            return "PATCH", f"/api/v1/cases/{cid}", body, agent

        def respond_same_case(_i: int, n: int) -> tuple[str, str, bytes, dict[str, str]]:
            body = json.dumps({"action": "respond", "note": f"n{n}"}).encode()
            return "POST", f"/api/v1/cases/{support_ids[0]}/transitions", body, agent

        scenarios = [
            run_scenario(
                "read the board (superuser, all departments)", port, clients, seconds, read_board
            ),
            run_scenario(
                "read the board (agent, one department)", port, clients, seconds, read_own_board
            ),
            run_scenario(
                "update cases (PATCH assignee, own cases per client)",
                port,
                clients,
                seconds,
                update_case,
            ),
            run_scenario(
                "all clients act on one case (POST respond)",
                port,
                clients,
                seconds,
                respond_same_case,
            ),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "database": label,
        "cases": n_cases,
        "clients": clients,
        "seconds_per_scenario": seconds,
        "scenarios": [s.summary() for s in scenarios],
    }


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = "unknown"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **{p: version(p) for p in ("fastapi", "uvicorn", "sqlalchemy", "starlette")},
        "load_average_at_start": os.getloadavg(),
    }


def render(runs: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        "# Case service load test (loopback)",
        "",
        (
            "`python benchmarks/bench_service.py` (add `--database-url` for PostgreSQL). One "
            "uvicorn worker (as `contactops serve` runs it) in a child process on 127.0.0.1; "
            "the clients are threads with keep-alive connections in the benchmark process. "
            "Every scenario is bounded in time; errors are any non-2xx answer."
        ),
        "",
        (
            f"Machine: {info['cpu']}, {info['nproc']} cores, {info['platform']}, Python "
            f"{info['python']}; fastapi {info['fastapi']}, uvicorn {info['uvicorn']}, "
            f"SQLAlchemy {info['sqlalchemy']}. **The machine is shared**: other engineers' "
            f"builds and tests ran at the same time (load average at start "
            f"{', '.join(f'{x:.2f}' for x in info['load_average_at_start'])}), and client "
            "and server share the 2 cores, so these are lower bounds that vary run to run."
        ),
        "",
    ]
    for run in runs:
        lines += [
            (
                f"## {run['database']}: {run['cases']} open cases, {run['clients']} clients, "
                f"{run['seconds_per_scenario']:g} s per scenario"
            ),
            "",
            "| scenario | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines.extend(
            f"| {s['scenario']} | {s['requests']:,} | {s['errors']} | {s['rps']:.1f} | "
            f"{s['p50_ms']:.1f} | {s['p90_ms']:.1f} | {s['p99_ms']:.1f} | "
            f"{s['max_ms']:.1f} |"
            for s in run["scenarios"]
        )
        for s in run["scenarios"]:
            if s["error_samples"]:
                lines.append(f"\nerrors in *{s['scenario']}*: {s['error_samples']}")
        lines.append("")
    lines += [
        (
            "The board read builds every open case's clocks in business time (calendar "
            "arithmetic per clock) and serialises the whole board, so its cost grows with "
            "the number of open cases. On SQLite, reads run beside each other and beside one "
            "writer (WAL); writers take turns (BEGIN IMMEDIATE behind an in-process lock). "
            "The one-case scenario shows concurrent writers to a single case: they queue on "
            "the row lock (PostgreSQL) or the write lock (SQLite) and none is lost."
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument(
        "--database-url",
        default=None,
        help="also run against this PostgreSQL (a fresh database is created)",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(
            bench(
                f"sqlite:///{tmp}/bench.db",
                "SQLite (embedded default)",
                args.cases,
                args.clients,
                args.seconds,
            )
        )
    if args.database_url:
        name = f"contactops_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            runs.append(
                bench(
                    args.database_url.rsplit("/", 1)[0] + f"/{name}",
                    "PostgreSQL",
                    args.cases,
                    args.clients,
                    args.seconds,
                )
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    info = machine()
    report = render(runs, info)
    print(report)
    if not args.no_write:
        (RESULTS / "service.md").write_text(report, encoding="utf-8")
        (RESULTS / "service.json").write_text(
            json.dumps({"machine": info, "runs": runs}, indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
