"""The plan: history -> forecast -> required agents per interval -> simulation check."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contactops.errors import InvalidParameterError
from contactops.forecast import (
    DEFAULT_METHODS,
    Event,
    HandleTimeForecaster,
    VolumeForecaster,
    interval_minutes,
)
from contactops.queueing import Chat, ErlangA, ErlangC, backlog_staffing, required_agents
from contactops.simulate import AgentGroup, Center, Exponential, LogNormal, Queue, simulate
from contactops.units import check_timezone, parse_duration, parse_share, parse_target

if TYPE_CHECKING:
    from contactops.data import Warehouse

__all__ = ["PlanResult", "QueueParams", "estimate_queue_params", "plan"]

Progress = Callable[[str], None]
_DEFAULT_TARGETS = {
    "voice": "80/20",
    "callback": "80/20",
    "chat": "80/60",
    "message": "80/60",
    "email": "90/24h",
    "ticket": "90/24h",
}
_DEFERRED = ("email", "ticket")
_CHATLIKE = ("chat", "message")


@dataclass
class QueueParams:
    """What the plan knows about a queue, and where it came from.

    ``patience`` is the mean patience of a waiting contact (exponential,
    estimated from the history as total time waited over abandons: the
    maximum-likelihood estimate with answered contacts as censored
    observations); ``None`` when nobody abandoned.  ``aht_cv`` is the
    coefficient of variation of handle time (the simulation's log-normal).
    ``containment`` is the share of bot-handled contacts the bot kept.
    """

    queue: str
    channel: str = "voice"
    aht: float = 300.0
    aht_cv: float = 1.0
    patience: float | None = None
    containment: float | None = None
    offered: int = 0
    abandoned: int = 0
    source: str = "default"


def _utc(value: Any) -> Any:
    ts = pd.Timestamp(value)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()


def estimate_queue_params(
    warehouse: Warehouse, start: Any = None, end: Any = None
) -> dict[str, QueueParams]:
    """Channel, handle-time distribution, patience and containment per queue."""
    where, params = ["queue IS NOT NULL"], []
    if start is not None:
        where.append("arrived_at >= ?")
        params.append(_utc(start))
    if end is not None:
        where.append("arrived_at < ?")
        params.append(_utc(end))
    handle = "talk_s + coalesce(hold_s, 0) + coalesce(acw_s, 0)"
    rows = warehouse.con.execute(
        f"""
        SELECT queue, mode(channel),
               count(*) FILTER (WHERE outcome IN ('answered', 'abandoned')),
               count(*) FILTER (WHERE outcome = 'abandoned'),
               sum(wait_s) FILTER (WHERE outcome IN ('answered', 'abandoned')),
               avg({handle}) FILTER (WHERE outcome = 'answered' AND talk_s IS NOT NULL),
               stddev_samp({handle}) FILTER (WHERE outcome = 'answered' AND talk_s IS NOT NULL),
               count(*) FILTER (WHERE bot_confidence IS NOT NULL),
               count(*) FILTER (WHERE bot_confidence IS NOT NULL AND outcome = 'deflected')
        FROM interactions WHERE {" AND ".join(where)} GROUP BY queue ORDER BY queue
        """,  # noqa: S608 - the WHERE parts are fixed text; values are bound
        params,
    ).fetchall()
    out = {}
    for q, ch, queued, aband, wait_sum, aht, sd, bot, kept in rows:
        patience = float(wait_sum) / aband if aband and wait_sum else None
        out[q] = QueueParams(
            queue=q,
            channel=ch or "voice",
            aht=float(aht) if aht else 300.0,
            aht_cv=float(sd / aht) if aht and sd else 1.0,
            patience=patience,
            containment=kept / bot if bot else None,
            offered=int(queued),
            abandoned=int(aband),
            source="history",
        )
    return out


@dataclass
class PlanResult:
    """A plan: one row per queue and interval, and what it was built from.

    ``table`` columns: ``queue``, ``channel``, ``interval_start`` (local),
    ``forecast`` and its band (``forecast_lo``/``forecast_hi``, 80%),
    ``aht``, ``agents`` (on contacts, by the queueing model), ``required``
    (agents to schedule: shrinkage added), ``model_sl`` (the model's
    service level at ``agents``), ``target_sl``, ``threshold_s``, and when
    simulated ``sim_sl`` with its 95% interval (``sim_sl_lo``,
    ``sim_sl_hi``) and ``at_risk`` (the simulated interval lies wholly
    below the target).
    """

    table: pd.DataFrame
    forecast: pd.DataFrame
    history: pd.DataFrame
    accuracy: pd.DataFrame
    queues: pd.DataFrame
    start: date
    days: int
    interval_minutes: int
    shrinkage: float
    simulated: bool
    notes: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    schedule: Any = None  # a contactops.schedule.Schedule, once attached

    def attach_schedule(self, schedule: Any) -> PlanResult:
        """Add the schedule's coverage (``scheduled``, ``short``, ``over``) to the table.

        ``schedule`` is what ``contactops.schedule.schedule_shifts`` returned for
        this plan's requirement; the report then charts coverage against it.
        """
        cov = schedule.coverage_table().to_pandas()
        ts = pd.to_datetime(cov["interval_start"])
        if ts.dt.tz is not None:
            ts = ts.dt.tz_convert(self.timezone).dt.tz_localize(None)
        cov = cov.assign(interval_start=ts.astype("datetime64[ns]"))[
            ["queue", "interval_start", "scheduled", "short", "over"]
        ]
        table = self.table.drop(
            columns=[c for c in ("scheduled", "short", "over") if c in self.table.columns]
        )
        table = table.assign(
            interval_start=pd.to_datetime(table["interval_start"]).astype("datetime64[ns]")
        )
        merged = table.merge(cov, on=["queue", "interval_start"], how="left")
        missing = merged["scheduled"].isna()
        if missing.all():
            raise InvalidParameterError(
                "schedule",
                "no matching intervals",
                "a schedule of this plan's queues and intervals",
                "Schedule the plan's own requirement (same time zone).",
            )
        merged[["scheduled", "short", "over"]] = merged[["scheduled", "short", "over"]].fillna(0.0)
        self.table = merged
        self.schedule = schedule
        return self

    def summary(self) -> pd.DataFrame:
        """Per queue: volume, agent-hours, peak requirement, service levels, risk."""
        t = self.table
        hours = self.interval_minutes / 60.0
        g = t.groupby("queue", sort=True)
        out = pd.DataFrame(
            {
                "channel": g["channel"].first(),
                "method": self.forecast.groupby("unique_id")["method"].first(),
                "forecast": g["forecast"].sum(),
                "aht": (t["aht"] * t["forecast"]).groupby(t["queue"]).sum()
                / g["forecast"].sum().replace(0, np.nan),
                "required_hours": g["required"].sum() * hours,
                "peak_required": g["required"].max(),
                "target_sl": g["target_sl"].first(),
                "model_sl": _weighted(t, "model_sl"),
            }
        )
        if self.simulated:
            out["sim_sl"] = _weighted(t, "sim_sl")
            out["at_risk_intervals"] = g["at_risk"].sum().astype(int)
        if "scheduled" in t.columns:
            out["scheduled_hours"] = g["scheduled"].sum() * hours
            out["short_hours"] = g["short"].sum() * hours
            out["over_hours"] = g["over"].sum() * hours
        out.index.name = "queue"
        return out.reset_index()

    def write(self, out_dir: Any, *, report: bool = True) -> dict[str, Any]:
        """Write ``plan.parquet``, ``plan.csv`` and (optionally) ``report.html``."""
        from pathlib import Path  # noqa: PLC0415

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Any] = {"parquet": out / "plan.parquet", "csv": out / "plan.csv"}
        frame = self.table.copy()
        frame.to_parquet(paths["parquet"], index=False)
        frame.to_csv(paths["csv"], index=False)
        if report:
            from contactops.plan._report import write_report  # noqa: PLC0415

            paths["report"] = write_report(self, out / "report.html")
        return paths


def _weighted(t: pd.DataFrame, col: str) -> pd.Series:
    ok = t[col].notna() & (t["forecast"] > 0)
    w = t["forecast"].where(ok, 0.0)
    num = (t[col].fillna(0.0) * w).groupby(t["queue"]).sum()
    return num / w.groupby(t["queue"]).sum().replace(0, np.nan)


def _targets(targets: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    return {
        k: parse_target(v, name=f"targets[{k!r}]")
        for k, v in {**_DEFAULT_TARGETS, **targets}.items()
    }


def _staff_queue(
    p: QueueParams,
    volume: np.ndarray,
    aht: np.ndarray,
    interval_s: float,
    target: tuple[float, float],
    shrinkage: float,
    chat_concurrency: int,
    max_occupancy: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Agents, required (with shrinkage) and the model's service level per interval."""
    sl, thr = target
    rate = volume / interval_s
    if p.channel in _DEFERRED:
        bp = backlog_staffing(volume, aht, interval_s, deadline=thr, share=sl, shrinkage=shrinkage)
        return bp.agents, bp.scheduled, np.full(volume.size, np.nan)
    model: Any
    if p.channel in _CHATLIKE:
        model = Chat(rate, aht, max_concurrency=chat_concurrency, patience=p.patience)
    elif p.patience is not None:
        model = ErlangA(rate, aht, p.patience)
    else:
        model = ErlangC(rate, aht)
    res = required_agents(
        model, service_level=sl, threshold=thr, shrinkage=shrinkage, max_occupancy=max_occupancy
    )
    agents = np.where(rate > 0, res.agents, 0.0)
    required = np.where(rate > 0, res.scheduled, 0.0)
    model_sl = np.where(rate > 0, res.service_level, np.nan)
    return agents, required, model_sl


def plan(
    source: Warehouse | Any,
    *,
    start: Any = None,
    days: int = 7,
    target: str | None = None,
    targets: Mapping[str, str] | None = None,
    interval: str | int = "30min",
    timezone: str = "UTC",
    shrinkage: Any = 0.3,
    max_occupancy: float | None = None,
    history_weeks: int = 8,
    methods: Sequence[str] = DEFAULT_METHODS,
    holidays: Any = None,
    events: Sequence[Event] = (),
    queues: Mapping[str, Mapping[str, Any]] | None = None,
    chat_concurrency: int = 2,
    check: bool = True,
    replications: int = 5,
    seed: int = 0,
    n_jobs: int = -1,
    progress: Progress | None = None,
) -> PlanResult:
    """Forecast, staff and check a plan of ``days`` days from ``start``.

    Parameters
    ----------
    source : Warehouse or frame
        A warehouse (history, channels, handle times, patience and
        containment come from it) or a long history frame (``unique_id``,
        ``ds``, ``y`` and optionally ``aht``), with ``queues`` describing
        each queue.
    start : date, optional
        First day of the plan (default: the day after the history ends).
    target, targets
        ``target="80/20"`` for every voice and chat queue; ``targets`` maps
        a channel or a queue name to its own (``{"chat": "80/60",
        "email": "90/24h"}``: 90% handled within 24 hours).
    queues : mapping, optional
        Per queue overrides of what the history says: ``channel``, ``aht``,
        ``aht_cv``, ``patience`` (seconds).
    check : bool
        Simulate the proposed staffing (``replications`` runs, ``seed``) and
        flag the intervals at risk.
    n_jobs : int
        Processes for the forecasts of many queues (``-1``: one per core).
    """
    say = progress or (lambda _text: None)
    # what the caller typed is checked here, before any work (and before worker processes)
    timezone = check_timezone(timezone, name="timezone")
    minutes = interval_minutes(interval)
    interval_s = minutes * 60.0
    shrink = parse_share(shrinkage, name="shrinkage", allow_zero=True)
    if target is not None:
        parse_target(target, name="target")
    if not (isinstance(days, int) and 1 <= days <= 62):
        raise InvalidParameterError(
            "days", days, "a whole number from 1 to 62", "Plans are made a week or a few at a time."
        )
    chosen: dict[str, str] = {}
    if target is not None:
        chosen.update(dict.fromkeys(("voice", "callback", "chat", "message"), target))
    chosen.update(targets or {})
    tmap = _targets(chosen)
    start_day = None if start is None else pd.Timestamp(start).date()

    # -- history -----------------------------------------------------------------------------
    say("reading the history")
    params: dict[str, QueueParams] = {}
    if hasattr(source, "con"):
        from contactops.metrics import interval_history  # noqa: PLC0415

        h_end = None if start_day is None else pd.Timestamp(start_day, tz=timezone)
        h_start = None if h_end is None else h_end - pd.Timedelta(weeks=history_weeks)
        hist = interval_history(
            source,
            interval_minutes=minutes,
            timezone=timezone,
            start=None if h_start is None else h_start.tz_localize(None),
            end=None if h_end is None else h_end.tz_localize(None),
        ).to_pandas()
        params = estimate_queue_params(
            source,
            None if h_start is None else h_start.tz_convert("UTC"),
            None if h_end is None else h_end.tz_convert("UTC"),
        )
    else:
        hist = source.to_pandas() if hasattr(source, "to_pandas") else pd.DataFrame(source)
    if hist.empty:
        raise InvalidParameterError(
            "history",
            "no rows",
            "contacts before the plan starts",
            "Ingest history first (contactops ingest), or choose a later --start.",
        )
    for q, over in (queues or {}).items():
        base = params.get(q, QueueParams(queue=q))
        for k, v in over.items():
            if not hasattr(base, k) or k == "queue":
                raise InvalidParameterError(
                    f"queues.{q}.{k}",
                    v,
                    "one of channel, aht, aht_cv, patience",
                    "Override what the history says of a queue.",
                )
            setattr(
                base,
                k,
                parse_duration(v, name=f"queues.{q}.{k}")
                if k in ("aht", "patience") and v is not None
                else v,
            )
        base.source = "given" if base.source == "default" else base.source + " + given"
        params[q] = base
    ids = sorted(hist["unique_id"].astype(str).unique())
    for q in ids:
        params.setdefault(q, QueueParams(queue=q))

    # -- forecast ---------------------------------------------------------------------------
    last_day = pd.Timestamp(hist["ds"].max()).date()
    if start_day is None:
        start_day = last_day + timedelta(days=1)
    say(f"preparing the history of {len(ids)} queues")
    vf = VolumeForecaster(
        minutes,
        methods=methods,
        holidays=holidays,
        events=events,
        fill_missing=0.0,
        n_jobs=n_jobs,
        progress=say,
    ).fit(hist)
    fc = vf.predict(days, start=start_day)
    if "aht" in hist.columns and hist["aht"].notna().any():
        with_aht = hist[hist["unique_id"].isin(hist.loc[hist["aht"].notna(), "unique_id"].unique())]
        af = HandleTimeForecaster(minutes).fit(with_aht).predict(days, start=start_day)
        fc = fc.merge(af, on=["unique_id", "ds"], how="left")
    else:
        fc["aht_hat"] = np.nan
    fc["aht_hat"] = fc["aht_hat"].fillna(fc["unique_id"].map({q: p.aht for q, p in params.items()}))

    # -- staffing ---------------------------------------------------------------------------
    say("staffing")
    tables = []
    for q in ids:
        p = params[q]
        f = fc[fc["unique_id"] == q]
        target_q = tmap.get(q) or tmap.get(p.channel) or tmap["voice"]
        vol = f["y_hat"].to_numpy(float)
        aht = np.maximum(f["aht_hat"].to_numpy(float), 1.0)
        agents, required, model_sl = _staff_queue(
            p, vol, aht, interval_s, target_q, shrink, chat_concurrency, max_occupancy
        )
        tables.append(
            pd.DataFrame(
                {
                    "queue": q,
                    "channel": p.channel,
                    "interval_start": f["ds"].to_numpy(),
                    "forecast": vol,
                    "forecast_lo": f["y_hat_lo_80"].to_numpy(),
                    "forecast_hi": f["y_hat_hi_80"].to_numpy(),
                    "aht": aht,
                    "agents": agents,
                    "required": required,
                    "model_sl": model_sl,
                    "target_sl": target_q[0],
                    "threshold_s": target_q[1],
                }
            )
        )
    table = pd.concat(tables, ignore_index=True)

    # -- simulation check -------------------------------------------------------------------
    notes = [f"{q}: {n}" for q, n in vf.notes_.items()]
    if check:
        say(f"simulating the plan ({replications} replications)")
        table = _check(table, params, ids, days, interval_s, chat_concurrency, replications, seed)
    qframe = pd.DataFrame([vars(params[q]) for q in ids])
    return PlanResult(
        table=table,
        forecast=fc,
        history=hist,
        accuracy=vf.selection_,
        queues=qframe,
        start=start_day,
        days=days,
        interval_minutes=minutes,
        shrinkage=shrink,
        simulated=check,
        notes=notes,
        timezone=timezone,
    )


def _check(
    table: pd.DataFrame,
    params: dict[str, QueueParams],
    ids: list[str],
    days: int,
    interval_s: float,
    chat_concurrency: int,
    replications: int,
    seed: int,
) -> pd.DataFrame:
    """Simulate the staffing proposed (agents on contacts) and attach the service level."""
    queues, groups = [], []
    for q in ids:
        p = params[q]
        rows = table[table["queue"] == q]
        vol = rows["forecast"].to_numpy(float)
        aht = float(np.average(rows["aht"], weights=vol)) if vol.sum() > 0 else p.aht
        deferred = p.channel in _DEFERRED
        queues.append(
            Queue(
                name=q,
                volume=vol,
                channel=p.channel,
                handle_time=LogNormal(aht, max(p.aht_cv, 0.05) * aht),
                patience=None if (p.patience is None or deferred) else Exponential(p.patience),
                service_level_threshold=float(rows["threshold_s"].iloc[0]),
            )
        )
        groups.append(
            AgentGroup(
                name=f"{q} agents",
                skills=[q],
                staffing=np.ceil(np.nan_to_num(rows["agents"].to_numpy(float))).astype(int),
                concurrency=chat_concurrency if p.channel in _CHATLIKE else 1,
            )
        )
    center = Center(queues=queues, groups=groups, interval=interval_s)
    res = simulate(center, days=days, seed=seed, replications=replications)
    s = res.interval_summary().to_pandas()
    per_q = {q: s[s["queue"] == q].sort_values("interval") for q in ids}
    sim, lo, hi = [], [], []
    for q in ids:
        r = per_q[q]
        n = int((table["queue"] == q).sum())
        sim.append(r["service_level"].to_numpy()[:n])
        lo.append(r["service_level_lo"].to_numpy()[:n])
        hi.append(r["service_level_hi"].to_numpy()[:n])
    table = table.copy()
    table["sim_sl"] = np.concatenate(sim)
    table["sim_sl_lo"] = np.concatenate(lo)
    table["sim_sl_hi"] = np.concatenate(hi)
    deferred = table["channel"].isin(_DEFERRED)
    horizon_end = table["interval_start"].max() + pd.Timedelta(seconds=interval_s)
    judged = ~deferred | (
        table["interval_start"] + pd.to_timedelta(table["threshold_s"], "s") <= horizon_end
    )
    table["at_risk"] = judged & (table["sim_sl_hi"] < table["target_sl"]) & table["sim_sl"].notna()
    return table
