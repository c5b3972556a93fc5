"""The forecasting methods, each on one series folded into days x intervals.

Every method takes the cleaned history ``Y`` (days x intervals per day), the
weekday of each history day, the number of days to forecast and the
prediction-interval levels, and returns the mean (days x intervals) and, per
level, the lower and upper bounds.  The statistical models are
statsforecast's; what is written here is the folding, the classic WFM
spreading and the seasonal naive benchmark (a few lines of numpy each).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import norm

__all__ = ["METHODS", "Bands", "intraday_profile"]

Bands = dict[int, tuple[np.ndarray, np.ndarray]]
PROFILE_PRIOR = 500.0  # pseudo-contacts pulling a weekday's intraday shape to the week's
Method = Callable[[np.ndarray, np.ndarray, int, tuple[int, ...]], tuple[np.ndarray, Bands]]


def _z(level: int) -> float:
    return float(norm.ppf(0.5 + level / 200.0))


def _bands(mean: np.ndarray, sd: np.ndarray, levels: tuple[int, ...]) -> Bands:
    return {lv: (np.maximum(mean - _z(lv) * sd, 0.0), mean + _z(lv) * sd) for lv in levels}


def seasonal_naive(
    Y: np.ndarray,
    weekdays: np.ndarray,  # noqa: ARG001 - one signature for all
    h: int,
    levels: tuple[int, ...],
) -> tuple[np.ndarray, Bands]:
    """The same interval one week earlier (one day earlier with under a week of history)."""
    D = Y.shape[0]
    season = 7 if D >= 7 else 1
    k = np.arange(h)
    mean = Y[D - season + k % season]
    if season < D:
        resid = Y[season:] - Y[:-season]
        sd1 = np.sqrt(np.mean(resid**2, axis=0))
    else:
        sd1 = np.sqrt(np.maximum(Y.mean(axis=0), 0.0))  # Poisson, for lack of residuals
    sd = sd1[None, :] * np.sqrt(k // season + 1)[:, None]
    return mean, _bands(mean, sd, levels)


def intraday_profile(
    Y: np.ndarray,
    weekdays: np.ndarray,
    decay: float = 0.8,
    weeks: int = 6,
    prior: float = PROFILE_PRIOR,
) -> np.ndarray:
    """Each weekday's shares of its daily total per interval (7 x intervals).

    The last ``weeks`` days of each weekday count, the most recent most
    (weights ``decay ** age``).  A weekday's shares are shrunk towards the
    shares of all days by ``prior`` pseudo-contacts: a busy queue keeps its
    own Monday shape, a thin one borrows the shape of the whole week instead
    of following the noise of a few hundred contacts.  A weekday absent from
    the history takes the shares of all days.
    """
    totals = Y.sum(axis=1)
    P = Y.shape[1]
    recent = np.arange(Y.shape[0])[-7 * weeks :]
    w_all = decay ** ((recent[-1] - recent) / 7.0)
    pooled = (w_all[:, None] * Y[recent]).sum(axis=0)
    pooled = pooled / pooled.sum() if pooled.sum() > 0 else np.full(P, 1.0 / P)
    prof = np.tile(pooled, (7, 1))
    for wd in range(7):
        days = np.flatnonzero(weekdays == wd)[-weeks:]
        if days.size == 0:
            continue
        w = decay ** np.arange(days.size)[::-1]
        num = (w[:, None] * Y[days]).sum(axis=0)
        den = float((w * totals[days]).sum())
        if den > 0:
            prof[wd] = (num + prior * pooled) / (den + prior)
    # an interval a weekday never has contacts in stays closed on that weekday
    seen = np.zeros((7, P), bool)
    for wd in range(7):
        days = np.flatnonzero(weekdays == wd)[-weeks:]
        seen[wd] = Y[days].sum(axis=0) > 0 if days.size else True
    prof = np.where(seen, prof, 0.0)
    sums = prof.sum(axis=1, keepdims=True)
    return np.divide(prof, sums, out=np.tile(pooled, (7, 1)), where=sums > 0)


def _statsforecast(
    model: Any, y: np.ndarray, h: int, levels: tuple[int, ...]
) -> tuple[np.ndarray, Bands]:
    with warnings.catch_warnings():
        # statsforecast/statsmodels warn about convergence on flat or short series;
        # the backtest, not a warning, is what judges a model here
        warnings.simplefilter("ignore")
        out = model.forecast(y=y.astype(float), h=h, level=list(levels))
    mean = np.asarray(out["mean"], float)
    bands = {
        lv: (np.asarray(out[f"lo-{lv}"], float), np.asarray(out[f"hi-{lv}"], float))
        for lv in levels
    }
    return mean, bands


def wfm(
    Y: np.ndarray, weekdays: np.ndarray, h: int, levels: tuple[int, ...]
) -> tuple[np.ndarray, Bands]:
    """The classic WFM method: daily totals forecast, spread by a weekday intraday profile.

    Daily totals: statsforecast's AutoETS with a weekly season (two weeks of
    history or more), else the seasonal naive of the totals.  The bands
    combine the daily model's uncertainty with Poisson noise inside the day.
    """
    from statsforecast.models import AutoETS  # noqa: PLC0415 - numba compile on first use

    D = Y.shape[0]
    totals = Y.sum(axis=1)
    future_wd = (weekdays[-1] + 1 + np.arange(h)) % 7
    if D >= 14:
        t_mean, t_bands = _statsforecast(AutoETS(season_length=7), totals, h, levels)
    else:
        t_mean2, t_bands2 = seasonal_naive(totals[:, None], weekdays, h, levels)
        t_mean = t_mean2[:, 0]
        t_bands = {lv: (lo[:, 0], hi[:, 0]) for lv, (lo, hi) in t_bands2.items()}
    t_mean = np.maximum(t_mean, 0.0)
    prof = intraday_profile(Y, weekdays)[future_wd]
    mean = t_mean[:, None] * prof
    bands: Bands = {}
    for lv in levels:
        lo_t, hi_t = t_bands[lv]
        z = _z(lv)
        day_sd = np.maximum(hi_t - lo_t, 0.0) / (2 * z)
        sd = np.sqrt((day_sd[:, None] * prof) ** 2 + mean)
        bands[lv] = (np.maximum(mean - z * sd, 0.0), mean + z * sd)
    return mean, bands


def mstl(
    Y: np.ndarray,
    weekdays: np.ndarray,  # noqa: ARG001 - one signature for all methods
    h: int,
    levels: tuple[int, ...],
) -> tuple[np.ndarray, Bands]:
    """statsforecast's MSTL: daily and weekly seasons by STL, the trend by AutoETS."""
    from statsforecast.models import MSTL  # noqa: PLC0415

    D, P = Y.shape
    seasons = [P, 7 * P] if D >= 14 else [P]
    mean, bands = _statsforecast(MSTL(season_length=seasons), Y.ravel(), h * P, levels)
    return mean.reshape(h, P), {
        lv: (lo.reshape(h, P), hi.reshape(h, P)) for lv, (lo, hi) in bands.items()
    }


