"""The ServiceNow replay report: engine against the log's ``made_sla``, per priority."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import TYPE_CHECKING, Any

from contactops.cases._calendar import BusinessCalendar
from contactops.cases._servicenow import read_servicenow_log, replay_servicenow

if TYPE_CHECKING:
    from pathlib import Path

    from contactops.cases._servicenow import Incident, ReplayResult

__all__ = ["TARGETS", "servicenow_report"]

H = 3600.0
TARGETS = {1: 4 * H, 2: 8 * H, 3: 24 * H, 4: 72 * H}
"""End-to-end resolution targets (seconds) per priority used by the replay: common
ITIL-style figures, chosen by us; the log does not say which targets its instance had."""
PRIORITY = {1: "1 - Critical", 2: "2 - High", 3: "3 - Moderate", 4: "4 - Low"}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _hours(s: float | None) -> str:
    return "–" if s is None else f"{s / 3600:.1f} h"


def _table(result: ReplayResult) -> list[str]:
    lines = [
        (
            "| priority | incidents | engine: met | log: made_sla | same verdict | "
            "engine met, log missed | log met, engine missed |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {PRIORITY.get(p.priority, p.priority)} | {p.incidents:,} | "
        f"{_pct(p.engine_met_share)} | {_pct(p.log_met_share)} | "
        f"{_pct(p.agreement)} | {p.engine_only:,} | {p.log_only:,} |"
        for p in result.by_priority
    )
    e, lg, a = result.overall
    lines.append(
        f"| all | {len(result.outcomes):,} | {_pct(e)} | {_pct(lg)} | {_pct(a)} | "
        f"{sum(p.engine_only for p in result.by_priority):,} | "
        f"{sum(p.log_only for p in result.by_priority):,} |"
    )
    return lines


def _flips(incidents: list[Incident]) -> int:
    return sum(len({u.made_sla for u in i.updates}) > 1 for i in incidents)


def servicenow_report(path: str | Path, *, limit: int | None = None) -> tuple[str, dict[str, Any]]:
    """Replay the log at ``path`` under three configurations; Markdown and a JSON summary."""
    utc = read_servicenow_log(path, limit=limit)
    local = read_servicenow_log(path, timezone="America/Sao_Paulo", limit=limit)
    always = BusinessCalendar.always()
    office = BusinessCalendar(
        "America/Sao_Paulo", "mon-fri 08:00-18:00", country="BR", subdivision="SP"
    )
    runs = {
        "A": (
            "24x7, paused while Awaiting User Info",
            replay_servicenow(utc, targets=TARGETS, calendar=always),
        ),
        "B": (
            (
                "business hours Mon-Fri 08:00-18:00 America/Sao_Paulo with Brazilian (SP) "
                "holidays, paused while Awaiting User Info"
            ),
            replay_servicenow(local, targets=TARGETS, calendar=office),
        ),
        "C": (
            "24x7, never paused",
            replay_servicenow(utc, targets=TARGETS, calendar=always, pause_states=()),
        ),
    }
    a = runs["A"][1]
    resolved = sum(o.resolved for o in a.outcomes)
    handoffs = Counter(min(o.handoffs, 3) for o in a.outcomes)
    lines = [
        "# ServiceNow incident log replayed through the case engine",
        "",
        (
            "Source: the ServiceNow incident event log (Amaral, Fantinato and Peres, UCI "
            '"Incident management process enriched event log", CC BY 4.0; Kaggle/IBM '
            "truncated copy, see `../shared/data/servicenow-incident-event-log/SOURCE.md`). "
            "The data is not in this repository."
        ),
        "",
        "Produced by `contactops cases replay-servicenow "
        "../shared/data/servicenow-incident-event-log/incident_event_log.csv "
        "--out benchmarks/results/servicenow-replay.md`"
        + (f" with `--limit {limit}`" if limit else "")
        + ".",
        "",
        "## How each incident is replayed",
        "",
        (
            "- opened at `opened_at` in its first assignment group (each group is a department; "
            "an incident with no group yet starts in the exception queue);"
        ),
        (
            "- handed to a new group at the update (`sys_updated_at`, in `sys_mod_count` "
            "order) that first shows it;"
        ),
        (
            "- paused while `incident_state` is `Awaiting User Info` (waiting on the customer), "
            "resumed at the next update in another state;"
        ),
        "- resolved at `resolved_at`; incidents with none are judged at their last update;",
        (
            "- priority: the logged one. The engine's impact x urgency matrix "
            f"(`PriorityMatrix.itil()`) gives the same priority for {_pct(a.matrix_agreement)} "
            "of the incidents;"
        ),
        (
            "- met = the end-to-end `case` clock (counting across every transfer) did not reach "
            "its target; compared with the incident's final `made_sla`."
        ),
        "",
        "Targets (end to end, resolution): "
        + ", ".join(f"{PRIORITY[p]} {t / 3600:g} h" for p, t in TARGETS.items())
        + ". They are ours: the log does not carry its instance's SLA definitions.",
        "",
        (
            f"Incidents: {len(a.outcomes):,}; resolved {resolved:,}; "
            f"with 0/1/2/3+ transfers between groups: "
            f"{handoffs[0]:,}/{handoffs[1]:,}/{handoffs[2]:,}/{handoffs[3]:,}."
        ),
        "",
    ]
    summary: dict[str, Any] = {"incidents": len(a.outcomes), "runs": {}}
    for key, (label, result) in runs.items():
        lines += [f"## Run {key}: {label}", "", *_table(result), ""]
        summary["runs"][key] = result.to_dict()
    lines += [
        "## The targets the log implies",
        "",
        (
            "For each priority, the run A target that would give exactly the log's own "
            "made_sla share on the same replayed durations, and how often the engine and the "
            "log then agree incident by incident:"
        ),
        "",
        (
            "| priority | implied target | same verdict at that target | median time, log "
            "met | median time, log missed |"
        ),
        "|---|---:|---:|---:|---:|",
    ]
    for p in a.by_priority:
        met = [o.business_s for o in a.outcomes if o.priority == p.priority and o.log_met]
        missed = [o.business_s for o in a.outcomes if o.priority == p.priority and not o.log_met]
        lines.append(
            f"| {PRIORITY[p.priority]} | {_hours(p.implied_target_s)} | "
            f"{_pct(p.implied_agreement)} | "
            f"{_hours(statistics.median(met) if met else None)} | "
            f"{_hours(statistics.median(missed) if missed else None)} |"
        )
    p3 = next((p for p in a.by_priority if p.priority == 3), None)
    p1 = next((p for p in a.by_priority if p.priority == 1), None)
    lines += [
        "",
        "## Why the engine and the log differ",
        "",
        (
            "1. **Unknown SLA definitions.** `made_sla` was set by the instance's own task SLA "
            "definitions (targets, schedules, start/pause/stop conditions), which the log does "
            "not contain. Our targets are a guess; the implied-target table shows which "
            "targets reproduce the log's shares."
        ),
        "2. **made_sla is not a function of resolution time alone.** Even at the implied "
        "target the per-incident verdicts agree only "
        + (
            f"{_pct(p3.implied_agreement)} of the time for 3 - Moderate"
            if p3 and p3.implied_agreement is not None
            else "partly"
        )
        + ": incidents resolved quickly are marked missed and slow ones met. Whatever "
        "ServiceNow measured (a response SLA, an SLA per assignment group, a clock "
        "restarted on reassignment or reopening) is not the end-to-end resolution time.",
        "3. **Critical and high incidents are almost never met in the log** ("
        + (f"1 - Critical {_pct(p1.log_met_share)}" if p1 else "")
        + "), even those the engine saw resolved within the 4-hour target; their SLA was "
        "much tighter than any resolution target we would choose (the implied target is a "
        "few minutes, which would fit a response SLA rather than a resolution SLA).",
        (
            f"4. **made_sla changes during an incident.** It flips within {_flips(utc):,} "
            "incidents (true until a breach); we compare with the last row's value."
        ),
        (
            "5. **Time zone and calendar.** The log's times have no zone; run B reads them as "
            "São Paulo local time (the authors' city, not necessarily the company's) and counts "
            "business hours only, which lowers the elapsed time and raises the met share "
            "compared with run A."
        ),
        (
            "6. **Pauses.** Run C never pauses; the difference with run A is the effect of "
            "waiting on the customer (`Awaiting User Info`)."
        ),
        (
            "7. **Truncation.** The copy holds the first 119,998 of 141,712 events; incidents "
            "near the end may lack later updates."
        ),
        "",
    ]
    return "\n".join(lines), summary
