"""Between the case engine and the database: load, apply one action, save, in one transaction.

Every change of a case goes through :meth:`CaseStore.apply`: the row is loaded
(row-locked on PostgreSQL; SQLite transactions start ``BEGIN IMMEDIATE``), the
domain case rebuilt, the engine action run, and the case row, its clocks, the
new history events, the handoff record and the audit entry written before the
one commit. Any exception rolls all of it back. The case row carries a version
column (SQLAlchemy's optimistic lock): a write based on a stale read fails
instead of overwriting, and a client may also send ``expected_version``.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from contactops.cases import (
    EXCEPTIONS,
    BusinessCalendar,
    Case,
    CaseEngine,
    CasesConfig,
    Department,
    PriorityMatrix,
    SlaClock,
    SlaPolicy,
    SlaTarget,
    UnknownCaseError,
)
from contactops.errors import ContactopsError
from contactops.service._models import (
    ApiToken,
    AuditEntry,
    CalendarRow,
    CaseEventRow,
    CaseRow,
    ClockRow,
    ConfigEntry,
    DepartmentRow,
    HandoffRow,
    Membership,
    PolicyRow,
    User,
)
from contactops.service._security import hash_password, hash_token, new_token

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session, sessionmaker

    from contactops.cases import CaseEvent

__all__ = [
    "CaseStore",
    "VersionConflictError",
    "audit",
    "bump_generation",
    "create_user",
    "ensure_bootstrap",
    "first_admin",
    "issue_token",
    "revoke_tokens",
    "seed_demo",
    "tick_all",
]

GENERATION = "generation"


class VersionConflictError(ContactopsError):
    """The case changed since the client read it."""

    def __init__(self, case_id: int, expected: int, actual: int) -> None:
        self._keep(case_id, expected, actual)
        self.case_id, self.expected, self.actual = case_id, expected, actual
        super().__init__(
            f"case {case_id} is at version {actual}, not the expected_version {expected}: "
            "someone changed it since you read it. Read it again and repeat your change."
        )


def audit(
    session: Session, actor: str, action: str, entity: str, entity_id: object, **detail: Any
) -> None:
    """Append an audit entry (flushed with the caller's transaction)."""
    session.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            detail=_jsonable(detail),
        )
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def bump_generation(session: Session) -> None:
    """Mark the configuration changed (departments, calendars, policies, routing)."""
    entry = session.get(ConfigEntry, GENERATION)
    if entry is None:
        session.add(ConfigEntry(key=GENERATION, value=1))
    else:
        entry.value = int(entry.value) + 1


def _config_value(session: Session, key: str, default: Any = None) -> Any:
    entry = session.get(ConfigEntry, key)
    return default if entry is None else entry.value


def set_config_value(session: Session, key: str, value: Any) -> None:
    """Store a service-wide setting."""
    entry = session.get(ConfigEntry, key)
    if entry is None:
        session.add(ConfigEntry(key=key, value=value))
    else:
        entry.value = value


def calendar_of(row: CalendarRow) -> BusinessCalendar:
    """The domain calendar of a row."""
    return BusinessCalendar(
        row.timezone, row.hours, tuple(row.holidays or ()), row.country, row.subdivision
    )


def policy_of(row: PolicyRow) -> SlaPolicy:
    """The domain policy of a row."""
    return SlaPolicy.from_dict({"name": row.name, "targets": row.targets, "ladder": row.ladder})


