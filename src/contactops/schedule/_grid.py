"""The requirement on its grid: queues x days x intervals of one length.

Accepts what callers have: an array (days x intervals, or a flat vector with
its interval length), a mapping ``{queue: array}``, or a long frame (Arrow
table or pandas) with ``queue``, ``interval_start`` (UTC) and ``required``
as ``contactops plan`` writes it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from contactops.errors import InvalidParameterError
from contactops.schedule._rules import DAY, ScheduleWarning

__all__ = ["DEFAULT_START", "Requirement", "as_requirement"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# a Monday, as the simulator's default start
DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Requirement:
    """Agents required per queue, day and interval (shrinkage included).

    ``values`` has shape ``(queues, days, intervals_per_day)``; ``start`` is
    the (time-zone aware) local midnight of the first day; ``shape`` is the
    shape the caller gave, so results come back like the input.
    """

    queues: tuple[str, ...]
    values: FloatArray
    interval: float
    start: datetime
    shape: tuple[int, ...]

    @property
    def days(self) -> int:
        return int(self.values.shape[1])

    @property
    def per_day(self) -> int:
        return int(self.values.shape[2])

    @property
    def horizon(self) -> int:
        """Intervals in the horizon (days x intervals per day)."""
        return self.days * self.per_day

    def weekday(self, day: int) -> int:
        return (self.start.weekday() + day) % 7

    def flat(self) -> FloatArray:
        """``(queues, horizon)``."""
        return self.values.reshape(len(self.queues), -1)

    def like_input(self, arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """An array shaped ``(queues, days, intervals)`` back in the caller's shape."""
        return arr.reshape(self.shape)

    def interval_starts_utc(self) -> list[datetime]:
        base = self.start.astimezone(UTC)
        step = timedelta(seconds=self.interval)
        return [base + k * step for k in range(self.horizon)]


def _check_interval(interval: Any, name: str = "interval") -> float:
    try:
        v = float(interval)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and 0 < v <= DAY) or abs(DAY / v - round(DAY / v)) > 1e-9:
        raise InvalidParameterError(
            name,
            interval,
            "a whole fraction of a day in seconds (e.g. 900 or 1800)",
            "Use 15- or 30-minute intervals.",
        )
    return v


def _check_values(arr: FloatArray, name: str) -> None:
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidParameterError(
            f"{name}{list(idx)}",
            arr[idx].item(),
            "a finite number of agents >= 0",
            "Fill missing intervals with 0.",
        )


def _as_start(start: Any) -> datetime:
    if start is None:
        return DEFAULT_START
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start)
        except ValueError as exc:
            raise InvalidParameterError(
                "start", start, "an ISO date-time", "e.g. '2026-01-05T00:00:00+00:00'."
            ) from exc
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise InvalidParameterError(
            "start",
            start,
            "a time-zone aware datetime at midnight",
            "e.g. datetime(2026, 1, 5, tzinfo=UTC).",
        )
    if start.hour or start.minute or start.second or start.microsecond:
        raise InvalidParameterError(
            "start",
            start.isoformat(),
            "a local midnight",
            "The horizon starts at the beginning of its first day.",
        )
    return start


def _grid(arr: FloatArray, interval: float | None, name: str) -> tuple[FloatArray, float]:
    """``arr`` as ``(days, per_day)`` and the interval length."""
    if arr.ndim == 2:
        per_day = arr.shape[1]
        iv = DAY / per_day if interval is None else _check_interval(interval)
        if abs(iv * per_day - DAY) > 1e-6:
            raise InvalidParameterError(
                f"{name} shape",
                arr.shape,
                f"days x intervals a day ({DAY / iv:g} intervals of {iv:g} s)",
                "Give one row per day and one column per interval of the day.",
            )
        return arr, iv
    if arr.ndim == 1:
        if interval is None:
            raise InvalidParameterError(
                "interval",
                None,
                "given with a flat requirement",
                "Say the interval length in seconds, e.g. 900, or give days x intervals.",
            )
        iv = _check_interval(interval)
        per_day = round(DAY / iv)
        if arr.size == 0 or arr.size % per_day:
            raise InvalidParameterError(
                f"{name} length",
                arr.size,
                f"a whole number of days ({per_day} intervals each)",
                "Pad the last day with zeros.",
            )
        return arr.reshape(-1, per_day), iv
    raise InvalidParameterError(
        f"{name} shape",
        arr.shape,
        "days x intervals or a flat vector",
        "One queue per array; use a mapping for several queues.",
    )


