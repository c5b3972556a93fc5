"""KPIs declared once and compiled to SQL that runs in the warehouse.

A KPI is a formula over *base aggregates* (counts and sums over contact legs,
each a SQL ``FILTER`` expression) plus its unit, which direction is better,
and the definitions it depends on.  :func:`kpis` assembles one query: the
base aggregates grouped by the requested grain, then every KPI as an
expression over them.  The SQL is plain (``count(*) FILTER``, window
functions, ``date_trunc``), so it runs on DuckDB here and can be handed to
another engine later.

Definitions, never hidden (``../shared/DESIGN.md``):

- *offered*: legs that reached the agent queue (answered, abandoned, blocked,
  callback requested); bot-contained and IVR-only contacts are not offered.
- *service level*: five definitions; ``virtual`` needs the wait a contact
  that abandoned would have had, which contact records do not hold, so it is
  refused with that reason.
- *short abandons* (wait <= ``short_abandon`` s) can be excluded: they leave
  offered, abandoned and every denominator.
- *ASA* over answered legs; *AHT* = talk + hold + after-contact work over
  answered legs whose talk time is known.
- *FCR*: an initial contact with a known customer is resolved first time when
  the same customer makes no new initial contact within ``fcr_days`` days.
- *CSAT* = share of surveys scoring 4-5; *NPS* = % promoters (9-10) minus %
  detractors (0-6); both with a 95% interval (Wilson; normal for NPS) and
  null below ``min_surveys`` responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa

from contactops.errors import InvalidParameterError
from contactops.queueing import (
    ANSWERED_WITHIN_T_OVER_ANSWERED,
    ANSWERED_WITHIN_T_OVER_OFFERED,
    DEFAULT_SL_DEFINITION,
    EXCL_ABANDON_BEFORE_T,
    SL_DEFINITIONS,
    VIRTUAL,
    WAIT_LE_T,
)

if TYPE_CHECKING:
    from contactops.data import Warehouse

__all__ = ["GRAINS", "KPI", "KPIS", "interval_history", "kpi_sql", "kpis"]


@dataclass(frozen=True)
class KPI:
    """One KPI: a formula over base aggregates, with its unit and meaning."""

    name: str
    formula: str
    unit: str  # count, share, seconds, score
    better: str  # higher, lower, none
    depends_on: tuple[str, ...]
    description: str


# base aggregates over contact legs ($threshold and $short are bound parameters); the
# repeat-window and survey counts have their own parts of the query (see kpis)
_OFFERED_ROW = "outcome IN ('answered', 'abandoned', 'blocked', 'callback_requested')"
_SHORT_ROW = "outcome = 'abandoned' AND coalesce(wait_s, 0) <= $short"
BASE: Final[dict[str, str]] = {
    "legs": "count(*)",
    "offered_all": f"count(*) FILTER (WHERE {_OFFERED_ROW})",
    "answered": "count(*) FILTER (WHERE outcome = 'answered')",
    "abandoned_all": "count(*) FILTER (WHERE outcome = 'abandoned')",
    "short_abandoned": f"count(*) FILTER (WHERE {_SHORT_ROW})",
    "blocked": "count(*) FILTER (WHERE outcome = 'blocked')",
    "deflected": "count(*) FILTER (WHERE outcome = 'deflected')",
    "answered_within": "count(*) FILTER (WHERE outcome = 'answered' "
    "AND coalesce(wait_s, 0) <= $threshold)",
    "abandoned_within": "count(*) FILTER (WHERE outcome = 'abandoned' "
    "AND coalesce(wait_s, 0) <= $threshold)",
    "wait_answered": "sum(coalesce(wait_s, 0)) FILTER (WHERE outcome = 'answered')",
    "handled": "count(*) FILTER (WHERE outcome = 'answered' AND talk_s IS NOT NULL)",
    "handle_sum": "sum(talk_s + coalesce(hold_s, 0) + coalesce(acw_s, 0)) "
    "FILTER (WHERE outcome = 'answered' AND talk_s IS NOT NULL)",
    "transferred": "count(*) FILTER (WHERE transferred_to IS NOT NULL)",
    "bot_handled": "count(*) FILTER (WHERE bot_confidence IS NOT NULL "
    "OR coalesce(escalated_from_bot, false))",
    "escalated": "count(*) FILTER (WHERE coalesce(escalated_from_bot, false))",
}

# initial contacts of known customers: the base of the repeat rate and FCR
_INITIAL_KNOWN = (
    "count(*) FILTER (WHERE customer_id IS NOT NULL AND contact_id = initial_contact_id)"
)

_SHORT = "(CASE WHEN $exclude_short THEN short_abandoned ELSE 0 END)"
_OFFERED = f"(offered_all - {_SHORT})"
_ABANDONED = f"(abandoned_all - {_SHORT})"
_ABN_WITHIN = f"(abandoned_within - {_SHORT})"

_SL_FORMULAS: Final[dict[str, str]] = {
    ANSWERED_WITHIN_T_OVER_OFFERED: f"answered_within / nullif({_OFFERED}, 0)",
    ANSWERED_WITHIN_T_OVER_ANSWERED: "answered_within / nullif(answered, 0)",
    EXCL_ABANDON_BEFORE_T: f"answered_within / nullif({_OFFERED} - {_ABN_WITHIN}, 0)",
    WAIT_LE_T: f"(answered_within + {_ABN_WITHIN}) / nullif({_OFFERED}, 0)",
}

KPIS: Final[tuple[KPI, ...]] = (
    KPI(
        "offered",
        _OFFERED,
        "count",
        "none",
        ("short_abandon",),
        "legs that reached the agent queue",
    ),
    KPI("answered", "answered", "count", "higher", (), "legs answered by an agent"),
    KPI(
        "abandoned",
        _ABANDONED,
        "count",
        "lower",
        ("short_abandon",),
        "legs that left the queue before an answer",
    ),
    KPI(
        "short_abandoned",
        "short_abandoned",
        "count",
        "none",
        ("short_abandon",),
        "abandoned within the short-abandon limit",
    ),
    KPI(
        "abandon_rate",
        f"{_ABANDONED} / nullif({_OFFERED}, 0)",
        "share",
        "lower",
        ("short_abandon",),
        "abandoned over offered",
    ),
    KPI(
        "service_level",
        "",
        "share",
        "higher",
        ("threshold", "sl_definition", "short_abandon"),
        "share meeting the threshold, under the chosen definition",
    ),
    KPI(
        "asa",
        "wait_answered / nullif(answered, 0)",
        "seconds",
        "lower",
        (),
        "average speed of answer over answered legs",
    ),
    KPI(
        "aht",
        "handle_sum / nullif(handled, 0)",
        "seconds",
        "lower",
        (),
        "talk + hold + after-contact work over answered legs with a known talk time",
    ),
    KPI(
        "transfer_rate",
        "transferred / nullif(answered, 0)",
        "share",
        "lower",
        (),
        "answered legs handed to another queue or department",
    ),
    KPI(
        "repeat_rate",
        "repeated / nullif(initial_known, 0)",
        "share",
        "lower",
        ("fcr_days",),
        "initial contacts followed by another from the same customer within N days",
    ),
    KPI(
        "fcr",
        "1 - repeated / nullif(initial_known, 0)",
        "share",
        "higher",
        ("fcr_days",),
        "first-contact resolution: no repeat from the same customer within N days",
    ),
    KPI(
        "containment_rate",
        "deflected / nullif(legs, 0)",
        "share",
        "higher",
        (),
        "contacts contained by self-service (bot or IVR) over all legs",
    ),
    KPI(
        "bot_escalation_rate",
        "escalated / nullif(bot_handled, 0)",
        "share",
        "lower",
        (),
        "bot contacts handed to a human",
    ),
    KPI(
        "csat",
        "csat_good / nullif(surveys_csat, 0)",
        "share",
        "higher",
        ("min_surveys",),
        "share of CSAT responses scoring 4 or 5",
    ),
    KPI(
        "nps",
        "100.0 * (promoters - detractors) / nullif(surveys_nps, 0)",
        "score",
        "higher",
        ("min_surveys",),
        "% promoters (9-10) minus % detractors (0-6)",
    ),
)

_TIME_GRAINS = {
    "interval": None,
    "interval15": 15,
    "interval30": 30,
    "interval60": 60,
    "day": "day",
    "week": "week",
    "month": "month",
}
_DIMENSIONS = {
    "queue": "queue",
    "channel": "channel",
    "segment": "segment",
    "agent": "agent_id",
    "team": "team",
    "site": "site",
    "source": "source",
}
GRAINS: Final = (*_TIME_GRAINS, *_DIMENSIONS)


def _grain_sql(grain: str, interval_minutes: int, *, portable: bool = False) -> tuple[str, str]:
    """(SQL expression, output column name) for one grain.

    ``portable``: interval starts from ``date_trunc`` and whole minutes instead of
    DuckDB's ``time_bucket`` (the same buckets: 15, 30 and 60 divide the hour).
    """
    if grain in _DIMENSIONS:
        return _DIMENSIONS[grain], grain
    local = "(arrived_at AT TIME ZONE $tz)"
    unit = _TIME_GRAINS[grain]
    if unit in ("day", "week", "month"):
        return f"CAST(date_trunc('{unit}', {local}) AS DATE)", grain
    minutes = interval_minutes if unit is None else int(unit)  # type: ignore[arg-type]
    if not portable:
        return f"time_bucket(INTERVAL '{minutes} minutes', {local})", "interval_start"
    hour = f"date_trunc('hour', {local})"
    if minutes == 60:
        return hour, "interval_start"
    start = (
        f"{hour} + INTERVAL '1 minute' * ({minutes} * floor(extract(minute FROM {local}) "
        f"/ {minutes}))"
    )
    return start, "interval_start"


def kpis(
    warehouse: Warehouse,
    by: list[str] | tuple[str, ...] = ("queue",),
    *,
    start: Any = None,
    end: Any = None,
    threshold: float = 20.0,
    sl_definition: str = DEFAULT_SL_DEFINITION,
    short_abandon: float = 5.0,
    exclude_short_abandons: bool = False,
    fcr_days: float = 7.0,
    interval_minutes: int = 30,
    timezone: str = "UTC",
    min_surveys: int = 30,
    metrics: list[str] | tuple[str, ...] | None = None,
) -> pa.Table:
    """Every KPI at the requested grain, one row per group.

    Parameters
    ----------
    by : list of str
        Grains among :data:`GRAINS`: ``interval`` (``interval_minutes``),
        ``interval15/30/60``, ``day``, ``week``, ``month`` (in ``timezone``),
        ``queue``, ``channel``, ``segment``, ``agent``, ``team``, ``site``,
        ``source``.  Empty: one row for everything.
    start, end : datetime or str, optional
        Arrival time window ``[start, end)``; naive values are in ``timezone``.
    threshold : float
        Service-level threshold, seconds.
    sl_definition : str
        One of the service-level definitions (``virtual`` is not observable
        from contact records).
    metrics : list of str, optional
        KPI names to compute (default: all of :data:`KPIS`); the repeat
        window and the survey join run only when a KPI needs them.
    """
    query, params, names, need_surveys = _kpi_query(
        by,
        start=start,
        end=end,
        threshold=threshold,
        sl_definition=sl_definition,
        short_abandon=short_abandon,
        exclude_short_abandons=exclude_short_abandons,
        fcr_days=fcr_days,
        interval_minutes=interval_minutes,
        timezone=timezone,
        min_surveys=min_surveys,
        metrics=metrics,
        portable=False,
    )
    table = warehouse.con.sql(query, params=_used(query, params)).to_arrow_table()
    if need_surveys:
        return _with_survey_intervals(table, min_surveys, names)
    return table.drop_columns(
        ["csat_responses", "nps_responses", "csat_good_n", "promoters_n", "detractors_n"]
    )


def kpi_sql(
    by: list[str] | tuple[str, ...] = ("queue",),
    *,
    dialect: str = "postgres",
    start: Any = None,
    end: Any = None,
    threshold: float = 20.0,
    sl_definition: str = DEFAULT_SL_DEFINITION,
    short_abandon: float = 5.0,
    exclude_short_abandons: bool = False,
    fcr_days: float = 7.0,
    interval_minutes: int = 30,
    timezone: str = "UTC",
    min_surveys: int = 30,
    metrics: list[str] | tuple[str, ...] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The query :func:`kpis` runs, for another SQL engine: ``(sql, params)``.

    The same KPI declarations compiled for tables ``interactions`` and
    ``surveys`` of the canonical schema in another database: written in
    portable forms (interval buckets from ``date_trunc`` and minutes, the
    repeat window over timestamps) and translated by sqlglot to ``dialect``
    (``postgres``, ``spark``, ``bigquery``, ``snowflake``, ``trino``... any
    dialect sqlglot writes), with the dialect's own parameter markers; bind
    ``params`` when running it.  The result has the columns of :func:`kpis`
    before its survey intervals: every KPI plus the raw survey counts
    (``csat_responses``, ``csat_good_n``, ``nps_responses``, ``promoters_n``,
    ``detractors_n``).  Checked against DuckDB on PostgreSQL in the tests.
    """
    import sqlglot  # noqa: PLC0415 - only this function needs it
    from sqlglot.dialects.dialect import Dialect  # noqa: PLC0415

    try:
        Dialect.get_or_raise(dialect)
    except ValueError as exc:
        raise InvalidParameterError(
            "dialect",
            dialect,
            "a SQL dialect sqlglot writes",
            "e.g. postgres, spark, bigquery, snowflake, trino.",
        ) from exc
    query, params, _, _ = _kpi_query(
        by,
        start=start,
        end=end,
        threshold=threshold,
        sl_definition=sl_definition,
        short_abandon=short_abandon,
        exclude_short_abandons=exclude_short_abandons,
        fcr_days=fcr_days,
        interval_minutes=interval_minutes,
        timezone=timezone,
        min_surveys=min_surveys,
        metrics=metrics,
        portable=True,
    )
    sql = sqlglot.transpile(query, read="duckdb", write=dialect, pretty=True)[0]
    return sql, _used(query, params)


