"""What every request must be before a route sees it: strict JSON, text the database can
hold, ids the database can hold.

FastAPI parses bodies with :func:`json.loads`, which accepts ``NaN``, lone UTF-16
surrogate escapes (``"\\ud800"``, which no database text column and no UTF-8 response
can carry) and nesting until the interpreter's recursion limit; invalid UTF-8 and
deep nesting then surface as a bare 400. :class:`GuardedRoute` checks the body (when
it is JSON), the path parameters and the query string first and refuses with a
:class:`fastapi.exceptions.RequestValidationError`, so the client gets the usual 422
error body naming the place (``body.title``, ``path.name``, ``query.department``).

The rules, also in ``docs/reference/service.md``:

- a JSON body is UTF-8 (RFC 8259), nested at most :data:`MAX_JSON_DEPTH` levels, and
  holds no ``NaN``/``Infinity`` and no number too large to be a float or an exact int;
- no text anywhere (body strings and keys, path, query) holds U+0000 (PostgreSQL text
  cannot) or a lone surrogate;
- ids in paths and queries are within :data:`MAX_ID` (declared on the parameters);
- a query parameter the operation does not take is refused, as unknown body fields are.
"""

from __future__ import annotations

import json
import math
import re
from email.message import Message
from typing import TYPE_CHECKING, Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["MAX_ID", "MAX_JSON_DEPTH", "BodyRefused", "GuardedRoute", "bad_text", "strict_json"]

MAX_ID = 2**31 - 1
"""The largest id (and version) the tables hold: their INTEGER columns are 32-bit on
PostgreSQL, so one limit for both databases."""

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects in a request body (real bodies need 4)."""

_MAX_INT_DIGITS = 4000  # below Python's int-parsing limit (4300), far above any real value
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# a JSON string (skipped) or one bracket: counting brackets outside strings gives the depth
_DEPTH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class BodyRefused(ValueError):  # noqa: N818 - a refusal, named for what the client reads
    """A request body that is not strict JSON, or holds text the service cannot store."""

    def __init__(
        self, kind: str, message: str, loc: tuple[str | int, ...] = (), value: Any = None
    ) -> None:
        super().__init__(message)
        self.kind, self.message, self.loc, self.value = kind, message, loc, value

    def __reduce__(self) -> tuple[type[BodyRefused], tuple[Any, ...]]:
        # the constructor's arguments, so the error survives pickling like every other
        return (type(self), (self.kind, self.message, self.loc, self.value))

    def as_error(self) -> dict[str, Any]:
        """One entry of a :class:`RequestValidationError`."""
        return {
            "type": self.kind,
            "loc": ("body", *self.loc),
            "msg": self.message,
            "input": self.value,
        }


def bad_text(text: str) -> str | None:
    """Why ``text`` cannot be stored or sent back (None: it can)."""
    match = _BAD_TEXT.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "text must not contain the NUL character (U+0000)"
    return (
        f"text must be valid Unicode; it holds a lone surrogate "
        f"(\\u{ord(match.group()):04x}) at position {match.start()}"
    )


def _constant(name: str) -> Any:
    raise BodyRefused("json_invalid", f"{name} is not a JSON number; send a finite number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyRefused("json_invalid", f"the number {text[:40]} is too large for a float")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise BodyRefused(
            "json_invalid", f"an integer of {len(text)} digits is too large; no field takes one"
        )
    return int(text)


def _check_depth(text: str) -> None:
    depth = 0
    for match in _DEPTH_TOKENS.finditer(text):
        bracket = match.group()
        if bracket in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise BodyRefused(
                    "json_too_deep",
                    f"JSON nested deeper than {MAX_JSON_DEPTH} levels "
                    f"(at character {match.start()}); no field needs that",
                )
        elif bracket in "]}":
            depth -= 1


def _check_text(value: Any, loc: tuple[str | int, ...]) -> None:
    if isinstance(value, str):
        reason = bad_text(value)
        if reason is not None:
            raise BodyRefused("string_invalid", reason, loc, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            reason = bad_text(key)
            if reason is not None:
                raise BodyRefused("string_invalid", f"a key: {reason}", (*loc, key), key)
            _check_text(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_text(item, (*loc, i))


def strict_json(body: bytes) -> Any:
    """Parse a request body as strict JSON (see the module's rules).

    Raises
    ------
    BodyRefused
        With the kind, a message for the client and where in the body.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(
            "json_invalid",
            f"the body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at "
            f"position {exc.start}); send JSON encoded as UTF-8",
        ) from None
    _check_depth(text)
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except json.JSONDecodeError as exc:
        raise BodyRefused(
            "json_invalid",
            f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
        ) from None
    except RecursionError:  # the bracket count above makes this unreachable; kept as a net
        raise BodyRefused("json_too_deep", "JSON nested too deeply") from None
    _check_text(value, ())
    return value


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI will parse a body of this content type as JSON."""
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def _refuse(errors: list[dict[str, Any]]) -> RequestValidationError:
    return RequestValidationError(errors)


async def check_request(
    request: Request, *, takes_body: bool = True, query: frozenset[str] | None = None
) -> None:
    """Refuse (with :class:`RequestValidationError`) what this module rules out, before
    FastAPI parses the request (the body only for routes that take one; query parameters
    not in ``query``, when given, as unknown, like unknown body fields)."""
    for name, value in request.path_params.items():
        reason = bad_text(value) if isinstance(value, str) else None
        if reason is not None:
            raise _refuse(
                [{"type": "string_invalid", "loc": ("path", name), "msg": reason, "input": value}]
            )
    for name, value in request.query_params.multi_items():
        reason = bad_text(name) or bad_text(value)
        if reason is not None:
            raise _refuse(
                [{"type": "string_invalid", "loc": ("query", name), "msg": reason, "input": value}]
            )
        if query is not None and name not in query:
            takes = ", ".join(sorted(query)) or "none"
            raise _refuse(
                [
                    {
                        "type": "extra_forbidden",
                        "loc": ("query", name),
                        "msg": f"unknown query parameter (this operation takes: {takes})",
                        "input": value,
                    }
                ]
            )
    if not takes_body:
        return
    body = await request.body()
    if body and _is_json(request.headers.get("content-type")):
        try:
            strict_json(body)
        except BodyRefused as exc:
            raise _refuse([exc.as_error()]) from None


def _query_names(dependant: Any) -> frozenset[str]:
    """The query parameters a route and its dependencies declare (by their alias)."""
    names: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        names |= {field.alias for field in current.query_params}
        todo.extend(current.dependencies)
    return frozenset(names)


class GuardedRoute(APIRoute):
    """An API route that runs :func:`check_request` before FastAPI parses the request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler behind the guard."""
        handler = super().get_route_handler()
        takes_body = self.body_field is not None
        query = _query_names(self.dependant)

        async def guarded(request: Request) -> Response:
            await check_request(request, takes_body=takes_body, query=query)
            return await handler(request)

        return guarded
