"""Warehouse guarantees: one transaction per load, accounting, versions, errors."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from contactops.data import Chunk, Reject, Warehouse, canonical_batch
from contactops.data import _warehouse as warehouse_module
from contactops.data.adapters._anonymous_bank import HEADER as BANK_HEADER
from contactops.errors import (
    FormatMismatchError,
    InvalidParameterError,
    WarehouseBusyError,
    WarehouseNotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def row(cid: str, version_minutes: float | None = None, wait: float = 1.0) -> dict[str, Any]:
    return {
        "contact_id": cid,
        "initial_contact_id": cid,
        "channel": "voice",
        "queue": "q",
        "arrived_at": T0,
        "outcome": "answered",
        "wait_s": wait,
        "talk_s": 60.0,
        "source": "fake",
        "source_ref": f"f:{cid}",
        "version": None if version_minutes is None else T0 + timedelta(minutes=version_minutes),
    }


class FakeAdapter:
    name = "fake"
    description = "test adapter"
    table = "interactions"

    def __init__(
        self, chunks: list[list[dict[str, Any]]], fail_after: int | None = None, rejects: int = 0
    ) -> None:
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
    r1 = wh.ingest(fake(FakeAdapter([[row("a", 5, wait=5), row("a", 1, wait=1)]])), format="fake")
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
    with pytest.raises(FormatMismatchError) as err:  # refused before anything is loaded
        wh.ingest(wrong, format="anonymous-bank")
    assert "vru+line" in err.value.missing
    assert wh.count("interactions") == 0
    assert wh.rejects().num_rows == 0
    latin = tmp_path / "latin.txt"
    header = "\t".join(BANK_HEADER)
    good = (
        "AA0101\t1\t0\t1\tPS\t990101\t7:00:00\t7:00:05\t5\t7:00:05\t7:00:20\t15\t"
        "AGENT\t7:00:20\t7:03:00\t160\tDANI"
    )
    bad = good.replace("DANI", "DAN\xc9")
    latin.write_bytes(
        (header + "\r\n" + good + "\r\n").encode()
        + bad.encode("latin-1")
        + b"\r\n"
        + b"AA0101\t2\t0\t1\tPS\t99013x\t7:00:00"
        + b"\r\n"
    )
    r = wh.ingest(latin, format="anonymous-bank")
    assert (r.read, r.loaded, r.rejected) == (3, 1, 2)
    reasons = (
        wh.sql("SELECT reason FROM rejects WHERE source_file LIKE '%latin.txt' ORDER BY line")
        .column("reason")
        .to_pylist()
    )
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
    stored = {
        r["contact_id"]: r["wait_s"]
        for r in wh.sql("SELECT contact_id, wait_s FROM interactions").to_pylist()
    }
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


# -- concurrency -------------------------------------------------------------------------------


class SlowAdapter(FakeAdapter):
    """Pauses between chunks, so that two loads of one file overlap in time."""

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        for chunk in super().read(path, options):
            time.sleep(0.02)
            yield chunk


@pytest.mark.parametrize("shared", [False, True], ids=["two-objects", "one-object"])
def test_two_threads_loading_the_same_file_store_each_row_once(
    fake: Any, tmp_path: Path, shared: bool
) -> None:
    db = tmp_path / "ws.duckdb"
    rows = [row(f"c{i}") for i in range(40)]
    path = fake(SlowAdapter([rows[:20], rows[20:]]))
    first = Warehouse(db)
    houses = (
        [first, first]
        if shared
        else [first, Warehouse(str(db.parent / ".." / db.parent.name / db.name))]
    )
    start = threading.Barrier(2)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def load(wh: Warehouse) -> None:
        try:
            start.wait()
            reports.append(wh.ingest(path, format="fake"))
        except BaseException as exc:  # noqa: BLE001 -- reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(wh,)) for wh in houses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted((r.loaded, r.duplicates) for r in reports) == [(0, 40), (40, 0)]
    for wh in houses:
        assert wh.count() == 40
        assert wh.sql("SELECT count(DISTINCT contact_id) AS n FROM interactions").to_pylist() == [
            {"n": 40}
        ]
    for wh in set(houses):
        wh.close()


def test_another_process_holding_the_file_is_named_as_such(tmp_path: Path) -> None:
    db = tmp_path / "held.duckdb"
    Warehouse(db).close()
    holder = subprocess.Popen(  # a second process with the file open (as a running ingest)
        [
            sys.executable,
            "-c",
            (
                "import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
                "print('ready', flush=True); sys.stdin.read()"
            ),
            str(db),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        for create in (True, False):
            with pytest.raises(WarehouseBusyError) as info:
                Warehouse(db, create=create)
            assert "in use by another process" in str(info.value)
            assert "not a DuckDB" not in str(info.value)
            assert pickle.loads(pickle.dumps(info.value)).path == str(db)
    finally:
        holder.communicate("", timeout=30)
    with Warehouse(db, create=False) as wh:  # free again
        assert wh.count() == 0


def test_a_warehouse_that_only_reads_is_never_created(tmp_path: Path, fake: Any) -> None:
    missing = tmp_path / "typo.duckdb"
    with pytest.raises(WarehouseNotFoundError) as info:
        Warehouse(missing, create=False)
    assert "warehouse must be an existing warehouse file" in str(info.value)
    assert str(missing) in str(info.value)
    assert not missing.exists()
    with pytest.raises(WarehouseNotFoundError):
        Warehouse(tmp_path / "no" / "such" / "dir.duckdb", create=False)
    with pytest.raises(WarehouseNotFoundError):
        Warehouse(tmp_path, create=False)  # a directory is not a warehouse file
    assert Warehouse(":memory:", create=False).count() == 0
    with Warehouse(missing) as wh:  # created by a command that writes
        wh.ingest(fake(FakeAdapter([[row("a")]])), format="fake")
    with Warehouse(missing, create=False) as wh:
        assert wh.count() == 1


# -- the zone of the data ----------------------------------------------------------------------


class ZonedAdapter(FakeAdapter):
    """Contact legs of one queue, read (it says) in a zone of its own by default."""

    def __init__(
        self,
        queue: str,
        default_timezone: str | None = None,
        first: int = 0,
        version: float | None = None,
    ) -> None:
        super().__init__(
            [[row(f"{queue}-{i}", version) | {"queue": queue} for i in range(first, first + 3)]]
        )
        if default_timezone is not None:
            self.default_timezone = default_timezone


def test_the_warehouse_remembers_the_zone_of_its_data(fake: Any) -> None:
    wh = Warehouse(":memory:")
    assert (wh.data_timezone(), wh.data_timezones()) == (None, {})
    report = wh.ingest(fake(ZonedAdapter("bank", "Asia/Jerusalem")), format="fake")
    assert isinstance(report, warehouse_module.IngestReport)
    assert report.timezone == "Asia/Jerusalem"
    assert wh.data_timezone() == "Asia/Jerusalem"
    assert wh.data_timezones() == {"bank": "Asia/Jerusalem"}
    # times with their own offsets record no zone: the bank's is still the one
    assert wh.ingest(fake(ZonedAdapter("web")), format="fake").timezone is None
    assert wh.data_timezone() == "Asia/Jerusalem"
    assert wh.data_timezone(["web"]) is None
    # the option wins over the adapter's default; two zones: no single one
    wh.ingest(
        fake(ZonedAdapter("ny", "Asia/Jerusalem")), format="fake", timezone="America/New_York"
    )
    assert wh.data_timezone() is None
    assert wh.data_timezones() == {"bank": "Asia/Jerusalem", "ny": "America/New_York"}
    assert wh.data_timezone("ny") == "America/New_York"
    assert wh.data_timezone(["bank", "web"]) == "Asia/Jerusalem"
    assert wh.data_timezone(["bank", "ny"]) is None
    assert wh.data_timezone(["nowhere"]) is None
    assert wh.ingests().column("timezone").to_pylist() == [
        "Asia/Jerusalem",
        None,
        "America/New_York",
    ]
    # the zone belongs to the stored rows: once newer versions read in UTC replace every
    # row of the bank, the bank's data is in UTC
    wh.ingest(fake(ZonedAdapter("bank", version=5)), format="fake", timezone="UTC")
    assert wh.data_timezones()["bank"] == "UTC"
    # half of them only: two zones for the bank
    wh.ingest(fake(ZonedAdapter("bank", "Asia/Jerusalem", first=2, version=9)), format="fake")
    assert "bank" not in wh.data_timezones()


def test_zones_of_interval_reports_agent_states_and_surveys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.data.test_invariants import TableAdapter, good_rows, use, write_files

    paths = write_files(tmp_path, ["i.json", "a.json", "s.json"])
    wh = Warehouse(":memory:")
    use(monkeypatch, TableAdapter("intervals", {"i.json": [good_rows("intervals", 0, 2)]}))
    wh.ingest(paths["i.json"], format="fake", timezone="Europe/Paris")
    assert wh.data_timezones() == {"q0": "Europe/Paris", "q1": "Europe/Paris"}
    spans = [r | {"queue": "q9"} for r in good_rows("agent_states", 0, 1)]
    use(monkeypatch, TableAdapter("agent_states", {"a.json": [spans]}))
    wh.ingest(paths["a.json"], format="fake", timezone="Europe/Paris")
    assert wh.data_timezones()["q9"] == "Europe/Paris"
    assert wh.data_timezone() == "Europe/Paris"
    use(monkeypatch, TableAdapter("surveys", {"s.json": [good_rows("surveys", 0, 1)]}))
    wh.ingest(paths["s.json"], format="fake", timezone="UTC")
    assert wh.data_timezone() is None  # the surveys were read in another zone
    assert wh.data_timezone(["q0", "q9"]) == "Europe/Paris"  # surveys have no queue
