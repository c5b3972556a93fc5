"""Every compiled kernel is compiled for one signature only.

numba compiles a function again for every new combination of argument types:
a bare literal, an ``int`` from ``math.floor`` where a float is expected, or a
read-only array (``np.broadcast_to`` views are) next to a writable one.  Each
extra signature of the simulator loop costs 20-30 s of a cold first run, of an
Erlang kernel a few seconds.  A fresh process runs what the plan runs (Erlang
A/X with fractional agents, Chat, Erlang C, a simulation) with scalars and
arrays, and then no dispatcher may hold two signatures.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import json
import numpy as np
from numba.core.registry import CPUDispatcher
from contactops.queueing import Chat, ErlangA, ErlangC, ErlangX, required_agents
from contactops.simulate import AgentGroup, Center, LogNormal, Queue, simulate
from contactops.queueing import _kernels, _special
from contactops.simulate import _engine

lam = np.array([0.05, 0.1, 0.2])
for model in (ErlangA(lam, 300.0, 120.0), ErlangX(0.1, 300.0, 120.0, lines=40),
              ErlangC(lam, 300.0), Chat(lam, [300.0, 360.0, 450.0], patience=90.0)):
    model.metrics(np.array([20.5, 31.0, 62.25]), threshold=20.0)
    model.metrics(25, threshold=np.array([10.0, 20.0, 30.0]))
    required_agents(model, service_level=0.8, threshold=20.0)
    required_agents(model, service_level=0.8, threshold=20.0, integer=False)
center = Center(queues=[Queue("q", arrival_rate=0.1, handle_time=LogNormal(300.0, 0.8),
                              patience=120.0),
                        Queue("c", volume=[30.0, 60.0] * 24, channel="chat",
                              handle_time=600.0)],
                groups=[AgentGroup("g", skills=["q"], staffing=35),
                        AgentGroup("h", skills=["c"], staffing=[6, 12] * 24, concurrency=2)])
simulate(center, days=1, replications=2, seed=1)
simulate(center, days=1, replications=1, seed=2, contacts=True)
many = {}
for module in (_kernels, _special, _engine):
    for name, obj in vars(module).items():
        if isinstance(obj, CPUDispatcher) and len(obj.signatures) > 1:
            many[f"{module.__name__}.{name}"] = [str(s) for s in obj.signatures]
print(json.dumps(many))
"""


def test_every_kernel_has_one_signature() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    many = json.loads(done.stdout.strip().splitlines()[-1])
    assert many == {}, "compiled more than once:\n" + "\n".join(
        f"{name}: {sigs}" for name, sigs in many.items()
    )
