"""The warehouse's last line of defence: whatever an adapter yields, no stored row breaks
the record's invariants, every refused row is a reject naming its rule, and the
accounting holds; a load that fails half-way leaves every table as it was."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contactops.data import (
    AGENT_STATE_CATEGORIES,
    AGENT_STATES,
    CHANNELS,
    INTERACTIONS,
    INTERVALS,
    OUTCOMES,
    SURVEYS,
    Chunk,
    Reject,
    Warehouse,
)
from contactops.data import _warehouse as warehouse_module
from contactops.data._schema import MAX_DURATION_S, MAX_TS, MIN_TS

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

SCHEMAS = {
    "interactions": INTERACTIONS,
    "surveys": SURVEYS,
    "intervals": INTERVALS,
    "agent_states": AGENT_STATES,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
MIN_US, MAX_US = (MIN_TS - EPOCH) // US, (MAX_TS - EPOCH) // US
T0_US = (datetime(2024, 3, 4, 9, 0, tzinfo=UTC) - EPOCH) // US
ORDER = ("arrived_at", "queued_at", "answered_at", "ended_at")


class TableAdapter:
    """Yields hand-built chunks of canonical rows (Arrow, not checked) for ``table``.

    ``files`` maps a file name to its chunks (each a list of row dicts with
    timestamps as int microseconds), so that one adapter serves several files.
    ``fail_after``: raise after that many chunks (a disk error half-way).
    """

    name = "fake"
    description = "hand-built chunks"

    def __init__(
        self,
        table: str,
        files: dict[str, list[list[dict[str, Any]]]],
        fail_after: int | None = None,
        rejects: int = 0,
    ) -> None:
        self.table = table
        self.files = files
        self.fail_after = fail_after
        self.rejects = rejects

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        for k, rows in enumerate(self.files[path.name]):
            if self.fail_after is not None and k == self.fail_after:
                raise OSError("disk went away half-way")
            rej = [Reject(9000 + k * 10 + j, "x", "?", "bad") for j in range(self.rejects)]
            yield Chunk(self.table, arrow(self.table, rows), rej, len(rows) + len(rej))


def arrow(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows to a table of the canonical schema, timestamps given as int microseconds
    (so that instants Python cannot hold, before year 1 or after 9999, can be built)."""
    schema = SCHEMAS[table]
    cols = {}
    for f in schema:
        values = [r.get(f.name) for r in rows]
        if pa.types.is_timestamp(f.type):
            cols[f.name] = pa.array(values, pa.int64()).cast(f.type)
        else:
            cols[f.name] = pa.array(values, f.type)
    return pa.table(cols, schema=schema)


def use(monkeypatch: pytest.MonkeyPatch, adapter: Any) -> None:
    monkeypatch.setattr(warehouse_module, "get_adapter", lambda _name: adapter)


def write_files(tmp: Path, names: list[str]) -> dict[str, Path]:
    out = {}
    for name in names:
        out[name] = tmp / name
        out[name].write_text(name, encoding="utf-8")
    return out


# -- what "breaks the record's invariants" means, written independently of the guard --------


def _bad_duration(v: float | None) -> bool:
    return v is not None and not (0.0 <= v <= MAX_DURATION_S)  # NaN compares False


def _bad_instant(v: int | None) -> bool:
    return v is not None and not (MIN_US <= v <= MAX_US)


