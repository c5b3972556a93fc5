"""Genesys Cloud conversation details: legs per queue visit, bad input, KPIs by hand."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from contactops.data import IngestReport, Warehouse
from contactops.errors import FormatMismatchError
from tests.conftest import shared_file

pytestmark = pytest.mark.usefixtures("json_blocks")

if TYPE_CHECKING:
    from pathlib import Path

FMT = "genesys"
T0 = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def _t(s: float) -> str:
    """``s`` seconds after 10:00 as Genesys writes it (ms, Z)."""
    return (T0 + timedelta(seconds=s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seg(
    kind: str, start: float, end: float | None, queue: str | None = None, **extra: Any
) -> dict[str, Any]:
    seg = {"segmentType": kind, "segmentStart": _t(start), **extra}
    if end is not None:
        seg["segmentEnd"] = _t(end)
    if queue:
        seg["queueId"] = queue
    return seg


def _part(
    purpose: str,
    media: str,
    segments: list[dict[str, Any]],
    metrics: dict[str, list[int]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    session: dict[str, Any] = {
        "mediaType": media,
        "direction": "inbound",
        "segments": segments,
        "metrics": [
            {"name": k, "value": v, "emitDate": _t(0)}
            for k, vs in (metrics or {}).items()
            for v in vs
        ],
    }
    user = extra.pop("userId", None)
    session.update(extra)
    part: dict[str, Any] = {"purpose": purpose, "sessions": [session]}
    if user:
        part["userId"] = user
    return part


def _conv(cid: str, end: float | None, *parts: dict[str, Any]) -> dict[str, Any]:
    conv: dict[str, Any] = {
        "conversationId": cid,
        "conversationStart": _t(0),
        "originatingDirection": "inbound",
        "participants": list(parts),
    }
    if end is not None:
        conv["conversationEnd"] = _t(end)
    return conv


def _customer(end: float, media: str = "voice") -> dict[str, Any]:
    return _part("customer", media, [_seg("interact", 0, end)], ani="tel:+15550000001")


def answered_voice() -> dict[str, Any]:
    """IVR 30 s, queue 45 s, talk 225 + 120 s around a 60 s hold, wrap-up 90 s."""
    return _conv(
        "g-1",
        570,
        _customer(480),
        _part("ivr", "voice", [_seg("ivr", 0, 30)]),
        _part(
            "acd",
            "voice",
            [_seg("interact", 30, 75, "q-sales", disconnectType="transfer")],
            {"nOffered": [1], "tAcd": [45_000]},
        ),
        _part(
            "agent",
            "voice",
            [
                _seg("alert", 40, 75, "q-sales"),
                _seg("interact", 75, 300, "q-sales"),
                _seg("hold", 300, 360, "q-sales"),
                _seg("interact", 360, 480, "q-sales"),
                _seg("wrapup", 480, 570, "q-sales", wrapUpCode="sale"),
            ],
            {
                "tAlert": [35_000],
                "tAnswered": [45_000],
                "tTalk": [225_000, 120_000],
                "tTalkComplete": [345_000],
                "tHeld": [60_000],
                "tHeldComplete": [60_000],
                "tAcw": [90_000],
                "tHandle": [495_000],
            },
            userId="u-1",
        ),
    )


def abandoned_voice() -> dict[str, Any]:
    return _conv(
        "g-2",
        150,
        _customer(150),
        _part(
            "acd",
            "voice",
            [_seg("interact", 30, 150, "q-sales")],
            {"nOffered": [1], "tAbandon": [120_000]},
        ),
    )


def transferred() -> dict[str, Any]:
    """Answered in q-sales, then transferred to q-support and answered there."""
    return _conv(
        "g-3",
        390,
        _customer(360),
        _part("acd", "voice", [_seg("interact", 0, 20, "q-sales")], {"tAcd": [20_000]}),
        _part(
            "agent",
            "voice",
            [
                _seg("alert", 10, 20, "q-sales"),
                _seg("interact", 20, 200, "q-sales", disconnectType="transfer"),
            ],
            {"tAnswered": [20_000], "tTalk": [180_000]},
            userId="u-1",
        ),
        _part("acd", "voice", [_seg("interact", 200, 240, "q-support")], {"tAcd": [40_000]}),
        _part(
            "agent",
            "voice",
            [
                _seg("alert", 230, 240, "q-support"),
                _seg("interact", 240, 360, "q-support"),
                _seg("wrapup", 360, 390, "q-support"),
            ],
            {"tAnswered": [40_000], "tTalk": [120_000], "tAcw": [30_000]},
            userId="u-2",
        ),
    )


def flow_out_and_callback() -> list[dict[str, Any]]:
    flow = _conv(
        "g-4",
        200,
        _customer(200),
        _part("acd", "voice", [_seg("interact", 0, 60, "q-a")], {"tAcd": [60_000]}),
        _part("acd", "voice", [_seg("interact", 60, 90, "q-b")], {"tAcd": [30_000]}),
        _part("agent", "voice", [_seg("interact", 90, 200, "q-b")], userId="u-3"),
    )
    callback = _conv(
        "g-5",
        700,
        _customer(30),
        _part("acd", "voice", [_seg("interact", 0, 30, "q-sales")], {"tAcd": [30_000]}),
        _part("acd", "callback", [_seg("interact", 30, 600, "q-sales")], {"tAcd": [570_000]}),
        _part(
            "agent",
            "callback",
            [_seg("interact", 600, 700, "q-sales")],
            {"tAnswered": [570_000]},
            userId="u-4",
        ),
    )
    return [flow, callback]


def ivr_only() -> dict[str, Any]:
    return _conv("g-6", 95, _customer(95), _part("ivr", "voice", [_seg("ivr", 0, 95)]))


def _ingest(wh: Warehouse, path: Path) -> IngestReport:
    report = wh.ingest(path, format=FMT)
    assert isinstance(report, IngestReport)
    assert report.read == report.loaded + report.rejected + report.duplicates
    return report


def _rows(wh: Warehouse) -> dict[str, dict[str, Any]]:
    return {
        r["contact_id"]: r
        for r in wh.sql("SELECT * FROM interactions ORDER BY contact_id").to_pylist()
    }


def _write(path: Path, value: Any, lines: bool = False) -> Path:
    if lines:
        path.write_text("".join(json.dumps(v) + "\n" for v in value), encoding="utf-8")
    else:
        path.write_text(json.dumps(value, indent=2), encoding="utf-8")
    return path


def _all() -> list[dict[str, Any]]:
    return [
        answered_voice(),
        abandoned_voice(),
        transferred(),
        *flow_out_and_callback(),
        ivr_only(),
    ]


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Warehouse, IngestReport]:
    wh = Warehouse(":memory:")
    path = _write(tmp_path / "details.json", {"conversations": _all(), "totalHits": 6})
    return wh, _ingest(wh, path)


# -- legs and KPIs ---------------------------------------------------------------------------


def test_legs_and_outcomes(loaded: tuple[Warehouse, IngestReport]) -> None:
    wh, report = loaded
    assert (report.read, report.loaded, report.rejected, report.duplicates) == (9, 9, 0, 0)
    rows = _rows(wh)
    assert {cid: r["outcome"] for cid, r in rows.items()} == {
        "g-1": "answered",
        "g-2": "abandoned",
        "g-3": "answered",
        "g-3-2": "answered",
        "g-4": "deflected",
        "g-4-2": "answered",
        "g-5": "callback_requested",
        "g-5-2": "answered",
        "g-6": "deflected",
    }
    assert rows["g-5-2"]["channel"] == "callback"
    assert rows["g-1"]["channel"] == "voice"
    assert rows["g-6"]["queue"] is None
    assert rows["g-6"]["queued_at"] is None
    assert rows["g-1"]["source_ref"] == "details.json:1#1"
    assert rows["g-6"]["source_ref"] == "details.json:1#6"


def test_kpi_values_by_hand(loaded: tuple[Warehouse, IngestReport]) -> None:
    rows = _rows(loaded[0])
    g1 = rows["g-1"]
    assert (g1["wait_s"], g1["talk_s"], g1["hold_s"], g1["acw_s"]) == (45.0, 345.0, 60.0, 90.0)
    assert g1["talk_s"] + g1["hold_s"] + g1["acw_s"] == 495.0  # the record's tHandle
    assert g1["arrived_at"] == T0
    assert g1["queued_at"] == T0 + timedelta(seconds=30)
    assert g1["answered_at"] == T0 + timedelta(seconds=75)
    assert g1["ended_at"] == T0 + timedelta(seconds=480)  # the customer left; wrap-up after
    assert (g1["agent_id"], g1["queue"], g1["customer_id"]) == (
        "u-1",
        "q-sales",
        "tel:+15550000001",
    )
    g2 = rows["g-2"]
    assert (g2["wait_s"], g2["talk_s"], g2["agent_id"]) == (120.0, None, None)
    # ASA over the answered legs: (45 + 20 + 40 + 30 + 570) / 5
    answered = [r for r in rows.values() if r["outcome"] == "answered"]
    assert sum(r["wait_s"] for r in answered) / len(answered) == pytest.approx(141.0)
    # no tAnswered on g-4-2: its wait is the acd visit's tAcd; talk from the segment
    assert (rows["g-4-2"]["wait_s"], rows["g-4-2"]["talk_s"]) == (30.0, 110.0)
    assert rows["g-4"]["wait_s"] == 60.0


def test_segments_stand_in_for_missing_metrics(tmp_path: Path) -> None:
    conv = answered_voice()
    for part in conv["participants"]:
        for session in part["sessions"]:
            session["metrics"] = []
    wh = Warehouse(":memory:")
    _ingest(wh, _write(tmp_path / "one.json", conv))
    g1 = _rows(wh)["g-1"]
    assert (g1["wait_s"], g1["talk_s"], g1["hold_s"], g1["acw_s"]) == (45.0, 345.0, 60.0, 90.0)


def test_transfer_chain(loaded: tuple[Warehouse, IngestReport]) -> None:
    rows = _rows(loaded[0])
    first, second = rows["g-3"], rows["g-3-2"]
    assert (first["initial_contact_id"], first["previous_contact_id"]) == ("g-3", None)
    assert (second["initial_contact_id"], second["previous_contact_id"]) == ("g-3", "g-3")
    assert (first["transferred_to"], second["transferred_to"]) == ("q-support", None)
    assert (first["agent_id"], second["agent_id"]) == ("u-1", "u-2")
    assert (first["talk_s"], first["acw_s"]) == (180.0, 0.0)
    assert (second["wait_s"], second["talk_s"], second["acw_s"]) == (40.0, 120.0, 30.0)
    assert second["arrived_at"] == second["queued_at"] == T0 + timedelta(seconds=200)
    assert rows["g-4"]["transferred_to"] == "q-b"
    assert rows["g-5"]["transferred_to"] == "q-sales"


# -- layouts and repeats ---------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["wrapper", "list", "lines", "single"])
def test_layouts(tmp_path: Path, layout: str) -> None:
    convs = _all()
    path = tmp_path / "x.json"
    if layout == "wrapper":
        _write(path, {"totalHits": 6, "conversations": convs})
    elif layout == "list":
        _write(path, convs)
    elif layout == "lines":
        _write(path, convs, lines=True)
    else:
        path = _write(path, convs[0])
    wh = Warehouse(":memory:")
    report = _ingest(wh, path)
    assert report.loaded == (1 if layout == "single" else 9)
    if layout == "lines":
        assert _rows(wh)["g-2"]["source_ref"] == "x.json:2"


def test_a_later_snapshot_replaces_an_earlier_one(tmp_path: Path) -> None:
    complete = answered_voice()
    open_ = copy.deepcopy(complete)  # the same conversation, queried while still talking
    del open_["conversationEnd"]
    agent_segments = open_["participants"][3]["sessions"][0]["segments"]
    del agent_segments[2:]
    del agent_segments[1]["segmentEnd"]
    del open_["participants"][0]["sessions"][0]["segments"][0]["segmentEnd"]
    agent_metrics = open_["participants"][3]["sessions"][0]["metrics"]
    agent_metrics[:] = [m for m in agent_metrics if m["name"] in ("tAlert", "tAnswered")]
    wh = Warehouse(":memory:")
    same_file = _ingest(wh, _write(tmp_path / "both.json", [complete, open_]))
    assert (same_file.read, same_file.loaded, same_file.duplicates) == (2, 1, 1)
    assert _rows(wh)["g-1"]["hold_s"] == 60.0

    wh = Warehouse(":memory:")
    early = _ingest(wh, _write(tmp_path / "early.json", open_))
    assert early.loaded == 1
    assert _rows(wh)["g-1"]["hold_s"] == 0.0
    late = _ingest(wh, _write(tmp_path / "late.json", complete))
    assert (late.loaded, late.replaced) == (1, 1)
    stale = _ingest(wh, tmp_path / "early.json")
    assert (stale.loaded, stale.duplicates) == (0, 1)
    assert wh.count() == 1
    assert _rows(wh)["g-1"]["hold_s"] == 60.0


# -- bad input -------------------------------------------------------------------------------


def test_bad_conversations_are_rejected_whole(tmp_path: Path) -> None:
    bad_day = answered_voice()
    bad_day["conversationId"] = "bad-day"
    bad_day["participants"][2]["sessions"][0]["segments"][0]["segmentEnd"] = (
        "2024-05-6T10:01:15.000Z"
    )
    no_start = abandoned_voice()
    del no_start["conversationStart"]
    bad_metric = transferred()
    bad_metric["participants"][1]["sessions"][0]["metrics"][0]["value"] = "20s"
    cobrowse = ivr_only()
    cobrowse["participants"][0]["sessions"][0]["mediaType"] = "cobrowse"
    wh = Warehouse(":memory:")
    report = _ingest(
        wh,
        _write(
            tmp_path / "bad.jsonl",
            [bad_day, no_start, bad_metric, cobrowse, ivr_only(), "x"],
            lines=True,
        ),
    )
    assert (report.read, report.loaded, report.rejected) == (6, 1, 5)
    got = [(r["line"], r["field"], r["value"]) for r in wh.rejects().to_pylist()]
    assert got == [
        (1, "participants[2].sessions[0].segments[0].segmentEnd", "2024-05-6T10:01:15.000Z"),
        (2, "conversationStart", None),
        (3, "participants[1].sessions[0].metrics[0].value", '"20s"'),
        (4, "participants[0].sessions[0].mediaType", "cobrowse"),
        (6, "conversation", '"x"'),
    ]
    assert all(r["reason"].startswith(("must", "is required")) for r in wh.rejects().to_pylist())


def test_malformed_lines_latin1_empty_and_wrong_files(tmp_path: Path) -> None:
    wh = Warehouse(":memory:")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        json.dumps(answered_voice())
        + '\n{"conversationId": "g-9", \n'
        + json.dumps(ivr_only())
        + "\n",
        encoding="utf-8",
    )
    r = _ingest(wh, broken)
    assert (r.read, r.loaded, r.rejected) == (3, 2, 1)

    latin = tmp_path / "latin1.json"
    conv = ivr_only()
    conv["conversationId"] = "g-\u00e9"
    latin.write_bytes(json.dumps(conv, ensure_ascii=False).encode("latin-1"))
    r = _ingest(wh, latin)
    assert (r.read, r.loaded, r.rejected) == (1, 0, 1)
    assert wh.sql("SELECT value FROM rejects WHERE field = 'conversationId'").to_pylist() == [
        {"value": "g-\\xe9"}
    ]

    pretty = tmp_path / "pretty.json"  # a broken conversation in an indented list
    text = json.dumps([ivr_only(), answered_voice(), abandoned_voice()], indent=2)
    pretty.write_text(text.replace('"purpose": "agent",', '"purpose": "agent"'), encoding="utf-8")
    r = _ingest(Warehouse(":memory:"), pretty)
    assert (r.read, r.loaded, r.rejected) == (3, 2, 1)

    for name, content in [("empty.json", b""), ("none.json", b'{"totalHits": 0}')]:
        (tmp_path / name).write_bytes(content)
        r = _ingest(wh, tmp_path / name)
        assert (r.read, r.loaded, r.rejected) == (0, 0, 0)

    # files of another format are refused before anything is loaded (issue 13)
    before = (wh.count(), wh.count("rejects"), wh.count("ingests"))
    csv = tmp_path / "calls.csv"
    csv.write_text("conversationId,start\ng-1,2024-05-06T10:00:00Z\n", encoding="utf-8")
    with pytest.raises(FormatMismatchError) as err:
        _ingest(wh, csv)
    assert err.value.found == ["conversationId", "start"]

    ctr = tmp_path / "connect.json"  # an Amazon Connect record is not a conversation
    ctr.write_text(
        json.dumps({"ContactId": "c-1", "InitiationMethod": "INBOUND"}), encoding="utf-8"
    )
    with pytest.raises(FormatMismatchError) as err:
        _ingest(wh, ctr)
    assert err.value.missing == ["conversationId", "conversationStart", "participants"]
    assert err.value.looks_like == "amazon-connect"
    assert (wh.count(), wh.count("rejects"), wh.count("ingests")) == before


# -- the real samples ------------------------------------------------------------------------


def test_real_genesys_samples() -> None:
    answered = shared_file("data/formats/genesys_cloud/conversation1_chat_answered_hold.json")
    malformed = shared_file("data/formats/genesys_cloud/conversation2_chat_answered.json")
    wh = Warehouse(":memory:")
    one = _ingest(wh, answered)
    assert (one.read, one.loaded, one.rejected) == (1, 1, 0)
    (leg,) = wh.sql("SELECT * FROM interactions").to_pylist()
    assert leg["contact_id"] == leg["initial_contact_id"] == "1bc96a39-6725-40c4-9345-db72aa67b8c6"
    assert (leg["channel"], leg["outcome"]) == ("chat", "answered")
    assert leg["queue"] == "a623d83c-96d7-4baa-af1f-d46ad6700d8b"
    assert leg["agent_id"] == "50fcd33c-f432-4726-abc9-979f3ca01555"
    # tAnswered 11179 ms, tTalk 374561 ms, tHeld 544176 ms, no wrap-up; tHandle 918737 ms
    assert (leg["wait_s"], leg["talk_s"], leg["hold_s"], leg["acw_s"]) == (
        11.179,
        374.561,
        544.176,
        0.0,
    )
    assert leg["talk_s"] + leg["hold_s"] + leg["acw_s"] == pytest.approx(918.737)
    assert leg["queued_at"] <= leg["answered_at"] <= leg["ended_at"]
    assert leg["answered_at"] - leg["queued_at"] == timedelta(seconds=11.181)
    # SOURCE.md: conversation2's timestamps are malformed ("2021-04-2T..."): one reject
    two = _ingest(wh, malformed)
    assert (two.read, two.loaded, two.rejected) == (1, 0, 1)
    (reject,) = wh.rejects().to_pylist()
    assert reject["field"].endswith("segmentStart")
    assert reject["value"].startswith("2021-04-2T")
