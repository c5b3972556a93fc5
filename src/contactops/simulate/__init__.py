"""Discrete-event simulation of a contact center, compiled.

Several queues and skills, priority tiers, chat concurrency, bots that hand
over to humans, transfers between departments, staffing that changes every
interval, and scenarios (launch spikes, outages, reassignments, absenteeism).
The event loop is one numba function over typed arrays; replications run in
parallel threads from one explicit seed.

>>> from contactops.simulate import simulate_queue
>>> r = simulate_queue(arrival_rate=45 / 300, aht=300, agents=50, n_contacts=20_000, seed=1)
>>> 0.7 < r.service_level(20) < 0.9
True
"""

from contactops.simulate._distributions import (
    Beta,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    LogNormal,
    Uniform,
)
from contactops.simulate._model import AgentGroup, Bot, Center, Queue, Scenario, load_center
from contactops.simulate._results import OUTCOMES, SimulationResult
from contactops.simulate._run import QueueSimulation, simulate, simulate_queue

__all__ = [
    "OUTCOMES",
    "AgentGroup",
    "Beta",
    "Bot",
    "Center",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "LogNormal",
    "Queue",
    "QueueSimulation",
    "Scenario",
    "SimulationResult",
    "Uniform",
    "load_center",
    "simulate",
    "simulate_queue",
]
