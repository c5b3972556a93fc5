"""``agent-states``: agent status logs (CSV or Parquet) into ``agent_states``.

Every ACD exports what its agents' time went on: Genesys Cloud's user routing
status and presence, Amazon Connect's agent event stream and agent activity
audit, Avaya's login/aux reports.  This adapter reads such a log into one row
per *state span*: ``agent_id``, optional ``team``/``site``/``queue``, the
canonical ``state`` (``available``: ready, waiting for a contact; ``busy``:
handling contacts, talk, hold, after-contact work; ``aux``: paid but not
available, break, meeting, training...; ``offline``: logged out), the
source's own state name or aux code as ``reason``, ``started_at`` and
``ended_at`` (UTC).  The occupancy, utilisation and shrinkage KPIs
(``contactops.metrics.agent_kpis``) are computed from it.

Columns named like the canonical ones are read as they are; others are named
by the ``mapping`` option (a dict, or a YAML file), in the style of the
``csv`` adapter, plus ``duration_s`` and a ``states:`` section::

    agent_id: UserID
    team: {value: Billing}                     # a constant
    state: Status
    reason: AuxCode                            # else the state column's own text
    started_at: {column: Start, format: "%d/%m/%Y %H:%M:%S"}
    ended_at: End                              # or:
    duration_s: {column: DurationMs, scale: 0.001}   # seconds, or H:MM:SS text
    states:                                    # source name -> category, any case
      Ready: available
      On Call: busy
      Wrap: busy
      Lunch: aux
      Logged Out: offline
      "*": aux                                 # optional: every other name

A mapping value may also be a list of column names; the first one the file
has is used (the presets use this to accept the usual header spellings).

Presets (``preset=``; a mapping and ``states`` then override them key by key):

- ``genesys`` -- Genesys Cloud user routing status / presence, one row per
  span (the ``routingStatus`` or ``systemPresence`` timelines of
  ``/api/v2/analytics/users/details/query``, flattened): ``userId``,
  ``routingStatus`` (else ``systemPresence``), ``startTime``, ``endTime``.
  INTERACTING and COMMUNICATING are ``busy``; IDLE (routing: waiting for an
  interaction), NOT_RESPONDING (alerted, not answering: still routable) and
  the ON_QUEUE presence are ``available``; OFF_QUEUE and the presences
  AVAILABLE (available for non-ACD work, not routed), AWAY, BUSY, BREAK,
  MEAL, MEETING and TRAINING are ``aux``; OFFLINE is ``offline``.  A
  presence-only log has no busy state: compute occupancy with
  ``handle_from="contacts"``; and export one of the two timelines, not both
  (they overlap, and overlapping spans of one agent are refused).
- ``amazon-connect`` -- the agent activity audit report (CSV: ``Agent``,
  ``Routing profile`` as the team, ``Status``, ``Status start time`` and an
  end time or ``Duration``), or the agent event stream flattened to columns
  (``layout=events``: ``EventTimestamp``,
  ``CurrentAgentSnapshot.Configuration.Username``,
  ``CurrentAgentSnapshot.AgentStatus.Name``; a HEART_BEAT repeating the status
  only splits a span in two).  The event stream's status stays Available
  while the agent handles contacts (contacts are listed apart), so it has no
  busy state: use ``handle_from="contacts"`` for occupancy.  ``Available``
  is ``available``, ``Offline`` ``offline``; the contact states (Incoming,
  Inbound, Outbound, Connecting, Connecting Agent, Joining Customer, Calling
  Customer, Connected, Busy, On contact, On hold, After contact work, ACW)
  are ``busy``; **every other
  status is** ``aux``: the custom statuses (Break, Lunch, Training...) are
  paid non-productive time, and the states a missed, rejected or failed
  contact leaves an agent in (Missed, Rejected, Agent Disconnected, Error)
  route no contacts until the agent sets Available again.  Map a custom
  status you do not pay for to ``offline``.

Layouts (option ``layout``):

- ``spans`` (default): each row is one span, with ``ended_at``, or
  ``duration_s`` (seconds; ``H:MM:SS`` text is read too), or both (the end
  wins where given).
- ``events``: each row is a state change (agent, ``started_at``, new state);
  a span lasts until the agent's next change in the same file (a change refused
  for its state, unknown or missing, still ends the span before it).  The last
  change of each agent has no known end: it is closed at ``until`` when that
  option is given (a timestamp, e.g. the end of the exported period); without
  it, a last change to ``offline`` (the logout that ends a shift) is stored as
  a zero-length span (offline time counts in no KPI) and any other last change
  is refused with that reason.  Two changes of one agent at the same instant:
  the later line is kept, the earlier refused.

Other options: ``timezone`` (IANA, default UTC) for naive timestamps;
``timestamp_format`` (``strptime``) for timestamp columns without their own;
``source`` is the preset's name, else ``agent-states``, unless the mapping gives
one (``source: {value: genesys-eu}``, or a column);
``file_format`` (``csv``/``parquet``; default by suffix, then by Parquet's
magic bytes); CSV only: ``delimiter``, ``encoding``.

Rules (applied per Arrow batch with ``pyarrow.compute``; every refused row is
a reject with its line, field, value and reason, the first rule it breaks):
``agent_id``, ``state`` and ``started_at`` are required (a header without
them, or, for spans, without an end or a duration, or without a column the
mapping names, refuses the file before anything is read:
:class:`~contactops.errors.FormatMismatchError`); a state name not in
the states map is refused with the fix (the entry to add); timestamps must
parse and lie within 0001-01-01..9999-12-31 UTC; a local time the clocks skip
(daylight saving starts) is refused; in the hour repeated when it ends, each
agent's times are read in file order, the first occurrence until one steps
back, the second from there (see
:class:`~contactops.data.adapters._columns.Folds`; ``until`` is the first
occurrence: give it in UTC on such a day); ``duration_s`` is a finite number
>= 0 and at most ``MAX_DURATION_S`` (366 days); ``ended_at`` must not be before
``started_at``; a span that starts before the end of an earlier span of the
same agent in the file is refused (an agent is in one state at a time).  A
span is identified by ``(source, agent_id, started_at)``: a repeat of one,
in the file or in a second ingest, is a duplicate.  So that spans can be
checked against each other (and events chained), the file's rows are
converted batch by batch but handed to the warehouse after the last batch.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from contactops.data._adapter import CHUNK_ROWS, Chunk, Reject
from contactops.data._schema import AGENT_STATE_CATEGORIES, AGENT_STATES
from contactops.data.adapters._columns import (
    Folds,
    MappedField,
    as_float,
    as_text,
    as_timestamp,
    build_chunk,
    duration_checks,
    gather,
    load_mapping,
    mask,
    pick_preset,
    resolve_fields,
    settle,
    source_refs,
    timezone,
)
from contactops.data.adapters._flat import csv_chunks, header_names, parquet_chunks
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path
    from zoneinfo import ZoneInfo

__all__ = ["ADAPTER", "PRESETS"]

NAME = "agent-states"
TABLE = "agent_states"
_FIELDS = (
    "agent_id",
    "team",
    "site",
    "queue",
    "state",
    "reason",
    "started_at",
    "ended_at",
    "duration_s",
    "source",
)
_REQUIRED = ("agent_id", "state", "started_at")
_TIMES = ("started_at", "ended_at")
_LAYOUTS = ("spans", "events")
_FILE_FORMATS = ("csv", "parquet")
_HMS = r"^\s*(?P<h>\d+):(?P<m>[0-5]?\d):(?P<s>[0-5]?\d(?:\.\d*)?)\s*$"
_MAX_NAMED = 20  # distinct unknown state names per batch that get a reason of their own
_CATEGORIES = ", ".join(AGENT_STATE_CATEGORIES)
_MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z, in microseconds

_BUSY_CONNECT = (
    "Incoming",
    "Inbound",
    "Outbound",
    "Connecting",
    "Connecting Agent",
    "Joining Customer",
    "Calling Customer",
    "Connected",
    "Busy",
    "On contact",
    "On hold",
    "After contact work",
    "ACW",
)
PRESETS: dict[str, dict[str, Any]] = {
    "genesys": {
        "columns": {
            "agent_id": ["userId", "User ID", "agentId", "Agent ID"],
            "state": ["routingStatus", "systemPresence", "Routing Status", "Presence", "status"],
            "started_at": ["startTime", "Start Time", "start"],
            "ended_at": ["endTime", "End Time", "end"],
            "queue": ["queueName", "queueId"],
            "team": ["teamName", "Team"],
            "site": ["siteName", "Site"],
        },
        "states": {
            "INTERACTING": "busy",
            "COMMUNICATING": "busy",
            "IDLE": "available",
            "NOT_RESPONDING": "available",
            "ON_QUEUE": "available",
            "OFF_QUEUE": "aux",
            "AVAILABLE": "aux",
            "AWAY": "aux",
            "BUSY": "aux",
            "BREAK": "aux",
            "MEAL": "aux",
            "MEETING": "aux",
            "TRAINING": "aux",
            "OFFLINE": "offline",
        },
    },
    "amazon-connect": {
        "columns": {
            "agent_id": [
                "Agent",
                "AgentLogin",
                "Agent login",
                "Username",
                "CurrentAgentSnapshot.Configuration.Username",
                "AgentARN",
            ],
            "state": [
                "Status",
                "AgentStatus",
                "Agent status",
                "CurrentAgentSnapshot.AgentStatus.Name",
            ],
            "started_at": ["Status start time", "StartTimestamp", "Start time", "EventTimestamp"],
            "ended_at": ["Status end time", "EndTimestamp", "End time"],
            "duration_s": ["Duration", "Status duration"],
            "queue": ["Queue"],
            "team": [
                "Routing profile",
                "RoutingProfile",
                "CurrentAgentSnapshot.Configuration.RoutingProfile.Name",
            ],
            "site": ["Hierarchy group", "HierarchyGroup"],
        },
        "states": {
            "Available": "available",
            "Offline": "offline",
            **dict.fromkeys(_BUSY_CONNECT, "busy"),
            "*": "aux",
        },
    },
}

_field = functools.partial(
    MappedField,
    strip_keys=True,
    example="For example {column: Status}, {value: Billing} or {column: DurationMs, scale: 0.001}.",
)


def _states(value: Any, name: str) -> dict[str, str]:
    """A states map (dict or YAML file) as lower-case source name -> category."""
    raw = load_mapping(value, name)
    out: dict[str, str] = {}
    for key, category in raw.items():
        cat = str(category).strip().lower() if category is not None else None
        if cat not in AGENT_STATE_CATEGORIES:
            raise InvalidParameterError(
                f"{name}.{key}",
                category,
                f"one of {_CATEGORIES}",
                "Map each source state name to a category, e.g. {Lunch: aux}.",
            )
        out[str(key).strip().lower()] = cat
    return out


class _Spec:
    """The resolved options of one ingest."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        preset = options.get("preset")
        base = pick_preset(options, PRESETS, "Or give a mapping and a states map of your own.") or {
            "columns": {},
            "states": {},
        }
        mapping = load_mapping(options.get("mapping"))
        mapping_states = mapping.pop("states", None)
        unknown = sorted(set(mapping) - set(_FIELDS))
        if unknown:
            raise InvalidParameterError(
                "mapping",
                unknown[0],
                "an agent-state column: " + ", ".join(_FIELDS) + " (or a states: section)",
                "Keys are canonical names, values the source columns.",
            )
        layout = options.get("layout", "spans")
        if layout not in _LAYOUTS:
            raise InvalidParameterError(
                "layout",
                layout,
                "spans or events",
                "spans: one row per state with its end or duration; "
                "events: one row per state change.",
            )
        self.layout: str = layout
        if layout == "events":
            given = sorted({"ended_at", "duration_s"} & set(mapping))
            if given:
                raise InvalidParameterError(
                    f"mapping.{given[0]}",
                    mapping[given[0]],
                    "absent with layout=events",
                    "An event log's spans end at the agent's next event; leave ended_at "
                    "and duration_s out, or say layout=spans.",
                )
        # preset candidates first, the user's own mapping over them
        self.columns: dict[str, Any] = {**base["columns"], **mapping}
        self.user_keys = set(mapping)
        self.states: dict[str, str] = {c: c for c in AGENT_STATE_CATEGORIES}
        self.states.update(_states(base["states"], "states"))
        self.states.update(_states(mapping_states, "mapping.states"))
        self.states.update(_states(options.get("states"), "states"))
        self.preset: str | None = preset
        self.tz: ZoneInfo = timezone(options.get("timezone", "UTC"))
        self.timestamp_format: str | None = options.get("timestamp_format")
        file_format = options.get("file_format")
        if file_format is not None and file_format not in _FILE_FORMATS:
            raise InvalidParameterError(
                "file_format",
                file_format,
                "csv or parquet",
                "Or leave it out to go by the file's suffix.",
            )
        self.file_format: str | None = file_format
        self.source = str(preset or NAME)
        self.delimiter = str(options.get("delimiter", ","))
        self.encoding = str(options.get("encoding", "utf-8"))
        self.batch_rows = int(options.get("batch_rows", CHUNK_ROWS))
        self.table = TABLE
        self.fmt = NAME
        self.until: int | None = None  # microseconds since the epoch
        until = options.get("until")
        if until is not None:
            if layout != "events":
                raise InvalidParameterError(
                    "until", until, "given with layout=events only", "Spans carry their own ends."
                )
            arr, bad, more = as_timestamp(pa.array([until]), self.tz, None)
            if bad.any() or any(rows.any() for rows, _ in more) or not arr[0].is_valid:
                raise InvalidParameterError(
                    "until",
                    until,
                    "a timestamp",
                    "e.g. until=2024-03-05T00:00:00 (the end of the "
                    "exported period; naive times are in timezone).",
                )
            self.until = int(pc.cast(arr, pa.int64())[0].as_py())

    def resolve(self, names: list[str]) -> tuple[dict[str, MappedField], dict[str, str]]:
        """The fields filled for a file with these columns, and the preset's fields the
        file has none of (name -> the columns looked for)."""
        fields: dict[str, MappedField] = {}
        missing: dict[str, str] = {}
        present = set(names)
        skip = ("ended_at", "duration_s") if self.layout == "events" else ()
        for key, spec in self.columns.items():
            if key in skip:
                continue
            if isinstance(spec, list | tuple):
                found = next((str(c) for c in spec if str(c) in present), None)
                if found is not None:
                    fields[key] = _field(key, found)
                elif key in self.user_keys:  # the user's own list: one must be there
                    fields[key] = _field(key, str(spec[0]) if spec else "")
                else:
                    missing[key] = ", ".join(repr(str(c)) for c in spec)
                continue
            fields[key] = _field(key, spec)
        canonical = tuple(f for f in _FIELDS if f not in skip)
        fields = resolve_fields(fields, canonical, names, _field)
        return fields, {k: c for k, c in missing.items() if k not in fields}


