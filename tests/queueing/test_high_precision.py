"""Double precision against mpmath at 50 digits: 10,000+ agents, and load near agents.

The mpmath side uses the closed forms (incomplete gamma functions) of
Erlang B, C and A, an independent route from our series kernels.
"""

from __future__ import annotations

import mpmath as mp
import pytest

from contactops.queueing import ErlangA, ErlangC, erlang_b

mp.mp.dps = 50


def _mp_erlang_b(n: float, a: float) -> mp.mpf:
    n, a = mp.mpf(n), mp.mpf(a)
    return mp.exp(n * mp.log(a) - a - mp.loggamma(n + 1)) / mp.gammainc(n + 1, a, regularized=True)


def _mp_erlang_c(n: float, a: float) -> mp.mpf:
    b = _mp_erlang_b(n, a)
    return n * b / (n - a * (1 - b))


CASES_B = [
    (10_000, 10_000.0),
    (10_000, 9_999.5),
    (12_345, 12_000.0),
    (20_000, 19_990.0),
    (20_000, 20_000.0),
    (20_000, 25_000.0),
    (15_000.5, 15_000.0),
    (1, 20_000.0),
]


@pytest.mark.parametrize(("n", "load"), CASES_B)
def test_erlang_b_large(n: float, load: float) -> None:
    assert float(erlang_b(load, n)) == pytest.approx(float(_mp_erlang_b(n, load)), rel=1e-12)


@pytest.mark.parametrize(
    ("n", "load"),
    [
        (10_000, 9_990.0),
        (10_000, 9_999.9),
        (20_000, 19_800.0),
        (15_000.5, 15_000.0),
        (12_000, 11_000.0),
    ],
)
def test_erlang_c_large(n: float, load: float) -> None:
    aht, t = 300.0, 20.0
    c = _mp_erlang_c(n, load)
    sl = 1 - c * mp.exp(-(n - load) * t / aht)
    asa = c * aht / (n - load)
    m = ErlangC(load / aht, aht).metrics(n, t)
    assert float(m.prob_wait) == pytest.approx(float(c), rel=1e-11)
    assert float(m.service_level) == pytest.approx(float(sl), rel=1e-11)
    assert float(m.asa) == pytest.approx(float(asa), rel=1e-11)


def _mp_erlang_a(n: float, load: float, aht: float, patience: float, t: float) -> dict[str, float]:
    mu, theta = 1 / mp.mpf(aht), 1 / mp.mpf(patience)
    lam = mp.mpf(load) * mu
    x, y = n * mu / theta, lam / theta
    gx_y = mp.gammainc(x, 0, y)
    s = x * mp.exp(y) * y ** (-x) * gx_y
    e = _mp_erlang_b(n, load)
    pw = s * e / (1 + (s - 1) * e)
    rho = lam / (n * mu)
    p_ab = pw * (1 - 1 / rho + 1 / (rho * s))
    yt = y * mp.exp(-theta * t)
    v_gt = pw * mp.gammainc(x, 0, yt) / gx_y
    served_t_wait = (mp.gammainc(x + 1, 0, y) - mp.gammainc(x + 1, 0, yt)) / (y * gx_y)
    return {
        "prob_wait": float(pw),
        "abandon_rate": float(p_ab),
        "sl_virtual": float(1 - v_gt),
        "sl_offered": float(1 - pw + pw * served_t_wait),
    }


@pytest.mark.parametrize(
    ("n", "load", "patience"),
    [
        (10_000, 9_990.0, 120.0),
        (10_000, 10_050.0, 60.0),
        (12_000, 12_500.0, 300.0),
        (20_000, 20_000.0, 100.0),
        (10_500.5, 10_500.0, 200.0),
    ],
)
def test_erlang_a_large(n: float, load: float, patience: float) -> None:
    aht, t = 300.0, 20.0
    ref = _mp_erlang_a(n, load, aht, patience, t)
    m = ErlangA(load / aht, aht, patience)
    assert float(m.prob_wait(n)) == pytest.approx(ref["prob_wait"], rel=1e-9)
    assert float(m.abandon_rate(n)) == pytest.approx(ref["abandon_rate"], rel=1e-9)
    assert float(m.service_level(n, t, "virtual")) == pytest.approx(ref["sl_virtual"], rel=1e-9)
    assert float(m.service_level(n, t)) == pytest.approx(ref["sl_offered"], rel=1e-9)
