"""Shift scheduling and rostering: shifts and breaks that cover the plan, under labor rules.

``schedule_shifts`` turns a requirement per interval (agents to schedule,
shrinkage included, per queue) into shifts and breaks at least cost: paid
hours, overstaffing, and understaffing weighted by each interval's marginal
service-level loss from the queueing model.  The week is one horizon (night
shifts cross midnight; the week wraps when asked); OR-Tools CP-SAT solves it
within a time limit, warm-started from the linear relaxation, whose optimum
(HiGHS) is reported as the lower bound beside the result.

>>> import numpy as np
>>> from contactops.schedule import ShiftTemplate, schedule_shifts
>>> need = np.zeros((1, 24)); need[0, 8:16] = 3        # one day of hours, 3 agents 08-16
>>> day = ShiftTemplate("day", length=8 * 3600, starts=[8 * 3600])
>>> s = schedule_shifts(need, [day], time_limit=5, workers=1)
>>> s.shift_count, s.short_total, s.over_total
(3, 0.0, 0.0)
"""

from contactops.schedule._config import (
    ScheduleConfig,
    agents_from_records,
    parse_clock,
    parse_days,
    read_config,
)
from contactops.schedule._grid import Requirement, as_requirement
from contactops.schedule._result import Schedule
from contactops.schedule._roster import Roster, RosterWeights, roster
from contactops.schedule._rules import (
    WEEKDAYS,
    Agent,
    Break,
    Costs,
    LaborRules,
    ScheduleWarning,
    ShiftRules,
    ShiftTemplate,
    start_times,
)
from contactops.schedule._shifts import build_program, schedule_shifts
from contactops.schedule._simulate import to_center
from contactops.schedule._solve import Progress

__all__ = [
    "WEEKDAYS",
    "Agent",
    "Break",
    "Costs",
    "LaborRules",
    "Progress",
    "Requirement",
    "Roster",
    "RosterWeights",
    "Schedule",
    "ScheduleConfig",
    "ScheduleWarning",
    "ShiftRules",
    "ShiftTemplate",
    "agents_from_records",
    "as_requirement",
    "build_program",
    "parse_clock",
    "parse_days",
    "read_config",
    "roster",
    "schedule_shifts",
    "start_times",
    "to_center",
]
