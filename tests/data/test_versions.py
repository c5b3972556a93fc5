"""Versions: a restatement wins only when its export is newer; the same file again
changes nothing; a later Genesys snapshot replaces all the legs of its conversation."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from contactops.data import Chunk, Reject, Warehouse
from contactops.data.adapters import get_adapter
from contactops.errors import InvalidParameterError
from tests.data.test_genesys import _conv, _customer, _part, _seg, transferred
from tests.data.test_invariants import T0_US, TableAdapter, arrow, snapshot, use

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

RESTATED = ("intervals", "surveys", "agent_states")
T1, T2, T3 = "2024-03-04T10:00:00Z", "2024-03-04T11:00:00Z", "2024-03-04T13:00:00+01:00"


def record(table: str, key: int, value: float) -> dict[str, Any]:
    """One record of ``table`` with key ``key`` whose content is ``value``."""
    base = {"source": "fake", "source_ref": f"f:{key + 1}"}
    if table == "intervals":
        return {
            "queue": f"q{key}",
            "interval_start": T0_US,
            "interval_s": 900.0,
            "offered": value,
            **base,
        }
    if table == "surveys":
        return {"contact_id": f"c{key}", "csat": int(value) % 5 + 1, "nps": int(value) % 11, **base}
    return {
        "agent_id": f"a{key}",
        "state": "available",
        "started_at": T0_US,
        "ended_at": T0_US + int(value) * 1_000_000,
        **base,
    }


def values(wh: Warehouse, table: str) -> dict[str, Any]:
    """Key -> the content column of each stored record."""
    col = {
        "intervals": ("queue", "offered"),
        "surveys": ("contact_id", "nps"),
        "agent_states": ("agent_id", "ended_at"),
    }[table]
    return dict(wh.con.execute(f"SELECT {col[0]}, {col[1]} FROM {table}").fetchall())


def files(
    tmp_path: Path, table: str, content: dict[str, list[tuple[int, float]]]
) -> tuple[TableAdapter, dict[str, Path]]:
    chunks = {name: [[record(table, k, v) for k, v in recs]] for name, recs in content.items()}
    paths = {}
    for name, recs in content.items():
        paths[name] = tmp_path / name
        paths[name].write_text(json.dumps(recs), encoding="utf-8")
    return TableAdapter(table, chunks), paths


@pytest.mark.parametrize("table", RESTATED)
def test_new_then_old_keeps_the_new_and_old_then_new_takes_it(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, p = files(
        tmp_path, table, {"old.json": [(1, 3), (2, 4)], "new.json": [(1, 7), (3, 8)]}
    )
    use(monkeypatch, adapter)
    # new, then old: the older export restates nothing
    wh = Warehouse(":memory:")
    wh.ingest(p["new.json"], format="fake", as_of=T2)
    report = wh.ingest(p["old.json"], format="fake", as_of=T1)
    assert (report.loaded, report.replaced, report.duplicates) == (1, 0, 1)  # key 2 is new
    new_first = values(wh, table)
    # old, then new: the newer replaces
    wh2 = Warehouse(":memory:")
    wh2.ingest(p["old.json"], format="fake", as_of=T1)
    report = wh2.ingest(p["new.json"], format="fake", as_of=T2)
    assert (report.loaded, report.replaced, report.duplicates) == (2, 1, 0)
    assert values(wh2, table) == new_first
    assert values(wh2, table) == values_of(table, {1: 7, 2: 4, 3: 8})
    # each record's version is the as_of of the export it came from
    key = {"intervals": "queue", "surveys": "contact_id", "agent_states": "agent_id"}[table]
    versions = dict(wh2.con.execute(f"SELECT {key}, version FROM {table}_lineage").fetchall())
    t1, t2 = (datetime.fromisoformat(t) for t in (T1, T2))
    assert {k[1:]: v for k, v in versions.items()} == {"1": t2, "2": t1, "3": t2}
    assert [r["as_of"] for r in wh2.ingests().to_pylist()] == [t1, t2]


def values_of(table: str, recs: dict[int, float]) -> dict[str, Any]:
    wh = Warehouse(":memory:")
    wh.con.register("r", arrow(table, [record(table, k, v) for k, v in recs.items()]))
    wh.con.execute(f"INSERT INTO {table} SELECT * FROM r")
    return values(wh, table)


@pytest.mark.parametrize("table", RESTATED)
def test_the_same_file_again_changes_nothing_whatever_its_as_of(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, p = files(tmp_path, table, {"a.json": [(1, 3), (2, 4), (2, 5)], "b.json": [(1, 6)]})
    use(monkeypatch, adapter)
    wh = Warehouse(":memory:")
    wh.ingest(p["a.json"], format="fake", as_of=T1)
    wh.ingest(p["b.json"], format="fake", as_of=T2)  # a correction of key 1
    before = snapshot(wh)
    # the first file again, even claimed newer than the correction, or copied elsewhere
    copy = tmp_path / "copy.json"
    copy.write_bytes(p["a.json"].read_bytes())
    adapter.files["copy.json"] = adapter.files["a.json"]
    for path, as_of in ((p["a.json"], T1), (p["a.json"], T3), (copy, None)):
        report = wh.ingest(path, format="fake", as_of=as_of)
        assert (report.read, report.loaded, report.replaced, report.duplicates) == (3, 0, 0, 3)
        assert report.as_of == datetime.fromisoformat(T1)  # the version it got the first time
        after = snapshot(wh)
        assert after.pop("ingests")[:2] == before["ingests"]
        assert after == {k: v for k, v in before.items() if k != "ingests"}


@pytest.mark.parametrize("table", RESTATED)
def test_without_as_of_the_files_modification_time_is_the_version(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, p = files(tmp_path, table, {"old.json": [(1, 3)], "new.json": [(1, 7)]})
    use(monkeypatch, adapter)
    day = datetime(2024, 3, 4, tzinfo=UTC).timestamp()
    os.utime(p["old.json"], (day, day))
    os.utime(p["new.json"], (day + 3600, day + 3600))
    wh = Warehouse(":memory:")
    wh.ingest(p["new.json"], format="fake")
    report = wh.ingest(p["old.json"], format="fake")
    assert report.as_of == datetime(2024, 3, 4, tzinfo=UTC)
    assert (report.loaded, report.duplicates) == (0, 1)
    assert values(wh, table) == values_of(table, {1: 7})


@pytest.mark.parametrize("table", RESTATED)
def test_equal_versions_keep_the_stored_record(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, p = files(tmp_path, table, {"a.json": [(1, 3)], "b.json": [(1, 7)]})
    use(monkeypatch, adapter)
    wh = Warehouse(":memory:")
    wh.ingest(p["a.json"], format="fake", as_of=T1)
    report = wh.ingest(p["b.json"], format="fake", as_of=T1)
    assert (report.loaded, report.replaced, report.duplicates) == (0, 0, 1)
    assert values(wh, table) == values_of(table, {1: 3})


@pytest.mark.parametrize("table", RESTATED)
def test_a_record_restated_identically_takes_the_newer_version(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A (10:00) says 3, C (12:00) says 3 again, B (11:00) says 5: B is older than the
    last word on the record, whatever the order of the loads."""
    adapter, p = files(
        tmp_path, table, {"a.json": [(1, 3)], "b.json": [(1, 5)], "c.json": [(1, 3), (2, 2)]}
    )
    use(monkeypatch, adapter)
    wh = Warehouse(":memory:")
    wh.ingest(p["a.json"], format="fake", as_of="2024-03-04T10:00:00Z")
    report = wh.ingest(p["c.json"], format="fake", as_of="2024-03-04T12:00:00Z")
    assert (report.loaded, report.replaced, report.duplicates) == (1, 0, 1)
    report = wh.ingest(p["b.json"], format="fake", as_of="2024-03-04T11:00:00Z")
    assert (report.loaded, report.duplicates) == (0, 1)
    assert values(wh, table) == values_of(table, {1: 3, 2: 2})


