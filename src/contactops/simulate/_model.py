"""Plain dataclasses that describe a contact center for the simulator.

Everything is in seconds and contacts per second, as across contactops;
:func:`load_center` reads the same structure from a YAML/JSON mapping and
names the path of anything wrong (``queues[2].patience.mean``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contactops.errors import InvalidParameterError
from contactops.simulate._distributions import Beta, Distribution, Exponential, parse_distribution

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "AgentGroup",
    "Bot",
    "Center",
    "Queue",
    "Scenario",
    "load_center",
]

CHANNELS = ("voice", "chat", "email", "message", "callback", "ticket")


@dataclass
class Bot:
    """Self-service in front of a queue.

    A share of the queue's contacts meets the bot first.  Each gets an intent
    confidence; below ``threshold`` the bot hands the contact to a human queue
    (``escalate_to``, by default the same queue) with context, which scales
    the human handle time by ``context_factor``; at or above it the bot
    contains the contact, and ``repeat_share`` of those come back after
    ``repeat_delay`` as a new contact from the same customer.
    """

    share: float
    confidence: Distribution = field(default_factory=lambda: Beta(6.0, 1.5))
    threshold: float = 0.85
    handle_time: Distribution = field(default_factory=lambda: Exponential(90.0))
    context_factor: float = 0.85
    repeat_share: float = 0.0
    repeat_delay: Distribution = field(default_factory=lambda: Exponential(4 * 3600.0))
    escalate_to: str | None = None


@dataclass
class Queue:
    """One queue (channel, skill or segment) and its demand.

    Give exactly one of ``arrival_rate`` (contacts per second: one number, or
    one per interval), ``volume`` (contacts per interval, one per interval)
    or ``trace`` (arrival times in seconds from the start, replayed as is).
    ``handle_time`` and ``patience`` take a :class:`Distribution` or a mean in
    seconds (exponential); ``patience=None`` means nobody abandons.
    ``transfers`` maps another queue's name to the probability that an
    answered contact is handed there afterwards (same initial contact id).
    """

    name: str
    arrival_rate: float | Sequence[float] | np.ndarray | None = None
    handle_time: Distribution | float = 300.0
    patience: Distribution | float | None = None
    volume: Sequence[float] | np.ndarray | None = None
    trace: Sequence[float] | np.ndarray | None = None
    channel: str = "voice"
    segment: str | None = None
    priority: int = 0
    redial_probability: float = 0.0
    redial_delay: Distribution | float = 600.0
    bot: Bot | None = None
    transfers: Mapping[str, float] = field(default_factory=dict)
    service_level_threshold: float = 20.0
    short_abandon: float = 5.0
    max_queue: int | None = None


@dataclass
class AgentGroup:
    """Agents with the same skills and the same staffing.

    ``staffing`` is the number of agents scheduled: one number, or one per
    interval (a day, repeated, or the whole horizon).  ``skills`` lists the
    queues they serve, most preferred first, or maps queue name to a rank
    (1 = preferred; equal ranks are equally preferred).  ``concurrency`` is
    how many contacts one agent holds at once (chat); ``stretch`` gives the
    handle-time multiplier at each concurrency level 1..m (default: none).
    ``shrinkage`` is the share of scheduled agents not available.
    ``shifts`` adds agents by shift at exact times: ``(start, end, agents)``
    in seconds from the start of the day, repeated every day (``end`` may
    pass midnight); a schedule with breaks is several shifts.
    """

    name: str
    staffing: int | Sequence[int] | np.ndarray = 0
    skills: Sequence[str] | Mapping[str, int] = ()
    concurrency: int = 1
    stretch: Sequence[float] | None = None
    shrinkage: float = 0.0
    shifts: Sequence[tuple[float, float, int]] = ()


@dataclass
class Scenario:
    """A stress test laid over a center.

    Windows are ``(start, end)`` in seconds from the start of the run.
    ``volume`` items: ``{"queue": name or "*", "start": s, "end": s,
    "factor": x}`` multiply arrival rates (at interval granularity).
    ``outages``: ``{"group": name, "start": s, "end": s}``: nobody of the
    group is available.  ``reassign``: ``{"from": g1, "to": g2, "agents": n,
    "start": s, "end": s}``.  ``absenteeism``: ``{"group": name or "*",
    "share": x}``: that share of scheduled agents does not show up.
    """

    name: str = "scenario"
    volume: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)
    reassign: list[dict[str, Any]] = field(default_factory=list)
    absenteeism: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Center:
    """A contact center: queues, agent groups and the interval length."""

    queues: list[Queue]
    groups: list[AgentGroup]
    interval: float = 1800.0
    start: str = "2026-01-05T00:00:00+00:00"
    scenario: Scenario | None = None


# ---------------------------------------------------------------------------
# reading scenario files


def _get(m: Mapping[str, Any], key: str, path: str, default: Any = ...) -> Any:
    if key in m:
        return m[key]
    if default is ...:
        raise InvalidParameterError(f"{path}.{key}", None, "given", f"Add '{key}' to {path}.")
    return default


def _check_keys(m: Any, allowed: set[str], path: str) -> Mapping[str, Any]:
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


def _seconds(value: Any, path: str) -> float:
    from contactops.units import parse_duration  # noqa: PLC0415

    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        day = 0
        if text[:1] in "dD" and " " in text:
            head, text = text.split(None, 1)
            try:
                day = int(head[1:]) - 1
            except ValueError:
                day = -1
            if day < 0:
                raise InvalidParameterError(
                    path,
                    value,
                    "'dN HH:MM' with N >= 1",
                    "e.g. 'd2 10:30' for the second day at 10:30.",
                )
        clock = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
        if clock:  # a time of day: HH:MM[:SS]
            h, m, sec = (int(x or 0) for x in clock.groups())
            return day * 86400.0 + h * 3600.0 + m * 60.0 + sec
        try:
            return day * 86400.0 + parse_duration(text)
        except ValueError as exc:
            raise InvalidParameterError(
                path, value, "seconds, a duration or 'dN HH:MM'", "e.g. 36000, '10h' or 'd1 10:00'."
            ) from exc
    raise InvalidParameterError(
        path, value, "seconds, a duration or 'dN HH:MM'", "e.g. 36000, '10h' or 'd1 10:00'."
    )


def load_center(source: str | Path | Mapping[str, Any]) -> Center:
    """Read a center (and its scenario) from a YAML file or a mapping.

    Every field is checked before anything runs; an error names its path,
    e.g. ``queues[2].patience.mean``.
    """
    if isinstance(source, str | Path):
        import yaml  # noqa: PLC0415  (only the file reader needs it)

        path = Path(source)
        if not path.exists():
            raise InvalidParameterError(
                "scenario", str(path), "an existing file", "Check the path."
            )
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InvalidParameterError("scenario", str(path), "valid YAML", str(exc)) from exc
    else:
        data = source
    top = _check_keys(data, {"queues", "groups", "interval", "start", "scenario"}, "center")
    queues_raw = _get(top, "queues", "center")
    groups_raw = _get(top, "groups", "center")
    if not isinstance(queues_raw, list) or not queues_raw:
        raise InvalidParameterError("queues", queues_raw, "a non-empty list", "Add a queue.")
    if not isinstance(groups_raw, list) or not groups_raw:
        raise InvalidParameterError("groups", groups_raw, "a non-empty list", "Add an agent group.")
    queues = [_read_queue(q, f"queues[{i}]") for i, q in enumerate(queues_raw)]
    groups = [_read_group(g, f"groups[{i}]") for i, g in enumerate(groups_raw)]
    interval = _seconds(top.get("interval", 1800.0), "interval")
    scenario = _read_scenario(top["scenario"], "scenario") if top.get("scenario") else None
    center = Center(
        queues=queues,
        groups=groups,
        interval=interval,
        start=str(top.get("start", Center.start)),
        scenario=scenario,
    )
    from contactops.simulate._compile import validate  # noqa: PLC0415  (avoids a cycle)

    validate(center, days=None)
    return center


def _read_queue(raw: Any, path: str) -> Queue:
    m = _check_keys(
        raw,
        {
            "name",
            "arrival_rate",
            "volume",
            "trace",
            "handle_time",
            "patience",
            "channel",
            "segment",
            "priority",
            "redial_probability",
            "redial_delay",
            "bot",
            "transfers",
            "service_level_threshold",
            "short_abandon",
            "max_queue",
        },
        path,
    )
    bot = None
    if m.get("bot") is not None:
        b = _check_keys(
            m["bot"],
            {
                "share",
                "confidence",
                "threshold",
                "handle_time",
                "context_factor",
                "repeat_share",
                "repeat_delay",
                "escalate_to",
            },
            f"{path}.bot",
        )
        bot = Bot(share=_get(b, "share", f"{path}.bot"))
        if "confidence" in b:
            bot.confidence = parse_distribution(
                b["confidence"], f"{path}.bot.confidence", probability=True
            )  # type: ignore[assignment]
        for key in ("threshold", "context_factor", "repeat_share", "escalate_to"):
            if key in b:
                setattr(bot, key, b[key])
        for key in ("handle_time", "repeat_delay"):
            if key in b:
                setattr(bot, key, parse_distribution(b[key], f"{path}.bot.{key}"))
    kwargs = {
        k: m[k]
        for k in (
            "arrival_rate",
            "volume",
            "trace",
            "channel",
            "segment",
            "priority",
            "redial_probability",
            "transfers",
            "service_level_threshold",
            "short_abandon",
            "max_queue",
        )
        if k in m
    }
    for key in ("service_level_threshold", "short_abandon"):
        if key in kwargs:
            kwargs[key] = _seconds(kwargs[key], f"{path}.{key}")
    q = Queue(name=str(_get(m, "name", path)), bot=bot, **kwargs)
    if "handle_time" in m:
        q.handle_time = parse_distribution(m["handle_time"], f"{path}.handle_time")  # type: ignore[assignment]
    if "patience" in m:
        q.patience = parse_distribution(m["patience"], f"{path}.patience", allow_none=True)
    if "redial_delay" in m:
        q.redial_delay = parse_distribution(m["redial_delay"], f"{path}.redial_delay")  # type: ignore[assignment]
    return q


def _read_group(raw: Any, path: str) -> AgentGroup:
    m = _check_keys(
        raw, {"name", "staffing", "skills", "concurrency", "stretch", "shrinkage", "shifts"}, path
    )
    shifts = []
    raw_shifts = m.get("shifts") or []
    if not isinstance(raw_shifts, list):
        raise InvalidParameterError(
            f"{path}.shifts",
            raw_shifts,
            "a list",
            "e.g. [{start: '08:00', end: '16:30', agents: 10}].",
        )
    for k, item in enumerate(raw_shifts):
        p = f"{path}.shifts[{k}]"
        it = _check_keys(item, {"start", "end", "agents"}, p)
        shifts.append(
            (
                _seconds(_get(it, "start", p), f"{p}.start"),
                _seconds(_get(it, "end", p), f"{p}.end"),
                _get(it, "agents", p),
            )
        )
    if "staffing" not in m and not shifts:
        raise InvalidParameterError(
            f"{path}.staffing",
            None,
            "given (or shifts)",
            "Give agents per interval, or a list of shifts.",
        )
    return AgentGroup(
        name=str(_get(m, "name", path)),
        staffing=m.get("staffing", 0),
        skills=_get(m, "skills", path),
        concurrency=m.get("concurrency", 1),
        stretch=m.get("stretch"),
        shrinkage=m.get("shrinkage", 0.0),
        shifts=shifts,
    )


def _read_scenario(raw: Any, path: str) -> Scenario:
    m = _check_keys(raw, {"name", "volume", "outages", "reassign", "absenteeism"}, path)
    sc = Scenario(name=str(m.get("name", "scenario")))
    shapes = {
        "volume": {"queue", "start", "end", "factor"},
        "outages": {"group", "start", "end"},
        "reassign": {"from", "to", "agents", "start", "end"},
        "absenteeism": {"group", "share"},
    }
    for key, allowed in shapes.items():
        items = m.get(key) or []
        if not isinstance(items, list):
            raise InvalidParameterError(f"{path}.{key}", items, "a list", "Write a YAML list.")
        out = []
        for i, item in enumerate(items):
            p = f"{path}.{key}[{i}]"
            it = dict(_check_keys(item, allowed, p))
            for tkey in ("start", "end"):
                if tkey in it:
                    it[tkey] = _seconds(it[tkey], f"{p}.{tkey}")
            out.append(it)
        setattr(sc, key, out)
    return sc
