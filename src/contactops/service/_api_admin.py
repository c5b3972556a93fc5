"""Routers: login, users and memberships, calendars, SLA policies, departments, routing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from sqlalchemy import select

from contactops.cases import EXCEPTIONS, PriorityMatrix, SlaPolicy
from contactops.errors import InvalidParameterError
from contactops.service._deps import COOKIE, ContextDep, Principal, PrincipalDep, SessionDep
from contactops.service._guard import MAX_ID, GuardedRoute
from contactops.service._models import (
    AuditEntry,
    CalendarRow,
    DepartmentRow,
    Membership,
    PolicyRow,
    User,
)
from contactops.service._schemas import (
    AuditPublic,
    CalendarCreate,
    CalendarPublic,
    CalendarUpdate,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentUpdate,
    ErrorBody,
    LoginRequest,
    MembershipIn,
    PolicyCreate,
    PolicyPublic,
    PolicyUpdate,
    RoutingConfig,
    RoutingPublic,
    Token,
    TokensRevoked,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from contactops.service._security import hash_password, verify_password
from contactops.service._store import (
    _config_value,
    audit,
    bump_generation,
    calendar_of,
    issue_token,
    policy_of,
    revoke_tokens,
    set_config_value,
)

__all__ = ["router"]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 422)
}
router = APIRouter(prefix="/api/v1", responses=ERRORS, route_class=GuardedRoute)
UserId = Annotated[int, Path(ge=1, le=MAX_ID, description="a user's id")]


def _require_superuser(principal: Principal) -> None:
    if not principal.is_superuser:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only superusers may do this. Ask an administrator."
        )


def _not_found(kind: str, key: object) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{kind} {key!r} does not exist.")


# ---------------------------------------------------------------------- login
@router.post("/login/access-token", tags=["login"], response_model=Token)
def login(
    body: LoginRequest, session: SessionDep, context: ContextDep, response: Response
) -> Token:
    """Exchange username and password for an API token (and optionally the board cookie)."""
    user = session.scalar(select(User).where(User.username == body.username))
    # verify even for unknown users, so timing does not reveal which usernames exist
    valid = verify_password(user.password_hash if user else _DUMMY_HASH, body.password)
    if user is None or not valid or not user.is_active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Wrong username or password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, expires = issue_token(session, user, context.settings.token_days, "login")
    session.commit()
    if body.set_cookie:
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            max_age=int(context.settings.token_hours * 3600),
        )
    return Token(access_token=token, expires_at=expires)


@router.post("/logout", tags=["login"], status_code=204)
def logout(principal: PrincipalDep, session: SessionDep) -> Response:
    """Revoke the token this request is sent with (and clear the board's cookie)."""
    revoke_tokens(session, principal.user, principal.name, only=principal.token_id)
    session.commit()
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response


_DUMMY_HASH = hash_password("not a real password, only for timing")


# ---------------------------------------------------------------------- users
def _user_public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        is_superuser=user.is_superuser,
        is_active=user.is_active,
        memberships=[{"department": m.department.name, "role": m.role} for m in user.memberships],
    )  # type: ignore[misc]


def _department(session: SessionDep, name: str) -> DepartmentRow:
    row = session.scalar(select(DepartmentRow).where(DepartmentRow.name == name))
    if row is None:
        raise InvalidParameterError(
            "department", name, "an existing department", "GET /api/v1/departments lists them."
        )
    return row


@router.get("/users/me", tags=["users"], response_model=UserPublic)
def read_me(principal: PrincipalDep) -> UserPublic:
    """The authenticated user."""
    return _user_public(principal.user)


@router.get("/users", tags=["users"], response_model=list[UserPublic])
def list_users(principal: PrincipalDep, session: SessionDep) -> list[UserPublic]:
    """Superusers: everyone. Department admins: members of their departments. Others: self."""
    users = list(session.scalars(select(User).order_by(User.id)))
    if principal.is_superuser:
        return [_user_public(u) for u in users]
    mine = {d for d, r in principal.roles.items() if r == "admin"}
    return [
        _user_public(u)
        for u in users
        if u.id == principal.user.id or mine & {m.department.name for m in u.memberships}
    ]


