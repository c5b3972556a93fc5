"""``contactops serve``, ``contactops cases tick`` and ``contactops cases replay-servicenow``."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import typer

from contactops.cli._app import app, check_file, console, escape, user_errors
from contactops.errors import InvalidParameterError

cases_app = typer.Typer(help="Cross-department cases and their SLA clocks.", no_args_is_help=True)
app.add_typer(cases_app, name="cases")


@app.command("serve")
def serve(
    host: str = typer.Option(
        None, help="Address to listen on (default 127.0.0.1, or CONTACTOPS_HOST)."
    ),
    port: int = typer.Option(None, help="Port (default 8000, or CONTACTOPS_PORT)."),
    database_url: str = typer.Option(
        None,
        "--database-url",
        help="SQLAlchemy URL (default: the SQLite file "
        "./contactops-service.db, or CONTACTOPS_DATABASE_URL).",
    ),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Seed four demo departments with "
        "leads and agents (password printed) on an empty database.",
    ),
    tick_seconds: float = typer.Option(None, help="SLA clock period in seconds (0: off)."),
) -> None:
    """Start the case service and its board; prints the address and a first admin token."""
    import uvicorn
    from sqlalchemy import select

    from contactops.service import Settings, create_app, first_admin, seed_demo
    from contactops.service._models import DepartmentRow

    with user_errors():
        settings = Settings.from_env(
            host=host, port=port, database_url=database_url, tick_seconds=tick_seconds
        )
        application = create_app(settings)
        sessions = application.state.context.sessions
        with sessions() as session:
            seeded = None
            if (
                demo
                and session.scalar(select(DepartmentRow).where(DepartmentRow.name != "exceptions"))
                is None
            ):
                seeded = secrets.token_urlsafe(9)
                users = seed_demo(session, seeded)
            username, password, token = first_admin(session, settings.token_days)
            session.commit()
    address = f"http://{settings.host}:{settings.port}"
    console.print(
        f"contactops case service on [bold]{escape(address)}[/] "
        f"(database {escape(settings.database_url)})",
        highlight=False,
    )
    console.print(
        escape(f"board: {address}/board   API: {address}/api/v1   OpenAPI: {address}/openapi.json"),
        highlight=False,
    )
    console.print(f"admin token ({username}): {token}", highlight=False)
    if password:
        console.print(
            f"first admin created: user {username}, password {password} "
            "(change it: PATCH /api/v1/users/{id})",
            highlight=False,
        )
    if seeded:
        console.print(f"demo users {', '.join(sorted(users))}; password {seeded}", highlight=False)
    uvicorn.run(application, host=settings.host, port=settings.port, log_level="warning")


@cases_app.command("tick")
def tick(
    database_url: str = typer.Option(
        None,
        "--database-url",
        help="SQLAlchemy URL (default: CONTACTOPS_DATABASE_URL or the SQLite file).",
    ),
    at: str = typer.Option(
        None,
        "--at",
        help="Run the clocks up to this ISO instant (default now); for replays and tests.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Run the SLA clocks once (for cron); running it twice adds nothing the second time."""
    from sqlalchemy.exc import OperationalError

    from contactops.service import (
        CaseStore,
        Settings,
        make_engine,
        make_sessionmaker,
        migrate,
        tick_all,
    )

    with user_errors():
        now = datetime.now(UTC)
        if at is not None:
            try:
                now = datetime.fromisoformat(at)
            except ValueError:
                raise InvalidParameterError(
                    "--at", at, "an ISO 8601 instant", 'Write e.g. "2026-03-02T09:00:00+00:00".'
                ) from None
            if now.tzinfo is None:
                raise InvalidParameterError(
                    "--at", at, "an instant with a UTC offset", 'Add "+00:00" or "Z".'
                )
        settings = Settings.from_env(database_url=database_url)
        _check_store(settings.database_url)
        engine = make_engine(settings.sqlalchemy_url)
        try:
            migrate(engine)
            result = tick_all(make_sessionmaker(engine), CaseStore(), now)
        except OperationalError as exc:
            raise InvalidParameterError(
                "--database-url",
                settings.database_url,
                "a case store that can be opened",
                "The database said: " + " ".join(str(exc.orig).split())[:200],
            ) from None
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(result))
    else:
        console.print(
            f"SLA clock at {now.isoformat()}: {result['due']} case(s) due, "
            f"{result['events']} event(s) recorded",
            highlight=False,
        )


def _check_store(url: str) -> None:
    """A job that only runs the clocks never creates a store: the SQLite file must exist."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidParameterError(
            "--database-url",
            url,
            "a SQLAlchemy URL",
            "e.g. sqlite:///./contactops-service.db or postgresql://user@host/contactops.",
        ) from None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    if not path.is_file():
        raise InvalidParameterError(
            "--database-url",
            url,
            "the URL of an existing case store",
            f"There is no store at {path}: start the service there once (contactops serve), "
            "or point --database-url (or CONTACTOPS_DATABASE_URL) at the service's database.",
        )


@cases_app.command("replay-servicenow")
def replay(
    path: Path = typer.Argument(..., help="incident_event_log.csv of the ServiceNow log."),
    out: Path = typer.Option(None, "--out", help="Write the Markdown report here."),
    limit: int = typer.Option(None, "--limit", help="Only the first N incidents."),
) -> None:
    """Replay the ServiceNow incident event log and compare with its made_sla."""
    from contactops.cases._report import servicenow_report

    with user_errors():
        check_file(path, "PATH", text=True, what="CSV file")
        text, summary = servicenow_report(path, limit=limit)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}", highlight=False)
    else:
        typer.echo(text)
    console.print(json.dumps(summary), highlight=False)
