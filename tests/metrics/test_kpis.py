"""KPI definitions on hand-made contact legs: every number checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from contactops.data import SURVEYS, Warehouse, canonical_batch
from contactops.errors import InvalidParameterError
from contactops.metrics import GRAINS, KPIS, interval_history, kpis

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def leg(
    i: int,
    outcome: str,
    wait: float | None = None,
    *,
    queue: str = "sales",
    minutes: float = 0.0,
    talk: float | None = None,
    hold: float | None = None,
    acw: float | None = None,
    customer: str | None = None,
    initial: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    cid = f"c{i}"
    return {
        "contact_id": cid,
        "initial_contact_id": initial or cid,
        "channel": "voice",
        "queue": queue,
        "arrived_at": at,
        "queued_at": at,
        "outcome": outcome,
        "wait_s": wait,
        "talk_s": talk,
        "hold_s": hold,
        "acw_s": acw,
        "customer_id": customer,
        "source": "test",
        "source_ref": f"t:{i}",
        **extra,
    }


def load(rows: list[dict[str, Any]], surveys: list[dict[str, Any]] | None = None) -> Warehouse:
    wh = Warehouse(":memory:")
    batch = canonical_batch(rows)
    wh.con.register("b", batch)
    wh.con.execute("INSERT INTO interactions SELECT *, 'test' FROM b")
    if surveys:
        s = pa.Table.from_pylist(
            [{**r, "source": "test", "source_ref": "s"} for r in surveys], schema=SURVEYS
        )
        wh.con.register("s", s)
        wh.con.execute("INSERT INTO surveys SELECT * FROM s")
    return wh


# 10 offered: 6 answered (waits 0, 5, 10, 20, 30, 60), 4 abandoned (waits 2, 8, 25, 90)
ROWS = [
    leg(1, "answered", 0, talk=100, hold=10, acw=30),
    leg(2, "answered", 5, talk=200, acw=20),
    leg(3, "answered", 10, talk=300),
    leg(4, "answered", 20, talk=100, transferred_to="billing"),
    leg(5, "answered", 30, talk=None),
    leg(6, "answered", 60, talk=150),
    leg(7, "abandoned", 2),
    leg(8, "abandoned", 8),
    leg(9, "abandoned", 25),
    leg(10, "abandoned", 90),
    leg(11, "deflected", None),
    leg(12, "deflected", None),
]


def one(table: pa.Table) -> dict[str, Any]:
    rows = table.to_pylist()
    assert len(rows) == 1
    return rows[0]


def test_counts_asa_aht_and_rates() -> None:
    r = one(kpis(load(ROWS), by=[]))
    assert (r["offered"], r["answered"], r["abandoned"]) == (10, 6, 4)
    assert r["abandon_rate"] == pytest.approx(0.4)
    assert r["asa"] == pytest.approx((0 + 5 + 10 + 20 + 30 + 60) / 6)
    # AHT over the 5 answered legs with a talk time: talk + hold + acw
    assert r["aht"] == pytest.approx((140 + 220 + 300 + 100 + 150) / 5)
    assert r["transfer_rate"] == pytest.approx(1 / 6)
    assert r["containment_rate"] == pytest.approx(2 / 12)


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ("answered_within_t_over_offered", 4 / 10),  # waits <= 20: 0, 5, 10, 20
        ("answered_within_t_over_answered", 4 / 6),
        ("excl_abandon_before_t", 4 / (10 - 2)),  # abandons within 20: 2, 8
        ("wait_le_t", (4 + 2) / 10),
    ],
)
def test_service_level_definitions(definition: str, expected: float) -> None:
    r = one(kpis(load(ROWS), by=[], threshold=20, sl_definition=definition))
    assert r["service_level"] == pytest.approx(expected)


def test_short_abandons_can_be_excluded() -> None:
    r = one(kpis(load(ROWS), by=[], short_abandon=5, exclude_short_abandons=True))
    assert (r["offered"], r["abandoned"], r["short_abandoned"]) == (9, 3, 1)
    assert r["abandon_rate"] == pytest.approx(3 / 9)
    assert r["service_level"] == pytest.approx(4 / 9)


def test_virtual_service_level_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidParameterError, match="observable from contact records"):
        kpis(load(ROWS), sl_definition="virtual")


def test_fcr_counts_repeats_within_the_window() -> None:
    rows = [
        leg(1, "answered", 0, customer="A", talk=60),
        leg(2, "answered", 0, customer="A", talk=60, minutes=60 * 24 * 3),  # repeat of 1
        leg(3, "answered", 0, customer="A", talk=60, minutes=60 * 24 * 20),  # 17 d after 2
        leg(4, "answered", 0, customer="B", talk=60),
        leg(5, "answered", 0, customer="B", talk=60, minutes=60 * 24 * 8),  # 8 days later
        leg(6, "answered", 0, customer=None, talk=60),  # unknown customer
        # a transfer leg of contact 4 is not a repeat
        leg(
            7,
            "answered",
            0,
            customer="B",
            talk=60,
            minutes=10,
            initial="c4",
            previous_contact_id="c4",
        ),
    ]
    r = one(kpis(load(rows), by=[], fcr_days=7))
    assert r["repeat_rate"] == pytest.approx(1 / 5)
    assert r["fcr"] == pytest.approx(4 / 5)
    r = one(kpis(load(rows), by=[], fcr_days=10))
    assert r["repeat_rate"] == pytest.approx(2 / 5)


def test_fcr_by_day_and_queue_sees_repeats_after_the_end() -> None:
    day = 60 * 24
    rows = [
        leg(1, "answered", 0, customer="A", talk=60),  # day 0 sales
        leg(
            2,
            "answered",
            0,
            customer="A",
            talk=60,
            minutes=day + 5,  # repeat of 1
            queue="billing",
        ),
        leg(3, "answered", 0, customer="B", talk=60, queue="billing"),  # day 0 billing
        leg(4, "answered", 0, customer="C", talk=60, minutes=day),  # day 1 sales
        leg(5, "answered", 0, customer="C", talk=60, minutes=3 * day),  # after the end
        leg(6, "answered", 0, customer="D", talk=60, minutes=2),
    ]  # day 0 sales
    table = kpis(
        load(rows),
        by=["day", "queue"],
        fcr_days=7,
        end=T0 + timedelta(days=2),
        metrics=["repeat_rate"],
    )
    got = {(r["day"].day, r["queue"]): r["repeat_rate"] for r in table.to_pylist()}
    # day 0 sales: 1 (repeated) and 6 (not); day 0 billing: 3; day 1 billing: 2 (its next
    # contact from A never comes); day 1 sales: 4, repeated by 5 which lies after ``end``
    assert got == {
        (2, "sales"): pytest.approx(0.5),
        (2, "billing"): 0.0,
        (3, "billing"): 0.0,
        (3, "sales"): 1.0,
    }


def test_csat_and_nps_with_intervals_and_minimum_sample() -> None:
    rows = [leg(i, "answered", 0, talk=60) for i in range(1, 41)]
    surveys = [
        {
            "contact_id": f"c{i}",
            "csat": 5 if i <= 30 else 2,
            "nps": 10 if i <= 20 else (8 if i <= 30 else 3),
        }
        for i in range(1, 41)
    ]
    r = one(kpis(load(rows, surveys), by=[], min_surveys=30))
    assert r["csat"] == pytest.approx(0.75)
    assert r["csat_lo"] < 0.75 < r["csat_hi"]
    assert r["csat_hi"] - r["csat_lo"] == pytest.approx(0.2596, abs=2e-3)  # Wilson, n=40
    assert r["nps"] == pytest.approx(100 * (20 - 10) / 40)
    assert r["nps_lo"] < 25 < r["nps_hi"]
    r = one(kpis(load(rows, surveys), by=[], min_surveys=41))
    assert r["csat"] is None
    assert r["csat_lo"] is None
    assert r["nps"] is None


def test_grains_split_the_same_totals() -> None:
    rows = [
        leg(
            i,
            "answered",
            1,
            talk=60,
            queue="sales" if i % 2 else "billing",
            minutes=17 * i,
            agent_id=f"a{i % 3}",
        )
        for i in range(1, 31)
    ]
    wh = load(rows)
    for by in (
        ["interval15"],
        ["interval"],
        ["interval60", "queue"],
        ["day", "agent"],
        ["week"],
        ["month", "channel"],
    ):
        assert sum(r["offered"] for r in kpis(wh, by=by).to_pylist()) == 30, by
    per = kpis(wh, by=["interval60"]).to_pylist()
    assert [r["offered"] for r in per][:3] == [3, 4, 3]  # arrivals at 17-minute steps
    assert set(GRAINS) >= {"interval", "day", "week", "month", "queue", "agent", "team", "site"}


def test_time_window_and_timezone() -> None:
    rows = [leg(i, "answered", 1, talk=60, minutes=60 * i) for i in range(24)]
    wh = load(rows)
    r = one(kpis(wh, by=[], start="2026-03-02T10:00:00+00:00", end="2026-03-02T12:00:00+00:00"))
    assert r["offered"] == 2
    days = kpis(wh, by=["day"], timezone="America/New_York").to_pylist()
    # New York is UTC-5 on 2 March: its 2 March ends at 05:00 UTC on the 3rd, so the
    # arrivals 08:00 UTC .. 04:00 UTC fall on the 2nd (21) and 05:00 .. 07:00 on the 3rd
    assert [d["offered"] for d in days] == [21, 3]


def test_interval_history_is_regular_with_zeros() -> None:
    rows = [
        leg(1, "answered", 0, talk=100),
        leg(2, "answered", 0, talk=200, minutes=5),
        leg(3, "abandoned", 9, minutes=95),
        leg(4, "deflected", None, minutes=40),
    ]
    h = interval_history(load(rows), interval_minutes=30).to_pylist()
    assert [(r["ds"].strftime("%H:%M"), r["y"]) for r in h] == [
        ("08:00", 2.0),
        ("08:30", 0.0),
        ("09:00", 0.0),
        ("09:30", 1.0),
    ]
    assert h[0]["aht"] == pytest.approx(150.0)
    assert h[3]["aht"] is None
    assert {"unique_id", "ds", "y"} <= set(h[0])


def test_every_kpi_is_declared_once_with_its_meaning() -> None:
    names = [k.name for k in KPIS]
    assert len(names) == len(set(names))
    for k in KPIS:
        assert k.unit in ("count", "share", "seconds", "score")
        assert k.better in ("higher", "lower", "none")
        assert k.description


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"by": ["fortnight"]}, "by"),
        ({"threshold": -1}, "threshold"),
        ({"sl_definition": "nope"}, "sl_definition"),
        ({"interval_minutes": 20}, "interval_minutes"),
        ({"min_surveys": 0}, "min_surveys"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        kpis(load(ROWS), **kwargs)
    assert info.value.name == name


def test_a_selection_of_kpis_gives_the_same_values() -> None:
    wh = load(ROWS)
    full = one(kpis(wh, by=[]))
    some = one(kpis(wh, by=[], metrics=["service_level", "asa", "fcr"]))
    assert set(some) == {"service_level", "asa", "fcr"}
    for name, value in some.items():
        assert value == full[name]
    with pytest.raises(InvalidParameterError, match="metrics must be one of"):
        kpis(wh, metrics=["speed"])


def test_date_bounds_are_local_midnights() -> None:
    from datetime import date

    # 2026-03-02 08:00 UTC is 17:00 in Tokyo; 2026-03-02 16:00 UTC is 01:00 on 3 March there
    rows = [leg(1, "answered", 0, talk=60), leg(2, "answered", 0, talk=60, minutes=8 * 60)]
    wh = load(rows)
    for start in (date(2026, 3, 3), "2026-03-03"):
        r = one(kpis(wh, by=[], start=start, timezone="Asia/Tokyo", metrics=["answered"]))
        assert r["answered"] == 1, start
    r = one(kpis(wh, by=[], end=date(2026, 3, 3), timezone="Asia/Tokyo", metrics=["answered"]))
    assert r["answered"] == 1
