"""Templates, rules and agents from plain data (a parsed YAML file, CSV rows).

No file is read here: the CLI reads ``shifts.yaml`` and ``agents.csv`` and
hands the parsed mapping and rows over.  Every error names its path
(``templates[1].breaks[0].window``), the value, the rule and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contactops.errors import InvalidParameterError
from contactops.schedule._roster import RosterWeights
from contactops.schedule._rules import (
    DAY,
    WEEKDAYS,
    Agent,
    Break,
    Costs,
    LaborRules,
    ShiftRules,
    ShiftTemplate,
    start_times,
)
from contactops.units import parse_duration, parse_share

__all__ = ["ScheduleConfig", "agents_from_records", "parse_clock", "parse_days", "read_config"]

_DAYS = {d.lower(): i for i, d in enumerate(WEEKDAYS)}
_DAYS.update(
    {
        "monday": 0,
        "tuesday": 1,
        "wednesday": 2,
        "thursday": 3,
        "friday": 4,
        "saturday": 5,
        "sunday": 6,
    }
)


@dataclass
class ScheduleConfig:
    """Everything ``shifts.yaml`` says."""

    templates: list[ShiftTemplate]
    rules: ShiftRules = field(default_factory=ShiftRules)
    costs: Costs = field(default_factory=Costs)
    regions: dict[str, LaborRules] = field(default_factory=lambda: {"default": LaborRules()})
    weights: RosterWeights = field(default_factory=RosterWeights)
    timezone: str | None = None
    threshold: float | None = None


def parse_clock(value: Any, path: str) -> float:
    """Seconds from midnight of ``"HH:MM"`` (``"24:00"`` and later allowed for night ends)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not m or int(m.group(2)) >= 60:
        raise InvalidParameterError(path, value, "a time of day HH:MM", "e.g. '08:30'.")
    return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0


def _duration(value: Any, path: str) -> float:
    return parse_duration(value, name=path)


def parse_days(value: Any, path: str) -> tuple[int, ...]:
    """Weekdays from ``"Mon-Fri"``, ``"Sat;Sun"``, ``[Mon, Wed]`` or ``[0, 2]``."""
    items: list[Any]
    if isinstance(value, str):
        items = [s for s in re.split(r"[;,\s]+", value.strip()) if s]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise InvalidParameterError(path, value, "weekdays", "e.g. 'Mon-Fri' or [Sat, Sun].")
    out: list[int] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            out.append(item)
            continue
        text = str(item).strip().lower()
        if "-" in text:
            a, b = (t.strip() for t in text.split("-", 1))
            if a not in _DAYS or b not in _DAYS:
                raise InvalidParameterError(path, item, "a range of day names", "e.g. Mon-Fri.")
            d = _DAYS[a]
            while True:
                out.append(d)
                if d == _DAYS[b]:
                    break
                d = (d + 1) % 7
        elif text in _DAYS:
            out.append(_DAYS[text])
        else:
            raise InvalidParameterError(
                path, item, "a day name (Mon ... Sun)", "e.g. 'Mon-Fri' or [Sat, Sun]."
            )
    return tuple(dict.fromkeys(out))


def _keys(m: Any, allowed: set[str], path: str) -> Mapping[str, Any]:
    if not isinstance(m, Mapping):
        raise InvalidParameterError(path, m, "a mapping", "Write it as key: value pairs.")
    for key in m:
        if key not in allowed:
            raise InvalidParameterError(
                f"{path}.{key}",
                m[key],
                "a known field (" + ", ".join(sorted(allowed)) + ")",
                "Check the spelling or remove it.",
            )
    return m


def _starts(raw: Any, path: str) -> tuple[float, ...]:
    if isinstance(raw, Mapping):
        m = _keys(raw, {"from", "to", "every"}, path)
        for key in ("from", "to", "every"):
            if key not in m:
                raise InvalidParameterError(
                    f"{path}.{key}", None, "given", "e.g. {from: '06:00', to: '10:00', every: 30m}."
                )
        return start_times(
            parse_clock(m["from"], f"{path}.from"),
            parse_clock(m["to"], f"{path}.to"),
            _duration(m["every"], f"{path}.every"),
        )
    if isinstance(raw, str | int | float):
        raw = [raw]
    if not isinstance(raw, Sequence):
        raise InvalidParameterError(
            path, raw, "a list of times or {from, to, every}", "e.g. ['07:00', '08:00']."
        )
    return tuple(parse_clock(v, f"{path}[{i}]") for i, v in enumerate(raw))


