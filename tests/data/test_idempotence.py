"""Property: any interleaving of duplicates and re-ingests leaves the same warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contactops.data import Chunk, Reject, Warehouse, canonical_batch
from contactops.data import _warehouse as warehouse_module

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def record(contact: int, version: int | None) -> dict[str, Any]:
    """The content is a function of (contact, version): one version, one record."""
    v = -1 if version is None else version  # (waits are >= 0: the unversioned wait 0)
    return {"contact_id": f"c{contact}", "initial_contact_id": f"c{contact}",
            "channel": "voice", "queue": f"q{contact % 3}", "arrived_at": T0,
            "outcome": "answered", "wait_s": float(v + 1), "talk_s": float(10 * contact + v + 1),
            "source": "fake", "source_ref": f"f:{contact}:{v}",
            "version": None if version is None else T0 + timedelta(minutes=version)}


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


records = st.lists(st.tuples(st.integers(0, 6), st.one_of(st.none(), st.integers(0, 4))),
                   max_size=12)
files = st.lists(st.tuples(records, st.integers(0, 2)), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None)
@given(files=files, order=st.lists(st.integers(0, 3), min_size=1, max_size=8),
       shuffle=st.randoms(use_true_random=False))
def test_any_interleaving_gives_the_same_warehouse(
        files: list[tuple[list[tuple[int, int | None]], int]], order: list[int],
        shuffle: Any, tmp_path_factory: Any) -> None:
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
            states.append((wh.sql("SELECT contact_id, wait_s, talk_s, version FROM "
                                  "interactions ORDER BY contact_id").to_pylist(),
                           # a reject belongs to a file's content: two files with the same
                           # bytes share theirs, under the path read first
                           wh.sql("SELECT file_sha256, line FROM rejects ORDER BY ALL")
                           .to_pylist()))
        assert states[0] == states[1]
        # and the state is the newest version of each contact
        newest: dict[int, int | None] = {}
        for recs, _bad in files:
            for c, v in recs:
                if c not in newest or (v is not None and (newest[c] is None or v > newest[c])):
                    newest[c] = v
        expected = sorted(((f"c{c}", float(0 if v is None else v + 1))
                           for c, v in newest.items()))
        # one reject per bad row of each distinct file content
        contents = {repr(f): f for f in files}
        assert len(states[0][1]) == sum(bad for _recs, bad in contents.values())
        assert len({r["file_sha256"] for r in states[0][1]}) == sum(
            1 for _recs, bad in contents.values() if bad)
        assert [(r["contact_id"], r["wait_s"]) for r in states[0][0]] == expected
    finally:
        warehouse_module.get_adapter = original  # type: ignore[assignment]
