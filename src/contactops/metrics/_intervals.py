"""KPIs from ACD interval reports (the ``intervals`` table).

Interval reports hold counts and sums per queue and interval, not contacts,
so only the KPIs those totals determine are available: offered, answered,
abandoned, abandonment, service level at the report's own threshold (under
each definition the counts allow), ASA, AHT and transfer rate.  Summing
intervals to a coarser grain is exact for every one of them.  Where the
reports carry the agents' available time (``staffed_s``: staffed minus breaks
and aux, e.g. Avaya's I_STAFFTIME less aux, Cisco's logged-on time less not-ready),
occupancy = handle time / that time, over the intervals that report it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contactops.errors import InvalidParameterError
from contactops.metrics._kpis import _TIME_GRAINS, _as_ts, _grain_sql, _used
from contactops.queueing import (
    ANSWERED_WITHIN_T_OVER_ANSWERED,
    ANSWERED_WITHIN_T_OVER_OFFERED,
    DEFAULT_SL_DEFINITION,
    EXCL_ABANDON_BEFORE_T,
    SL_DEFINITIONS,
    WAIT_LE_T,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from contactops.data import Warehouse

__all__ = ["INTERVAL_GRAINS", "interval_kpis"]

INTERVAL_GRAINS = (
    "interval",
    "interval15",
    "interval30",
    "interval60",
    "day",
    "week",
    "month",
    "queue",
    "source",
)

_SL = {
    ANSWERED_WITHIN_T_OVER_OFFERED: "sum(answered_within) / nullif(sum(offered), 0)",
    ANSWERED_WITHIN_T_OVER_ANSWERED: "sum(answered_within) / nullif(sum(answered), 0)",
    EXCL_ABANDON_BEFORE_T: "sum(answered_within) / nullif(sum(offered) - sum(abandoned_within), 0)",
    WAIT_LE_T: "(sum(answered_within) + sum(abandoned_within)) / nullif(sum(offered), 0)",
}


def interval_kpis(
    warehouse: Warehouse,
    by: list[str] | tuple[str, ...] = ("queue",),
    *,
    start: Any = None,
    end: Any = None,
    threshold: float | None = None,
    sl_definition: str = DEFAULT_SL_DEFINITION,
    interval_minutes: int = 30,
    timezone: str = "UTC",
) -> pa.Table:
    """KPIs from interval reports at any grain of :data:`INTERVAL_GRAINS`.

    ``threshold``, when given, must equal the reports' own threshold (their
    counts of contacts answered within it cannot be re-cut); rows with another
    threshold are refused with that reason.  Service level needs
    ``abandoned_within`` for ``excl_abandon_before_t`` and ``wait_le_t``; it
    is null where the reports lack it.  ``virtual`` is not available.
    """
    grains = list(by)
    for g in grains:
        if g not in INTERVAL_GRAINS:
            raise InvalidParameterError(
                "by",
                g,
                "one of " + ", ".join(INTERVAL_GRAINS),
                "Interval reports have no agent, channel or segment.",
            )
    if sl_definition not in SL_DEFINITIONS or sl_definition not in _SL:
        raise InvalidParameterError(
            "sl_definition",
            sl_definition,
            "one of " + ", ".join(_SL),
            "Interval reports hold no virtual wait.",
        )
    if interval_minutes not in (15, 30, 60):
        raise InvalidParameterError(
            "interval_minutes",
            interval_minutes,
            "15, 30 or 60",
            "Intervals are 15, 30 or 60 minutes.",
        )
    params: dict[str, Any] = {"tz": timezone}
    where = []
    if start is not None:
        where.append("interval_start >= $start")
        params["start"] = _as_ts(start, timezone)
    if end is not None:
        where.append("interval_start < $end")
        params["end"] = _as_ts(end, timezone)
    filt = ("WHERE " + " AND ".join(where)) if where else ""
    if threshold is not None:
        found = warehouse.con.sql(
            f"SELECT DISTINCT threshold_s FROM intervals {filt}", params=_used(filt, params) or None
        ).fetchall()
        others = sorted(t for (t,) in found if t is not None and t != float(threshold))
        if others:
            raise InvalidParameterError(
                "threshold",
                threshold,
                f"the reports' own threshold ({others[0]:g} s)",
                "Interval reports count contacts answered within their own threshold; ask "
                "for that one, or compute from contact records.",
            )
    exprs = [_grain_sql(g, interval_minutes) for g in grains]
    exprs = [(e.replace("arrived_at", "interval_start"), n) for e, n in exprs]
    cols = ", ".join(f"{e} AS {n}" for e, n in exprs)
    group = (" GROUP BY " + ", ".join(str(i + 1) for i in range(len(grains)))) if grains else ""
    if grains and any(g.startswith("interval") for g in grains):
        # a report interval longer than the requested one cannot be split
        longest = warehouse.con.sql("SELECT max(interval_s) FROM intervals").fetchall()[0][0]
        grain = next(g for g in grains if g.startswith("interval"))
        want = int(_TIME_GRAINS[grain] or interval_minutes) * 60
        if longest is not None and longest > want:
            raise InvalidParameterError(
                "by",
                grains,
                f"intervals no shorter than the reports' ({longest / 60:g} min)",
                "Ask for a coarser interval, or day/week/month.",
            )
    query = f"""
SELECT {cols + "," if grains else ""}
  sum(offered) AS offered, sum(answered) AS answered, sum(abandoned) AS abandoned,
  sum(abandoned) / nullif(sum(offered), 0) AS abandon_rate,
  ({_SL[sl_definition]})::DOUBLE AS service_level,
  min(threshold_s) AS threshold_s,
  sum(wait_s) / nullif(sum(answered), 0) AS asa,
  sum(handle_s) / nullif(sum(answered), 0) AS aht,
  sum(transferred) / nullif(sum(answered), 0) AS transfer_rate,
  sum(handle_s) FILTER (WHERE staffed_s IS NOT NULL) / nullif(sum(staffed_s), 0)
    AS occupancy,
  count(*) AS report_rows
FROM intervals {filt}{group}
{"ORDER BY " + ", ".join(str(i + 1) for i in range(len(grains))) if grains else ""}
"""
    return warehouse.con.sql(query, params=_used(query, params) or None).to_arrow_table()
