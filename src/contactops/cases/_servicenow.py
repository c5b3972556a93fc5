"""Replay the ServiceNow incident event log through the case engine.

The log (Amaral, Fantinato and Peres, UCI "Incident management process
enriched event log"; one row per update of an incident) records the
assignment group at every update, impact, urgency, the priority ServiceNow
computed, the state (``Awaiting User Info`` is the wait on the customer),
``resolved_at`` and ``made_sla``. Each incident becomes a case: opened at
``opened_at`` in its first assignment group (no group: the exception queue),
handed to each new group at the update that shows it, paused while awaiting
the user, resolved at ``resolved_at``. The engine's end-to-end clock (the
``case`` clock, which counts across transfers) decides met or breached; that
is compared per priority with the log's own ``made_sla``.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from contactops.cases._calendar import BusinessCalendar
from contactops.cases._case import EXCEPTIONS, CasesConfig, Department
from contactops.cases._engine import CaseEngine
from contactops.cases._policy import EscalationStep, PriorityMatrix, SlaPolicy, SlaTarget
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "Incident",
    "IncidentOutcome",
    "PriorityReplay",
    "ReplayResult",
    "read_servicenow_log",
    "replay_servicenow",
]

_REQUIRED = (
    "number",
    "incident_state",
    "sys_mod_count",
    "made_sla",
    "opened_at",
    "sys_updated_at",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "resolved_at",
)
MISSING = "?"


@dataclass(frozen=True)
class IncidentUpdate:
    """One row of the log, the parts the replay uses."""

    at: datetime
    mod_count: int
    state: str
    group: str | None
    made_sla: bool


@dataclass(frozen=True)
class Incident:
    """All updates of one incident, in order, and its final values."""

    number: str
    opened_at: datetime
    impact: str
    urgency: str
    priority: int
    made_sla: bool
    resolved_at: datetime | None
    updates: tuple[IncidentUpdate, ...]


def _parse_time(text: str, zone: ZoneInfo, line: int, name: str) -> datetime | None:
    if text == MISSING or not text:
        return None
    try:
        day_part, time_part = text.split(" ")
        d, m, y = (int(x) for x in day_part.split("/"))
        hh, mm = (int(x) for x in time_part.split(":"))
        return datetime(y, m, d, hh, mm, tzinfo=zone)
    except ValueError:
        raise InvalidParameterError(
            f"{name} (line {line})",
            text,
            "a D/M/YYYY HH:MM time",
            "Is this the ServiceNow incident event log?",
        ) from None


def read_servicenow_log(
    path: str | Path, *, timezone: str = "UTC", limit: int | None = None
) -> list[Incident]:
    """Incidents of the log at ``path``, times read as local times of ``timezone``.

    ``limit`` keeps only the first ``limit`` incidents (in file order).
    """
    path = Path(path)
    if not path.exists():
        raise InvalidParameterError(
            "path", str(path), "an existing file", "Point at incident_event_log.csv."
        )
    zone = ZoneInfo(timezone)
    rows: dict[str, list[tuple[int, dict[str, str]]]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise InvalidParameterError(
                "columns",
                missing,
                "present in the log",
                "Is this the ServiceNow incident event log?",
            )
        for line, row in enumerate(reader, start=2):
            number = row["number"]
            if number not in rows:
                if limit is not None and len(rows) >= limit:
                    break
                rows[number] = []
            rows[number].append((line, row))
    incidents = []
    for number, items in rows.items():
        updates = []
        for line, row in items:
            at = _parse_time(row["sys_updated_at"], zone, line, "sys_updated_at")
            group = row["assignment_group"]
            updates.append(
                IncidentUpdate(
                    at,
                    int(row["sys_mod_count"]),  # type: ignore[arg-type]
                    row["incident_state"],
                    None if group == MISSING else group,
                    row["made_sla"] == "true",
                )
            )
        updates.sort(key=lambda u: (u.mod_count, u.at))
        line, last = items[-1]
        last_update = max(items, key=lambda it: int(it[1]["sys_mod_count"]))[1]
        priority = int(last_update["priority"].split(" ", 1)[0])
        incidents.append(
            Incident(
                number=number,
                opened_at=_parse_time(last["opened_at"], zone, line, "opened_at") or updates[0].at,
                impact=last_update["impact"],
                urgency=last_update["urgency"],
                priority=priority,
                made_sla=last_update["made_sla"] == "true",
                resolved_at=_parse_time(last_update["resolved_at"], zone, line, "resolved_at"),
                updates=tuple(updates),
            )
        )
    return incidents


@dataclass(frozen=True)
class IncidentOutcome:
    """What the engine made of one incident."""

    number: str
    priority: int
    matrix_priority: int
    resolved: bool
    engine_met: bool
    log_met: bool
    business_s: float
    handoffs: int
    pauses: int


@dataclass(frozen=True)
class PriorityReplay:
    """Engine against log for one priority."""

    priority: int
    incidents: int
    engine_met_share: float
    log_met_share: float
    agreement: float
    both_met: int
    engine_only: int
    log_only: int
    neither: int
    implied_target_s: float | None
    implied_agreement: float | None


@dataclass
class ReplayResult:
    """Per-incident outcomes and the per-priority comparison."""

    outcomes: list[IncidentOutcome]
    targets: Mapping[int, float]
    calendar: BusinessCalendar
    by_priority: list[PriorityReplay] = field(default_factory=list)

    @property
    def matrix_agreement(self) -> float:
        """Share of incidents whose logged priority equals impact x urgency in the matrix."""
        return statistics.fmean(o.priority == o.matrix_priority for o in self.outcomes)

    @property
    def overall(self) -> tuple[float, float, float]:
        """(engine met share, log made_sla share, per-incident agreement) over all."""
        o = self.outcomes
        return (
            statistics.fmean(x.engine_met for x in o),
            statistics.fmean(x.log_met for x in o),
            statistics.fmean(x.engine_met == x.log_met for x in o),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        e, lg, a = self.overall
        return {
            "incidents": len(self.outcomes),
            "engine_met_share": e,
            "log_met_share": lg,
            "agreement": a,
            "matrix_agreement": self.matrix_agreement,
            "targets_s": {str(k): v for k, v in self.targets.items()},
            "calendar": self.calendar.to_dict(),
            "by_priority": [p.__dict__ for p in self.by_priority],
        }


def _compare(outcomes: list[IncidentOutcome]) -> list[PriorityReplay]:
    groups: dict[int, list[IncidentOutcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.priority].append(o)
    out = []
    for priority in sorted(groups):
        g = groups[priority]
        log_share = statistics.fmean(o.log_met for o in g)
        # the target that would give the log's own met share on these durations
        ordered = sorted(o.business_s for o in g)
        implied = implied_agree = None
        if 0 < log_share < 1:
            implied = ordered[max(0, round(log_share * len(ordered)) - 1)]
            implied_agree = statistics.fmean((o.business_s <= implied) == o.log_met for o in g)
        out.append(
            PriorityReplay(
                priority=priority,
                incidents=len(g),
                engine_met_share=statistics.fmean(o.engine_met for o in g),
                log_met_share=log_share,
                agreement=statistics.fmean(o.engine_met == o.log_met for o in g),
                both_met=sum(o.engine_met and o.log_met for o in g),
                engine_only=sum(o.engine_met and not o.log_met for o in g),
                log_only=sum(o.log_met and not o.engine_met for o in g),
                neither=sum(not o.engine_met and not o.log_met for o in g),
                implied_target_s=implied,
                implied_agreement=implied_agree,
            )
        )
    return out


def replay_servicenow(
    incidents: Iterable[Incident],
    *,
    targets: Mapping[int, float],
    calendar: BusinessCalendar | None = None,
    pause_states: tuple[str, ...] = ("Awaiting User Info",),
    matrix: PriorityMatrix | None = None,
) -> ReplayResult:
    """Replay ``incidents`` with end-to-end resolution ``targets`` per priority (seconds).

    Every assignment group is a department with ``calendar`` (24x7 UTC when
    None); the logged priority is used for the targets (the matrix priority
    is computed too, and their agreement reported).
    """
    incidents = list(incidents)
    calendar = calendar or BusinessCalendar.always()
    matrix = matrix or PriorityMatrix.itil()
    groups = sorted({u.group for i in incidents for u in i.updates if u.group})
    no_ladder = (EscalationStep(1.0, "notify_lead"),)
    group_policy = SlaPolicy(
        "group", {(p, "*"): SlaTarget(None, float(t)) for p, t in targets.items()}, no_ladder
    )
    case_policy = SlaPolicy(
        "servicenow", {(p, "*"): SlaTarget(None, float(t)) for p, t in targets.items()}, no_ladder
    )
    exceptions = Department(EXCEPTIONS, calendar, group_policy, None, ("triage",))
    config = CasesConfig(
        {g: Department(g, calendar, group_policy) for g in groups},
        priority_matrix=matrix,
        exception_queue=exceptions,
        case_policy=case_policy,
    )
    engine = CaseEngine(config)
    outcomes = []
    for inc in incidents:
        first_group = inc.updates[0].group
        opened = min(inc.opened_at, inc.updates[0].at)
        case = engine.open_case(
            inc.number,
            at=opened,
            actor="servicenow",
            department=first_group,
            impact=inc.impact,
            urgency=inc.urgency,
            priority=inc.priority,
            category=None if first_group else "unassigned",
        )
        matrix_priority = matrix.priority(inc.impact, inc.urgency)
        end = inc.resolved_at
        last = opened
        handoffs = pauses = 0
        for u in inc.updates:
            at = max(u.at, last)
            if end is not None and at >= end:
                break
            last = at
            waiting = case.status == "waiting_customer"
            if u.group and u.group != case.department:
                if waiting:
                    engine.customer_replied(case, at=at, actor="servicenow")
                engine.handoff(case, at=at, actor="servicenow", department=u.group)
                handoffs += 1
                waiting = False
            if u.state in pause_states and not waiting:
                engine.wait_on_customer(case, at=at, actor="servicenow", reason=u.state)
                pauses += 1
            elif u.state not in pause_states and waiting:
                engine.customer_replied(case, at=at, actor="servicenow")
        if end is not None:
            engine.resolve(case, at=max(end, last), actor="servicenow")
        else:
            engine.tick(case, last)
        clock = next(c for c in case.clocks if c.kind == "case")
        outcomes.append(
            IncidentOutcome(
                number=inc.number,
                priority=inc.priority,
                matrix_priority=matrix_priority,
                resolved=end is not None,
                engine_met=clock.breached_at is None,
                log_met=inc.made_sla,
                business_s=clock.elapsed(last, calendar),
                handoffs=handoffs,
                pauses=pauses,
            )
        )
    result = ReplayResult(outcomes, dict(targets), calendar)
    result.by_priority = _compare(outcomes)
    return result
