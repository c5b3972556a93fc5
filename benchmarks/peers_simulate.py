"""The M/M/c(+M) contact queue written for SimPy 4 and Ciw 3, as their users would.

Both peers simulate the same model as ``contactops.simulate.simulate_queue``:
Poisson arrivals, ``agents`` identical agents serving first come first served,
exponential handle times and, optionally, exponential patience (a waiting
contact abandons when its patience runs out).  Each returns a :class:`Tally`
of the offered contacts, in arrival order, split into equal batches so the
benchmark can put a batch-means standard error on every statistic.

Conventions shared by both peers (and by the benchmark's contactops rows):

- the system starts empty and idle and no warm-up is discarded: every
  offered contact counts;
- service level is answered within ``threshold`` seconds over offered; ASA is
  the mean wait of answered contacts; abandon rate is abandoned over offered;
  occupancy is the handle time of answered contacts over ``agents`` times the
  time of the last arrival.

The libraries are imported inside the functions, so a process that runs one
peer loads only that peer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

THRESHOLD_S = 20.0
BATCHES = 20


@dataclass
class Tally:
    """Per-batch counts of the offered contacts (batch ``b``: arrivals ``b*n/B`` on)."""

    offered: np.ndarray
    answered: np.ndarray
    answered_within: np.ndarray
    wait_answered: np.ndarray  # summed waits of answered contacts, seconds
    abandoned: np.ndarray
    handle_answered: float = 0.0  # summed handle times of answered contacts, seconds
    last_arrival: float = 0.0  # seconds since the start
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, batches: int = BATCHES) -> Tally:
        zeros = [np.zeros(batches) for _ in range(5)]
        return cls(*zeros)

    @property
    def n_offered(self) -> int:
        return int(self.offered.sum())

    def statistics(self, agents: int) -> dict[str, float]:
        """Service level, ASA, abandon rate and occupancy over every offered contact."""
        offered, answered = self.offered.sum(), self.answered.sum()
        return {
            "service_level": float(self.answered_within.sum() / offered),
            "asa": float(self.wait_answered.sum() / answered) if answered else math.inf,
            "abandon_rate": float(self.abandoned.sum() / offered),
            "occupancy": (
                self.handle_answered / (agents * self.last_arrival)
                if self.last_arrival > 0
                else math.nan
            ),
        }

    def standard_errors(self) -> dict[str, float]:
        """Batch-means standard errors of service level, ASA and abandon rate."""
        keep = self.offered > 0
        b = int(keep.sum())
        if b < 2:
            return {"service_level": math.nan, "asa": math.nan, "abandon_rate": math.nan}
        offered, answered = self.offered[keep], self.answered[keep]
        with np.errstate(invalid="ignore", divide="ignore"):
            per_batch = {
                "service_level": self.answered_within[keep] / offered,
                "asa": self.wait_answered[keep] / answered,
                "abandon_rate": self.abandoned[keep] / offered,
            }
        return {
            name: float(np.std(v, ddof=1) / math.sqrt(b)) if np.all(np.isfinite(v)) else math.nan
            for name, v in per_batch.items()
        }


def run_simpy(
    arrival_rate: float,
    aht: float,
    agents: int,
    patience: float | None,
    n_contacts: int,
    seed: int,
    threshold: float = THRESHOLD_S,
    batches: int = BATCHES,
) -> Tally:
    """SimPy 4: a ``Resource`` of ``agents``, one generator process per contact.

    Patience is the documented SimPy idiom ``yield request | env.timeout(patience)``
    (the bank-renege example).  One refinement a careful SimPy user would make: a
    contact whose request is granted on arrival never waits, so it gets no
    patience timer.  Exponential patience is memoryless, so drawing it only for
    contacts that wait changes nothing in the model; it saves SimPy a timeout
    and a condition event for most contacts.  Random numbers come from one
    ``random.Random(seed)``.  The arrival process stops after ``n_contacts``
    arrivals and the run goes on until every contact has left.
    """
    import simpy

    expo = random.Random(seed).expovariate
    service_rate = 1.0 / aht
    patience_rate = None if patience is None else 1.0 / patience
    tally = Tally.empty(batches)
    answered, within, waits = tally.answered, tally.answered_within, tally.wait_answered
    abandoned = tally.abandoned
    handle = [0.0]

    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=agents)

    def contact(batch: int) -> Any:
        arrived = env.now
        with desk.request() as request:
            if patience_rate is None or request.triggered:
                yield request
            else:
                outcome = yield request | env.timeout(expo(patience_rate))
                if request not in outcome:
                    abandoned[batch] += 1
                    return
            wait = env.now - arrived
            answered[batch] += 1
            waits[batch] += wait
            if wait <= threshold:
                within[batch] += 1
            talk = expo(service_rate)
            handle[0] += talk
            yield env.timeout(talk)

    def arrivals() -> Any:
        for i in range(n_contacts):
            yield env.timeout(expo(arrival_rate))
            env.process(contact(i * batches // n_contacts))
        tally.last_arrival = env.now

    env.process(arrivals())
    env.run()  # until the last contact has left

    tally.offered[:] = np.bincount(np.arange(n_contacts) * batches // n_contacts, minlength=batches)
    tally.handle_answered = handle[0]
    tally.notes = {"stop": f"{n_contacts:,} arrivals, then run until every contact has left"}
    return tally


def run_ciw(
    arrival_rate: float,
    aht: float,
    agents: int,
    patience: float | None,
    n_contacts: int,
    seed: int,
    threshold: float = THRESHOLD_S,
    batches: int = BATCHES,
) -> Tally:
    """Ciw 3: one node, ``Exponential`` arrivals and services, ``agents`` servers.

    Patience is Ciw's reneging: ``reneging_time_distributions`` with an
    ``Exponential`` (a contact still queueing at its reneging date leaves; it
    writes a ``"renege"`` record).  The run is Ciw's
    ``simulate_until_max_customers(n_contacts, method="Finish")``: it stops when
    ``n_contacts`` contacts have left the system, answered or abandoned, and the
    statistics are computed from ``Simulation.get_all_records()``, which is how
    Ciw reports results.  Those are the first ~``n_contacts`` arrivals; the few
    dozen still queueing or in service at the stop have no record and are not
    counted.  Ciw draws from the global ``random`` module, seeded by
    ``ciw.seed(seed)``.
    """
    import ciw

    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / aht)],
        number_of_servers=[agents],
        reneging_time_distributions=(
            None if patience is None else [ciw.dists.Exponential(rate=1.0 / patience)]
        ),
    )
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(n_contacts, method="Finish")
    records = simulation.get_all_records()

    size = len(records)
    ident = np.fromiter((r.id_number for r in records), float, size)
    arrival = np.fromiter((r.arrival_date for r in records), float, size)
    wait = np.fromiter((r.waiting_time for r in records), float, size)
    talk = np.fromiter((r.service_time for r in records), float, size)
    served = np.fromiter((r.record_type == "service" for r in records), bool, size)
    reneged = np.fromiter((r.record_type == "renege" for r in records), bool, size)

    batch = np.empty(size, dtype=np.int64)  # batches by arrival order
    batch[np.argsort(ident, kind="stable")] = np.arange(size) * batches // size
    tally = Tally(
        offered=np.bincount(batch, minlength=batches).astype(float),
        answered=np.bincount(batch, weights=served, minlength=batches),
        answered_within=np.bincount(batch, weights=served & (wait <= threshold), minlength=batches),
        wait_answered=np.bincount(batch[served], weights=wait[served], minlength=batches),
        abandoned=np.bincount(batch, weights=reneged, minlength=batches),
        handle_answered=float(talk[served].sum()),
        last_arrival=float(arrival.max()) if size else 0.0,
    )
    tally.notes = {
        "stop": f"simulate_until_max_customers({n_contacts:,}, method='Finish')",
        "records": size,
        "record_types": {
            kind: int(np.count_nonzero(mask))
            for kind, mask in (("service", served), ("renege", reneged))
        },
        "other_records": int(size - served.sum() - reneged.sum()),
    }
    return tally


PEERS = {"simpy": run_simpy, "ciw": run_ciw}
