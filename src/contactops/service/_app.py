"""The FastAPI application: routers, error rendering, body limit, the clock job, the board."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import uuid
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from contactops import __version__
from contactops.cases import InvalidTransitionError, UnknownCaseError
from contactops.errors import ContactopsError, InvalidParameterError
from contactops.service import _api_admin, _api_cases
from contactops.service._db import WRITE_INTENT, make_engine, make_sessionmaker, migrate
from contactops.service._deps import COOKIE, AppContext, get_principal
from contactops.service._guard import bad_text
from contactops.service._settings import Settings
from contactops.service._store import CaseStore, VersionConflictError, ensure_bootstrap, tick_all
from contactops.web import STATIC, page

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping

__all__ = ["create_app"]

log = logging.getLogger("contactops.service")
Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before the app reads them
    (and mark GET and HEAD requests as readers for the database, see ``WRITE_INTENT``)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        WRITE_INTENT.set(scope.get("method") not in ("GET", "HEAD"))
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable[[Message], Awaitable[None]]) -> None:
        payload = json.dumps(
            {
                "detail": f"request body is larger than {self.limit} bytes",
                "field": "body",
                "value": None,
                "rule": f"at most {self.limit} bytes",
                "fix": "Send less (the limit is CONTACTOPS_MAX_BODY_BYTES).",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _safe(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON a response can carry: lone surrogates escaped (``\\ud800``),
    non-finite floats as text, anything else ``repr``-ed (error bodies echo client input)."""
    if isinstance(value, str):
        return (
            value
            if bad_text(value) is None
            else (value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode())
        )
    if isinstance(value, bool | int | None):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth < 8 and isinstance(value, dict):
        return {str(_safe(k)): _safe(v, depth + 1) for k, v in list(value.items())[:50]}
    if depth < 8 and isinstance(value, list | tuple):
        return [_safe(v, depth + 1) for v in list(value)[:50]]
    return _safe(repr(value)[:200])


