"""The compiled event loop of the contact-center simulator.

One ``numba`` function runs one replication over typed arrays: no Python
object per contact, every random draw from the ``numpy.random.Generator`` it
is handed (numba compiles Generator methods, so the stream is the same on
every run of the same seed).  The function releases the GIL, so replications
run in parallel threads.

State
-----
*Contacts in the system* live in a pool of slots (``cf`` floats, ``ci``
ints); a slot is reused once its contact has left, so memory follows the
number of contacts *present*, not the number simulated.  Each slot carries a
``stamp`` that changes on every reuse and every rescheduling; events and queue
entries hold the stamp they were made with and are ignored when it no longer
matches (lazy deletion; cheaper than deleting from the middle of a heap).

*Events* sit in a binary heap over two parallel arrays (time, packed int64
``kind | slot << 4 | stamp << 28``).  A hand-written heap because numba has
no priority queue over typed arrays and ``heapq`` on typed lists of tuples is
several times slower.

*Waiting contacts* are one FIFO ring per queue (priority is a property of the
queue; within a queue the longest-waiting contact is first).

*Agents* belong to groups; an agent is offline, online, or logging off (the
staffing fell below its count while it was busy: it finishes its work, then
leaves).  Idle single-contact agents of a group sit in a FIFO (longest idle
first); chat agents (concurrency > 1) are scanned for the least loaded, then
longest idle.

Routing
-------
An arriving contact goes to the most preferred skill tier with an available
agent; within a tier, the least loaded agent, then the longest idle.  An agent
that frees capacity takes, among the queues it serves, the highest priority
waiting contact, then the longest waiting.

Chat handle times stretch with concurrency: a chat's handle time ``h`` is
drawn as if alone; while its agent holds ``j`` chats it progresses at speed
``1 / stretch[j-1]``, and every change of the agent's load reschedules the
completions of the chats it holds.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# distribution kinds (rows of d_par: kind, p1, p2, p3)
D_NONE = 0
D_EXPON = 1  # p1 = mean
D_LOGNORM = 2  # p1 = mu, p2 = sigma of the log
D_GAMMA = 3  # p1 = shape, p2 = scale
D_EMPIRICAL = 4  # samples emp_vals[emp_ptr[d]:emp_ptr[d+1]]
D_FIXED = 5  # p1 = value
D_BETA = 6  # p1 = a, p2 = b
D_UNIFORM = 7  # p1 = low, p2 = high

# event kinds
E_ARRIVAL = 1  # fresh arrival of queue `slot`
E_ABANDON = 2
E_DEPART = 3
E_BOT_DONE = 4
E_RETURN = 5  # redial / repeat contact of a pending slot
E_CHANGE = 6  # staffing change point `slot`
E_STOP = 7  # end of the measured period

# contact states
S_FREE = 0
S_PENDING = 1  # will come back (redial, repeat)
S_BOT = 2
S_WAITING = 3
S_SERVICE = 4

# float fields of a contact slot
CF_ARRIVED = 0
CF_QUEUED = 1
CF_DEADLINE = 2
CF_ANSWERED = 3
CF_WORK = 4  # remaining handle work, seconds at concurrency 1
CF_LAST = 5  # time CF_WORK was last brought up to date
CF_CONF = 6  # bot confidence (nan: no bot)
CF_FACTOR = 7  # handle-time factor (bot context)
N_CF = 8

# int fields of a contact slot
CI_QUEUE = 0
CI_STATE = 1
CI_STAMP = 2
CI_LEG = 3
CI_INITIAL = 4
CI_PREV = 5
CI_CUSTOMER = 6
CI_AGENT = 7
CI_ESCALATED = 8
CI_INTERVAL = 9  # statistics interval of the leg's arrival; -1: not measured
CI_HIST = 10  # histogram block of the leg's arrival; -1: not measured
N_CI = 11

# per queue and interval statistics
QS_ARRIVED = 0  # legs that arrived (including those a bot contained)
QS_OFFERED = 1  # legs that reached the human queue (including blocked)
QS_ANSWERED = 2
QS_ABANDONED = 3
QS_DEFLECTED = 4  # contained by the bot
QS_BLOCKED = 5
QS_ANS_WITHIN = 6  # answered with wait <= the queue's threshold
QS_ABN_WITHIN = 7  # abandoned with wait <= threshold
QS_SHORT_ABN = 8  # abandoned with wait <= the short-abandon limit
QS_WAIT_ANS = 9  # sum of waits of answered legs
QS_HANDLE = 10  # sum of handle times of answered legs
QS_ESCALATED = 11  # bot handed to a human
QS_TRANSFERRED = 12  # answered legs transferred onwards
QS_BOT = 13  # legs a bot handled first
QS_UNSERVED = 14  # still waiting when the event list ran dry (no agent could ever take them)
QS_WAIT_ABN = 15  # sum of waits of abandoned legs
N_QS = 16

# per group and interval statistics
GS_STAFFED = 0  # agent-seconds online
GS_BUSY = 1  # contact-slot-seconds in use
GS_CAPACITY = 2  # slot-seconds available (agents x concurrency)
GS_HANDLED = 3  # contacts completed
N_GS = 4

# outcomes (same order as contactops.simulate._results.OUTCOMES)
O_ANSWERED = 0
O_ABANDONED = 1
O_DEFLECTED = 2
O_BLOCKED = 3
O_UNSERVED = 4

# record columns
RF_ARRIVED = 0
RF_QUEUED = 1
RF_ANSWERED = 2
RF_ENDED = 3
RF_WAIT = 4
RF_TALK = 5
RF_CONF = 6
N_RF = 7
RI_LEG = 0
RI_INITIAL = 1
RI_PREV = 2
RI_CUSTOMER = 3
RI_QUEUE = 4
RI_OUTCOME = 5
RI_AGENT = 6
RI_ESCALATED = 7
RI_TRANSFER = 8
N_RI = 9

# integer queue parameters
QI_HANDLE = 0
QI_PATIENCE = 1
QI_REDIAL_DELAY = 2
QI_PRIORITY = 3
QI_BOT_CONF = 4
QI_BOT_TIME = 5
QI_REPEAT_DELAY = 6
QI_ESCALATE_TO = 7
QI_MAX_QUEUE = 8  # -1: unlimited
QI_TRACE = 9  # 1: arrivals replayed from a trace
N_QI = 10

# float queue parameters
QF_REDIAL_P = 0
QF_BOT_SHARE = 1
QF_BOT_THRESHOLD = 2
QF_BOT_FACTOR = 3
QF_REPEAT_P = 4
QF_THRESHOLD = 5
QF_SHORT_ABANDON = 6
N_QF = 7

# status of a run
OVERFLOW_HEAP = 1
OVERFLOW_POOL = 2
OVERFLOW_RING = 3
OVERFLOW_RECORDS = 4

_SLOT_BITS = 24
_SLOT_MASK = (1 << _SLOT_BITS) - 1
_STAMP_SHIFT = 4 + _SLOT_BITS


@njit(cache=True, nogil=True, _nrt=False)
def draw(
    rng: np.random.Generator, d: int, d_par: np.ndarray, emp_ptr: np.ndarray, emp_vals: np.ndarray
) -> float:
    """One draw from distribution ``d`` (``-1`` or kind none: infinity)."""
    if d < 0:
        return math.inf
    kind = int(d_par[d, 0])
    if kind == D_EXPON:
        return d_par[d, 1] * rng.standard_exponential()
    if kind == D_LOGNORM:
        return math.exp(d_par[d, 1] + d_par[d, 2] * rng.standard_normal())
    if kind == D_GAMMA:
        return d_par[d, 2] * rng.standard_gamma(d_par[d, 1])
    if kind == D_EMPIRICAL:
        lo = emp_ptr[d]
        n = emp_ptr[d + 1] - lo
        return emp_vals[lo + min(int(rng.random() * n), n - 1)]
    if kind == D_FIXED:
        return d_par[d, 1]
    if kind == D_BETA:
        return rng.beta(d_par[d, 1], d_par[d, 2])
    if kind == D_UNIFORM:
        return d_par[d, 1] + (d_par[d, 2] - d_par[d, 1]) * rng.random()
    return math.inf


@njit(cache=True, nogil=True, inline="always")
def _fast(
    rng: np.random.Generator, d: int, d_par: np.ndarray, emp_ptr: np.ndarray, emp_vals: np.ndarray
) -> float:
    """:func:`draw`, with the common cases inlined (a call costs ~15x the draw)."""
    if d < 0:
        return math.inf
    if d_par[d, 0] == D_EXPON:
        return d_par[d, 1] * rng.standard_exponential()
    return draw(rng, d, d_par, emp_ptr, emp_vals)


@njit(cache=True, nogil=True, inline="always")
def _heap_push(ht: np.ndarray, hv: np.ndarray, n: int, t: float, v: np.int64) -> int:
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if ht[parent] <= t:
            break
        ht[i] = ht[parent]
        hv[i] = hv[parent]
        i = parent
    ht[i] = t
    hv[i] = v
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def _heap_pop(ht: np.ndarray, hv: np.ndarray, n: int) -> int:
    """Remove the root (read it before calling); returns the new size."""
    n -= 1
    t = ht[n]
    v = hv[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and ht[c + 1] < ht[c]:
            c += 1
        if ht[c] >= t:
            break
        ht[i] = ht[c]
        hv[i] = hv[c]
        i = c
    if n > 0:
        ht[i] = t
        hv[i] = v
    return n


@njit(cache=True, nogil=True, inline="always")
def _pack(kind: int, slot: int, stamp: int) -> np.int64:
    return np.int64(kind) | (np.int64(slot) << 4) | (np.int64(stamp) << _STAMP_SHIFT)


@njit(cache=True, nogil=True, inline="always")
def _poisson_after(t: float, e: float, rates: np.ndarray, rate_len: float) -> float:
    """Time at which a unit-rate exponential ``e`` spent from ``t`` runs out.

    Exact inversion of the cumulative intensity of a Poisson process with a
    piecewise-constant rate; before time 0 (warm-up) the first rate holds.
    Infinity past the last interval.
    """
    n = rates.size
    while True:
        if t < 0.0:
            k = 0
            end = 0.0
        else:
            k = int(t // rate_len)
            if k >= n:
                return math.inf
            end = (k + 1) * rate_len
        r = rates[k]
        if r > 0.0 and r * (end - t) > e:
            return t + e / r
        if end == math.inf:
            return math.inf
        if r > 0.0:
            e -= r * (end - t)
        t = end


@njit(cache=True, nogil=True)
def simulate_one(
    rng: np.random.Generator,
    t_start: float,
    horizon: float,
    max_arrivals: int,
    stat_len: float,
    n_stat: int,
    hist_per_interval: bool,
    n_hist: int,
    record: bool,
    q_rate: np.ndarray,
    rate_len: float,
    trace_ptr: np.ndarray,
    trace_times: np.ndarray,
    q_int: np.ndarray,
    q_flt: np.ndarray,
    xfer_cum: np.ndarray,
    d_par: np.ndarray,
    emp_ptr: np.ndarray,
    emp_vals: np.ndarray,
    g_conc: np.ndarray,
    g_pool: np.ndarray,
    g_stretch: np.ndarray,
    qg_ptr: np.ndarray,
    qg_list: np.ndarray,
    qg_rank: np.ndarray,
    gq_ptr: np.ndarray,
    gq_list: np.ndarray,
    sc_time: np.ndarray,
    sc_staff: np.ndarray,
    sc_interval: np.ndarray,
    pool_cap: int,
    heap_cap: int,
    ring_cap_q: int,
    rec_cap: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, int]:
    """Run one replication; see the module docstring.

    Capacities are fixed for the run (arrays reassigned inside the loop would
    cost reference counting on every access); when one runs out the run stops
    with an ``OVERFLOW_*`` status and the caller runs it again, from the same
    seed, with more room.

    Returns ``(qstats, gstats, hist, rec_f, rec_i, n_records, n_events, status)``.
    """
    n_q = q_int.shape[0]
    n_g = g_conc.size
    m_max = g_stretch.shape[1]
    inf = math.inf

    qstats = np.zeros((n_q, n_stat, N_QS))
    gstats = np.zeros((n_g, max(n_stat, 1), N_GS))
    n_hb = n_stat if hist_per_interval else 1
    hist = np.zeros((n_q, n_hb, 2, n_hist + 2))

    # agents
    g_off = np.zeros(n_g + 1, np.int64)
    for g in range(n_g):
        g_off[g + 1] = g_off[g] + g_pool[g]
    n_a = g_off[n_g]
    a_group = np.repeat(np.arange(n_g), g_pool)  # each agent's group
    a_state = np.zeros(n_a, np.int8)  # 0 offline, 1 online, 2 logging off
    a_load = np.zeros(n_a, np.int64)
    a_since = np.zeros(n_a)
    a_stamp = np.zeros(n_a, np.int64)
    a_chats = np.full((n_a, m_max), -1, np.int64)
    g_online = np.zeros(n_g, np.int64)  # state 1
    g_present = np.zeros(n_g, np.int64)  # state 1 or 2
    g_busy = np.zeros(n_g, np.int64)  # slots in use
    g_avail = np.zeros(n_g, np.int64)  # state-1 agents with spare capacity
    g_last = np.full(n_g, t_start)
    # not a bare literal: numba would type the call to _loop with Literal[int](8) while
    # inferring, then with int64, and compile the loop twice (~20 s of a cold start)
    ring_cap = np.int64(8)
    for g in range(n_g):
        ring_cap = max(ring_cap, 2 * g_pool[g] + 8)
    idle_a = np.zeros((n_g, ring_cap), np.int64)
    idle_s = np.zeros((n_g, ring_cap), np.int64)
    idle_head = np.zeros(n_g, np.int64)
    idle_n = np.zeros(n_g, np.int64)

    # contact pool
    cap = pool_cap
    cf = np.zeros((cap, N_CF))
    ci = np.zeros((cap, N_CI), np.int64)
    free = np.arange(cap - 1, -1, -1).astype(np.int64)
    n_free = cap

    # waiting rings
    wq_cap = ring_cap_q
    wq_slot = np.zeros((n_q, wq_cap), np.int64)
    wq_stamp = np.zeros((n_q, wq_cap), np.int64)
    wq_head = np.zeros(n_q, np.int64)
    wq_n = np.zeros(n_q, np.int64)  # entries in the ring (some may be stale)
    q_len = np.zeros(n_q, np.int64)  # contacts really waiting

    # events
    h_cap = heap_cap
    ht = np.empty(h_cap)
    hv = np.empty(h_cap, np.int64)
    hn = 0

    # records
    r_cap = rec_cap if record else 1
    rec_f = np.empty((r_cap, N_RF))
    rec_i = np.empty((r_cap, N_RI), np.int64)

    trace_pos = trace_ptr[:-1].copy()

    # first arrivals and the first staffing change
    for q in range(n_q):
        if q_int[q, QI_TRACE] == 1:
            if trace_pos[q] < trace_ptr[q + 1]:
                t0 = trace_times[trace_pos[q]]
                trace_pos[q] += 1
                hn = _heap_push(ht, hv, hn, t0, _pack(E_ARRIVAL, q, 0))
        else:
            t0 = _poisson_after(t_start, rng.standard_exponential(), q_rate[q], rate_len)
            if t0 < inf:
                hn = _heap_push(ht, hv, hn, t0, _pack(E_ARRIVAL, q, 0))
    if sc_time.size > 0:
        hn = _heap_push(ht, hv, hn, sc_time[0], _pack(E_CHANGE, 0, 0))
    if horizon < inf:
        hn = _heap_push(ht, hv, hn, horizon, _pack(E_STOP, 0, 0))

    n_rec, n_events, status = _loop(
        rng,
        max_arrivals,
        stat_len,
        n_stat,
        hist_per_interval,
        n_hist,
        record,
        q_rate,
        rate_len,
        trace_ptr,
        trace_times,
        q_int,
        q_flt,
        xfer_cum,
        d_par,
        emp_ptr,
        emp_vals,
        g_conc,
        g_stretch,
        qg_ptr,
        qg_list,
        qg_rank,
        gq_ptr,
        gq_list,
        sc_time,
        sc_staff,
        sc_interval,
        qstats,
        gstats,
        hist,
        g_off,
        a_group,
        a_state,
        a_load,
        a_since,
        a_stamp,
        a_chats,
        g_online,
        g_present,
        g_busy,
        g_avail,
        g_last,
        ring_cap,
        idle_a,
        idle_s,
        idle_head,
        idle_n,
        cf,
        ci,
        free,
        n_free,
        wq_cap,
        wq_slot,
        wq_stamp,
        wq_head,
        wq_n,
        q_len,
        h_cap,
        ht,
        hv,
        hn,
        r_cap,
        rec_f,
        rec_i,
        trace_pos,
    )
    return qstats, gstats, hist, rec_f, rec_i, n_rec, n_events, status


@njit(cache=True, nogil=True, _nrt=False)  # numba types the 60-odd array parameters
def _loop(  # type: ignore[no-untyped-def]
    rng,
    max_arrivals,
    stat_len,
    n_stat,
    hist_per_interval,
    n_hist,
    record,
    q_rate,
    rate_len,
    trace_ptr,
    trace_times,
    q_int,
    q_flt,
    xfer_cum,
    d_par,
    emp_ptr,
    emp_vals,
    g_conc,
    g_stretch,
    qg_ptr,
    qg_list,
    qg_rank,
    gq_ptr,
    gq_list,
    sc_time,
    sc_staff,
    sc_interval,
    qstats,
    gstats,
    hist,
    g_off,
    a_group,
    a_state,
    a_load,
    a_since,
    a_stamp,
    a_chats,
    g_online,
    g_present,
    g_busy,
    g_avail,
    g_last,
    ring_cap,
    idle_a,
    idle_s,
    idle_head,
    idle_n,
    cf,
    ci,
    free,
    n_free,
    wq_cap,
    wq_slot,
    wq_stamp,
    wq_head,
    wq_n,
    q_len,
    h_cap,
    ht,
    hv,
    hn,
    r_cap,
    rec_f,
    rec_i,
    trace_pos,
) -> tuple[int, int, int]:
    """The event loop of :func:`simulate_one`, compiled without reference counting.

    It allocates nothing: every array comes from the caller.  (With numba's
    reference counting on, the atomic increments around array uses in this
    large loop took 40% of the time.)  Returns ``(n_records, n_events, status)``.
    """
    n_q = q_int.shape[0]
    n_g = g_conc.size
    m_max = g_stretch.shape[1]
    n_a = a_state.size
    inf = math.inf
    n_rec = 0
    arrivals = 0
    next_leg = 0
    next_customer = 0
    cur_int = -1  # statistics interval of group time integrals (-1: not measured)
    stopped = False
    n_events = 0
    status = 0
    while hn > 0:
        # ---- room for what one event can add; otherwise stop and say what ran out
        if hn + 4 * m_max + 16 >= h_cap:
            status = OVERFLOW_HEAP
            break
        if n_free < 4:
            status = OVERFLOW_POOL
            break
        if record and n_rec + 4 >= r_cap:
            status = OVERFLOW_RECORDS
            break
        for q in range(n_q):
            if wq_n[q] + 2 >= wq_cap:
                status = OVERFLOW_RING
        if status != 0:
            break

        t = ht[0]
        v = hv[0]
        hn = _heap_pop(ht, hv, hn)
        n_events += 1
        kind = int(v & 15)
        slot = int((v >> 4) & _SLOT_MASK)
        stamp = int(v >> _STAMP_SHIFT)

        # contacts that will need a queue / an agent after this event
        to_q = -1
        freed_agent = -1

        if kind in (E_CHANGE, E_STOP):
            for g in range(n_g):
                _flush(g, t, cur_int, gstats, g_present, g_busy, g_conc, g_last)
            if kind == E_STOP:
                cur_int = -1
                stopped = True
                continue
            k = slot
            cur_int = -1 if stopped else int(sc_interval[k])
            if hn + n_a * m_max + 16 >= h_cap:  # every agent on shift may start work
                status = OVERFLOW_HEAP
                break
            if k + 1 < sc_time.size:
                hn = _heap_push(ht, hv, hn, sc_time[k + 1], _pack(E_CHANGE, k + 1, 0))
            for g in range(n_g):
                target = sc_staff[k, g]
                m = g_conc[g]
                a0 = g_off[g]
                a1 = g_off[g + 1]
                if target > g_online[g]:
                    # logging-off agents stay first, then offline agents come in
                    for a in range(a0, a1):
                        if g_online[g] >= target:
                            break
                        if a_state[a] == 2:
                            a_state[a] = 1
                            g_online[g] += 1
                            if a_load[a] < m:
                                g_avail[g] += 1
                    for a in range(a0, a1):
                        if g_online[g] >= target:
                            break
                        if a_state[a] == 0:
                            a_state[a] = 1
                            a_load[a] = 0
                            a_since[a] = t
                            a_stamp[a] += 1
                            g_online[g] += 1
                            g_present[g] += 1
                            g_avail[g] += 1
                            if m == 1:
                                p = (idle_head[g] + idle_n[g]) % ring_cap
                                idle_a[g, p] = a
                                idle_s[g, p] = a_stamp[a]
                                idle_n[g] += 1
                    # agents back on shift take waiting work at once
                    for a in range(a0, a1):
                        while a_state[a] == 1 and a_load[a] < m:
                            s2 = _pop_waiting(
                                g,
                                gq_ptr,
                                gq_list,
                                q_int,
                                cf,
                                ci,
                                wq_slot,
                                wq_stamp,
                                wq_head,
                                wq_n,
                                q_len,
                                wq_cap,
                            )
                            if s2 < 0:
                                break
                            if m == 1:
                                a_stamp[a] += 1  # its idle-line entry is void
                            h = _fast(
                                rng, q_int[ci[s2, CI_QUEUE], QI_HANDLE], d_par, emp_ptr, emp_vals
                            )
                            hn, n_rec = _start(
                                h,
                                s2,
                                a,
                                g,
                                t,
                                cf,
                                ci,
                                q_flt,
                                g_conc,
                                g_stretch,
                                a_load,
                                a_since,
                                a_chats,
                                g_busy,
                                g_avail,
                                g_last,
                                gstats,
                                cur_int,
                                g_present,
                                qstats,
                                hist,
                                n_hist,
                                ht,
                                hv,
                                hn,
                                n_rec,
                            )
                elif target < g_online[g]:
                    # idle agents leave first, then busy ones finish and leave
                    for a in range(a1 - 1, a0 - 1, -1):
                        if g_online[g] <= target:
                            break
                        if a_state[a] == 1 and a_load[a] == 0:
                            a_state[a] = 0
                            a_stamp[a] += 1
                            g_online[g] -= 1
                            g_present[g] -= 1
                            g_avail[g] -= 1
                    for a in range(a1 - 1, a0 - 1, -1):
                        if g_online[g] <= target:
                            break
                        if a_state[a] == 1:
                            a_state[a] = 2
                            g_online[g] -= 1
                            if a_load[a] < m:
                                g_avail[g] -= 1
            continue

        if kind == E_ARRIVAL and stopped:
            continue
        if kind == E_ARRIVAL:
            q = slot
            # schedule the next fresh arrival of this queue
            if not stopped:
                if q_int[q, QI_TRACE] == 1:
                    if trace_pos[q] < trace_ptr[q + 1]:
                        tn = trace_times[trace_pos[q]]
                        trace_pos[q] += 1
                        hn = _heap_push(ht, hv, hn, tn, _pack(E_ARRIVAL, q, 0))
                else:
                    tn = _poisson_after(t, rng.standard_exponential(), q_rate[q], rate_len)
                    if tn < inf:
                        hn = _heap_push(ht, hv, hn, tn, _pack(E_ARRIVAL, q, 0))
            n_free -= 1
            s = free[n_free]
            ci[s, CI_STAMP] += 1
            ci[s, CI_QUEUE] = q
            ci[s, CI_LEG] = next_leg
            ci[s, CI_INITIAL] = next_leg
            next_leg += 1
            ci[s, CI_PREV] = -1
            ci[s, CI_CUSTOMER] = next_customer
            next_customer += 1
            if t >= 0.0:
                arrivals += 1
                if max_arrivals >= 0 and arrivals >= max_arrivals and not stopped:
                    # the last counted arrival: stop arrivals and measuring
                    hn = _heap_push(ht, hv, hn, t, _pack(E_STOP, 0, 0))
            slot_enter = s
        elif kind == E_RETURN:
            if ci[slot, CI_STAMP] != stamp or ci[slot, CI_STATE] != S_PENDING:
                continue
            slot_enter = slot
        else:
            slot_enter = -1

        if slot_enter >= 0:
            # a leg enters: the bot first, or straight to the human queue
            s = slot_enter
            q = ci[s, CI_QUEUE]
            cf[s, CF_ARRIVED] = t
            cf[s, CF_QUEUED] = np.nan
            cf[s, CF_ANSWERED] = np.nan
            cf[s, CF_CONF] = np.nan
            cf[s, CF_FACTOR] = 1.0
            ci[s, CI_ESCALATED] = 0
            ci[s, CI_AGENT] = -1
            _set_interval(s, t, ci, stat_len, n_stat, hist_per_interval, stopped)
            if ci[s, CI_INTERVAL] >= 0:
                qstats[q, ci[s, CI_INTERVAL], QS_ARRIVED] += 1
            if q_flt[q, QF_BOT_SHARE] > 0.0 and rng.random() < q_flt[q, QF_BOT_SHARE]:
                ci[s, CI_STATE] = S_BOT
                cf[s, CF_CONF] = draw(rng, q_int[q, QI_BOT_CONF], d_par, emp_ptr, emp_vals)
                if ci[s, CI_INTERVAL] >= 0:
                    qstats[q, ci[s, CI_INTERVAL], QS_BOT] += 1
                tb = t + draw(rng, q_int[q, QI_BOT_TIME], d_par, emp_ptr, emp_vals)
                hn = _heap_push(ht, hv, hn, tb, _pack(E_BOT_DONE, s, ci[s, CI_STAMP]))
            else:
                to_q = s

        elif kind == E_BOT_DONE:
            if ci[slot, CI_STAMP] != stamp or ci[slot, CI_STATE] != S_BOT:
                continue
            s = slot
            q = ci[s, CI_QUEUE]
            iv = ci[s, CI_INTERVAL]
            if cf[s, CF_CONF] < q_flt[q, QF_BOT_THRESHOLD]:
                ci[s, CI_ESCALATED] = 1
                cf[s, CF_FACTOR] = q_flt[q, QF_BOT_FACTOR]
                if iv >= 0:
                    qstats[q, iv, QS_ESCALATED] += 1
                target_q = q_int[q, QI_ESCALATE_TO]
                if target_q != q:
                    # the leg moves to the human queue: it is counted there
                    if iv >= 0:
                        qstats[target_q, iv, QS_ARRIVED] += 1
                    ci[s, CI_QUEUE] = target_q
                to_q = s
            else:
                if iv >= 0:
                    qstats[q, iv, QS_DEFLECTED] += 1
                if record and iv >= 0:
                    n_rec = _write(s, t, O_DEFLECTED, -1, cf, ci, rec_f, rec_i, n_rec)
                if q_flt[q, QF_REPEAT_P] > 0.0 and rng.random() < q_flt[q, QF_REPEAT_P]:
                    # the same customer comes back later with a new contact
                    next_leg = _come_back(s, ci, next_leg)
                    tr = t + draw(rng, q_int[q, QI_REPEAT_DELAY], d_par, emp_ptr, emp_vals)
                    hn = _heap_push(ht, hv, hn, tr, _pack(E_RETURN, s, ci[s, CI_STAMP]))
                else:
                    n_free = _release(s, ci, free, n_free)

        elif kind == E_ABANDON:
            if ci[slot, CI_STAMP] != stamp or ci[slot, CI_STATE] != S_WAITING:
                continue
            s = slot
            q = ci[s, CI_QUEUE]
            q_len[q] -= 1  # its ring entry is now stale
            iv = ci[s, CI_INTERVAL]
            w = t - cf[s, CF_QUEUED]
            if iv >= 0:
                qstats[q, iv, QS_ABANDONED] += 1
                qstats[q, iv, QS_WAIT_ABN] += w
                if w <= q_flt[q, QF_THRESHOLD]:
                    qstats[q, iv, QS_ABN_WITHIN] += 1
                if w <= q_flt[q, QF_SHORT_ABANDON]:
                    qstats[q, iv, QS_SHORT_ABN] += 1
                _hist_add(hist, q, ci[s, CI_HIST], 1, w, n_hist)
            if record and iv >= 0:
                n_rec = _write(s, t, O_ABANDONED, -1, cf, ci, rec_f, rec_i, n_rec)
            if q_flt[q, QF_REDIAL_P] > 0.0 and rng.random() < q_flt[q, QF_REDIAL_P]:
                next_leg = _come_back(s, ci, next_leg)
                tr = t + draw(rng, q_int[q, QI_REDIAL_DELAY], d_par, emp_ptr, emp_vals)
                hn = _heap_push(ht, hv, hn, tr, _pack(E_RETURN, s, ci[s, CI_STAMP]))
            else:
                n_free = _release(s, ci, free, n_free)

        elif kind == E_DEPART:
            if ci[slot, CI_STAMP] != stamp or ci[slot, CI_STATE] != S_SERVICE:
                continue
            s = slot
            q = ci[s, CI_QUEUE]
            a = ci[s, CI_AGENT]
            g = a_group[a]
            iv = ci[s, CI_INTERVAL]
            talk = t - cf[s, CF_ANSWERED]
            # transfer onwards?
            r_to = -1
            u = rng.random()
            for r in range(n_q):
                if u < xfer_cum[q, r]:
                    r_to = r
                    break
            if iv >= 0:
                qstats[q, iv, QS_HANDLE] += talk
                if r_to >= 0:
                    qstats[q, iv, QS_TRANSFERRED] += 1
            if cur_int >= 0:
                gstats[g, cur_int, GS_HANDLED] += 1
            if record and iv >= 0:
                n_rec = _write(s, t, O_ANSWERED, r_to, cf, ci, rec_f, rec_i, n_rec)
            # release the agent's slot
            m = g_conc[g]
            _flush(g, t, cur_int, gstats, g_present, g_busy, g_conc, g_last)
            g_busy[g] -= 1
            old_load = a_load[a]
            a_load[a] = old_load - 1
            a_since[a] = t
            if m > 1:
                # drop the chat from the agent's list
                for j in range(old_load):
                    if a_chats[a, j] == s:
                        a_chats[a, j] = a_chats[a, old_load - 1]
                        a_chats[a, old_load - 1] = -1
                        break
                if a_load[a] > 0 and g_stretch[g, old_load - 1] != g_stretch[g, old_load - 2]:
                    hn = _reschedule(
                        a, g, t, old_load, a_load[a], cf, ci, a_chats, g_stretch, ht, hv, hn
                    )
            if a_state[a] == 2:
                if a_load[a] == 0:
                    a_state[a] = 0
                    a_stamp[a] += 1
                    g_present[g] -= 1
            else:
                if old_load == m:
                    g_avail[g] += 1
                freed_agent = a
            if r_to >= 0:
                ci[s, CI_STAMP] += 1
                ci[s, CI_PREV] = ci[s, CI_LEG]
                ci[s, CI_LEG] = next_leg
                next_leg += 1
                ci[s, CI_QUEUE] = r_to
                ci[s, CI_AGENT] = -1
                ci[s, CI_ESCALATED] = 0
                cf[s, CF_ARRIVED] = t
                cf[s, CF_ANSWERED] = np.nan
                cf[s, CF_CONF] = np.nan
                cf[s, CF_FACTOR] = 1.0
                # the next leg of a measured contact is measured too, even when the
                # transfer happens after the end (it counts in the last interval)
                _set_interval(s, t, ci, stat_len, n_stat, hist_per_interval, stopped and iv < 0)
                if ci[s, CI_INTERVAL] >= 0:
                    qstats[r_to, ci[s, CI_INTERVAL], QS_ARRIVED] += 1
                to_q = s
            else:
                n_free = _release(s, ci, free, n_free)

        # ---- a leg joins the human queue
        s = to_q
        if s >= 0:
            q = ci[s, CI_QUEUE]
            iv = ci[s, CI_INTERVAL]
            cf[s, CF_QUEUED] = t
            if iv >= 0:
                qstats[q, iv, QS_OFFERED] += 1
            patience = _fast(rng, q_int[q, QI_PATIENCE], d_par, emp_ptr, emp_vals)
            a_best = -1
            g_best = -1
            if q_len[q] == 0:
                a_best, g_best = _find_agent(
                    q,
                    qg_ptr,
                    qg_list,
                    qg_rank,
                    g_conc,
                    g_off,
                    g_avail,
                    a_state,
                    a_load,
                    a_since,
                    a_stamp,
                    idle_a,
                    idle_s,
                    idle_head,
                    idle_n,
                    ring_cap,
                )
            if a_best >= 0:
                h = _fast(rng, q_int[ci[s, CI_QUEUE], QI_HANDLE], d_par, emp_ptr, emp_vals)
                hn, n_rec = _start(
                    h,
                    s,
                    a_best,
                    g_best,
                    t,
                    cf,
                    ci,
                    q_flt,
                    g_conc,
                    g_stretch,
                    a_load,
                    a_since,
                    a_chats,
                    g_busy,
                    g_avail,
                    g_last,
                    gstats,
                    cur_int,
                    g_present,
                    qstats,
                    hist,
                    n_hist,
                    ht,
                    hv,
                    hn,
                    n_rec,
                )
            elif q_int[q, QI_MAX_QUEUE] >= 0 and q_len[q] >= q_int[q, QI_MAX_QUEUE]:
                if iv >= 0:
                    qstats[q, iv, QS_BLOCKED] += 1
                if record and iv >= 0:
                    n_rec = _write(s, t, O_BLOCKED, -1, cf, ci, rec_f, rec_i, n_rec)
                n_free = _release(s, ci, free, n_free)
            else:
                ci[s, CI_STATE] = S_WAITING
                p = (wq_head[q] + wq_n[q]) % wq_cap
                wq_slot[q, p] = s
                wq_stamp[q, p] = ci[s, CI_STAMP]
                wq_n[q] += 1
                q_len[q] += 1
                cf[s, CF_DEADLINE] = t + patience
                if patience < inf:
                    hn = _heap_push(ht, hv, hn, t + patience, _pack(E_ABANDON, s, ci[s, CI_STAMP]))

        # ---- an agent freed capacity: it takes the best waiting contact
        a = freed_agent
        if a >= 0:
            g = a_group[a]
            s2 = _pop_waiting(
                g, gq_ptr, gq_list, q_int, cf, ci, wq_slot, wq_stamp, wq_head, wq_n, q_len, wq_cap
            )
            if s2 >= 0:
                h = _fast(rng, q_int[ci[s2, CI_QUEUE], QI_HANDLE], d_par, emp_ptr, emp_vals)
                hn, n_rec = _start(
                    h,
                    s2,
                    a,
                    g,
                    t,
                    cf,
                    ci,
                    q_flt,
                    g_conc,
                    g_stretch,
                    a_load,
                    a_since,
                    a_chats,
                    g_busy,
                    g_avail,
                    g_last,
                    gstats,
                    cur_int,
                    g_present,
                    qstats,
                    hist,
                    n_hist,
                    ht,
                    hv,
                    hn,
                    n_rec,
                )
            elif g_conc[g] == 1:
                # idle: joins the back of its group's idle line
                a_stamp[a] += 1
                if idle_n[g] >= ring_cap:
                    _compact_idle(g, idle_a, idle_s, idle_head, idle_n, ring_cap, a_state, a_stamp)
                p = (idle_head[g] + idle_n[g]) % ring_cap
                idle_a[g, p] = a
                idle_s[g, p] = a_stamp[a]
                idle_n[g] += 1

    if status != 0:
        return n_rec, n_events, status
    # contacts nobody could ever take (no agent with the skill left on shift)
    for q in range(n_q):
        for j in range(wq_n[q]):
            p = (wq_head[q] + j) % wq_cap
            s = wq_slot[q, p]
            if ci[s, CI_STATE] == S_WAITING and ci[s, CI_STAMP] == wq_stamp[q, p]:
                ci[s, CI_STATE] = S_FREE
                if ci[s, CI_INTERVAL] >= 0:
                    qstats[q, ci[s, CI_INTERVAL], QS_UNSERVED] += 1
                    if record:
                        if n_rec + 1 >= r_cap:
                            return n_rec, n_events, OVERFLOW_RECORDS
                        n_rec = _write(s, np.nan, O_UNSERVED, -1, cf, ci, rec_f, rec_i, n_rec)
    return n_rec, n_events, 0


@njit(cache=True, nogil=True, inline="always")
def _pop_waiting(
    g: int,
    gq_ptr: np.ndarray,
    gq_list: np.ndarray,
    q_int: np.ndarray,
    cf: np.ndarray,
    ci: np.ndarray,
    wq_slot: np.ndarray,
    wq_stamp: np.ndarray,
    wq_head: np.ndarray,
    wq_n: np.ndarray,
    q_len: np.ndarray,
    wq_cap: int,
) -> int:
    """Pop the contact an agent of group ``g`` takes next, or ``-1``.

    Among the queues the group serves: highest priority, then longest waiting.
    Stale ring entries (abandoned contacts) at the heads are dropped on the way.
    """
    best_q = -1
    for jj in range(gq_ptr[g], gq_ptr[g + 1]):
        qq = gq_list[jj]
        while q_len[qq] > 0:
            s2 = wq_slot[qq, wq_head[qq]]
            if ci[s2, CI_STATE] == S_WAITING and ci[s2, CI_STAMP] == wq_stamp[qq, wq_head[qq]]:
                break
            wq_head[qq] = (wq_head[qq] + 1) % wq_cap
            wq_n[qq] -= 1
        if q_len[qq] == 0:
            continue
        if best_q < 0:
            best_q = qq
        else:
            pb = q_int[best_q, QI_PRIORITY]
            pq = q_int[qq, QI_PRIORITY]
            sb = wq_slot[best_q, wq_head[best_q]]
            sq = wq_slot[qq, wq_head[qq]]
            if pq > pb or (pq == pb and cf[sq, CF_QUEUED] < cf[sb, CF_QUEUED]):
                best_q = qq
    if best_q < 0:
        return -1
    s2 = wq_slot[best_q, wq_head[best_q]]
    wq_head[best_q] = (wq_head[best_q] + 1) % wq_cap
    wq_n[best_q] -= 1
    q_len[best_q] -= 1
    return s2


@njit(cache=True, nogil=True, inline="always")
def _flush(
    g: int,
    t: float,
    cur_int: int,
    gstats: np.ndarray,
    g_present: np.ndarray,
    g_busy: np.ndarray,
    g_conc: np.ndarray,
    g_last: np.ndarray,
) -> None:
    """Bring group ``g``'s time integrals (staffed, busy, capacity) up to ``t``."""
    if cur_int >= 0:
        dt = t - g_last[g]
        gstats[g, cur_int, GS_STAFFED] += g_present[g] * dt
        gstats[g, cur_int, GS_BUSY] += g_busy[g] * dt
        gstats[g, cur_int, GS_CAPACITY] += g_present[g] * g_conc[g] * dt
    g_last[g] = t


