"""``VolumeForecaster`` and ``HandleTimeForecaster``: sklearn-style, long frames in and out."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from contactops.errors import ContactopsError, InvalidParameterError
from contactops.forecast._calendar import Event, HolidayCalendar
from contactops.forecast._history import (
    MINUTES_PER_DAY,
    Series,
    as_frame,
    interval_minutes,
    series_from_frame,
)
from contactops.forecast._methods import METHODS, Bands

__all__ = ["HandleTimeForecaster", "VolumeForecaster", "WorkerError", "horizon_days"]

DEFAULT_METHODS = ("seasonal_naive", "wfm", "mstl", "autoets", "combined")
COMBINED_FROM = ("wfm", "mstl", "autoets")
_FORKED: tuple[Callable[[Any], Any], list[Any]] | None = None


def _call_forked(i: int) -> Any:
    """Item ``i`` through the function the parent set up before forking (see ``_map``).

    An error is sent back to the parent only in a form that survives the trip:
    as it is when it pickles and unpickles, else as a :class:`WorkerError`
    carrying its type, message and the worker's traceback (an exception that
    cannot be unpickled would kill the pool's result thread and hang the parent).
    """
    assert _FORKED is not None
    func, items = _FORKED
    try:
        return func(items[i])
    except Exception as exc:
        try:
            pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own object, just made
        except Exception:  # noqa: BLE001 - any failure to round-trip: send a stand-in
            if isinstance(exc, ContactopsError):
                raise WorkerError(type(exc).__name__, str(exc), traceback.format_exc()) from None
            raise RuntimeError(
                f"{type(exc).__name__} in a forecasting worker: {exc}\n"
                f"worker traceback:\n{traceback.format_exc()}"
            ) from None
        raise


class WorkerError(ContactopsError):
    """A contactops error of a forecasting worker that could not travel back as itself.

    Its message is the original's; ``kind`` is the original class name and
    ``worker_traceback`` where it was raised.  (Errors that are not
    contactops errors come back as ``RuntimeError`` with the same details.)
    """

    def __init__(self, kind: str, message: str, worker_traceback: str = "") -> None:
        self.kind = kind
        self.message = message
        self.worker_traceback = worker_traceback
        super().__init__(message)
        self._keep(kind, message, worker_traceback)


Progress = Callable[[str], None]


def horizon_days(horizon: Any) -> int:
    """7, ``"7d"``, ``"1w"`` or ``"2w"`` -> whole days."""
    text = str(horizon).strip().lower()
    try:
        if text.endswith("w"):
            days = float(text[:-1]) * 7
        elif text.endswith("d"):
            days = float(text[:-1])
        else:
            days = float(text)
    except ValueError:
        days = -1.0
    if days < 1 or days != int(days):
        raise InvalidParameterError(
            "horizon", horizon, "a whole number of days >= 1", 'For example 7, "7d" or "2w".'
        )
    return int(days)


@dataclass
class _Prepared:
    """One series made ready: history cleaned of special days, and what they taught."""

    series: Series
    cleaned: np.ndarray
    holiday_ratios: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closed: np.ndarray | None = None  # 7 x per_day, True where the center is closed


def _errors(forecast: np.ndarray, actual: np.ndarray, scale: float) -> dict[str, np.ndarray]:
    """Per horizon day: absolute error, error, actual, and MASE numerator."""
    e = forecast - actual
    return {
        "abs": np.abs(e).sum(axis=1),
        "err": e.sum(axis=1),
        "actual": actual.sum(axis=1),
        "mae_scaled": np.abs(e).mean(axis=1) / scale if scale > 0 else np.full(e.shape[0], np.nan),
    }


class VolumeForecaster:
    """Contact volume per queue and interval, method chosen per queue by backtest.

    Parameters
    ----------
    interval : str or int
        ``"15min"``, ``"30min"`` or ``"60min"`` (or minutes).
    methods : sequence of str
        Candidates: ``seasonal_naive`` (same interval last week), ``wfm``
        (daily totals by AutoETS, spread by each weekday's intraday
        profile), ``mstl`` (statsforecast MSTL, daily and weekly seasons),
        ``autoets`` (statsforecast AutoETS by the hour, spread by profile),
        ``combined`` (the mean of the wfm, mstl and autoets forecasts among
        the candidates: combinations are the most robust single choice).
        With more than one, ``fit`` picks per queue the lowest WAPE over
        ``selection_windows`` rolling origins of ``selection_horizon`` days.
    holidays : str, list or dict, optional
        Country code (``"US"``, ``"US-CA"``), explicit dates, or a dict of
        them per ``unique_id`` (``"*"`` for the rest).
    holiday_factor : float, optional
        Volume on a holiday as a share of a normal day.  Default: learnt
        from the holidays in the history; with none there, a holiday is
        forecast like a Sunday (the classic WFM rule).
    events : sequence of Event
        Declared events (launches, billing runs, spikes) as multipliers.
    levels : sequence of int
        Prediction-interval levels in percent.
    closed_weeks : int
        An interval (weekday x time) with no contacts in each of its last
        ``closed_weeks`` occurrences is closed: forecast as zero.
    fill_missing : float, optional
        Value for intervals missing inside a series' span (default: error).
    dead_day_min : float
        A day with no contacts at all, on a weekday whose median day has at
        least this many, is taken as missing data (replaced by the same
        weekday a week away, and said in ``notes_``), not as demand.
    n_jobs : int
        Processes for fitting and forecasting many series (``-1``: one per
        core); results are the same whatever the number.
    """

    def __init__(
        self,
        interval: str | int = "30min",
        *,
        methods: Sequence[str] = DEFAULT_METHODS,
        holidays: Any = None,
        holiday_factor: float | None = None,
        events: Sequence[Event] = (),
        levels: Sequence[int] = (80, 95),
        selection_windows: int = 2,
        selection_horizon: int = 7,
        closed_weeks: int = 4,
        fill_missing: float | None = None,
        dead_day_min: float = 20.0,
        n_jobs: int = 1,
        progress: Progress | None = None,
    ) -> None:
        self.interval = interval
        self.methods = methods
        self.holidays = holidays
        self.holiday_factor = holiday_factor
        self.events = events
        self.levels = levels
        self.selection_windows = selection_windows
        self.selection_horizon = selection_horizon
        self.closed_weeks = closed_weeks
        self.fill_missing = fill_missing
        self.dead_day_min = dead_day_min
        self.n_jobs = n_jobs
        self.progress = progress

    # -- parameters ------------------------------------------------------------------------
    def _check(self, methods_override: Sequence[str] | None = None) -> None:
        self.minutes_ = interval_minutes(self.interval)
        self.per_day_ = MINUTES_PER_DAY // self.minutes_
        methods = tuple(self.methods if methods_override is None else methods_override)
        unknown = [m for m in methods if m not in (*METHODS, "combined")]
        if not methods or unknown:
            raise InvalidParameterError(
                "methods",
                list(methods),
                "one or more of " + ", ".join((*METHODS, "combined")),
                "Choose among the methods listed.",
            )
        self.methods_ = methods
        if "combined" in methods and len(self._components()) < 2:
            raise InvalidParameterError(
                "methods",
                list(methods),
                "with 'combined', at least two of " + ", ".join(COMBINED_FROM),
                "'combined' is the mean of those models' forecasts.",
            )
        levels = tuple(int(lv) for lv in self.levels)
        if any(not 0 < lv < 100 for lv in levels):
            raise InvalidParameterError(
                "levels", list(self.levels), "percentages in (0, 100)", "For example (80, 95)."
            )
        self.levels_ = levels
        if self.holiday_factor is not None and not self.holiday_factor >= 0:
            raise InvalidParameterError(
                "holiday_factor",
                self.holiday_factor,
                ">= 0",
                "0.3 means a holiday has 30% of a normal day's volume.",
            )
        for ev in self.events:
            if not isinstance(ev, Event):
                raise InvalidParameterError(
                    "events", ev, "Event objects", "Event(name, start, end, factor)."
                )
            ev.window()
        self.calendar_ = HolidayCalendar(self.holidays)

    def _say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    # -- preparing one series ---------------------------------------------------------------
    def _event_factors(self, uid: str, first_day: np.datetime64, n_days: int) -> np.ndarray:
        """Multiplier per (day, interval) from the declared events."""
        f = np.ones(n_days * self.per_day_)
        start = first_day.astype("datetime64[m]")
        stamps = start + np.arange(f.size) * np.timedelta64(self.minutes_, "m")
        for ev in self.events:
            if ev.applies(uid):
                s, e = ev.window()
                f[(stamps >= s) & (stamps < e)] *= ev.factor
        return f.reshape(n_days, self.per_day_)

    def _prepare(self, s: Series) -> _Prepared:
        Y = s.values.copy()
        D = Y.shape[0]
        prep = _Prepared(s, Y)
        days = s.days
        hol = self.calendar_.dates(s.unique_id, days[0], days[-1])
        is_hol = np.array([d in hol for d in days]) if hol else np.zeros(D, bool)
        # a day with no contacts at all where that weekday is normally busy is a gap in
        # the data (an export that missed it), not demand: it is left out like a holiday
        totals = s.values.sum(axis=1)
        wd = s.weekdays
        dead = np.zeros(D, bool)
        for w in range(7):
            same = (wd == w) & ~is_hol
            if same.sum() >= 2 and np.median(totals[same]) >= self.dead_day_min:
                dead |= same & (totals == 0)
        if dead.any():
            prep.notes.append(
                f"{int(dead.sum())} day(s) with no contacts on a normally busy "
                f"weekday treated as missing data: " + ", ".join(str(d) for d in days[dead][:5])
            )
        special = is_hol | dead
        for d in np.flatnonzero(special):
            for other in (d - 7, d + 7, d - 14, d + 14, d - 21, d + 21):
                if 0 <= other < D and not special[other]:
                    base = s.values[other]
                    if is_hol[d] and base.sum() > 0:
                        prep.holiday_ratios.append(float(s.values[d].sum() / base.sum()))
                    Y[d] = base
                    break
        if self.events:
            Y /= self._event_factors(s.unique_id, s.first_day, D)
        # closed intervals: no contacts in each of the last occurrences (holidays aside)
        if D >= 7:
            closed = np.zeros((7, self.per_day_), bool)
            for w in range(7):
                idx = np.flatnonzero((wd == w) & ~special)[-self.closed_weeks :]
                if idx.size:
                    closed[w] = (s.values[idx] == 0).all(axis=0)
            prep.closed = closed
        return prep

    def _holiday_factor(self, prep: _Prepared, weekday: int) -> float:
        if self.holiday_factor is not None:
            return float(self.holiday_factor)
        if prep.holiday_ratios:
            return float(np.clip(np.mean(prep.holiday_ratios), 0.0, 2.0))
        totals = prep.cleaned.sum(axis=1)
        wd = prep.series.weekdays
        sundays, same = totals[wd == 6], totals[wd == weekday]
        if sundays.size == 0 or same.size == 0 or same.mean() <= 0:
            return 1.0
        return float(min(sundays.mean() / same.mean(), 1.0))

    # -- forecasting one series with one method --------------------------------------------
    def _raw(
        self,
        prep: _Prepared,
        method: str,
        h: int,
        cache: dict[str, tuple[np.ndarray, Bands]] | None = None,
    ) -> tuple[np.ndarray, Bands]:
        """A method's forecast of the cleaned history, before special days are put back."""
        if cache is not None and method in cache:
            return cache[method]
        s = prep.series
        if method == "combined":
            parts = [self._raw(prep, m, h, cache) for m in self._components()]
            mean = np.mean([p[0] for p in parts], axis=0)
            bands = {
                lv: (
                    np.mean([p[1][lv][0] for p in parts], axis=0),
                    np.mean([p[1][lv][1] for p in parts], axis=0),
                )
                for lv in self.levels_
            }
        else:
            mean, bands = METHODS[method](prep.cleaned, s.weekdays, h, self.levels_)
            if not np.isfinite(mean).all():  # a model that failed on this series
                prep.notes.append(f"{method} gave no forecast; seasonal naive used instead")
                mean, bands = METHODS["seasonal_naive"](prep.cleaned, s.weekdays, h, self.levels_)
        if cache is not None:
            cache[method] = (mean, bands)
        return mean, bands

    def _components(self) -> list[str]:
        return [m for m in self.methods_ if m in COMBINED_FROM]

    def _forecast(
        self,
        prep: _Prepared,
        method: str,
        h: int,
        cache: dict[str, tuple[np.ndarray, Bands]] | None = None,
    ) -> tuple[np.ndarray, Bands]:
        s = prep.series
        mean, bands = self._raw(prep, method, h, cache)
        mean = np.maximum(mean, 0.0)
        bands = {
            lv: (np.nan_to_num(np.maximum(lo, 0.0)), np.nan_to_num(np.maximum(hi, 0.0)))
            for lv, (lo, hi) in bands.items()
        }
        first = s.first_day + s.values.shape[0]
        future = first + np.arange(h)
        fwd = (future.astype(np.int64) + 3) % 7
        mult = np.ones((h, self.per_day_))
        if prep.closed is not None:
            mult[prep.closed[fwd]] = 0.0
        hol = self.calendar_.dates(s.unique_id, future[0], future[-1])
        for k, d in enumerate(future):
            if d in hol:
                mult[k] *= self._holiday_factor(prep, int(fwd[k]))
        if self.events:
            mult *= self._event_factors(s.unique_id, first, h)
        mean = mean * mult
        bands = {lv: (lo * mult, hi * mult) for lv, (lo, hi) in bands.items()}
        return mean, bands

    # -- backtests --------------------------------------------------------------------------
    def _backtest_series(
        self, s: Series, methods: tuple[str, ...], n_windows: int, h: int
    ) -> dict[str, list[dict[str, np.ndarray]]]:
        D = s.values.shape[0]
        out: dict[str, list[dict[str, np.ndarray]]] = {m: [] for m in methods}
        for w in range(n_windows):
            origin = D - (n_windows - w) * h
            train = Series(s.unique_id, s.first_day, s.values[:origin])
            prep = self._prepare(train)
            raw = train.values.ravel()
            lag = 7 * self.per_day_ if origin >= 14 else self.per_day_
            scale = float(np.mean(np.abs(raw[lag:] - raw[:-lag]))) if raw.size > lag else 0.0
            actual = s.values[origin : origin + h]
            cache: dict[str, tuple[np.ndarray, Bands]] = {}
            for m in methods:
                mean, _ = self._forecast(prep, m, h, cache)
                out[m].append(_errors(mean, actual, scale))
        return out

    def _windows_for(self, D: int, n_windows: int, h: int) -> int:
        """Windows that leave at least a week (two with a weekly season) of training."""
        need = 14 if 14 + h <= D else 7
        return max(0, min(n_windows, (D - need) // h))

    def _fit_series(self, s: Series) -> tuple[_Prepared, str, str, list[dict[str, Any]]]:
        """One series: its prepared history, chosen method, note and selection scores."""
        D = s.values.shape[0]
        prep = self._prepare(s)
        notes = list(prep.notes)
        methods = self.methods_
        if D < 14 and any(m in ("mstl", "wfm") for m in methods):
            notes.append(f"{D} days of history: the weekly season needs 14; daily season only")
        h = min(self.selection_horizon, 7)
        windows = self._windows_for(D, self.selection_windows, h)
        rows: list[dict[str, Any]] = []
        if len(methods) == 1:
            chosen = methods[0]
        elif windows == 0:
            chosen = "wfm" if "wfm" in methods else methods[0]
            notes.append(
                f"{D} days of history: too short to backtest; {chosen} used without selection"
            )
        else:
            errs = self._backtest_series(s, methods, windows, h)
            scores = {}
            for m in methods:
                a = sum(float(e["abs"].sum()) for e in errs[m])
                act = sum(float(e["actual"].sum()) for e in errs[m])
                scores[m] = a / act if act > 0 else (0.0 if a == 0 else np.inf)
                rows.append(
                    {"unique_id": s.unique_id, "method": m, "windows": windows, "wape": scores[m]}
                )
            chosen = min(methods, key=lambda m: (scores[m], methods.index(m)))
        return prep, chosen, "; ".join(notes), rows

    def _map(self, func: Callable[[Any], Any], items: list[Any], what: str) -> list[Any]:
        """``func`` over ``items``, in ``n_jobs`` forked processes when asked."""
        jobs = self.n_jobs if self.n_jobs and self.n_jobs > 0 else (os.cpu_count() or 1)
        if jobs <= 1 or len(items) < 2 * jobs:
            out = []
            for i, item in enumerate(items):
                self._say(f"{what} ({i + 1}/{len(items)})")
                out.append(func(item))
            return out
        # statsforecast's ETS optimiser and statsmodels' STL hold the GIL: processes, not
        # threads.  Forked children inherit the fitted state; nothing is pickled but results.
        global _FORKED  # noqa: PLW0603 - handed to forked children, cleared after
        _FORKED = (func, items)
        # A pool of concurrent.futures, not multiprocessing.Pool: a worker that dies or an
        # answer that cannot be unpickled breaks it (BrokenProcessPool) instead of leaving
        # the parent waiting for ever; the first error cancels the items not yet started.
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
                out = []
                try:
                    for i, res in enumerate(
                        pool.map(
                            _call_forked,
                            range(len(items)),
                            chunksize=max(1, len(items) // (8 * jobs)),
                        )
                    ):
                        if i % max(1, len(items) // 50) == 0:
                            self._say(f"{what} ({i + 1}/{len(items)})")
                        out.append(res)
                except BaseException:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
            return out
        finally:
            _FORKED = None

    def fit(self, history: Any) -> VolumeForecaster:
        """Check the history, learn special days, and choose a method per series."""
        self._check()
        frame = as_frame(history)
        self.series_ = series_from_frame(frame, self.minutes_, fill_missing=self.fill_missing)
        fitted = self._map(self._fit_series, self.series_, "fitting")
        self.prepared_: dict[str, _Prepared] = {}
        self.selected_: dict[str, str] = {}
        self.notes_: dict[str, str] = {}
        rows: list[dict[str, Any]] = []
        for s, (prep, chosen, note, r) in zip(self.series_, fitted, strict=True):
            self.prepared_[s.unique_id] = prep
            self.selected_[s.unique_id] = chosen
            if note:
                self.notes_[s.unique_id] = note
            rows.extend(r)
        self.selection_ = pd.DataFrame(rows, columns=["unique_id", "method", "windows", "wape"])
        return self

    def predict(self, horizon: Any = 7, start: Any = None) -> pd.DataFrame:
        """Forecast ``horizon`` days from the day after each series' history (or ``start``).

        Returns ``unique_id``, ``ds`` (local interval start), ``y_hat``,
        ``y_hat_lo_<L>``/``y_hat_hi_<L>`` per level, and ``method``.
        """
        if not hasattr(self, "prepared_"):
            raise InvalidParameterError(
                "VolumeForecaster",
                "not fitted",
                "fitted first",
                "Call .fit(history) before .predict().",
            )
        days = horizon_days(horizon)
        plans = []
        for uid, prep in self.prepared_.items():
            first = prep.series.first_day + prep.series.values.shape[0]
            skip = 0
            if start is not None:
                want = np.datetime64(pd.Timestamp(start).date(), "D")
                skip = int((want - first).astype(np.int64))
                if skip < 0:
                    raise InvalidParameterError(
                        "start",
                        str(start),
                        f"on or after {first} for {uid}",
                        "The forecast starts after the history ends.",
                    )
            plans.append((uid, first, skip))
        jobs = [(self.prepared_[uid], self.selected_[uid], skip + days) for uid, _, skip in plans]
        results = self._map(lambda job: self._forecast(*job), jobs, "forecasting")
        frames = []
        for (uid, first, skip), (mean, bands) in zip(plans, results, strict=True):
            ds = (first + skip).astype("datetime64[m]") + np.arange(
                days * self.per_day_
            ) * np.timedelta64(self.minutes_, "m")
            cols: dict[str, Any] = {
                "unique_id": uid,
                "ds": ds.astype("datetime64[ns]"),
                "y_hat": mean[skip:].ravel(),
            }
            for lv in self.levels_:
                lo, hi = bands[lv]
                cols[f"y_hat_lo_{lv}"] = np.minimum(lo[skip:].ravel(), cols["y_hat"])
                cols[f"y_hat_hi_{lv}"] = np.maximum(hi[skip:].ravel(), cols["y_hat"])
            cols["method"] = self.selected_[uid]
            frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True)

    def backtest(
        self,
        history: Any,
        *,
        n_windows: int = 3,
        horizon: Any = 7,
        methods: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Rolling-origin accuracy per series, method and horizon day.

        The last ``n_windows`` blocks of ``horizon`` days are forecast, each
        from the history before it.  Returns ``unique_id``, ``method``,
        ``horizon`` (``"all"`` or ``"day k"``), ``windows``, ``actual``,
        ``wape``, ``mase`` and ``bias`` (``sum(forecast - actual) /
        sum(actual)``).  With several methods, the ``selected`` rows score in
        each window the method that ``fit`` would have chosen from the history
        before it (by its own inner backtest): the per-queue selection,
        measured honestly.
        """
        self._check(methods)
        h = horizon_days(horizon)
        frame = as_frame(history)
        series = series_from_frame(frame, self.minutes_, fill_missing=self.fill_missing)
        rows: list[dict[str, Any]] = []
        for i, s in enumerate(series):
            D = s.values.shape[0]
            windows = min(n_windows, (D - 7) // h)
            if windows < 1:
                raise InvalidParameterError(
                    "history",
                    f"{s.unique_id}: {D} days",
                    f"at least 7 + {h} days for one backtest window",
                    "Give more history or a shorter horizon.",
                )
            self._say(f"backtesting {s.unique_id} ({i + 1}/{len(series)})")
            errs = self._backtest_series(s, self.methods_, windows, h)
            if len(self.methods_) > 1:
                # what fit() would have chosen on the history before each window (its own
                # inner backtest), scored on that window: the selection, measured honestly
                picked = []
                for w in range(windows):
                    origin = D - (windows - w) * h
                    chosen = self._fit_series(Series(s.unique_id, s.first_day, s.values[:origin]))[
                        1
                    ]
                    picked.append(errs[chosen][w])
                rows.extend(_summarise(s.unique_id, "selected", picked, h))
            for m in self.methods_:
                rows.extend(_summarise(s.unique_id, m, errs[m], h))
        return pd.DataFrame(rows)


def _summarise(
    uid: str, method: str, errs: list[dict[str, np.ndarray]], h: int
) -> list[dict[str, Any]]:
    absum = np.sum([e["abs"] for e in errs], axis=0)
    err = np.sum([e["err"] for e in errs], axis=0)
    act = np.sum([e["actual"] for e in errs], axis=0)
    mase = np.mean([e["mae_scaled"] for e in errs], axis=0)

    def row(label: str, a: float, e: float, t: float, m: float) -> dict[str, Any]:
        return {
            "unique_id": uid,
            "method": method,
            "horizon": label,
            "windows": len(errs),
            "actual": t,
            "wape": a / t if t > 0 else np.nan,
            "mase": m,
            "bias": e / t if t > 0 else np.nan,
        }

    out = [row("all", float(absum.sum()), float(err.sum()), float(act.sum()), float(np.mean(mase)))]
    out.extend(
        row(f"day {k + 1}", float(absum[k]), float(err[k]), float(act[k]), float(mase[k]))
        for k in range(h)
    )
    return out


class HandleTimeForecaster:
    """Average handle time per queue and interval: a time-of-day profile.

    Each interval of the day takes the volume-weighted AHT of the last
    ``weeks`` weeks (each week back weighs ``decay`` times less), shrunk
    towards the queue's overall AHT by ``prior_contacts`` pseudo-contacts,
    so thin intervals do not swing on a handful of contacts.  History columns:
    ``unique_id``, ``ds``, ``aht`` (seconds, null where nothing was handled)
    and ``y`` (the weights: contacts).
    """

    def __init__(
        self,
        interval: str | int = "30min",
        *,
        weeks: int = 6,
        decay: float = 0.8,
        prior_contacts: float = 50.0,
    ) -> None:
        self.interval = interval
        self.weeks = weeks
        self.decay = decay
        self.prior_contacts = prior_contacts

    def fit(self, history: Any) -> HandleTimeForecaster:
        self.minutes_ = interval_minutes(self.interval)
        frame = as_frame(history)
        if "aht" not in frame.columns:
            raise InvalidParameterError(
                "history",
                list(frame.columns),
                "an 'aht' column",
                "Use interval_history(warehouse), which has it.",
            )
        vols = {s.unique_id: s for s in series_from_frame(frame, self.minutes_, fill_missing=0)}
        ahts = series_from_frame(
            frame.assign(aht=frame["aht"].astype(float)),
            self.minutes_,
            column="aht",
            fill_missing=np.nan,
            allow_nan=True,
        )
        self.profiles_: dict[str, np.ndarray] = {}
        self.mean_: dict[str, float] = {}
        self.last_day_: dict[str, np.datetime64] = {}
        for a in ahts:
            v = vols[a.unique_id].values
            A = np.nan_to_num(a.values)
            w_contacts = np.where(np.isnan(a.values), 0.0, v)
            total = w_contacts.sum()
            overall = float((A * w_contacts).sum() / total) if total > 0 else np.nan
            if not np.isfinite(overall):
                raise InvalidParameterError(
                    "history.aht",
                    a.unique_id,
                    "some handled contacts in the history",
                    "Give an AHT for this queue instead.",
                )
            # by time of day over the last weeks (handle time moves with the hour far more
            # than with the weekday, and pooling the days keeps the profile steady)
            idx = np.arange(A.shape[0])[-7 * self.weeks :]
            rec = self.decay ** ((idx[-1] - idx) / 7.0)
            n = (rec[:, None] * w_contacts[idx]).sum(axis=0)
            s = (rec[:, None] * w_contacts[idx] * A[idx]).sum(axis=0)
            prof = np.tile((s + self.prior_contacts * overall) / (n + self.prior_contacts), (7, 1))
            self.profiles_[a.unique_id] = prof
            self.mean_[a.unique_id] = overall
            self.last_day_[a.unique_id] = a.first_day + a.values.shape[0] - 1
        return self

    def predict(self, horizon: Any = 7, start: Any = None) -> pd.DataFrame:
        days = horizon_days(horizon)
        per_day = MINUTES_PER_DAY // self.minutes_
        frames = []
        for uid, prof in self.profiles_.items():
            first = (
                self.last_day_[uid] + 1
                if start is None
                else np.datetime64(pd.Timestamp(start).date(), "D")
            )
            future = first + np.arange(days)
            wd = (future.astype(np.int64) + 3) % 7
            ds = first.astype("datetime64[m]") + np.arange(days * per_day) * np.timedelta64(
                self.minutes_, "m"
            )
            frames.append(
                pd.DataFrame(
                    {
                        "unique_id": uid,
                        "ds": ds.astype("datetime64[ns]"),
                        "aht_hat": prof[wd].ravel(),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)
