"""Service-level definitions, by the names used throughout contactops.

Vendors disagree on what "80% in 20 seconds" means once contacts abandon or
are refused; a number is only meaningful with its definition.  ``t`` is the
threshold, ``W`` the wait a contact actually experienced (``min(V, patience)``)
and ``V`` its *virtual* wait (the wait of an infinitely patient contact).
"Offered" counts every arrival, including contacts refused because all lines
were busy.

``answered_within_t_over_offered`` (default)
    answered with ``W <= t``, over offered.  Abandoners, also those who abandon
    before ``t``, count as failures.
``answered_within_t_over_answered``
    answered with ``W <= t``, over answered.
``excl_abandon_before_t``
    answered with ``W <= t``, over offered minus contacts that abandoned before
    ``t`` (short abandons leave the denominator).
``wait_le_t``
    ``W <= t`` over offered: abandoners before ``t`` count as met (as Amazon
    Connect reports).
``virtual``
    ``V <= t`` over offered: the probability that an infinitely patient
    contact would be answered within ``t`` (as CCmath reports).

Without abandonment and blocking (Erlang C) all five coincide.
"""

from __future__ import annotations

from typing import Final

from contactops.errors import InvalidParameterError

ANSWERED_WITHIN_T_OVER_OFFERED: Final = "answered_within_t_over_offered"
ANSWERED_WITHIN_T_OVER_ANSWERED: Final = "answered_within_t_over_answered"
EXCL_ABANDON_BEFORE_T: Final = "excl_abandon_before_t"
WAIT_LE_T: Final = "wait_le_t"
VIRTUAL: Final = "virtual"

SL_DEFINITIONS: Final = (
    ANSWERED_WITHIN_T_OVER_OFFERED,
    ANSWERED_WITHIN_T_OVER_ANSWERED,
    EXCL_ABANDON_BEFORE_T,
    WAIT_LE_T,
    VIRTUAL,
)
DEFAULT_SL_DEFINITION: Final = ANSWERED_WITHIN_T_OVER_OFFERED


def check_definition(definition: str) -> str:
    """Return ``definition`` if it is a known service-level definition."""
    if definition not in SL_DEFINITIONS:
        raise InvalidParameterError(
            "definition",
            definition,
            "one of " + ", ".join(SL_DEFINITIONS),
            "See contactops.queueing.SL_DEFINITIONS for their meaning.",
        )
    return definition