def _duration(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Seconds from numbers, numeric text or ``H:MM:SS`` text."""
    if not (
        pa.types.is_string(arr.type)
        or pa.types.is_large_string(arr.type)
        or pa.types.is_binary(arr.type)
        or pa.types.is_large_binary(arr.type)
        or pa.types.is_dictionary(arr.type)
    ):
        return as_float(arr)
    text, bad = as_text(arr)
    parts = pc.extract_regex(pc.fill_null(text, ""), _HMS)
    hms = pc.is_valid(parts)
    plain, plain_bad = as_float(pc.if_else(hms, pa.scalar(None, pa.string()), text))
    h, m, s = (pc.cast(pc.struct_field(parts, k), pa.float64()) for k in ("h", "m", "s"))
    clock = pc.add(pc.add(pc.multiply(h, 3600.0), pc.multiply(m, 60.0)), s)
    return pc.if_else(hms, clock, plain), bad | plain_bad


class _Converter:
    """Converts source batches; holds the good rows back until :meth:`finish`."""

    def __init__(self, spec: _Spec, names: list[str], ref: str) -> None:
        self.spec = spec
        self.names = set(names)
        self.fields, self.absent = spec.resolve(names)
        self.ref = ref
        # local times of the repeated autumn hour: per agent, in file order (see Folds)
        self.folds = Folds()
        self._groups: pa.Array | None = None
        self.held: list[pa.Table] = []
        # events: the agent and time of refused changes whose agent and time are sound (an
        # unknown or missing state): they still end the span before them
        self.changes: list[pa.Table] = []
        self.keys = pa.array(list(spec.states), type=pa.string())
        self.categories = pa.array(list(spec.states.values()), type=pa.string())
        self.default = spec.states.get("*")
        self.constants: dict[str, pa.Array] = {}
        for name, f in self.fields.items():
            if f.is_constant:
                arr, bad, reason, _ = self._convert(name, f, pa.array([f.constant]))
                if bad.any() or (name in _REQUIRED and arr[0].as_py() is None):
                    raise InvalidParameterError(
                        f"mapping.{name}.value", f.constant, reason or "a value"
                    )
                self.constants[name] = arr

    def source_columns(self) -> list[str]:
        return sorted(
            {
                f.column
                for f in self.fields.values()
                if f.column is not None and f.column in self.names
            }
        )

    def missing(self) -> list[str]:
        """The columns the file lacks: mapped ones, required ones, an end (spans)."""
        out = [
            f.column
            for f in self.fields.values()
            if f.column is not None and f.column not in self.names
        ]
        out.extend(key for key in _REQUIRED if key not in self.fields)
        if self.spec.layout == "spans" and not {"ended_at", "duration_s"} & set(self.fields):
            out.append("ended_at or duration_s")
        return out

    def snapshot(self) -> Any:
        return self.folds.snapshot()

    def restore(self, snap: Any) -> None:
        self.folds.restore(snap)

    def _category(self, text: pa.Array, extra: dict[str, str]) -> pa.Array:
        """Source state names (trimmed text) as categories; unknown names null."""
        low = pc.utf8_lower(pc.utf8_trim_whitespace(text))
        keys, cats = self.keys, self.categories
        if extra:
            keys = pa.concat_arrays([pa.array(list(extra), type=pa.string()), keys])
            cats = pa.concat_arrays([pa.array(list(extra.values()), type=pa.string()), cats])
        out = pc.take(cats, pc.index_in(low, value_set=keys))
        if self.default is not None:
            out = pc.if_else(pc.is_valid(low), pc.coalesce(out, pa.scalar(self.default)), out)
        return out

    def _convert(
        self, name: str, f: MappedField, src: pa.Array
    ) -> tuple[pa.Array, np.ndarray, str, list[tuple[np.ndarray, str]]]:
        if name in _TIMES:
            fmt = f.format or self.spec.timestamp_format
            arr, bad, more = as_timestamp(
                src, self.spec.tz, fmt, folds=self.folds, key=name, groups=self._groups
            )
            return (
                arr,
                bad,
                (
                    f"a timestamp in format {fmt}"
                    if fmt
                    else "an ISO 8601 timestamp, e.g. 2024-01-31T08:15:00"
                ),
                more,
            )
        if name == "duration_s":
            arr, bad = _duration(src)
            if f.scale is not None:
                arr = pc.multiply(arr, f.scale)
            return arr, bad, "seconds (a number, or H:MM:SS)", []
        arr, bad = as_text(src)
        if name == "state":  # unknown names get checks of their own in convert
            extra = _states(f.values, f"mapping.{name}.values") if f.values else {}
            return (
                self._category(arr, extra),
                bad,
                (f"UTF-8 text naming a state of the states map or a category ({_CATEGORIES})"),
                [],
            )
        return (
            arr,
            bad,
            ("UTF-8 text; for another encoding say encoding=..., e.g. encoding='latin-1'"),
            [],
        )

    def _unknown_states(
        self,
        cols: dict[str, pa.Array],
        raws: dict[str, pa.Array],
        checks: list[tuple[str, np.ndarray, str]],
    ) -> None:
        """One check per unknown state name, its reason naming the entry to add."""
        raw = raws.get("state")
        if raw is None:
            return
        text = pc.utf8_trim_whitespace(as_text(raw)[0])
        unknown = pc.and_(pc.is_valid(text), pc.is_null(cols["state"]))
        if not pc.any(unknown).as_py():
            return
        names = pc.unique(pc.filter(text, unknown)).to_pylist()
        fix = (
            "add it to the states map (a states: section of the mapping YAML, or "
            "states=...), e.g. states: {{{0!r}: aux}}; categories: " + _CATEGORIES
        )
        if self.spec.preset:
            fix += f"; the {self.spec.preset} preset does not name it"
        if len(names) > _MAX_NAMED:
            checks.append(("state", mask(unknown), "unknown state name: " + fix.format("<name>")))
            return
        for value in names:
            hit = mask(pc.and_(unknown, pc.equal(text, value)))
            checks.append(("state", hit, f"unknown state {value!r}: " + fix.format(value)))

    def convert(self, batch: pa.RecordBatch, lines: np.ndarray, extra: list[Reject]) -> Chunk:
        n = batch.num_rows
        spec = self.spec
        agent = self.fields.get("agent_id")
        self._groups = (
            as_text(batch.column(agent.column))[0]
            if agent is not None and agent.column in self.names
            else None
        )
        cols, raws, checks, whole = gather(
            _FIELDS, self.fields, self.constants, self.names, batch, self._convert
        )
        for key, candidates in self.absent.items():
            if key in _REQUIRED:
                whole.append(
                    (
                        key,
                        (
                            f"no {key} column in the file (the {spec.preset} preset "
                            f"looks for {candidates}): map one, e.g. "
                            f"mapping={{{key}: <column>}}"
                        ),
                    )
                )
        self._unknown_states(cols, raws, checks)
        for name in _REQUIRED:
            if name in cols:
                checks.append((name, mask(pc.is_null(cols[name])), f"missing: {name} is required"))
            elif not any(w[0] == name for w in whole):
                whole.append(
                    (
                        name,
                        (
                            f"no {name} column in the file: map one, e.g. "
                            f"mapping={{{name}: <column>}}"
                        ),
                    )
                )
        if spec.layout == "spans":
            self._ends(cols, checks, whole)
        if "reason" in cols and "state" in raws:
            cols["reason"] = pc.coalesce(
                cols["reason"], pc.utf8_trim_whitespace(as_text(raws["state"])[0])
            )
        elif "state" in raws:
            cols["reason"] = pc.utf8_trim_whitespace(as_text(raws["state"])[0])
        cols["source"] = (
            pc.coalesce(cols["source"], pa.scalar(spec.source))
            if "source" in cols
            else pa.nulls(n, pa.string()).fill_null(spec.source)
        )
        cols["source_ref"] = source_refs(self.ref, lines)
        cols["_line"] = pa.array(lines, type=pa.int64())

        good, rejects = settle(n, lines, extra, whole, checks, raws)
        if spec.layout == "events" and not whole and not good.all():
            sound = ~good
            for name, bad, _ in checks:
                if name in ("agent_id", "started_at"):
                    sound &= ~bad
            known = pa.array(sound) if sound.any() else None
            if known is not None:
                self.changes.append(
                    pa.table(
                        {
                            "agent_id": pc.filter(cols["agent_id"], known),
                            "started_at": pc.filter(cols["started_at"], known),
                        }
                    ).drop_null()
                )
        # the good rows wait for the rest of the file (overlaps, event chaining)
        held = build_chunk(TABLE, _HELD, cols, good, [], int(good.sum()))
        if held.batch.num_rows:
            self.held.append(held.batch)
        return Chunk(TABLE, AGENT_STATES.empty_table(), rejects, len(rejects), 0)

    def _ends(
        self,
        cols: dict[str, pa.Array],
        checks: list[tuple[str, np.ndarray, str]],
        whole: list[tuple[str, str]],
    ) -> None:
        """``ended_at`` from the end column, else start + duration; checked."""
        start = cols.get("started_at")
        end = cols.get("ended_at")
        duration = cols.get("duration_s")
        if duration is not None:
            rules = duration_checks("duration_s", duration)
            checks.extend(rules)
            refused = np.zeros(len(duration), dtype=bool)
            for _, rows, _ in rules:
                refused |= rows
            if refused.any():  # kept out of the arithmetic below (1e300 s in microseconds)
                duration = pc.if_else(pa.array(refused), pa.scalar(None, pa.float64()), duration)
            if start is not None:
                # an end past the last timestamp is refused, and kept out of the int64 cast
                room = pc.divide(
                    pc.cast(
                        pc.subtract(pa.scalar(_MAX_US), pc.cast(start, pa.int64())),
                        pa.float64(),
                        safe=False,
                    ),
                    1e6,
                )
                too_long = pc.fill_null(pc.greater(duration, room), False)
                checks.append(
                    ("duration_s", mask(too_long), "too long: the span would end after 9999-12-31")
                )
                duration = pc.if_else(too_long, pa.scalar(None, pa.float64()), duration)
                micros = pc.cast(pc.round(pc.multiply(duration, 1e6)), pa.int64())
                derived = pc.add(start, pc.cast(micros, pa.duration("us")))
                end = derived if end is None else pc.coalesce(end, derived)
        if end is None:
            if not whole:
                looked = " or ".join(
                    self.absent[k] for k in ("ended_at", "duration_s") if k in self.absent
                )
                whole.append(
                    (
                        "ended_at",
                        "no ended_at or duration_s column in the file"
                        + (f" (the {self.spec.preset} preset looks for {looked})" if looked else "")
                        + ": map one, e.g. mapping={ended_at: <column>}; or "
                        "say layout=events if each row is a state change",
                    )
                )
            return
        cols["ended_at"] = end
        checks.append(
            ("ended_at", mask(pc.is_null(end)), "missing: a span needs ended_at or duration_s")
        )
        if start is not None:
            checks.append(("ended_at", mask(pc.less(end, start)), "must not be before started_at"))

    # -- after the last batch ---------------------------------------------------------------
    def finish(self) -> Chunk:
        """The held rows, checked against each other (spans) or chained (events)."""
        if not self.held:
            return Chunk(TABLE, AGENT_STATES.empty_table(), [], 0, 0)
        table = pa.concat_tables(self.held)
        self.held = []
        n = table.num_rows
        table = table.append_column("_pos", pa.array(np.arange(n, dtype=np.int64)))
        table = table.sort_by(
            [("agent_id", "ascending"), ("started_at", "ascending"), ("_pos", "ascending")]
        )
        agent = table.column("agent_id").combine_chunks()
        start = _micros(table.column("started_at"))
        lines = table.column("_line").to_numpy()
        # group boundaries: the sort put each agent's rows together
        same_prev = np.zeros(n, dtype=bool)
        if n > 1:
            same_prev[1:] = mask(pc.equal(agent.slice(1), agent.slice(0, n - 1)))
        if self.spec.layout == "events":
            good, ends, rejects = self._chain(
                table, agent, start, lines, same_prev, self._next_change(agent, start)
            )
            table = table.set_column(
                table.schema.get_field_index("ended_at"),
                "ended_at",
                pa.array(ends, type=pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            )
        else:
            good, rejects = self._overlaps(table, agent, start, lines, same_prev)
        cols = {name: table.column(name).combine_chunks() for name in AGENT_STATES.names}
        return build_chunk(TABLE, AGENT_STATES, cols, good, rejects, n)

    def _overlaps(
        self,
        table: pa.Table,
        agent: pa.Array,
        start: np.ndarray,
        lines: np.ndarray,
        same_prev: np.ndarray,
    ) -> tuple[np.ndarray, list[Reject]]:
        """Refuse spans starting before the end of an earlier span of the same agent."""
        n = len(start)
        end = _micros(table.column("ended_at"))
        # a repeat of the same (agent, start) is a duplicate for the warehouse, not an overlap
        repeat = np.zeros(n, dtype=bool)
        repeat[1:] = same_prev[1:] & (start[1:] == start[:-1])
        floor = np.iinfo(np.int64).min
        reach = np.where(repeat, floor, end)
        # the latest end of the agent's earlier spans, per row: a running max per agent,
        # vectorised by ranking the ends and lifting each agent's ranks above the last's
        values, rank = np.unique(reach, return_inverse=True)
        group = np.cumsum(~same_prev) - 1
        run = values[np.maximum.accumulate(group * len(values) + rank) - group * len(values)]
        latest = np.full(n, floor, dtype=np.int64)
        latest[1:] = np.where(same_prev[1:], run[:-1], floor)
        # the row that reached furthest: the last one whose own end set the running max
        setter = np.maximum.accumulate(np.where(reach == run, np.arange(n), 0))
        source = np.zeros(n, dtype=np.int64)
        source[1:] = setter[:-1]
        bad = ~repeat & same_prev & (start < latest)
        if bad.any():
            # a refused span must not refuse the next one: for the (rare) agents with an
            # overlap, walk their rows from the first one, keeping the ends of kept rows only
            rows = np.flatnonzero(bad)
            firsts = rows[np.r_[True, group[rows][1:] != group[rows][:-1]]]
            for first in firsts.tolist():
                self._walk(first, group, start, end, repeat, bad, latest, source)
        rejects = []
        for i in np.flatnonzero(bad):
            j = source[i]
            rejects.append(
                Reject(
                    int(lines[i]),
                    "started_at",
                    _iso(start[i]),
                    f"overlaps the span of agent {agent[i].as_py()!r} on line {int(lines[j])} "
                    f"(until {_iso(latest[i])}): an agent is in one state at a time; export one "
                    "status timeline (e.g. routing status or presence, not both)",
                )
            )
        return ~bad, rejects

    @staticmethod
    def _walk(
        first: int,
        group: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        repeat: np.ndarray,
        bad: np.ndarray,
        latest: np.ndarray,
        source: np.ndarray,
    ) -> None:
        """Settle one agent's overlaps in order, from its first overlapping row.

        Rows before ``first`` are all kept, so the running max there is exact.
        """
        reach, who = latest[first], source[first]
        kept = True  # the fate of the row a repeat repeats
        i = first
        n = len(start)
        while i < n and group[i] == group[first]:
            if repeat[i] and kept:
                bad[i] = False
            elif start[i] < reach:
                bad[i], latest[i], source[i], kept = True, reach, who, False
            else:
                bad[i], kept = False, True
                if end[i] > reach:
                    reach, who = end[i], i
            i += 1

    def _next_change(self, agent: pa.Array, start: np.ndarray) -> np.ndarray:
        """Per kept event (sorted by agent and time), the first refused change of its agent
        strictly after it, in microseconds; int64 max where there is none."""
        none = np.full(len(start), np.iinfo(np.int64).max, dtype=np.int64)
        changes = pa.concat_tables(self.changes) if self.changes else None
        self.changes = []
        if changes is None or not changes.num_rows:
            return none
        m = changes.num_rows
        codes = (
            pc.dictionary_encode(
                pa.concat_arrays(
                    [
                        agent.cast(pa.string()),
                        changes.column("agent_id").combine_chunks().cast(pa.string()),
                    ]
                )
            )
            .indices.to_numpy(zero_copy_only=False)
            .astype(np.int64)
        )
        at = np.concatenate([start, _micros(changes.column("started_at"))])
        values, rank = np.unique(at, return_inverse=True)
        key = codes * (len(values) + 1) + rank.astype(np.int64)  # (agent, time) as one int
        kept_key, change_key, change_at = key[:-m], key[-m:], at[-m:]
        order = np.argsort(change_key, kind="stable")
        change_key, change_at, change_code = change_key[order], change_at[order], codes[-m:][order]
        j = np.searchsorted(change_key, kept_key, side="right")
        found = j < m
        found[found] = change_code[j[found]] == codes[:-m][found]
        return np.where(found, change_at[np.minimum(j, m - 1)], none)

    def _chain(
        self,
        table: pa.Table,
        agent: pa.Array,
        start: np.ndarray,
        lines: np.ndarray,
        same_prev: np.ndarray,
        change: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, list[Reject]]:
        """Each event's span ends at the agent's next event, or at a refused change of the
        agent before that (see the module docstring)."""
        n = len(start)
        has_next = np.zeros(n, dtype=bool)
        has_next[:-1] = same_prev[1:]
        nxt = np.empty(n, dtype=np.int64)
        nxt[:-1] = start[1:]
        nxt[-1] = 0
        superseded = has_next & (nxt == start)
        last = ~has_next
        offline = mask(pc.equal(table.column("state").combine_chunks(), "offline"))
        until = self.spec.until
        # a refused change (unknown state...) still ends the span before it
        changed = change < np.where(has_next, nxt, np.iinfo(np.int64).max)
        ends = np.where(changed, change, np.where(has_next, nxt, start))
        last = last & ~changed  # its end is known: the refused change
        rejects: list[Reject] = []
        if until is not None:  # the export ends there: later events are outside it
            after = start > until
            ends = np.where(last, until, np.minimum(ends, until))  # (changed: not last)
            open_end = np.zeros(n, dtype=bool)
        else:
            after = np.zeros(n, dtype=bool)
            open_end = last & ~offline
        for i in np.flatnonzero(superseded | after | open_end):
            who = agent[i].as_py()
            if after[i]:
                rejects.append(
                    Reject(
                        int(lines[i]),
                        "started_at",
                        _iso(start[i]),
                        f"after until ({_iso(until or 0)}): give a later until, or leave it out",
                    )
                )
            elif superseded[i]:
                rejects.append(
                    Reject(
                        int(lines[i]),
                        "started_at",
                        _iso(start[i]),
                        f"another state change of agent {who!r} at the same "
                        f"instant follows on line {int(lines[i + 1])}; the later "
                        "one is kept",
                    )
                )
            else:
                rejects.append(
                    Reject(
                        int(lines[i]),
                        "ended_at",
                        None,
                        f"the last state change of agent {who!r} in the file, "
                        "and not a logout: its end is unknown; export a period "
                        "that ends each shift, or close open states with "
                        "until=<end of the export>",
                    )
                )
        return ~(superseded | after | open_end), ends, rejects


# the rows held back until the file is read: the canonical columns (ended_at still null for
# events) and the source line
_HELD = pa.schema([*(f.with_nullable(True) for f in AGENT_STATES), pa.field("_line", pa.int64())])


def _micros(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Timestamps as int64 microseconds since the epoch (no nulls here)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return np.asarray(pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _iso(micros: int | np.integer) -> str:
    return pa.scalar(int(micros), pa.timestamp("us", tz="UTC")).as_py().isoformat()


def _file_format(path: Path, spec: _Spec) -> str:
    """``csv`` or ``parquet``: as told, else by suffix, else by Parquet's magic bytes."""
    if spec.file_format is not None:
        return spec.file_format
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    with path.open("rb") as fh:
        return "parquet" if fh.read(4) == b"PAR1" else "csv"


def _empty() -> Chunk:
    return Chunk(TABLE, AGENT_STATES.empty_table(), [], 0, 0)


class AgentStates:
    name = NAME
    description = (
        "Agent status logs (CSV or Parquet): state spans or state-change events, "
        "with presets for Genesys Cloud and Amazon Connect"
    )
    table = TABLE

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        spec = _Spec(options)
        if path.stat().st_size == 0:
            yield _empty()
            return
        made: list[_Converter] = []

        def make(names: list[str]) -> _Converter:
            conv = _Converter(spec, names, path.name)
            made.append(conv)
            return conv

        reader = parquet_chunks if _file_format(path, spec) == "parquet" else csv_chunks
        yield from reader(path, spec, make)
        for conv in made:
            yield conv.finish()

    def sniff(self, head: bytes) -> bool:
        """A CSV header with an agent column and a state column, as this adapter or one
        of its presets names them."""
        names = {n.lower() for n in header_names(head)}
        agents = {"agent_id"} | {
            c.lower() for p in PRESETS.values() for c in p["columns"]["agent_id"]
        }
        states = {"state"} | {c.lower() for p in PRESETS.values() for c in p["columns"]["state"]}
        return bool(names & agents) and bool(names & states)


ADAPTER = AgentStates()
