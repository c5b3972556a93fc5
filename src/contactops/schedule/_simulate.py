"""Hand a schedule or a roster to ``contactops.simulate`` as its staffing.

The staffing is the agents on shift and not on break in every interval of
the horizon, so the simulated service level is that of the real schedule,
breaks included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contactops.errors import InvalidParameterError
from contactops.schedule._result import Schedule

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from contactops.schedule._roster import Roster
    from contactops.simulate import Center, Queue

__all__ = ["to_center"]


def to_center(
    plan: Schedule | Roster, queues: Sequence[Queue], *, shrinkage: float = 0.0
) -> Center:
    """A simulator :class:`~contactops.simulate.Center` staffed by ``plan``.

    Parameters
    ----------
    plan
        A :class:`Schedule` (one agent group per queue, serving that queue)
        or a :class:`Roster` (one group per distinct skill set, serving every
        queue of the set, most listed first).
    queues
        The simulator's :class:`~contactops.simulate.Queue` definitions, named
        like the plan's queues, with demand over the same horizon (one value
        per interval of the schedule).
    shrinkage
        Share of the scheduled agents not taking contacts (unplanned
        absence); breaks are already taken out of the staffing.
    """
    from contactops.simulate import AgentGroup, Center  # noqa: PLC0415  (numba loads lazily)

    names = [q.name for q in queues]
    missing = [q for q in plan.queues if q not in names]
    if missing:
        raise InvalidParameterError(
            "queues",
            names,
            "a definition for every scheduled queue",
            f"Add simulate.Queue definitions for {missing}.",
        )
    groups: list[AgentGroup] = []
    if isinstance(plan, Schedule):
        groups += [
            AgentGroup(
                name=f"{q} agents", staffing=plan.staffing(q), skills=[q], shrinkage=shrinkage
            )
            for q in plan.queues
        ]
    else:
        by_skills: dict[tuple[str, ...], np.ndarray] = {}
        on_duty = plan.agent_staffing()
        for av in plan.model.vars:
            skills = tuple(s for s in av.agent.skills if s in names)
            if not skills:
                continue
            cur = by_skills.get(skills)
            arr = on_duty[av.agent.name]
            by_skills[skills] = arr.copy() if cur is None else cur + arr
        for k, (skills, staffing) in enumerate(sorted(by_skills.items())):
            groups.append(
                AgentGroup(
                    name=f"group {k + 1}: " + "+".join(skills),
                    staffing=staffing,
                    skills=list(skills),
                    shrinkage=shrinkage,
                )
            )
    if not groups:
        raise InvalidParameterError(
            "plan",
            repr(plan),
            "agents on at least one queue",
            "Nobody is scheduled on these queues.",
        )
    return Center(
        queues=list(queues), groups=groups, interval=plan.interval, start=plan.req.start.isoformat()
    )
