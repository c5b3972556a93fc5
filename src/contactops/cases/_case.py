"""The records of the case engine: departments, configuration, clocks, cases, events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contactops.cases._calendar import BusinessCalendar
from contactops.cases._policy import PriorityMatrix, SlaPolicy, SlaTarget
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CASE_STATUSES",
    "EXCEPTIONS",
    "Case",
    "CaseEvent",
    "CasesConfig",
    "Department",
    "SlaClock",
    "default_exception_queue",
]

EXCEPTIONS = "exceptions"
"""Name of the exception queue: cases that no department owns."""
CASE_STATUSES = ("open", "waiting_customer", "resolved", "closed")


@dataclass(frozen=True)
class Department:
    """A department: its calendar, SLA policy, lead and the stages it owns.

    The first stage is where handoffs to the department land unless a stage is
    named; a department with no stages has one stage named after itself.
    """

    name: str
    calendar: BusinessCalendar
    policy: SlaPolicy
    lead: str | None = None
    stages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise InvalidParameterError("department.name", self.name, "a non-empty name")
        object.__setattr__(self, "stages", tuple(self.stages) or (self.name,))

    @property
    def default_stage(self) -> str:
        """Where a handoff lands when no stage is named."""
        return self.stages[0]


def default_exception_queue() -> Department:
    """The exception queue: 24x7, triage within 1 hour, settled (routed) within 4 hours."""
    policy = SlaPolicy("exceptions", {(p, "*"): SlaTarget(3600.0, 4 * 3600.0) for p in range(1, 6)})
    return Department(EXCEPTIONS, BusinessCalendar.always(), policy, None, ("triage",))


@dataclass(frozen=True)
class CasesConfig:
    """Everything the engine needs to know about the center.

    Parameters
    ----------
    departments
        The departments (any number, any names but ``exceptions``).
    routes
        ``{category: department or stage}``: where a new case of that category
        starts. Unknown categories go to the exception queue.
    priority_matrix
        impact x urgency -> priority.
    exception_queue
        The department-like queue for cases nobody owns, with its own SLA.
    case_policy
        Optional end-to-end target (its ``resolution_s``) that keeps counting
        across every transfer, in the calendar of whoever holds the case.
    """

    departments: Mapping[str, Department]
    routes: Mapping[str, str] = field(default_factory=dict)
    priority_matrix: PriorityMatrix = field(default_factory=PriorityMatrix.itil)
    exception_queue: Department = field(default_factory=default_exception_queue)
    case_policy: SlaPolicy | None = None
    _stage_owner: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.departments, list | tuple):
            object.__setattr__(self, "departments", {d.name: d for d in self.departments})
        if EXCEPTIONS in self.departments:
            raise InvalidParameterError(
                "departments",
                EXCEPTIONS,
                "not the reserved name of the exception queue",
                "Rename the department.",
            )
        if self.exception_queue.name != EXCEPTIONS:
            raise InvalidParameterError(
                "exception_queue.name", self.exception_queue.name, f"{EXCEPTIONS!r}"
            )
        owner: dict[str, str] = {}
        for dept in (*self.departments.values(), self.exception_queue):
            for stage in dept.stages:
                if stage in owner and owner[stage] != dept.name:
                    raise InvalidParameterError(
                        f"stage {stage!r}",
                        [owner[stage], dept.name],
                        "owned by one department only",
                        "Give each stage one owner.",
                    )
                owner[stage] = dept.name
        for category, target in self.routes.items():
            if target not in self.departments and target not in owner:
                raise InvalidParameterError(
                    f"routes[{category!r}]",
                    target,
                    "a department or stage name",
                    f"Known departments: {sorted(self.departments)}.",
                )
        object.__setattr__(self, "_stage_owner", owner)

    def department(self, name: str) -> Department:
        """The department (or the exception queue) called ``name``."""
        if name == EXCEPTIONS:
            return self.exception_queue
        try:
            return self.departments[name]
        except KeyError:
            raise InvalidParameterError(
                "department",
                name,
                f"one of the departments: {', '.join(sorted(self.departments))} or {EXCEPTIONS}",
                "Check the spelling or create the department first.",
            ) from None

    def stage_owner(self, stage: str) -> str:
        """The department that owns ``stage``."""
        try:
            return self._stage_owner[stage]
        except KeyError:
            raise InvalidParameterError(
                "stage",
                stage,
                f"a known stage ({', '.join(sorted(self._stage_owner))})",
                "Name a stage of the target department.",
            ) from None


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _dt(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass
class SlaClock:
    """One SLA clock: a target in business seconds of its department's calendar.

    ``kind`` is ``response`` or ``resolution`` (started by a handoff into
    ``department``) or ``case`` (end to end, following the case across
    departments). ``elapsed_s`` is the business time accrued before
    ``running_since``; ``fired`` the ladder steps already done.
    """

    id: int
    kind: str
    department: str
    stage: str
    target_s: float
    started_at: datetime
    handoff_from: str | None = None
    elapsed_s: float = 0.0
    running_since: datetime | None = None
    state: str = "running"
    stopped_at: datetime | None = None
    outcome: str | None = None
    breached_at: datetime | None = None
    fired: list[int] = field(default_factory=list)
    next_check_at: datetime | None = None

    def elapsed(self, at: datetime, calendar: BusinessCalendar) -> float:
        """Business seconds accrued by ``at``."""
        if self.state == "running" and self.running_since is not None and at > self.running_since:
            return self.elapsed_s + calendar.between(self.running_since, at)
        return self.elapsed_s

    def remaining(self, at: datetime, calendar: BusinessCalendar) -> float:
        """Business seconds left at ``at`` (negative once breached)."""
        return self.target_s - self.elapsed(at, calendar)

    def due_at(self, calendar: BusinessCalendar) -> datetime | None:
        """When the target is (or was) reached; None while paused or stopped unbreached."""
        if self.breached_at is not None:
            return self.breached_at
        if self.state == "running" and self.running_since is not None:
            return calendar.add(self.running_since, max(0.0, self.target_s - self.elapsed_s))
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.id,
            "kind": self.kind,
            "department": self.department,
            "stage": self.stage,
            "target_s": self.target_s,
            "started_at": _iso(self.started_at),
            "handoff_from": self.handoff_from,
            "elapsed_s": self.elapsed_s,
            "running_since": _iso(self.running_since),
            "state": self.state,
            "stopped_at": _iso(self.stopped_at),
            "outcome": self.outcome,
            "breached_at": _iso(self.breached_at),
            "fired": list(self.fired),
            "next_check_at": _iso(self.next_check_at),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SlaClock:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=int(d["id"]),
            kind=d["kind"],
            department=d["department"],
            stage=d["stage"],
            target_s=float(d["target_s"]),
            started_at=_dt(d["started_at"]),  # type: ignore[arg-type]
            handoff_from=d.get("handoff_from"),
            elapsed_s=float(d["elapsed_s"]),
            running_since=_dt(d.get("running_since")),
            state=d["state"],
            stopped_at=_dt(d.get("stopped_at")),
            outcome=d.get("outcome"),
            breached_at=_dt(d.get("breached_at")),
            fired=list(d.get("fired") or ()),
            next_check_at=_dt(d.get("next_check_at")),
        )


@dataclass(frozen=True)
class CaseEvent:
    """One immutable entry of a case's history: who did what, when."""

    case_id: str
    seq: int
    at: datetime
    actor: str
    kind: str
    data: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "data": dict(self.data),
        }


@dataclass
class Case:
    """A case and its clocks; ``events`` is the history the engine has seen."""

    id: str
    title: str
    category: str | None
    tier: str
    impact: str
    urgency: str
    priority: int
    department: str
    stage: str
    opened_at: datetime
    updated_at: datetime
    evaluated_at: datetime
    status: str = "open"
    assignee: str | None = None
    exception_reason: str | None = None
    resolved_at: datetime | None = None
    clocks: list[SlaClock] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    next_seq: int = 1

    @property
    def in_exception_queue(self) -> bool:
        """True while no department owns the case."""
        return self.department == EXCEPTIONS

    def running_clocks(self) -> list[SlaClock]:
        """Clocks that are counting now."""
        return [c for c in self.clocks if c.state == "running"]

    def live_clocks(self) -> list[SlaClock]:
        """Clocks not stopped (running or paused)."""
        return [c for c in self.clocks if c.state != "stopped"]