def as_requirement(
    requirement: Any,
    *,
    interval: float | None = None,
    start: datetime | str | None = None,
    timezone: str | None = None,
    queue: str = "queue",
) -> Requirement:
    """Normalise ``requirement`` to a :class:`Requirement`.

    Parameters
    ----------
    requirement
        ``(days, intervals)`` array, a flat array (with ``interval``), a
        ``(queues, days, intervals)`` array, ``{queue: array}``, a
        :class:`Requirement`, or a long frame with ``interval_start`` and
        ``required`` (and ``queue``).
    interval
        Interval length in seconds (inferred from a 2-D array or a frame).
    start
        Local midnight of the first day, time-zone aware (default: Monday
        2026-01-05 UTC); for frames it comes from the data.
    timezone
        IANA zone whose clock the templates' start times use (frames only;
        default UTC).  Time-zone aware ``interval_start`` is converted to it;
        naive timestamps are taken as that clock's wall time.
    queue
        Name of the single queue of an array.
    """
    if isinstance(requirement, Requirement):
        return requirement
    if hasattr(requirement, "column_names") or hasattr(requirement, "columns"):
        return _from_frame(requirement, timezone=timezone, interval=interval)
    begin = _as_start(start)
    if isinstance(requirement, Mapping):
        if not requirement:
            raise InvalidParameterError(
                "requirement", {}, "at least one queue", "Give {queue: days x intervals}."
            )
        grids = []
        iv: float | None = interval
        for name, arr in requirement.items():
            a = np.asarray(arr, dtype=np.float64)
            g, iv2 = _grid(a, iv, f"requirement[{name!r}]")
            if iv is not None and abs(iv2 - iv) > 1e-9:
                raise InvalidParameterError(
                    f"requirement[{name!r}]",
                    a.shape,
                    f"the same interval as the others ({iv:g} s)",
                    "Put every queue on one grid.",
                )
            iv = iv2
            grids.append(g)
        if len({g.shape for g in grids}) > 1:
            raise InvalidParameterError(
                "requirement",
                [g.shape for g in grids],
                "every queue over the same days",
                "Pad the shorter queues with zeros.",
            )
        values = np.stack(grids)
        _check_values(values, "requirement")
        assert iv is not None
        return Requirement(tuple(str(k) for k in requirement), values, iv, begin, values.shape)
    try:
        arr = np.asarray(requirement, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "requirement",
            type(requirement).__name__,
            "an array, a mapping or a frame",
            "Give agents per interval as numbers.",
        ) from exc
    if arr.ndim == 3:
        iv = DAY / arr.shape[2] if interval is None else _check_interval(interval)
        if abs(iv * arr.shape[2] - DAY) > 1e-6:
            raise InvalidParameterError(
                "requirement shape",
                arr.shape,
                "queues x days x intervals a day",
                "Fix the last axis.",
            )
        _check_values(arr, "requirement")
        names = tuple(f"{queue}{k}" for k in range(arr.shape[0])) if arr.shape[0] > 1 else (queue,)
        return Requirement(names, arr, iv, begin, arr.shape)
    grid, iv = _grid(arr, interval, "requirement")
    _check_values(grid, "requirement")
    return Requirement((queue,), grid[None], iv, begin, arr.shape)


