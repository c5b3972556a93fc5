"""Chat: agents holding up to m conversations at once."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.queueing import _kernels as k
from contactops.queueing._base import Params, QueueModel
from contactops.queueing._validation import FloatArray, as_array, broadcast

__all__ = ["Chat"]


class Chat(QueueModel):
    """Chat queue: each agent holds up to ``max_concurrency`` chats at once.

    A birth-death model whose state is the number of chats in the system.
    Chats are spread evenly over agents (balanced assignment); an agent
    holding ``j`` chats finishes each of them at rate ``1 / aht_by_concurrency[j-1]``
    so its throughput is ``j / aht_j``.  Waiting chats abandon at rate
    ``1 / patience``; with ``lines`` at most that many chats are in the system.
    With ``max_concurrency = 1`` it is exactly Erlang X (and A, and C).

    Parameters
    ----------
    arrival_rate : array_like
        Chats per second.
    aht_by_concurrency : sequence of float or float
        Handle time of one chat, seconds, when the agent holds 1, 2, ... m chats
        (handle time usually stretches with concurrency).  A single number
        means the same at every level.
    max_concurrency : int, optional
        ``m``; defaults to the length of ``aht_by_concurrency``.
    patience : array_like or None
        Mean patience of a waiting chat, seconds; ``None`` for none.
    lines : array_like or None
        Most chats in the system (waiting or in service); ``None`` for unlimited.

    Notes
    -----
    Occupancy is the share of chat *slots* (agents x m) in use.  Fractional
    agents are interpolated linearly between whole numbers.
    """

    _param_names = ("arrival_rate", "patience", "lines")

    def __init__(
        self,
        arrival_rate: Any,
        aht_by_concurrency: Any,
        max_concurrency: int | None = None,
        patience: Any = None,
        lines: Any = None,
    ) -> None:
        aht = np.atleast_1d(
            as_array(
                "aht_by_concurrency",
                aht_by_concurrency,
                low=0.0,
                low_inclusive=False,
                fix=(
                    "Give the handle time in seconds at each concurrency level, "
                    "e.g. [300, 360, 420]."
                ),
            )
        )
        if aht.ndim != 1:
            raise InvalidParameterError(
                "aht_by_concurrency",
                aht.shape,
                "a single number or a 1-D sequence",
                "One handle time per concurrency level.",
            )
        if max_concurrency is None:
            max_concurrency = aht.size
        if (
            not isinstance(max_concurrency, int | np.integer)
            or max_concurrency < 1
            or max_concurrency > 64
        ):
            raise InvalidParameterError(
                "max_concurrency",
                max_concurrency,
                "a whole number from 1 to 64",
                "Give how many chats an agent may hold at once.",
            )
        if aht.size == 1:
            aht = np.repeat(aht, max_concurrency)
        if aht.size < max_concurrency:
            raise InvalidParameterError(
                "aht_by_concurrency",
                aht.tolist(),
                f"one handle time per level 1..max_concurrency ({max_concurrency})",
                "Give a handle time for every concurrency level, or one for all.",
            )
        self._aht_by_concurrency = np.ascontiguousarray(aht[:max_concurrency])
        self._max_concurrency = int(max_concurrency)
        self._arrival_rate = as_array("arrival_rate", arrival_rate, fix="Give chats per second.")
        self._patience = as_array(
            "patience",
            math.inf if patience is None else patience,
            low=0.0,
            low_inclusive=False,
            allow_inf=True,
            fix="Give the mean patience of a waiting chat in seconds, or None.",
        )
        self._lines = as_array(
            "lines",
            math.inf if lines is None else lines,
            low=1.0,
            allow_inf=True,
            fix="Give the most chats in the system, or None.",
        )
        broadcast(**self._params())

    @property
    def arrival_rate(self) -> FloatArray:
        return self._arrival_rate

    @property
    def aht_by_concurrency(self) -> FloatArray:
        return self._aht_by_concurrency

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    @property
    def patience(self) -> FloatArray:
        return self._patience

    @property
    def lines(self) -> FloatArray:
        return self._lines

    def _raw(self, p: Params, agents: FloatArray, threshold: FloatArray) -> FloatArray:
        theta = np.where(np.isinf(p["patience"]), 0.0, 1.0 / p["patience"])
        # writable and contiguous for any size (one compiled signature; a broadcast view
        # of one row would be read-only)
        aht = np.require(
            np.broadcast_to(self._aht_by_concurrency, (agents.size, self._max_concurrency)),
            np.float64,
            ("C", "W"),
        )
        out: FloatArray = k.chat_batch(p["arrival_rate"], aht, agents, theta, p["lines"], threshold)
        return out

    def _capacity(self, agents: FloatArray) -> FloatArray:
        slots: FloatArray = agents * self._max_concurrency
        return slots

    def _offered_load(self, p: Params) -> FloatArray:
        m = self._max_concurrency
        load: FloatArray = p["arrival_rate"] * self._aht_by_concurrency[m - 1] / m
        return load

    def _known_infeasible(self, p: Params) -> FloatArray:
        if not np.all(np.isinf(p["patience"]) & np.isinf(p["lines"])):
            return super()._known_infeasible(p)
        load = self._offered_load(p)
        return np.where(load > 0, np.floor(load), -1.0)

    def __repr__(self) -> str:
        return (
            f"Chat(arrival_rate={self._arrival_rate!r}, "
            f"aht_by_concurrency={self._aht_by_concurrency.tolist()!r}, "
            f"max_concurrency={self._max_concurrency}, patience={self._patience!r}, "
            f"lines={self._lines!r})"
        )
