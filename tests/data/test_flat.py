"""``csv`` and ``parquet``: mapping, vectorised validation, every row accounted for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from contactops.data import IngestReport, Warehouse
from contactops.errors import FormatMismatchError, InvalidParameterError

if TYPE_CHECKING:
    from pathlib import Path

HEADER = "contact_id,channel,queue,arrived_at,answered_at,ended_at,wait_s,talk_s,outcome\n"


def accounted(report: IngestReport | list[IngestReport]) -> IngestReport:
    assert isinstance(report, IngestReport)
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def rejects(wh: Warehouse) -> list[tuple[int | None, str | None, str | None]]:
    return [(r["line"], r["field"], r["value"]) for r in wh.rejects().to_pylist()]


def test_canonical_csv_values_by_hand(tmp_path: Path) -> None:
    src = write(
        tmp_path / "legs.csv",
        HEADER + "a1,Voice,sales,2024-03-01 09:00:00,2024-03-01 09:00:45,2024-03-01 09:05:45,"
        "45,300,answered\n"
        + "a2,chat,sales,2024-03-01T08:10:00Z,,2024-03-01T08:11:00Z,60,,abandoned\n",
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="csv", timezone="Europe/Berlin"))
    assert (report.read, report.loaded, report.rejected) == (2, 2, 0)
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    a1 = rows["a1"]
    # 09:00 in Berlin (UTC+1 in March before DST) is 08:00 UTC
    assert a1["arrived_at"] == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert (a1["answered_at"] - a1["arrived_at"]).total_seconds() == 45 == a1["wait_s"]
    assert a1["channel"] == "voice"  # any case
    assert a1["talk_s"] == 300.0
    assert a1["initial_contact_id"] == "a1"
    assert (a1["source"], a1["source_ref"]) == ("csv", "legs.csv:2")
    a2 = rows["a2"]
    assert a2["arrived_at"] == datetime(2024, 3, 1, 8, 10, tzinfo=UTC)  # Z honoured
    assert a2["outcome"] == "abandoned"
    assert a2["talk_s"] is None
    assert a2["source_ref"] == "legs.csv:3"


def test_bad_rows_rejected_with_line_field_value(tmp_path: Path) -> None:
    body = (
        HEADER
        + "ok1,voice,q,2024-03-01 09:00:00,,,1,,abandoned\n"  # 2
        + "b1,fax,q,2024-03-01 09:00:00,,,1,,answered\n"  # 3 channel
        + "b2,voice,q,yesterday,,,1,,answered\n"  # 4 arrived_at
        + "b3,voice,q,2024-03-01 09:00:00,,,-5,,answered\n"  # 5 wait_s
        + ",voice,q,2024-03-01 09:00:00,,,1,,answered\n"  # 6 contact_id
        + "b5,voice,q,2024-03-01 09:00:00,,,1,,hung up\n"  # 7 outcome
        + "b6,voice,q\n"  # 8 field count
        + "b7,voice,q,,,,1,,answered\n"  # 9 arrived_at
        + "b8,voice,q,2024-03-01 09:00:00,,,ten,,answered\n"  # 10 wait_s
        + "b9,voice,q,2024-13-01 09:00:00,,,1,,answered\n"  # 11 month 13
        + "ok2,voice,q,2024-03-01 09:00:00,,,2,,abandoned\n"
    )  # 12
    src = write(tmp_path / "bad.csv", body)
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="csv"))
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (11, 2, 9, 0)
    assert rejects(wh) == [
        (3, "channel", "fax"),
        (4, "arrived_at", "yesterday"),
        (5, "wait_s", "-5"),
        (6, "contact_id", None),
        (7, "outcome", "hung up"),
        (8, None, "b6,voice,q"),
        (9, "arrived_at", None),
        (10, "wait_s", "ten"),
        (11, "arrived_at", "2024-13-01 09:00:00"),
    ]
    reasons = {r["line"]: r["reason"] for r in wh.rejects().to_pylist()}
    assert "one of voice, chat" in reasons[3]
    assert "9 fields" in reasons[8]
    assert sorted(r["contact_id"] for r in wh.interactions().to_pylist()) == ["ok1", "ok2"]
    # rows after a skipped short row keep their physical line
    assert {r["contact_id"]: r["source_ref"] for r in wh.interactions().to_pylist()} == {
        "ok1": "bad.csv:2",
        "ok2": "bad.csv:12",
    }


def test_latin1_bytes_in_utf8_file(tmp_path: Path) -> None:
    src = write(
        tmp_path / "enc.csv",
        HEADER.encode()
        + b"e1,voice,Caf\xe9,2024-03-01 09:00:00,,,1,,abandoned\n"
        + "e2,voice,Café,2024-03-01 09:00:00,,,1,,abandoned\n".encode(),
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="csv"))
    assert (report.loaded, report.rejected) == (1, 1)
    ((line, field, value),) = rejects(wh)
    assert (line, field, value) == (2, "queue", "Caf\\xe9")
    # said to be latin-1, the same bytes load (and the UTF-8 row is mojibake, as it should)
    wh2 = Warehouse(":memory:")
    accounted(wh2.ingest(src, format="csv", encoding="latin-1"))
    assert {r["queue"] for r in wh2.interactions().to_pylist()} == {"Café", "CafÃ©"}


def test_latin1_bytes_in_a_malformed_row(tmp_path: Path) -> None:
    src = write(
        tmp_path / "enc2.csv",
        HEADER.encode()
        + b"f1,voice,q,2024-03-01 09:00:00,,,1,,abandoned\n"
        + b"f2,voice,Caf\xe9\n"
        + b"f3,voice,Caf\xe9,2024-03-01 09:00:00,,,1,,abandoned\n"
        + b"f4,voice,q,2024-03-01 09:00:00,,,1,,abandoned\n",
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="csv"))
    assert (report.read, report.loaded, report.rejected) == (4, 2, 2)
    assert rejects(wh) == [(3, None, "f2,voice,Caf\\xe9"), (4, "queue", "Caf\\xe9")]
    assert {r["contact_id"]: r["source_ref"] for r in wh.interactions().to_pylist()} == {
        "f1": "enc2.csv:2",
        "f4": "enc2.csv:5",
    }


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    for fmt, name, text in (
        ("csv", "zero.csv", ""),
        ("csv", "header.csv", HEADER),
        ("parquet", "zero.parquet", ""),
    ):
        report = accounted(wh.ingest(write(tmp_path / name, text), format=fmt))
        assert (report.read, report.loaded, report.rejected) == (0, 0, 0)
    assert wh.count() == 0


def test_file_of_the_wrong_format(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    js = write(tmp_path / "tickets.json", '[\n  {"id": 1, "status": 2},\n  {"id": 2}\n]\n')
    # read as CSV, its "header" lacks every column: refused before anything is loaded
    with pytest.raises(FormatMismatchError, match="contact_id") as info:
        wh.ingest(js, format="csv")
    assert info.value.missing == ["contact_id", "arrived_at", "channel", "outcome"]
    assert wh.count() == wh.count("rejects") == wh.count("ingests") == 0
    report = accounted(wh.ingest(js, format="parquet"))
    assert (report.read, report.rejected) == (1, 1)
    assert "not a Parquet file" in wh.rejects().to_pylist()[-1]["reason"]
    # a Parquet file read as CSV: its "header" names none of the columns
    pq.write_table(pa.table({"contact_id": ["x"]}), tmp_path / "legs.parquet")
    with pytest.raises(FormatMismatchError):
        wh.ingest(tmp_path / "legs.parquet", format="csv")
    assert wh.count() == 0


def test_missing_columns_refuse_the_file_before_loading(tmp_path: Path) -> None:
    # issue 13: a header without what the format needs is not "every row rejected" but a
    # wrong file, refused before anything is loaded, naming the columns it lacks
    src = write(
        tmp_path / "nocid.csv",
        "channel,arrived_at,outcome\nvoice,2024-03-01 09:00,"
        "answered\nchat,2024-03-01 09:01,abandoned\n",
    )
    wh = Warehouse(":memory:")
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(src, format="csv")
    assert (info.value.missing, info.value.found) == (
        ["contact_id"],
        ["channel", "arrived_at", "outcome"],
    )
    # a mapping naming a column the file lacks
    with pytest.raises(FormatMismatchError, match="CallID"):
        wh.ingest(src, format="csv", mapping={"contact_id": "CallID"})
    assert wh.count() == wh.count("rejects") == 0
    # without an outcome column, answered_at is enough (the outcome is derived)
    legs = write(
        tmp_path / "legs.csv",
        "contact_id,channel,arrived_at,answered_at\na,voice,2024-03-01 09:00,2024-03-01 09:01\n",
    )
    assert accounted(wh.ingest(legs, format="csv")).loaded == 1


def test_duplicates_within_a_file_and_across_ingests(tmp_path: Path) -> None:
    src = write(
        tmp_path / "dup.csv",
        HEADER
        + "d1,voice,q,2024-03-01 09:00:00,,,1,,abandoned\n"
        + "d2,voice,q,2024-03-01 09:00:00,,,1,,abandoned\n"
        + "d1,voice,q,2024-03-01 09:00:00,,,1,,abandoned\n"
        + "d3,voice,q,bad,,,1,,abandoned\n",
    )
    wh = Warehouse(":memory:")
    first = accounted(wh.ingest(src, format="csv"))
    assert (first.read, first.loaded, first.duplicates, first.rejected) == (4, 2, 1, 1)
    again = accounted(wh.ingest(src, format="csv"))
    assert (again.read, again.loaded, again.duplicates, again.rejected) == (4, 0, 3, 1)
    assert wh.count() == 2
    assert wh.count("rejects") == 1  # the same reject is stored once


def test_mapping_yaml_constants_values_format_scale(tmp_path: Path) -> None:
    src = write(
        tmp_path / "acd.csv",
        "CallID;Start;Result;QueueMs;Split\n"
        "7;01/03/2024 09:00:00;ANS;12500;billing\n"
        "8;01/03/2024 09:01:00;ABN;3000;billing\n"
        "9;01/03/2024 09:02:00;XFER;0;billing\n",
    )
    mapping = write(
        tmp_path / "map.yaml",
        """\
