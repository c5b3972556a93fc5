"""The case engine: transitions, SLA clocks and escalation ladders.

Every action takes the instant it happens (``at``, timezone-aware) and who did
it (``actor``), checks that the case's state allows it, first brings the
clocks up to ``at`` (so breaches and escalations that fell due in between are
recorded at the instant they fell due, whatever the tick cadence), then
changes the case and appends events. Each action returns the events it added.

Clock rules
-----------
- A handoff into a department starts that department's response and
  resolution clocks (targets from its policy for the case's priority and tier,
  in its calendar). Leaving the department stops them (met or breached).
- Reassignment within a department and moving between stages of the same
  department leave the clocks running.
- Waiting on the customer pauses every running clock; the customer's reply
  resumes them.
- The end-to-end ``case`` clock (when the configuration has a case policy)
  keeps counting across transfers, accruing in the calendar of the department
  holding the case.
- Ladder steps and the breach fire once per clock, at the instant their share
  of the target is reached; ticking again adds nothing.
- Targets are fixed when a clock starts: a priority raised by escalation
  applies to the clocks started by the next handoff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from contactops.cases._calendar import BusinessCalendar, _check_aware
from contactops.cases._case import EXCEPTIONS, Case, CaseEvent, CasesConfig, Department, SlaClock
from contactops.cases._errors import InvalidTransitionError
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from contactops.cases._policy import EscalationStep, SlaPolicy

__all__ = ["CLOCK_ACTOR", "CaseEngine"]

CLOCK_ACTOR = "sla-clock"
_EPS = 1e-6


class CaseEngine:
    """Applies actions to :class:`Case` objects under a :class:`CasesConfig`."""

    def __init__(self, config: CasesConfig) -> None:
        self.config = config

    # ------------------------------------------------------------------ helpers
    def department(self, name: str) -> Department:
        """The department (or exception queue) called ``name``."""
        return self.config.department(name)

    def calendar(self, clock: SlaClock) -> BusinessCalendar:
        """The calendar a clock accrues in."""
        return self.config.department(clock.department).calendar

    def policy(self, clock: SlaClock) -> SlaPolicy | None:
        """The policy whose ladder runs against ``clock``."""
        if clock.kind == "case":
            return self.config.case_policy
        return self.config.department(clock.department).policy

    @staticmethod
    def _emit(case: Case, at: datetime, actor: str, kind: str, /, **data: Any) -> CaseEvent:
        event = CaseEvent(case.id, case.next_seq, at, actor, kind, data)
        case.next_seq += 1
        case.events.append(event)
        return event

    @staticmethod
    def _check_time(case: Case, at: datetime) -> None:
        _check_aware("at", at)
        if at < case.updated_at:
            raise InvalidParameterError(
                "at",
                at.isoformat(),
                f"not before the case's last change ({case.updated_at.isoformat()})",
                "History is append-only; record actions in the order they happened.",
            )

    def _target_route(self, department: str | None, stage: str | None) -> tuple[str, str]:
        if stage is not None:
            owner = self.config.stage_owner(stage)
            if department is not None and owner != department:
                raise InvalidParameterError(
                    "stage",
                    stage,
                    f"a stage of department {department!r} (it belongs to {owner!r})",
                    f"Name one of {list(self.department(department).stages)}.",
                )
            return owner, stage
        if department is None:
            raise InvalidParameterError(
                "department", None, "given (or a stage)", "Name the department to hand the case to."
            )
        return department, self.department(department).default_stage

    # ------------------------------------------------------------------ clocks
    def _start_holding(self, case: Case, at: datetime, handoff_from: str | None) -> None:
        dept = self.department(case.department)
        target = dept.policy.target(case.priority, case.tier)
        for kind, seconds in (("response", target.response_s), ("resolution", target.resolution_s)):
            if seconds is None:
                continue
            clock = SlaClock(
                id=len(case.clocks) + 1,
                kind=kind,
                department=dept.name,
                stage=case.stage,
                target_s=float(seconds),
                started_at=at,
                handoff_from=handoff_from,
                running_since=at,
            )
            case.clocks.append(clock)
            self._emit(
                case,
                at,
                CLOCK_ACTOR,
                "sla_started",
                clock=clock.id,
                kind=kind,
                department=dept.name,
                target_s=clock.target_s,
                due_at=clock.due_at(dept.calendar).isoformat(),
            )  # type: ignore[union-attr]

    def _pause(self, clock: SlaClock, at: datetime) -> None:
        if clock.state == "running" and clock.running_since is not None:
            clock.elapsed_s += self.calendar(clock).between(clock.running_since, at)
        clock.running_since = None
        clock.state = "paused"
        clock.next_check_at = None

    def _resume(self, clock: SlaClock, at: datetime) -> None:
        clock.running_since = at
        clock.state = "running"
        clock.stopped_at = None
        clock.outcome = None

    def _stop(self, case: Case, clock: SlaClock, at: datetime, reason: str) -> None:
        if clock.state == "stopped":
            return
        self._pause(clock, at)
        clock.state = "stopped"
        clock.stopped_at = at
        clock.outcome = "breached" if clock.breached_at is not None else "met"
        self._emit(
            case,
            at,
            CLOCK_ACTOR,
            "sla_stopped",
            clock=clock.id,
            kind=clock.kind,
            department=clock.department,
            reason=reason,
            outcome=clock.outcome,
            elapsed_s=round(clock.elapsed_s, 3),
            target_s=clock.target_s,
        )

    def _thresholds(self, clock: SlaClock) -> list[tuple[float, int, int, EscalationStep | None]]:
        """Pending (business seconds, order, step index, step) of a clock; step None = breach."""
        out: list[tuple[float, int, int, EscalationStep | None]] = []
        if clock.breached_at is None:
            out.append((clock.target_s, 0, -1, None))
        policy = self.policy(clock)
        if policy is not None:
            for i, step in enumerate(policy.ladder):
                if i not in clock.fired and clock.kind in step.clocks:
                    out.append((step.share * clock.target_s, 1, i, step))
        return out

    def _refresh_next_check(self, clock: SlaClock) -> None:
        if clock.state != "running" or clock.running_since is None:
            clock.next_check_at = None
            return
        pending = self._thresholds(clock)
        if not pending:
            clock.next_check_at = None
            return
        seconds = min(p[0] for p in pending)
        clock.next_check_at = self.calendar(clock).add(
            clock.running_since, max(0.0, seconds - clock.elapsed_s)
        )

    def _evaluate(self, case: Case, at: datetime) -> None:
        """Fire, in time order, every breach and ladder step that fell due by ``at``."""
        if at < case.evaluated_at:
            return
        for _ in range(1000):  # each pass fires one item; a ladder is finite
            due: list[tuple[datetime, float, int, int, SlaClock, EscalationStep | None]] = []
            for clock in case.running_clocks():
                cal = self.calendar(clock)
                assert clock.running_since is not None
                elapsed = clock.elapsed(at, cal)
                for seconds, order, index, step in self._thresholds(clock):
                    if seconds <= elapsed + _EPS:
                        when = cal.add(clock.running_since, max(0.0, seconds - clock.elapsed_s))
                        due.append(
                            (min(when, at), seconds / clock.target_s, order, index, clock, step)
                        )
            if not due:
                break
            when, _share, _order, index, clock, step = min(due, key=lambda d: d[:4])
            if step is None:
                clock.breached_at = when
                self._emit(
                    case,
                    when,
                    CLOCK_ACTOR,
                    "sla_breached",
                    clock=clock.id,
                    kind=clock.kind,
                    department=clock.department,
                    target_s=clock.target_s,
                )
            else:
                clock.fired.append(index)
                self._escalate(case, clock, index, step, when)
        case.evaluated_at = at
        for clock in case.clocks:
            self._refresh_next_check(clock)

    def _escalate(
        self, case: Case, clock: SlaClock, index: int, step: EscalationStep, at: datetime
    ) -> None:
        dept = self.department(case.department)
        base = {
            "clock": clock.id,
            "kind": clock.kind,
            "step": index,
            "share": step.share,
            "action": step.action,
            "department": clock.department,
        }
        if step.action == "warn":
            self._emit(
                case,
                at,
                CLOCK_ACTOR,
                "escalation",
                **base,
                to=case.assignee or f"department:{case.department}",
            )
        elif step.action == "notify_lead":
            self._emit(
                case,
                at,
                CLOCK_ACTOR,
                "escalation",
                **base,
                to=dept.lead,
                note=None if dept.lead else "the department has no lead set",
            )
        elif step.action == "raise_priority":
            old = case.priority
            case.priority = max(1, old - 1)
            self._emit(
                case,
                at,
                CLOCK_ACTOR,
                "escalation",
                **base,
                priority_from=old,
                priority_to=case.priority,
                note="already the most urgent priority" if old == 1 else None,
            )
        else:  # reassign
            target = step.to
            if target and target.startswith("department:"):
                name = target.split(":", 1)[1]
                self._emit(case, at, CLOCK_ACTOR, "escalation", **base, to=target)
                if name != case.department and case.status == "open":
                    self._move(
                        case,
                        at,
                        CLOCK_ACTOR,
                        name,
                        None,
                        f"escalation step {index} of clock {clock.id}",
                    )
                return
            user = target or dept.lead
            previous = case.assignee
            if user and user != previous:
                case.assignee = user
            self._emit(
                case,
                at,
                CLOCK_ACTOR,
                "escalation",
                **base,
                to=user,
                assignee_from=previous,
                note=None if user else "no lead set and no reassignment target",
            )

    # ------------------------------------------------------------------ actions
    def open_case(
        self,
        case_id: str,
        *,
        at: datetime,
        actor: str,
        title: str = "",
        category: str | None = None,
        impact: object = "2",
        urgency: object = "2",
        tier: str = "*",
        department: str | None = None,
        stage: str | None = None,
        priority: int | None = None,
    ) -> Case:
        """A new case, routed by stage, department or category (unknown: exception queue)."""
        _check_aware("at", at)
        at = at.astimezone(UTC)
        reason = None
        if stage is not None or department is not None:
            dept_name, stage_name = self._target_route(department, stage)
        elif category is not None and category in self.config.routes:
            target = self.config.routes[category]
            if target in self.config.departments:
                dept_name, stage_name = self._target_route(target, None)
            else:
                dept_name, stage_name = self._target_route(None, target)
        else:
            reason = "no category given" if category is None else f"unknown category {category!r}"
            dept_name, stage_name = EXCEPTIONS, self.config.exception_queue.default_stage
        computed = self.config.priority_matrix.priority(impact, urgency)
        if priority is not None:
            self._check_priority(priority)
        case = Case(
            id=case_id,
            title=title,
            category=category,
            tier=tier or "*",
            impact=str(impact),
            urgency=str(urgency),
            priority=computed if priority is None else priority,
            department=dept_name,
            stage=stage_name,
            opened_at=at,
            updated_at=at,
            evaluated_at=at,
            exception_reason=reason,
        )
        self._emit(
            case,
            at,
            actor,
            "opened",
            department=dept_name,
            stage=stage_name,
            priority=case.priority,
            matrix_priority=computed,
            category=category,
            tier=case.tier,
            title=title,
        )
        if reason is not None:
            self._emit(case, at, actor, "exception_queued", reason=reason)
        self._start_holding(case, at, None)
        if self.config.case_policy is not None:
            target = self.config.case_policy.target(case.priority, case.tier).resolution_s
            if target is not None:
                clock = SlaClock(
                    id=len(case.clocks) + 1,
                    kind="case",
                    department=dept_name,
                    stage=stage_name,
                    target_s=float(target),
                    started_at=at,
                    running_since=at,
                )
                case.clocks.append(clock)
                self._emit(
                    case,
                    at,
                    CLOCK_ACTOR,
                    "sla_started",
                    clock=clock.id,
                    kind="case",
                    department=dept_name,
                    target_s=clock.target_s,
                    due_at=clock.due_at(self.calendar(clock)).isoformat(),
                )  # type: ignore[union-attr]
        self._evaluate(case, at)
        return case

    def _check_priority(self, priority: object) -> None:
        lowest = self.config.priority_matrix.lowest
        if (
            not isinstance(priority, int)
            or isinstance(priority, bool)
            or not 1 <= priority <= max(lowest, 5)
        ):
            raise InvalidParameterError(
                "priority", priority, f"an integer from 1 (most urgent) to {max(lowest, 5)}"
            )

    def _begin(
        self, case: Case, at: datetime, action: str, allowed: tuple[str, ...], fix: str = ""
    ) -> tuple[int, datetime]:
        self._check_time(case, at)
        at = at.astimezone(UTC)
        if case.status not in allowed:
            raise InvalidTransitionError(
                case.id,
                action,
                case.status,
                f"{action} needs the case to be {' or '.join(allowed)}",
                fix,
            )
        start = len(case.events)
        self._evaluate(case, at)
        return start, at

    def _done(self, case: Case, at: datetime, start: int) -> list[CaseEvent]:
        case.updated_at = max(case.updated_at, at)
        for clock in case.clocks:
            self._refresh_next_check(clock)
        return case.events[start:]

    def tick(self, case: Case, at: datetime) -> list[CaseEvent]:
        """Bring the clocks up to ``at``: breaches and ladder steps due by then, once each."""
        _check_aware("at", at)
        at = at.astimezone(UTC)
        start = len(case.events)
        self._evaluate(case, at)
        return case.events[start:]

    def _move(
        self,
        case: Case,
        at: datetime,
        actor: str,
        department: str | None,
        stage: str | None,
        reason: str | None,
    ) -> None:
        to_dept, to_stage = self._target_route(department, stage)
        old_dept, old_stage = case.department, case.stage
        if to_dept == old_dept:
            if to_stage == old_stage:
                raise InvalidTransitionError(
                    case.id,
                    "hand off",
                    f"already at {old_dept}/{old_stage}",
                    "a handoff must change the department or the stage",
                    "Name another department or stage.",
                )
            case.stage = to_stage
            self._emit(
                case,
                at,
                actor,
                "stage_changed",
                department=to_dept,
                from_stage=old_stage,
                to_stage=to_stage,
                reason=reason,
            )
            return
        for clock in case.live_clocks():
            if clock.kind == "case":
                was_running = clock.state == "running"
                self._pause(clock, at)
                clock.department = to_dept
                clock.stage = to_stage
                if was_running:
                    self._resume(clock, at)
            elif clock.department == old_dept:
                self._stop(case, clock, at, "handed_off")
        case.department, case.stage = to_dept, to_stage
        previous_assignee = case.assignee
        case.assignee = None
        case.exception_reason = reason if to_dept == EXCEPTIONS else None
        self._emit(
            case,
            at,
            actor,
            "handoff",
            from_department=old_dept,
            from_stage=old_stage,
            to_department=to_dept,
            to_stage=to_stage,
            reason=reason,
            previous_assignee=previous_assignee,
        )
        if to_dept == EXCEPTIONS:
            self._emit(case, at, actor, "exception_queued", reason=reason)
        self._start_holding(case, at, old_dept)

    def handoff(
        self,
        case: Case,
        *,
        at: datetime,
        actor: str,
        department: str | None = None,
        stage: str | None = None,
        reason: str | None = None,
    ) -> list[CaseEvent]:
        """Hand the case to another department (new clocks) or stage (clocks go on)."""
        start, at = self._begin(
            case,
            at,
            "hand off",
            ("open",),
            "Record the customer's reply first, or reopen the case.",
        )
        if department is None and stage is None:
            raise InvalidParameterError(
                "department", None, "given (or a stage)", "Name the department to hand the case to."
            )
        self._move(case, at, actor, department, stage, reason)
        return self._done(case, at, start)

    def dispute(
        self, case: Case, *, at: datetime, actor: str, departments: list[str], reason: str = ""
    ) -> list[CaseEvent]:
        """Two or more departments disagree on the owner: park it in the exception queue."""
        for name in departments:
            self.department(name)
        text = f"dispute between {' and '.join(departments)}" + (f": {reason}" if reason else "")
        return self.handoff(case, at=at, actor=actor, department=EXCEPTIONS, reason=text)

    def assign(
        self, case: Case, *, at: datetime, actor: str, assignee: str | None
    ) -> list[CaseEvent]:
        """Give the case to someone in the same department; the clocks go on."""
        start, at = self._begin(case, at, "reassign", ("open", "waiting_customer", "resolved"))
        if assignee == case.assignee:
            raise InvalidTransitionError(
                case.id,
                "reassign",
                f"assigned to {assignee!r}",
                "a reassignment must change the assignee",
            )
        previous, case.assignee = case.assignee, assignee
        self._emit(
            case,
            at,
            actor,
            "assigned",
            department=case.department,
            assignee_from=previous,
            assignee_to=assignee,
        )
        return self._done(case, at, start)

    def respond(
        self, case: Case, *, at: datetime, actor: str, message: str | None = None
    ) -> list[CaseEvent]:
        """First (or later) response to the customer; stops the response clock."""
        start, at = self._begin(case, at, "respond", ("open", "waiting_customer"))
        first = False
        for clock in case.live_clocks():
            if clock.kind == "response" and clock.department == case.department:
                self._stop(case, clock, at, "responded")
                first = True
        self._emit(
            case, at, actor, "responded", department=case.department, first=first, message=message
        )
        return self._done(case, at, start)

    def wait_on_customer(
        self, case: Case, *, at: datetime, actor: str, reason: str | None = None
    ) -> list[CaseEvent]:
        """The case waits for the customer: every running clock pauses."""
        start, at = self._begin(case, at, "wait on the customer", ("open",))
        paused = []
        for clock in case.running_clocks():
            self._pause(clock, at)
            paused.append(clock.id)
        case.status = "waiting_customer"
        self._emit(case, at, actor, "waiting_customer", reason=reason, paused_clocks=paused)
        return self._done(case, at, start)

    def customer_replied(self, case: Case, *, at: datetime, actor: str) -> list[CaseEvent]:
        """The customer answered: paused clocks resume."""
        start, at = self._begin(case, at, "record a customer reply", ("waiting_customer",))
        resumed = []
        for clock in case.clocks:
            if clock.state == "paused":
                self._resume(clock, at)
                resumed.append(clock.id)
        case.status = "open"
        self._emit(case, at, actor, "customer_replied", resumed_clocks=resumed)
        return self._done(case, at, start)

    def resolve(
        self, case: Case, *, at: datetime, actor: str, resolution: str | None = None
    ) -> list[CaseEvent]:
        """Resolved: every clock stops (met or breached)."""
        start, at = self._begin(case, at, "resolve", ("open", "waiting_customer"))
        for clock in case.live_clocks():
            self._stop(case, clock, at, "resolved")
        case.status = "resolved"
        case.resolved_at = at
        self._emit(case, at, actor, "resolved", department=case.department, resolution=resolution)
        return self._done(case, at, start)

    def reopen(
        self, case: Case, *, at: datetime, actor: str, reason: str | None = None
    ) -> list[CaseEvent]:
        """The customer rejected the resolution: resolution clocks resume where they stopped."""
        start, at = self._begin(
            case, at, "reopen", ("resolved",), "Only a resolved (not closed) case can be reopened."
        )
        resumed = []
        for clock in case.clocks:
            if (
                clock.kind in ("resolution", "case")
                and clock.state == "stopped"
                and clock.stopped_at == case.resolved_at
            ):
                self._resume(clock, at)
                resumed.append(clock.id)
        case.status = "open"
        case.resolved_at = None
        self._emit(case, at, actor, "reopened", reason=reason, resumed_clocks=resumed)
        return self._done(case, at, start)

    def close(
        self, case: Case, *, at: datetime, actor: str, reason: str | None = None
    ) -> list[CaseEvent]:
        """Closed for good; closing twice is an invalid transition."""
        start, at = self._begin(
            case,
            at,
            "close",
            ("open", "waiting_customer", "resolved"),
            "The case is already closed; nothing to do.",
        )
        for clock in case.live_clocks():
            self._stop(case, clock, at, "closed")
        case.status = "closed"
        self._emit(case, at, actor, "closed", reason=reason)
        return self._done(case, at, start)

    def set_priority(
        self, case: Case, *, at: datetime, actor: str, priority: int, reason: str | None = None
    ) -> list[CaseEvent]:
        """Change the priority by hand (running clocks keep their targets)."""
        self._check_priority(priority)
        start, at = self._begin(case, at, "change the priority", ("open", "waiting_customer"))
        if priority == case.priority:
            raise InvalidTransitionError(
                case.id,
                "change the priority",
                f"already priority {priority}",
                "the new priority must differ",
            )
        old, case.priority = case.priority, priority
        self._emit(
            case,
            at,
            actor,
            "priority_changed",
            priority_from=old,
            priority_to=priority,
            reason=reason,
        )
        return self._done(case, at, start)

    # ------------------------------------------------------------------ views
    def clock_view(self, clock: SlaClock, at: datetime) -> dict[str, Any]:
        """A clock as the board shows it at ``at``: elapsed, remaining, due, breached."""
        cal = self.calendar(clock)
        due = clock.due_at(cal)
        elapsed = clock.elapsed(at, cal)
        return {
            "id": clock.id,
            "kind": clock.kind,
            "department": clock.department,
            "state": clock.state,
            "target_s": clock.target_s,
            "elapsed_s": round(elapsed, 3),
            "remaining_s": round(clock.target_s - elapsed, 3),
            "due_at": None if due is None else due.isoformat(),
            "breached": clock.breached_at is not None or elapsed >= clock.target_s,
            "outcome": clock.outcome,
        }