def _kpi_query(
    by: list[str] | tuple[str, ...],
    *,
    start: Any,
    end: Any,
    threshold: float,
    sl_definition: str,
    short_abandon: float,
    exclude_short_abandons: bool,
    fcr_days: float,
    interval_minutes: int,
    timezone: str,
    min_surveys: int,
    metrics: list[str] | tuple[str, ...] | None,
    portable: bool,
) -> tuple[str, dict[str, Any], list[str], bool]:
    """The rollup query (DuckDB SQL, ``$name`` parameters), its parameters, the KPI
    names and whether surveys are joined.  ``portable`` avoids DuckDB's own
    functions (``time_bucket``, ``epoch_us``, ``rowid``) for :func:`kpi_sql`."""
    grains = list(by)
    for g in grains:
        if g not in GRAINS:
            raise InvalidParameterError(
                "by", g, "one of " + ", ".join(GRAINS), "e.g. by=['month', 'queue']."
            )
    if sl_definition not in SL_DEFINITIONS:
        raise InvalidParameterError(
            "sl_definition",
            sl_definition,
            "one of " + ", ".join(SL_DEFINITIONS),
            "See contactops.queueing.SL_DEFINITIONS.",
        )
    if sl_definition == VIRTUAL:
        raise InvalidParameterError(
            "sl_definition",
            sl_definition,
            "observable from contact records",
            "The virtual wait of a contact that abandoned is not recorded; use "
            "wait_le_t or another definition.",
        )
    for name, value in (
        ("threshold", threshold),
        ("short_abandon", short_abandon),
        ("fcr_days", fcr_days),
    ):
        if not (isinstance(value, int | float) and value >= 0):
            raise InvalidParameterError(name, value, "a number >= 0", "Give seconds (days).")
    if interval_minutes not in (15, 30, 60):
        raise InvalidParameterError(
            "interval_minutes",
            interval_minutes,
            "15, 30 or 60",
            "Intervals are 15, 30 or 60 minutes.",
        )
    if not isinstance(min_surveys, int) or min_surveys < 1:
        raise InvalidParameterError(
            "min_surveys",
            min_surveys,
            "a whole number >= 1",
            "Fewest responses to report CSAT/NPS.",
        )

    known = [k.name for k in KPIS]
    wanted = known if metrics is None else list(metrics)
    for m in wanted:
        if m not in known:
            raise InvalidParameterError(
                "metrics",
                m,
                "one of " + ", ".join(known),
                "Name KPIs from contactops.metrics.KPIS.",
            )
    selected = [k for k in KPIS if k.name in wanted]
    need_repeat = any(k.name in ("fcr", "repeat_rate") for k in selected)
    need_surveys = any(k.name in ("csat", "nps") for k in selected)

    exprs = [_grain_sql(g, interval_minutes, portable=portable) for g in grains]
    group_cols = [f"{e} AS {name}" for e, name in exprs]
    group_names = [name for _, name in exprs]
    where = []
    params: dict[str, Any] = {
        "threshold": float(threshold),
        "short": float(short_abandon),
        "exclude_short": bool(exclude_short_abandons),
        "fcr_days": float(fcr_days),
        "tz": timezone,
        "min_surveys": int(min_surveys),
    }
    if start is not None:
        where.append("arrived_at >= $start")
        params["start"] = _as_ts(start, timezone)
    if end is not None:
        where.append("arrived_at < $end")
        params["end"] = _as_ts(end, timezone)
    repeat_cols = ("repeated",)
    survey_cols = ("surveys_csat", "csat_good", "surveys_nps", "promoters", "detractors")
    core_exprs = dict(BASE)
    if need_repeat:
        core_exprs["initial_known"] = _INITIAL_KNOWN
    core_sql = ",\n  ".join(f"{expr} AS {name}" for name, expr in core_exprs.items())
    select_grain = ", ".join(group_cols)
    group_by = (" GROUP BY " + ", ".join(str(i + 1) for i in range(len(grains)))) if grains else ""
    order_by = (" ORDER BY " + ", ".join(str(i + 1) for i in range(len(grains)))) if grains else ""
    kpi_cols = []
    for k in selected:
        formula = _SL_FORMULAS[sl_definition] if k.name == "service_level" else k.formula
        if k.name in ("csat", "nps"):
            n = "surveys_csat" if k.name == "csat" else "surveys_nps"
            formula = f"CASE WHEN {n} >= $min_surveys THEN {formula} END"
        kpi_cols.append(f"({formula})::DOUBLE AS {k.name}")
    filt = ("WHERE " + " AND ".join(where)) if where else ""
    # three narrow parts, each grouped by the grain, joined on it (NULL-safe)
    parts = [
        (
            f"core AS (SELECT {select_grain + ',' if grains else ''}\n  {core_sql}\n"
            f"  FROM interactions {filt}{group_by})"
        )
    ]
    joins = ""
    on = " AND ".join(f"core.{g} IS NOT DISTINCT FROM {{t}}.{g}" for g in group_names) or "true"
    if need_repeat:
        if portable:
            # the same count in any SQL: the grain travels through the window, and the
            # window compares timestamps
            inner_where = filt.replace("arrived_at", "r.arrived_at")
            parts.append(f"""rep AS (
  SELECT {", ".join(f"r.{g}" for g in group_names) + "," if grains else ""}
    count(*) FILTER (WHERE r.repeat_within) AS repeated
  FROM (
    SELECT {select_grain + "," if grains else ""} arrived_at,
      lead(arrived_at) OVER (PARTITION BY customer_id ORDER BY arrived_at)
        <= arrived_at + $fcr_days * INTERVAL '1 day' AS repeat_within
    FROM interactions
    WHERE customer_id IS NOT NULL AND contact_id = initial_contact_id) r
  {inner_where}{group_by})""")
        else:
            # the repeat window sees every contact (a repeat may fall after ``end``), over
            # customer and time only: it yields the rowids of initial contacts repeated
            # within N days, whose grain is then looked up (carrying the grain columns
            # through the sort costs more).  initial_known is counted in core.
            parts.append(f"""rep AS (
  SELECT {select_grain + "," if grains else ""} count(*) AS repeated
  FROM interactions SEMI JOIN (
    SELECT rid FROM (
      SELECT rowid AS rid,
        -- integer microseconds sort and compare faster than TIMESTAMPTZ
        lead(epoch_us(arrived_at)) OVER (PARTITION BY customer_id
                                         ORDER BY epoch_us(arrived_at))
          <= epoch_us(arrived_at) + CAST($fcr_days * 86400e6 AS BIGINT) AS repeat_within
      FROM interactions
      WHERE customer_id IS NOT NULL AND contact_id = initial_contact_id)
    WHERE repeat_within) r ON interactions.rowid = r.rid
  {filt}{group_by})""")
        joins += " LEFT JOIN rep ON " + on.format(t="rep")
    if need_surveys:
        parts.append(f"""sur AS (
  SELECT {", ".join(f"i.{g}" for g in group_names) + "," if grains else ""}
    count(s.csat) AS surveys_csat, count(*) FILTER (WHERE s.csat >= 4) AS csat_good,
    count(s.nps) AS surveys_nps, count(*) FILTER (WHERE s.nps >= 9) AS promoters,
    count(*) FILTER (WHERE s.nps <= 6) AS detractors
  FROM surveys s JOIN (SELECT contact_id{", " + select_grain if grains else ""}
                       FROM interactions {filt}) i USING (contact_id){group_by})""")
        joins += " LEFT JOIN sur ON " + on.format(t="sur")
    zero = "0::BIGINT"
    extra = [
        f"coalesce(rep.{c}, 0) AS {c}" if need_repeat else f"{zero} AS {c}" for c in repeat_cols
    ]
    if not need_repeat:
        extra.append(f"{zero} AS initial_known")
    extra += [
        f"coalesce(sur.{c}, 0) AS {c}" if need_surveys else f"{zero} AS {c}" for c in survey_cols
    ]
    ctes = ",\n".join(parts)
    query = f"""
WITH {ctes},
base AS (
  SELECT core.*, {", ".join(extra)}
  FROM core{joins}
)
SELECT {", ".join(group_names) + "," if grains else ""}
  {", ".join(kpi_cols)},
  surveys_csat::BIGINT AS csat_responses, surveys_nps::BIGINT AS nps_responses,
  csat_good::BIGINT AS csat_good_n, promoters::BIGINT AS promoters_n,
  detractors::BIGINT AS detractors_n
FROM base{order_by}
"""
    return query, params, [k.name for k in selected], need_surveys


