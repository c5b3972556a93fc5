"""The one Settings object of the service, read from ``CONTACTOPS_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./contactops-service.db"
MAX_TOKEN_HOURS = 366 * 24.0


@dataclass(frozen=True)
class Settings:
    """Service settings; every field can be set as ``CONTACTOPS_<NAME>`` in the environment.

    database_url
        SQLAlchemy URL: the embedded SQLite file by default; ``postgresql://...``
        (psycopg 3) for PostgreSQL.
    host, port
        Where ``contactops serve`` listens (loopback by default).
    tick_seconds
        Period of the background SLA clock job; 0 turns it off (``contactops
        cases tick`` from cron instead).
    max_body_bytes
        Larger request bodies get 413.
    token_hours
        Lifetime of API tokens and of the board's sign-in cookie, in hours (12 by
        default; more than 0, at most a year). A token also ends when it is revoked
        (``POST /api/v1/logout``, ``DELETE /api/v1/users/{id}/tokens``), when its user
        changes password, or when its user is deactivated.
    board_refresh_seconds
        How often the case board page refreshes itself.
    """

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    tick_seconds: float = 30.0
    max_body_bytes: int = 64 * 1024
    token_hours: float = 12.0
    board_refresh_seconds: float = 5.0
    migrate: bool = field(default=True)

    def __post_init__(self) -> None:
        if not (0 < self.token_hours <= MAX_TOKEN_HOURS):  # also refuses NaN
            raise InvalidParameterError(
                "token_hours",
                self.token_hours,
                f"more than 0 and at most {MAX_TOKEN_HOURS:g} hours",
                "Set CONTACTOPS_TOKEN_HOURS, e.g. 12.",
            )

    @property
    def token_days(self) -> float:
        """The token lifetime in days (``token_hours / 24``; for callers that count days)."""
        return self.token_hours / 24

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then ``CONTACTOPS_*`` variables, then ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"CONTACTOPS_{f.name.upper()}")
            if raw is None:
                continue
            kind = type(getattr(cls(), f.name))
            try:
                values[f.name] = raw.lower() in {"1", "true", "yes"} if kind is bool else kind(raw)
            except ValueError:
                raise InvalidParameterError(
                    f"CONTACTOPS_{f.name.upper()}", raw, f"a {kind.__name__}"
                ) from None
        legacy = env.get("CONTACTOPS_TOKEN_DAYS")  # the setting's name before token_hours
        if legacy is not None and "token_hours" not in values:
            try:
                values["token_hours"] = float(legacy) * 24
            except ValueError:
                raise InvalidParameterError(
                    "CONTACTOPS_TOKEN_DAYS",
                    legacy,
                    "a number of days",
                    "Prefer CONTACTOPS_TOKEN_HOURS.",
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver named for bare ``postgresql://`` URLs."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
