"""Check a :class:`Center` and turn it into the engine's typed arrays.

Nothing runs until every field is valid; each error names its path
(``groups[1].skills[0]``), the value, the rule and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contactops.errors import InvalidParameterError
from contactops.simulate import _engine as e
from contactops.simulate._distributions import Distribution, parse_distribution
from contactops.simulate._model import CHANNELS, Center

__all__ = ["Compiled", "compile_center", "validate"]

DAY = 86400.0


@dataclass
class Compiled:
    """The engine's inputs plus the names needed to label its outputs."""

    arrays: dict[str, Any]
    queue_names: list[str]
    channels: list[str]
    segments: list[str | None]
    priorities: list[int]
    thresholds: np.ndarray
    group_names: list[str]
    group_conc: np.ndarray
    agent_names: list[str]
    n_intervals: int
    interval: float
    horizon: float
    start: str


def _prob(x: Any, path: str, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        v = math.nan
    if not (0.0 <= v <= 1.0):
        raise InvalidParameterError(path, x, "a probability in [0, 1]", f"Give the {what}.")
    return v


def _nonneg(x: Any, path: str, what: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v >= 0.0):
        raise InvalidParameterError(path, x, "a finite number >= 0", f"Give the {what}.")
    return v


def _vector(
    x: Any, path: str, n_day: int, days: int | None, what: str, *, integer: bool = False
) -> np.ndarray:
    """A per-interval vector: one value, one per interval of a day, or of the horizon."""
    try:
        arr = np.atleast_1d(np.asarray(x, dtype=float))
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            path, x, "a number or a list of numbers", f"Give the {what}."
        ) from exc
    if arr.ndim != 1:
        raise InvalidParameterError(
            path, f"shape {arr.shape}", "one value or a flat list", f"Give the {what} per interval."
        )
    bad = ~np.isfinite(arr) | (arr < 0)
    if integer:
        bad |= arr != np.round(arr)
    if bad.any():
        i = int(np.argmax(bad))
        rule = "whole numbers >= 0" if integer else "finite numbers >= 0"
        raise InvalidParameterError(
            f"{path}[{i}]" if arr.size > 1 else path, arr[i].item(), rule, f"Fix the {what}."
        )
    ok = {1, n_day}
    if days is not None:
        ok.add(n_day * days)
    elif arr.size % n_day == 0:
        ok.add(arr.size)
    if arr.size not in ok:
        lengths = sorted(ok)
        raise InvalidParameterError(
            path,
            f"{arr.size} values",
            "one value or one per interval: " + " or ".join(str(n) for n in lengths),
            f"With {DAY / (DAY / n_day):.0f} intervals a day, give {n_day} values for a day"
            " (repeated every day) or one per interval of the whole run.",
        )
    return arr


def _expand(arr: np.ndarray, n_total: int) -> np.ndarray:
    if arr.size == 1:
        return np.full(n_total, arr[0])
    return np.resize(arr, n_total)  # a day's vector repeats


def _skills(raw: Any, path: str, names: Mapping[str, int]) -> dict[int, int]:
    if isinstance(raw, str):
        raw = [raw]
    ranks: dict[int, int] = {}
    if isinstance(raw, Mapping):
        items = list(raw.items())
        for name, rank in items:
            if name not in names:
                raise InvalidParameterError(
                    f"{path}.{name}",
                    name,
                    "the name of a queue",
                    "Known queues: " + ", ".join(names) + ".",
                )
            if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
                raise InvalidParameterError(
                    f"{path}.{name}", rank, "a whole rank >= 1", "1 is the most preferred skill."
                )
            ranks[names[name]] = rank
    elif isinstance(raw, Sequence):
        for i, name in enumerate(raw):
            if name not in names:
                raise InvalidParameterError(
                    f"{path}[{i}]",
                    name,
                    "the name of a queue",
                    "Known queues: " + ", ".join(names) + ".",
                )
            ranks[names[name]] = i + 1
    else:
        raise InvalidParameterError(
            path,
            raw,
            "a list of queue names or {queue: rank}",
            "e.g. [billing, sales] or {billing: 1, sales: 2}.",
        )
    if not ranks:
        raise InvalidParameterError(path, raw, "at least one queue", "Name the queues served.")
    return ranks


