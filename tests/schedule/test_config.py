"""shifts.yaml and agents.csv: the examples parse, mistakes name their path."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import yaml

from contactops.errors import InvalidParameterError
from contactops.schedule import agents_from_records, parse_clock, parse_days, read_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_files_parse() -> None:
    cfg = read_config(yaml.safe_load((EXAMPLES / "shifts.yaml").read_text()))
    names = [t.name for t in cfg.templates]
    assert names == ["day-8h", "part-time-5h", "night-8h"]
    night = cfg.templates[2]
    assert night.starts == (22 * 3600.0,)
    assert night.length == 8 * 3600
    assert night.cost == 1.25
    assert night.queues == ("email",)
    assert cfg.templates[0].paid_length == 7.5 * 3600
    assert cfg.templates[1].days == (0, 1, 2, 3, 4, 5)
    assert cfg.rules.wrap
    assert cfg.rules.break_coverage == pytest.approx(0.8)
    assert set(cfg.regions) == {"default", "de"}
    assert cfg.regions["default"].is_soft("stable_start")
    table = pacsv.read_csv(
        EXAMPLES / "agents.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in ("available", "days_off", "prefer_start")}
        ),
    )
    agents = agents_from_records(table.to_pylist())
    assert len(agents) == table.num_rows >= 100
    assert {a.region for a in agents} <= set(cfg.regions)
    limited = next(a for a in agents if a.available is not None)
    assert limited.available is not None
    assert set(limited.available) == {0, 1, 2, 3, 4, 5}


def test_parsers() -> None:
    assert parse_days("Fri-Mon", "d") == (4, 5, 6, 0)
    assert parse_days("Sat;Sun", "d") == (5, 6)
    assert parse_clock("07:30", "t") == 27000.0
    rows = agents_from_records(
        [{"agent": "n", "skills": "a;b", "available": "Sat 22:00-06:00", "days_off": "Mon"}]
    )
    assert rows[0].available == {5: [(79200.0, 108000.0)]}  # the night passes midnight
    assert rows[0].skills == ("a", "b")
    assert rows[0].days_off == (0,)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (
            lambda d: d["templates"][1]["breaks"][0].update(window=["2h"]),
            r"templates\[1\]\.breaks\[0\]\.window",
        ),
        (lambda d: d["templates"][0].update(dayz="Mon"), r"templates\[0\]\.dayz"),
        (lambda d: d["templates"][2].update(starts=["25:99"]), r"templates\[2\]\.starts\[0\]"),
        (lambda d: d["regions"]["de"].update(soft=["naps"]), r"labor\.soft"),
        (lambda d: d["templates"][0].update(days="Mon-Funday"), r"templates\[0\]\.days"),
    ],
)
def test_mistakes_name_their_path(mutate: object, path: str) -> None:
    data = yaml.safe_load((EXAMPLES / "shifts.yaml").read_text())
    mutate(data)  # type: ignore[operator]
    with pytest.raises(InvalidParameterError, match=path):
        read_config(data)


def test_agent_rows_name_their_line() -> None:
    with pytest.raises(InvalidParameterError, match=r"agents row 3\.min_hours"):
        agents_from_records([{"agent": "a"}, {"agent": "b", "min_hours": "lots"}])
    with pytest.raises(InvalidParameterError, match=r"agents row 2\.available"):
        agents_from_records([{"agent": "a", "available": "weekdays"}])
    with pytest.raises(InvalidParameterError, match=r"agents row 2\.shoe_size"):
        agents_from_records([{"agent": "a", "shoe_size": 9}])