def _break(raw: Any, path: str) -> Break:
    m = _keys(raw, {"name", "length", "window", "paid", "count"}, path)
    if "length" not in m or "window" not in m:
        raise InvalidParameterError(
            path, dict(m), "with length and window", "e.g. {length: 15m, window: [1h30m, 3h]}."
        )
    window = m["window"]
    if not isinstance(window, Sequence) or isinstance(window, str) or len(window) != 2:
        raise InvalidParameterError(
            f"{path}.window",
            window,
            "[earliest, latest] start after the shift starts",
            "e.g. [1h30m, 3h].",
        )
    paid = m.get("paid", True)
    if not isinstance(paid, bool):
        raise InvalidParameterError(
            f"{path}.paid", paid, "true or false", "Unpaid breaks (lunch) are not paid hours."
        )
    return Break(
        length=_duration(m["length"], f"{path}.length"),
        earliest=_duration(window[0], f"{path}.window[0]"),
        latest=_duration(window[1], f"{path}.window[1]"),
        paid=paid,
        name=str(m.get("name", "break")),
        count=m.get("count", 1),
    )


def _template(raw: Any, path: str) -> ShiftTemplate:
    m = _keys(
        raw, {"name", "length", "starts", "days", "breaks", "cost", "max_per_day", "queues"}, path
    )
    for key in ("name", "length", "starts"):
        if key not in m:
            raise InvalidParameterError(
                f"{path}.{key}", None, "given", "A template needs a name, a length and start times."
            )
    breaks = m.get("breaks") or []
    if not isinstance(breaks, list):
        raise InvalidParameterError(f"{path}.breaks", breaks, "a list", "One item per break.")
    queues = m.get("queues")
    if isinstance(queues, str):
        queues = [queues]
    return ShiftTemplate(
        name=str(m["name"]),
        length=_duration(m["length"], f"{path}.length"),
        starts=_starts(m["starts"], f"{path}.starts"),
        days=parse_days(m["days"], f"{path}.days") if "days" in m else tuple(range(7)),
        breaks=tuple(_break(b, f"{path}.breaks[{i}]") for i, b in enumerate(breaks)),
        cost=m.get("cost", 1.0),
        max_per_day=m.get("max_per_day"),
        queues=None if queues is None else tuple(str(q) for q in queues),
    )


def _labor(raw: Any, path: str) -> LaborRules:
    m = _keys(
        raw,
        {
            "max_consecutive_days",
            "min_rest",
            "max_weekly_hours",
            "paired_days_off",
            "stable_start",
            "soft",
            "soft_weight",
        },
        path,
    )
    kw: dict[str, Any] = {}
    if "max_consecutive_days" in m:
        kw["max_consecutive_days"] = m["max_consecutive_days"]
    if "min_rest" in m:
        kw["min_rest"] = _duration(m["min_rest"], f"{path}.min_rest")
    if "max_weekly_hours" in m:
        kw["max_weekly_hours"] = m["max_weekly_hours"]
    if "paired_days_off" in m:
        kw["paired_days_off"] = bool(m["paired_days_off"])
    if m.get("stable_start") is not None:
        kw["stable_start"] = _duration(m["stable_start"], f"{path}.stable_start")
    if "soft" in m:
        soft = m["soft"]
        kw["soft"] = tuple([soft] if isinstance(soft, str) else soft)
    if "soft_weight" in m:
        kw["soft_weight"] = m["soft_weight"]
    return LaborRules(**kw)


