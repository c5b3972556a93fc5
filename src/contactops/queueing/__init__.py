"""Queueing models that turn demand into agents.

Erlang B, C, A and X, chat concurrency and backlog staffing, vectorised over
arrays of intervals and computed in log space (exact from 1 to 20,000+ agents
and loads up to 20,000 Erlangs).  Durations are seconds, rates per second.

>>> from contactops.queueing import ErlangC, required_agents
>>> model = ErlangC(arrival_rate=100 / 1800, aht=180)
>>> int(required_agents(model, service_level=0.8, threshold=20).agents)
14
"""

from typing import TYPE_CHECKING

from contactops import _lazy_exports

# imported on first use (contactops._lazy_exports): the package imports in no time
if TYPE_CHECKING:
    from contactops.queueing._backlog import BacklogPlan, backlog_staffing
    from contactops.queueing._base import Metrics, QueueModel
    from contactops.queueing._chat import Chat
    from contactops.queueing._definitions import (
        ANSWERED_WITHIN_T_OVER_ANSWERED,
        ANSWERED_WITHIN_T_OVER_OFFERED,
        DEFAULT_SL_DEFINITION,
        EXCL_ABANDON_BEFORE_T,
        SL_DEFINITIONS,
        VIRTUAL,
        WAIT_LE_T,
    )
    from contactops.queueing._erlang import ErlangA, ErlangC, ErlangX, erlang_b, erlang_b_servers
    from contactops.queueing._staffing import (
        StaffingResult,
        Targets,
        achieved,
        max_arrival_rate,
        required_agents,
    )

__all__ = [
    "ANSWERED_WITHIN_T_OVER_ANSWERED",
    "ANSWERED_WITHIN_T_OVER_OFFERED",
    "DEFAULT_SL_DEFINITION",
    "EXCL_ABANDON_BEFORE_T",
    "SL_DEFINITIONS",
    "VIRTUAL",
    "WAIT_LE_T",
    "BacklogPlan",
    "Chat",
    "ErlangA",
    "ErlangC",
    "ErlangX",
    "Metrics",
    "QueueModel",
    "StaffingResult",
    "Targets",
    "achieved",
    "backlog_staffing",
    "erlang_b",
    "erlang_b_servers",
    "max_arrival_rate",
    "required_agents",
]

_EXPORTS = {  # submodule -> the names it provides (the imports above, for run time)
    "_backlog": ("BacklogPlan", "backlog_staffing"),
    "_base": ("Metrics", "QueueModel"),
    "_chat": ("Chat",),
    "_definitions": (
        "ANSWERED_WITHIN_T_OVER_ANSWERED",
        "ANSWERED_WITHIN_T_OVER_OFFERED",
        "DEFAULT_SL_DEFINITION",
        "EXCL_ABANDON_BEFORE_T",
        "SL_DEFINITIONS",
        "VIRTUAL",
        "WAIT_LE_T",
    ),
    "_erlang": ("ErlangA", "ErlangC", "ErlangX", "erlang_b", "erlang_b_servers"),
    "_staffing": ("StaffingResult", "Targets", "achieved", "max_arrival_rate", "required_agents"),
}
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
