"""Request and response schemas: separate Create / Update / Public models per resource."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from contactops.service._guard import MAX_ID

__all__ = [
    "Board",
    "BoardCase",
    "BoardDepartment",
    "BoardStage",
    "CalendarCreate",
    "CalendarPublic",
    "CalendarUpdate",
    "CaseCreate",
    "CasePublic",
    "CaseUpdate",
    "ClockPublic",
    "DepartmentCreate",
    "DepartmentPublic",
    "DepartmentUpdate",
    "DisputeCreate",
    "ErrorBody",
    "EventPublic",
    "HandoffCreate",
    "HandoffPublic",
    "LoginRequest",
    "MatrixRow",
    "MembershipIn",
    "MembershipPublic",
    "PolicyCreate",
    "PolicyPublic",
    "PolicyUpdate",
    "RoutingConfig",
    "RoutingPublic",
    "Token",
    "TokensRevoked",
    "TransitionIn",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]

Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_. -]*$")
Label = Annotated[str, Field(min_length=1, max_length=64)]
"""A stage or department named inside a list (the columns hold 64 characters)."""
Role = Literal["agent", "lead", "admin"]
Duration = str | float | None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidationIssue(BaseModel):
    """One thing wrong with a request: where (``["body", "title"]``), what and its kind."""

    loc: list[str]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error: what was wrong, with the field, value, rule and fix when known
    (``errors`` lists each problem of a request that failed validation)."""

    detail: str
    field: str | None = None
    value: Any = None
    rule: str | None = None
    fix: str | None = None
    errors: list[ValidationIssue] | None = None


class LoginRequest(_In):
    """Username and password for a token; ``set_cookie`` also sets the board's cookie."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    set_cookie: bool = False


class Token(BaseModel):
    """An API token: send it as ``Authorization: Bearer <token>``."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type name, not a secret
    expires_at: datetime


class TokensRevoked(BaseModel):
    """How many tokens of a user were revoked."""

    user_id: int
    revoked: int


class MembershipIn(_In):
    """A role in a department."""

    department: str = Name
    role: Role


class MembershipPublic(BaseModel):
    """A role in a department."""

    department: str
    role: Role


class UserCreate(_In):
    """A new user (superusers only)."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    password: str = Field(min_length=8, max_length=128)
    full_name: str = Field(default="", max_length=200)
    is_superuser: bool = False
    memberships: list[MembershipIn] = Field(default_factory=list, max_length=50)


class UserUpdate(_In):
    """Change a user: name and password (self or superuser), active flag (superuser)."""

    full_name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, min_length=8, max_length=128)
    is_active: bool | None = None


class UserPublic(BaseModel):
    """A user as others see it (never the password hash)."""

    id: int
    username: str
    full_name: str
    is_superuser: bool
    is_active: bool
    memberships: list[MembershipPublic]


class CalendarCreate(_In):
    """A business-hours calendar."""

    name: str = Name
    timezone: str = Field(default="UTC", max_length=64)
    hours: str | dict[str, str] = Field(
        default="mon-fri 09:00-17:00",
        description='"mon-fri 09:00-17:00; sat 10:00-14:00", "24x7", or {"mon-fri": "09:00-17:00"}',
    )
    holidays: list[date] = Field(default_factory=list, max_length=1000)
    country: str | None = Field(
        default=None, max_length=8, description="public holidays of this ISO country code"
    )
    subdivision: str | None = Field(default=None, max_length=16)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class CalendarUpdate(_In):
    """Change a calendar (fields left out stay; ``timezone``, ``hours`` and ``holidays``
    cannot be null, ``country`` and ``subdivision`` can)."""

    # None is only the "left out" default, never a value a client may send: not in the schema
    timezone: str | SkipJsonSchema[None] = Field(
        default=None, max_length=64, json_schema_extra=_no_default
    )
    hours: str | dict[str, str] | SkipJsonSchema[None] = Field(
        default=None,
        description=CalendarCreate.model_fields["hours"].description,
        json_schema_extra=_no_default,
    )
    holidays: list[date] | SkipJsonSchema[None] = Field(
        default=None, max_length=1000, json_schema_extra=_no_default
    )
    country: str | None = Field(default=None, max_length=8)
    subdivision: str | None = Field(default=None, max_length=16)

    @field_validator("timezone", "hours", "holidays", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, but not null (a calendar always has one)")
        return value


class CalendarPublic(BaseModel):
    """A calendar as stored."""

    id: int
    name: str
    timezone: str
    hours: dict[str, str]
    holidays: list[str]
    country: str | None
    subdivision: str | None
    open_hours_per_week: float
    version: int


class TargetIn(_In):
    """Targets for one priority and tier; durations as seconds or text ("4h")."""

    priority: int = Field(ge=1, le=9)
    tier: str = Field(default="*", min_length=1, max_length=32)
    response: Duration = None
    resolution: Duration = None


class StepIn(_In):
    """One escalation step."""

    share: float = Field(gt=0, le=10)
    action: Literal["warn", "notify_lead", "raise_priority", "reassign"]
    to: str | None = Field(default=None, min_length=1, max_length=64)
    clocks: list[Literal["response", "resolution", "case"]] = Field(
        default_factory=lambda: ["response", "resolution", "case"], min_length=1
    )


class PolicyCreate(_In):
    """An SLA policy; ``ladder`` left out gives the default (75% warn; at breach notify
    the lead, raise priority, reassign)."""

    name: str = Name
    targets: list[TargetIn] = Field(min_length=1, max_length=200)
    ladder: list[StepIn] | None = Field(default=None, max_length=50)


class PolicyUpdate(_In):
    """Change a policy's targets or ladder."""

    targets: list[TargetIn] | None = Field(default=None, min_length=1, max_length=200)
    ladder: list[StepIn] | None = Field(default=None, max_length=50)


