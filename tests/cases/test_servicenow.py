"""Replay of the ServiceNow event log: a hand-made log with known answers, then the real one."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from contactops.cases import BusinessCalendar, read_servicenow_log, replay_servicenow
from contactops.cases._servicenow import _REQUIRED
from contactops.errors import InvalidParameterError
from tests.conftest import shared_file

H = 3600.0
COLUMNS = [*_REQUIRED, "caller_id"]


def _write(path, rows):
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow(
                {
                    "caller_id": "Caller 1",
                    "impact": "2 - Medium",
                    "urgency": "2 - Medium",
                    "priority": "3 - Moderate",
                    "resolved_at": "?",
                    **r,
                }
            )


def _row(number, mod, state, group, at, made="true", **extra):
    return {
        "number": number,
        "sys_mod_count": mod,
        "incident_state": state,
        "assignment_group": group,
        "sys_updated_at": at,
        "opened_at": "2/3/2016 09:00",
        "made_sla": made,
        **extra,
    }


def test_hand_made_log(tmp_path):
    path = tmp_path / "log.csv"
    resolved = {"resolved_at": "3/3/2016 13:00"}
    _write(
        path,
        [
            # A: group 1 for 2 h, waits on the user 10 h, group 2 resolves; 24x7: 4 h + 2 h = 18 h?
            _row("INC1", 0, "New", "Group 1", "2/3/2016 09:00", **resolved),
            _row("INC1", 1, "Awaiting User Info", "Group 1", "2/3/2016 11:00", **resolved),
            _row("INC1", 2, "Active", "Group 2", "2/3/2016 21:00", **resolved),
            _row("INC1", 3, "Resolved", "Group 2", "3/3/2016 13:00", **resolved),
            # B: never assigned at first (exception queue), critical, unresolved, missed
            _row(
                "INC2",
                0,
                "New",
                "?",
                "2/3/2016 09:00",
                made="false",
                impact="1 - High",
                urgency="1 - High",
                priority="1 - Critical",
            ),
            _row(
                "INC2",
                1,
                "Active",
                "Group 1",
                "2/3/2016 09:30",
                made="false",
                impact="1 - High",
                urgency="1 - High",
                priority="1 - Critical",
            ),
        ],
    )
    incidents = read_servicenow_log(path)
    assert [i.number for i in incidents] == ["INC1", "INC2"]
    result = replay_servicenow(incidents, targets={1: 0.25 * H, 3: 24 * H})
    one, two = result.outcomes
    # 2 h before the wait + 16 h after it (21:00 -> 13:00); the 10 h wait does not count
    assert one.business_s == 18 * H
    assert (one.handoffs, one.pauses, one.resolved) == (1, 1, True)
    assert one.engine_met
    assert one.log_met
    assert two.priority == two.matrix_priority == 1
    assert not two.resolved
    assert not two.engine_met  # 30 minutes > 15-minute target
    assert two.handoffs == 1
    assert result.matrix_agreement == 1.0
    by = {p.priority: p for p in result.by_priority}
    assert by[1].agreement == 1.0
    assert by[3].both_met == 1
    # a business calendar shrinks the count: Wednesday 09:00-11:00 and Wednesday 21:00 to
    # Thursday 13:00 hold 2 h + 4 h of 09:00-17:00 time
    office = BusinessCalendar("UTC", "mon-fri 09:00-17:00")
    assert (
        replay_servicenow(incidents[:1], targets={3: 24 * H}, calendar=office)
        .outcomes[0]
        .business_s
        == 6 * H
    )


def test_wrong_files_are_refused(tmp_path):
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidParameterError, match="columns"):
        read_servicenow_log(bad)
    with pytest.raises(InvalidParameterError, match="existing file"):
        read_servicenow_log(tmp_path / "missing.csv")


def test_real_log_replay():
    path = shared_file("data/servicenow-incident-event-log/incident_event_log.csv")
    limit = 1500
    incidents = read_servicenow_log(path, limit=limit)
    assert len(incidents) == limit
    # made_sla of each incident's last update, counted independently with the csv module
    last: dict[str, dict[str, str]] = {}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["number"] in last or len(last) < limit:
                prev = last.get(row["number"])
                if prev is None or int(row["sys_mod_count"]) >= int(prev["sys_mod_count"]):
                    last[row["number"]] = row
    expected = Counter((int(r["priority"][0]), r["made_sla"] == "true") for r in last.values())
    generous = replay_servicenow(incidents, targets=dict.fromkeys(range(1, 5), 60 * 86400.0))
    strict = replay_servicenow(incidents, targets=dict.fromkeys(range(1, 5), 60.0))
    usual = replay_servicenow(incidents, targets={1: 4 * H, 2: 8 * H, 3: 24 * H, 4: 72 * H})
    for result in (generous, strict, usual):
        for p in result.by_priority:
            n = expected[(p.priority, True)] + expected[(p.priority, False)]
            assert p.incidents == n
            assert p.log_met_share == pytest.approx(expected[(p.priority, True)] / n)
            assert p.both_met + p.engine_only + p.log_only + p.neither == n
    assert generous.overall[0] > 0.95
    assert strict.overall[0] < 0.05
    assert strict.overall[0] < usual.overall[0] < generous.overall[0]
    # the ServiceNow default matrix reproduces every logged priority
    assert usual.matrix_agreement == 1.0
    # incidents really move between groups and wait on users
    assert sum(o.handoffs > 0 for o in usual.outcomes) > 0.2 * limit
    assert sum(o.pauses > 0 for o in usual.outcomes) > 0.05 * limit