@pytest.mark.parametrize("table", RESTATED)
def test_records_stored_before_versions_lose_to_any_dated_restatement(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, p = files(tmp_path, table, {"new.json": [(1, 7), (2, 4)]})
    use(monkeypatch, adapter)
    wh = Warehouse(":memory:")
    wh.con.register("r", arrow(table, [record(table, 1, 3), record(table, 2, 4)]))
    wh.con.execute(f"INSERT INTO {table} SELECT * FROM r")  # as an older build stored them
    report = wh.ingest(p["new.json"], format="fake", as_of=T1)
    # key 1 restated differently: replaced; key 2 the same: kept, now with the version
    assert (report.loaded, report.replaced, report.duplicates) == (1, 1, 1)
    assert values(wh, table) == values_of(table, {1: 7, 2: 4})
    assert wh.count(table) == 2
    assert wh.sql(
        f"SELECT count(*) AS n FROM {table}_lineage WHERE version = TIMESTAMPTZ '{T1}'"
    ).to_pylist() == [{"n": 2}]


@pytest.mark.parametrize("table", RESTATED)
def test_a_file_loaded_before_versions_were_kept_changes_nothing(
    table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter, p = files(tmp_path, table, {"old.json": [(1, 3)], "new.json": [(1, 7)]})
    use(monkeypatch, adapter)
    wh = Warehouse(":memory:")
    wh.ingest(p["old.json"], format="fake", as_of=T1)
    wh.ingest(p["new.json"], format="fake", as_of=T2)
    # as a warehouse of an older build holds them: no versions, no as_of
    wh.con.execute(f"DELETE FROM {table}_lineage")
    wh.con.execute("UPDATE ingests SET as_of = NULL")
    before = snapshot(wh)
    report = wh.ingest(p["old.json"], format="fake", as_of=T3)
    assert (report.loaded, report.duplicates, report.as_of) == (0, 1, None)
    after = snapshot(wh)
    after.pop("ingests")
    assert after == {k: v for k, v in before.items() if k != "ingests"}


class Refusing:
    """An adapter whose ``refuse`` option rejects the rows of some keys (a mapping that
    lacks an entry, say), so the same file can be loaded with other options."""

    name = "fake"
    description = "refuses keys named in options"
    table = "intervals"

    def read(self, path: Path, options: Mapping[str, Any]) -> Iterator[Chunk]:
        refuse = set(options.get("refuse", ()))
        rows = [record("intervals", k, v) for k, v in json.loads(path.read_text())]
        keep = [r for r in rows if r["queue"] not in refuse]
        rej = [Reject(1, "queue", r["queue"], "no mapping") for r in rows if r["queue"] in refuse]
        yield Chunk("intervals", arrow("intervals", keep), rej, len(rows))


def test_a_file_loaded_again_with_better_options_adds_only_what_was_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, Refusing())
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps([[1, 3], [2, 4]]), encoding="utf-8")
    new.write_text(json.dumps([[1, 7], [2, 8]]), encoding="utf-8")
    wh = Warehouse(":memory:")
    report = wh.ingest(old, format="fake", as_of=T1, refuse=["q2"])
    assert (report.loaded, report.rejected) == (1, 1)
    wh.ingest(new, format="fake", as_of=T2, refuse=["q2"])  # corrects q1
    # the old file again, q2 now mapped: q2 is added (with the old file's version); q1 keeps
    # the correction
    report = wh.ingest(old, format="fake", as_of=T3)
    assert (report.loaded, report.replaced, report.duplicates, report.as_of) == (
        1,
        0,
        1,
        datetime.fromisoformat(T1),
    )
    assert values(wh, "intervals") == {"q1": 7.0, "q2": 4.0}
    # and then the new file, q2 mapped: its newer q2 wins
    report = wh.ingest(new, format="fake")
    assert (report.loaded, report.replaced) == (1, 1)
    assert values(wh, "intervals") == {"q1": 7.0, "q2": 8.0}