def broken(table: str, row: dict[str, Any]) -> set[str]:
    """The fields of ``row`` that break a rule (empty: the row may be stored)."""
    bad: set[str] = set()
    required = [f.name for f in SCHEMAS[table] if not f.nullable]
    bad |= {f for f in required if row.get(f) is None}
    if table == "interactions":
        if row.get("channel") is not None and row["channel"] not in CHANNELS:
            bad.add("channel")
        if row.get("outcome") is not None and row["outcome"] not in OUTCOMES:
            bad.add("outcome")
        bad |= {f for f in (*ORDER, "version") if _bad_instant(row.get(f))}
        bad |= {f for f in ("wait_s", "talk_s", "hold_s", "acw_s") if _bad_duration(row.get(f))}
        conf = row.get("bot_confidence")
        if conf is not None and not (0.0 <= conf <= 1.0):
            bad.add("bot_confidence")
        for j, later in enumerate(ORDER):
            for earlier in ORDER[:j]:
                a, b = row.get(earlier), row.get(later)
                if a is not None and b is not None and b < a:
                    bad.add(later)
    elif table == "surveys":
        if _bad_instant(row.get("surveyed_at")):
            bad.add("surveyed_at")
        if row.get("csat") is not None and not 1 <= row["csat"] <= 5:
            bad.add("csat")
        if row.get("nps") is not None and not 0 <= row["nps"] <= 10:
            bad.add("nps")
    elif table == "intervals":
        if _bad_instant(row.get("interval_start")):
            bad.add("interval_start")
        s = row.get("interval_s")
        if s is not None and not (0.0 < s <= MAX_DURATION_S):
            bad.add("interval_s")
        for f in (
            "offered",
            "answered",
            "abandoned",
            "answered_within",
            "abandoned_within",
            "transferred",
        ):
            v = row.get(f)
            if v is not None and not (v >= 0.0 and math.isfinite(v)):
                bad.add(f)
        bad |= {
            f
            for f in ("threshold_s", "handle_s", "wait_s", "abandon_wait_s", "staffed_s")
            if _bad_duration(row.get(f))
        }
    else:  # agent_states
        if row.get("state") is not None and row["state"] not in AGENT_STATE_CATEGORIES:
            bad.add("state")
        bad |= {f for f in ("started_at", "ended_at") if _bad_instant(row.get(f))}
        a, b = row.get("started_at"), row.get("ended_at")
        if a is not None and b is not None and b < a:
            bad.add("ended_at")
    return bad


# the same rules as SQL over what is stored: every query must count 0
_D = f"BETWEEN 0 AND {MAX_DURATION_S}"
_TS = "BETWEEN TIMESTAMPTZ '0001-01-01 00:00:00+00' AND TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"
STORED_RULES = {
    "interactions": [f"NOT ({c} {_D})" for c in ("wait_s", "talk_s", "hold_s", "acw_s")]
    + [f"NOT ({c} {_TS})" for c in (*ORDER, "version")]
    + [
        "NOT (bot_confidence BETWEEN 0 AND 1)",
        "channel NOT IN ('" + "', '".join(CHANNELS) + "')",
        "outcome NOT IN ('" + "', '".join(OUTCOMES) + "')",
        "queued_at < arrived_at",
        "answered_at < arrived_at",
        "ended_at < arrived_at",
        "answered_at < queued_at",
        "ended_at < queued_at",
        "ended_at < answered_at",
    ],
    "surveys": [
        f"NOT (surveyed_at {_TS})",
        "NOT (csat BETWEEN 1 AND 5)",
        "NOT (nps BETWEEN 0 AND 10)",
    ],
    "intervals": [
        f"NOT (interval_start {_TS})",
        f"NOT (interval_s > 0 AND interval_s <= {MAX_DURATION_S})",
    ]
    + [
        f"NOT ({c} {_D})"
        for c in ("threshold_s", "handle_s", "wait_s", "abandon_wait_s", "staffed_s")
    ]
    + [
        f"NOT ({c} >= 0 AND isfinite({c}))"
        for c in (
            "offered",
            "answered",
            "abandoned",
            "answered_within",
            "abandoned_within",
            "transferred",
        )
    ],
    "agent_states": [
        "ended_at < started_at",
        f"NOT (started_at {_TS})",
        f"NOT (ended_at {_TS})",
        "state NOT IN ('" + "', '".join(AGENT_STATE_CATEGORIES) + "')",
    ],
}


def assert_stored_rows_keep_the_invariants(wh: Warehouse) -> None:
    """Every stored row of every table keeps the record's rules (NaN is not BETWEEN)."""
    for table, rules in STORED_RULES.items():
        counts = wh.con.execute(
            "SELECT "
            + ", ".join(f"count(*) FILTER (WHERE {rule})" for rule in rules)
            + f" FROM {table}"
        ).fetchall()[0]
        assert not any(counts), {rule: n for rule, n in zip(rules, counts, strict=True) if n}
    # and everything stored can be read back into Python
    wh.interactions().to_pylist()
    for table in ("surveys", "intervals", "agent_states"):
        wh.sql(f"SELECT * FROM {table}").to_pylist()