@router.post("/users", tags=["users"], response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, principal: PrincipalDep, session: SessionDep) -> UserPublic:
    """Create a user (superusers only)."""
    _require_superuser(principal)
    if session.scalar(select(User).where(User.username == body.username)):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"username {body.username!r} is taken. Choose another."
        )
    user = User(
        username=body.username,
        full_name=body.full_name,
        password_hash=hash_password(body.password),
        is_superuser=body.is_superuser,
    )
    for m in body.memberships:
        user.memberships.append(
            Membership(department_id=_department(session, m.department).id, role=m.role)
        )
    session.add(user)
    session.flush()
    audit(
        session,
        principal.name,
        "user.create",
        "user",
        user.id,
        username=user.username,
        memberships=[m.model_dump() for m in body.memberships],
    )
    session.commit()
    session.refresh(user)
    return _user_public(user)


@router.get("/users/{user_id}", tags=["users"], response_model=UserPublic)
def read_user(user_id: UserId, principal: PrincipalDep, session: SessionDep) -> UserPublic:
    """One user (self, superusers, admins of one of the user's departments)."""
    user = session.get(User, user_id)
    if user is None:
        raise _not_found("user", user_id)
    admin_of = {d for d, r in principal.roles.items() if r == "admin"}
    if not (
        principal.is_superuser
        or user.id == principal.user.id
        or admin_of & {m.department.name for m in user.memberships}
    ):
        raise _not_found("user", user_id)
    return _user_public(user)


@router.patch("/users/{user_id}", tags=["users"], response_model=UserPublic)
def update_user(
    user_id: UserId, body: UserUpdate, principal: PrincipalDep, session: SessionDep
) -> UserPublic:
    """Change name or password (self or superuser) or the active flag (superuser)."""
    user = session.get(User, user_id)
    if user is None or not (principal.is_superuser or user.id == principal.user.id):
        raise _not_found("user", user_id)
    if body.is_active is not None:
        _require_superuser(principal)
        user.is_active = body.is_active
        if not body.is_active:  # its tokens end now, and do not come back with the user
            revoke_tokens(session, user, principal.name)
    if body.full_name is not None:
        user.full_name = body.full_name
    if body.password is not None:
        user.password_hash = hash_password(body.password)
        # a new password ends every other session of the user (the one making the change
        # goes on when it is the user's own)
        keep = principal.token_id if user.id == principal.user.id else None
        revoke_tokens(session, user, principal.name, keep=keep)
    audit(
        session,
        principal.name,
        "user.update",
        "user",
        user.id,
        fields=sorted(body.model_dump(exclude_none=True, exclude={"password"}))
        + (["password"] if body.password else []),
    )
    session.commit()
    return _user_public(user)


@router.delete("/users/{user_id}/tokens", tags=["users"], response_model=TokensRevoked)
def revoke_user_tokens(
    user_id: UserId, principal: PrincipalDep, session: SessionDep
) -> TokensRevoked:
    """Revoke every token of a user (superusers for anyone; anyone for themselves, which
    signs out everywhere, this request's token included)."""
    user = session.get(User, user_id)
    if user is None or not (principal.is_superuser or user.id == principal.user.id):
        raise _not_found("user", user_id)
    count = revoke_tokens(session, user, principal.name)
    session.commit()
    return TokensRevoked(user_id=user.id, revoked=count)


@router.put("/departments/{name}/members/{username}", tags=["users"], response_model=UserPublic)
def set_membership(
    name: str, username: str, body: MembershipIn, principal: PrincipalDep, session: SessionDep
) -> UserPublic:
    """Give a user a role in a department (its admins, or superusers)."""
    if body.department != name:
        raise InvalidParameterError(
            "department", body.department, f"the department of the path ({name!r})"
        )
    if not principal.at_least(name, "admin"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Only admins of {name!r} (or superusers) manage its members.",
        )
    dept = _department(session, name)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise _not_found("user", username)
    for m in user.memberships:
        if m.department_id == dept.id:
            m.role = body.role
            break
    else:
        user.memberships.append(Membership(department_id=dept.id, role=body.role))
    audit(
        session, principal.name, "membership.set", "user", user.id, department=name, role=body.role
    )
    session.commit()
    session.refresh(user)
    return _user_public(user)


@router.delete("/departments/{name}/members/{username}", tags=["users"], status_code=204)
def remove_membership(
    name: str, username: str, principal: PrincipalDep, session: SessionDep
) -> Response:
    """Take a user out of a department."""
    if not principal.at_least(name, "admin"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Only admins of {name!r} (or superusers) manage its members.",
        )
    dept = _department(session, name)
    user = session.scalar(select(User).where(User.username == username))
    member = (
        None
        if user is None
        else next((m for m in user.memberships if m.department_id == dept.id), None)
    )
    if user is None or member is None:
        raise _not_found("membership", f"{username}@{name}")
    user.memberships.remove(member)
    audit(session, principal.name, "membership.remove", "user", user.id, department=name)
    session.commit()
    return Response(status_code=204)