def test_as_of_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    adapter, p = files(tmp_path, "intervals", {"a.json": [(1, 3)]})
    use(monkeypatch, adapter)
    wh = Warehouse(":memory:")
    for bad in ("yesterday", "2024-02-30T10:00:00Z", 1709546400, ["2024-03-04"]):
        with pytest.raises(InvalidParameterError, match="as_of must be an ISO 8601 timestamp"):
            wh.ingest(p["a.json"], format="fake", as_of=bad)
    assert wh.count("ingests") == 0
    # naive is UTC; an aware datetime is taken as it is
    report = wh.ingest(p["a.json"], format="fake", as_of="2024-03-04 10:00")
    assert report.as_of == datetime(2024, 3, 4, 10, tzinfo=UTC)
    legs = TableAdapter("interactions", {"a.json": [[]]})
    use(monkeypatch, legs)
    with pytest.raises(InvalidParameterError, match="as_of must be given only for interval"):
        wh.ingest(p["a.json"], format="fake", as_of=datetime(2024, 3, 4, tzinfo=UTC))


# -- Genesys: a later snapshot of a conversation replaces all of its legs ----------------------


def later_transferred() -> dict[str, Any]:
    """The conversation of ``transferred()`` seen later, corrected: the agent in q-sales
    kept the call (no transfer), so it has one leg, and it ended later."""
    return _conv(
        "g-3",
        420,
        _customer(400),
        _part("acd", "voice", [_seg("interact", 0, 20, "q-sales")], {"tAcd": [20_000]}),
        _part(
            "agent",
            "voice",
            [
                _seg("alert", 10, 20, "q-sales"),
                _seg("interact", 20, 400, "q-sales"),
                _seg("wrapup", 400, 420, "q-sales"),
            ],
            {"tAnswered": [20_000], "tTalk": [380_000], "tAcw": [20_000]},
            userId="u-1",
        ),
    )