def _error(status_code: int, detail: str, **extra: Any) -> JSONResponse:
    """The one error body: ``detail``, ``field``, ``value``, ``rule``, ``fix`` (and
    ``errors`` for request validation)."""
    body = {"detail": detail, "field": None, "value": None, "rule": None, "fix": None}
    body.update(extra)
    return JSONResponse(
        _safe(jsonable_encoder(body, custom_encoder={bytes: repr})), status_code=status_code
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(InvalidParameterError)
    async def _invalid(_r: Request, exc: InvalidParameterError) -> JSONResponse:
        return _error(
            422, str(exc), field=exc.name, value=exc.value, rule=exc.rule, fix=exc.fix or None
        )

    @app.exception_handler(InvalidTransitionError)
    async def _transition(_r: Request, exc: InvalidTransitionError) -> JSONResponse:
        return _error(
            409, str(exc), field="status", value=exc.state, rule=exc.rule, fix=exc.fix or None
        )

    @app.exception_handler(UnknownCaseError)
    async def _unknown(_r: Request, exc: UnknownCaseError) -> JSONResponse:
        return _error(404, str(exc), field="case_id", value=exc.case_id)

    @app.exception_handler(VersionConflictError)
    async def _conflict(_r: Request, exc: VersionConflictError) -> JSONResponse:
        return _error(
            409,
            str(exc),
            field="expected_version",
            value=exc.expected,
            rule=f"equal to the case's version ({exc.actual})",
            fix="Read the case again and repeat your change.",
        )

    @app.exception_handler(StaleDataError)
    async def _stale(_r: Request, _exc: StaleDataError) -> JSONResponse:
        return _error(
            409,
            "the record was changed by another request at the same time; "
            "nothing of yours was saved",
            fix="Read it again and repeat the change.",
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # a duplicate name or a race on one: the client's conflict, but logged, since a
        # broken foreign key would land here too
        log.warning(
            "%s %s conflicts with stored data: %s",
            request.method,
            request.url.path,
            str(exc.orig).splitlines()[0][:200] if exc.orig else exc,
        )
        return _error(
            409,
            "the change conflicts with stored data (a duplicate name or a "
            "concurrent change); nothing was saved",
            rule=str(exc.orig).splitlines()[0][:200] if exc.orig else None,
        )

    @app.exception_handler(ContactopsError)
    async def _other(_r: Request, exc: ContactopsError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        for err in errors:  # FastAPI's own JSON errors keep the reason in ctx
            reason = (err.get("ctx") or {}).get("error")
            if err.get("type") == "json_invalid" and isinstance(reason, str):
                err["msg"] = f"the body is not valid JSON: {reason}"
                err["loc"] = ("body",)
        parts = []
        for err in errors[:5]:
            where = ".".join(str(x) for x in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg')}")
        first = errors[0] if errors else {}
        value = first.get("input")
        if isinstance(value, bytes | bytearray):
            value = value[:200].decode("utf-8", "replace")
        return _error(
            422,
            "; ".join(parts) or "invalid request",
            field=".".join(str(x) for x in first.get("loc", ())) or None,
            value=value
            if isinstance(value, str | int | float | bool | None)
            else repr(value)[:200],
            rule=first.get("msg"),
            fix="Check the request against the OpenAPI schema at /openapi.json.",
            errors=[
                {
                    "loc": [str(x) for x in e.get("loc", ())],
                    "msg": e.get("msg"),
                    "type": e.get("type"),
                }
                for e in errors[:20]
            ],
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (out of range, not storable):
        # the client's value, so 422, but also a gap in the request schemas: logged loudly.
        log.error(
            "the database refused a value of %s %s (the request schemas should have): %s",
            request.method,
            request.url.path,
            exc.orig,
            exc_info=exc,
        )
        return _error(
            422,
            "a value of the request does not fit the database; nothing was saved",
            rule=str(exc.orig).splitlines()[0][:200] if exc.orig else None,
            fix="Check lengths and ranges against the OpenAPI schema at /openapi.json.",
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # A server bug: 500 with the usual body and an id to find the traceback in the log.
        incident = uuid.uuid4().hex[:12]
        log.error(
            "incident %s: %s %s failed", incident, request.method, request.url.path, exc_info=exc
        )
        return _error(
            500,
            f"internal error (incident {incident}); it is logged, and not your request's fault",
            fix="Retry later or report the incident id.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        response = _error(exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        if exc.status_code == 405:  # Starlette names the first route's methods only
            response.headers["Allow"] = ", ".join(sorted(_allowed(request)))
        return response


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed(request: Request) -> set[str]:
    """The methods some route takes at the request's path (asked the way the router does)."""
    return {
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    }


_CASE = "/api/v1/cases/{case_id}"
_LINKS: tuple[tuple[str, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    # (method, path, status) of the operation that creates a resource, the path parameter
    # and the response field that names it, then the operations that take it
    (
        "post",
        "/api/v1/cases",
        "201",
        "case_id",
        (
            ("get", _CASE),
            ("patch", _CASE),
            ("post", _CASE + "/transitions"),
            ("post", _CASE + "/handoffs"),
            ("get", _CASE + "/handoffs"),
            ("post", _CASE + "/disputes"),
            ("get", _CASE + "/events"),
        ),
    ),
    (
        "post",
        "/api/v1/users",
        "201",
        "user_id",
        (
            ("get", "/api/v1/users/{user_id}"),
            ("patch", "/api/v1/users/{user_id}"),
            ("delete", "/api/v1/users/{user_id}/tokens"),
        ),
    ),
    (
        "post",
        "/api/v1/calendars",
        "201",
        "name",
        (("get", "/api/v1/calendars/{name}"), ("patch", "/api/v1/calendars/{name}")),
    ),
    (
        "post",
        "/api/v1/policies",
        "201",
        "name",
        (("get", "/api/v1/policies/{name}"), ("patch", "/api/v1/policies/{name}")),
    ),
    (
        "post",
        "/api/v1/departments",
        "201",
        "name",
        (("get", "/api/v1/departments/{name}"), ("patch", "/api/v1/departments/{name}")),
    ),
)
"""OpenAPI links from each create to the operations on what it created (clients and
schemathesis' stateful tests follow them)."""


def _add_links(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with :data:`_LINKS` written into the create operations' responses."""
    paths = spec["paths"]
    for method, path, code, parameter, targets in _LINKS:
        response = paths[path][method]["responses"][code]
        field = "id" if parameter.endswith("_id") else "name"
        links = response.setdefault("links", {})
        for target_method, target_path in targets:
            operation = paths[target_path][target_method]
            function = operation["operationId"].split("_api_v1_")[0]  # the route's function
            name = "".join(w.capitalize() for w in function.split("_"))
            links[name] = {
                "operationId": operation["operationId"],
                "parameters": {parameter: f"$response.body#/{field}"},
            }
    return spec


async def _clock_job(context: AppContext) -> None:
    period = context.settings.tick_seconds
    while True:
        try:
            result = await asyncio.to_thread(tick_all, context.sessions, context.store)
            if result["events"]:
                log.info("SLA clock: %s", result)
        except Exception:  # a failed tick must not stop the job; the next one retries
            log.exception("SLA clock tick failed")
        await asyncio.sleep(period)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment).

    The database is migrated to the latest schema at start (``settings.migrate``)
    and the exception queue created; the SLA clock job runs every
    ``settings.tick_seconds`` while the app is up.
    """
    settings = settings or Settings.from_env()
    engine = make_engine(settings.sqlalchemy_url)
    if settings.migrate:
        migrate(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        ensure_bootstrap(session)
        session.commit()
    context = AppContext(settings, sessions, CaseStore())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if settings.tick_seconds > 0:
            task = asyncio.create_task(_clock_job(context))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            engine.dispose()

    app = FastAPI(
        title="contactops case service",
        version=__version__,
        description=(
            "Cross-department handoffs with SLAs. Every /api/v1 endpoint needs an API token "
            "(`Authorization: Bearer <token>`, the scheme name in any case; from POST "
            "/api/v1/login/access-token, the only one that takes a password). Tokens "
            "expire (CONTACTOPS_TOKEN_HOURS) and can be revoked (POST /api/v1/logout, "
            "DELETE /api/v1/users/{id}/tokens). The board's cookie authenticates GET "
            "requests only. Users see and change the cases of the departments they belong "
            "to; superusers see all. Bodies are strict JSON in UTF-8, nested at most 32 "
            "levels, without NaN; no text may hold U+0000 or a lone surrogate; ids are at "
            "most 2147483647. Errors are JSON with detail, field, value, rule and fix."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    app.state.engine = engine

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _add_links(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    _install_handlers(app)
    app.include_router(_api_admin.router)
    app.include_router(_api_cases.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["service"], include_in_schema=True)
    def healthz() -> dict[str, str]:
        """Liveness: no data, no authentication."""
        return {"status": "ok", "version": __version__}

    @app.get("/login", include_in_schema=False)
    def login_page() -> HTMLResponse:
        return HTMLResponse(page("login.html"))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/board")

    @app.get("/board", include_in_schema=False)
    def board_page(request: Request) -> Response:
        if not request.cookies.get(COOKIE):
            return RedirectResponse("/login", status_code=303)
        with sessions() as session:
            try:
                get_principal(request, session)
            except StarletteHTTPException:
                return RedirectResponse("/login", status_code=303)
        html = page("board.html").replace(
            "{{REFRESH_MS}}", str(int(settings.board_refresh_seconds * 1000))
        )
        return HTMLResponse(html)

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