def read_config(data: Any) -> ScheduleConfig:
    """A :class:`ScheduleConfig` from the mapping of a ``shifts.yaml`` file."""
    top = _keys(
        data,
        {"templates", "rules", "costs", "regions", "roster", "timezone", "threshold"},
        "shifts",
    )
    raw = top.get("templates")
    if not isinstance(raw, list) or not raw:
        raise InvalidParameterError(
            "templates", raw, "a non-empty list", "Describe at least one shift template."
        )
    cfg = ScheduleConfig(templates=[_template(t, f"templates[{i}]") for i, t in enumerate(raw)])
    if top.get("rules"):
        r = _keys(
            top["rules"],
            {"wrap", "break_coverage", "max_agents_per_day", "max_paid_hours"},
            "rules",
        )
        kw: dict[str, Any] = dict(r)
        if "break_coverage" in kw and isinstance(kw["break_coverage"], str):
            kw["break_coverage"] = parse_share(kw["break_coverage"], name="rules.break_coverage")
        cfg.rules = ShiftRules(**kw)
    if top.get("costs"):
        cfg.costs = Costs(
            **dict(_keys(top["costs"], {"paid_hour", "short", "over", "min_short_weight"}, "costs"))
        )
    if top.get("regions"):
        regions = top["regions"]
        if not isinstance(regions, Mapping):
            raise InvalidParameterError(
                "regions",
                regions,
                "a mapping region: rules",
                "e.g. {default: {max_consecutive_days: 5}}.",
            )
        cfg.regions = {str(k): _labor(v or {}, f"regions.{k}") for k, v in regions.items()}
    if top.get("roster"):
        cfg.weights = RosterWeights(
            **dict(
                _keys(
                    top["roster"], {"day_off", "contract_hour", "start_hour", "template"}, "roster"
                )
            )
        )
    if top.get("timezone"):
        cfg.timezone = str(top["timezone"])
    if top.get("threshold") is not None:
        cfg.threshold = _duration(top["threshold"], "threshold")
    return cfg


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    return [s.strip() for s in re.split(r"[;|]", str(value)) if s.strip()]


def _availability(value: Any, path: str) -> dict[int, list[tuple[float, float]]] | None:
    """``"Mon-Fri 07:00-19:00; Sat 09:00-13:00"`` (``to`` before ``from``: past midnight)."""
    parts = _split(value)
    if not parts:
        return None
    out: dict[int, list[tuple[float, float]]] = {}
    for part in parts:
        m = re.fullmatch(r"(.+?)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})", part)
        if not m:
            raise InvalidParameterError(
                path, part, "'Days HH:MM-HH:MM'", "e.g. 'Mon-Fri 07:00-19:00; Sat 09:00-13:00'."
            )
        a = parse_clock(m.group(2), path)
        b = parse_clock(m.group(3), path)
        if b <= a:
            b += DAY
        for d in parse_days(m.group(1), path):
            out.setdefault(d, []).append((a, b))
    return out


def agents_from_records(records: Sequence[Mapping[str, Any]]) -> list[Agent]:
    """Agents from rows (e.g. ``agents.csv``): ``agent`` (or ``name``/``id``), ``skills``
    (``a;b``), ``min_hours``, ``max_hours``, ``available``, ``days_off``,
    ``prefer_start``, ``prefer_templates``, ``region``, ``weight``."""
    out = []
    known = {
        "agent",
        "name",
        "id",
        "skills",
        "min_hours",
        "max_hours",
        "available",
        "days_off",
        "prefer_start",
        "prefer_templates",
        "region",
        "weight",
    }
    for i, row in enumerate(records):
        path = f"agents row {i + 2}"
        for key in row:
            if key not in known:
                raise InvalidParameterError(
                    f"{path}.{key}",
                    row[key],
                    "a known column (" + ", ".join(sorted(known)) + ")",
                    "Rename or remove the column.",
                )
        name = row.get("agent") or row.get("name") or row.get("id")
        if name is None or str(name).strip() == "":
            raise InvalidParameterError(
                f"{path}.agent", name, "an agent id", "Fill the agent column."
            )

        def num(key: str, default: float, p: str = path, r: Mapping[str, Any] = row) -> float:
            v = r.get(key)
            if v is None or (isinstance(v, str) and not v.strip()):
                return default
            try:
                return float(v)
            except (TypeError, ValueError) as exc:
                raise InvalidParameterError(f"{p}.{key}", v, "a number", "e.g. 32.") from exc

        prefer = row.get("prefer_start")
        out.append(
            Agent(
                name=str(name).strip(),
                skills=tuple(_split(row.get("skills"))),
                min_hours=num("min_hours", 0.0),
                max_hours=num("max_hours", 40.0),
                available=_availability(row.get("available"), f"{path}.available"),
                days_off=parse_days(row.get("days_off") or [], f"{path}.days_off"),
                prefer_start=None
                if prefer in (None, "")
                else parse_clock(prefer, f"{path}.prefer_start"),
                prefer_templates=tuple(_split(row.get("prefer_templates"))),
                region=str(row.get("region") or "default"),
                weight=num("weight", 1.0),
            )
        )
    return out