# ---------------------------------------------------------------------- calendars
def _calendar_public(row: CalendarRow) -> CalendarPublic:
    cal = calendar_of(row)
    d = cal.to_dict()
    return CalendarPublic(
        id=row.id,
        name=row.name,
        timezone=row.timezone,
        hours=d["hours"],
        holidays=d["holidays"],
        country=row.country,
        subdivision=row.subdivision,
        open_hours_per_week=cal.open_seconds_per_week() / 3600,
        version=row.version,
    )


@router.get("/calendars", tags=["calendars"], response_model=list[CalendarPublic])
def list_calendars(principal: PrincipalDep, session: SessionDep) -> list[CalendarPublic]:  # noqa: ARG001 - authentication only
    """All business-hours calendars."""
    return [
        _calendar_public(r) for r in session.scalars(select(CalendarRow).order_by(CalendarRow.id))
    ]


@router.get("/calendars/{name}", tags=["calendars"], response_model=CalendarPublic)
def read_calendar(name: str, principal: PrincipalDep, session: SessionDep) -> CalendarPublic:  # noqa: ARG001 - authentication only
    """One calendar."""
    row = session.scalar(select(CalendarRow).where(CalendarRow.name == name))
    if row is None:
        raise _not_found("calendar", name)
    return _calendar_public(row)


@router.post("/calendars", tags=["calendars"], response_model=CalendarPublic, status_code=201)
def create_calendar(
    body: CalendarCreate, principal: PrincipalDep, session: SessionDep
) -> CalendarPublic:
    """Create a calendar (superusers)."""
    _require_superuser(principal)
    if session.scalar(select(CalendarRow).where(CalendarRow.name == body.name)):
        raise HTTPException(status.HTTP_409_CONFLICT, f"calendar {body.name!r} exists.")
    row = CalendarRow(
        name=body.name,
        timezone=body.timezone,
        hours=body.hours,
        holidays=[d.isoformat() for d in body.holidays],
        country=body.country,
        subdivision=body.subdivision,
    )
    calendar_of(row)  # validates: clear 422 before anything is stored
    session.add(row)
    session.flush()
    audit(
        session,
        principal.name,
        "calendar.create",
        "calendar",
        row.name,
        **body.model_dump(mode="json"),
    )
    bump_generation(session)
    session.commit()
    return _calendar_public(row)


@router.patch("/calendars/{name}", tags=["calendars"], response_model=CalendarPublic)
def update_calendar(
    name: str, body: CalendarUpdate, principal: PrincipalDep, session: SessionDep
) -> CalendarPublic:
    """Change a calendar (superusers); running clocks use it from the next change on."""
    _require_superuser(principal)
    row = session.scalar(select(CalendarRow).where(CalendarRow.name == name))
    if row is None:
        raise _not_found("calendar", name)
    changes = body.model_dump(exclude_unset=True, mode="json")
    for key, value in changes.items():
        setattr(row, key, value)
    calendar_of(row)
    audit(session, principal.name, "calendar.update", "calendar", name, **changes)
    bump_generation(session)
    session.commit()
    return _calendar_public(row)


# ---------------------------------------------------------------------- policies
def _policy_public(row: PolicyRow) -> PolicyPublic:
    d = policy_of(row).to_dict()
    return PolicyPublic(
        id=row.id, name=row.name, targets=d["targets"], ladder=d["ladder"], version=row.version
    )


def _policy_json(name: str, targets: list[Any], ladder: list[Any] | None) -> dict[str, Any]:
    spec = {
        "name": name,
        "targets": [t.model_dump() for t in targets],
        "ladder": None if ladder is None else [s.model_dump() for s in ladder],
    }
    return SlaPolicy.from_dict(spec).to_dict()  # validated and normalised to seconds


@router.get("/policies", tags=["policies"], response_model=list[PolicyPublic])
def list_policies(principal: PrincipalDep, session: SessionDep) -> list[PolicyPublic]:  # noqa: ARG001 - authentication only
    """All SLA policies."""
    return [_policy_public(r) for r in session.scalars(select(PolicyRow).order_by(PolicyRow.id))]


