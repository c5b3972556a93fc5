"""Warehouse guarantees: one transaction per load, accounting, versions, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from contactops.data import Chunk, Reject, Warehouse, canonical_batch
from contactops.data import _warehouse as warehouse_module
from contactops.errors import InvalidParameterError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def row(cid: str, version_minutes: float | None = None, wait: float = 1.0) -> dict[str, Any]:
    return {"contact_id": cid, "initial_contact_id": cid, "channel": "voice", "queue": "q",
            "arrived_at": T0, "outcome": "answered", "wait_s": wait, "talk_s": 60.0,
            "source": "fake", "source_ref": f"f:{cid}",
            "version": None if version_minutes is None else T0 + timedelta(
                minutes=version_minutes)}


class FakeAdapter:
    name = "fake"
    description = "test adapter"
    table = "interactions"

    def __init__(self, chunks: list[list[dict[str, Any]]], fail_after: int | None = None,
                 rejects: int = 0) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.rejects = rejects

    reads = 0  # how many times the file was read (streamed, then staged on a clash)

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        self.reads += 1
        for k, rows in enumerate(self.chunks):
            if self.fail_after is not None and k == self.fail_after:
                raise OSError("disk went away half-way")
            rej = [Reject(k * 100 + j, "f", "v", "bad") for j in range(self.rejects)]
            yield Chunk("interactions", canonical_batch(rows), rej, len(rows) + len(rej))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    holder: dict[str, FakeAdapter] = {}
    monkeypatch.setattr(warehouse_module, "get_adapter", lambda _name: holder["a"])
    src = tmp_path / "export.json"
    src.write_text("{}", encoding="utf-8")

    def use(adapter: FakeAdapter) -> Path:
        holder["a"] = adapter
        return src
    return use


def test_an_error_half_way_leaves_the_warehouse_as_it_was(fake: Any) -> None:
    wh = Warehouse(":memory:")
    path = fake(FakeAdapter([[row("a"), row("b")]], rejects=1))
    wh.ingest(path, format="fake")
    before = (wh.interactions(), wh.rejects(), wh.ingests())
    path = fake(FakeAdapter([[row("c")], [row("d")], [row("e")]], fail_after=2, rejects=1))
    with pytest.raises(OSError, match="half-way"):
        wh.ingest(path, format="fake")
    assert wh.interactions().equals(before[0])
    assert wh.rejects().equals(before[1])
    assert wh.ingests().num_rows == before[2].num_rows
    # and the warehouse still works
    report = wh.ingest(fake(FakeAdapter([[row("c")]])), format="fake")
    assert report.loaded == 1


def test_newer_versions_replace_older_in_any_order(fake: Any) -> None:
    wh = Warehouse(":memory:")
    r1 = wh.ingest(fake(FakeAdapter([[row("a", 5, wait=5), row("a", 1, wait=1)]])),
                   format="fake")
    assert (r1.read, r1.loaded, r1.duplicates) == (2, 1, 1)
    r2 = wh.ingest(fake(FakeAdapter([[row("a", 3, wait=3)]])), format="fake")
    assert (r2.loaded, r2.replaced, r2.duplicates) == (0, 0, 1)  # older: ignored
    r3 = wh.ingest(fake(FakeAdapter([[row("a", 9, wait=9)]])), format="fake")
    assert (r3.loaded, r3.replaced, r3.duplicates) == (1, 1, 0)
    assert wh.interactions().column("wait_s").to_pylist() == [9.0]


def test_reports_always_add_up(fake: Any) -> None:
    wh = Warehouse(":memory:")
    rows = [row(f"c{i % 7}") for i in range(20)]
    r = wh.ingest(fake(FakeAdapter([rows[:10], rows[10:]], rejects=2)), format="fake")
    assert r.read == 24
    assert r.read == r.loaded + r.rejected + r.duplicates
    assert (r.loaded, r.rejected, r.duplicates) == (7, 4, 13)
    assert wh.count("rejects") == 4
    again = wh.ingest(fake(FakeAdapter([rows[:10], rows[10:]], rejects=2)), format="fake")
    assert (again.loaded, again.rejected, again.duplicates) == (0, 4, 20)
    assert wh.count("rejects") == 4  # the same rejects are not stored twice


def test_warehouse_file_persists(tmp_path: Path, fake: Any) -> None:
    db = tmp_path / "ws.duckdb"
    with Warehouse(db) as wh:
        wh.ingest(fake(FakeAdapter([[row("a"), row("b")]])), format="fake")
    with Warehouse(db) as wh:
        assert wh.count() == 2
        assert wh.ingests().num_rows == 1


def test_errors_name_the_problem(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    with pytest.raises(InvalidParameterError, match="format must be one of"):
        wh.ingest(tmp_path / "x.txt", format="excel")
    with pytest.raises(InvalidParameterError, match="an existing file"):
        wh.ingest(tmp_path / "missing.txt", format="anonymous-bank")
    with pytest.raises(InvalidParameterError, match="a warehouse table"):
        wh.count("users")
    bad = tmp_path / "not-a-db.duckdb"
    bad.write_text("plain text", encoding="utf-8")
    with pytest.raises(InvalidParameterError, match="DuckDB"):
        Warehouse(bad)


def test_wrong_format_and_empty_file_are_reported_not_crashed(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    r = wh.ingest(empty, format="anonymous-bank")
    assert (r.read, r.loaded, r.rejected) == (0, 0, 0)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b,c\n1,2,3\n4,5,6\n", encoding="utf-8")
    r = wh.ingest(wrong, format="anonymous-bank")
    assert (r.read, r.loaded, r.rejected) == (3, 0, 3)
    assert "not an anonymous-bank file" in wh.rejects().column("reason")[0].as_py()
    latin = tmp_path / "latin.txt"
    header = "\t".join(["vru+line", "call_id", "customer_id", "priority", "type", "date",
                        "vru_entry", "vru_exit", "vru_time", "q_start", "q_exit", "q_time",
                        "outcome", "ser_start", "ser_exit", "ser_time", "server"])
    good = ("AA0101\t1\t0\t1\tPS\t990101\t7:00:00\t7:00:05\t5\t7:00:05\t7:00:20\t15\t"
            "AGENT\t7:00:20\t7:03:00\t160\tDANI")
    bad = good.replace("DANI", "DAN\xc9")
    latin.write_bytes((header + "\r\n" + good + "\r\n").encode() + bad.encode("latin-1")
                      + b"\r\n" + b"AA0101\t2\t0\t1\tPS\t99013x\t7:00:00" + b"\r\n")
    r = wh.ingest(latin, format="anonymous-bank")
    assert (r.read, r.loaded, r.rejected) == (3, 1, 2)
    reasons = wh.sql("SELECT reason FROM rejects WHERE source_file LIKE '%latin.txt' "
                     "ORDER BY line").column("reason").to_pylist()
    assert reasons[0].startswith("not UTF-8")
    assert "17 tab-separated fields" in reasons[1]


def test_of_two_copies_in_a_file_the_first_read_wins(fake: Any) -> None:
    wh = Warehouse(":memory:")
    rows = [row(f"x{i}", wait=float(i)) for i in range(12)]
    first = row("dup", wait=1.0) | {"source_ref": "f:10"}
    second = row("dup", wait=2.0) | {"source_ref": "f:2"}  # sorts first as text, read second
    wh.ingest(fake(FakeAdapter([[*rows, first], [second]])), format="fake")
    kept = wh.sql("SELECT wait_s FROM interactions WHERE contact_id = 'dup'").to_pylist()
    assert kept == [{"wait_s": 1.0}]


def test_a_clean_file_is_read_once_a_clash_found_late_is_read_again(fake: Any) -> None:
    wh = Warehouse(":memory:")
    first = FakeAdapter([[row("a", 1, wait=1)], [row("b", 1, wait=1)]])
    wh.ingest(fake(first), format="fake")
    assert first.reads == 1  # streamed straight in
    # the first batch is new, a later one holds a newer version of a stored record:
    # the streamed rows are rolled back and the file is merged again, staged
    late = FakeAdapter([[row("c", 1)], [row("a", 5, wait=5), row("d", 1)]])
    report = wh.ingest(fake(late), format="fake")
    assert late.reads == 2
    assert (report.read, report.loaded, report.replaced, report.duplicates) == (3, 3, 1, 0)
    # the same file again: the first batch overlaps, so it is staged at once
    again = FakeAdapter(late.chunks)
    report = wh.ingest(fake(again), format="fake")
    assert again.reads == 1
    assert (report.read, report.loaded, report.duplicates) == (3, 0, 3)
    # a repeat inside a new file, found after streaming: the first copy read wins
    repeat = FakeAdapter([[row("e", wait=1)], [row("e", wait=2)]])
    report = wh.ingest(fake(repeat), format="fake")
    assert repeat.reads == 2
    assert (report.loaded, report.duplicates) == (1, 1)
    stored = {r["contact_id"]: r["wait_s"] for r in
              wh.sql("SELECT contact_id, wait_s FROM interactions").to_pylist()}
    assert stored == {"a": 5.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": 1.0}
    assert wh.sql("SELECT count(*) AS n FROM ingests").to_pylist() == [{"n": 4}]


def test_progress_never_goes_back_when_a_clash_makes_the_file_read_again(fake: Any) -> None:
    """``progress`` gets the rows read so far: a second, staged read after a late clash
    does not send it back to the start (a bar would jump back), and it ends at ``read``."""
    wh = Warehouse(":memory:")
    wh.ingest(fake(FakeAdapter([[row("a", 1)]])), format="fake")
    seen: list[int] = []
    late = FakeAdapter([[row("b")], [row("c")], [row("a", 5)]], rejects=1)
    report = wh.ingest(fake(late), format="fake", progress=seen.append)
    assert late.reads == 2
    assert isinstance(report, warehouse_module.IngestReport)
    assert seen == sorted(seen)
    assert seen[-1] == report.read == 6


def test_a_reject_is_stored_once_per_file_content(fake: Any, tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    adapter = FakeAdapter([[row("a")]], rejects=2)
    path = fake(adapter)
    assert wh.ingest(path, format="fake").rejected == 2
    # the same bytes by another path (a copy, a relative path): nothing new is stored
    copy = tmp_path / "copy.json"
    copy.write_bytes(path.read_bytes())
    assert wh.ingest(copy, format="fake").rejected == 2  # reported, as read
    assert wh.count("rejects") == 2
    # another file written to the first path, with the same bad lines: its own rejects
    path.write_text('{"other": 1}', encoding="utf-8")
    wh.ingest(path, format="fake")
    assert wh.count("rejects") == 4
    shas = wh.sql("SELECT DISTINCT file_sha256 FROM rejects").column(0).to_pylist()
    assert len(shas) == 2
