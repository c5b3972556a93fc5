"""Parse human input at the edges: durations ("30m", "180s", "1h30m") and targets ("80/20").

Inside contactops every duration is seconds (float) and every rate is per
second; these helpers are for the CLI, files and the service only.
"""

from __future__ import annotations

import math
import re

from contactops.errors import InvalidParameterError

__all__ = ["parse_duration", "parse_share", "parse_target"]

_UNITS = {
    "ms": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)", re.IGNORECASE)
_DURATION_HELP = 'Write a number of seconds or a duration such as "180s", "3m", "1h30m", "2.5min".'


def parse_duration(text: str | float | int, *, name: str = "duration",
                   default_unit: str = "s") -> float:
    """Seconds in ``text``: ``"30m"`` -> 1800.0; a bare number is in ``default_unit``.

    ``hh:mm:ss`` and ``mm:ss`` are accepted too.
    """
    if isinstance(text, int | float):
        value = float(text) * _UNITS[default_unit]
        if not math.isfinite(value) or value < 0:
            raise InvalidParameterError(name, text, "a finite duration >= 0", _DURATION_HELP)
        return value
    raw = str(text).strip()
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}(\.\d+)?", raw):
        parts = [float(p) for p in raw.split(":")]
        seconds = 0.0
        for p in parts:
            seconds = seconds * 60.0 + p
        return seconds
    pos = 0
    total = 0.0
    matched = False
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if not m or m.end() == pos:
            break
        unit = (m.group(2) or default_unit).lower()
        if unit not in _UNITS:
            raise InvalidParameterError(name, text, f"a duration with a known unit ({unit!r} "
                                        "is not one)", _DURATION_HELP)
        total += float(m.group(1)) * _UNITS[unit]
        pos = m.end()
        matched = True
    if not matched or raw[pos:].strip():
        raise InvalidParameterError(name, text, "a duration", _DURATION_HELP)
    return total


def parse_share(text: str | float, *, name: str = "share", allow_zero: bool = False) -> float:
    """A share from ``"80%"``, ``"0.8"`` or ``80`` (numbers above 1 are percentages).

    ``allow_zero`` admits 0 (e.g. no shrinkage); 1 (100%) is never a share here.
    """
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise InvalidParameterError(name, text, "a share such as 0.8 or 80%",
                                    "Write a percentage or a fraction.") from None
    if value > 1.0:
        value /= 100.0
    if allow_zero and value == 0.0:
        return 0.0
    if not 0.0 < value < 1.0:
        raise InvalidParameterError(name, text, "strictly between 0% and 100%",
                                    "Write a percentage or a fraction, e.g. 80%.")
    return value


def parse_target(text: str) -> tuple[float, float]:
    """``"80/20"`` -> (0.8, 20.0): service level share and threshold in seconds.

    The threshold may carry a unit: ``"90/30s"``, ``"80/1m"``; the share may be
    a percentage or a fraction: ``"0.8/20"``.
    """
    raw = str(text).strip()
    if raw.count("/") != 1:
        raise InvalidParameterError("target", text, 'of the form "SL/threshold"',
                                    'Write e.g. "80/20": 80% answered within 20 seconds.')
    share_txt, thr_txt = raw.split("/")
    share = parse_share(share_txt.strip(), name="target service level")
    threshold = parse_duration(thr_txt.strip(), name="target threshold")
    return share, threshold
