"""Routers: cases, transitions, handoffs, disputes, events, the board data, audit figures, tick."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from sqlalchemy import select

from contactops.cases import EXCEPTIONS, CaseEvent, SlaClock, UnknownCaseError
from contactops.cases import audit as audit_figures
from contactops.service._api_admin import ERRORS
from contactops.service._deps import ContextDep, Principal, PrincipalDep, SessionDep
from contactops.service._guard import MAX_ID, GuardedRoute
from contactops.service._models import (
    CaseEventRow,
    CaseRow,
    ClockRow,
    DepartmentRow,
    HandoffRow,
)
from contactops.service._schemas import (
    Board,
    CaseCreate,
    CasePublic,
    CaseUpdate,
    ClockPublic,
    DisputeCreate,
    EventPublic,
    HandoffCreate,
    HandoffPublic,
    TransitionIn,
)
from contactops.service._store import CaseStore, tick_all

if TYPE_CHECKING:
    from contactops.cases import Case, CaseEngine

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERRORS, route_class=GuardedRoute)
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="a case's id")]
OPEN = ("open", "waiting_customer")


def _now() -> datetime:
    return datetime.now(UTC)


def _when(case: Case) -> datetime:
    """The instant of an action: now, read after the case row is locked (so concurrent
    actions are stamped in the order they are applied), never before the last change."""
    return max(_now(), case.updated_at)


def _public(row: CaseRow, engine: CaseEngine, at: datetime) -> CasePublic:
    case = CaseStore.to_domain(row)
    clocks = [ClockPublic(**engine.clock_view(c, at)) for c in case.clocks]
    return CasePublic(
        id=row.id,
        title=row.title,
        category=row.category,
        tier=row.tier,
        impact=row.impact,
        urgency=row.urgency,
        priority=row.priority,
        department=row.department,
        stage=row.stage,
        status=row.status,
        assignee=row.assignee,
        exception_reason=row.exception_reason,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        version=row.version,
        clocks=clocks,
    )


def _visible(principal: Principal):
    def check(row: CaseRow) -> None:
        if not principal.can_see(row.department):
            raise UnknownCaseError(str(row.id))

    return check


@router.get("/cases", tags=["cases"], response_model=list[CasePublic])
def list_cases(
    principal: PrincipalDep,
    session: SessionDep,
    context: ContextDep,
    department: str | None = None,
    status_: str | None = Query(
        default=None, alias="status", pattern="^(open|waiting_customer|resolved|closed)$"
    ),
    limit: int = Query(default=100, ge=1, le=1000),
    after_id: int = Query(default=0, ge=0, le=MAX_ID),
) -> list[CasePublic]:
    """Cases of the departments you belong to (all for superusers), oldest first."""
    names = list(session.scalars(select(DepartmentRow.name)))
    visible = principal.visible_departments(names)
    if department is not None:
        visible = [d for d in visible if d == department]
    query = select(CaseRow).where(CaseRow.department.in_(visible), CaseRow.id > after_id)
    if status_:
        query = query.where(CaseRow.status == status_)
    rows = session.scalars(query.order_by(CaseRow.id).limit(limit))
    engine, at = context.store.engine(session), _now()
    return [_public(r, engine, at) for r in rows]


@router.post("/cases", tags=["cases"], response_model=CasePublic, status_code=201)
def create_case(
    body: CaseCreate, principal: PrincipalDep, session: SessionDep, context: ContextDep
) -> CasePublic:
    """Open a case. Naming a department (or stage) needs membership of it; a case routed by
    category may be filed by anyone and lands where the routes say (unknown categories:
    the exception queue)."""
    engine = context.store.engine(session)
    if body.stage is not None or body.department is not None:
        target = body.department if body.stage is None else engine.config.stage_owner(body.stage)
        if target is not None and target != EXCEPTIONS:
            engine.config.department(target)
        if target is not None and not principal.can_see(target):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"You are not a member of department {target!r}; file the "
                "case by category, or ask one of its members.",
            )
    if (
        body.priority is not None
        and not principal.is_superuser
        and not any(principal.at_least(d, "lead") for d in principal.roles)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only leads set a priority by hand; give impact and urgency."
        )
    at = _now()
    row, _case = context.store.create(
        session,
        principal.name,
        at,
        title=body.title,
        category=body.category,
        impact=body.impact,
        urgency=body.urgency,
        tier=body.tier,
        department=body.department,
        stage=body.stage,
        priority=body.priority,
    )
    session.commit()
    return _public(row, engine, at)


@router.get("/cases/{case_id}", tags=["cases"], response_model=CasePublic)
def read_case(
    case_id: CaseId, principal: PrincipalDep, session: SessionDep, context: ContextDep
) -> CasePublic:
    """One case with its clocks (404 when it is not in one of your departments)."""
    row = context.store.load(session, case_id, lock=False)
    _visible(principal)(row)
    return _public(row, context.store.engine(session), _now())


def _apply(
    session: SessionDep,
    context: ContextDep,
    principal: Principal,
    case_id: CaseId,
    action: str,
    change: Any,
    expected_version: int | None,
    extra_check: Any = None,
) -> CasePublic:
    visible = _visible(principal)

    def check(row: CaseRow) -> None:
        visible(row)
        if extra_check is not None:
            extra_check(row)

    row, _events = context.store.apply(
        session, case_id, principal.name, action, change, expected_version, check
    )
    session.commit()
    return _public(row, context.store.engine(session), _now())


@router.patch("/cases/{case_id}", tags=["cases"], response_model=CasePublic)
def update_case(
    case_id: CaseId,
    body: CaseUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    context: ContextDep,
) -> CasePublic:
    """Change title, assignee or priority (priority: leads and admins only)."""

    def lead_check(row: CaseRow) -> None:
        if body.priority is not None and not principal.at_least(row.department, "lead"):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"Only leads of {row.department!r} change the priority."
            )

    def change(engine: CaseEngine, case: Case) -> list[CaseEvent]:
        at = _when(case)
        events: list[CaseEvent] = []
        if body.title is not None and body.title != case.title:
            old, case.title = case.title, body.title
            events.append(
                engine._emit(
                    case, at, principal.name, "retitled", title_from=old, title_to=body.title
                )
            )
            case.updated_at = max(case.updated_at, at)
        if body.assignee is not None or body.unassign:
            events += engine.assign(
                case, at=at, actor=principal.name, assignee=None if body.unassign else body.assignee
            )
        if body.priority is not None:
            events += engine.set_priority(
                case, at=at, actor=principal.name, priority=body.priority, reason=body.reason
            )
        return events

    return _apply(
        session,
        context,
        principal,
        case_id,
        "case.update",
        change,
        body.expected_version,
        lead_check,
    )


@router.post("/cases/{case_id}/transitions", tags=["cases"], response_model=CasePublic)
def transition_case(
    case_id: CaseId,
    body: TransitionIn,
    principal: PrincipalDep,
    session: SessionDep,
    context: ContextDep,
) -> CasePublic:
    """respond, wait_on_customer, customer_replied, resolve, reopen or close."""

    def change(engine: CaseEngine, case: Case) -> list[CaseEvent]:
        at = _when(case)
        actor = principal.name
        if body.action == "respond":
            return engine.respond(case, at=at, actor=actor, message=body.note)
        if body.action == "wait_on_customer":
            return engine.wait_on_customer(case, at=at, actor=actor, reason=body.note)
        if body.action == "customer_replied":
            return engine.customer_replied(case, at=at, actor=actor)
        if body.action == "resolve":
            return engine.resolve(case, at=at, actor=actor, resolution=body.note)
        if body.action == "reopen":
            return engine.reopen(case, at=at, actor=actor, reason=body.note)
        return engine.close(case, at=at, actor=actor, reason=body.note)

    return _apply(
        session, context, principal, case_id, f"case.{body.action}", change, body.expected_version
    )


@router.post(
    "/cases/{case_id}/handoffs", tags=["handoffs"], response_model=CasePublic, status_code=201
)
def hand_off(
    case_id: CaseId,
    body: HandoffCreate,
    principal: PrincipalDep,
    session: SessionDep,
    context: ContextDep,
) -> CasePublic:
    """Hand the case to another department or stage, in one transaction. You may hand to
    any department; afterwards you see the case only if you belong to that one too."""

    def change(engine: CaseEngine, case: Case) -> list[CaseEvent]:
        at = _when(case)
        return engine.handoff(
            case,
            at=at,
            actor=principal.name,
            department=body.to_department,
            stage=body.stage,
            reason=body.reason,
        )

    row, _events = context.store.apply(
        session,
        case_id,
        principal.name,
        "case.handoff",
        change,
        body.expected_version,
        _visible(principal),
    )
    session.commit()
    return _public(row, context.store.engine(session), _now())


@router.post(
    "/cases/{case_id}/disputes", tags=["handoffs"], response_model=CasePublic, status_code=201
)
def dispute(
    case_id: CaseId,
    body: DisputeCreate,
    principal: PrincipalDep,
    session: SessionDep,
    context: ContextDep,
) -> CasePublic:
    """Departments disagree on the owner: the case goes to the exception queue."""

    def change(engine: CaseEngine, case: Case) -> list[CaseEvent]:
        at = _when(case)
        return engine.dispute(
            case, at=at, actor=principal.name, departments=body.departments, reason=body.reason
        )

    row, _events = context.store.apply(
        session,
        case_id,
        principal.name,
        "case.dispute",
        change,
        body.expected_version,
        _visible(principal),
    )
    session.commit()
    return _public(row, context.store.engine(session), _now())


@router.get("/cases/{case_id}/handoffs", tags=["handoffs"], response_model=list[HandoffPublic])
def case_handoffs(
    case_id: CaseId, principal: PrincipalDep, session: SessionDep, context: ContextDep
) -> list[HandoffPublic]:
    """The handoffs of one case, oldest first."""
    _visible(principal)(context.store.load(session, case_id, lock=False))
    rows = session.scalars(
        select(HandoffRow).where(HandoffRow.case_id == case_id).order_by(HandoffRow.id)
    )
    return [HandoffPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/handoffs", tags=["handoffs"], response_model=list[HandoffPublic])
def list_handoffs(
    principal: PrincipalDep,
    session: SessionDep,
    after_id: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[HandoffPublic]:
    """Handoffs into or out of your departments (all for superusers)."""
    query = select(HandoffRow).where(HandoffRow.id > after_id)
    if not principal.is_superuser:
        mine = list(principal.roles) + ([EXCEPTIONS] if principal.triages else [])
        query = query.where(
            HandoffRow.from_department.in_(mine) | HandoffRow.to_department.in_(mine)
        )
    rows = session.scalars(query.order_by(HandoffRow.id).limit(limit))
    return [HandoffPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/cases/{case_id}/events", tags=["events"], response_model=list[EventPublic])
def case_events(
    case_id: CaseId, principal: PrincipalDep, session: SessionDep, context: ContextDep
) -> list[EventPublic]:
    """The history of one case (who, what, when); it cannot be edited."""
    _visible(principal)(context.store.load(session, case_id, lock=False))
    rows = session.scalars(
        select(CaseEventRow).where(CaseEventRow.case_id == case_id).order_by(CaseEventRow.seq)
    )
    return [EventPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/events", tags=["events"], response_model=list[EventPublic])
def list_events(
    principal: PrincipalDep,
    session: SessionDep,
    after_id: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[EventPublic]:
    """Events of the cases now held by your departments, after ``after_id`` (a feed)."""
    query = select(CaseEventRow).where(CaseEventRow.id > after_id)
    if not principal.is_superuser:
        mine = list(principal.roles) + ([EXCEPTIONS] if principal.triages else [])
        query = query.join(CaseRow, CaseRow.id == CaseEventRow.case_id).where(
            CaseRow.department.in_(mine)
        )
    rows = session.scalars(query.order_by(CaseEventRow.id).limit(limit))
    return [EventPublic.model_validate(r, from_attributes=True) for r in rows]


_CASE_COLUMNS = (
    CaseRow.id,
    CaseRow.title,
    CaseRow.priority,
    CaseRow.status,
    CaseRow.assignee,
    CaseRow.department,
    CaseRow.stage,
    CaseRow.exception_reason,
)
_CLOCK_COLUMNS = (
    ClockRow.case_id,
    ClockRow.clock_no,
    ClockRow.kind,
    ClockRow.department,
    ClockRow.stage,
    ClockRow.target_s,
    ClockRow.started_at,
    ClockRow.elapsed_s,
    ClockRow.running_since,
    ClockRow.state,
    ClockRow.breached_at,
    ClockRow.fired,
)


def _board_cards(
    session: Any, names: list[str], engine: CaseEngine, at: datetime
) -> list[dict[str, Any]]:
    """The open cases of ``names`` with their live clocks, read as plain rows (no ORM
    objects: the board is the most read page)."""
    cards: dict[int, dict[str, Any]] = {}
    for r in session.execute(
        select(*_CASE_COLUMNS)
        .where(CaseRow.department.in_(names), CaseRow.status.in_(OPEN))
        .order_by(CaseRow.priority, CaseRow.id)
    ):
        cards[r.id] = {
            "id": r.id,
            "title": r.title,
            "priority": r.priority,
            "status": r.status,
            "assignee": r.assignee,
            "department": r.department,
            "stage": r.stage,
            "exception_reason": r.exception_reason,
            "breached": False,
            "warned": False,
            "remaining_s": None,
            "clocks": [],
        }
    if not cards:
        return []
    for c in session.execute(
        select(*_CLOCK_COLUMNS)
        .join(CaseRow, CaseRow.id == ClockRow.case_id)
        .where(CaseRow.department.in_(names), CaseRow.status.in_(OPEN), ClockRow.state != "stopped")
        .order_by(ClockRow.case_id, ClockRow.clock_no)
    ):
        card = cards.get(c.case_id)
        if card is None:  # changed between the two reads
            continue
        clock = SlaClock(
            id=c.clock_no,
            kind=c.kind,
            department=c.department,
            stage=c.stage,
            target_s=c.target_s,
            started_at=c.started_at,
            elapsed_s=c.elapsed_s,
            running_since=c.running_since,
            state=c.state,
            breached_at=c.breached_at,
        )
        view = engine.clock_view(clock, at)
        card["clocks"].append(
            {
                "kind": view["kind"],
                "state": view["state"],
                "remaining_s": view["remaining_s"],
                "due_at": view["due_at"],
                "breached": view["breached"],
            }
        )
        card["breached"] = card["breached"] or view["breached"]
        card["warned"] = card["warned"] or bool(c.fired)
        if card["remaining_s"] is None or view["remaining_s"] < card["remaining_s"]:
            card["remaining_s"] = view["remaining_s"]
    return list(cards.values())


def _urgency(card: dict[str, Any]) -> tuple[bool, float]:
    remaining = card["remaining_s"]
    return (not card["breached"], remaining if remaining is not None else float("inf"))


@router.get("/board", tags=["board"], response_model=Board)
def board(principal: PrincipalDep, session: SessionDep, context: ContextDep) -> Response:
    """Open cases by department and stage with time left on each clock (business seconds),
    breached cases first, and the exception queue (for those who triage); what the board
    page shows."""
    at = _now()
    engine = context.store.engine(session)
    depts = [
        d
        for d in session.scalars(select(DepartmentRow).order_by(DepartmentRow.name))
        if d.name != EXCEPTIONS and principal.can_see(d.name)
    ]
    names = [d.name for d in depts] + ([EXCEPTIONS] if principal.triages else [])
    by_place: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for card in _board_cards(session, names, engine, at):
        by_place[(card["department"], card["stage"])].append(card)
    out = []
    for dept in depts:
        stages = list(dept.stages or [dept.name])
        stages += sorted({st for d, st in by_place if d == dept.name} - set(stages))
        columns = [
            {"name": st, "cases": sorted(by_place.get((dept.name, st), []), key=_urgency)}
            for st in stages
        ]
        mine = [c for col in columns for c in col["cases"]]
        out.append(
            {
                "name": dept.name,
                "open_cases": len(mine),
                "breached": sum(c["breached"] for c in mine),
                "stages": columns,
            }
        )
    exceptions = None
    if principal.triages:
        exceptions = sorted(
            (c for (d, _s), cards in by_place.items() if d == EXCEPTIONS for c in cards),
            key=_urgency,
        )
    body = {"generated_at": at.isoformat(), "departments": out, "exceptions": exceptions}
    return Response(json.dumps(body), media_type="application/json")


@router.get("/audit/figures", tags=["audit"])
def figures(
    principal: PrincipalDep,
    session: SessionDep,
    context: ContextDep,
    limit: int = Query(default=5000, ge=1, le=50_000),
) -> dict[str, Any]:
    """Per-transition figures over the cases you see: which handoffs breach most, how long
    each department holds a case, reassignment loops."""
    engine = context.store.engine(session)
    names = list(session.scalars(select(DepartmentRow.name)))
    visible = principal.visible_departments(names)
    rows = list(
        session.scalars(
            select(CaseRow)
            .where(CaseRow.department.in_(visible))
            .order_by(CaseRow.id.desc())
            .limit(limit)
        )
    )
    cases = []
    events: dict[int, list[CaseEvent]] = {r.id: [] for r in rows}
    if rows:
        for e in session.scalars(
            select(CaseEventRow)
            .where(CaseEventRow.case_id.in_(list(events)))
            .order_by(CaseEventRow.case_id, CaseEventRow.seq)
        ):
            events[e.case_id].append(
                CaseEvent(str(e.case_id), e.seq, e.at, e.actor, e.kind, e.data)
            )
    for r in rows:
        case = CaseStore.to_domain(r)
        case.events = events[r.id]
        cases.append(case)
    return audit_figures(cases, engine, _now()).to_dict()


@router.post("/clock/tick", tags=["board"])
def tick(principal: PrincipalDep, session: SessionDep, context: ContextDep) -> dict[str, int]:
    """Run the SLA clock job now (superusers; it also runs in the background)."""
    if not principal.is_superuser:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only superusers run the clock by hand.")
    session.rollback()  # the job works in its own transactions, one per case
    return tick_all(context.sessions, context.store)
