"""Parse human input at the edges: durations ("30m", "180s", "1h30m"), shares ("80%"),
targets ("80/20") and time zones ("Asia/Jerusalem").

Inside contactops every duration is seconds (float) and every rate is per
second; these helpers are for the CLI, files and the service only.

Shares follow one rule everywhere: ``"80%"``, ``"0.8"`` and ``80`` all mean
0.8.  A number with ``%`` is a percentage; a bare number from 0 to 1 is a
fraction; a bare number above 1 (up to 100) is a percentage (so the usual
``80/20`` target reads as 80%).  Whatever was written, a share outside its
allowed range is refused, naming the option: ``130%`` is never read as 1.3%.
"""

from __future__ import annotations

import math
import re

from contactops.errors import InvalidParameterError

__all__ = ["check_timezone", "parse_duration", "parse_share", "parse_target"]

_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)", re.IGNORECASE)
_DURATION_HELP = 'Write a number of seconds or a duration such as "180s", "3m", "1h30m", "2.5min".'


def parse_duration(
    text: str | float | int, *, name: str = "duration", default_unit: str = "s"
) -> float:
    """Seconds in ``text``: ``"30m"`` -> 1800.0; a bare number is in ``default_unit``.

    ``hh:mm:ss`` and ``mm:ss`` are accepted too.  The result is finite and
    >= 0; anything else (``"-5s"``, ``"1e999"``, ``"3 parsecs"``, ``None``) is
    an :class:`~contactops.errors.InvalidParameterError` naming ``name``.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise InvalidParameterError(name, text, "a duration", _DURATION_HELP)
    if isinstance(text, int | float):
        try:
            value = float(text) * _UNITS[default_unit]
        except OverflowError:
            value = math.inf
        if not math.isfinite(value) or value < 0:
            raise InvalidParameterError(name, text, "a finite duration >= 0", _DURATION_HELP)
        return value
    raw = text.strip()
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}(\.\d+)?", raw):
        seconds = 0.0
        for p in raw.split(":"):
            seconds = seconds * 60.0 + float(p)
        if not math.isfinite(seconds):
            raise InvalidParameterError(name, text, "a finite duration >= 0", _DURATION_HELP)
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
            raise InvalidParameterError(
                name, text, f"a duration with a known unit ({unit!r} is not one)", _DURATION_HELP
            )
        total += float(m.group(1)) * _UNITS[unit]
        pos = m.end()
        matched = True
    if not matched or raw[pos:].strip():
        raise InvalidParameterError(name, text, "a duration", _DURATION_HELP)
    if not math.isfinite(total):
        raise InvalidParameterError(name, text, "a finite duration >= 0", _DURATION_HELP)
    return total


def _share_value(text: object) -> float | None:
    """The share ``text`` stands for under the module's one rule, or None if unreadable."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        value = float(text)
        percent = False
    elif isinstance(text, str):
        raw = text.strip()
        percent = raw.endswith("%")
        if percent:
            raw = raw[:-1].strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", raw):
            return None  # no "nan", "inf", "1_000" or words
        value = float(raw)
    else:
        return None
    if not math.isfinite(value):
        return None
    if percent or value > 1.0:  # "80%", or a bare 80: a percentage, divided once
        value /= 100.0
    return value


def parse_share(text: str | float, *, name: str = "share", allow_zero: bool = False) -> float:
    """A share from ``"80%"``, ``"0.8"`` or ``80``: all three are 0.8.

    A number with ``%`` is a percentage; a bare number from 0 to 1 is a
    fraction, a bare number above 1 a percentage.  The share must lie strictly
    between 0 and 1; ``allow_zero`` admits 0 (e.g. no shrinkage).  Anything
    outside is refused, naming ``name``: ``"130%"``, ``"100%"``, ``"150"``,
    ``"-5%"``.
    """
    value = _share_value(text)
    rule = "0% or strictly between 0% and 100%" if allow_zero else "strictly between 0% and 100%"
    if value is None:
        raise InvalidParameterError(
            name,
            text,
            f"a share {rule}, such as 30% or 0.3",
            "Write a percentage (30%) or a fraction (0.3).",
        )
    if allow_zero and value == 0.0:
        return 0.0
    if not 0.0 < value < 1.0:
        raise InvalidParameterError(
            name, text, f"a share {rule}", f"It reads as {100 * value:g}%; write e.g. 30% or 0.3."
        )
    return value


