"""KPI definitions and rollups over the warehouse, at any grain.

>>> from contactops.data import Warehouse
>>> from contactops.metrics import kpis
>>> table = kpis(Warehouse(), by=["month", "queue"], threshold=20)
>>> occupancy = agent_kpis(Warehouse(), by=["interval15", "agent"])
"""

from contactops.metrics._agents import AGENT_GRAINS, AGENT_KPIS, HANDLE_FROM, agent_kpis
from contactops.metrics._intervals import INTERVAL_GRAINS, interval_kpis
from contactops.metrics._kpis import GRAINS, KPI, KPIS, interval_history, kpi_sql, kpis

__all__ = [
    "AGENT_GRAINS",
    "AGENT_KPIS",
    "GRAINS",
    "HANDLE_FROM",
    "INTERVAL_GRAINS",
    "KPI",
    "KPIS",
    "agent_kpis",
    "interval_history",
    "interval_kpis",
    "kpi_sql",
    "kpis",
]