class CaseStore:
    """Builds the engine configuration from the database (cached per generation)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[int, CaseEngine] | None = None

    def engine(self, session: Session) -> CaseEngine:
        """The case engine for the configuration now in the database."""
        generation = int(_config_value(session, GENERATION, 0))
        with self._lock:
            if self._cached is not None and self._cached[0] == generation:
                return self._cached[1]
        engine = CaseEngine(self._build(session))
        with self._lock:
            self._cached = (generation, engine)
        return engine

    @staticmethod
    def _build(session: Session) -> CasesConfig:
        departments = {}
        exceptions = None
        for row in session.scalars(select(DepartmentRow)):
            dept = Department(
                row.name,
                calendar_of(row.calendar),
                policy_of(row.policy),
                row.lead,
                tuple(row.stages or ()),
            )
            if row.name == EXCEPTIONS:
                exceptions = dept
            else:
                departments[row.name] = dept
        routes = {
            k: v
            for k, v in (_config_value(session, "routes", {}) or {}).items()
            if v in departments or any(v in d.stages for d in departments.values())
        }
        rows = _config_value(session, "priority_matrix")
        matrix = PriorityMatrix.from_rows(rows) if rows else PriorityMatrix.itil()
        case_policy = None
        name = _config_value(session, "case_policy")
        if name:
            row = session.scalar(select(PolicyRow).where(PolicyRow.name == name))
            case_policy = None if row is None else policy_of(row)
        kwargs: dict[str, Any] = {}
        if exceptions is not None:
            kwargs["exception_queue"] = exceptions
        return CasesConfig(departments, routes, matrix, case_policy=case_policy, **kwargs)

    # ------------------------------------------------------------------ cases
    @staticmethod
    def to_domain(row: CaseRow) -> Case:
        """The domain case of a row (history not loaded: the engine only appends)."""
        clocks = [
            SlaClock(
                id=c.clock_no,
                kind=c.kind,
                department=c.department,
                stage=c.stage,
                target_s=c.target_s,
                started_at=c.started_at,
                handoff_from=c.handoff_from,
                elapsed_s=c.elapsed_s,
                running_since=c.running_since,
                state=c.state,
                stopped_at=c.stopped_at,
                outcome=c.outcome,
                breached_at=c.breached_at,
                fired=list(c.fired or ()),
                next_check_at=c.next_check_at,
            )
            for c in row.clocks
        ]
        return Case(
            id=str(row.id),
            title=row.title,
            category=row.category,
            tier=row.tier,
            impact=row.impact,
            urgency=row.urgency,
            priority=row.priority,
            department=row.department,
            stage=row.stage,
            opened_at=row.opened_at,
            updated_at=row.updated_at,
            evaluated_at=row.evaluated_at,
            status=row.status,
            assignee=row.assignee,
            exception_reason=row.exception_reason,
            resolved_at=row.resolved_at,
            clocks=clocks,
            next_seq=row.next_seq,
        )

    @staticmethod
    def write(session: Session, row: CaseRow, case: Case, events: list[CaseEvent]) -> None:
        """Copy the domain case onto its row and clocks, and insert its new events."""
        for name in (
            "title",
            "category",
            "tier",
            "impact",
            "urgency",
            "priority",
            "department",
            "stage",
            "status",
            "assignee",
            "exception_reason",
            "opened_at",
            "updated_at",
            "evaluated_at",
            "resolved_at",
            "next_seq",
        ):
            value = getattr(case, name)
            if getattr(row, name) != value:
                setattr(row, name, value)
        by_no = {c.clock_no: c for c in row.clocks}
        for clock in case.clocks:
            target = by_no.get(clock.id)
            if target is None:
                target = ClockRow(clock_no=clock.id)
                row.clocks.append(target)
            for name in (
                "kind",
                "department",
                "stage",
                "target_s",
                "started_at",
                "handoff_from",
                "elapsed_s",
                "running_since",
                "state",
                "stopped_at",
                "outcome",
                "breached_at",
                "next_check_at",
            ):
                value = getattr(clock, name)
                if getattr(target, name, None) != value:
                    setattr(target, name, value)
            if list(target.fired or ()) != clock.fired:
                target.fired = list(clock.fired)
        checks = [c.next_check_at for c in case.clocks if c.next_check_at is not None]
        row.next_check_at = min(checks) if checks else None
        if row.id is None:
            session.flush()
        for event in events:
            session.add(
                CaseEventRow(
                    case_id=row.id,
                    seq=event.seq,
                    at=event.at,
                    recorded_at=datetime.now(UTC),
                    actor=event.actor,
                    kind=event.kind,
                    data=_jsonable(dict(event.data)),
                )
            )
            if event.kind in ("handoff", "stage_changed"):
                d = event.data
                session.add(
                    HandoffRow(
                        case_id=row.id,
                        event_seq=event.seq,
                        at=event.at,
                        actor=event.actor,
                        from_department=d.get("from_department", d.get("department")),
                        to_department=d.get("to_department", d.get("department")),
                        from_stage=d["from_stage"],
                        to_stage=d["to_stage"],
                        reason=d.get("reason"),
                    )
                )

    def load(self, session: Session, case_id: int, *, lock: bool) -> CaseRow:
        """The case row (row-locked on PostgreSQL when ``lock``)."""
        query = select(CaseRow).where(CaseRow.id == case_id)
        if lock and session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise UnknownCaseError(str(case_id))
        return row

    def create(
        self, session: Session, actor: str, at: datetime, **fields: Any
    ) -> tuple[CaseRow, Case]:
        """Open a case in one transaction step (the caller commits)."""
        engine = self.engine(session)
        row = CaseRow(
            title="",
            impact="",
            urgency="",
            priority=0,
            department="",
            stage="",
            status="open",
            opened_at=at,
            updated_at=at,
            evaluated_at=at,
        )
        session.add(row)
        session.flush()
        case = engine.open_case(str(row.id), at=at, actor=actor, **fields)
        self.write(session, row, case, case.events)
        audit(
            session,
            actor,
            "case.open",
            "case",
            row.id,
            department=case.department,
            priority=case.priority,
            title=case.title,
        )
        return row, case

    def apply(
        self,
        session: Session,
        case_id: int,
        actor: str,
        action: str,
        change: Callable[[CaseEngine, Case], list[CaseEvent]],
        expected_version: int | None = None,
        check: Callable[[CaseRow], None] | None = None,
    ) -> tuple[CaseRow, list[CaseEvent]]:
        """Load, check, change through the engine, write (the caller commits)."""
        row = self.load(session, case_id, lock=True)
        if check is not None:
            check(row)
        if expected_version is not None and expected_version != row.version:
            raise VersionConflictError(case_id, expected_version, row.version)
        engine = self.engine(session)
        case = self.to_domain(row)
        events = change(engine, case)
        self.write(session, row, case, events)
        audit(
            session,
            actor,
            action,
            "case",
            row.id,
            events=[e.kind for e in events],
            version_before=row.version,
        )
        session.flush()
        return row, events


def tick_all(
    sessions: sessionmaker[Session],
    store: CaseStore,
    now: datetime | None = None,
    limit: int = 10_000,
) -> dict[str, int]:
    """Run the SLA clocks of every case with something due by ``now``.

    Idempotent: a second run at the same ``now`` finds nothing due (steps and
    breaches fire once and record the instant they fell due). Each case is its
    own transaction, so one failure does not hold back the others.
    """
    now = now or datetime.now(UTC)
    with sessions() as session:
        due = list(
            session.scalars(
                select(CaseRow.id)
                .where(CaseRow.next_check_at.is_not(None), CaseRow.next_check_at <= now)
                .order_by(CaseRow.next_check_at)
                .limit(limit)
            )
        )
    cases = events = 0
    for case_id in due:
        with sessions() as session, session.begin():
            row = store.load(session, case_id, lock=True)
            if row.next_check_at is None or row.next_check_at > now:
                continue  # another ticker got there first
            engine = store.engine(session)
            case = store.to_domain(row)
            new = engine.tick(case, now)
            store.write(session, row, case, new)
            if new:
                audit(
                    session, "sla-clock", "case.tick", "case", row.id, events=[e.kind for e in new]
                )
            cases += 1
            events += len(new)
    return {"due": len(due), "cases": cases, "events": events}


# ---------------------------------------------------------------------- bootstrap
def ensure_bootstrap(session: Session) -> None:
    """The exception queue (24x7, triage 1 h, settled 4 h) exists."""
    if session.scalar(select(DepartmentRow).where(DepartmentRow.name == EXCEPTIONS)):
        return
    cal = session.scalar(select(CalendarRow).where(CalendarRow.name == "24x7"))
    if cal is None:
        cal = CalendarRow(
            name="24x7", timezone="UTC", hours={"mon-sun": "00:00-24:00"}, holidays=[]
        )
        session.add(cal)
    pol = PolicyRow(
        name="exceptions",
        targets=[
            {"priority": p, "tier": "*", "response": 3600.0, "resolution": 4 * 3600.0}
            for p in range(1, 6)
        ],
        ladder=[s.to_dict() for s in SlaPolicy("x", {(1, "*"): SlaTarget(1.0, 1.0)}).ladder],
    )
    session.add(pol)
    session.flush()
    session.add(
        DepartmentRow(
            name=EXCEPTIONS, calendar_id=cal.id, policy_id=pol.id, lead=None, stages=["triage"]
        )
    )
    bump_generation(session)
    audit(session, "system", "bootstrap", "department", EXCEPTIONS)


def issue_token(session: Session, user: User, days: float, label: str = "") -> tuple[str, datetime]:
    """A new token for ``user``, valid for ``days`` (``Settings.token_days``); only its hash
    is stored. The user's expired tokens are deleted on the way."""
    token = new_token()
    now = datetime.now(UTC)
    expires = now + timedelta(days=days)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), label=label, expires_at=expires)
    )
    audit(session, user.username, "token.issue", "user", user.id, label=label)
    return token, expires