@njit(cache=True, nogil=True, inline="always")
def _release(s: int, ci: np.ndarray, free: np.ndarray, n_free: int) -> int:
    """The contact in slot ``s`` has left: the slot goes back to the pool."""
    ci[s, CI_STATE] = S_FREE
    ci[s, CI_STAMP] += 1
    free[n_free] = s
    return n_free + 1


@njit(cache=True, nogil=True, inline="always")
def _come_back(s: int, ci: np.ndarray, next_leg: int) -> int:
    """Slot ``s`` waits as a new contact of the same customer (redial, repeat)."""
    ci[s, CI_STAMP] += 1
    ci[s, CI_STATE] = S_PENDING
    ci[s, CI_LEG] = next_leg
    ci[s, CI_INITIAL] = next_leg
    ci[s, CI_PREV] = -1
    return next_leg + 1


@njit(cache=True, nogil=True, inline="always")
def _set_interval(
    s: int,
    t: float,
    ci: np.ndarray,
    stat_len: float,
    n_stat: int,
    hist_per_interval: bool,
    stopped: bool,
) -> None:
    if t < 0.0 or stopped:
        ci[s, CI_INTERVAL] = -1
        ci[s, CI_HIST] = -1
        return
    k = int(t // stat_len) if stat_len < math.inf else 0
    k = min(k, n_stat - 1)
    ci[s, CI_INTERVAL] = k
    ci[s, CI_HIST] = k if hist_per_interval else 0


@njit(cache=True, nogil=True, inline="always")
def _hist_add(hist: np.ndarray, q: int, hb: int, which: int, w: float, n_hist: int) -> None:
    """Bin 0 holds waits of exactly 0; bin k holds (k-1, k] seconds; the last, longer."""
    if hb < 0:
        return
    if w <= 0.0:
        b = 0
    else:
        c = math.ceil(w)
        b = n_hist + 1 if c > n_hist else int(c)
    hist[q, hb, which, b] += 1


@njit(cache=True, nogil=True, inline="always")
def _write(
    s: int,
    t: float,
    outcome: int,
    transfer: int,
    cf: np.ndarray,
    ci: np.ndarray,
    rec_f: np.ndarray,
    rec_i: np.ndarray,
    n: int,
) -> int:
    rec_f[n, RF_ARRIVED] = cf[s, CF_ARRIVED]
    rec_f[n, RF_QUEUED] = cf[s, CF_QUEUED]
    rec_f[n, RF_ANSWERED] = cf[s, CF_ANSWERED]
    rec_f[n, RF_ENDED] = t
    if outcome == O_ANSWERED:
        rec_f[n, RF_WAIT] = cf[s, CF_ANSWERED] - cf[s, CF_QUEUED]
        rec_f[n, RF_TALK] = t - cf[s, CF_ANSWERED]
    elif outcome == O_ABANDONED:
        rec_f[n, RF_WAIT] = t - cf[s, CF_QUEUED]
        rec_f[n, RF_TALK] = np.nan
    else:
        rec_f[n, RF_WAIT] = np.nan
        rec_f[n, RF_TALK] = np.nan
    rec_f[n, RF_CONF] = cf[s, CF_CONF]
    rec_i[n, RI_LEG] = ci[s, CI_LEG]
    rec_i[n, RI_INITIAL] = ci[s, CI_INITIAL]
    rec_i[n, RI_PREV] = ci[s, CI_PREV]
    rec_i[n, RI_CUSTOMER] = ci[s, CI_CUSTOMER]
    rec_i[n, RI_QUEUE] = ci[s, CI_QUEUE]
    rec_i[n, RI_OUTCOME] = outcome
    rec_i[n, RI_AGENT] = ci[s, CI_AGENT] if outcome == O_ANSWERED else -1
    rec_i[n, RI_ESCALATED] = ci[s, CI_ESCALATED]
    rec_i[n, RI_TRANSFER] = transfer
    return n + 1


@njit(cache=True, nogil=True, _nrt=False)
def _compact_idle(
    g: int,
    idle_a: np.ndarray,
    idle_s: np.ndarray,
    idle_head: np.ndarray,
    idle_n: np.ndarray,
    ring_cap: int,
    a_state: np.ndarray,
    a_stamp: np.ndarray,
) -> None:
    """Drop stale entries of group ``g``'s idle line, keeping the order."""
    k = 0
    for j in range(idle_n[g]):
        p = (idle_head[g] + j) % ring_cap
        a = idle_a[g, p]
        if a_state[a] == 1 and a_stamp[a] == idle_s[g, p]:
            q = (idle_head[g] + k) % ring_cap
            idle_a[g, q] = a
            idle_s[g, q] = idle_s[g, p]
            k += 1
    idle_n[g] = k


@njit(cache=True, nogil=True, inline="always")
def _find_agent(
    q: int,
    qg_ptr: np.ndarray,
    qg_list: np.ndarray,
    qg_rank: np.ndarray,
    g_conc: np.ndarray,
    g_off: np.ndarray,
    g_avail: np.ndarray,
    a_state: np.ndarray,
    a_load: np.ndarray,
    a_since: np.ndarray,
    a_stamp: np.ndarray,
    idle_a: np.ndarray,
    idle_s: np.ndarray,
    idle_head: np.ndarray,
    idle_n: np.ndarray,
    ring_cap: int,
) -> tuple[int, int]:
    """The agent an arrival at queue ``q`` goes to, or ``(-1, -1)``.

    Most preferred skill tier first; within the tier the least loaded agent,
    then the longest idle.  Groups are listed by rank in ``qg_list``.
    """
    best_a = -1
    best_g = -1
    best_load = 0
    best_since = 0.0
    j = qg_ptr[q]
    end = qg_ptr[q + 1]
    while j < end:
        rank = qg_rank[j]
        while j < end and qg_rank[j] == rank:
            g = qg_list[j]
            j += 1
            if g_avail[g] == 0:
                continue
            if g_conc[g] == 1:
                # front of the idle line, skipping stale entries
                while idle_n[g] > 0:
                    p = idle_head[g]
                    a = idle_a[g, p]
                    if a_state[a] == 1 and a_stamp[a] == idle_s[g, p] and a_load[a] == 0:
                        break
                    idle_head[g] = (p + 1) % ring_cap
                    idle_n[g] -= 1
                if idle_n[g] == 0:
                    continue
                a = idle_a[g, idle_head[g]]
                cand_load = 0
                cand_since = a_since[a]
                cand = a
            else:
                cand = -1
                cand_load = 0
                cand_since = 0.0
                m = g_conc[g]
                for a in range(g_off[g], g_off[g + 1]):
                    if a_state[a] != 1 or a_load[a] >= m:
                        continue
                    if (
                        cand < 0
                        or a_load[a] < cand_load
                        or (a_load[a] == cand_load and a_since[a] < cand_since)
                    ):
                        cand = a
                        cand_load = a_load[a]
                        cand_since = a_since[a]
                if cand < 0:
                    continue
            if (
                best_a < 0
                or cand_load < best_load
                or (cand_load == best_load and cand_since < best_since)
            ):
                best_a = cand
                best_g = g
                best_load = cand_load
                best_since = cand_since
        if best_a >= 0:
            break
    if best_a >= 0 and g_conc[best_g] == 1:
        # take it off the idle line (it is at the front)
        idle_head[best_g] = (idle_head[best_g] + 1) % ring_cap
        idle_n[best_g] -= 1
    return best_a, best_g


@njit(cache=True, nogil=True, inline="always")
def _reschedule(
    a: int,
    g: int,
    t: float,
    old_load: int,
    new_load: int,
    cf: np.ndarray,
    ci: np.ndarray,
    a_chats: np.ndarray,
    g_stretch: np.ndarray,
    ht: np.ndarray,
    hv: np.ndarray,
    hn: int,
) -> int:
    """Bring the agent's chats up to date after its load changed; new completions."""
    old_f = g_stretch[g, old_load - 1]
    new_f = g_stretch[g, new_load - 1]
    for j in range(new_load):
        s = a_chats[a, j]
        elapsed = t - cf[s, CF_LAST]
        if elapsed > 0.0:
            cf[s, CF_WORK] = max(cf[s, CF_WORK] - elapsed / old_f, 0.0)
        cf[s, CF_LAST] = t
        ci[s, CI_STAMP] += 1
        hn = _heap_push(ht, hv, hn, t + cf[s, CF_WORK] * new_f, _pack(E_DEPART, s, ci[s, CI_STAMP]))
    return hn


@njit(cache=True, nogil=True, inline="always")
def _start(
    h: float,
    s: int,
    a: int,
    g: int,
    t: float,
    cf: np.ndarray,
    ci: np.ndarray,
    q_flt: np.ndarray,
    g_conc: np.ndarray,
    g_stretch: np.ndarray,
    a_load: np.ndarray,
    a_since: np.ndarray,
    a_chats: np.ndarray,
    g_busy: np.ndarray,
    g_avail: np.ndarray,
    g_last: np.ndarray,
    gstats: np.ndarray,
    cur_int: int,
    g_present: np.ndarray,
    qstats: np.ndarray,
    hist: np.ndarray,
    n_hist: int,
    ht: np.ndarray,
    hv: np.ndarray,
    hn: int,
    n_rec: int,
) -> tuple[int, int]:
    """Agent ``a`` of group ``g`` answers contact ``s`` at time ``t``; ``h`` is the
    handle time drawn for it (before the context factor)."""
    q = ci[s, CI_QUEUE]
    iv = ci[s, CI_INTERVAL]
    w = t - cf[s, CF_QUEUED]
    if iv >= 0:
        qstats[q, iv, QS_ANSWERED] += 1
        qstats[q, iv, QS_WAIT_ANS] += w
        if w <= q_flt[q, QF_THRESHOLD]:
            qstats[q, iv, QS_ANS_WITHIN] += 1
        _hist_add(hist, q, ci[s, CI_HIST], 0, w, n_hist)
    ci[s, CI_STATE] = S_SERVICE
    ci[s, CI_AGENT] = a
    cf[s, CF_ANSWERED] = t
    h *= cf[s, CF_FACTOR]
    m = g_conc[g]
    _flush(g, t, cur_int, gstats, g_present, g_busy, g_conc, g_last)
    g_busy[g] += 1
    old_load = a_load[a]
    a_load[a] = old_load + 1
    a_since[a] = t
    if a_load[a] == m:
        g_avail[g] -= 1
    if m == 1:
        ci[s, CI_STAMP] += 1
        hn = _heap_push(ht, hv, hn, t + h, _pack(E_DEPART, s, ci[s, CI_STAMP]))
        return hn, n_rec
    a_chats[a, old_load] = s
    cf[s, CF_WORK] = h
    cf[s, CF_LAST] = t
    if old_load > 0 and g_stretch[g, old_load] != g_stretch[g, old_load - 1]:
        hn = _reschedule(a, g, t, old_load, old_load + 1, cf, ci, a_chats, g_stretch, ht, hv, hn)
    else:
        ci[s, CI_STAMP] += 1
        hn = _heap_push(
            ht, hv, hn, t + h * g_stretch[g, old_load], _pack(E_DEPART, s, ci[s, CI_STAMP])
        )
    return hn, n_rec