@router.get("/policies/{name}", tags=["policies"], response_model=PolicyPublic)
def read_policy(name: str, principal: PrincipalDep, session: SessionDep) -> PolicyPublic:  # noqa: ARG001 - authentication only
    """One SLA policy."""
    row = session.scalar(select(PolicyRow).where(PolicyRow.name == name))
    if row is None:
        raise _not_found("policy", name)
    return _policy_public(row)


@router.post("/policies", tags=["policies"], response_model=PolicyPublic, status_code=201)
def create_policy(body: PolicyCreate, principal: PrincipalDep, session: SessionDep) -> PolicyPublic:
    """Create an SLA policy (superusers)."""
    _require_superuser(principal)
    if session.scalar(select(PolicyRow).where(PolicyRow.name == body.name)):
        raise HTTPException(status.HTTP_409_CONFLICT, f"policy {body.name!r} exists.")
    spec = _policy_json(body.name, body.targets, body.ladder)
    row = PolicyRow(name=body.name, targets=spec["targets"], ladder=spec["ladder"])
    session.add(row)
    session.flush()
    audit(session, principal.name, "policy.create", "policy", row.name, **spec)
    bump_generation(session)
    session.commit()
    return _policy_public(row)


@router.patch("/policies/{name}", tags=["policies"], response_model=PolicyPublic)
def update_policy(
    name: str, body: PolicyUpdate, principal: PrincipalDep, session: SessionDep
) -> PolicyPublic:
    """Change targets or ladder (superusers); clocks already running keep their targets."""
    _require_superuser(principal)
    row = session.scalar(select(PolicyRow).where(PolicyRow.name == name))
    if row is None:
        raise _not_found("policy", name)
    current = policy_of(row)
    targets = body.targets
    spec = SlaPolicy.from_dict(
        {
            "name": name,
            "targets": current.to_dict()["targets"]
            if targets is None
            else [t.model_dump() for t in targets],
            "ladder": current.to_dict()["ladder"]
            if body.ladder is None
            else [s.model_dump() for s in body.ladder],
        }
    ).to_dict()
    row.targets, row.ladder = spec["targets"], spec["ladder"]
    audit(session, principal.name, "policy.update", "policy", name, **spec)
    bump_generation(session)
    session.commit()
    return _policy_public(row)


# ---------------------------------------------------------------------- departments
def _department_public(row: DepartmentRow) -> DepartmentPublic:
    return DepartmentPublic(
        id=row.id,
        name=row.name,
        calendar=row.calendar.name,
        policy=row.policy.name,
        lead=row.lead,
        stages=list(row.stages or ()) or [row.name],
        version=row.version,
    )


def _named(session: SessionDep, model: type[Any], name: str, field: str) -> Any:
    row = session.scalar(select(model).where(model.name == name))
    if row is None:
        raise InvalidParameterError(
            field,
            name,
            f"an existing {field}",
            f"Create it first (POST /api/v1/{field}s... ) or check the spelling.",
        )
    return row


def _check_stages(session: SessionDep, name: str, stages: list[str]) -> None:
    if len(set(stages)) != len(stages):
        raise InvalidParameterError("stages", stages, "distinct names")
    for other in session.scalars(select(DepartmentRow).where(DepartmentRow.name != name)):
        clash = set(stages) & set(other.stages or [other.name])
        if clash:
            raise InvalidParameterError(
                "stages",
                sorted(clash),
                f"not owned by another department ({other.name!r})",
                "Each stage has one owning department.",
            )


@router.get("/departments", tags=["departments"], response_model=list[DepartmentPublic])
def list_departments(principal: PrincipalDep, session: SessionDep) -> list[DepartmentPublic]:  # noqa: ARG001 - authentication only
    """All departments (names are not secret; their cases are)."""
    return [
        _department_public(r)
        for r in session.scalars(select(DepartmentRow).order_by(DepartmentRow.id))
    ]


@router.get("/departments/{name}", tags=["departments"], response_model=DepartmentPublic)
def read_department(name: str, principal: PrincipalDep, session: SessionDep) -> DepartmentPublic:  # noqa: ARG001 - authentication only
    """One department."""
    row = session.scalar(select(DepartmentRow).where(DepartmentRow.name == name))
    if row is None:
        raise _not_found("department", name)
    return _department_public(row)