def revoke_tokens(
    session: Session, user: User, actor: str, *, keep: int | None = None, only: int | None = None
) -> int:
    """Revoke (delete) ``user``'s tokens: all, all but ``keep``, or only the token ``only``;
    returns how many. Audited; the caller commits."""
    query = delete(ApiToken).where(ApiToken.user_id == user.id)
    if keep is not None:
        query = query.where(ApiToken.id != keep)
    if only is not None:
        query = query.where(ApiToken.id == only)
    count = int(getattr(session.execute(query), "rowcount", 0) or 0)
    audit(
        session,
        actor,
        "token.revoke",
        "user",
        user.id,
        tokens=count,
        scope="one" if only is not None else "others" if keep is not None else "all",
    )
    return count


def seed_demo(session: Session, password: str) -> dict[str, str]:
    """Four departments (sales, support, billing, fulfilment) with calendars, policies,
    stages, leads and agents; returns ``{username: role@department}``."""
    hours = {
        "sales": "mon-fri 08:00-20:00; sat 09:00-13:00",
        "support": "mon-sun 00:00-24:00",
        "billing": "mon-fri 09:00-17:00",
        "fulfilment": "mon-fri 07:00-15:00",
    }
    stages = {
        "sales": ["quote", "order"],
        "support": ["diagnose", "fix"],
        "billing": ["invoice", "refund"],
        "fulfilment": ["ship", "return"],
    }
    policy = PolicyRow(
        name="standard",
        targets=[
            {"priority": 1, "tier": "*", "response": 900.0, "resolution": 4 * 3600.0},
            {"priority": 2, "tier": "*", "response": 3600.0, "resolution": 8 * 3600.0},
            {"priority": 3, "tier": "*", "response": 4 * 3600.0, "resolution": 24 * 3600.0},
            {"priority": 3, "tier": "gold", "response": 2 * 3600.0, "resolution": 12 * 3600.0},
            {"priority": 4, "tier": "*", "response": 8 * 3600.0, "resolution": 72 * 3600.0},
        ],
        ladder=[s.to_dict() for s in SlaPolicy("x", {(1, "*"): SlaTarget(1.0, 1.0)}).ladder],
    )
    session.add(policy)
    users: dict[str, str] = {}
    for name, spec in hours.items():
        cal = CalendarRow(
            name=f"{name}-hours",
            timezone="Europe/London",
            hours=spec,
            holidays=[],
            country="GB",
            subdivision="ENG",
        )
        calendar_of(cal)  # validates
        session.add(cal)
        session.flush()
        session.add(
            DepartmentRow(
                name=name,
                calendar_id=cal.id,
                policy_id=policy.id,
                lead=f"{name}-lead",
                stages=stages[name],
            )
        )
    session.flush()
    pw = hash_password(password)
    depts = {d.name: d for d in session.scalars(select(DepartmentRow))}
    for name in hours:
        for role, username in (("lead", f"{name}-lead"), ("agent", f"{name}-agent")):
            user = User(username=username, full_name=f"{name} {role}", password_hash=pw)
            user.memberships.append(Membership(department_id=depts[name].id, role=role))
            session.add(user)
            users[username] = f"{role}@{name}"
    set_config_value(
        session,
        "routes",
        {
            "quote": "sales",
            "invoice": "billing",
            "refund": "refund",
            "defect": "support",
            "delivery": "fulfilment",
        },
    )
    bump_generation(session)
    audit(session, "system", "seed.demo", "service", "demo", users=sorted(users))
    return users


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    superuser: bool = False,
    memberships: dict[str, str] | None = None,
    full_name: str = "",
) -> User:
    """A user with roles ``{department: role}`` (the caller commits)."""
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        is_superuser=superuser,
    )
    for name, role in (memberships or {}).items():
        dept = session.scalar(select(DepartmentRow).where(DepartmentRow.name == name))
        if dept is None:
            raise UnknownCaseError(name)
        user.memberships.append(Membership(department_id=dept.id, role=role))
    session.add(user)
    session.flush()
    audit(session, "system", "user.create", "user", user.id, username=username)
    return user


def first_admin(session: Session, token_days: float) -> tuple[str, str | None, str]:
    """(username, new password or None, token) for the first superuser; creates ``admin``
    with a random password when there is none."""
    user = session.scalar(select(User).where(User.is_superuser.is_(True)).order_by(User.id))
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = create_user(
            session, "admin", password, superuser=True, full_name="first administrator"
        )
    token, _expires = issue_token(session, user, token_days, "contactops serve")
    return user.username, password, token
