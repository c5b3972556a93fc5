"""Errors of the case engine; they extend the hierarchy in :mod:`contactops.errors`."""

from __future__ import annotations

from contactops.errors import ContactopsError

__all__ = ["InvalidTransitionError", "UnknownCaseError"]


class InvalidTransitionError(ContactopsError):
    """An action that the case's current state does not allow (closing a closed case).

    Attributes ``case_id``, ``action``, ``state``, ``rule`` and ``fix``; the message
    names all of them.
    """

    def __init__(self, case_id: str, action: str, state: str, rule: str, fix: str = "") -> None:
        self._keep(case_id, action, state, rule, fix)
        self.case_id = case_id
        self.action = action
        self.state = state
        self.rule = rule
        self.fix = fix
        message = f"case {case_id}: cannot {action} while the case is {state}; {rule}."
        if fix:
            message += f" {fix}"
        super().__init__(message)


class UnknownCaseError(ContactopsError, LookupError):
    """No case with this id (or none the caller may see)."""

    def __init__(self, case_id: str) -> None:
        self._keep(case_id)
        self.case_id = case_id
        super().__init__(f"case {case_id!r} does not exist or is not visible to you.")