def _from_frame(frame: Any, *, timezone: str | None, interval: float | None) -> Requirement:
    import pyarrow as pa  # noqa: PLC0415  (only frames need Arrow)

    table = frame if hasattr(frame, "column_names") else pa.Table.from_pandas(frame)
    for col in ("interval_start", "required"):
        if col not in table.column_names:
            raise InvalidParameterError(
                "requirement columns",
                table.column_names,
                f"to include {col!r}",
                "contactops plan writes queue, interval_start, required.",
            )
    if table.num_rows == 0:
        raise InvalidParameterError(
            "requirement", "0 rows", "at least one row", "The plan is empty."
        )
    ts_col = table.column("interval_start")
    if not pa.types.is_timestamp(ts_col.type):
        raise InvalidParameterError(
            "interval_start",
            str(ts_col.type),
            "a timestamp column",
            "Write timestamps (UTC), not text.",
        )
    unit = ts_col.type.unit
    scale = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    raw = ts_col.cast(pa.int64()).to_numpy(zero_copy_only=False)
    if ts_col.null_count:
        raise InvalidParameterError(
            "interval_start", None, "set on every row", "Drop or fill the rows without a time."
        )
    secs = raw.astype(np.float64) / scale
    req_col = table.column("required")
    if req_col.null_count:
        raise InvalidParameterError(
            "required", None, "set on every row", "Fill the missing requirement with 0."
        )
    req = req_col.to_numpy(zero_copy_only=False).astype(np.float64)
    if "queue" in table.column_names:
        qcol = [str(q) for q in table.column("queue").to_pylist()]
    else:
        qcol = ["queue"] * table.num_rows
    try:
        tz = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidParameterError(
            "timezone", timezone, "an IANA time zone", "e.g. 'Europe/Paris' or 'UTC'."
        ) from exc
    uniq = np.unique(secs)
    if interval is None:
        diffs = np.diff(uniq)
        if diffs.size == 0:
            raise InvalidParameterError(
                "interval_start",
                "one time",
                "two or more intervals",
                "Give the interval length (interval=900).",
            )
        iv = _check_interval(float(np.round(diffs.min(), 6)), "interval (from interval_start)")
    else:
        iv = _check_interval(interval)
    if ts_col.type.tz is None:
        # wall-clock times: already on the local clock of ``timezone``
        naive0 = datetime.fromtimestamp(float(uniq[0]), UTC).replace(tzinfo=None)
        offset = tz.utcoffset(naive0) or timedelta(0)
        local = secs
    else:
        first = datetime.fromtimestamp(float(uniq[0]), UTC).astimezone(tz)
        last = datetime.fromtimestamp(float(uniq[-1]), UTC).astimezone(tz)
        offset = first.utcoffset() or timedelta(0)
        if (last.utcoffset() or timedelta(0)) != offset:
            warnings.warn(
                f"timezone {tz.key}: the UTC offset changes within the plan ({offset} to "
                f"{last.utcoffset()}); the whole horizon uses the first offset, so start "
                "times are off by the difference after the change. Schedule the weeks "
                "either side separately.",
                ScheduleWarning,
                stacklevel=3,
            )
        local = secs + offset.total_seconds()
    day0 = math.floor(local.min() / DAY) * DAY
    off = (local - day0) / iv
    k = np.round(off).astype(np.int64)
    if np.abs(off - k).max() > 1e-6:
        i = int(np.argmax(np.abs(off - k)))
        raise InvalidParameterError(
            "interval_start",
            str(table.column("interval_start")[i]),
            f"on the {iv:g}-second grid from local midnight",
            "Align every interval to the grid.",
        )
    per_day = round(DAY / iv)
    days = int(k.max() // per_day + 1)
    names = list(dict.fromkeys(qcol))
    qi = (
        np.array([names.index(q) for q in qcol])
        if len(names) > 1
        else np.zeros(len(qcol), np.int64)
    )
    values = np.zeros((len(names), days * per_day))
    if len(set(zip(qi.tolist(), k.tolist(), strict=True))) < len(k):
        raise InvalidParameterError(
            "requirement rows",
            "duplicates",
            "one row per queue and interval_start",
            "Aggregate the duplicate rows first.",
        )
    values[qi, k] = req
    _check_values(values, "required")
    start = datetime.fromtimestamp(day0 - offset.total_seconds(), UTC).astimezone(tz)
    grid = values.reshape(len(names), days, per_day)
    return Requirement(tuple(names), grid, iv, start, grid.shape)