def validate(center: Center, days: int | None) -> None:
    """Check every field of ``center``; raise on the first problem."""
    compile_center(center, days=days, warmup=0.0, dry_run=True)


def compile_center(
    center: Center,
    *,
    days: int | None,
    warmup: float,
    max_arrivals: int = -1,
    stat_len: float | None = None,
    n_stat: int | None = None,
    dry_run: bool = False,
) -> Compiled:
    """Arrays for :func:`contactops.simulate._engine.simulate_one`."""
    interval = float(center.interval)
    if not (0.0 < interval <= DAY) or abs(DAY / interval - round(DAY / interval)) > 1e-9:
        raise InvalidParameterError(
            "interval",
            center.interval,
            "a whole fraction of a day in seconds (e.g. 900, 1800, 3600)",
            "Use 15-, 30- or 60-minute intervals.",
        )
    n_day = round(DAY / interval)
    if days is not None and (not isinstance(days, int) or days < 1):
        raise InvalidParameterError("days", days, "a whole number >= 1", "Simulate 1 day or more.")
    if not center.queues:
        raise InvalidParameterError("queues", [], "a non-empty list", "Add a queue.")
    if not center.groups:
        raise InvalidParameterError("groups", [], "a non-empty list", "Add an agent group.")

    names: dict[str, int] = {}
    for i, q in enumerate(center.queues):
        if not isinstance(q.name, str) or not q.name:
            raise InvalidParameterError(
                f"queues[{i}].name", q.name, "a non-empty string", "Name the queue."
            )
        if q.name in names:
            raise InvalidParameterError(
                f"queues[{i}].name", q.name, "unique", "Two queues share this name."
            )
        names[q.name] = i
    n_q = len(center.queues)

    # horizon length (in intervals) from the vectors when days is not given
    lengths = []
    for q in center.queues:
        src = q.volume if q.volume is not None else q.arrival_rate
        if src is not None:
            lengths.append(np.atleast_1d(np.asarray(src, dtype=object)).size)
    lengths += [np.atleast_1d(np.asarray(g.staffing, dtype=object)).size for g in center.groups]
    trace_days = [
        math.ceil((float(np.max(q.trace)) + 1e-9) / DAY)
        for q in center.queues
        if q.trace is not None
        and np.size(q.trace) > 0
        and np.all(np.isfinite(np.asarray(q.trace, dtype=float)))
    ]
    n_days = days if days is not None else max(1, max(lengths) // n_day, *trace_days)
    n_int = n_days * n_day
    horizon = n_int * interval

    distributions: list[Distribution] = []
    # windows that change staffing at exact times: start, end, kind, group(s), amount
    # kind 1 reassign, 2 outage, 3 shift
    changes: list[tuple[float, float, int, int, float]] = []

    def dist_index(
        d: Distribution | float | None,
        path: str,
        *,
        allow_none: bool = False,
        probability: bool = False,
    ) -> int:
        dd = parse_distribution(d, path, allow_none=allow_none, probability=probability)
        if dd is None:
            return -1
        distributions.append(dd)
        return len(distributions) - 1

    q_int = np.zeros((n_q, e.N_QI), np.int64)
    q_flt = np.zeros((n_q, e.N_QF))
    q_rate = np.zeros((n_q, n_int))
    xfer = np.zeros((n_q, n_q))
    traces: list[np.ndarray] = []
    for i, q in enumerate(center.queues):
        p = f"queues[{i}]"
        given = [k for k in ("arrival_rate", "volume", "trace") if getattr(q, k) is not None]
        if len(given) != 1:
            raise InvalidParameterError(
                f"{p}.arrival_rate",
                given or None,
                "exactly one of arrival_rate, volume or trace",
                "Give the demand one way.",
            )
        trace = np.empty(0)
        if q.trace is not None:
            trace = np.sort(np.asarray(q.trace, dtype=float).ravel())
            if trace.size and (not np.all(np.isfinite(trace)) or trace[0] < -warmup):
                raise InvalidParameterError(
                    f"{p}.trace",
                    trace[:3].tolist(),
                    "finite times >= 0 (seconds from the start)",
                    "Shift the trace so it starts at 0.",
                )
            q_int[i, e.QI_TRACE] = 1
        elif q.volume is not None:
            q_rate[i] = (
                _expand(
                    _vector(q.volume, f"{p}.volume", n_day, days, "contacts per interval"), n_int
                )
                / interval
            )
        else:
            q_rate[i] = _expand(
                _vector(
                    q.arrival_rate,
                    f"{p}.arrival_rate",
                    n_day,
                    days,
                    "arrival rate in contacts per second",
                ),
                n_int,
            )
        traces.append(trace)
        if q.channel not in CHANNELS:
            raise InvalidParameterError(
                f"{p}.channel", q.channel, "one of " + ", ".join(CHANNELS), "Pick the channel."
            )
        if not isinstance(q.priority, int) or isinstance(q.priority, bool):
            raise InvalidParameterError(
                f"{p}.priority", q.priority, "a whole number", "Higher is more urgent."
            )
        q_int[i, e.QI_HANDLE] = dist_index(q.handle_time, f"{p}.handle_time")
        q_int[i, e.QI_PATIENCE] = dist_index(q.patience, f"{p}.patience", allow_none=True)
        q_int[i, e.QI_REDIAL_DELAY] = dist_index(q.redial_delay, f"{p}.redial_delay")
        q_int[i, e.QI_PRIORITY] = q.priority
        q_int[i, e.QI_MAX_QUEUE] = -1
        if q.max_queue is not None:
            if not isinstance(q.max_queue, int) or q.max_queue < 0:
                raise InvalidParameterError(
                    f"{p}.max_queue",
                    q.max_queue,
                    "a whole number >= 0",
                    "Most contacts allowed to wait, or leave it out.",
                )
            q_int[i, e.QI_MAX_QUEUE] = q.max_queue
        q_flt[i, e.QF_REDIAL_P] = _prob(
            q.redial_probability, f"{p}.redial_probability", "share of abandoners who call again"
        )
        q_flt[i, e.QF_THRESHOLD] = _nonneg(
            q.service_level_threshold, f"{p}.service_level_threshold", "threshold in seconds"
        )
        q_flt[i, e.QF_SHORT_ABANDON] = _nonneg(
            q.short_abandon, f"{p}.short_abandon", "short-abandon limit in seconds"
        )
        q_int[i, e.QI_ESCALATE_TO] = i
        q_int[i, e.QI_BOT_CONF] = -1
        q_int[i, e.QI_BOT_TIME] = -1
        q_int[i, e.QI_REPEAT_DELAY] = -1
        if q.bot is not None:
            b = q.bot
            bp = f"{p}.bot"
            q_flt[i, e.QF_BOT_SHARE] = _prob(b.share, f"{bp}.share", "share meeting the bot")
            q_flt[i, e.QF_BOT_THRESHOLD] = _prob(
                b.threshold, f"{bp}.threshold", "confidence below which the bot escalates"
            )
            q_flt[i, e.QF_BOT_FACTOR] = _nonneg(
                b.context_factor, f"{bp}.context_factor", "handle-time factor after escalation"
            )
            q_flt[i, e.QF_REPEAT_P] = _prob(
                b.repeat_share, f"{bp}.repeat_share", "share of contained contacts that come back"
            )
            q_int[i, e.QI_BOT_CONF] = dist_index(b.confidence, f"{bp}.confidence", probability=True)
            q_int[i, e.QI_BOT_TIME] = dist_index(b.handle_time, f"{bp}.handle_time")
            q_int[i, e.QI_REPEAT_DELAY] = dist_index(b.repeat_delay, f"{bp}.repeat_delay")
            if b.escalate_to is not None:
                if b.escalate_to not in names:
                    raise InvalidParameterError(
                        f"{bp}.escalate_to",
                        b.escalate_to,
                        "the name of a queue",
                        "Known queues: " + ", ".join(names) + ".",
                    )
                q_int[i, e.QI_ESCALATE_TO] = names[b.escalate_to]
        if not isinstance(q.transfers, Mapping):
            raise InvalidParameterError(
                f"{p}.transfers",
                q.transfers,
                "a mapping queue: probability",
                "e.g. {billing: 0.1}.",
            )
        for target, prob in q.transfers.items():
            tp = f"{p}.transfers.{target}"
            if target not in names:
                raise InvalidParameterError(
                    tp, target, "the name of a queue", "Known queues: " + ", ".join(names) + "."
                )
            if names[target] == i:
                raise InvalidParameterError(
                    tp, target, "another queue", "A queue cannot transfer to itself."
                )
            xfer[i, names[target]] = _prob(prob, tp, "transfer probability")
        if xfer[i].sum() > 1.0 + 1e-12:
            raise InvalidParameterError(
                f"{p}.transfers",
                dict(q.transfers),
                "probabilities summing to at most 1",
                "Lower the transfer probabilities.",
            )

    # agent groups
    n_g = len(center.groups)
    gnames: dict[str, int] = {}
    g_conc = np.ones(n_g, np.int64)
    staff = np.zeros((n_g, n_int))
    skill_rank = np.full((n_g, n_q), -1, np.int64)
    shrink = np.zeros(n_g)
    stretches = []
    for j, g in enumerate(center.groups):
        p = f"groups[{j}]"
        if not isinstance(g.name, str) or not g.name or g.name in gnames:
            raise InvalidParameterError(
                f"{p}.name", g.name, "a unique non-empty string", "Name every group differently."
            )
        gnames[g.name] = j
        staff[j] = _expand(
            _vector(g.staffing, f"{p}.staffing", n_day, days, "agents on shift", integer=True),
            n_int,
        )
        for k, shift in enumerate(g.shifts):
            sp = f"{p}.shifts[{k}]"
            try:
                s0, s1, n_agents = shift
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(
                    sp, shift, "(start, end, agents)", "Give start and end in seconds and agents."
                ) from exc
            s0 = _nonneg(s0, f"{sp}.start", "start of the shift in seconds")
            s1 = _nonneg(s1, f"{sp}.end", "end of the shift in seconds")
            if not (s0 < s1 <= s0 + DAY) or s0 >= DAY:
                raise InvalidParameterError(
                    f"{sp}.end",
                    s1,
                    f"after start ({s0:g}) and within a day of it, with start in the first day",
                    "Times are seconds from midnight; a night shift ends after 86400.",
                )
            if not isinstance(n_agents, int) or isinstance(n_agents, bool) or n_agents < 0:
                raise InvalidParameterError(
                    f"{sp}.agents",
                    n_agents,
                    "a whole number >= 0",
                    "How many agents work the shift.",
                )
            for day in range(-1, n_days):  # yesterday's night shift reaches into today
                a0, a1 = day * DAY + s0, day * DAY + s1
                if a1 > 0 and a0 < horizon:
                    changes.append((a0, a1, 3, j, float(n_agents)))
        for qi, rank in _skills(g.skills, f"{p}.skills", names).items():
            skill_rank[j, qi] = rank
        m = g.concurrency
        if not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= 64:
            raise InvalidParameterError(
                f"{p}.concurrency",
                m,
                "a whole number from 1 to 64",
                "Contacts one agent holds at once.",
            )
        g_conc[j] = m
        st = np.ones(m) if g.stretch is None else np.asarray(g.stretch, dtype=float).ravel()
        if st.size != m or not np.all(np.isfinite(st)) or np.any(st <= 0):
            raise InvalidParameterError(
                f"{p}.stretch",
                g.stretch,
                f"{m} positive multipliers (one per concurrency level)",
                "e.g. [1.0, 1.2, 1.5] for concurrency 3.",
            )
        stretches.append(st)
        shrink[j] = _prob(g.shrinkage, f"{p}.shrinkage", "share of scheduled agents unavailable")
        if shrink[j] >= 1.0:
            raise InvalidParameterError(
                f"{p}.shrinkage", g.shrinkage, "below 1", "Nobody would be available."
            )
    served: np.ndarray = np.asarray((skill_rank >= 0).any(axis=0))
    for i, q in enumerate(center.queues):
        if not served[i] and not (
            q.bot is not None and q.bot.share == 1.0 and q_int[i, e.QI_ESCALATE_TO] != i
        ):
            raise InvalidParameterError(
                f"queues[{i}]",
                q.name,
                "served by at least one group",
                "Add the queue to some group's skills.",
            )

    # scenario
    absent = np.zeros(n_g)
    if center.scenario is not None:
        sc = center.scenario

        def window(item: Mapping[str, Any], path: str) -> tuple[float, float]:
            s0 = _nonneg(item.get("start", 0.0), f"{path}.start", "start in seconds")
            s1 = _nonneg(item.get("end", horizon), f"{path}.end", "end in seconds")
            if s1 <= s0:
                raise InvalidParameterError(
                    f"{path}.end",
                    item.get("end"),
                    f"after start ({s0})",
                    "The window must not be empty.",
                )
            return s0, s1

        def group_of(name: Any, path: str, *, star: bool = False) -> list[int]:
            if star and name in (None, "*"):
                return list(range(n_g))
            if name not in gnames:
                raise InvalidParameterError(
                    path, name, "the name of a group", "Known groups: " + ", ".join(gnames) + "."
                )
            return [gnames[name]]

        for k, it in enumerate(sc.volume):
            p = f"scenario.volume[{k}]"
            s0, s1 = window(it, p)
            for tkey, tv in (("start", s0), ("end", s1)):
                if abs(tv / interval - round(tv / interval)) > 1e-9 and tv < horizon:
                    raise InvalidParameterError(
                        f"{p}.{tkey}",
                        tv,
                        f"on an interval boundary ({interval:g} s)",
                        "Volume multipliers apply per interval.",
                    )
            factor = _nonneg(it.get("factor", 1.0), f"{p}.factor", "volume multiplier")
            qn = it.get("queue", "*")
            if qn not in (None, "*") and qn not in names:
                raise InvalidParameterError(
                    f"{p}.queue",
                    qn,
                    "the name of a queue or '*'",
                    "Known queues: " + ", ".join(names) + ".",
                )
            rows = list(range(n_q)) if qn in (None, "*") else [names[qn]]
            k0 = round(s0 / interval)
            k1 = min(round(s1 / interval), n_int)
            for r in rows:
                q_rate[r, k0:k1] *= factor
        for k, it in enumerate(sc.absenteeism):
            p = f"scenario.absenteeism[{k}]"
            share = _prob(it.get("share"), f"{p}.share", "share of agents absent")
            for j in group_of(it.get("group", "*"), f"{p}.group", star=True):
                absent[j] = 1.0 - (1.0 - absent[j]) * (1.0 - share)
        for k, it in enumerate(sc.reassign):
            p = f"scenario.reassign[{k}]"
            s0, s1 = window(it, p)
            src = group_of(it.get("from"), f"{p}.from")[0]
            dst = group_of(it.get("to"), f"{p}.to")[0]
            n = it.get("agents")
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise InvalidParameterError(
                    f"{p}.agents", n, "a whole number >= 0", "How many agents move."
                )
            changes.append((s0, s1, 1, src * n_g + dst, float(n)))
        for k, it in enumerate(sc.outages):
            p = f"scenario.outages[{k}]"
            s0, s1 = window(it, p)
            changes.append((s0, s1, 2, group_of(it.get("group"), f"{p}.group")[0], 0.0))

    if dry_run:
        return None  # type: ignore[return-value]

    # change points: every staffing interval and statistics interval start (they split
    # the agents' time integrals), plus scenario and shift edges
    stat = float(stat_len if stat_len is not None else interval)
    n_st = int(n_stat if n_stat is not None else n_int)
    stat_starts = np.arange(n_st) * stat
    staff_starts = np.arange(n_int) * interval
    times = {*staff_starts.tolist(), *stat_starts.tolist()}
    for s0, s1, *_ in changes:
        times.update(x for x in (s0, s1) if 0.0 <= x < horizon)
    times.discard(horizon)
    pts = sorted(times)
    if warmup > 0:
        pts = [-float(warmup), *pts]
    sc_time = np.asarray(pts, dtype=float)
    # the interval a point falls in, against the boundaries themselves (t // width can
    # land one short of a boundary computed as k * width)
    sc_interval = np.where(
        sc_time < 0, -1, np.searchsorted(stat_starts, sc_time, side="right") - 1
    ).astype(np.int64)
    staff_index = np.maximum(np.searchsorted(staff_starts, sc_time, side="right") - 1, 0).astype(
        np.int64
    )
    base = staff[:, staff_index]  # (G, K)
    t_eval = np.maximum(sc_time, 0.0)  # warm-up runs with the first instant's staffing
    for s0, s1, kind, who, x in changes:
        if kind == 3:
            base[who] += x * ((t_eval >= s0) & (t_eval < s1))
    avail = np.floor(base * (1.0 - shrink[:, None]) * (1.0 - absent[:, None]) + 0.5)
    for s0, s1, kind, who, x in changes:
        on = (t_eval >= s0) & (t_eval < s1)
        if kind == 1:
            src, dst = divmod(who, n_g)
            moved = np.minimum(avail[src], x) * on
            avail[src] -= moved
            avail[dst] += moved
    for s0, s1, kind, who, _x in changes:
        if kind == 2:
            avail[who, (t_eval >= s0) & (t_eval < s1)] = 0.0
    sc_staff = np.ascontiguousarray(avail.T.astype(np.int64))
    g_pool = sc_staff.max(axis=0).astype(np.int64)

    # routing lists: per queue the groups by rank; per group its queues
    qg_ptr = np.zeros(n_q + 1, np.int64)
    qg_list: list[int] = []
    qg_rank: list[int] = []
    for i in range(n_q):
        gs = sorted((int(skill_rank[j, i]), j) for j in range(n_g) if skill_rank[j, i] >= 0)
        qg_list += [j for _, j in gs]
        qg_rank += [r for r, _ in gs]
        qg_ptr[i + 1] = len(qg_list)
    gq_ptr = np.zeros(n_g + 1, np.int64)
    gq_list: list[int] = []
    for j in range(n_g):
        gq_list += [i for i in range(n_q) if skill_rank[j, i] >= 0]
        gq_ptr[j + 1] = len(gq_list)

    dist_rows: list[list[float]] = []
    samples: list[np.ndarray] = []
    emp_ptr = [0]
    for d in distributions:
        row, vals = d.encode()
        dist_rows.append(row)
        samples.append(vals)
        emp_ptr.append(emp_ptr[-1] + vals.size)
    m_max = int(g_conc.max())
    g_stretch = np.ones((n_g, m_max))
    for j, st in enumerate(stretches):
        g_stretch[j, : st.size] = st
    trace_ptr = np.zeros(n_q + 1, np.int64)
    for i, tr in enumerate(traces):
        trace_ptr[i + 1] = trace_ptr[i] + tr.size
    xfer_cum = np.cumsum(xfer, axis=1)
    xfer_cum[xfer.sum(axis=1) == 0] = 0.0

    arrays = {
        "t_start": -float(warmup),
        "horizon": horizon if max_arrivals < 0 else math.inf,
        "max_arrivals": int(max_arrivals),
        "stat_len": stat,
        "n_stat": n_st,
        "q_rate": np.ascontiguousarray(q_rate),
        "rate_len": interval if max_arrivals < 0 else math.inf,
        "trace_ptr": trace_ptr,
        "trace_times": np.concatenate(traces) if traces else np.empty(0),
        "q_int": q_int,
        "q_flt": q_flt,
        "xfer_cum": np.ascontiguousarray(xfer_cum),
        "d_par": np.asarray(dist_rows, dtype=float).reshape(-1, 4),
        "emp_ptr": np.asarray(emp_ptr, dtype=np.int64),
        "emp_vals": np.concatenate(samples) if samples else np.empty(0),
        "g_conc": g_conc,
        "g_pool": g_pool,
        "g_stretch": g_stretch,
        "qg_ptr": qg_ptr,
        "qg_list": np.asarray(qg_list, dtype=np.int64),
        "qg_rank": np.asarray(qg_rank, dtype=np.int64),
        "gq_ptr": gq_ptr,
        "gq_list": np.asarray(gq_list, dtype=np.int64),
        "sc_time": sc_time,
        "sc_staff": sc_staff,
        "sc_interval": sc_interval,
    }
    agent_names = [
        f"{g.name}-{k + 1:03d}" for j, g in enumerate(center.groups) for k in range(int(g_pool[j]))
    ]
    return Compiled(
        arrays=arrays,
        queue_names=[q.name for q in center.queues],
        channels=[q.channel for q in center.queues],
        segments=[q.segment for q in center.queues],
        priorities=[int(q.priority) for q in center.queues],
        thresholds=q_flt[:, e.QF_THRESHOLD].copy(),
        group_names=[g.name for g in center.groups],
        group_conc=g_conc,
        agent_names=agent_names,
        n_intervals=n_int,
        interval=interval,
        horizon=horizon,
        start=center.start,
    )
