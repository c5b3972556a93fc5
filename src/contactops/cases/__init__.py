"""Cross-department handoffs with SLAs: the operations layer of the case service.

Departments with business-hours calendars (:class:`BusinessCalendar`), SLA
policies with escalation ladders (:class:`SlaPolicy`, :class:`EscalationStep`),
priority from a configurable matrix (:class:`PriorityMatrix`), the engine that
moves cases between departments and runs their clocks (:class:`CaseEngine`),
audit figures per transition (:func:`audit`) and the replay of the ServiceNow
incident event log (:func:`replay_servicenow`). No web, no database: the
service (``contactops.service``) stores what this package computes.
"""

from contactops.cases._audit import (
    AuditReport,
    HoldingFigures,
    LoopFigures,
    TransitionFigures,
    audit,
)
from contactops.cases._calendar import WEEKDAYS, BusinessCalendar, parse_hours
from contactops.cases._case import (
    CASE_STATUSES,
    EXCEPTIONS,
    Case,
    CaseEvent,
    CasesConfig,
    Department,
    SlaClock,
    default_exception_queue,
)
from contactops.cases._engine import CLOCK_ACTOR, CaseEngine
from contactops.cases._errors import InvalidTransitionError, UnknownCaseError
from contactops.cases._policy import (
    ACTIONS,
    CLOCK_KINDS,
    DEFAULT_LADDER,
    EscalationStep,
    PriorityMatrix,
    SlaPolicy,
    SlaTarget,
)
from contactops.cases._servicenow import (
    Incident,
    IncidentOutcome,
    PriorityReplay,
    ReplayResult,
    read_servicenow_log,
    replay_servicenow,
)

__all__ = [
    "ACTIONS",
    "CASE_STATUSES",
    "CLOCK_ACTOR",
    "CLOCK_KINDS",
    "DEFAULT_LADDER",
    "EXCEPTIONS",
    "WEEKDAYS",
    "AuditReport",
    "BusinessCalendar",
    "Case",
    "CaseEngine",
    "CaseEvent",
    "CasesConfig",
    "Department",
    "EscalationStep",
    "HoldingFigures",
    "Incident",
    "IncidentOutcome",
    "InvalidTransitionError",
    "LoopFigures",
    "PriorityMatrix",
    "PriorityReplay",
    "ReplayResult",
    "SlaClock",
    "SlaPolicy",
    "SlaTarget",
    "TransitionFigures",
    "UnknownCaseError",
    "audit",
    "default_exception_queue",
    "parse_hours",
    "read_servicenow_log",
    "replay_servicenow",
]
