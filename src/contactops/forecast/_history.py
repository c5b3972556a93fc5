"""History in the shape the methods need: per series, whole days x intervals.

A long frame (``unique_id``, ``ds``, ``y``; statsforecast's convention, with
``ds`` the interval start in the queue's local time, naive) is checked and
folded into one ``days x intervals-per-day`` matrix per series.  Intervals of
the first and last day outside the rows given are closed hours (zero): that is
what ``contactops.metrics.interval_history`` means by them.  A gap strictly
inside the span is an error unless ``fill_missing`` says what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from contactops.errors import InvalidParameterError
from contactops.units import parse_duration

__all__ = ["Series", "as_frame", "interval_minutes", "series_from_frame"]

MINUTES_PER_DAY = 1440


def interval_minutes(interval: Any) -> int:
    """``"30min"``, ``"15m"``, ``"1h"``, ``"60min"`` or minutes as a number -> 15, 30 or 60."""
    try:
        minutes = parse_duration(interval, name="interval", default_unit="min") / 60.0
    except InvalidParameterError:
        minutes = -1.0
    if minutes not in (15.0, 30.0, 60.0):
        raise InvalidParameterError(
            "interval", interval, "15, 30 or 60 minutes", 'Write e.g. "30min", "15min" or "1h".'
        )
    return int(minutes)


def as_frame(data: Any, name: str = "history") -> pd.DataFrame:
    """A pandas frame from a pandas frame or an Arrow table."""
    if isinstance(data, pd.DataFrame):
        return data
    if hasattr(data, "to_pandas"):
        return data.to_pandas()
    raise InvalidParameterError(
        name,
        type(data).__name__,
        "a pandas DataFrame or an Arrow table",
        "Pass interval_history(warehouse) or a long frame with unique_id, ds, y.",
    )


@dataclass
class Series:
    """One series: ``values[d, p]`` is interval ``p`` of day ``first_day + d``."""

    unique_id: str
    first_day: np.datetime64  # datetime64[D]
    values: np.ndarray  # float64, days x per_day

    @property
    def days(self) -> np.ndarray:
        return self.first_day + np.arange(self.values.shape[0])

    @property
    def weekdays(self) -> np.ndarray:
        """Monday = 0 ... Sunday = 6, per day."""
        return (self.days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def series_from_frame(
    frame: pd.DataFrame,
    minutes: int,
    *,
    column: str = "y",
    fill_missing: float | None = None,
    allow_nan: bool = False,
) -> list[Series]:
    """Check a long frame and fold each ``unique_id`` into a :class:`Series`."""
    for col in ("unique_id", "ds", column):
        if col not in frame.columns:
            raise InvalidParameterError(
                "history",
                list(frame.columns),
                f"a long frame with a '{col}' column",
                "Columns: unique_id (queue), ds (interval start, "
                "local time), y (offered contacts).",
            )
    if frame.empty:
        raise InvalidParameterError(
            "history",
            "0 rows",
            "at least one day of intervals",
            "The history is empty; ingest data first.",
        )
    ds = pd.to_datetime(frame["ds"])
    if getattr(ds.dt, "tz", None) is not None:
        raise InvalidParameterError(
            "history.ds",
            str(ds.iloc[0]),
            "naive local times (the queue's own clock)",
            "Convert with ds.dt.tz_convert(tz).dt.tz_localize(None).",
        )
    stamp = ds.to_numpy().astype("datetime64[m]")
    minute_of_day = (stamp - stamp.astype("datetime64[D]")).astype(np.int64)
    off_grid = minute_of_day % minutes != 0
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        raise InvalidParameterError(
            "history.ds",
            str(ds.iloc[i]),
            f"on the {minutes}-minute grid",
            "Bucket the history to the forecast interval first.",
        )
    y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(y) if not allow_nan else np.isinf(y)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidParameterError(
            f"history.{column}",
            frame[column].iloc[i],
            "a finite number",
            f"Row {i} ({frame['unique_id'].iloc[i]}, {ds.iloc[i]}); drop or fill it.",
        )
    negative = y < 0
    if negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise InvalidParameterError(
            f"history.{column}",
            float(y[i]),
            ">= 0",
            f"Row {i} ({frame['unique_id'].iloc[i]}, {ds.iloc[i]}): "
            "counts and durations cannot be negative.",
        )
    per_day = MINUTES_PER_DAY // minutes
    codes, uniques = pd.factorize(frame["unique_id"].astype(str), sort=False)
    # one sort by (series, time) and a split, rather than a scan of every row per series
    order = np.lexsort((stamp, codes))
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    out = []
    for idx in np.split(order, bounds):
        uid = uniques[codes[idx[0]]]
        st, vals = stamp[idx], y[idx]
        dup = np.flatnonzero(st[1:] == st[:-1])
        if dup.size:
            raise InvalidParameterError(
                "history",
                f"{uid} at {st[dup[0]]}",
                "one row per unique_id and interval",
                "Duplicated intervals: sum or drop the repeats first.",
            )
        first = st[0].astype("datetime64[D]")
        slot = ((st - first.astype("datetime64[m]")).astype(np.int64)) // minutes
        n_days = int(slot[-1] // per_day) + 1
        grid = np.full(n_days * per_day, np.nan)
        grid[slot] = vals
        # closed before the first and after the last row of the span's end days
        grid[: slot[0]] = 0.0
        grid[slot[-1] + 1 :] = 0.0
        missing = np.isnan(grid) if not allow_nan else np.zeros(grid.size, bool)
        if missing.any():
            if fill_missing is None:
                k = int(np.flatnonzero(missing)[0])
                when = first.astype("datetime64[m]") + np.timedelta64(k * minutes, "m")
                raise InvalidParameterError(
                    "history",
                    f"{uid}: {int(missing.sum())} missing intervals, first {when}",
                    "every interval between the first and the last present",
                    "Pass fill_missing=0 if absent intervals had no contacts, or fill them.",
                )
            grid[missing] = fill_missing
        out.append(Series(str(uid), first, grid.reshape(n_days, per_day)))
    return out