# -- hostile values ------------------------------------------------------------------------

SPECIAL_FLOATS = [
    math.nan,
    math.inf,
    -math.inf,
    -1.0,
    -1e-9,
    0.0,
    1.0,
    MAX_DURATION_S,
    MAX_DURATION_S + 1,
    1e10,
    1e300,
    5e-324,
]
durations = st.one_of(
    st.none(), st.sampled_from(SPECIAL_FLOATS), st.floats(min_value=0, max_value=7200)
)
any_floats = st.one_of(st.none(), st.sampled_from(SPECIAL_FLOATS), st.floats())
# near the test day (so that order violations are common), or anywhere Arrow holds
instants = st.one_of(
    st.none(),
    st.integers(T0_US - 3_600_000_000, T0_US + 3_600_000_000),
    st.sampled_from([MIN_US, MAX_US, MIN_US - 1, MAX_US + 1, 0, MIN_US - 86_400_000_000 * 366]),
    st.integers(-(2**62), 2**62),
)
required_instants = st.integers(T0_US - 3_600_000_000, T0_US + 3_600_000_000) | instants


def interaction(i: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "contact_id": st.just(f"c{i}"),
            "initial_contact_id": st.just(f"c{i}"),
            "channel": st.sampled_from([*CHANNELS[:2], "fax", None]),
            "outcome": st.sampled_from(["answered", "abandoned", "lost"]),
            "arrived_at": required_instants,
            "queued_at": instants,
            "answered_at": instants,
            "ended_at": instants,
            "version": st.none() | instants,
            "wait_s": durations,
            "talk_s": durations,
            "hold_s": durations,
            "acw_s": durations,
            "bot_confidence": st.none() | st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.1, math.nan]),
            "queue": st.just("q"),
        }
    )


def survey(i: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "contact_id": st.just(f"c{i}"),
            "surveyed_at": instants,
            "csat": st.none() | st.integers(-128, 127) | st.integers(1, 5),
            "nps": st.none() | st.integers(-128, 127) | st.integers(0, 10),
        }
    )


def interval(i: int) -> st.SearchStrategy[dict[str, Any]]:
    counts = st.one_of(
        st.none(),
        st.sampled_from([math.nan, math.inf, -1.0, 0.0, 1e300]),
        st.floats(min_value=0, max_value=500),
    )
    return st.fixed_dictionaries(
        {
            "queue": st.just(f"q{i}"),
            "interval_start": required_instants,
            "interval_s": st.sampled_from([900.0, 1800.0, 0.0, -900.0, math.nan, math.inf, 1e9]),
            **dict.fromkeys(
                (
                    "offered",
                    "answered",
                    "abandoned",
                    "answered_within",
                    "abandoned_within",
                    "transferred",
                ),
                counts,
            ),
            **dict.fromkeys(
                ("threshold_s", "handle_s", "wait_s", "abandon_wait_s", "staffed_s"), durations
            ),
        }
    )


def agent_state(i: int) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "agent_id": st.just(f"a{i}"),
            "state": st.sampled_from([*AGENT_STATE_CATEGORIES, "lunch"]),
            "started_at": required_instants,
            "ended_at": required_instants,
        }
    )


ROWS = {
    "interactions": interaction,
    "surveys": survey,
    "intervals": interval,
    "agent_states": agent_state,
}


@st.composite
def chunks(draw: st.DrawFn, table: str) -> list[list[dict[str, Any]]]:
    """One to three chunks of rows with distinct keys, each row with its line."""
    sizes = draw(st.lists(st.integers(0, 6), min_size=1, max_size=3))
    out, i = [], 0
    for size in sizes:
        rows = []
        for _ in range(size):
            row = draw(ROWS[table](i))
            row |= {"source": "fake", "source_ref": f"export.json:{i + 2}"}
            rows.append(row)
            i += 1
        out.append(rows)
    return out