def _used(query: str, params: dict[str, Any]) -> dict[str, Any]:
    """The named parameters the query refers to (DuckDB refuses extras)."""
    return {k: v for k, v in params.items() if f"${k}" in query}


def _with_survey_intervals(table: pa.Table, min_surveys: int, names: list[str]) -> pa.Table:
    """95% intervals for CSAT (Wilson) and NPS (normal), null below ``min_surveys``."""
    z = 1.959963984540054
    n = table.column("csat_responses").to_numpy(zero_copy_only=False).astype(float)
    good = table.column("csat_good_n").to_numpy(zero_copy_only=False).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = good / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        ok = n >= min_surveys
        lo = np.where(ok, centre - half, np.nan)
        hi = np.where(ok, centre + half, np.nan)
        m = table.column("nps_responses").to_numpy(zero_copy_only=False).astype(float)
        pp = table.column("promoters_n").to_numpy(zero_copy_only=False) / m
        pd = table.column("detractors_n").to_numpy(zero_copy_only=False) / m
        var = (pp + pd - (pp - pd) ** 2) / m
        ok_n = m >= min_surveys
        nps_lo = np.where(ok_n, 100 * (pp - pd - z * np.sqrt(var)), np.nan)
        nps_hi = np.where(ok_n, 100 * (pp - pd + z * np.sqrt(var)), np.nan)
    if "csat" in names:
        i = table.schema.get_field_index("csat") + 1
        table = table.add_column(i, "csat_lo", pa.array(lo, from_pandas=True))
        table = table.add_column(i + 1, "csat_hi", pa.array(hi, from_pandas=True))
    if "nps" in names:
        j = table.schema.get_field_index("nps") + 1
        table = table.add_column(j, "nps_lo", pa.array(nps_lo, from_pandas=True))
        table = table.add_column(j + 1, "nps_hi", pa.array(nps_hi, from_pandas=True))
    drop = ["csat_good_n", "promoters_n", "detractors_n"]
    return table.drop_columns(drop)


