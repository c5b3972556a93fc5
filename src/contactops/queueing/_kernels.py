"""Compiled kernels that evaluate every queue metric in one pass.

All three families (Erlang C; Erlang A and X; chat) share one output layout,
the ``OUT_*`` columns below, so the Python classes derive service levels under
every definition, waits, abandonment, blocking and occupancy the same way.

The birth-death view
--------------------
``c`` is the capacity (agents, or chat slots ``agents * max_concurrency``).
Below capacity every arrival is served at once; the probability mass of those
states, relative to the state "exactly at capacity", is ``r`` (for Erlang
models ``r = 1/B(n, A) - 1``, the continuous Erlang-B extension).  At and above
capacity the queue has ``j = 0, 1, ...`` contacts waiting; the weights are
``w_0 = 1`` and ``w_{j+1} = w_j * lam / (D + (j + 1) theta)`` where ``D`` is the
departure rate at full capacity and ``theta = 1 / mean patience``.  With finite
lines ``K`` the last state ``j = K - c`` blocks new arrivals.

An arrival that finds ``j`` contacts ahead of it has virtual wait ``V`` (the
wait of an infinitely patient contact) equal to a sum of independent
exponentials with rates ``D + i theta``, ``i = 0..j``.  With ``x = D / theta``
and ``p = 1 - exp(-theta t)`` the order-statistics identity gives
``P(V > t | j) = P(N <= j)`` for ``N ~ NegBin(x, p)``; exponential tilting by
the contact's own patience gives ``P(served, V <= t | j) =
x / (x + j + 1) * P(N' > j)`` with ``N' ~ NegBin(x + 1, p)``.  Conditional
means are finite harmonic sums.  With ``theta = 0`` the negative binomials
become Poisson and every formula reduces to M/M/n(/K).  The derivation is in
``docs/background/queueing.md``.

Weights and the negative-binomial densities are carried with a running scale
(or in log space while they would underflow), so loads up to 20,000 Erlangs
and 20,000 agents neither overflow nor underflow to a wrong value.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, vectorize

from contactops.queueing._special import log_erlang_b

OUT_P_IMMEDIATE = 0  # answered at once (no wait)
OUT_P_WAIT = 1  # admitted and had to wait
OUT_P_BLOCK = 2  # refused: all lines busy
OUT_P_ABANDON = 3  # abandoned while waiting
OUT_P_SERVED_T = 4  # answered with wait <= t (immediate included)
OUT_P_SERVED = 5  # answered
OUT_P_W_LE_T = 6  # admitted with min(V, patience) <= t (abandoners before t included)
OUT_P_V_LE_T = 7  # admitted with virtual wait <= t
OUT_E_W = 8  # E[W; admitted]
OUT_E_W_SERVED = 9  # E[W; answered]
OUT_E_V = 10  # E[V; admitted]
OUT_BUSY = 11  # expected busy capacity units (chat: slots); Erlang: filled by caller
OUT_QUEUE = 12  # expected number waiting
N_OUT = 13

_LOG_BIG = 250.0 * math.log(10.0)
_BIG = 1e250
_LOG_TINY = -700.0


@vectorize(["float64(float64, float64)"], cache=True)
def erlang_b_ufunc(load: float, servers: float) -> float:  # pragma: no cover - compiled
    """Erlang B blocking as a numpy ufunc (broadcasts like any ufunc)."""
    return math.exp(log_erlang_b(servers, load))


@njit(cache=True)
def _fill_no_demand(out: np.ndarray) -> None:
    for k in range(N_OUT):
        out[k] = 0.0
    out[OUT_P_IMMEDIATE] = 1.0
    out[OUT_P_SERVED] = 1.0
    out[OUT_P_SERVED_T] = 1.0
    out[OUT_P_W_LE_T] = 1.0
    out[OUT_P_V_LE_T] = 1.0


@njit(cache=True)
def _fill_unstable(out: np.ndarray, capacity: float) -> None:
    """No abandonment, unlimited lines and demand >= capacity: the queue grows without bound."""
    for k in range(N_OUT):
        out[k] = 0.0
    out[OUT_P_WAIT] = 1.0
    out[OUT_P_SERVED] = 1.0
    out[OUT_E_W] = math.inf
    out[OUT_E_W_SERVED] = math.inf
    out[OUT_E_V] = math.inf
    out[OUT_BUSY] = capacity
    out[OUT_QUEUE] = math.inf


@njit(cache=True)
def tail_metrics(
    out: np.ndarray,
    log_r: float,
    mean_below: float,
    capacity: float,
    D: float,
    lam: float,
    theta: float,
    jmax: int,
    t: float,
) -> None:
    """Fill ``out`` for a birth-death queue; ``jmax < 0`` means unlimited lines.

    ``log_r`` is log of the below-capacity mass relative to the at-capacity
    state (``-inf`` when capacity is 0); ``mean_below`` the mean occupied
    capacity over the below-capacity states (used for chat occupancy).
    """
    if lam == 0.0:
        _fill_no_demand(out)
        return
    infinite = jmax < 0
    if infinite and theta == 0.0 and lam >= D:
        _fill_unstable(out, capacity)
        return

    if theta > 0.0:
        pt = -math.expm1(-theta * t) / theta
        e_theta_t = math.exp(-theta * t)
    else:
        pt = t
        e_theta_t = 1.0
    # negative binomial NB(x, p) and NB(x+1, p); log densities while tiny
    lnb = -D * t
    lnb1 = -(D + theta) * t
    nb = math.exp(lnb) if lnb > _LOG_TINY else 0.0
    nb1 = math.exp(lnb1) if lnb1 > _LOG_TINY else 0.0
    cdf = nb
    cdf1 = nb1

    w = 1.0
    scale = 0.0
    zq = 0.0
    s_wait = 0.0
    s_block = 0.0
    s_ab = 0.0
    s_srv = 0.0
    s_srv_t = 0.0
    s_vgt = 0.0
    s_ew = 0.0
    s_ews = 0.0
    s_ev = 0.0
    s_q = 0.0
    g = 0.0  # sum_{i=0}^{j} 1/(D + i theta)
    h = 0.0  # sum_{i=1}^{j+1} 1/(D + i theta)
    j = 0
    while True:
        if not infinite and j == jmax:
            zq += w
            s_block = w
            s_q += w * j
            break
        g += 1.0 / (D + j * theta) if D + j * theta > 0.0 else math.inf
        den = D + (j + 1) * theta
        h += 1.0 / den
        ps = D / den
        zq += w
        s_wait += w
        s_ab += w * ((j + 1) * theta / den)
        s_srv += w * ps
        s_srv_t += w * ps * (1.0 - min(cdf1, 1.0))
        s_vgt += w * min(cdf, 1.0)
        s_ew += w * ((j + 1) / den)
        s_ews += w * ps * h
        s_ev += w * g
        s_q += w * j

        # advance both negative-binomial densities to j + 1
        ratio = pt * (D + j * theta) / (j + 1)
        ratio1 = pt * (D + (j + 1) * theta) / (j + 1)
        if nb > 0.0:
            nb *= ratio
        elif ratio > 0.0:
            lnb += math.log(ratio)
            if lnb > _LOG_TINY:
                nb = math.exp(lnb)
        if nb1 > 0.0:
            nb1 *= ratio1
        elif ratio1 > 0.0:
            lnb1 += math.log(ratio1)
            if lnb1 > _LOG_TINY:
                nb1 = math.exp(lnb1)
        cdf += nb
        cdf1 += nb1

        w_next = w * lam / den
        if infinite and w_next <= w and w_next * (j + 2) < 1e-18 * zq:
            break
        w = w_next
        j += 1
        if w > _BIG:
            w /= _BIG
            zq /= _BIG
            s_wait /= _BIG
            s_ab /= _BIG
            s_srv /= _BIG
            s_srv_t /= _BIG
            s_vgt /= _BIG
            s_ew /= _BIG
            s_ews /= _BIG
            s_ev /= _BIG
            s_q /= _BIG
            scale += _LOG_BIG

    lzq = math.log(zq) + scale
    if log_r == -math.inf:
        log_z = lzq
    else:
        hi = max(log_r, lzq)
        log_z = hi + math.log(math.exp(log_r - hi) + math.exp(lzq - hi))
    f = math.exp(scale - log_z)
    p_imm = math.exp(log_r - log_z) if log_r != -math.inf else 0.0
    p_wait = s_wait * f
    out[OUT_P_IMMEDIATE] = p_imm
    out[OUT_P_WAIT] = p_wait
    out[OUT_P_BLOCK] = s_block * f
    out[OUT_P_ABANDON] = s_ab * f
    out[OUT_P_SERVED] = p_imm + s_srv * f
    out[OUT_P_SERVED_T] = p_imm + s_srv_t * f
    out[OUT_P_W_LE_T] = p_imm + max(p_wait - s_vgt * e_theta_t * f, 0.0)
    out[OUT_P_V_LE_T] = p_imm + max(p_wait - s_vgt * f, 0.0)
    out[OUT_E_W] = s_ew * f
    out[OUT_E_W_SERVED] = s_ews * f
    out[OUT_E_V] = s_ev * f
    out[OUT_BUSY] = (mean_below * p_imm if p_imm > 0.0 else 0.0) + capacity * (1.0 - p_imm)
    out[OUT_QUEUE] = s_q * f


@njit(cache=True)
def _erlang_point(
    out: np.ndarray, lam: float, mu: float, theta: float, n: float, lines: float, t: float
) -> None:
    """Erlang A / X (and M/M/n/K) at one point with a whole or real number of agents."""
    if lam == 0.0:
        _fill_no_demand(out)
        return
    load = lam / mu
    if n == 0.0:
        log_r = -math.inf
    else:
        log_b = log_erlang_b(n, load)
        log_r = math.log1p(-math.exp(log_b)) - log_b if log_b < 0.0 else -math.inf
    jmax = -1 if math.isinf(lines) else int(lines - n)
    tail_metrics(out, log_r, 0.0, n, n * mu, lam, theta, jmax, t)
    # Little's law on the agents: busy = throughput * mean handle time
    out[OUT_BUSY] = lam * out[OUT_P_SERVED] / mu


@njit(cache=True)
def erlang_point(
    out: np.ndarray,
    tmp: np.ndarray,
    lam: float,
    mu: float,
    theta: float,
    n: float,
    lines: float,
    t: float,
) -> None:
    """Erlang A/X metrics; fractional agents with finite lines interpolate linearly."""
    if not math.isinf(lines):
        n = min(n, lines)
        lo = float(math.floor(n))  # math.floor gives an int: one more signature
        frac = n - lo
        if frac > 0.0:
            _erlang_point(out, lam, mu, theta, lo, lines, t)
            _erlang_point(tmp, lam, mu, theta, lo + 1.0, lines, t)
            for k in range(N_OUT):
                out[k] = (1.0 - frac) * out[k] + frac * tmp[k]
            return
    _erlang_point(out, lam, mu, theta, n, lines, t)


@njit(cache=True)
def erlang_c_point(out: np.ndarray, lam: float, aht: float, n: float, t: float) -> None:
    """Closed-form Erlang C (M/M/n) with the continuous Erlang-B extension."""
    if lam == 0.0:
        _fill_no_demand(out)
        return
    load = lam * aht
    if n <= load:
        _fill_unstable(out, n)
        return
    log_b = log_erlang_b(n, load)
    b = math.exp(log_b)
    log_c = log_b + math.log(n) - math.log((n - load) + load * b)
    c = math.exp(log_c)
    tail = math.exp(log_c - (n - load) * t / aht)
    wait = c * aht / (n - load)
    out[OUT_P_IMMEDIATE] = -math.expm1(log_c)
    out[OUT_P_WAIT] = c
    out[OUT_P_BLOCK] = 0.0
    out[OUT_P_ABANDON] = 0.0
    out[OUT_P_SERVED] = 1.0
    out[OUT_P_SERVED_T] = 1.0 - tail
    out[OUT_P_W_LE_T] = 1.0 - tail
    out[OUT_P_V_LE_T] = 1.0 - tail
    out[OUT_E_W] = wait
    out[OUT_E_W_SERVED] = wait
    out[OUT_E_V] = wait
    out[OUT_BUSY] = load
    out[OUT_QUEUE] = lam * wait


@njit(cache=True)
def _chat_point(
    out: np.ndarray,
    lam: float,
    aht_by_k: np.ndarray,
    n: float,
    theta: float,
    lines: float,
    t: float,
) -> None:
    """Chat at a whole number of agents: balanced assignment of up to m chats each."""
    if lam == 0.0:
        _fill_no_demand(out)
        return
    m = aht_by_k.shape[0]
    agents = int(n)
    cap = agents * m
    if not math.isinf(lines):
        cap = min(cap, int(lines))
    # below-capacity mass relative to the at-capacity state, scaled
    v = 1.0
    r = 0.0
    r1 = 0.0
    scale = 0.0
    for k in range(cap, 0, -1):
        # departure rate with k chats in service: rem agents hold q+1 chats, the rest q
        q = k // agents
        rem = k - q * agents
        rate = 0.0
        if rem > 0:
            rate += rem * (q + 1) / aht_by_k[q]
        if q > 0:
            rate += (agents - rem) * q / aht_by_k[q - 1]
        v *= rate / lam  # now pi_{k-1} / pi_cap
        r += v
        r1 += v * (k - 1)
        if v > _BIG:
            v /= _BIG
            r /= _BIG
            r1 /= _BIG
            scale += _LOG_BIG
    log_r = math.log(r) + scale if r > 0.0 else -math.inf
    mean_below = r1 / r if r > 0.0 else 0.0
    if cap < agents * m:
        # fewer lines than chat slots: the state at capacity blocks and nobody waits
        d_full = 0.0
        jmax = 0
    else:
        d_full = agents * m / aht_by_k[m - 1]
        jmax = -1 if math.isinf(lines) else int(lines) - cap
    tail_metrics(out, log_r, mean_below, float(cap), d_full, lam, theta, jmax, t)


@njit(cache=True)
def chat_point(
    out: np.ndarray,
    tmp: np.ndarray,
    lam: float,
    aht_by_k: np.ndarray,
    n: float,
    theta: float,
    lines: float,
    t: float,
) -> None:
    """Chat metrics; fractional agents interpolate linearly between whole numbers."""
    lo = float(math.floor(n))  # math.floor gives an int: one more signature
    frac = n - lo
    _chat_point(out, lam, aht_by_k, lo, theta, lines, t)
    if frac > 0.0:
        _chat_point(tmp, lam, aht_by_k, lo + 1.0, theta, lines, t)
        for k in range(N_OUT):
            out[k] = (1.0 - frac) * out[k] + frac * tmp[k]


@njit(cache=True, parallel=True)
def erlang_c_batch(lam: np.ndarray, aht: np.ndarray, n: np.ndarray, t: np.ndarray) -> np.ndarray:
    size = lam.shape[0]
    out = np.empty((size, N_OUT))
    for i in prange(size):
        erlang_c_point(out[i], lam[i], aht[i], n[i], t[i])
    return out


@njit(cache=True, parallel=True)
def erlang_batch(
    lam: np.ndarray,
    mu: np.ndarray,
    theta: np.ndarray,
    n: np.ndarray,
    lines: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    size = lam.shape[0]
    out = np.empty((size, N_OUT))
    for i in prange(size):
        tmp = np.empty(N_OUT)
        erlang_point(out[i], tmp, lam[i], mu[i], theta[i], n[i], lines[i], t[i])
    return out


@njit(cache=True, parallel=True)
def chat_batch(
    lam: np.ndarray,
    aht_by_k: np.ndarray,
    n: np.ndarray,
    theta: np.ndarray,
    lines: np.ndarray,
    t: np.ndarray,
) -> np.ndarray:
    size = lam.shape[0]
    out = np.empty((size, N_OUT))
    for i in prange(size):
        tmp = np.empty(N_OUT)
        chat_point(out[i], tmp, lam[i], aht_by_k[i], n[i], theta[i], lines[i], t[i])
    return out


# -- staffing ------------------------------------------------------------------------
# Targets of the compiled staffing searches, one column each (NaN: not a target), in the
# order of ``GOAL_NAMES``; the service-level definition is its index in ``SL_DEFINITIONS``.
GOAL_SL = 0
GOAL_ASA = 1
GOAL_ABANDON = 2
GOAL_OCCUPANCY = 3
GOAL_WAIT_PROBABILITY = 4
GOAL_BLOCKING = 5
N_GOALS = 6
GOAL_NAMES = (
    "service_level",
    "asa",
    "max_abandon",
    "max_occupancy",
    "max_wait_probability",
    "max_blocking",
)
GOAL_TOL = 1e-12  # a target met to within rounding counts as met (``Targets.met`` too)


@njit(cache=True)
def _clip01(x: float) -> float:
    """``np.clip(x, 0, 1)`` (NaN stays NaN)."""
    if x < 0.0:
        return 0.0
    if x > 1.0:
        return 1.0
    return x


@njit(cache=True)
def _log_excess(value: float, limit: float) -> float:
    """``log(value / limit)``: positive where an upper limit is exceeded (a search guide)."""
    if value <= 0.0:
        return -math.inf
    return math.log(value) - math.log(limit)


@njit(cache=True)
def _normal_quantile(p: float) -> float:
    """Standard normal quantile, Acklam's rational approximation (relative error 1.2e-9)."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    if 0.02425 <= p <= 0.97575:
        q = p - 0.5
        r = q * q
        return (
            (
                (
                    (
                        (
                            (-3.969683028665376e01 * r + 2.209460984245205e02) * r
                            - 2.759285104469687e02
                        )
                        * r
                        + 1.383577518672690e02
                    )
                    * r
                    - 3.066479806614716e01
                )
                * r
                + 2.506628277459239e00
            )
            * q
            / (
                (
                    (
                        (
                            (-5.447609879822406e01 * r + 1.615858368580409e02) * r
                            - 1.556989798598866e02
                        )
                        * r
                        + 6.680131188771972e01
                    )
                    * r
                    - 1.328068155288572e01
                )
                * r
                + 1.0
            )
        )
    tail = p if p < 0.5 else 1.0 - p
    q = math.sqrt(-2.0 * math.log(tail))
    x = (
        (
            (
                ((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e00)
                * q
                - 2.549732539343734e00
            )
            * q
            + 4.374664141464968e00
        )
        * q
        + 2.938163982698783e00
    ) / (
        (
            ((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e00) * q
            + 3.754408661907416e00
        )
        * q
        + 1.0
    )
    return x if p < 0.5 else -x


@njit(cache=True)
def _probit_excess(value: float, limit: float) -> float:
    """How far a probability exceeds its limit on the normal scale (a search guide).

    Near the staffing answer most probabilities fall like a normal tail in the
    agents (the square-root staffing regime), so on this scale they are close
    to straight lines and a secant lands within an agent or so.
    """
    return _normal_quantile(value) - _normal_quantile(limit)


@njit(cache=True)
def _meets_goals(
    raw: np.ndarray, lam: float, n: float, definition: int, goals: np.ndarray
) -> tuple[bool, float]:
    """Whether one point's kernel output meets ``goals``, and how far it is from them.

    The metrics are derived from ``raw`` exactly as ``QueueModel._metrics_flat``
    derives them (clipped probabilities, ASA over answered contacts, occupancy
    of ``n`` agents, the service level under ``definition``) and compared as
    ``Targets.met`` compares them, so a compiled search decides every point as
    the generic search does.  The second value only guides the search: the
    largest excess over the targets, positive where there are too few agents,
    on a scale where it is close to a straight line in the agents (the normal
    quantile for probabilities, ``1 - service level`` against
    ``1 - target``; the logarithm for ASA and occupancy).
    """
    p_block = _clip01(raw[OUT_P_BLOCK])
    admitted = 1.0 - p_block
    mean_wait = raw[OUT_E_W] / admitted if admitted > 0.0 else math.inf
    if not math.isfinite(mean_wait):
        return False, math.inf
    ok = True
    excess = -math.inf
    sl_goal = goals[GOAL_SL]
    if not math.isnan(sl_goal):
        served_t = _clip01(raw[OUT_P_SERVED_T])
        if definition == 0:  # answered within t over offered
            sl = served_t
        elif definition == 1:  # answered within t over answered
            served = _clip01(raw[OUT_P_SERVED])
            sl = served_t / served if served > 0.0 else 0.0
        elif definition == 2:  # excluding abandons before t
            short = _clip01(raw[OUT_P_W_LE_T]) - served_t
            short = max(short, 0.0)
            rest = 1.0 - short
            sl = served_t / rest if rest > 0.0 else 0.0
        elif definition == 3:  # wait <= t
            sl = _clip01(raw[OUT_P_W_LE_T])
        else:  # virtual wait <= t
            sl = _clip01(raw[OUT_P_V_LE_T])
        sl = _clip01(sl)
        ok = sl >= sl_goal - GOAL_TOL
        excess = max(excess, _probit_excess(1.0 - sl, 1.0 - sl_goal))
    asa_goal = goals[GOAL_ASA]
    if not math.isnan(asa_goal):
        served = _clip01(raw[OUT_P_SERVED])
        asa = raw[OUT_E_W_SERVED] / served if served > 0.0 else math.inf
        if math.isnan(asa):
            asa = math.inf
        ok = ok and asa <= asa_goal * (1.0 + GOAL_TOL)
        excess = max(excess, _log_excess(asa, asa_goal))
    abandon_goal = goals[GOAL_ABANDON]
    if not math.isnan(abandon_goal):
        abandon = _clip01(raw[OUT_P_ABANDON])
        ok = ok and abandon <= abandon_goal + GOAL_TOL
        excess = max(excess, _probit_excess(abandon, abandon_goal))
    occupancy_goal = goals[GOAL_OCCUPANCY]
    if not math.isnan(occupancy_goal):
        occupancy = 1.0 if lam > 0.0 else 0.0
        if n > 0.0:
            occupancy = raw[OUT_BUSY] / n
        occupancy = _clip01(occupancy)
        ok = ok and occupancy <= occupancy_goal + GOAL_TOL
        excess = max(excess, _log_excess(occupancy, occupancy_goal))
    wait_goal = goals[GOAL_WAIT_PROBABILITY]
    if not math.isnan(wait_goal):
        p_wait = _clip01(raw[OUT_P_WAIT])
        ok = ok and p_wait <= wait_goal + GOAL_TOL
        excess = max(excess, _probit_excess(p_wait, wait_goal))
    blocking_goal = goals[GOAL_BLOCKING]
    if not math.isnan(blocking_goal):
        ok = ok and p_block <= blocking_goal + GOAL_TOL
        excess = max(excess, _probit_excess(p_block, blocking_goal))
    return ok, excess


@njit(cache=True)
def _erlang_a_meets(
    out: np.ndarray,
    tmp: np.ndarray,
    lam: float,
    mu: float,
    theta: float,
    n: float,
    t: float,
    definition: int,
    goals: np.ndarray,
) -> tuple[bool, float]:
    erlang_point(out, tmp, lam, mu, theta, n, math.inf, t)
    return _meets_goals(out, lam, n, definition, goals)


@njit(cache=True)
def _erlang_a_staff_one(
    out: np.ndarray,
    tmp: np.ndarray,
    lam: float,
    mu: float,
    theta: float,
    t: float,
    definition: int,
    goals: np.ndarray,
    max_agents: float,
    integer: bool,
) -> float:
    """Fewest agents for one interval of M/M/n+M (NaN: not within ``max_agents``).

    Every metric is monotone in the agents, so the answer is the one whole
    number that meets the goals while one fewer fails, whatever path leads
    to it; the generic search gallops and bisects from far away, this one
    probes near the answer.  The first probe is ``load + sqrt(load) / 2``;
    then each probe is the secant estimate of the boundary from the last two
    (on the scale of ``_meets_goals``' excess, nearly straight there), with
    safeguards: steps of ``sqrt(load) / 2``, doubling, while one side of the
    boundary is unknown and the secant gives nothing usable (or creeps), at
    most doubling the staff upwards, and bisection once the bracket has
    failed to halve three times running.  About 3 evaluations per interval
    instead of the generic search's 13.

    When no whole number up to ``max_agents`` will do, a fractional
    ``max_agents`` itself is tried, as the generic search does;
    ``integer=False`` then runs exactly the generic search's real bisection.
    """
    cap = np.floor(max_agents)
    load = lam / mu
    spread = math.sqrt(load)
    lo = -1.0  # most agents known to fail (-1: none known)
    hi = math.inf  # fewest agents known to meet the goals
    n = min(np.ceil(load + 0.5 * spread), cap)
    prev_n = math.nan
    prev_x = math.nan
    step = max(1.0, np.ceil(0.5 * spread))  # while one side is unknown; doubles
    one_sided = 0
    slow = 0
    width = math.inf
    while True:
        ok, x = _erlang_a_meets(out, tmp, lam, mu, theta, n, t, definition, goals)
        if ok:
            hi = n
        else:
            lo = n
        if hi - lo <= 1.0 or (not ok and n >= cap):
            break
        # secant estimate of the fewest agents meeting the goals, from the last two probes
        guess = math.nan
        if math.isfinite(x) and math.isfinite(prev_x) and x != prev_x:
            r = n - x * (n - prev_n) / (x - prev_x)
            if math.isfinite(r):
                guess = np.ceil(r)
        prev_n = n
        prev_x = x
        if math.isinf(hi):  # nothing meets the goals yet: upwards, at most doubling
            one_sided += 1
            if math.isnan(guess) or guess <= lo:
                n = lo + step
                step *= 2.0
            else:
                n = guess
                if one_sided > 5:  # the secant creeps: force ever larger steps
                    n = max(n, lo + step)
                    step *= 2.0
            n = min(n, max(2.0 * lo + 1.0, lo + 1.0), cap)
        elif lo < 0.0:  # nothing fails yet: downwards, to 0 at most
            one_sided += 1
            if math.isnan(guess) or guess > hi:
                n = hi - step
                step *= 2.0
            elif guess == hi:  # the boundary is just below: try one fewer
                n = hi - 1.0
            else:
                n = guess
                if one_sided > 5:
                    n = min(n, hi - step)
                    step *= 2.0
            n = max(n, 0.0)
        else:  # bracketed: secant; bisection after three steps that did not halve it
            slow = slow + 1 if hi - lo > 0.5 * width else 0
            width = hi - lo
            if slow >= 3 or math.isnan(guess):
                n = np.floor((lo + hi) / 2.0)
                slow = 0
            else:
                n = min(max(guess, lo + 1.0), hi - 1.0)
    if math.isinf(hi):
        if max_agents <= cap:
            return math.nan
        ok, x = _erlang_a_meets(out, tmp, lam, mu, theta, max_agents, t, definition, goals)
        if not ok:
            return math.nan
        hi = max_agents
        lo = cap
    if not integer and hi > 0.0:
        lo = max(lo, 0.0)
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            ok, x = _erlang_a_meets(out, tmp, lam, mu, theta, mid, t, definition, goals)
            if ok:
                hi = mid
            else:
                lo = mid
            if not hi - lo > 1e-9 * max(hi, 1.0):
                break
    return hi


@njit(cache=True, parallel=True)
def erlang_a_staff(
    lam: np.ndarray,
    mu: np.ndarray,
    theta: np.ndarray,
    t: np.ndarray,
    goals: np.ndarray,
    definition: int,
    max_agents: float,
    integer: bool,
) -> np.ndarray:
    """Fewest agents meeting the goals in M/M/n+M (unlimited lines), per interval.

    ``goals`` has one row per interval and the ``GOAL_*`` columns (NaN: not a
    target).  NaN in the result: no staff up to ``max_agents`` meets them.
    The same answer as the generic vectorised search (see
    ``_erlang_a_staff_one``), with every evaluation near the answer.
    """
    size = lam.shape[0]
    agents = np.empty(size)
    for i in prange(size):
        out = np.empty(N_OUT)
        tmp = np.empty(N_OUT)
        agents[i] = _erlang_a_staff_one(
            out, tmp, lam[i], mu[i], theta[i], t[i], definition, goals[i], max_agents, integer
        )
    return agents


@njit(cache=True, parallel=True)
def erlang_c_staff(
    lam: np.ndarray, aht: np.ndarray, t: np.ndarray, goals: np.ndarray, max_agents: float
) -> np.ndarray:
    """Fewest whole agents meeting Erlang C goals per interval (NaN: more than ``max_agents``).

    The fast path of the staffing search for the most common case: start at
    the first stable staff (and the occupancy cap), evaluate Erlang B there
    once in log space, then step upwards with the stable recursion
    ``B(n+1) = a B(n) / (n + 1 + a B(n))`` until every target is met; about
    ``sqrt(load)`` cheap steps per interval, never past ``max_agents``.
    ``goals`` as for ``erlang_a_staff``; only service level, ASA, occupancy
    and probability of waiting are read (all service-level definitions
    coincide here).
    """
    size = lam.shape[0]
    agents = np.empty(size)
    cap = np.floor(max_agents)
    for i in prange(size):
        if lam[i] == 0.0:
            agents[i] = 0.0
            continue
        sl_target = goals[i, GOAL_SL]
        asa_target = goals[i, GOAL_ASA]
        occ_target = goals[i, GOAL_OCCUPANCY]
        pw_target = goals[i, GOAL_WAIT_PROBABILITY]
        a = lam[i] * aht[i]
        n = math.floor(a) + 1.0
        if not math.isnan(occ_target):
            n = max(n, math.ceil(a / occ_target - 1e-9))
        b = math.exp(log_erlang_b(n, a)) if n <= cap else 0.0
        while n <= cap:
            c = n * b / (n - a * (1.0 - b))
            ok = True
            if not math.isnan(sl_target):
                sl = 1.0 - c * math.exp(-(n - a) * t[i] / aht[i])
                ok = sl >= sl_target - GOAL_TOL
            if ok and not math.isnan(asa_target):
                ok = c * aht[i] / (n - a) <= asa_target * (1.0 + GOAL_TOL)
            if ok and not math.isnan(pw_target):
                ok = c <= pw_target + GOAL_TOL
            if ok:
                break
            b = a * b / (n + 1.0 + a * b)
            n += 1.0
        agents[i] = n if n <= cap else math.nan
    return agents


# -- backlog ---------------------------------------------------------------------------
@njit(cache=True)
def taut_string(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Shortest path through ``lower[k] <= S[k] <= upper[k]``, ``k = 0..N``, in O(N).

    The path starts at ``(0, lower[0])`` and ends at ``(N, lower[N])`` (both
    gates are closed to that point by the caller).  The funnel algorithm
    (Lee and Preparata): from the last bend (the apex) the path to the newest
    upper bound hugs the upper bounds (a convex chain) and the path to the
    newest lower bound hugs the lower bounds (a concave chain).  A new upper
    point below the lower chain's first edge moves the apex along the lower
    chain until the point is in sight, and the upper chain starts afresh
    from there (and mirrored for a new lower point).  Every point enters and
    leaves each chain at most once.  Collinear points are dropped from the
    chains, so bends are only where the path turns.
    """
    n = lower.shape[0] - 1
    # the chains hold gate indices, as deques: [head, tail)
    lchain = np.empty(n + 1, dtype=np.int64)
    uchain = np.empty(n + 1, dtype=np.int64)
    lh = lt = uh = ut = 0
    bend_x = np.empty(n + 1, dtype=np.int64)
    bend_y = np.empty(n + 1)
    ax = 0
    ay = lower[0]
    bend_x[0] = ax
    bend_y[0] = ay
    bends = 1
    for j in range(1, n + 1):
        # the upper point of gate j
        qy = upper[j]
        crossed = False
        while lh < lt and (lower[lchain[lh]] - ay) * (j - ax) > (qy - ay) * (lchain[lh] - ax):
            # out of sight below the lower chain's first edge: bend there
            ax = lchain[lh]
            ay = lower[ax]
            lh += 1
            bend_x[bends] = ax
            bend_y[bends] = ay
            bends += 1
            crossed = True
        if crossed:
            uh = ut = 0
        else:
            while ut > uh:
                px = uchain[ut - 2] if ut - uh >= 2 else ax
                py = upper[px] if ut - uh >= 2 else ay
                mx = uchain[ut - 1]
                # drop the last point unless it lies strictly below the line to the new one
                if (upper[mx] - py) * (j - px) >= (qy - py) * (mx - px):
                    ut -= 1
                else:
                    break
        uchain[ut] = j
        ut += 1
        # the lower point of gate j
        py_new = lower[j]
        crossed = False
        while uh < ut and (upper[uchain[uh]] - ay) * (j - ax) < (py_new - ay) * (uchain[uh] - ax):
            ax = uchain[uh]
            ay = upper[ax]
            uh += 1
            bend_x[bends] = ax
            bend_y[bends] = ay
            bends += 1
            crossed = True
        if crossed:
            lh = lt = 0
        else:
            while lt > lh:
                px = lchain[lt - 2] if lt - lh >= 2 else ax
                py = lower[px] if lt - lh >= 2 else ay
                mx = lchain[lt - 1]
                # drop the last point unless it lies strictly above the line to the new one
                if (lower[mx] - py) * (j - px) <= (py_new - py) * (mx - px):
                    lt -= 1
                else:
                    break
        lchain[lt] = j
        lt += 1
    if bend_x[bends - 1] != n:
        bend_x[bends] = n
        bend_y[bends] = lower[n]
        bends += 1
    s = np.empty(n + 1)
    s[0] = bend_y[0]
    for b in range(1, bends):
        x0 = bend_x[b - 1]
        y0 = bend_y[b - 1]
        x1 = bend_x[b]
        slope = (bend_y[b] - y0) / (x1 - x0)
        for j in range(x0 + 1, x1 + 1):
            s[j] = y0 + slope * (j - x0)
    return s
