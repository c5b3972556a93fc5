"""``surveys``: survey results from CSV or Parquet, validated, accounted for, joined to KPIs."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from contactops.cli import app
from contactops.data import FORMATS, IngestReport, Warehouse
from contactops.errors import FormatMismatchError, InvalidParameterError
from contactops.metrics import kpis

if TYPE_CHECKING:
    from pathlib import Path

HEADER = "contact_id,customer_id,surveyed_at,csat,nps,verbatim\n"


def accounted(report: IngestReport | list[IngestReport]) -> IngestReport:
    assert isinstance(report, IngestReport)
    assert report.table == "surveys"
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def surveys(wh: Warehouse) -> dict[str, dict]:
    return {r["contact_id"]: r for r in wh.sql("SELECT * FROM surveys").to_pylist()}


def rejects(wh: Warehouse) -> list[tuple[int | None, str | None, str | None]]:
    return [(r["line"], r["field"], r["value"]) for r in wh.rejects().to_pylist()]


def test_registered() -> None:
    assert FORMATS["surveys"] == "_surveys"


def test_csv_values_by_hand(tmp_path: Path) -> None:
    src = write(
        tmp_path / "s.csv",
        HEADER
        + "c1,u1,2024-03-01 10:00:00,5,10,great\n"
        + "c2,,2024-03-01T10:00:00Z,4.0,,\n"  # 4.0 is 4; Z honoured
        + 'c3,u3,,, 0 ,"slow, but fine"\n'  # nps 0 is a valid answer
        + "c4,,,,,just words\n",
    )  # a verbatim alone is an answer
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="surveys", timezone="Europe/Berlin"))
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (4, 4, 0, 0)
    rows = surveys(wh)
    c1 = rows["c1"]
    # naive 10:00 in Berlin (UTC+1 in March) is 09:00 UTC
    assert c1["surveyed_at"] == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert (c1["customer_id"], c1["csat"], c1["nps"], c1["verbatim"]) == ("u1", 5, 10, "great")
    assert (c1["source"], c1["source_ref"]) == ("surveys", "s.csv:2")
    assert rows["c2"]["surveyed_at"] == datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
    assert (rows["c2"]["csat"], rows["c2"]["nps"], rows["c2"]["customer_id"]) == (4, None, None)
    assert (rows["c3"]["csat"], rows["c3"]["nps"]) == (None, 0)
    assert rows["c3"]["verbatim"] == "slow, but fine"
    assert (rows["c4"]["csat"], rows["c4"]["nps"], rows["c4"]["surveyed_at"]) == (None, None, None)
    assert rows["c4"]["source_ref"] == "s.csv:5"


def test_bad_rows_rejected_with_line_field_value_reason(tmp_path: Path) -> None:
    src = write(
        tmp_path / "bad.csv",
        HEADER
        + "ok1,,,5,9,\n"  # 2
        + "b1,,,0,,\n"  # 3 csat 0
        + "b2,,,6,,\n"  # 4 csat 6
        + "b3,,,4.5,,\n"  # 5 csat not whole
        + "b4,,,good,,\n"  # 6 csat not a number
        + "b5,,,,11,\n"  # 7 nps 11
        + "b6,,,,-1,\n"  # 8 nps -1
        + ",u7,,4,,\n"  # 9 no contact_id
        + "b8,u8,,,,\n"  # 10 no answer at all
        + "b9,,yesterday,3,,\n"  # 11 surveyed_at
        + "b10,,,3\n"  # 12 wrong number of fields
        + "ok2,,,1,0,bad\n",
    )  # 13
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="surveys"))
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (12, 2, 10, 0)
    assert rejects(wh) == [
        (3, "csat", "0"),
        (4, "csat", "6"),
        (5, "csat", "4.5"),
        (6, "csat", "good"),
        (7, "nps", "11"),
        (8, "nps", "-1"),
        (9, "contact_id", None),
        (10, "csat/nps/verbatim", None),
        (11, "surveyed_at", "yesterday"),
        (12, None, "b10,,,3"),
    ]
    reasons = {r["line"]: r["reason"] for r in wh.rejects().to_pylist()}
    assert reasons[3] == reasons[6] == "must be a whole number from 1 to 5"
    assert reasons[7] == "must be a whole number from 0 to 10"
    assert reasons[9].startswith("missing: contact_id is required")
    assert "csat, nps or verbatim" in reasons[10]
    assert "ISO 8601" in reasons[11]
    assert "6 fields like the header" in reasons[12]
    assert set(surveys(wh)) == {"ok1", "ok2"}
    # the same file again adds nothing, and its rejects are stored once
    again = accounted(wh.ingest(src, format="surveys"))
    assert (again.read, again.loaded, again.rejected, again.duplicates) == (12, 0, 10, 2)
    assert wh.count("surveys") == 2
    assert wh.count("rejects") == 10


def test_repeats_in_a_file_are_duplicates(tmp_path: Path) -> None:
    src = write(tmp_path / "dup.csv", HEADER + "d1,,,5,,\nd2,,,4,,\nd1,,,1,,\n")
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="surveys"))
    assert (report.read, report.loaded, report.duplicates) == (3, 2, 1)
    assert surveys(wh)["d1"]["csat"] == 5  # the first line is kept


def test_parquet_with_mapping_value_maps_and_constants(tmp_path: Path) -> None:
    table = pa.table(
        {
            "CallID": ["p0", "p1", "p2", "p3", "p4", "p5", None],
            "Q1": ["Very satisfied", "Dissatisfied", "N/A", "3", "Meh", "Satisfied", "Neutral"],
            "Q2": pa.array([10, 6, 8, 7, 8, 12, 5], type=pa.int64()),
            "When": pa.array(["2024-03-01T12:00:00"] * 7).cast(pa.timestamp("ms")),  # naive
            "Comment": [None, "rude", None, None, None, None, None],
        }
    )
    path = tmp_path / "survey.parquet"
    pq.write_table(table, path)
    mapping = {
        "contact_id": "CallID",
        "surveyed_at": "When",
        "nps": "Q2",
        "verbatim": "Comment",
        "csat": {
            "column": "Q1",
            "values": {
                "Very satisfied": 5,
                "Satisfied": 4,
                "Neutral": 3,
                "Dissatisfied": 2,
                "Very dissatisfied": 1,
                "N/A": None,
            },
        },
        "source": {"value": "qualtrics"},
    }
    wh = Warehouse(":memory:")
    report = accounted(
        wh.ingest(path, format="surveys", mapping=mapping, timezone="America/New_York")
    )
    assert (report.read, report.loaded, report.rejected) == (7, 4, 3)
    rows = surveys(wh)
    assert {k: (r["csat"], r["nps"]) for k, r in rows.items()} == {
        "p0": (5, 10),
        "p1": (2, 6),
        "p2": (None, 8),
        "p3": (3, 7),
    }  # "N/A" mapped to null
    assert rows["p1"]["verbatim"] == "rude"
    assert rows["p0"]["source"] == "qualtrics"
    assert rows["p0"]["source_ref"] == "survey.parquet:0"  # Parquet: 0-based row index
    # naive 12:00 in New York (EST, UTC-5, before the March 10 change) is 17:00 UTC
    assert rows["p0"]["surveyed_at"] == datetime(2024, 3, 1, 17, 0, tzinfo=UTC)
    assert rejects(wh) == [(4, "csat", "Meh"), (5, "nps", "12"), (6, "contact_id", None)]
    assert "value map" in wh.rejects().to_pylist()[0]["reason"]


def test_parquet_numeric_scores_and_no_answer(tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    pq.write_table(
        pa.table(
            {
                "contact_id": ["a", "b", "c", "d"],
                "csat": pa.array([4.0, 4.5, None, 0.0], type=pa.float64()),
                "nps": pa.array([None, 9, None, 3], type=pa.int8()),
            }
        ),
        path,
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(path, format="surveys"))
    assert (report.loaded, report.rejected) == (1, 3)
    assert surveys(wh)["a"]["csat"] == 4
    assert rejects(wh) == [(1, "csat", "4.5"), (2, "csat/nps/verbatim", None), (3, "csat", "0.0")]


def test_latin1_bytes(tmp_path: Path) -> None:
    src = write(
        tmp_path / "enc.csv",
        HEADER.encode() + b"e1,,,4,,Caf\xe9 was cold\n" + "e2,,,5,,Café ok\n".encode(),
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="surveys"))
    assert (report.read, report.loaded, report.rejected) == (2, 1, 1)
    ((line, field, value),) = rejects(wh)
    assert (line, field, value) == (2, "verbatim", "Caf\\xe9 was cold")
    assert "encoding" in wh.rejects().to_pylist()[0]["reason"]
    # said to be latin-1, the same bytes load (the UTF-8 row becomes mojibake, as it should)
    wh2 = Warehouse(":memory:")
    report = accounted(wh2.ingest(src, format="surveys", encoding="latin-1"))
    assert (report.loaded, report.rejected) == (2, 0)
    assert {r["verbatim"] for r in surveys(wh2).values()} == {"Café was cold", "CafÃ© ok"}


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    for name, text in (("zero.csv", ""), ("header.csv", HEADER), ("zero.parquet", "")):
        report = accounted(wh.ingest(write(tmp_path / name, text), format="surveys"))
        assert (report.read, report.loaded, report.rejected) == (0, 0, 0)
    pq.write_table(
        pa.table({"contact_id": pa.array([], pa.string()), "csat": pa.array([], pa.int8())}),
        tmp_path / "none.parquet",
    )
    report = accounted(wh.ingest(tmp_path / "none.parquet", format="surveys"))
    assert (report.read, report.loaded, report.rejected) == (0, 0, 0)
    assert wh.count("surveys") == 0


def test_file_of_the_wrong_format(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    js = write(tmp_path / "answers.csv", '[\n  {"id": 1, "csat": 5},\n  {"id": 2}\n]\n')
    with pytest.raises(FormatMismatchError, match="contact_id"):
        wh.ingest(js, format="surveys")
    report = accounted(wh.ingest(js, format="surveys", file_format="parquet"))
    assert (report.read, report.rejected) == (1, 1)
    assert "not a Parquet file" in wh.rejects().to_pylist()[-1]["reason"]
    # a Parquet file read as CSV: its "header" names none of the columns
    pq.write_table(pa.table({"contact_id": ["x"], "csat": [5]}), tmp_path / "s.parquet")
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(tmp_path / "s.parquet", format="surveys", file_format="csv")
    assert info.value.format == "surveys"
    assert wh.count("surveys") == 0
    # an unknown suffix: Parquet recognised by its magic bytes
    (tmp_path / "s.parquet").rename(tmp_path / "s.export")
    report = accounted(wh.ingest(tmp_path / "s.export", format="surveys"))
    assert (report.read, report.loaded) == (1, 1)
    # contact legs are not surveys: the file is refused, saying what is missing
    legs = write(
        tmp_path / "legs.csv",
        "contact_id,channel,arrived_at,answered_at\nx1,voice,2024-03-01,2024-03-01\n",
    )
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(legs, format="surveys")
    assert info.value.missing == ["csat, nps or verbatim"]
    assert info.value.looks_like == "csv"


def test_missing_and_mis_mapped_columns(tmp_path: Path) -> None:
    src = write(tmp_path / "nocid.csv", "Call,csat\nx,5\ny,4\n")
    wh = Warehouse(":memory:")
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(src, format="surveys")
    assert info.value.missing == ["contact_id"]
    with pytest.raises(FormatMismatchError) as info:
        wh.ingest(src, format="surveys", mapping={"contact_id": "CallID"})
    assert info.value.missing == ["CallID"]
    assert wh.count("surveys") == wh.count("rejects") == 0
    report = accounted(wh.ingest(src, format="surveys", mapping={"contact_id": "Call"}))
    assert (report.loaded, report.rejected) == (2, 0)


def test_yaml_mapping_and_timestamp_format(tmp_path: Path) -> None:
    yml = write(
        tmp_path / "map.yaml",
        'contact_id: Ticket\ncsat: {column: Score, values: {"Top": 5, "Low": 1}}\n'
        'surveyed_at: {column: Done, format: "%d/%m/%Y %H:%M"}\n',
    )
    src = write(
        tmp_path / "t.tsv",
        "Ticket\tScore\tDone\nT1\tTop\t31/01/2024 08:15\n"
        "T2\t2\t01/02/2024 09:00\nT3\tLow\t2024-02-01\n",
    )
    wh = Warehouse(":memory:")
    report = accounted(wh.ingest(src, format="surveys", mapping=str(yml), delimiter="\t"))
    assert (report.loaded, report.rejected) == (2, 1)
    rows = surveys(wh)
    assert rows["T1"]["csat"] == 5
    assert rows["T1"]["surveyed_at"] == datetime(2024, 1, 31, 8, 15, tzinfo=UTC)
    assert rows["T2"]["csat"] == 2
    assert rejects(wh) == [(4, "surveyed_at", "2024-02-01")]
    assert "%d/%m/%Y %H:%M" in wh.rejects().to_pylist()[0]["reason"]


def test_option_errors_are_parameter_errors(tmp_path: Path) -> None:
    src = write(tmp_path / "s.csv", HEADER + "c1,,,5,,\n")
    wh = Warehouse(":memory:")
    with pytest.raises(InvalidParameterError, match="file_format"):
        wh.ingest(src, format="surveys", file_format="xlsx")
    with pytest.raises(InvalidParameterError, match="mapping"):
        wh.ingest(src, format="surveys", mapping={"score": "csat"})
    with pytest.raises(InvalidParameterError, match=r"mapping\.csat"):
        wh.ingest(src, format="surveys", mapping={"csat": {"col": "Q1"}})
    with pytest.raises(InvalidParameterError, match=r"mapping\.csat\.value"):
        wh.ingest(src, format="surveys", mapping={"csat": {"value": 7}})
    with pytest.raises(InvalidParameterError, match="timezone"):
        wh.ingest(src, format="surveys", timezone="Mars/Olympus")
    assert wh.count("surveys") == 0


# -- end to end: contact legs + surveys -> CSAT and NPS by queue ----------------------------

LEGS = "contact_id,channel,queue,arrived_at,answered_at,wait_s,talk_s,outcome\n" + "".join(
    f"{q}{i},voice,{q},2024-03-01 09:{i:02d}:00,2024-03-01 09:{i:02d}:30,30,120,answered\n"
    for q in ("sales", "support")
    for i in range(8)
)

# (contact_id, csat, nps)
ANSWERS = [
    ("sales0", 5, 10),
    ("sales1", 4, 9),
    ("sales2", 2, 9),
    ("sales3", 4, 7),
    ("sales4", 3, 3),
    ("sales5", None, 6),
    ("sales6", 5, None),
    ("support0", 1, 2),
    ("support1", 5, 10),
    ("support2", 2, None),
    ("support3", None, 8),
    ("nobody", 5, 10),  # rates no known contact: loaded, but in no queue
]


def _wilson(good: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = good / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _surveys_csv(path: Path) -> Path:
    body = "".join(
        f"{c},,2024-03-01 10:00:00,{'' if s is None else s},{'' if n is None else n},\n"
        for c, s, n in ANSWERS
    )
    return write(path, HEADER + body)


def test_kpis_csat_and_nps_from_ingested_surveys(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    legs = wh.ingest(write(tmp_path / "legs.csv", LEGS), format="csv")
    assert isinstance(legs, IngestReport)
    assert (legs.loaded, legs.rejected) == (16, 0)
    report = accounted(wh.ingest(_surveys_csv(tmp_path / "surveys.csv"), format="surveys"))
    assert (report.read, report.loaded, report.rejected) == (12, 12, 0)

    # by hand, per queue
    expected = {}
    for q in ("sales", "support"):
        csat = [s for c, s, _ in ANSWERS if c.startswith(q) and s is not None]
        nps = [n for c, _, n in ANSWERS if c.startswith(q) and n is not None]
        good = sum(s >= 4 for s in csat)
        score = 100 * (sum(n >= 9 for n in nps) - sum(n <= 6 for n in nps)) / len(nps)
        expected[q] = (good, len(csat), score, len(nps))
    # sales: csat 5,4,2,4,3,5 -> 4 of 6; nps 10,9,9,7,3,6 -> (3 - 2) / 6 = 16.67
    assert expected["sales"][:2] == (4, 6)
    assert expected["sales"][2] == pytest.approx(100 / 6)
    # support: csat 1,5,2 -> 1 of 3; nps 2,10,8 -> (1 - 1) / 3 = 0
    assert expected["support"] == (1, 3, 0.0, 3)

    result = {r["queue"]: r for r in kpis(wh, by=["queue"], min_surveys=1).to_pylist()}
    assert set(result) == {"sales", "support"}
    for q, (good, n, score, m) in expected.items():
        row = result[q]
        assert row["csat"] == pytest.approx(good / n)
        assert row["nps"] == pytest.approx(score, abs=1e-9)
        assert (row["csat_responses"], row["nps_responses"]) == (n, m)
        assert row["csat_lo"] < row["csat"] < row["csat_hi"]
        lo, hi = _wilson(good, n)
        assert (row["csat_lo"], row["csat_hi"]) == (pytest.approx(lo), pytest.approx(hi))
    # fewer responses than min_surveys: no number
    support = {r["queue"]: r for r in kpis(wh, by=["queue"], min_surveys=4).to_pylist()}
    assert support["support"]["csat"] is None
    assert support["sales"]["csat"] == pytest.approx(4 / 6)
    # a second ingest of the surveys changes nothing
    again = accounted(wh.ingest(tmp_path / "surveys.csv", format="surveys"))
    assert (again.loaded, again.duplicates) == (0, 12)
    assert kpis(wh, by=["queue"], min_surveys=1).to_pylist() == list(result.values())


def test_cli_ingest_format_surveys(tmp_path: Path) -> None:
    runner = CliRunner()
    wh = str(tmp_path / "w.duckdb")
    src = _surveys_csv(tmp_path / "surveys.csv")
    bad = write(tmp_path / "bad.csv", HEADER + "x1,,,9,,\n")
    res = runner.invoke(
        app,
        ["ingest", str(src), "-f", "surveys", "-w", wh, "--timezone", "Europe/Berlin"],
        env={"COLUMNS": "150"},
    )
    assert res.exit_code == 0, res.output
    assert "12" in res.output
    res = runner.invoke(
        app, ["ingest", str(bad), "-f", "surveys", "-w", wh, "--strict"], env={"COLUMNS": "150"}
    )
    assert res.exit_code == 1
    assert "1 row(s) rejected" in res.output
    with Warehouse(wh) as w:
        assert w.count("surveys") == 12
        assert rejects(w) == [(2, "csat", "9")]
