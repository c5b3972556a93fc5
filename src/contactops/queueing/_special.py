"""Special functions in log space, compiled with numba.

Why hand-written instead of ``scipy.special``: the staffing search evaluates
these inside compiled loops (numba cannot call scipy's ufuncs), and the
quantities we need are *logarithms* of regularised incomplete gamma functions
whose values underflow double precision (for example ``Q(n + 1, a)`` for a
heavily overloaded queue, ``e^{-20000}``).  scipy has no log-incomplete-gamma.

The algorithms are the textbook ones, chosen for full relative precision:

* ``log_dpois`` is Loader's saddle-point form of the Poisson density
  (C. Loader, *Fast and accurate computation of binomial probabilities*, 2000;
  the method behind R's ``dpois``): ``-stirlerr(x) - bd0(x, a) - log(2 pi x)/2``.
  It keeps full relative precision for ``x`` and ``a`` up to 1e9 and beyond,
  where ``x log a - a - lgamma(x + 1)`` loses digits to cancellation.
* ``log_gamma_q`` is the regularised upper incomplete gamma ``Q(s, a)`` via
  the power series of ``P`` for ``a < s + 1`` and the Legendre continued
  fraction (modified Lentz) otherwise (Numerical Recipes 6.2).
* ``log_erlang_b`` is the continuous (real number of servers) extension of the
  Erlang loss formula, ``B(x, a) = a^x e^{-a} / Gamma(x + 1) / Q(x + 1, a)``
  (Jagerman 1974), in log space.

Every function is checked against mpmath in ``tests/queueing/test_special.py``.
"""

from __future__ import annotations

import math

from numba import njit

LN_SQRT_2PI = 0.91893853320467274178  # log(sqrt(2 pi))
_EPS = 1e-17
_FPMIN = 1e-300
_MAX_ITER = 10_000_000


@njit(cache=True)
def stirlerr(n: float) -> float:
    """``lgamma(n + 1) - (n + 1/2) log(n) + n - log(sqrt(2 pi))`` for ``n > 0``."""
    if n <= 15.0:
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - LN_SQRT_2PI
    nn = n * n
    s0 = 1.0 / 12.0
    s1 = 1.0 / 360.0
    s2 = 1.0 / 1260.0
    s3 = 1.0 / 1680.0
    s4 = 1.0 / 1188.0
    if n > 500.0:
        return (s0 - s1 / nn) / n
    if n > 80.0:
        return (s0 - (s1 - s2 / nn) / nn) / n
    if n > 35.0:
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n


@njit(cache=True)
def bd0(x: float, m: float) -> float:
    """Deviance term ``x log(x / m) + m - x``, stable when ``x`` is close to ``m``."""
    if abs(x - m) < 0.1 * (x + m):
        v = (x - m) / (x + m)
        s = (x - m) * v
        ej = 2.0 * x * v
        v2 = v * v
        for j in range(1, 1000):
            ej *= v2
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
        return s
    return x * math.log(x / m) + m - x


@njit(cache=True)
def log_dpois(x: float, a: float) -> float:
    """``log(a^x e^{-a} / Gamma(x + 1))`` for real ``x >= 0``, ``a >= 0``."""
    if a == 0.0:
        return 0.0 if x == 0.0 else -math.inf
    if x == 0.0:
        return -a
    if math.isinf(a):
        return -math.inf
    return -stirlerr(x) - bd0(x, a) - 0.5 * math.log(2.0 * math.pi * x)


@njit(cache=True)
def _log_p_series(s: float, a: float) -> float:
    """log P(s, a) by the power series; accurate for a < s + 1."""
    # P(s, a) = dpois(s, a) * sum_k a^k / ((s+1)...(s+k))
    total = 1.0
    term = 1.0
    k = 1.0
    for _ in range(_MAX_ITER):
        term *= a / (s + k)
        total += term
        if term < total * _EPS:
            break
        k += 1.0
    return log_dpois(s, a) + math.log(total)


@njit(cache=True)
def _cf_q(s: float, a: float) -> float:
    """Continued fraction h with Q(s, a) = e^{-a} a^s / Gamma(s) * h; for a >= s + 1."""
    b = a + 1.0 - s
    c = 1.0 / _FPMIN
    d = 1.0 / b
    h = d
    i = 1.0
    for _ in range(_MAX_ITER):
        an = -i * (i - s)
        b += 2.0
        d = an * d + b
        if abs(d) < _FPMIN:
            d = _FPMIN
        c = b + an / c
        if abs(c) < _FPMIN:
            c = _FPMIN
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
        i += 1.0
    return h


@njit(cache=True)
def log_gamma_q(s: float, a: float) -> float:
    """log of the regularised upper incomplete gamma ``Q(s, a)``, ``s > 0``, ``a >= 0``."""
    if a == 0.0:
        return 0.0
    if math.isinf(a):
        return -math.inf
    if a < s + 1.0:
        return math.log1p(-math.exp(_log_p_series(s, a)))
    # e^{-a} a^s / Gamma(s) = dpois(s, a) * s
    return log_dpois(s, a) + math.log(s) + math.log(_cf_q(s, a))


@njit(cache=True)
def log_gamma_p(s: float, a: float) -> float:
    """log of the regularised lower incomplete gamma ``P(s, a)``, ``s > 0``, ``a >= 0``."""
    if a == 0.0:
        return -math.inf
    if math.isinf(a):
        return 0.0
    if a < s + 1.0:
        return _log_p_series(s, a)
    return math.log1p(-math.exp(log_dpois(s, a) + math.log(s) + math.log(_cf_q(s, a))))


@njit(cache=True)
def log_erlang_b(x: float, a: float) -> float:
    """log of the Erlang B blocking probability for ``x >= 0`` servers, load ``a >= 0``.

    Real ``x`` uses the continuous extension through the incomplete gamma
    function; it agrees with the recursion at whole numbers.
    """
    if a == 0.0:
        return 0.0 if x == 0.0 else -math.inf
    if x == 0.0:
        return 0.0
    s = x + 1.0
    if a < s + 1.0:
        return min(0.0, log_dpois(x, a) - math.log1p(-math.exp(_log_p_series(s, a))))
    # 1/B = a * h(s, a), from Q(s, a) = dpois(s, a) * s * h and dpois(x,a)/dpois(s,a) = s/a
    return min(0.0, -math.log(a) - math.log(_cf_q(s, a)))
