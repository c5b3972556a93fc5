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
def _erlang_point(out: np.ndarray, lam: float, mu: float, theta: float, n: float,
                  lines: float, t: float) -> None:
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
def erlang_point(out: np.ndarray, tmp: np.ndarray, lam: float, mu: float, theta: float,
                 n: float, lines: float, t: float) -> None:
    """Erlang A/X metrics; fractional agents with finite lines interpolate linearly."""
    if not math.isinf(lines):
        n = min(n, lines)
        lo = math.floor(n)
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
def _chat_point(out: np.ndarray, lam: float, aht_by_k: np.ndarray, n: float,
                theta: float, lines: float, t: float) -> None:
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
def chat_point(out: np.ndarray, tmp: np.ndarray, lam: float, aht_by_k: np.ndarray,
               n: float, theta: float, lines: float, t: float) -> None:
    """Chat metrics; fractional agents interpolate linearly between whole numbers."""
    lo = math.floor(n)
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
def erlang_batch(lam: np.ndarray, mu: np.ndarray, theta: np.ndarray, n: np.ndarray,
                 lines: np.ndarray, t: np.ndarray) -> np.ndarray:
    size = lam.shape[0]
    out = np.empty((size, N_OUT))
    for i in prange(size):
        tmp = np.empty(N_OUT)
        erlang_point(out[i], tmp, lam[i], mu[i], theta[i], n[i], lines[i], t[i])
    return out


@njit(cache=True, parallel=True)
def chat_batch(lam: np.ndarray, aht_by_k: np.ndarray, n: np.ndarray, theta: np.ndarray,
               lines: np.ndarray, t: np.ndarray) -> np.ndarray:
    size = lam.shape[0]
    out = np.empty((size, N_OUT))
    for i in prange(size):
        tmp = np.empty(N_OUT)
        chat_point(out[i], tmp, lam[i], aht_by_k[i], n[i], theta[i], lines[i], t[i])
    return out


@njit(cache=True, parallel=True)
def erlang_c_staff(lam: np.ndarray, aht: np.ndarray, t: np.ndarray, sl_target: np.ndarray,
                   asa_target: np.ndarray, occ_target: np.ndarray,
                   pw_target: np.ndarray) -> np.ndarray:
    """Fewest whole agents meeting Erlang C targets (NaN target: none), per interval.

    The fast path of the staffing search for the most common case: start at
    the first stable staff (and the occupancy cap), evaluate Erlang B there
    once in log space, then step upwards with the stable recursion
    ``B(n+1) = a B(n) / (n + 1 + a B(n))`` until every target is met; about
    ``sqrt(load)`` cheap steps per interval.
    """
    size = lam.shape[0]
    out = np.empty(size)
    tol = 1e-12
    for i in prange(size):
        if lam[i] == 0.0:
            out[i] = 0.0
            continue
        a = lam[i] * aht[i]
        n = math.floor(a) + 1.0
        if not math.isnan(occ_target[i]):
            n = max(n, math.ceil(a / occ_target[i] - 1e-9))
        b = math.exp(log_erlang_b(n, a))
        while True:
            c = n * b / (n - a * (1.0 - b))
            ok = True
            if not math.isnan(sl_target[i]):
                sl = 1.0 - c * math.exp(-(n - a) * t[i] / aht[i])
                ok = sl >= sl_target[i] - tol
            if ok and not math.isnan(asa_target[i]):
                ok = c * aht[i] / (n - a) <= asa_target[i] * (1.0 + tol)
            if ok and not math.isnan(pw_target[i]):
                ok = c <= pw_target[i] + tol
            if ok:
                break
            b = a * b / (n + 1.0 + a * b)
            n += 1.0
        out[i] = n
    return out