_TARGET_HELP = 'Write e.g. "80/20": 80% answered within 20 seconds (or "90%/30s", "0.8/1m").'


def parse_target(text: str, *, name: str = "target") -> tuple[float, float]:
    """``"80/20"`` -> (0.8, 20.0): service level share and threshold in seconds.

    The threshold may carry a unit: ``"90/30s"``, ``"80/1m"``; the share
    follows :func:`parse_share`'s rule: ``"0.8/20"`` and ``"80%/20"`` are
    ``"80/20"``.  Errors name ``name`` and the whole text.
    """
    raw = str(text).strip()
    if not isinstance(text, str) or raw.count("/") != 1:
        raise InvalidParameterError(name, text, 'of the form "SL/threshold"', _TARGET_HELP)
    share_txt, thr_txt = raw.split("/")
    share = _share_value(share_txt)
    if share is None or not 0.0 < share < 1.0:
        shown = "" if share is None else f" (it reads as {100 * share:g}%)"
        raise InvalidParameterError(
            name,
            text,
            'of the form "SL/threshold" with the service level strictly between '
            f"0% and 100%{shown}",
            _TARGET_HELP,
        )
    try:
        threshold = parse_duration(thr_txt.strip(), name=name)
    except InvalidParameterError:
        raise InvalidParameterError(
            name,
            text,
            'of the form "SL/threshold" with the threshold a duration >= 0',
            _TARGET_HELP,
        ) from None
    return share, threshold


def check_timezone(text: object, *, name: str = "timezone") -> str:
    """``text`` if it names an IANA time zone, else an error that suggests one.

    ``"Jerusalem"`` and ``"asia/jerusalem"`` are refused with the fix "Did you
    mean Asia/Jerusalem?": the last part of every zone name is matched without
    regard to case, then near misses (``difflib``).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # noqa: PLC0415

    if isinstance(text, str) and text.strip() == text and text:
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
            pass
        else:
            return text
    guesses = _zone_guesses(str(text)) if isinstance(text, str) else []
    fix = ("Did you mean " + " or ".join(guesses) + "? " if guesses else "") + (
        "Time zones are IANA names such as UTC, Europe/London or Asia/Jerusalem."
    )
    raise InvalidParameterError(name, text, "an IANA time zone name (Area/City)", fix)


def _zone_guesses(text: str, limit: int = 3) -> list[str]:
    """IANA names the user probably meant by ``text``."""
    import difflib  # noqa: PLC0415
    from zoneinfo import available_timezones  # noqa: PLC0415

    zones = sorted(available_timezones())
    key = text.strip().lower().replace(" ", "_")
    if not key:
        return []
    exact = [z for z in zones if z.lower() == key]
    if exact:
        return exact[:limit]
    last = [z for z in zones if z.rsplit("/", 1)[-1].lower() == key.rsplit("/", 1)[-1]]
    if last:
        return sorted(last, key=lambda z: (z.count("/"), z))[:limit]
    by_last: dict[str, list[str]] = {}
    for z in zones:
        by_last.setdefault(z.rsplit("/", 1)[-1].lower(), []).append(z)
    close = difflib.get_close_matches(key.rsplit("/", 1)[-1], list(by_last), n=limit, cutoff=0.8)
    out = [z for c in close for z in by_last[c]]
    if not out:
        lowered = {z.lower(): z for z in zones}
        out = [
            lowered[c] for c in difflib.get_close_matches(key, list(lowered), n=limit, cutoff=0.8)
        ]
    return out[:limit]