@router.post("/departments", tags=["departments"], response_model=DepartmentPublic, status_code=201)
def create_department(
    body: DepartmentCreate, principal: PrincipalDep, session: SessionDep
) -> DepartmentPublic:
    """Create a department (superusers)."""
    _require_superuser(principal)
    if body.name == EXCEPTIONS:
        raise InvalidParameterError(
            "name", body.name, "not the exception queue's name", "Choose another name."
        )
    if session.scalar(select(DepartmentRow).where(DepartmentRow.name == body.name)):
        raise HTTPException(status.HTTP_409_CONFLICT, f"department {body.name!r} exists.")
    stages = body.stages or [body.name]
    _check_stages(session, body.name, stages)
    row = DepartmentRow(
        name=body.name,
        lead=body.lead,
        stages=stages,
        calendar_id=_named(session, CalendarRow, body.calendar, "calendar").id,
        policy_id=_named(session, PolicyRow, body.policy, "policy").id,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    audit(session, principal.name, "department.create", "department", row.name, **body.model_dump())
    bump_generation(session)
    session.commit()
    return _department_public(row)


@router.patch("/departments/{name}", tags=["departments"], response_model=DepartmentPublic)
def update_department(
    name: str, body: DepartmentUpdate, principal: PrincipalDep, session: SessionDep
) -> DepartmentPublic:
    """Change a department (its admins or superusers)."""
    row = session.scalar(select(DepartmentRow).where(DepartmentRow.name == name))
    if row is None:
        raise _not_found("department", name)
    if not principal.at_least(name, "admin"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"Only admins of {name!r} (or superusers) change it."
        )
    changes = body.model_dump(exclude_unset=True)
    if "calendar" in changes and body.calendar is not None:
        row.calendar_id = _named(session, CalendarRow, body.calendar, "calendar").id
    if "policy" in changes and body.policy is not None:
        row.policy_id = _named(session, PolicyRow, body.policy, "policy").id
    if "lead" in changes:
        row.lead = body.lead
    if body.stages is not None:
        _check_stages(session, name, body.stages)
        row.stages = body.stages or [name]
    audit(session, principal.name, "department.update", "department", name, **changes)
    bump_generation(session)
    session.commit()
    session.refresh(row)
    return _department_public(row)


# ---------------------------------------------------------------------- routing
@router.get("/routing", tags=["departments"], response_model=RoutingPublic)
def read_routing(principal: PrincipalDep, session: SessionDep) -> RoutingPublic:  # noqa: ARG001 - authentication only
    """Where new cases go, the priority matrix and the end-to-end case policy."""
    return RoutingPublic(
        routes=_config_value(session, "routes", {}) or {},
        priority_matrix=_config_value(session, "priority_matrix")
        or PriorityMatrix.itil().to_rows(),
        case_policy=_config_value(session, "case_policy"),
    )


@router.put("/routing", tags=["departments"], response_model=RoutingPublic)
def update_routing(
    body: RoutingConfig, principal: PrincipalDep, session: SessionDep
) -> RoutingPublic:
    """Replace routes, matrix and case policy (superusers)."""
    _require_superuser(principal)
    depts = list(session.scalars(select(DepartmentRow)))
    targets = {d.name for d in depts} | {s for d in depts for s in (d.stages or [d.name])}
    for category, target in body.routes.items():
        if target not in targets:
            raise InvalidParameterError(
                f"routes[{category!r}]",
                target,
                "a department or stage name",
                f"Known: {sorted(targets)}.",
            )
    matrix = (
        None if body.priority_matrix is None else [row.model_dump() for row in body.priority_matrix]
    )
    if matrix is not None:
        PriorityMatrix.from_rows(matrix)
    if body.case_policy is not None:
        _named(session, PolicyRow, body.case_policy, "policy")
    set_config_value(session, "routes", body.routes)
    set_config_value(session, "priority_matrix", matrix)
    set_config_value(session, "case_policy", body.case_policy)
    audit(session, principal.name, "routing.update", "service", "routing", **body.model_dump())
    bump_generation(session)
    session.commit()
    return read_routing(principal, session)


# ---------------------------------------------------------------------- audit log
@router.get("/audit-log", tags=["audit"], response_model=list[AuditPublic])
def read_audit_log(
    principal: PrincipalDep,
    session: SessionDep,
    after_id: int = Query(default=0, ge=0, le=MAX_ID),
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[AuditPublic]:
    """Every change, oldest first after ``after_id`` (superusers)."""
    _require_superuser(principal)
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.id > after_id).order_by(AuditEntry.id).limit(limit)
    )
    return [AuditPublic.model_validate(r, from_attributes=True) for r in rows]