def _as_ts(value: Any, timezone: str) -> Any:
    """A start/end bound as an aware datetime: ISO text, a datetime, or a date (its
    midnight); naive values are in ``timezone`` (DuckDB would read a bare date in its
    session zone)."""
    from datetime import date, datetime, time  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidParameterError(
                "start/end",
                value,
                "an ISO date or date-time",
                "e.g. 2026-03-01 or 2026-03-01T08:00",
            ) from exc
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


def interval_history(
    warehouse: Warehouse,
    *,
    interval_minutes: int = 30,
    timezone: str = "UTC",
    start: Any = None,
    end: Any = None,
) -> pa.Table:
    """Offered volume and mean handle time per queue and interval, for forecasting.

    Long format (statsforecast's): ``unique_id`` (queue), ``ds`` (interval
    start, local time in ``timezone``, naive), ``y`` (offered), ``aht``
    (seconds; null where nothing was handled).  Intervals with no contacts
    between a queue's first and last are present with ``y = 0``.
    """
    if interval_minutes not in (15, 30, 60):
        raise InvalidParameterError(
            "interval_minutes",
            interval_minutes,
            "15, 30 or 60",
            "Intervals are 15, 30 or 60 minutes.",
        )
    params: dict[str, Any] = {"tz": timezone}
    where = [_OFFERED_ROW.replace("outcome", "i.outcome")]
    if start is not None:
        where.append("i.arrived_at >= $start")
        params["start"] = _as_ts(start, timezone)
    if end is not None:
        where.append("i.arrived_at < $end")
        params["end"] = _as_ts(end, timezone)
    step = f"INTERVAL '{int(interval_minutes)} minutes'"
    query = f"""
WITH agg AS (
  SELECT queue AS unique_id,
         time_bucket({step}, i.arrived_at AT TIME ZONE $tz) AS ds,
         count(*)::DOUBLE AS y,
         avg(i.talk_s + coalesce(i.hold_s, 0) + coalesce(i.acw_s, 0))
           FILTER (WHERE i.outcome = 'answered' AND i.talk_s IS NOT NULL) AS aht
  FROM interactions i
  WHERE {" AND ".join(where)} AND queue IS NOT NULL
  GROUP BY 1, 2
), span AS (
  SELECT unique_id, min(ds) AS lo, max(ds) AS hi FROM agg GROUP BY 1
), grid AS (
  SELECT unique_id, unnest(generate_series(lo, hi, {step})) AS ds FROM span
)
SELECT g.unique_id, g.ds, coalesce(a.y, 0)::DOUBLE AS y, a.aht
FROM grid g LEFT JOIN agg a USING (unique_id, ds)
ORDER BY 1, 2
"""
    return warehouse.con.sql(query, params=_used(query, params)).to_arrow_table()