def other() -> dict[str, Any]:
    return _conv(
        "g-9",
        100,
        _customer(100),
        _part("acd", "voice", [_seg("interact", 0, 100, "q-sales")], {"tAbandon": [100_000]}),
    )


def legs(wh: Warehouse) -> dict[str, tuple[Any, ...]]:
    return {
        r[0]: r[1:]
        for r in wh.con.execute(
            "SELECT contact_id, talk_s, transferred_to, version FROM interactions"
        ).fetchall()
    }


def test_the_genesys_adapter_declares_its_snapshots() -> None:
    assert get_adapter("genesys").snapshot_of == "initial_contact_id"  # type: ignore[attr-defined]


def test_a_later_genesys_snapshot_replaces_all_legs_of_its_conversation(tmp_path: Path) -> None:
    early = tmp_path / "early.json"
    early.write_text(json.dumps({"conversations": [transferred(), other()]}), encoding="utf-8")
    late = tmp_path / "late.json"
    late.write_text(json.dumps({"conversations": [later_transferred()]}), encoding="utf-8")
    wh = Warehouse(":memory:")
    wh.ingest(early, format="genesys")
    assert set(legs(wh)) == {"g-3", "g-3-2", "g-9"}
    report = wh.ingest(late, format="genesys")
    assert (report.read, report.loaded, report.replaced, report.removed) == (1, 1, 1, 1)
    assert report.read == report.loaded + report.rejected + report.duplicates
    got = legs(wh)
    assert set(got) == {"g-3", "g-9"}  # the stale second leg is gone, g-9 untouched
    assert got["g-3"][:2] == (380.0, None)
    assert wh.ingests().column("removed").to_pylist() == [0, 1]
    after_late = snapshot(wh)
    # the early snapshot again: nothing of it comes back
    report = wh.ingest(early, format="genesys")
    assert (report.loaded, report.removed, report.duplicates) == (0, 0, 3)
    # the late one again: nothing changes
    report = wh.ingest(late, format="genesys")
    assert (report.loaded, report.removed, report.duplicates) == (0, 0, 1)
    now = snapshot(wh)
    assert now.pop("ingests")[:2] == after_late.pop("ingests")
    assert now == after_late


def test_an_older_genesys_snapshot_loaded_after_adds_no_stale_leg(tmp_path: Path) -> None:
    early = tmp_path / "early.json"
    early.write_text(json.dumps(transferred()), encoding="utf-8")
    late = tmp_path / "late.json"
    late.write_text(json.dumps(later_transferred()), encoding="utf-8")
    wh = Warehouse(":memory:")
    wh.ingest(late, format="genesys")
    report = wh.ingest(early, format="genesys")
    assert (report.read, report.loaded, report.duplicates, report.removed) == (2, 0, 2, 0)
    assert set(legs(wh)) == {"g-3"}
    # both snapshots in one file, either order: the later one's legs only
    for order in ((transferred(), later_transferred()), (later_transferred(), transferred())):
        both = tmp_path / "both.json"
        both.write_text(json.dumps(list(order)), encoding="utf-8")
        wh = Warehouse(":memory:")
        report = wh.ingest(both, format="genesys")
        assert (report.read, report.loaded, report.duplicates) == (3, 1, 2)
        assert set(legs(wh)) == {"g-3"}


def test_snapshot_rule_is_only_for_adapters_that_declare_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``snapshot_of``, a newer version of one leg replaces that leg only."""

    def leg(cid: str, minutes: int) -> dict[str, Any]:
        return {
            "contact_id": cid,
            "initial_contact_id": "conv",
            "channel": "voice",
            "outcome": "answered",
            "arrived_at": T0_US,
            "source": "fake",
            "source_ref": f"f:{cid}",
            "version": T0_US + minutes * 60_000_000,
        }

    adapter = TableAdapter(
        "interactions",
        {"a.json": [[leg("conv", 1), leg("conv-2", 1)]], "b.json": [[leg("conv", 5)]]},
    )
    use(monkeypatch, adapter)
    paths = {}
    for name in ("a.json", "b.json"):
        paths[name] = tmp_path / name
        paths[name].write_text(name, encoding="utf-8")
    wh = Warehouse(":memory:")
    wh.ingest(paths["a.json"], format="fake")
    report = wh.ingest(paths["b.json"], format="fake")
    assert (report.replaced, report.removed) == (1, 0)
    assert wh.count() == 2
    adapter.snapshot_of = "initial_contact_id"  # type: ignore[attr-defined]
    wh = Warehouse(":memory:")
    wh.ingest(paths["a.json"], format="fake")
    report = wh.ingest(paths["b.json"], format="fake")
    assert (report.replaced, report.removed) == (1, 1)
    assert wh.count() == 1