class PolicyPublic(BaseModel):
    """A policy; targets in seconds."""

    id: int
    name: str
    targets: list[dict[str, Any]]
    ladder: list[dict[str, Any]]
    version: int


class DepartmentCreate(_In):
    """A department with its calendar, SLA policy, lead and stages (by name)."""

    name: str = Name
    calendar: str = Name
    policy: str = Name
    lead: str | None = Field(default=None, max_length=64)
    stages: list[Label] = Field(default_factory=list, max_length=50)


class DepartmentUpdate(_In):
    """Change a department (fields left out stay)."""

    calendar: str | None = Field(default=None, max_length=64)
    policy: str | None = Field(default=None, max_length=64)
    lead: str | None = Field(default=None, max_length=64)
    stages: list[Label] | None = Field(default=None, max_length=50)


class DepartmentPublic(BaseModel):
    """A department."""

    id: int
    name: str
    calendar: str
    policy: str
    lead: str | None
    stages: list[str]
    version: int


class MatrixRow(_In):
    """One cell of the priority matrix: this impact and urgency give this priority."""

    impact: str = Field(min_length=1, max_length=32)
    urgency: str = Field(min_length=1, max_length=32)
    priority: int = Field(ge=1, le=9)


class RoutingConfig(_In):
    """Where new cases go (category -> department or stage), the priority matrix and the
    end-to-end case policy."""

    routes: dict[str, str] = Field(default_factory=dict)
    priority_matrix: list[MatrixRow] | None = Field(default=None, min_length=1, max_length=100)
    case_policy: str | None = Field(default=None, max_length=64)


class RoutingPublic(BaseModel):
    """The routing as stored: routes, the priority matrix's rows and the case policy."""

    routes: dict[str, str]
    priority_matrix: list[dict[str, Any]] | None
    case_policy: str | None


class CaseCreate(_In):
    """A new case: routed by stage, department or category (unknown: the exception queue)."""

    title: str = Field(min_length=1, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    impact: str = Field(default="2", min_length=1, max_length=32)
    urgency: str = Field(default="2", min_length=1, max_length=32)
    tier: str = Field(default="*", min_length=1, max_length=32)
    department: str | None = Field(default=None, max_length=64)
    stage: str | None = Field(default=None, max_length=64)
    priority: int | None = Field(default=None, ge=1, le=9)


class CaseUpdate(_In):
    """Change title, assignee (same department) or priority (leads); ``expected_version``
    makes the change conditional (409 when someone else changed the case first)."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    assignee: str | None = Field(default=None, max_length=64)
    unassign: bool = False
    priority: int | None = Field(default=None, ge=1, le=9)
    reason: str | None = Field(default=None, max_length=1000)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID)


class TransitionIn(_In):
    """A state change of a case."""

    action: Literal["respond", "wait_on_customer", "customer_replied", "resolve", "reopen", "close"]
    note: str | None = Field(default=None, max_length=2000)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID)


class HandoffCreate(_In):
    """Hand the case to another department (or a stage; the department follows)."""

    to_department: str | None = Field(default=None, min_length=1, max_length=64)
    stage: str | None = Field(default=None, min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=1000)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID)


class DisputeCreate(_In):
    """Departments disagree on the owner: the case goes to the exception queue."""

    departments: list[Label] = Field(min_length=2, max_length=10)
    reason: str = Field(default="", max_length=1000)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_ID)


class ClockPublic(BaseModel):
    """An SLA clock as of the response."""

    id: int
    kind: str
    department: str
    state: str
    target_s: float
    elapsed_s: float
    remaining_s: float
    due_at: datetime | None
    breached: bool
    outcome: str | None


class CasePublic(BaseModel):
    """A case with its clocks; ``version`` for conditional updates."""

    id: int
    title: str
    category: str | None
    tier: str
    impact: str
    urgency: str
    priority: int
    department: str
    stage: str
    status: str
    assignee: str | None
    exception_reason: str | None
    opened_at: datetime
    updated_at: datetime
    version: int
    clocks: list[ClockPublic]


class EventPublic(BaseModel):
    """One entry of a case's history."""

    id: int
    case_id: int
    seq: int
    at: datetime
    recorded_at: datetime
    actor: str
    kind: str
    data: dict[str, Any]


class HandoffPublic(BaseModel):
    """One handoff."""

    id: int
    case_id: int
    at: datetime
    actor: str
    from_department: str
    to_department: str
    from_stage: str
    to_stage: str
    reason: str | None


class AuditPublic(BaseModel):
    """One entry of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any]


class BoardClock(BaseModel):
    """A clock on the board."""

    kind: str
    state: str
    remaining_s: float
    due_at: datetime | None
    breached: bool


class BoardCase(BaseModel):
    """A case on the board."""

    id: int
    title: str
    priority: int
    status: str
    assignee: str | None
    department: str
    stage: str
    exception_reason: str | None
    breached: bool
    warned: bool
    remaining_s: float | None
    clocks: list[BoardClock]


class BoardStage(BaseModel):
    """A stage column of the board."""

    name: str
    cases: list[BoardCase]


class BoardDepartment(BaseModel):
    """A department row of the board."""

    name: str
    open_cases: int
    breached: int
    stages: list[BoardStage]


class Board(BaseModel):
    """The case board: open cases by department and stage, and the exception queue."""

    generated_at: datetime
    departments: list[BoardDepartment]
    exceptions: list[BoardCase] | None
