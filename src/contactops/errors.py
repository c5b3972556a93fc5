"""The exception hierarchy of contactops, documented in one place.

Every error carries the offending item as data, so callers (the CLI, the
service) can render it, and its message always says four things: the field,
the value received, the rule it broke, and how to fix it.

``ContactopsError``
    Base of everything raised on purpose by contactops.
``InvalidParameterError(ContactopsError, ValueError)``
    A parameter (or one element of an array parameter) is outside its allowed
    range or of the wrong shape. Attributes: ``name``, ``value``, ``rule``,
    ``fix``.
"""

from __future__ import annotations

__all__ = ["ContactopsError", "InvalidParameterError"]


class ContactopsError(Exception):
    """Base class of the errors contactops raises on purpose."""


class InvalidParameterError(ContactopsError, ValueError):
    """A parameter broke its rule; the message names field, value, rule and fix."""

    def __init__(self, name: str, value: object, rule: str, fix: str = "") -> None:
        self.name = name
        self.value = value
        self.rule = rule
        self.fix = fix
        message = f"{name} must be {rule}; got {value!r}."
        if fix:
            message += f" {fix}"
        super().__init__(message)
