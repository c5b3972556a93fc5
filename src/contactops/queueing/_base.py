"""What every queueing model shares: broadcasting, the metric set, derived definitions."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from contactops.queueing import _kernels as k
from contactops.queueing._definitions import (
    ANSWERED_WITHIN_T_OVER_ANSWERED,
    ANSWERED_WITHIN_T_OVER_OFFERED,
    DEFAULT_SL_DEFINITION,
    EXCL_ABANDON_BEFORE_T,
    VIRTUAL,
    WAIT_LE_T,
    check_definition,
)
from contactops.queueing._validation import FloatArray, as_array, broadcast

Params = dict[str, FloatArray]
_PROBABILITY_COLUMNS = [
    k.OUT_P_IMMEDIATE,
    k.OUT_P_WAIT,
    k.OUT_P_BLOCK,
    k.OUT_P_ABANDON,
    k.OUT_P_SERVED_T,
    k.OUT_P_SERVED,
    k.OUT_P_W_LE_T,
    k.OUT_P_V_LE_T,
]


@dataclass(frozen=True)
class Metrics:
    """Every metric of a model at a given staff, broadcast over all inputs.

    Rates are shares of offered contacts unless said otherwise; waits are in
    seconds.  ``asa`` is the mean wait of *answered* contacts; ``mean_wait``
    is over every admitted contact, abandoners included;
    ``mean_virtual_wait`` is the mean wait an infinitely patient contact
    would have (CCmath's "ASA").
    """

    agents: FloatArray
    service_level: FloatArray
    prob_wait: FloatArray
    prob_immediate: FloatArray
    asa: FloatArray
    mean_wait: FloatArray
    mean_virtual_wait: FloatArray
    abandon_rate: FloatArray
    blocking: FloatArray
    occupancy: FloatArray
    answered_rate: FloatArray
    queue_length: FloatArray

    def as_dict(self) -> dict[str, FloatArray]:
        """The metrics as a name -> array mapping (for tables and JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _safe_div(num: FloatArray, den: FloatArray, empty: float) -> FloatArray:
    out = np.full(np.broadcast_shapes(num.shape, den.shape), empty)
    np.divide(num, den, out=out, where=den > 0)
    return out


def service_level_from_raw(raw: FloatArray, definition: str) -> FloatArray:
    """Service level under ``definition`` from the kernel's raw columns."""
    served_t = raw[..., k.OUT_P_SERVED_T]
    if definition == ANSWERED_WITHIN_T_OVER_OFFERED:
        sl = served_t
    elif definition == ANSWERED_WITHIN_T_OVER_ANSWERED:
        sl = _safe_div(served_t, raw[..., k.OUT_P_SERVED], 0.0)
    elif definition == EXCL_ABANDON_BEFORE_T:
        short_abandons = np.maximum(raw[..., k.OUT_P_W_LE_T] - served_t, 0.0)
        sl = _safe_div(served_t, 1.0 - short_abandons, 0.0)
    elif definition == WAIT_LE_T:
        sl = raw[..., k.OUT_P_W_LE_T]
    elif definition == VIRTUAL:
        sl = raw[..., k.OUT_P_V_LE_T]
    else:  # pragma: no cover - check_definition guards every entry point
        raise AssertionError(definition)
    return np.clip(sl, 0.0, 1.0)


class QueueModel:
    """Base class: subclasses declare their per-interval parameters and a kernel.

    Parameters are validated and stored at construction; every method takes
    ``agents`` (scalar or array) and broadcasts it with the parameters.
    """

    #: names of the per-interval parameters, in kernel order
    _param_names: tuple[str, ...] = ()

    def _params(self) -> dict[str, FloatArray]:
        return {name: getattr(self, f"_{name}") for name in self._param_names}

    # -- to be provided by subclasses ---------------------------------------------------
    def _raw(self, p: Params, agents: FloatArray, threshold: FloatArray) -> FloatArray:
        """Kernel output ``(size, N_OUT)`` for flat parameter arrays."""
        raise NotImplementedError

    def _capacity(self, agents: FloatArray) -> FloatArray:
        """Capacity units over which occupancy is measured (agents or chat slots)."""
        return agents

    def _offered_load(self, p: Params) -> FloatArray:
        """Offered load in agents (Erlangs), for the staffing search's first guess."""
        raise NotImplementedError

    def _known_infeasible(self, p: Params) -> FloatArray:
        """A staff level known to fail every target (``-1`` when none is known)."""
        return np.full(p["arrival_rate"].shape, -1.0)

    # -- flat evaluation used by the public methods and the staffing search -----------
    def _flat(self, agents: Any, threshold: Any = 0.0) -> tuple[tuple[int, ...], Params]:
        n = as_array(
            "agents",
            agents,
            allow_inf=False,
            fix="Give the number of agents as a non-negative number.",
        )
        t = as_array(
            "threshold", threshold, fix="Give the service-level threshold in seconds, e.g. 20."
        )
        return broadcast(**self._params(), agents=n, threshold=t)

    def _metrics_flat(self, p: Params, definition: str) -> dict[str, FloatArray]:
        agents = p["agents"]
        raw = self._raw(p, agents, p["threshold"])
        # sums of probabilities can round a hair past 1
        raw[:, _PROBABILITY_COLUMNS] = np.clip(raw[:, _PROBABILITY_COLUMNS], 0.0, 1.0)
        admitted = 1.0 - raw[:, k.OUT_P_BLOCK]
        cap = self._capacity(agents)
        lam = p["arrival_rate"]
        occupancy = np.where(lam > 0, 1.0, 0.0)
        np.divide(raw[:, k.OUT_BUSY], cap, out=occupancy, where=cap > 0)
        served = raw[:, k.OUT_P_SERVED]
        asa = _safe_div(raw[:, k.OUT_E_W_SERVED], served, math.inf)
        return {
            "agents": agents,
            "service_level": service_level_from_raw(raw, definition),
            "prob_wait": raw[:, k.OUT_P_WAIT],
            "prob_immediate": raw[:, k.OUT_P_IMMEDIATE],
            "asa": np.where(np.isnan(asa), math.inf, asa),
            "mean_wait": _safe_div(raw[:, k.OUT_E_W], admitted, math.inf),
            "mean_virtual_wait": _safe_div(raw[:, k.OUT_E_V], admitted, math.inf),
            "abandon_rate": raw[:, k.OUT_P_ABANDON],
            "blocking": raw[:, k.OUT_P_BLOCK],
            "occupancy": np.clip(occupancy, 0.0, 1.0),
            "answered_rate": served,
            "queue_length": raw[:, k.OUT_QUEUE],
        }

    # -- public API -----------------------------------------------------------------------
    def metrics(
        self, agents: Any, threshold: Any = 0.0, definition: str = DEFAULT_SL_DEFINITION
    ) -> Metrics:
        """All metrics at ``agents`` (the achieved metrics for a given staff)."""
        check_definition(definition)
        shape, p = self._flat(agents, threshold)
        flat = self._metrics_flat(p, definition)
        return Metrics(**{name: v.reshape(shape) for name, v in flat.items()})

    def service_level(
        self, agents: Any, threshold: Any, definition: str = DEFAULT_SL_DEFINITION
    ) -> FloatArray:
        """Share of contacts meeting the ``threshold`` (seconds) under ``definition``."""
        return self.metrics(agents, threshold, definition).service_level

    def prob_wait(self, agents: Any) -> FloatArray:
        """Probability that an arriving contact has to wait (finds every agent busy)."""
        return self.metrics(agents).prob_wait

    def asa(self, agents: Any) -> FloatArray:
        """Average speed of answer: mean wait of answered contacts, seconds."""
        return self.metrics(agents).asa

    def mean_wait(self, agents: Any) -> FloatArray:
        """Mean wait over all admitted contacts (abandoners included), seconds."""
        return self.metrics(agents).mean_wait

    def mean_virtual_wait(self, agents: Any) -> FloatArray:
        """Mean wait of an infinitely patient contact, seconds (CCmath's ASA)."""
        return self.metrics(agents).mean_virtual_wait

    def abandon_rate(self, agents: Any) -> FloatArray:
        """Share of offered contacts that abandon while waiting."""
        return self.metrics(agents).abandon_rate

    def blocking(self, agents: Any) -> FloatArray:
        """Share of offered contacts refused because every line is busy."""
        return self.metrics(agents).blocking

    def occupancy(self, agents: Any) -> FloatArray:
        """Share of agent (or chat-slot) time spent handling contacts."""
        return self.metrics(agents).occupancy
