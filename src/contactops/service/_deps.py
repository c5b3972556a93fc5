"""Typed dependencies: the database session and the authenticated user with their roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from contactops.cases import EXCEPTIONS
from contactops.service._models import ApiToken, User
from contactops.service._security import hash_token

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.orm import sessionmaker

    from contactops.service._settings import Settings
    from contactops.service._store import CaseStore

__all__ = ["COOKIE", "AppContext", "Principal", "get_context", "get_principal", "get_session"]

COOKIE = "contactops_token"
ROLE_RANK = {"agent": 1, "lead": 2, "admin": 3}


@dataclass
class AppContext:
    """What the routes share: settings, the session factory and the case store."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: CaseStore


def get_context(request: Request) -> AppContext:
    """The application's context."""
    return request.app.state.context  # type: ignore[no-any-return]


def get_session(context: Annotated[AppContext, Depends(get_context)]) -> Iterator[Session]:
    """One session per request; the route commits, anything else rolls back."""
    with context.sessions() as session:
        yield session


@dataclass
class Principal:
    """The authenticated user and their role per department."""

    user: User
    roles: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The username, as written in histories and the audit log."""
        return self.user.username

    @property
    def is_superuser(self) -> bool:
        """Superusers see and change everything."""
        return self.user.is_superuser

    def role(self, department: str) -> str | None:
        """The user's role in ``department`` (None: not a member)."""
        return self.roles.get(department)

    def at_least(self, department: str, role: str) -> bool:
        """True for superusers and members of ``department`` with ``role`` or above."""
        if self.is_superuser:
            return True
        have = self.roles.get(department)
        return have is not None and ROLE_RANK[have] >= ROLE_RANK[role]

    @property
    def triages(self) -> bool:
        """Sees the exception queue: superusers, and leads or admins of any department."""
        return self.is_superuser or any(ROLE_RANK[r] >= 2 for r in self.roles.values())

    def can_see(self, department: str) -> bool:
        """May read (and work) cases held by ``department``."""
        if department == EXCEPTIONS:
            return self.triages
        return self.is_superuser or department in self.roles

    def visible_departments(self, all_names: list[str]) -> list[str]:
        """The departments whose cases this user sees."""
        return [d for d in all_names if self.can_see(d)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message,
                         headers={"WWW-Authenticate": "Bearer"})


def get_principal(request: Request,
                  session: Annotated[Session, Depends(get_session)]) -> Principal:
    """The user behind the request's token (``Authorization: Bearer``; the board's cookie
    is accepted on GET requests only, so a cookie can never change anything)."""
    header = request.headers.get("authorization")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("Authorization must be 'Bearer <token>'. Get a token from "
                                "POST /api/v1/login/access-token.")
        token = value.strip()
    elif request.method == "GET":
        token = request.cookies.get(COOKIE)
    if not token:
        raise _unauthorized("Not authenticated: send 'Authorization: Bearer <token>' "
                            "(POST /api/v1/login/access-token gives one).")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.expires_at <= datetime.now(UTC):
        raise _unauthorized("The token is unknown or expired. Log in again for a new one.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise _unauthorized("The token's user is deactivated.")
    roles = {m.department.name: m.role for m in user.memberships}
    return Principal(user, roles)


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ContextDep = Annotated[AppContext, Depends(get_context)]
