"""Special days: public holidays (the ``holidays`` package) and declared events.

Both are multipliers on a baseline.  In the history they are taken out
before a method is fitted (a holiday day is replaced by the same weekday one
week away; an event's intervals are divided by its factor), so they neither
drag the seasonal pattern nor count as noise; in the forecast they are put
back (a holiday day scaled by its factor, an event's intervals multiplied).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import holidays as holidays_lib
import numpy as np

from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from datetime import date, datetime

__all__ = ["Event", "HolidayCalendar"]


@dataclass(frozen=True)
class Event:
    """A declared event: a launch, a billing run, a seasonal spike.

    ``start``/``end`` are local times (or dates: whole days) of the queue's
    clock, ``end`` exclusive; ``factor`` multiplies the volume of every
    interval starting inside; ``queues`` limits it to some series (default
    all).  Events in the history are divided out before fitting.
    """

    name: str
    start: datetime | date | str
    end: datetime | date | str
    factor: float
    queues: tuple[str, ...] | None = None

    def window(self) -> tuple[np.datetime64, np.datetime64]:
        s = np.datetime64(self.start, "m")
        e = np.datetime64(self.end, "m")
        if e <= s:
            raise InvalidParameterError(
                f"events[{self.name}].end",
                str(self.end),
                f"after start ({self.start})",
                "The end is exclusive; a one-day event on D ends D+1.",
            )
        if not (np.isfinite(self.factor) and self.factor > 0):
            raise InvalidParameterError(
                f"events[{self.name}].factor",
                self.factor,
                "> 0",
                "1.5 means 50% more contacts; 0.5 half.",
            )
        return s, e

    def applies(self, unique_id: str) -> bool:
        return self.queues is None or unique_id in self.queues


class HolidayCalendar:
    """Holiday dates per series from ``holidays`` spec.

    ``spec`` is ``None`` (no holidays), a country code (``"US"``), a
    country with subdivision (``"US-CA"``), a list of dates, or a dict from
    ``unique_id`` to any of those (``"*"`` for the rest).
    """

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self._cache: dict[tuple[str, int], set[np.datetime64]] = {}

    def _for(self, spec: Any, years: range) -> set[np.datetime64]:
        if spec is None:
            return set()
        if isinstance(spec, str):
            out: set[np.datetime64] = set()
            for year in years:
                key = (spec, year)
                if key not in self._cache:
                    country, _, subdiv = spec.partition("-")
                    try:
                        cal = holidays_lib.country_holidays(
                            country, subdiv=subdiv or None, years=[year]
                        )
                    except NotImplementedError as exc:
                        raise InvalidParameterError(
                            "holidays",
                            spec,
                            "an ISO country code, optionally -subdivision",
                            "For example US, US-CA, GB, DE-BY, IL.",
                        ) from exc
                    self._cache[key] = {np.datetime64(d, "D") for d in cal}
                out |= self._cache[key]
            return out
        try:
            return {np.datetime64(d, "D") for d in spec}
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError(
                "holidays",
                spec,
                "a country code, a list of dates, or a dict of them per queue",
                'For example "US" or {"sales": "US-CA"}.',
            ) from exc

    def dates(
        self, unique_id: str, first: np.datetime64, last: np.datetime64
    ) -> set[np.datetime64]:
        spec = self.spec
        if isinstance(spec, dict):
            spec = spec.get(unique_id, spec.get("*"))
        years = range(int(str(first)[:4]), int(str(last)[:4]) + 1)
        return {d for d in self._for(spec, years) if first <= d <= last}