@settings(max_examples=40, deadline=None)
@given(table=st.sampled_from(sorted(ROWS)), data=st.data())
def test_nothing_wrong_is_stored_and_every_bad_row_is_a_reject_naming_its_rule(
    table: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = {"export.json": data.draw(chunks(table)), "other.json": data.draw(chunks(table))}
    paths = write_files(tmp_path_factory.mktemp("inv"), list(files))
    adapter = TableAdapter(table, files, rejects=1)
    with pytest.MonkeyPatch.context() as mp:
        use(mp, adapter)
        wh = Warehouse(":memory:")
        # the second file restates the keys of the first (interactions: streamed, then merged)
        for name in ("export.json", "other.json"):
            rows = [r for chunk in files[name] for r in chunk]
            report = wh.ingest(paths[name], format="fake", as_of=None)
            assert report.read == report.loaded + report.rejected + report.duplicates
            assert report.read == len(rows) + len(files[name])  # + the adapter's own rejects
            expected_bad = {r["source_ref"]: broken(table, r) for r in rows}
            assert report.rejected == len(files[name]) + sum(map(bool, expected_bad.values()))
            got = wh.sql(
                "SELECT line, field, value, reason FROM rejects WHERE field <> 'x' "
                "AND source_file = ? ORDER BY line",
                [str(paths[name])],
            ).to_pylist()
            # one reject per bad row (the first rule it breaks), none for a good one
            assert sorted(r["line"] for r in got) == sorted(
                int(ref.rsplit(":", 1)[1]) for ref, bad in expected_bad.items() if bad
            )
            for r in got:
                fields = expected_bad[f"export.json:{r['line']}"]
                assert r["field"] in fields, (r, fields)
                assert r["reason"].startswith(r["field"] + " ")  # it names the field and rule
            assert_stored_rows_keep_the_invariants(wh)
        # what is stored is exactly the good rows, values unchanged
        key = (
            "contact_id"
            if table in ("interactions", "surveys")
            else ("queue" if table == "intervals" else "agent_id")
        )
        good = {
            r[key]
            for chunk in files["export.json"] + files["other.json"]
            for r in chunk
            if not broken(table, r)
        }
        stored = {r[key] for r in wh.sql(f"SELECT {key} FROM {table}").to_pylist()}
        assert stored == good


def leg(i: int, **over: Any) -> dict[str, Any]:
    return {
        "contact_id": f"c{i}",
        "initial_contact_id": f"c{i}",
        "channel": "voice",
        "outcome": "answered",
        "arrived_at": T0_US,
        "queued_at": T0_US + 10_000_000,
        "answered_at": T0_US + 30_000_000,
        "ended_at": T0_US + 200_000_000,
        "wait_s": 20.0,
        "talk_s": 170.0,
        "source": "fake",
        "source_ref": f"calls.json:{i + 1}",
    } | over


def test_the_seen_cases_are_rejects_with_their_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [
        leg(1),
        leg(2, answered_at=T0_US + 300_000_000),  # ended before it was answered
        leg(3, wait_s=math.inf),  # 1e400 read as a float
        leg(4, talk_s=-5.0),
        leg(5, arrived_at=MIN_US - 86_400_000_000),  # year 0
        leg(6, ended_at=None, wait_s=1e10),
        leg(7, bot_confidence=1.2),
    ]
    use(monkeypatch, TableAdapter("interactions", {"calls.json": [rows[:4], rows[4:]]}))
    paths = write_files(tmp_path, ["calls.json"])
    wh = Warehouse(":memory:")
    report = wh.ingest(paths["calls.json"], format="fake")
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (7, 1, 6, 0)
    got = {r["line"]: (r["field"], r["value"], r["reason"]) for r in wh.rejects().to_pylist()}
    assert got[3][0] == "ended_at"
    assert "must not be before answered_at" in got[3][2]
    assert got[4] == ("wait_s", "inf", got[4][2])
    assert "finite number of seconds from 0 to 31622400" in got[4][2]
    assert got[5][:2] == ("talk_s", "-5")
    assert got[6][0] == "arrived_at"
    assert got[6][1].startswith("0000-12-31")
    assert "between 0001-01-01 and 9999-12-31 UTC" in got[6][2]
    assert got[7][:2] == ("wait_s", "1e+10")
    assert got[8][0] == "bot_confidence"
    # the warehouse is readable after it: nothing out of range was stored
    assert [r["contact_id"] for r in wh.interactions().to_pylist()] == ["c1"]
    # the same file again: the same rejects, not stored twice
    again = wh.ingest(paths["calls.json"], format="fake")
    assert (again.loaded, again.rejected, again.duplicates) == (0, 6, 1)
    assert wh.count("rejects") == 6


def test_a_chunk_whose_every_row_is_bad_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rows = [leg(i, hold_s=-1.0) for i in range(1, 500)]
    use(monkeypatch, TableAdapter("interactions", {"calls.json": [rows, [leg(900)]]}))
    wh = Warehouse(":memory:")
    report = wh.ingest(write_files(tmp_path, ["calls.json"])["calls.json"], format="fake")
    assert (report.read, report.loaded, report.rejected) == (500, 1, 499)
    assert wh.count() == 1


# -- a failed load leaves the warehouse as it was, for every table -------------------------


def snapshot(wh: Warehouse) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows (ingests in the order of the loads)."""
    tables = [
        *SCHEMAS,
        "rejects",
        "ingests",
        "surveys_lineage",
        "intervals_lineage",
        "agent_states_lineage",
    ]
    return {
        t: wh.sql(
            f"SELECT * FROM {t} ORDER BY {'started_at' if t == 'ingests' else 'ALL'}"
        ).to_pylist()
        for t in tables
    }


def good_rows(table: str, first: int, n: int) -> list[dict[str, Any]]:
    base = {"source": "fake"}
    out = []
    for i in range(first, first + n):
        ref = {"source_ref": f"f:{i + 1}"}
        if table == "interactions":
            out.append(leg(i))
        elif table == "surveys":
            out.append({"contact_id": f"c{i % 5}", "csat": 1 + i % 5, **base, **ref})
        elif table == "intervals":
            out.append(
                {
                    "queue": f"q{i % 5}",
                    "interval_start": T0_US,
                    "interval_s": 900.0,
                    "offered": float(i),
                    **base,
                    **ref,
                }
            )
        else:
            out.append(
                {
                    "agent_id": f"a{i % 5}",
                    "state": "available",
                    "started_at": T0_US,
                    "ended_at": T0_US + i * 1_000_000,
                    **base,
                    **ref,
                }
            )
    return out


@settings(max_examples=25, deadline=None)
@given(
    table=st.sampled_from(sorted(SCHEMAS)),
    n_chunks=st.integers(1, 4),
    fail_after=st.integers(0, 3),
    size=st.integers(1, 4),
    bad_first=st.booleans(),
)
def test_a_failed_load_leaves_every_table_as_it_was(
    table: str,
    n_chunks: int,
    fail_after: int,
    size: int,
    bad_first: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    fail_after = min(fail_after, n_chunks - 1)
    as_of = {} if table == "interactions" else {"as_of": "2024-02-01T00:00:00Z"}
    first = [good_rows(table, 0, 4)]
    if bad_first:  # the first load refused a row too
        first[0][0] = first[0][0] | {
            "source_ref": "f:99",
            **(
                {"wait_s": -1.0}
                if table == "interactions"
                else {"csat": 9}
                if table == "surveys"
                else {"interval_s": 0.0}
                if table == "intervals"
                else {"ended_at": T0_US - 1}
            ),
        }
    later = [good_rows(table, 3 + k * size, size) for k in range(n_chunks)]
    paths = write_files(tmp_path_factory.mktemp("fail"), ["a.json", "b.json"])
    with pytest.MonkeyPatch.context() as mp:
        wh = Warehouse(":memory:")
        use(mp, TableAdapter(table, {"a.json": first}, rejects=1))
        wh.ingest(paths["a.json"], format="fake")
        before = snapshot(wh)
        use(mp, TableAdapter(table, {"b.json": later}, fail_after=fail_after, rejects=1))
        with pytest.raises(OSError, match="half-way"):
            wh.ingest(paths["b.json"], format="fake", **as_of)
        assert snapshot(wh) == before
        # and the warehouse still takes the file once it reads
        use(mp, TableAdapter(table, {"b.json": later}))
        report = wh.ingest(paths["b.json"], format="fake", **as_of)
        assert report.read == report.loaded + report.rejected + report.duplicates
        assert (report.read, report.rejected) == (sum(map(len, later)), 0)
        assert snapshot(wh) != before
