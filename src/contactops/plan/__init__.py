"""The plan: forecast -> required agents per interval -> simulation check -> report.

``plan(warehouse, start=..., days=7, target="80/20")`` returns a
:class:`PlanResult` (``.table`` per queue and interval, ``.summary()``,
``.write(dir)`` for Parquet, CSV and the HTML report).  ``demo`` builds a
synthetic center with eight weeks of simulated history and plans its next week.
"""

from contactops.plan._plan import PlanResult, QueueParams, estimate_queue_params, plan

__all__ = ["PlanResult", "QueueParams", "estimate_queue_params", "plan"]