def autoets(
    Y: np.ndarray, weekdays: np.ndarray, h: int, levels: tuple[int, ...]
) -> tuple[np.ndarray, Bands]:
    """statsforecast's AutoETS with the daily season, on hourly totals.

    ETS state-space models carry at most 24 seasonal states (as in R's
    ``forecast::ets``; statsforecast's ETS returns nothing useful beyond), so
    15- and 30-minute series are forecast by the hour and each hour is split
    into its intervals by the weekday profile.
    """
    from statsforecast.models import AutoETS  # noqa: PLC0415

    D, P = Y.shape
    f = P // 24
    hours = Y.reshape(D, 24, f).sum(axis=2)
    mean_h, bands_h = _statsforecast(AutoETS(season_length=24), hours.ravel(), h * 24, levels)
    future_wd = (weekdays[-1] + 1 + np.arange(h)) % 7
    prof = intraday_profile(Y, weekdays)[future_wd].reshape(h, 24, f)
    hour_share = prof.sum(axis=2, keepdims=True)
    within = np.divide(prof, hour_share, out=np.full_like(prof, 1.0 / f), where=hour_share > 0)

    def spread(x: np.ndarray) -> np.ndarray:
        return (np.maximum(x, 0.0).reshape(h, 24, 1) * within).reshape(h, P)

    return spread(mean_h), {lv: (spread(lo), spread(hi)) for lv, (lo, hi) in bands_h.items()}


METHODS: dict[str, Method] = {
    "seasonal_naive": seasonal_naive,
    "wfm": wfm,
    "mstl": mstl,
    "autoets": autoets,
}
