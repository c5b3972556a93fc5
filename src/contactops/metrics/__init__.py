"""KPI definitions and rollups over the warehouse, at any grain.

>>> from contactops.data import Warehouse
>>> from contactops.metrics import kpis
>>> table = kpis(Warehouse(), by=["month", "queue"], threshold=20)
"""

from contactops.metrics._intervals import INTERVAL_GRAINS, interval_kpis
from contactops.metrics._kpis import GRAINS, KPI, KPIS, interval_history, kpis

__all__ = ["GRAINS", "INTERVAL_GRAINS", "KPI", "KPIS", "interval_history", "interval_kpis",
           "kpis"]