contact_id: CallID
queue: Split
channel: {value: voice}
arrived_at: {column: Start, format: "%d/%m/%Y %H:%M:%S"}
outcome: {column: Result, values: {ANS: answered, ABN: abandoned}}
wait_s: {column: QueueMs, scale: 0.001}
source: {value: my-acd}
""",
    )
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            src, format="csv", mapping=str(mapping), delimiter=";", timezone="America/New_York"
        )
    )
    assert (report.loaded, report.rejected) == (2, 1)
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    assert rows["7"]["wait_s"] == 12.5
    assert rows["7"]["outcome"] == "answered"
    assert rows["8"]["outcome"] == "abandoned"
    assert rows["7"]["arrived_at"] == datetime(2024, 3, 1, 14, 0, tzinfo=UTC)  # EST = UTC-5
    assert rows["7"]["source"] == "my-acd"
    assert rows["7"]["channel"] == "voice"
    assert rejects(wh) == [(4, "outcome", "XFER")]


def test_mapping_errors_are_parameter_errors(tmp_path: Path) -> None:
    src = write(tmp_path / "x.csv", HEADER)
    wh = Warehouse(":memory:")
    with pytest.raises(InvalidParameterError, match="canonical column"):
        wh.ingest(src, format="csv", mapping={"callid": "contact_id"})
    with pytest.raises(InvalidParameterError, match=r"mapping\.channel\.value"):
        wh.ingest(src, format="csv", mapping={"channel": {"value": "pigeon"}})
    with pytest.raises(InvalidParameterError, match="YAML"):
        wh.ingest(src, format="csv", mapping=str(tmp_path / "missing.yaml"))
    with pytest.raises(InvalidParameterError, match="time zone"):
        wh.ingest(src, format="csv", timezone="Mars/Olympus")


def test_outcome_derived_when_absent_and_source_column_kept(tmp_path: Path) -> None:
    src = write(
        tmp_path / "o.csv",
        "contact_id,initial_contact_id,channel,arrived_at,"
        "answered_at,source\n"
        "l2,l1,voice,2024-03-01 09:00,2024-03-01 09:01,pbx\n"
        "l3,,voice,2024-03-01 09:00,,\n",
    )
    wh = Warehouse(":memory:")
    accounted(wh.ingest(src, format="csv"))
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    assert (rows["l2"]["outcome"], rows["l2"]["initial_contact_id"], rows["l2"]["source"]) == (
        "answered",
        "l1",
        "pbx",
    )
    assert (rows["l3"]["outcome"], rows["l3"]["initial_contact_id"], rows["l3"]["source"]) == (
        "abandoned",
        "l3",
        "csv",
    )


def test_parquet_batches_rejects_by_row_index(tmp_path: Path) -> None:
    n = 10
    cids: list[str | None] = [f"p{i}" for i in range(n)]
    cids[4] = None
    waits = [float(i) for i in range(n)]
    waits[7] = -1.0
    channels = ["voice"] * n
    channels[2] = "smoke signal"
    table = pa.table(
        {
            "contact_id": cids,
            "channel": channels,
            "arrived_at": pa.array(
                [datetime(2024, 7, 1, 9, i) for i in range(n)],  # noqa: DTZ001
                pa.timestamp("ms"),
            ),
            "wait_s": waits,
            "priority": pa.array([1, 2, 3, 4, 5, 1, 2, 3, 4, 5], pa.int64()),
            "outcome": ["answered"] * n,
        }
    )
    pq.write_table(table, tmp_path / "legs.parquet", row_group_size=4)
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(
            tmp_path / "legs.parquet", format="parquet", batch_rows=3, timezone="Europe/London"
        )
    )
    assert (report.read, report.loaded, report.rejected) == (10, 7, 3)
    assert rejects(wh) == [
        (2, "channel", "smoke signal"),
        (4, "contact_id", None),
        (7, "wait_s", "-1.0"),
    ]
    rows = {r["contact_id"]: r for r in wh.interactions().to_pylist()}
    # 09:05 in London in July (BST, UTC+1) is 08:05 UTC
    assert rows["p5"]["arrived_at"] == datetime(2024, 7, 1, 8, 5, tzinfo=UTC)
    assert rows["p5"]["priority"] == 1
    assert rows["p9"]["source_ref"] == "legs.parquet:9"
    assert rows["p9"]["source"] == "parquet"
    again = accounted(wh.ingest(tmp_path / "legs.parquet", format="parquet"))
    assert (again.loaded, again.duplicates) == (0, 7)


def test_unix_seconds_out_of_range_are_rejects_not_a_wrapped_date(tmp_path: Path) -> None:
    seconds = [1_719_824_400, 99_999_999_999_999, -99_999_999_999_999, 1_719_824_460]
    pq.write_table(
        pa.table(
            {
                "contact_id": [f"u{i}" for i in range(4)],
                "channel": ["voice"] * 4,
                "arrived_at": pa.array(seconds, pa.int64()),
                "outcome": ["abandoned"] * 4,
            }
        ),
        tmp_path / "unix.parquet",
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(tmp_path / "unix.parquet", format="parquet"))
    assert (report.loaded, report.rejected) == (2, 2)
    assert rejects(wh) == [
        (1, "arrived_at", "99999999999999"),
        (2, "arrived_at", "-99999999999999"),
    ]
    reasons = wh.sql("SELECT DISTINCT reason FROM rejects").column("reason").to_pylist()
    assert len(reasons) == 1
    assert reasons[0].startswith("must be Unix seconds from 0001-01-01 to 9999-12-31")
    stamps = sorted(r["arrived_at"] for r in wh.interactions().to_pylist())
    assert stamps == [
        datetime(2024, 7, 1, 9, 0, tzinfo=UTC),
        datetime(2024, 7, 1, 9, 1, tzinfo=UTC),
    ]
