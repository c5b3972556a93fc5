"""The exception hierarchy of contactops, documented in one place.

Every error carries the offending item as data, so callers (the CLI, the
service) can render it, and its message always says four things: the field,
the value received, the rule it broke, and how to fix it.

``ContactopsError``
    Base of everything raised on purpose by contactops.  Every subclass
    survives pickling (a worker process's error reaches its parent intact):
    the constructor's arguments are kept and replayed by ``__reduce__``.
``InvalidParameterError(ContactopsError, ValueError)``
    A parameter (or one element of an array parameter) is outside its allowed
    range or of the wrong shape. Attributes: ``name``, ``value``, ``rule``,
    ``fix``.
``FormatMismatchError(InvalidParameterError)``
    A file's header shows it is not the export format it was declared as.
    Attributes as above plus ``format``, ``missing`` (the columns or fields
    the format needs and the file lacks) and ``looks_like`` (the format it
    seems to be, or None).
``WarehouseNotFoundError(InvalidParameterError)``
    A command that only reads was pointed at a warehouse file that does not
    exist (it is never created by reading).
``WarehouseBusyError(ContactopsError)``
    Another process holds the warehouse file open for writing.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ContactopsError",
    "FormatMismatchError",
    "InvalidParameterError",
    "WarehouseBusyError",
    "WarehouseNotFoundError",
]


class ContactopsError(Exception):
    """Base class of the errors contactops raises on purpose.

    Subclasses whose ``__init__`` takes other arguments than the message call
    ``self._keep(*args, **kwargs)`` first so that pickling replays them.
    """

    _init_args: tuple[Any, ...] = ()
    _init_kwargs: dict[str, Any] | None = None

    def _keep(self, *args: Any, **kwargs: Any) -> None:
        self._init_args = args
        self._init_kwargs = kwargs

    def __reduce__(self) -> Any:
        if self._init_kwargs is None:  # built with the message alone
            return (type(self), self.args, self.__dict__ or None)
        return (_rebuild, (type(self), self._init_args, self._init_kwargs), self.__dict__)


def _rebuild(
    cls: type[ContactopsError], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> ContactopsError:
    return cls(*args, **kwargs)


class InvalidParameterError(ContactopsError, ValueError):
    """A parameter broke its rule; the message names field, value, rule and fix."""

    def __init__(self, name: str, value: object, rule: str, fix: str = "") -> None:
        self._keep(name, value, rule, fix)
        self.name = name
        self.value = value
        self.rule = rule
        self.fix = fix
        message = f"{name} must be {rule}; got {value!r}."
        if fix:
            message += f" {fix}"
        super().__init__(message)


class FormatMismatchError(InvalidParameterError):
    """The file is not the declared export format: its header lacks what that format needs."""

    def __init__(
        self,
        path: str,
        format: str,
        missing: list[str] | tuple[str, ...],
        looks_like: str | None = None,
        found: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.path = str(path)
        self.format = format
        self.missing = list(missing)
        self.looks_like = looks_like
        self.found = list(found)
        shown = ", ".join(self.missing[:8]) + (" ..." if len(self.missing) > 8 else "")
        fix = (
            f"It looks like the {looks_like!r} format: use --format {looks_like}."
            if looks_like
            else "Check the file, or name the format it was exported in (contactops ingest "
            "--help lists them)."
        )
        super().__init__(
            "format",
            format,
            f"the format {self.path} is in (its header lacks {shown}, which "
            f"a {format!r} export has)",
            fix,
        )
        self._keep(path, format, missing, looks_like, found)


class WarehouseNotFoundError(InvalidParameterError):
    """No warehouse file at the path given to a command that only reads."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        super().__init__(
            "warehouse",
            self.path,
            "an existing warehouse file",
            "No warehouse is at that path: check it, set -w/--warehouse, "
            "or load data first with 'contactops ingest'.",
        )
        self._keep(path)


class WarehouseBusyError(ContactopsError):
    """Another process holds the warehouse open."""

    def __init__(self, path: str, detail: str = "") -> None:
        self._keep(path, detail)
        self.path = str(path)
        self.detail = detail
        super().__init__(
            f"warehouse {self.path!r} is in use by another process (DuckDB allows one "
            "writer at a time). Wait for that command to finish, or close the program "
            "holding it, then try again."
        )
