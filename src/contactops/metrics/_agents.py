"""Agent KPIs from the agents' state spans: occupancy, utilisation, in-shift shrinkage.

The ``agent_states`` table (loaded with the ``agent-states`` format) says what
each agent's time went on: ``available`` (ready, waiting), ``busy`` (handling
contacts), ``aux`` (paid, not available: breaks, meetings, training...) and
``offline``.  Per group of the requested grain:

- ``staffed_s``: every state but offline; ``available_s``, ``busy_s``,
  ``aux_s``: the time in each (so staffed = available + busy + aux);
- ``occupancy`` = busy / (busy + available): the share of on-queue time spent
  handling contacts; with ``handle_from="contacts"``, handle time from the
  contact records over on-queue time instead, for status logs that have no
  busy state (a presence log: on queue or not);
- ``utilisation`` = (busy + available) / staffed: the share of staffed time
  on queue;
- ``shrinkage`` = aux / staffed: in-shift shrinkage (absence, which leaves no
  span, is not in it);
- ``handled`` and ``handle_s``: answered legs with a known talk time, and
  their talk + hold + after-contact work, from ``interactions``, counted in
  the group of the leg's agent and *arrival* time (by team, site or queue:
  the one the agent's latest span started by the arrival gives); only legs
  of agents that appear in the state log count, so contacts of agents without
  states do not load the occupancy of those with.

Time grains split spans exactly: every span is cut at the UTC quarter hours it
crosses, in SQL, so a span's seconds across intervals sum to its length; each
piece then falls wholly in one local 15/30/60-minute interval, day, week or
month of ``timezone`` (every zone in use today is a whole number of quarter
hours from UTC).  As in :func:`~contactops.metrics.kpis`, local intervals are
wall-clock buckets: the repeated hour of a DST change holds both passes.
Spans are clipped to ``[start, end)``; offline spans are never read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contactops.errors import InvalidParameterError
from contactops.metrics._kpis import KPI, _as_ts, _grain_sql, _used

if TYPE_CHECKING:
    import pyarrow as pa

    from contactops.data import Warehouse

__all__ = ["AGENT_GRAINS", "AGENT_KPIS", "HANDLE_FROM", "agent_kpis"]

AGENT_GRAINS: Final = (
    "interval",
    "interval15",
    "interval30",
    "interval60",
    "day",
    "week",
    "month",
    "agent",
    "team",
    "site",
    "queue",
)
HANDLE_FROM: Final = ("states", "contacts")
_TIME = ("interval", "interval15", "interval30", "interval60", "day", "week", "month")
_QUARTER_US = 15 * 60 * 1_000_000

# sums over the pieces of state spans (seconds), and over answered contact legs
BASE: Final[dict[str, str]] = {
    "staffed_s": "sum(piece_s)",
    "available_s": "sum(piece_s) FILTER (WHERE state = 'available')",
    "busy_s": "sum(piece_s) FILTER (WHERE state = 'busy')",
    "aux_s": "sum(piece_s) FILTER (WHERE state = 'aux')",
}
_CONTACT_BASE: Final[dict[str, str]] = {
    "handled": "count(*)",
    "handle_s": "sum(talk_s + coalesce(hold_s, 0) + coalesce(acw_s, 0))",
}
_ON_QUEUE = "(busy_s + available_s)"
_OCCUPANCY: Final[dict[str, str]] = {
    "states": f"busy_s / nullif({_ON_QUEUE}, 0)",
    "contacts": f"handle_s / nullif({_ON_QUEUE}, 0)",
}

AGENT_KPIS: Final[tuple[KPI, ...]] = (
    KPI(
        "staffed_s",
        "staffed_s",
        "seconds",
        "none",
        (),
        "staffed (logged-in) time: every state but offline",
    ),
    KPI("available_s", "available_s", "seconds", "none", (), "ready and waiting for a contact"),
    KPI(
        "busy_s",
        "busy_s",
        "seconds",
        "none",
        (),
        "handling contacts: talk, hold, after-contact work",
    ),
    KPI(
        "aux_s",
        "aux_s",
        "seconds",
        "lower",
        (),
        "paid but not available: breaks, meetings, training, coaching",
    ),
    KPI(
        "handled",
        "handled",
        "count",
        "none",
        (),
        "answered legs with a known talk time, by the agent and arrival time",
    ),
    KPI(
        "handle_s",
        "handle_s",
        "seconds",
        "none",
        (),
        "talk + hold + after-contact work of those legs",
    ),
    KPI(
        "occupancy",
        _OCCUPANCY["states"],
        "share",
        "none",
        ("handle_from",),
        "busy over on-queue (busy + available) time; handle_from='contacts': handle time "
        "from the contact records over on-queue time",
    ),
    KPI(
        "utilisation",
        f"{_ON_QUEUE} / nullif(staffed_s, 0)",
        "share",
        "higher",
        (),
        "on-queue (busy + available) over staffed time",
    ),
    KPI(
        "shrinkage",
        "aux_s / nullif(staffed_s, 0)",
        "share",
        "lower",
        (),
        "in-shift shrinkage: aux over staffed time",
    ),
)


def _lead(cols: list[str]) -> str:
    """Columns ahead of others in a select list."""
    return ", ".join(cols) + ", " if cols else ""


def agent_kpis(
    warehouse: Warehouse,
    by: list[str] | tuple[str, ...] = ("agent",),
    *,
    start: Any = None,
    end: Any = None,
    timezone: str = "UTC",
    interval_minutes: int = 15,
    handle_from: str = "states",
) -> pa.Table:
    """Agent time and occupancy KPIs (:data:`AGENT_KPIS`) at the requested grain.

    Parameters
    ----------
    by : list of str
        Grains among :data:`AGENT_GRAINS`: ``interval`` (``interval_minutes``),
        ``interval15/30/60``, ``day``, ``week``, ``month`` (in ``timezone``),
        ``agent``, ``team``, ``site``, ``queue``.  Empty: one row.
    start, end : datetime or str, optional
        Spans are clipped to ``[start, end)``, contacts selected by arrival in
        it; naive values are in ``timezone``.
    handle_from : str
        ``states`` (occupancy = busy / on-queue time) or ``contacts``
        (occupancy = handle time of the contact records / on-queue time).

    Returns
    -------
    pyarrow.Table
        One row per group (ordered by it): the grain columns (time grains as
        ``interval_start``/``day``/``week``/``month``, local), then every KPI of
        :data:`AGENT_KPIS`.  Seconds are 0 and ratios null where a group has
        no state time; a group with contacts but no state time is kept.
    """
    grains = list(by)
    for g in grains:
        if g not in AGENT_GRAINS:
            raise InvalidParameterError(
                "by", g, "one of " + ", ".join(AGENT_GRAINS), "e.g. by=['interval15', 'agent']."
            )
    if len({g for g in grains if g in _TIME}) > 1:
        raise InvalidParameterError(
            "by", grains, "at most one time grain", "e.g. by=['day', 'team']."
        )
    if handle_from not in HANDLE_FROM:
        raise InvalidParameterError(
            "handle_from",
            handle_from,
            "states or contacts",
            "contacts: for status logs without a busy state.",
        )
    if interval_minutes not in (15, 30, 60):
        raise InvalidParameterError(
            "interval_minutes",
            interval_minutes,
            "15, 30 or 60",
            "Intervals are 15, 30 or 60 minutes.",
        )
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidParameterError(
            "timezone", timezone, "an IANA time zone name", "For example UTC or Europe/London."
        ) from exc
    params: dict[str, Any] = {"tz": timezone, "q": _QUARTER_US}
    span_where = ["state <> 'offline'"]
    contact_where = [
        "outcome = 'answered'",
        "talk_s IS NOT NULL",
        "agent_id IN (SELECT agent_id FROM agent_states)",
    ]
    s_us, e_us = "epoch_us(started_at)", "epoch_us(ended_at)"
    if start is not None:
        params["start"] = _as_ts(start, timezone)
        span_where.append("ended_at > $start")
        contact_where.append("arrived_at >= $start")
        s_us = "epoch_us(greatest(started_at, $start))"
    if end is not None:
        params["end"] = _as_ts(end, timezone)
        span_where.append("started_at < $end")
        contact_where.append("arrived_at < $end")
        e_us = "epoch_us(least(ended_at, $end))"
    if start is not None and end is not None and _not_before(params["start"], params["end"]):
        raise InvalidParameterError(
            "end", end, f"after start ({start})", "The window is [start, end)."
        )

    exprs = [_grain_sql(g, interval_minutes) for g in grains]
    names = [n for _, n in exprs]
    state_cols = [f"{e.replace('arrived_at', 'piece_at')} AS {n}" for e, n in exprs]
    contact_cols = [f"{e} AS {n}" for e, n in exprs]
    if any(g in _TIME for g in grains):
        # one piece per UTC quarter hour the span touches; the pieces' seconds sum to the
        # span's length (range() stops before the span's end, so a piece is never empty
        # unless the span is)
        pieces = """
  SELECT agent_id, team, site, queue, state, to_timestamp(b / 1e6) AS piece_at,
         (least(e_us, b + $q) - greatest(s_us, b)) / 1e6 AS piece_s
  FROM (SELECT *, unnest(range(s_us - ((s_us % $q) + $q) % $q, e_us, $q)) AS b FROM spans)"""
    else:
        pieces = """
  SELECT agent_id, team, site, queue, state, (e_us - s_us) / 1e6 AS piece_s FROM spans"""
    group = (" GROUP BY " + ", ".join(str(i + 1) for i in range(len(grains)))) if grains else ""
    legs = f"""
  SELECT * FROM interactions WHERE {" AND ".join(contact_where)}"""
    taken = [g for g in ("team", "site", "queue") if g in grains]
    if taken:
        # a leg counts in the team/site/queue its agent's state log puts the agent in at the
        # leg's arrival (the latest span started by then), the leg's own column only for an
        # agent with no span yet: the legs' own columns are often empty, or name the
        # contact's queue rather than the agent's
        own = ", ".join(
            f"CASE WHEN s.agent_id IS NULL THEN c.{g} ELSE s.{g} END AS {g}" for g in taken
        )
        legs = f"""
  SELECT c.* EXCLUDE ({", ".join(taken)}), {own}
  FROM ({legs}) c ASOF LEFT JOIN agent_states s
    ON c.agent_id = s.agent_id AND c.arrived_at >= s.started_at"""
    on = " AND ".join(f"st.{n} IS NOT DISTINCT FROM ct.{n}" for n in names) or "true"
    kpis = []
    for k in AGENT_KPIS:
        formula = _OCCUPANCY[handle_from] if k.name == "occupancy" else k.formula
        cast = "BIGINT" if k.unit == "count" else "DOUBLE"
        kpis.append(f"({formula})::{cast} AS {k.name}")
    base = [f"coalesce(st.{b}, 0)::DOUBLE AS {b}" for b in BASE]
    base += [f"coalesce(ct.{b}, 0) AS {b}" for b in _CONTACT_BASE]
    query = f"""
WITH spans AS (
  SELECT agent_id, team, site, queue, state, {s_us} AS s_us, {e_us} AS e_us
  FROM agent_states WHERE {" AND ".join(span_where)}
), pieces AS ({pieces}
), st AS (
  SELECT {_lead(state_cols)}{", ".join(f"{v} AS {k}" for k, v in BASE.items())}
  FROM pieces{group}
), legs AS ({legs}
), ct AS (
  SELECT {_lead(contact_cols)}{", ".join(f"{v} AS {k}" for k, v in _CONTACT_BASE.items())}
  FROM legs{group}
), joined AS (
  SELECT {_lead([f"coalesce(st.{n}, ct.{n}) AS {n}" for n in names])}{", ".join(base)}
  FROM st FULL OUTER JOIN ct ON {on}
)
SELECT {_lead(names)}{", ".join(kpis)}
FROM joined
{"ORDER BY " + ", ".join(f"{n} NULLS LAST" for n in names) if names else ""}
"""
    return warehouse.con.sql(query, params=_used(query, params)).to_arrow_table()


def _not_before(start: Any, end: Any) -> bool:
    try:
        return bool(start >= end)
    except TypeError:  # a date and a datetime: DuckDB compares them, and so will the query
        return False
