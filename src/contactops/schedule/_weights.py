"""What a missing agent costs in each interval: the marginal service-level loss.

Without a queueing model every agent-hour short costs ``Costs.short``.  With
one, being ``u`` agents short in interval ``i`` loses

    loss_i(u) = contacts_i * (SL_i(n_i) - SL_i(n_i - u))

contacts answered within the threshold (``n_i`` the agents required, scaled
by ``1 - shrinkage`` to the agents actually taking contacts).  The loss is
approximated piecewise-linearly on breakpoints 0, 1, 2, 4, 8, ... agents; the
slopes are made non-decreasing (a convex majorant where the service level
flattens near zero), so an LP and CP-SAT can weigh it exactly.  Slopes are
normalised by the average first-agent slope over the intervals with demand,
so ``Costs.short`` stays the price of an agent-hour short at a typical
interval, and never fall below ``Costs.min_short_weight`` of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contactops.errors import InvalidParameterError
from contactops.queueing import DEFAULT_SL_DEFINITION, QueueModel

if TYPE_CHECKING:
    from contactops.schedule._grid import Requirement
    from contactops.schedule._rules import Costs

__all__ = ["Segments", "short_segments"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Segments:
    """Piecewise-linear cost of being short: ``(queues*horizon, K)`` widths and slopes.

    ``widths`` are in agents; ``slopes`` are cost per agent-interval short,
    non-decreasing along the last axis.  ``weight`` is each interval's
    first-agent weight relative to the average interval (1 without a model).
    """

    widths: FloatArray
    slopes: FloatArray
    weight: FloatArray

    def cost(self, short: FloatArray) -> FloatArray:
        """Cost of being ``short`` agents short, per interval (``(queues*horizon,)``)."""
        edges = np.cumsum(self.widths, axis=1) - self.widths
        filled = np.clip(short[:, None] - edges, 0.0, self.widths)
        return np.asarray((filled * self.slopes).sum(axis=1))


def _breakpoints(need: FloatArray) -> FloatArray:
    """``(n, K+1)`` breakpoints 0, 1, 2, 4, ... clipped at each interval's requirement."""
    top = float(need.max()) if need.size else 0.0
    pts = [0.0, 1.0]
    while pts[-1] < top:
        pts.append(pts[-1] * 2)
    grid = np.asarray(pts)
    return np.asarray(np.minimum(grid[None, :], need[:, None]), dtype=np.float64)


def short_segments(
    req: Requirement,
    costs: Costs,
    *,
    models: QueueModel | Sequence[QueueModel | None] | Mapping[str, QueueModel] | None = None,
    threshold: float | Mapping[str, float] = 20.0,
    shrinkage: float = 0.0,
    definition: str = DEFAULT_SL_DEFINITION,
) -> Segments:
    """Short-cost segments for every queue and interval of ``req``.

    ``threshold`` is the service-level threshold in seconds, one for all
    queues or ``{queue: seconds}``.
    """
    need = req.flat().ravel()
    per_hour = costs.short * req.interval / 3600.0
    n_q, horizon = len(req.queues), req.horizon
    if not 0.0 <= shrinkage < 1.0:
        raise InvalidParameterError(
            "shrinkage",
            shrinkage,
            "a share in [0, 1)",
            "The share of scheduled agents not taking contacts.",
        )
    per_queue: list[QueueModel | None]
    if models is None:
        per_queue = [None] * n_q
    elif isinstance(models, QueueModel):
        if n_q != 1:
            raise InvalidParameterError(
                "queue_model",
                repr(models),
                "one model per queue",
                f"Give {{queue: model}} for {list(req.queues)}.",
            )
        per_queue = [models]
    elif isinstance(models, Mapping):
        unknown = [k for k in models if k not in req.queues]
        if unknown:
            raise InvalidParameterError(
                "queue_model",
                unknown,
                "names of required queues",
                f"Known queues: {list(req.queues)}.",
            )
        per_queue = [models.get(q) for q in req.queues]
    else:
        per_queue = list(models)
        if len(per_queue) != n_q:
            raise InvalidParameterError(
                "queue_model",
                f"{len(per_queue)} models",
                f"one per queue ({n_q})",
                "Or give {queue: model}.",
            )
    if all(m is None for m in per_queue):
        return Segments(need[:, None].copy(), np.full((need.size, 1), per_hour), np.ones(need.size))
    pts = _breakpoints(need)
    widths = np.diff(pts, axis=1)
    rel = np.ones_like(widths)
    for q, model in enumerate(per_queue):
        if model is None:
            continue
        rows = slice(q * horizon, (q + 1) * horizon)
        rel[rows] = _relative_slopes(
            req, q, model, need[rows], pts[rows], widths[rows], threshold, shrinkage, definition
        )
    rel = np.maximum(rel, costs.min_short_weight)
    rel = np.maximum.accumulate(rel, axis=1)  # convex: each further agent costs at least as much
    return Segments(widths, rel * per_hour, rel[:, 0].copy())


def _relative_slopes(
    req: Requirement,
    q: int,
    model: QueueModel,
    n: FloatArray,
    pts: FloatArray,
    widths: FloatArray,
    threshold: float | Mapping[str, float],
    shrinkage: float,
    definition: str,
) -> FloatArray:
    """Lost within-threshold contacts per agent short, relative to the queue's average."""
    horizon = req.horizon
    name = req.queues[q]
    rate = np.broadcast_to(np.asarray(getattr(model, "arrival_rate", np.nan), float), (horizon,))
    if not np.all(np.isfinite(rate)):
        raise InvalidParameterError(
            f"queue_model[{name!r}]",
            repr(model),
            "a model with an arrival_rate per interval",
            "Use ErlangC, ErlangA or ErlangX.",
        )
    thr = threshold.get(name, 20.0) if isinstance(threshold, Mapping) else threshold
    try:
        sl = np.stack(
            [
                np.broadcast_to(
                    model.service_level(
                        (n - pts[:, j]) * (1.0 - shrinkage), thr, definition=definition
                    ),
                    (horizon,),
                )
                for j in range(pts.shape[1])
            ],
            axis=1,
        )
    except ValueError as exc:
        raise InvalidParameterError(
            f"queue_model[{name!r}]",
            repr(model),
            f"arrays with one value per interval of the horizon ({horizon})",
            "Build the model from the same days and intervals as the requirement.",
        ) from exc
    loss = (rate * req.interval)[:, None] * (sl[:, :1] - sl)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = np.where(
            widths > 0, np.diff(loss, axis=1) / np.where(widths > 0, widths, 1.0), 0.0
        )
    demand = n > 0
    mean = float(np.nanmean(slopes[demand, 0])) if demand.any() else 0.0
    if not mean > 0:
        return np.ones_like(widths)
    return np.asarray(slopes / mean, dtype=np.float64)
