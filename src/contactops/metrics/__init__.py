"""KPI definitions and rollups over the warehouse, at any grain.

>>> from contactops.data import Warehouse
>>> from contactops.metrics import kpis
>>> table = kpis(Warehouse(), by=["month", "queue"], threshold=20)
"""

from contactops.metrics._kpis import GRAINS, KPI, KPIS, interval_history, kpis

__all__ = ["GRAINS", "KPI", "KPIS", "interval_history", "kpis"]
