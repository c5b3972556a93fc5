"""Typed dependencies: the database session and the authenticated user with their roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
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

__all__ = [
    "BEARER",
    "COOKIE",
    "AppContext",
    "Principal",
    "get_context",
    "get_principal",
    "get_session",
]

COOKIE = "contactops_token"
READS = frozenset({"GET", "HEAD"})
"""The methods the board's cookie authenticates; every other method needs the header."""
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`Authorization: Bearer <token>` (the scheme name in any case, RFC 7235); "
    "tokens from POST /api/v1/login/access-token. The board's sign-in cookie also "
    "authenticates GET requests, never writes.",
)
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
    token_id: int | None = None

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
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


def request_token(request: Request) -> str | None:
    """The token a request authenticates with, by the one rule of the service.

    ``Authorization: Bearer <token>`` on any request; the scheme name is
    case-insensitive (RFC 7235: ``bearer`` and ``BEARER`` work). Without that
    header, the board's ``contactops_token`` cookie on GET and HEAD requests only:
    a cookie never authenticates a write, so a page of another site cannot make a
    signed-in browser change anything (no CSRF), whatever its SameSite support.

    Raises
    ------
    HTTPException
        401 when the header is there but is not ``Bearer <token>``.
    """
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized(
                "Authorization must be 'Bearer <token>'. Get a token from "
                "POST /api/v1/login/access-token."
            )
        return value.strip()
    if request.method in READS:
        return request.cookies.get(COOKIE) or None
    return None


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Principal:
    """The user behind the request's token (see :func:`request_token` for the rule);
    401 for no token, an unknown, expired or revoked one, or a deactivated user."""
    token = request_token(request)
    if not token:
        cookie_only = request.method not in READS and request.cookies.get(COOKIE)
        raise _unauthorized(
            "Not authenticated: send 'Authorization: Bearer <token>' "
            "(POST /api/v1/login/access-token gives one)."
            + (
                " The sign-in cookie authenticates GET requests only, never a change."
                if cookie_only
                else ""
            )
        )
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.expires_at <= datetime.now(UTC):
        raise _unauthorized("The token is unknown, expired or revoked. Log in again for a new one.")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise _unauthorized("The token's user is deactivated.")
    roles = {m.department.name: m.role for m in user.memberships}
    return Principal(user, roles, token_id=row.id)


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ContextDep = Annotated[AppContext, Depends(get_context)]
