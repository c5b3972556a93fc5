"""Property: any interleaving of duplicates and re-ingests leaves the same warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contactops.data import Chunk, Reject, Warehouse, canonical_batch
from contactops.data import _warehouse as warehouse_module
from tests.data.test_invariants import TableAdapter, arrow, snapshot
from tests.data.test_versions import record as restated
from tests.data.test_versions import values

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def record(contact: int, version: int | None) -> dict[str, Any]:
    """The content is a function of (contact, version): one version, one record."""
    v = -1 if version is None else version  # (waits are >= 0: the unversioned wait 0)
    return {
        "contact_id": f"c{contact}",
        "initial_contact_id": f"c{contact}",
        "channel": "voice",
        "queue": f"q{contact % 3}",
        "arrived_at": T0,
        "outcome": "answered",
        "wait_s": float(v + 1),
        "talk_s": float(10 * contact + v + 1),
        "source": "fake",
        "source_ref": f"f:{contact}:{v}",
        "version": None if version is None else T0 + timedelta(minutes=version),
    }


class FileAdapter:
    """Each 'file' is a list of (contact, version) records and a number of bad rows."""

    name = "fake"
    description = "in-memory files"
    table = "interactions"

    def __init__(self, files: dict[str, tuple[list[tuple[int, int | None]], int]]) -> None:
        self.files = files

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        recs, bad = self.files[path.name]
        rows = [record(c, v) for c, v in recs]
        half = len(rows) // 2
        for k, part in enumerate((rows[:half], rows[half:])):
            rej = [Reject(j, "wait", "x", "not a number") for j in range(bad)] if k == 0 else []
            yield Chunk("interactions", canonical_batch(part), rej, len(part) + len(rej))


records = st.lists(
    st.tuples(st.integers(0, 6), st.one_of(st.none(), st.integers(0, 4))), max_size=12
)
files = st.lists(st.tuples(records, st.integers(0, 2)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(
    files=files,
    order=st.lists(st.integers(0, 3), min_size=1, max_size=8),
    shuffle=st.randoms(use_true_random=False),
)
def test_any_interleaving_gives_the_same_warehouse(
    files: list[tuple[list[tuple[int, int | None]], int]],
    order: list[int],
    shuffle: Any,
    tmp_path_factory: Any,
) -> None:
    tmp = tmp_path_factory.mktemp("files")
    named = {f"f{i}.json": f for i, f in enumerate(files)}
    paths = []
    for name, content in named.items():
        p = tmp / name
        p.write_text(repr(content), encoding="utf-8")  # a file's bytes are its content
        paths.append(p)
    adapter = FileAdapter(named)
    original = warehouse_module.get_adapter
    warehouse_module.get_adapter = lambda _name: adapter  # type: ignore[assignment]
    try:
        # every file at least once, in one order; then again with repeats in another
        seq_a = list(paths)
        seq_b = [paths[i % len(paths)] for i in order] + list(paths)
        shuffle.shuffle(seq_b)
        states = []
        for seq in (seq_a, seq_b):
            wh = Warehouse(":memory:")
            for p in seq:
                report = wh.ingest(p, format="fake")
                assert report.read == report.loaded + report.rejected + report.duplicates
            states.append(
                (
                    wh.sql(
                        "SELECT contact_id, wait_s, talk_s, version FROM "
                        "interactions ORDER BY contact_id"
                    ).to_pylist(),
                    # a reject belongs to a file's content: two files with the same
                    # bytes share theirs, under the path read first
                    wh.sql("SELECT file_sha256, line FROM rejects ORDER BY ALL").to_pylist(),
                )
            )
        assert states[0] == states[1]
        # and the state is the newest version of each contact
        newest: dict[int, int | None] = {}
        for recs, _bad in files:
            for c, v in recs:
                if c not in newest or (v is not None and (newest[c] is None or v > newest[c])):
                    newest[c] = v
        expected = sorted(((f"c{c}", float(0 if v is None else v + 1)) for c, v in newest.items()))
        # one reject per bad row of each distinct file content
        contents = {repr(f): f for f in files}
        assert len(states[0][1]) == sum(bad for _recs, bad in contents.values())
        assert len({r["file_sha256"] for r in states[0][1]}) == sum(
            1 for _recs, bad in contents.values() if bad
        )
        assert [(r["contact_id"], r["wait_s"]) for r in states[0][0]] == expected
    finally:
        warehouse_module.get_adapter = original  # type: ignore[assignment]


# -- interval reports, surveys, agent states: versions are the exports' as_of times -----------

RESTATED = ("intervals", "surveys", "agent_states")
restated_files = st.lists(
    st.tuples(
        st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), max_size=8), st.integers(0, 2)
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=30, deadline=None)
@given(
    table=st.sampled_from(RESTATED),
    files=restated_files,
    data=st.data(),
    order=st.lists(st.integers(0, 3), min_size=1, max_size=8),
    shuffle=st.randoms(use_true_random=False),
)
def test_any_interleaving_of_older_and_newer_exports_gives_the_same_warehouse(
    table: str,
    files: list[tuple[list[tuple[int, int]], int]],
    data: st.DataObject,
    order: list[int],
    shuffle: Any,
    tmp_path_factory: Any,
) -> None:
    """Each file is an export taken at its own time (``as_of``): whatever the order of
    the loads and however often a file is loaded again, each record ends as the newest
    export has it, with that export's time as its version."""
    hours = data.draw(st.permutations(range(len(files))))  # every export at its own time
    tmp = tmp_path_factory.mktemp("restated")
    chunks, paths, as_of = {}, [], {}
    for i, (recs, bad) in enumerate(files):
        name = f"f{i}.json"
        rows = [
            restated(table, k, v) | {"source_ref": f"f:{j + 1}"} for j, (k, v) in enumerate(recs)
        ]
        # the bad rows: ones the warehouse's guard refuses (an adapter would have, too)
        rows += [
            restated(table, 9, 1) | {"source_ref": f"f:{100 + j}", **BREAK[table]}
            for j in range(bad)
        ]
        chunks[name] = [rows[: len(rows) // 2], rows[len(rows) // 2 :]]
        (tmp / name).write_text(repr((hours[i], recs, bad)), encoding="utf-8")
        paths.append(tmp / name)
        as_of[name] = (T0 + timedelta(hours=hours[i])).isoformat()
    adapter = TableAdapter(table, chunks)
    original = warehouse_module.get_adapter
    warehouse_module.get_adapter = lambda _name: adapter  # type: ignore[assignment]
    try:
        seq_a = list(paths)
        seq_b = [paths[i % len(paths)] for i in order] + list(paths)
        shuffle.shuffle(seq_b)
        states = []
        for seq in (seq_a, seq_b):
            wh = Warehouse(":memory:")
            for p in seq:
                report = wh.ingest(p, format="fake", as_of=as_of[p.name])
                assert report.read == report.loaded + report.rejected + report.duplicates
            states.append(stable(snapshot(wh)))
        assert states[0] == states[1]
        # the newest export of each key has the last word (of its repeats: the first read,
        # the longest span for agent states)
        newest: dict[int, tuple[int, int]] = {}
        for i, (recs, _bad) in enumerate(files):
            mine: dict[int, int] = {}
            for k, v in recs:
                if k not in mine or (table == "agent_states" and v > mine[k]):
                    mine[k] = v
            for k, v in mine.items():
                if k not in newest or hours[i] > newest[k][0]:
                    newest[k] = (hours[i], v)
        expected = Warehouse(":memory:")
        expected.con.register(
            "r", arrow(table, [restated(table, k, v) for k, (_h, v) in newest.items()])
        )
        expected.con.execute(f"INSERT INTO {table} SELECT * FROM r")
        assert values(wh, table) == values(expected, table)
        assert sorted(r["version"] for r in states[0][f"{table}_lineage"]) == sorted(
            T0 + timedelta(hours=h) for h, _v in newest.values()
        )
    finally:
        warehouse_module.get_adapter = original  # type: ignore[assignment]


BREAK = {
    "intervals": {"interval_s": -900.0},
    "surveys": {"csat": 0},
    "agent_states": {"ended_at": 0},
}


def stable(state: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The tables without what differs between two warehouses loaded alike: an ingest
    is named by its file's content, a reject by its file, line, field and reason."""
    sha = {r["ingest_id"]: r["sha256"] for r in state.pop("ingests")}
    state["rejects"] = sorted(
        (r["file_sha256"], r["line"], r["field"], r["reason"]) for r in state["rejects"]
    )  # type: ignore[assignment]
    for name in [t for t in state if t.endswith("_lineage")]:
        state[name] = sorted(
            ({**r, "ingest_id": sha[r["ingest_id"]]} for r in state[name]), key=repr
        )
    return state
